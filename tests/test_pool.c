/* The worker pool: every worker runs every task once, shares cover the range exactly, and
 * thousands of back-to-back tasks (one decoded token's worth) neither lose nor repeat work. */
#include <stdatomic.h>
#include <string.h>

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
    ic_pool *p = NULL;
    CHECK(ic_pool_create(&p, 0, IC_BIND_NONE, err, sizeof err) == -1 && strstr(err, "0"),
          "0 threads: %s", err);
    ic_bind b;
    CHECK(ic_bind_parse("core", &b) == 0 && b == IC_BIND_CORE, "parse core");
    CHECK(ic_bind_parse("socket", &b) == -1, "parse socket");
    return ic_test_finish("test_pool");
}
