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

/* A task over rows: called with chunks [begin, end) of the rows, as many times as it takes. */
typedef void ic_rows_fn(void *ctx, int tid, size_t begin, size_t end);

/* Runs fn over rows [0, n) on the workers and returns when every row is done, each row exactly
 * once. Each worker starts on its own contiguous share (ic_split_range with align) and takes it
 * from the front, a quarter of what is left at a time but never less than `chunk` rows, so that a
 * kernel's prefetch runs on from piece to piece and per-call set-up is paid a few dozen times; a
 * worker that finishes its share takes `chunk` rows at a time from the back of the others'. On a
 * shared machine the slower worker no longer holds up the rest: with a static split, one of 2
 * workers on the 2-vCPU dev VM waited 6-19% of the GEMV time of a decoded token. chunk is rounded
 * up to a multiple of align; n of 2^32 or more falls back to the static split. */
void ic_pool_run_rows(ic_pool *p, size_t n, size_t align, size_t chunk, ic_rows_fn *fn, void *ctx);

/* A piece [begin, end) from ic_pool_run_rows(p, n, align, ...) on nt workers, read as logical
 * rows for a GEMV that walks a worker's share as four streams (ic_gemv_runs_fn): in the share
 * [sb, se) that holds begin (ic_split_range with align), logical row sb + 4 i + j is row
 * sb + j q + i, q = (se - sb) / 4, and the (se - sb) % 4 rows past sb + 4 q are themselves. The
 * owner's pieces, taken from the front, then continue each of the share's four runs where the
 * last piece stopped; a thief's piece from the back is the runs' last rows. align is a multiple
 * of 4 and the piece lies within one share, as the pool hands them out. hint: the share to try
 * first (the worker's own). */
typedef struct {
    size_t first[4], len;        /* four runs of len rows: first[j] .. first[j] + len - 1 */
    size_t tail_begin, tail_end; /* rows past the runs, one at a time (empty when equal) */
} ic_rows_runs;

ic_rows_runs ic_rows_as_runs(size_t n, size_t align, int nt, int hint, size_t begin, size_t end);

/* Rows per chunk of a matrix-vector task with rows of row_bytes bytes: about 128 KiB, a few
 * microseconds of streaming, so the last chunk is short next to the whole and the claims are
 * rare. Measured on the dev VM (2 threads, llama-3.2-1b's matrices): 32, 64 and 128 rows of
 * 2176 bytes all ran the token's GEMVs within 2% of each other. */
static inline size_t ic_rows_chunk(size_t row_bytes) {
    const size_t target = (size_t)128 << 10;
    return row_bytes >= target ? 1 : target / row_bytes;
}

/* Rows per piece (at least) of a GEMM (prefill, batched decode) on the row runner: 12 panels of
 * 16 rows, 4 register tiles of the p16 GEMMs. Against the static split it had before (the
 * 2-vCPU Zen 5 VM, llama-3.2-1b q8_0, two forwards on one pool alternating prompt by prompt,
 * ABBA, medians of 40 prompts of 64 tokens, 10 of 512): 64 tokens 0.997 and 1.002 of the time
 * in quiet spells, 0.948 in a busy one (first quartile 0.856), 512 tokens 0.973; pieces of at
 * least 96 rows 0.916 in a busy spell. A row's result does not depend on the piece it is in. */
static inline size_t ic_gemm_rows_chunk(void) {
    return 192;
}

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
