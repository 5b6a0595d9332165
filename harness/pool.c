/* A fixed pool of spinning workers, driven by a generation counter. */
#define _GNU_SOURCE
#include "pool.h"
#include "topology.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One worker's share of a row task, [next, end) packed as next << 32 | end, so that the owner
 * taking from the front and a thief taking from the back agree with one compare-and-swap. On its
 * own cache line: the owner updates it every chunk. */
typedef struct {
    _Alignas(64) _Atomic uint64_t range;
} row_share;

struct ic_pool {
    int n;
    row_share *shares; /* n of them, for ic_pool_run_rows */
    ic_bind bind;
    pthread_t *threads;
    ic_task_fn *fn;
    void *ctx;
    _Atomic unsigned gen;  /* bumped once per task */
    _Atomic int remaining; /* workers (other than the caller) still running the task */
    _Atomic int stop;
    unsigned long spin_limit; /* pause-spins before yielding: none when threads outnumber CPUs */
    _Atomic int started;      /* workers that have bound themselves (or failed to) */
    _Atomic int bind_failed;  /* the first failing worker writes bind_err */
    char bind_err[256];
    char (*where)[64];    /* per worker: where it is bound, e.g. "core 1 (PU 1)" */
    char *detail;         /* "worker 0: core 0 (PU 0); worker 1: ..." */
    void *caller_binding; /* the caller's binding before the pool, restored on destroy */
};

typedef struct {
    ic_pool *pool;
    int tid;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Waits until *gen differs from seen: spin, then yield, then sleep, so an idle pool between
 * benchmark phases does not hold the cores. */
static unsigned wait_gen(ic_pool *p, unsigned seen) {
    unsigned g;
    for (unsigned long spins = 0; (g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen;
         spins++) {
        if (spins < p->spin_limit) {
            cpu_relax();
        } else if (spins < p->spin_limit + 2000) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    return g;
}

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    ic_pool *p = wa->pool;
    int tid = wa->tid;
    free(wa);
    char err[256];
    if (ic_topology_bind_thread(p->bind, tid, p->where[tid], sizeof p->where[tid], err,
                                sizeof err) != 0 &&
        atomic_exchange(&p->bind_failed, 1) == 0)
        snprintf(p->bind_err, sizeof p->bind_err, "%s", err);
    atomic_fetch_add_explicit(&p->started, 1, memory_order_release);
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        p->fn(p->ctx, tid, p->n);
        atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_release);
    }
    return NULL;
}

int ic_pool_create(ic_pool **out, int nthreads, ic_bind bind, char *err, size_t errlen) {
    *out = NULL;
    if (nthreads < 1 || nthreads > 4096) {
        snprintf(err, errlen, "thread count %d is out of range (1 to 4096)", nthreads);
        return -1;
    }
    ic_pool *p = calloc(1, sizeof *p);
    if (p == NULL || (p->threads = calloc((size_t)nthreads, sizeof *p->threads)) == NULL ||
        (p->shares = aligned_alloc(64, (size_t)nthreads * sizeof *p->shares)) == NULL ||
        (p->where = calloc((size_t)nthreads, sizeof *p->where)) == NULL ||
        (p->detail = calloc((size_t)nthreads, 80)) == NULL) {
        if (p) {
            free(p->threads);
            free(p->shares);
            free(p->where);
        }
        free(p);
        snprintf(err, errlen, "out of memory creating a pool of %d threads", nthreads);
        return -1;
    }
    p->n = nthreads;
    p->bind = bind;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->spin_limit = (cpus > 0 && nthreads > cpus) ? 0 : (1ul << 16);
    /* The caller is worker 0: bind it too, and give its old binding back on destroy. */
    if (bind != IC_BIND_NONE) p->caller_binding = ic_topology_save_binding();
    if (ic_topology_bind_thread(bind, 0, p->where[0], sizeof p->where[0], err, errlen) != 0) {
        p->n = 1;
        ic_pool_destroy(p);
        return -1;
    }
    for (int t = 1; t < nthreads; t++) {
        worker_arg *wa = malloc(sizeof *wa);
        int rc = wa ? 0 : -1;
        if (wa) {
            wa->pool = p;
            wa->tid = t;
            rc = pthread_create(&p->threads[t], NULL, worker_main, wa);
            if (rc) free(wa);
        }
        if (rc) {
            p->n = t; /* join the ones already started */
            ic_pool_destroy(p);
            snprintf(err, errlen, "could not start worker thread %d of %d: %s", t, nthreads,
                     strerror(rc > 0 ? rc : ENOMEM));
            return -1;
        }
    }
    /* Wait until every worker has tried its binding, so a refusal is an error here. */
    while (atomic_load_explicit(&p->started, memory_order_acquire) < nthreads - 1) sched_yield();
    if (atomic_load(&p->bind_failed)) {
        snprintf(err, errlen, "%s", p->bind_err);
        ic_pool_destroy(p);
        return -1;
    }
    size_t used = 0, cap = (size_t)nthreads * 80;
    for (int t = 0; t < nthreads && used < cap; t++)
        used += (size_t)snprintf(p->detail + used, cap - used, "%sworker %d: %s", t ? "; " : "", t,
                                 p->where[t]);
    *out = p;
    return 0;
}

void ic_pool_run(ic_pool *p, ic_task_fn *fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->remaining, p->n - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    fn(ctx, 0, p->n);
    for (unsigned long spins = 0; atomic_load_explicit(&p->remaining, memory_order_acquire) > 0;
         spins++) {
        if (spins < p->spin_limit)
            cpu_relax();
        else
            sched_yield();
    }
}

typedef struct {
    ic_pool *pool;
    size_t n, align, chunk;
    ic_rows_fn *fn;
    void *ctx;
} rows_task;

/* Claims rows of share s: from the front (the owner: a quarter of what is left, at least `chunk`)
 * or `chunk` rows from the back (a thief, its start rounded down to a multiple of align so that
 * the owner's claims stay aligned). */
static int claim(row_share *s, int from_back, size_t chunk, size_t align, size_t *b, size_t *e) {
    uint64_t v = atomic_load_explicit(&s->range, memory_order_relaxed);
    for (;;) {
        const size_t next = (size_t)(v >> 32), end = (size_t)(v & 0xffffffffu);
        if (next >= end) return 0;
        size_t nb = next, ne = end;
        if (!from_back) {
            /* Guided: a quarter of what is left, at least a chunk, so that a long share costs a
             * dozen or two claims while its last pieces stay small enough to balance. A quarter
             * rather than the earlier eighth: the q8_0 VNNI GEMV walks each piece as four
             * streams, and longer pieces made llama-3.2-1b's decode 2-6% faster (8 of 8
             * alternating runs on the 2-vCPU Zen 5 VM). */
            size_t take = (end - next) / 4 / align * align;
            if (take < chunk) take = chunk;
            *b = next;
            *e = ne = next + take < end ? next + take : end;
            nb = *e, ne = end;
        } else {
            size_t start = end > chunk ? (end - chunk) / align * align : 0;
            *b = start > next ? start : next;
            *e = end;
            ne = *b;
        }
        if (atomic_compare_exchange_weak_explicit(&s->range, &v, (uint64_t)nb << 32 | ne,
                                                  memory_order_relaxed, memory_order_relaxed))
            return 1;
    }
}

static void rows_run(void *arg, int tid, int nt) {
    const rows_task *t = arg;
    size_t b, e;
    while (claim(&t->pool->shares[tid], 0, t->chunk, t->align, &b, &e)) t->fn(t->ctx, tid, b, e);
    for (int i = 1; i < nt; i++) {
        row_share *s = &t->pool->shares[(tid + i) % nt];
        while (claim(s, 1, t->chunk, t->align, &b, &e)) t->fn(t->ctx, tid, b, e);
    }
}

static void rows_static(void *arg, int tid, int nt) {
    const rows_task *t = arg;
    size_t b, e;
    ic_split_range(t->n, t->align, tid, nt, &b, &e);
    if (b < e) t->fn(t->ctx, tid, b, e);
}

void ic_pool_run_rows(ic_pool *p, size_t n, size_t align, size_t chunk, ic_rows_fn *fn, void *ctx) {
    if (n == 0) return;
    if (align == 0) align = 1;
    chunk = chunk < align ? align : (chunk + align - 1) / align * align;
    rows_task t = {p, n, align, chunk, fn, ctx};
    if (p->n == 1) {
        fn(ctx, 0, 0, n);
        return;
    }
    if (n >= ((size_t)1 << 32)) {
        ic_pool_run(p, rows_static, &t);
        return;
    }
    /* The shares are set before the task is published (ic_pool_run's release), and every claim
     * after it is a compare-and-swap on the share itself. */
    for (int w = 0; w < p->n; w++) {
        size_t b, e;
        ic_split_range(n, align, w, p->n, &b, &e);
        atomic_store_explicit(&p->shares[w].range, (uint64_t)b << 32 | e, memory_order_relaxed);
    }
    ic_pool_run(p, rows_run, &t);
}

ic_rows_runs ic_rows_as_runs(size_t n, size_t align, int nt, int hint, size_t begin, size_t end) {
    assert(align % 4 == 0 && begin <= end && end <= n && nt >= 1);
    size_t sb, se;
    ic_split_range(n, align, hint, nt, &sb, &se);
    for (int w = 0; !(sb <= begin && begin < se) && w < nt; w++)
        ic_split_range(n, align, w, nt, &sb, &se);
    assert(begin == end || (sb <= begin && end <= se && (begin - sb) % 4 == 0));
    const size_t q = (se - sb) / 4, lim = sb + 4 * q;
    ic_rows_runs r = {{0, 0, 0, 0}, 0, end, end};
    if (begin < lim) {
        const size_t i0 = (begin - sb) / 4, i1 = ((end < lim ? end : lim) - sb) / 4;
        for (int j = 0; j < 4; j++) r.first[j] = sb + (size_t)j * q + i0;
        r.len = i1 - i0;
    }
    if (end > lim) r.tail_begin = begin > lim ? begin : lim;
    return r;
}

int ic_pool_threads(const ic_pool *p) {
    return p->n;
}

ic_bind ic_pool_binding(const ic_pool *p) {
    return p->bind;
}

const char *ic_pool_binding_detail(const ic_pool *p) {
    return p->detail;
}

void ic_pool_destroy(ic_pool *p) {
    if (p == NULL) return;
    atomic_store_explicit(&p->stop, 1, memory_order_release);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    for (int t = 1; t < p->n; t++) pthread_join(p->threads[t], NULL);
    ic_topology_restore_binding(p->caller_binding);
    free(p->threads);
    free(p->shares);
    free(p->where);
    free(p->detail);
    free(p);
}

const char *ic_bind_name(ic_bind b) {
    switch (b) {
    case IC_BIND_NONE:
        return "none";
    case IC_BIND_CORE:
        return "core";
    case IC_BIND_NUMA:
        return "numa";
    }
    return "?";
}

int ic_bind_parse(const char *s, ic_bind *out) {
    const ic_bind all[] = {IC_BIND_NONE, IC_BIND_CORE, IC_BIND_NUMA};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, ic_bind_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}
