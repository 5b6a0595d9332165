/* The harness's worker threads. Kernels never start threads: the pool runs one task on every
 * worker, and each worker takes its share of rows with ic_split_range. */
#ifndef IC_POOL_H
#define IC_POOL_H

#include <stddef.h>

typedef struct ic_pool ic_pool;

/* How workers are pinned: not at all, one core each, or to the NUMA node of their core. */
typedef enum ic_bind { IC_BIND_NONE = 0, IC_BIND_CORE, IC_BIND_NUMA } ic_bind;

/* A task: runs once on each of nthreads workers, tid in [0, nthreads); tid 0 is the caller. */
typedef void ic_task_fn(void *ctx, int tid, int nthreads);

/* Starts nthreads - 1 workers (the caller is worker 0) and binds all of them as asked: worker t to
 * core t mod cores (IC_BIND_CORE) or to that core's NUMA node (IC_BIND_NUMA), through hwloc. The
 * caller's own binding is restored by ic_pool_destroy. Returns 0, or -1 with a message (bad
 * count, thread creation or binding failed, binding asked without hwloc). */
int ic_pool_create(ic_pool **out, int nthreads, ic_bind bind, char *err, size_t errlen);

/* Runs fn on every worker and returns when all have finished. Workers spin briefly between tasks
 * so that the hundreds of small tasks of one decoded token do not each pay a wake-up. */
void ic_pool_run(ic_pool *p, ic_task_fn *fn, void *ctx);

int ic_pool_threads(const ic_pool *p);
ic_bind ic_pool_binding(const ic_pool *p);

/* Where each worker runs, e.g. "worker 0: core 0 (PU 0); worker 1: core 1 (PU 1)", or
 * "worker 0: unbound; ..." for IC_BIND_NONE. Owned by the pool. */
const char *ic_pool_binding_detail(const ic_pool *p);

/* Stops and joins the workers; NULL is allowed. */
void ic_pool_destroy(ic_pool *p);

/* The share [*begin, *end) of n items for worker tid of nt, in whole multiples of align (the last
 * share takes the remainder), so that shares are contiguous and balanced. */
static inline void ic_split_range(size_t n, size_t align, int tid, int nt, size_t *begin,
                                  size_t *end) {
    size_t units = (n + align - 1) / align;
    size_t b = units * (size_t)tid / (size_t)nt * align,
           e = units * (size_t)(tid + 1) / (size_t)nt * align;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}

const char *ic_bind_name(ic_bind b);

/* Parses "none", "core" or "numa"; 0 or -1. */
int ic_bind_parse(const char *s, ic_bind *out);

#endif
