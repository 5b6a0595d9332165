/* This host's ceilings, measured: read bandwidth over a buffer much larger than the last-level
 * cache, and peak arithmetic per data type (f32 FMA, bf16 dot, int8 dot per integer ISA), run on
 * every thread of a pool. Roofline bounds and kernel efficiencies are stated against these. */
#ifndef IC_PROBES_H
#define IC_PROBES_H

#include <stddef.h>

#include "clock.h"
#include <stdint.h>

#include "ic_cpu.h"
#include "ic_probe.h"
#include "pool.h"

typedef enum ic_probe_kind {
    IC_PROBE_READ = 0, /* GB/s */
    IC_PROBE_F32,      /* GFLOP/s, FMA */
    IC_PROBE_BF16,     /* GFLOP/s, bf16 pairs into f32 */
    IC_PROBE_INT8,     /* GOP/s, u8 x s8 products into i32 */
    IC_PROBE_KIND_COUNT
} ic_probe_kind;

/* One probe loop and what it needs. */
typedef struct ic_probe_loop {
    const char *name; /* "read_avx512", "dot_int8_avx512vnni", as in benchmark names */
    const char *isa;  /* "avx512", "avx512vnni", "ref" */
    ic_probe_kind kind;
    ic_level level;
    uint64_t features;
    ic_probe_read_fn *read; /* IC_PROBE_READ */
    ic_probe_peak_fn *peak; /* the others */
} ic_probe_loop;

/* Every probe loop of this architecture, available or not; *count receives the length. */
const ic_probe_loop *ic_probe_loops(size_t *count);

/* Whether the loop may run here: its features are present. IC_ISA does not cap the probes: they
 * measure this machine's ceilings, whatever kernels a run is limited to. */
int ic_probe_loop_usable(const ic_probe_loop *l);

/* The loop probes use for a kind: the usable one with the highest level (NULL: none, e.g. bf16
 * without avx512_bf16). */
const ic_probe_loop *ic_probe_best_loop(ic_probe_kind kind);

/* A measured ceiling. */
typedef struct ic_probe_result {
    int available;          /* 0: value is 0 and note says why */
    double value;           /* GB/s (read), GFLOP/s (f32, bf16), GOP/s (int8) */
    const char *unit;       /* "GB/s", "GFLOP/s", "GOP/s" */
    const char *provenance; /* "measured" (on this host, now), or "unavailable" */
    const char *loop;       /* the loop's name */
    int threads;
    char note[192]; /* how it was measured (buffer, passes), or "unavailable: <why>" */
} ic_probe_result;

/* Default read-probe buffer: 4x the last-level cache (all instances), at least 256 MiB, at most
 * 2 GiB; 512 MiB when hwloc reports no cache. */
size_t ic_probe_default_read_bytes(void);

/* Runs one loop on every worker of pool for at least min_time_s and reports the best rate over
 * repeated passes. For read loops, bytes is the buffer (each worker reads its share; 0: the
 * default); peak loops ignore it. Returns 0, or -1 with a message (loop unusable, no memory). */
int ic_probe_run_loop(ic_pool *pool, const ic_probe_loop *loop, size_t bytes, double min_time_s,
                      ic_probe_result *out, char *err, size_t errlen);

/* One pass of a read loop over a caller's buffer (each worker reads its share), in GB/s. For
 * pairing a ceiling with a measurement: `infercost run` reads the model's own weights this way
 * right before each timed repetition, so that both see the same machine. */
double ic_probe_read_pass(ic_pool *pool, const ic_probe_loop *loop, const void *buf, size_t bytes);

/* The ceiling of one kind with its best loop. When no loop applies, returns 0 with
 * out->available = 0 and the reason in out->note. -1 only for a runtime failure. */
int ic_probe_measure(ic_pool *pool, ic_probe_kind kind, size_t bytes, double min_time_s,
                     ic_probe_result *out, char *err, size_t errlen);

/* The read probe against the figures it must reach, all measured in the same call on the same
 * pool and buffer size: a STREAM-style plain-C sum and triad, and cblas_sgemv over an m x k f32
 * matrix of `bytes` bytes (OpenBLAS threads = pool threads). ratio = probe / best of the others. */
typedef struct ic_read_check {
    double probe_gbs, stream_sum_gbs, stream_triad_gbs, sgemv_gbs; /* sgemv 0 without OpenBLAS */
    double ratio;
    char note[160];
} ic_read_check;

int ic_probe_read_check(ic_pool *pool, size_t bytes, double min_time_s, ic_read_check *out,
                        char *err, size_t errlen);

/* Plain-C STREAM-style loops over [begin, end) of float arrays, for the check and the bench:
 * sum reads a; triad writes a[i] = b[i] + s * c[i]. */
double ic_stream_sum(const float *a, size_t begin, size_t end);
void ic_stream_triad(float *a, const float *b, const float *c, float s, size_t begin, size_t end);

/* A large zeroed buffer from mmap with transparent huge pages requested (so TLB misses do not
 * lower bandwidth figures), or NULL; free it with ic_big_free and the same size. */
void *ic_big_alloc(size_t bytes);
void ic_big_free(void *p, size_t bytes);

#endif
