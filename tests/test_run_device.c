/* The device run's host side (harness/run_device.c) through a test backend: a table of the offload
 * interface whose device is this test, with fixed times (a decode step 2 ms, a prefill 1 ms per
 * token) and ceilings (1000 GB/s, 100 TFLOP/s). It checks what the orchestration owns: each figure
 * timed through the benchmark shim's manual time, tok/s and the roofline from those times, the
 * record's env.device, the file written; and that a device error fails the run, names the figure
 * and writes nothing. No real device is involved: the CUDA backend's kernels are checked by
 * test_offload_cuda on a GPU.
 * Usage: test_run_device PLATFORMS_DIR */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ic_offload.h"
#include "ic_test.h"
#include "result.h"
#include "run.h"

/* main.c's error printer, which a test binary does not link: the same line on stderr. */
void ic_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("infercost: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int g_fail_decode; /* the test backend's decode fails */
static int g_kind;        /* 0 decode, 1 prefill: what the timer times */
static uint32_t g_tokens;

static void t_probe(ic_offload_info *i) {
    memset(i, 0, sizeof *i);
    i->state = IC_OFFLOAD_USABLE;
    i->n_devices = 1;
    snprintf(i->device, sizeof i->device, "Test Device");
    snprintf(i->runtime, sizeof i->runtime, "test runtime 1.0");
    i->mem_bytes = 1ull << 40;
}
static int t_init(int index, ic_offload_ctx **out, char *err, size_t n) {
    *out = (ic_offload_ctx *)&g_kind; /* any non-NULL handle */
    return 0;
}
static int t_load(ic_offload_ctx *c, const ic_offload_shape *s, char *err, size_t n) {
    return s->n_layer > 0 ? 0 : -1;
}
static int t_decode(ic_offload_ctx *c, uint32_t batch, uint32_t ctx, char *err, size_t n) {
    g_kind = 0;
    if (g_fail_decode) {
        snprintf(err, n, "test device: out of memory");
        return -1;
    }
    return 0;
}
static int t_prefill(ic_offload_ctx *c, uint32_t tokens, char *err, size_t n) {
    g_kind = 1;
    g_tokens = tokens;
    return 0;
}
static int t_sync(ic_offload_ctx *c, char *err, size_t n) {
    return 0;
}
static int t_begin(ic_offload_ctx *c, char *err, size_t n) {
    return 0;
}
static int t_end(ic_offload_ctx *c, double *s, char *err, size_t n) {
    *s = g_kind == 0 ? 0.002 : 0.001 * g_tokens;
    return 0;
}
static int t_read(ic_offload_ctx *c, uint64_t bytes, int reps, double *gbs, char *err, size_t n) {
    *gbs = 1000;
    return 0;
}
static int t_gemm(ic_offload_ctx *c, uint32_t side, int reps, double *tf, char *err, size_t n) {
    *tf = 100;
    return 0;
}
static void t_fini(ic_offload_ctx *c) {}

static const ic_offload_ops g_test_ops = {.name = "test",
                                          .label = "a test backend",
                                          .probe = t_probe,
                                          .init = t_init,
                                          .load = t_load,
                                          .decode = t_decode,
                                          .prefill = t_prefill,
                                          .synchronize = t_sync,
                                          .timer_begin = t_begin,
                                          .timer_end = t_end,
                                          .read_probe = t_read,
                                          .gemm_probe = t_gemm,
                                          .fini = t_fini};

static void opts(ic_run_opts *o, const char *catalog, const char *json) {
    memset(o, 0, sizeof *o);
    o->model_spec = "llama-3.2-1b";
    o->dtype = -1;
    o->kv_dtype = IC_DT_F16; /* run's default; a device keeps no other */
    o->contexts[0] = 128;
    o->n_contexts = 1;
    o->batches[0] = 1;
    o->batches[1] = 4;
    o->n_batches = 2;
    o->prompts[0] = 16;
    o->n_prompts = 1;
    o->prefill = 16;
    o->prefill_given = 1;
    o->repetitions = 3;
    o->json_path = json;
    o->seed = 1;
    ic_price_opts_init(&o->price);
    o->price.catalog_dir = catalog;
    o->price.instance = "p5.48xlarge";
    ic_accel_params_default(&o->accel);
    static char *argv[] = {"test", "--benchmark_min_time=0.01", NULL};
    o->bench_argc = 2;
    o->bench_argv[0] = argv[0];
    o->bench_argv[1] = argv[1];
}

static void good_run(const char *catalog, const char *path) {
    ic_run_opts o;
    opts(&o, catalog, path);
    CHECK(ic_run_device(&o, &g_test_ops) == 0, "a run on the test backend");
    ic_result r;
    char err[512];
    if (ic_result_read(&r, path, err, sizeof err)) {
        CHECK(0, "the record: %s", err);
        return;
    }
    CHECK(strcmp(r.device_backend, "test") == 0 && strcmp(r.device_name, "Test Device") == 0 &&
              r.device_count == 1 && strcmp(r.device_runtime, "test runtime 1.0") == 0,
          "env.device: %s %s", r.device_backend, r.device_name);
    CHECK(r.model.dtype == IC_DT_BF16, "bf16 by default on a device");
    CHECK(r.read_bw.available && r.read_bw.value == 1000, "the device read probe");
    CHECK(r.peak.available && r.peak.value == 100e3 && strcmp(r.peak_kind, "bf16") == 0,
          "the device GEMM probe, in GFLOP/s");
    CHECK(r.n_meas == 3, "decode at batch 1 and 4, one prefill: %zu", r.n_meas);
    /* Bytes a llama-3.2-1b bf16 decode step reads: the weights, plus the f16 KV cache of each
     * sequence at context 128, the token's own position included, as on the CPU (2 x 2 bytes x 16
     * layers x 8 heads x 64 x 129 = 4,227,072). */
    double w = (double)ic_model_weight_bytes_per_token(&r.model), kv = 4227072;
    for (size_t i = 0; i < r.n_meas; i++) {
        const ic_measurement *m = &r.meas[i];
        CHECK(m->provenance == IC_PROV_MEASURED && m->n_samples == 3, "measured, 3 repetitions");
        if (m->kind == IC_MEAS_PREFILL) {
            CHECK(m->batch == 16 && fabs(m->tok_per_s - 1000) < 1e-6, "prefill %g tok/s",
                  m->tok_per_s);
            CHECK(fabs(m->median_ms - 16) < 1e-9, "a prompt takes 16 ms: %g", m->median_ms);
            /* 16 tokens read the 2.47 GB of weights once: 6.5k tok/s at 1000 GB/s, under the
             * 100 TFLOP/s peak's 40k */
            CHECK(strcmp(m->limit, "memory") == 0 && m->have_bound &&
                      fabs(m->bound_tok_per_s - 16 * 1000e9 / w) < 1e-9 * m->bound_tok_per_s &&
                      m->read_bw_gbs == 1000,
                  "prefill memory-bound: %s %g", m->limit, m->bound_tok_per_s);
        } else {
            double want = (double)m->batch / 0.002;
            CHECK(fabs(m->tok_per_s - want) < 1e-6 * want, "decode batch %ld: %g tok/s", m->batch,
                  m->tok_per_s);
            double bound = 1000e9 * m->batch / (w + m->batch * kv);
            CHECK(fabs(m->bound_tok_per_s - bound) < 1e-6 * bound &&
                      fabs(m->efficiency - want / bound) < 1e-9,
                  "decode batch %ld bound %g (want %g)", m->batch, m->bound_tok_per_s, bound);
            CHECK(m->kind == (m->batch == 1 ? IC_MEAS_DECODE : IC_MEAS_BATCH_DECODE), "kind");
        }
        CHECK(isnan(m->usd_per_mtok), "no price recorded: an instance price is not a device's");
    }
    ic_result_free(&r);
}

static void failing_run(const char *catalog, const char *path) {
    ic_run_opts o;
    opts(&o, catalog, path);
    g_fail_decode = 1;
    fprintf(stderr, "test_run_device: the next error is expected:\n");
    CHECK(ic_run_device(&o, &g_test_ops) == 1, "a device error fails the run (exit 1)");
    CHECK(access(path, F_OK) != 0, "and writes no result");
    g_fail_decode = 0;
}

/* The device keeps its KV cache in f16: another --kv-dtype is a usage error, not a silent f16. */
static void kv_not_f16(const char *catalog, const char *path) {
    ic_run_opts o;
    opts(&o, catalog, path);
    o.kv_dtype = IC_DT_F32;
    fprintf(stderr, "test_run_device: the next error is expected:\n");
    CHECK(ic_run_device(&o, &g_test_ops) == IC_EXIT_USAGE, "--kv-dtype f32 on a device: exit 2");
    CHECK(access(path, F_OK) != 0, "and writes no result");
}

/* Beside the device run: the host run's time budget for a default prefill
 * (ic_run_prefill_fit), unchanged when it fits, else whole 16-token groups. */
static void prefill_fit(void) {
    /* fits: 64 tokens x 5 repetitions x 81 ms = 25.9 s of a 30 s budget */
    CHECK(ic_run_prefill_fit(64, 0.081, 5, 30.0) == 64, "64 at 81 ms: %ld",
          ic_run_prefill_fit(64, 0.081, 5, 30.0));
    /* the bf16 run that came out at 60 tokens (157 ms, 3 repetitions): 63 fit, 48 kept */
    CHECK(ic_run_prefill_fit(64, 0.157, 3, 30.0) == 48, "64 at 157 ms x 3: %ld",
          ic_run_prefill_fit(64, 0.157, 3, 30.0));
    /* under 16 tokens: fours (30 / (0.5 x 5) = 12) */
    CHECK(ic_run_prefill_fit(64, 0.5, 5, 30.0) == 12, "64 at 0.5 s: %ld",
          ic_run_prefill_fit(64, 0.5, 5, 30.0));
    /* 4 at fewest, however slow */
    CHECK(ic_run_prefill_fit(512, 10.0, 5, 6.0) == 4, "512 at 10 s: %ld",
          ic_run_prefill_fit(512, 10.0, 5, 6.0));
    /* nothing to shorten: no prefill, the default marker, a failed timing */
    CHECK(ic_run_prefill_fit(0, 1.0, 5, 30.0) == 0, "no prefill");
    CHECK(ic_run_prefill_fit(-1, 1.0, 5, 30.0) == -1, "the default marker");
    CHECK(ic_run_prefill_fit(64, 0.0, 5, 30.0) == 64, "a step timed at 0");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_run_device PLATFORMS_DIR\n");
        return 2;
    }
    char dir[] = "/tmp/ic_run_device_XXXXXX", path[256];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/failed.json", dir);
    prefill_fit();
    failing_run(argv[1], path);
    kv_not_f16(argv[1], path);
    snprintf(path, sizeof path, "%s/r.json", dir);
    good_run(argv[1], path);
    unlink(path);
    rmdir(dir);
    return ic_test_finish("test_run_device");
}
