/* The worker pool: every worker runs every task once, shares cover the range exactly, and
 * thousands of back-to-back tasks (one decoded token's worth) neither lose nor repeat work. Row
 * tasks (ic_pool_run_rows) cover every row exactly once, in aligned chunks, and a slowed worker's
 * rows are taken over by the others. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ic_test.h"
#include "pool.h"

typedef struct {
    size_t n;
    _Atomic int *hits;
    _Atomic int calls;
} task_ctx;

static void mark(void *arg, int tid, int nt) {
    task_ctx *c = arg;
    size_t b, e;
    ic_split_range(c->n, 16, tid, nt, &b, &e);
    for (size_t i = b; i < e; i++) atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->calls, 1);
}

typedef struct {
    size_t align, n;
    _Atomic int *hits;
    _Atomic int *by; /* which worker ran each row */
    _Atomic int misaligned, calls, slow_tid;
    _Atomic size_t others_rows; /* rows done by workers other than slow_tid */
} rows_ctx;

/* After a piece of `rows` of n rows: a worker other than *slow_tid counts them; the slow worker
 * stalls after its first piece until the others have done every other row (as a descheduled vCPU
 * would), so what they take over does not depend on timing; 10 s at most, so that a broken pool
 * fails the check instead of hanging. */
static void slow_worker(int tid, _Atomic int *slow_tid, _Atomic size_t *others_rows, size_t n,
                        size_t rows) {
    if (tid != atomic_load(slow_tid)) {
        atomic_fetch_add(others_rows, rows);
        return;
    }
    for (int i = 0; i < 100000 && atomic_load(others_rows) < n - rows; i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

static void mark_rows(void *arg, int tid, size_t b, size_t e) {
    rows_ctx *c = arg;
    if (b % c->align != 0 || e <= b) atomic_fetch_add(&c->misaligned, 1);
    for (size_t i = b; i < e; i++) {
        atomic_fetch_add(&c->hits[i], 1);
        atomic_store(&c->by[i], tid);
    }
    atomic_fetch_add(&c->calls, 1);
    slow_worker(tid, &c->slow_tid, &c->others_rows, c->n, e - b);
}

static void test_rows(void) {
    const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 4097, 128256};
    const size_t aligns[] = {1, 4, 16};
    const size_t chunks[] = {0, 1, 16, 60, 100000};
    for (int nt = 1; nt <= 5; nt++) {
        ic_pool *p;
        char err[256];
        CHECK(ic_pool_create(&p, nt, IC_BIND_NONE, err, sizeof err) == 0, "create %d: %s", nt, err);
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (size_t ai = 0; ai < 3; ai++)
                for (size_t ci = 0; ci < 5; ci++) {
                    const size_t n = sizes[si];
                    rows_ctx c = {.align = aligns[ai], .n = n, .slow_tid = -1};
                    c.hits = calloc(n + 1, sizeof *c.hits);
                    c.by = calloc(n + 1, sizeof *c.by);
                    const int rounds = n > 5000 ? 3 : 50;
                    for (int r = 0; r < rounds; r++)
                        ic_pool_run_rows(p, n, aligns[ai], chunks[ci], mark_rows, &c);
                    int ok = atomic_load(&c.misaligned) == 0;
                    for (size_t i = 0; i < n; i++) ok &= atomic_load(&c.hits[i]) == rounds;
                    CHECK(ok, "rows nt=%d n=%zu align=%zu chunk=%zu: misaligned %d", nt, n,
                          aligns[ai], chunks[ci], atomic_load(&c.misaligned));
                    free(c.hits);
                    free((void *)c.by);
                }
        /* Worker 0 (the caller) stalls after its first piece: the others take all the rest of
         * its share from the back, and still every row is done once. */
        if (nt > 1) {
            const size_t n = 4096;
            rows_ctx c = {.align = 16, .n = n, .slow_tid = 0};
            c.hits = calloc(n, sizeof *c.hits);
            c.by = calloc(n, sizeof *c.by);
            ic_pool_run_rows(p, n, 16, 16, mark_rows, &c);
            size_t b0, e0, stolen = 0;
            ic_split_range(n, 16, 0, nt, &b0, &e0);
            int once = 1;
            for (size_t i = 0; i < n; i++) once &= atomic_load(&c.hits[i]) == 1;
            for (size_t i = b0; i < e0; i++) stolen += atomic_load(&c.by[i]) != 0;
            CHECK(once, "slow worker, nt=%d: every row once", nt);
            /* its first piece is a quarter of its share (rounded down to 16 rows, at least 16) */
            CHECK(stolen >= (e0 - b0) - (e0 - b0) / 4,
                  "slow worker, nt=%d: only %zu of its %zu rows taken over", nt, stolen, e0 - b0);
            free(c.hits);
            free((void *)c.by);
        }
        ic_pool_destroy(p);
    }
}

/* Pieces read as four runs (ic_rows_as_runs) cover every row once, through the real pool with a
 * stalled worker whose share the others take from the back; and a share cut from the front into
 * pieces continues each run where the last piece stopped. */
typedef struct {
    size_t n;
    int nt;
    _Atomic int *hits;
    _Atomic int bad, slow_tid;
    _Atomic size_t others_rows;
} runs_ctx;

static void mark_runs(void *arg, int tid, size_t b, size_t e) {
    runs_ctx *c = arg;
    const ic_rows_runs r = ic_rows_as_runs(c->n, 16, c->nt, tid, b, e);
    size_t sb = 0, se = 0;
    for (int w = 0; w < c->nt && !(sb <= b && b < se); w++)
        ic_split_range(c->n, 16, w, c->nt, &sb, &se);
    for (int j = 0; j < 4; j++)
        for (size_t i = 0; i < r.len; i++) {
            const size_t row = r.first[j] + i;
            if (row < sb || row >= se)
                atomic_fetch_add(&c->bad, 1);
            else
                atomic_fetch_add(&c->hits[row], 1);
        }
    for (size_t row = r.tail_begin; row < r.tail_end; row++) atomic_fetch_add(&c->hits[row], 1);
    if (4 * r.len + (r.tail_end - r.tail_begin) != e - b) atomic_fetch_add(&c->bad, 1);
    slow_worker(tid, &c->slow_tid, &c->others_rows, c->n, e - b);
}

static void test_runs(void) {
    const size_t sizes[] = {1, 3, 16, 17, 35, 100, 103, 1000, 4099};
    for (int nt = 1; nt <= 5; nt++) {
        ic_pool *p;
        char err[256];
        CHECK(ic_pool_create(&p, nt, IC_BIND_NONE, err, sizeof err) == 0, "create %d: %s", nt, err);
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int slow = -1; slow < (nt > 1 ? 1 : 0); slow++) {
                const size_t n = sizes[si];
                runs_ctx c = {.n = n, .nt = nt, .slow_tid = slow};
                c.hits = calloc(n, sizeof *c.hits);
                ic_pool_run_rows(p, n, 16, 16, mark_runs, &c);
                int once = 1;
                for (size_t i = 0; i < n; i++) once &= atomic_load(&c.hits[i]) == 1;
                CHECK(once && atomic_load(&c.bad) == 0,
                      "runs nt=%d n=%zu slow=%d: every row once (%d runs outside the share)", nt, n,
                      slow, atomic_load(&c.bad));
                free(c.hits);
            }
        ic_pool_destroy(p);
    }
    /* One share cut from the front in pieces of 16, 32, 48, ... rows: each piece's runs start
     * where the last one's ended; the rows past the runs come last, one at a time. */
    for (int nt = 1; nt <= 3; nt++) {
        const size_t n = 1000 + 3;
        size_t sb, se;
        ic_split_range(n, 16, nt - 1, nt, &sb, &se);
        size_t next[4], step = 16, b = sb;
        int first = 1, ok = 1;
        while (b < se) {
            size_t e = b + step < se ? b + step : se;
            ic_rows_runs r = ic_rows_as_runs(n, 16, nt, 0, b, e);
            for (int j = 0; j < 4 && r.len; j++) ok &= first || r.first[j] == next[j];
            for (int j = 0; j < 4 && r.len; j++) next[j] = r.first[j] + r.len;
            if (r.len) first = 0;
            ok &= r.tail_begin == r.tail_end || r.tail_begin >= sb + (se - sb) / 4 * 4;
            b = e;
            step += 16;
        }
        ok &= next[3] == sb + (se - sb) / 4 * 4 && next[0] == sb + (se - sb) / 4;
        CHECK(ok, "runs: share %zu..%zu of %zu rows, %d workers: pieces continue the runs", sb, se,
              n, nt);
    }
}

int main(void) {
    char err[256];
    for (int nt = 1; nt <= 5; nt++) {
        ic_pool *p;
        CHECK(ic_pool_create(&p, nt, IC_BIND_NONE, err, sizeof err) == 0, "create %d: %s", nt, err);
        CHECK(ic_pool_threads(p) == nt, "thread count");
        const size_t sizes[] = {1, 15, 16, 17, 1000, 4097};
        for (size_t si = 0; si < 6; si++) {
            task_ctx c = {.n = sizes[si]};
            c.hits = calloc(c.n, sizeof *c.hits);
            const int rounds = 2000;
            for (int r = 0; r < rounds; r++) ic_pool_run(p, mark, &c);
            int ok = atomic_load(&c.calls) == rounds * nt;
            for (size_t i = 0; i < c.n; i++) ok &= atomic_load(&c.hits[i]) == rounds;
            CHECK(ok, "nt=%d n=%zu: calls %d", nt, c.n, atomic_load(&c.calls));
            free(c.hits);
        }
        ic_pool_destroy(p);
    }
    /* Shares are contiguous, aligned and cover [0, n). */
    for (int nt = 1; nt <= 9; nt++) {
        size_t prev = 0;
        for (int t = 0; t < nt; t++) {
            size_t b, e;
            ic_split_range(1000, 32, t, nt, &b, &e);
            CHECK(b == prev && b % 32 == 0 && e >= b, "nt=%d t=%d [%zu,%zu)", nt, t, b, e);
            prev = e;
        }
        CHECK(prev == 1000, "nt=%d covers %zu", nt, prev);
    }
    test_rows();
    test_runs();
    ic_pool *p = NULL;
    CHECK(ic_pool_create(&p, 0, IC_BIND_NONE, err, sizeof err) == -1 && strstr(err, "0"),
          "0 threads: %s", err);
    ic_bind b;
    CHECK(ic_bind_parse("core", &b) == 0 && b == IC_BIND_CORE, "parse core");
    CHECK(ic_bind_parse("socket", &b) == -1, "parse socket");
    return ic_test_finish("test_pool");
}
