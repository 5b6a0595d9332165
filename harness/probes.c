/* The probes: timing loops around the kernels of ic_probe.h, run on a pool. Each figure is the
 * best pass of several (the ceiling is what the machine can do, so noise only lowers it). */
#define _GNU_SOURCE
#include "probes.h"
#include "ic_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "topology.h"

#if IC_HAVE_OPENBLAS
#include <cblas.h>
#endif

static const ic_probe_loop g_loops[] = {
#if defined(IC_ARCH_X86)
    {"read_avx512", "avx512", IC_PROBE_READ, IC_LVL_AVX512, IC_F_AVX512F, ic_probe_read_avx512,
     NULL},
    {"read_avx2", "avx2", IC_PROBE_READ, IC_LVL_AVX2, IC_F_AVX2, ic_probe_read_avx2, NULL},
#endif
    {"read_ref", "ref", IC_PROBE_READ, IC_LVL_REF, 0, ic_probe_read_ref, NULL},
#if defined(IC_ARCH_X86)
    {"fma_f32_avx512", "avx512", IC_PROBE_F32, IC_LVL_AVX512, IC_F_AVX512F, NULL,
     ic_probe_fma_f32_avx512},
    {"fma_f32_avx2", "avx2", IC_PROBE_F32, IC_LVL_AVX2, IC_F_AVX2 | IC_F_FMA, NULL,
     ic_probe_fma_f32_avx2},
#endif
    {"fma_f32_ref", "ref", IC_PROBE_F32, IC_LVL_REF, 0, NULL, ic_probe_fma_f32_ref},
#if defined(IC_ARCH_X86)
    {"dot_bf16_amx", "amx", IC_PROBE_BF16, IC_LVL_AMX, IC_F_AMX_TILE | IC_F_AMX_BF16, NULL,
     ic_probe_dot_bf16_amx},
    {"dot_bf16_avx512bf16", "avx512bf16", IC_PROBE_BF16, IC_LVL_AVX512BF16,
     IC_F_AVX512F | IC_F_AVX512BF16, NULL, ic_probe_dot_bf16_avx512bf16},
    {"dot_int8_amx", "amx", IC_PROBE_INT8, IC_LVL_AMX, IC_F_AMX_TILE | IC_F_AMX_INT8, NULL,
     ic_probe_dot_int8_amx},
    {"dot_int8_avx512vnni", "avx512vnni", IC_PROBE_INT8, IC_LVL_AVX512VNNI,
     IC_F_AVX512F | IC_F_AVX512VNNI, NULL, ic_probe_dot_int8_avx512vnni},
    {"dot_int8_avxvnni", "avxvnni", IC_PROBE_INT8, IC_LVL_AVXVNNI, IC_F_AVX2 | IC_F_AVXVNNI, NULL,
     ic_probe_dot_int8_avxvnni},
    {"dot_int8_avx2", "avx2", IC_PROBE_INT8, IC_LVL_AVX2, IC_F_AVX2, NULL, ic_probe_dot_int8_avx2},
#endif
};

static const char *const g_units[] = {"GB/s", "GFLOP/s", "GFLOP/s", "GOP/s"};
static const char *const g_kind_names[] = {"read bandwidth", "f32 FMA", "bf16 dot", "int8 dot"};

const ic_probe_loop *ic_probe_loops(size_t *count) {
    *count = sizeof g_loops / sizeof g_loops[0];
    return g_loops;
}

/* IC_ISA is deliberately not applied: the probes measure the machine's ceilings, the yardstick
 * that kernels capped for an A/B run are judged against. */
int ic_probe_loop_usable(const ic_probe_loop *l) {
    return ic_level_is_native(l->level) && (l->features & ~ic_cpu()->features) == 0;
}

const ic_probe_loop *ic_probe_best_loop(ic_probe_kind kind) {
    const ic_probe_loop *best = NULL;
    for (size_t i = 0; i < sizeof g_loops / sizeof g_loops[0]; i++) {
        const ic_probe_loop *l = &g_loops[i];
        if (l->kind != kind || !ic_probe_loop_usable(l)) continue;
        if (best == NULL || l->level > best->level) best = l;
    }
    return best;
}

size_t ic_probe_default_read_bytes(void) {
    /* IC_READ_PROBE_MIB sets it (64 to 65536 MiB): the sanitizer jobs use 256, where ASan's page
     * faults make a 2 GiB buffer cost seconds per run. */
    const char *env = getenv("IC_READ_PROBE_MIB");
    if (env && *env) {
        char *end;
        unsigned long mib = strtoul(env, &end, 10);
        if (*end == '\0' && mib >= 64 && mib <= 65536) return (size_t)mib << 20;
        static int warned;
        if (!warned++)
            fprintf(stderr,
                    "infercost: IC_READ_PROBE_MIB '%.32s' ignored: expected 64 to 65536 "
                    "(MiB); the default size is used\n",
                    env);
    }
    size_t llc = ic_topology_llc_bytes(ic_topology_get());
    size_t b = llc ? 4 * llc : (size_t)512 << 20;
    if (b < ((size_t)256 << 20)) b = (size_t)256 << 20;
    if (b > ((size_t)2 << 30)) b = (size_t)2 << 30;
    return b;
}

/* A big buffer straight from the kernel, with transparent huge pages asked for, so TLB misses
 * do not lower the bandwidth figure. */
void *ic_big_alloc(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void ic_big_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes);
}

typedef struct {
    const ic_probe_loop *loop;
    unsigned char *buf;
    size_t bytes;
    uint64_t iters;
    int op; /* read check: 0 probe loop, 1 touch, 2 stream sum, 3 stream triad */
    double sink[64];
} probe_ctx;

static void probe_task(void *arg, int tid, int nt) {
    probe_ctx *c = arg;
    double ops;
    if (c->buf == NULL) {
        c->sink[tid & 63] += c->loop->peak(c->iters, &ops);
        return;
    }
    size_t b, e;
    ic_split_range(c->bytes, 4096, tid, nt, &b, &e);
    float *f = (float *)(void *)c->buf;
    switch (c->op) {
    case 0:
        c->sink[tid & 63] += c->loop->read(c->buf + b, e - b);
        break;
    case 1: /* first touch by the worker that will read it: pages land on its NUMA node */
        for (size_t i = b / 4; i < e / 4; i++) f[i] = (float)(i & 1023) * 0.001f;
        break;
    case 2:
        c->sink[tid & 63] += ic_stream_sum(f, b / 4, e / 4);
        break;
    case 3: {
        size_t third = c->bytes / 12; /* floats per array */
        size_t tb, te;
        ic_split_range(third, 1024, tid, nt, &tb, &te);
        ic_stream_triad(f, f + third, f + 2 * third, 0.5f, tb, te);
        break;
    }
    }
}

/* Runs the task in passes until min_time_s has elapsed (at least 3 passes); the fastest pass. */
static double best_pass_s(ic_pool *pool, probe_ctx *c, double min_time_s, int *passes) {
    double best = 1e30, start = ic_now_s();
    int n = 0;
    do {
        double t0 = ic_now_s();
        ic_pool_run(pool, probe_task, c);
        double dt = ic_now_s() - t0;
        if (dt < best) best = dt;
        n++;
    } while (n < 3 || ic_now_s() - start < min_time_s);
    if (passes) *passes = n;
    return best;
}

double ic_stream_sum(const float *a, size_t begin, size_t end) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = begin;
    for (; i + 4 <= end; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    for (; i < end; i++) s0 += a[i];
    return (double)(s0 + s1 + s2 + s3);
}

void ic_stream_triad(float *a, const float *b, const float *c, float s, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) a[i] = b[i] + s * c[i];
}

static void fill_result(ic_probe_result *out, const ic_probe_loop *loop, int threads) {
    memset(out, 0, sizeof *out);
    out->unit = g_units[loop->kind];
    out->loop = loop->name;
    out->threads = threads;
    out->provenance = "unavailable";
}

int ic_probe_run_loop(ic_pool *pool, const ic_probe_loop *loop, size_t bytes, double min_time_s,
                      ic_probe_result *out, char *err, size_t errlen) {
    int nt = ic_pool_threads(pool);
    fill_result(out, loop, nt);
    if (!ic_probe_loop_usable(loop)) {
        snprintf(err, errlen, "probe loop %s cannot run here (needs %s)", loop->name, loop->isa);
        return -1;
    }
    if (min_time_s <= 0) min_time_s = 0.2;
    probe_ctx c;
    memset(&c, 0, sizeof c);
    c.loop = loop;
    int passes;
    if (loop->kind == IC_PROBE_READ) {
        if (bytes == 0) bytes = ic_probe_default_read_bytes();
        bytes = (bytes + 4095) / 4096 * 4096;
        c.buf = ic_big_alloc(bytes);
        if (c.buf == NULL) {
            snprintf(err, errlen, "out of memory: the read probe needs a %zu MiB buffer (%s)",
                     bytes >> 20, strerror(errno));
            return -1;
        }
        c.bytes = bytes;
        c.op = 1;
        ic_pool_run(pool, probe_task, &c);
        c.op = 0;
        ic_pool_run(pool, probe_task, &c); /* warm-up pass */
        double t = best_pass_s(pool, &c, min_time_s, &passes);
        munmap(c.buf, bytes);
        out->value = (double)bytes / t / 1e9;
        snprintf(out->note, sizeof out->note,
                 "%s over %zu MiB (LLC %zu MiB per hwloc), %d threads, best of %d passes",
                 loop->name, bytes >> 20, ic_topology_llc_bytes(ic_topology_get()) >> 20, nt,
                 passes);
    } else {
        /* Grow the iteration count until a pass takes a tenth of the time asked (at least 2 ms),
         * judging each count by its fastest of three passes: on a shared machine one pass can
         * be stretched by the scheduler, and stopping early would leave passes so short that
         * waking the workers dominates them. */
        double ops = 0, target = min_time_s / 10 > 2e-3 ? min_time_s / 10 : 2e-3;
        c.iters = 16384;
        for (;;) {
            double dt = 1e30;
            for (int r = 0; r < 3; r++) {
                double t0 = ic_now_s();
                ic_pool_run(pool, probe_task, &c);
                double d = ic_now_s() - t0;
                if (d < dt) dt = d;
            }
            if (dt >= target || c.iters > (1ull << 40)) break;
            c.iters *= dt < target / 8 ? 8 : 2;
        }
        loop->peak(1, &ops);
        double t = best_pass_s(pool, &c, min_time_s, &passes);
        out->value = ops * (double)c.iters * nt / t / 1e9;
        snprintf(out->note, sizeof out->note, "%s, %d threads, %llu iterations, best of %d passes",
                 loop->name, nt, (unsigned long long)c.iters, passes);
    }
    out->available = 1;
    out->provenance = "measured";
    return 0;
}

double ic_probe_read_pass(ic_pool *pool, const ic_probe_loop *loop, const void *buf, size_t bytes) {
    probe_ctx c;
    memset(&c, 0, sizeof c);
    c.loop = loop;
    c.buf = (unsigned char *)(uintptr_t)buf; /* op 0 only reads it */
    c.bytes = bytes / 4096 * 4096;
    if (c.bytes == 0 || loop == NULL || loop->read == NULL) return 0;
    double t0 = ic_now_s();
    ic_pool_run(pool, probe_task, &c);
    double dt = ic_now_s() - t0;
    return dt > 0 ? (double)c.bytes / dt / 1e9 : 0;
}

int ic_probe_measure(ic_pool *pool, ic_probe_kind kind, size_t bytes, double min_time_s,
                     ic_probe_result *out, char *err, size_t errlen) {
    const ic_probe_loop *loop = ic_probe_best_loop(kind);
    if (loop == NULL) {
        memset(out, 0, sizeof *out);
        out->unit = g_units[kind];
        out->provenance = "unavailable";
        out->loop = "none";
        out->threads = ic_pool_threads(pool);
        snprintf(out->note, sizeof out->note, "unavailable: no %s loop for this CPU%s",
                 g_kind_names[kind], kind == IC_PROBE_BF16 ? " (needs avx512_bf16)" : "");
        return 0;
    }
    return ic_probe_run_loop(pool, loop, bytes, min_time_s, out, err, errlen);
}

int ic_probe_read_check(ic_pool *pool, size_t bytes, double min_time_s, ic_read_check *out,
                        char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const ic_probe_loop *loop = ic_probe_best_loop(IC_PROBE_READ);
    int nt = ic_pool_threads(pool);
    if (bytes == 0) bytes = ic_probe_default_read_bytes();
    /* A whole number of 4096-float rows, so the same buffer is the sgemv matrix. */
    const size_t k = 4096, row = k * sizeof(float);
    bytes = bytes / (row * 12) * (row * 12);
    if (bytes == 0) bytes = row * 12;
    if (min_time_s <= 0) min_time_s = 0.2;
    probe_ctx c;
    memset(&c, 0, sizeof c);
    c.loop = loop;
    c.buf = ic_big_alloc(bytes);
    if (c.buf == NULL) {
        snprintf(err, errlen, "out of memory: the read check needs a %zu MiB buffer (%s)",
                 bytes >> 20, strerror(errno));
        return -1;
    }
    c.bytes = bytes;
    c.op = 1;
    ic_pool_run(pool, probe_task, &c);
    size_t m = bytes / row;
    float *y = malloc(m * sizeof *y), *x = malloc(k * sizeof *x);
    if (y == NULL || x == NULL) {
        free(x);
        free(y);
        munmap(c.buf, bytes);
        snprintf(err, errlen, "out of memory for the sgemv vectors (%zu floats)", m);
        return -1;
    }
    for (size_t i = 0; i < k; i++) x[i] = 1.0f / (float)(i + 1);
#if IC_HAVE_OPENBLAS
    openblas_set_num_threads(nt);
    const int methods = 4;
#else
    const int methods = 3;
#endif
    /* Interleaved rounds, one pass of each method per round, best pass per method: on a shared
     * machine the load changes from second to second, and this spreads it over all four. */
    double best[4] = {1e30, 1e30, 1e30, 1e30}, start = ic_now_s();
    for (int round = 0; round < 6 || ic_now_s() - start < min_time_s; round++) {
        for (int j = 0; j < methods; j++) {
            int meth = (round + j) % methods;
            double t0 = ic_now_s();
            if (meth < 3) {
                c.op = meth == 0 ? 0 : meth == 1 ? 2 : 3;
                ic_pool_run(pool, probe_task, &c);
            } else {
#if IC_HAVE_OPENBLAS
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)k, 1.0f,
                            (const float *)(const void *)c.buf, (int)k, x, 1, 0.0f, y, 1);
#endif
            }
            double dt = ic_now_s() - t0;
            if (round > 0 && dt < best[meth]) best[meth] = dt; /* round 0 warms up */
        }
    }
    free(x);
    free(y);
    out->probe_gbs = (double)bytes / best[0] / 1e9;
    out->stream_sum_gbs = (double)bytes / best[1] / 1e9;
    /* STREAM counts three arrays of 4-byte elements per triad element, no write-allocate. */
    out->stream_triad_gbs = (double)(bytes / 12 * 12) / best[2] / 1e9;
    if (methods == 4) out->sgemv_gbs = (double)(bytes + k * 4 + m * 4) / best[3] / 1e9;
    munmap(c.buf, bytes);
    double other = out->stream_sum_gbs;
    if (out->stream_triad_gbs > other) other = out->stream_triad_gbs;
    if (out->sgemv_gbs > other) other = out->sgemv_gbs;
    out->ratio = other > 0 ? out->probe_gbs / other : 0;
    snprintf(out->note, sizeof out->note, "%s vs stream sum/triad%s over %zu MiB, %d threads",
             loop->name,
             IC_HAVE_OPENBLAS ? " and cblas_sgemv" : " (sgemv unavailable: no OpenBLAS)",
             bytes >> 20, nt);
    return 0;
}
