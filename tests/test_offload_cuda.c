/* The CUDA offload backend. Everywhere: its memory plan against hand-computed figures, saturation
 * on absurd shapes, and a probe that names its reason whenever the backend is not usable. Where a
 * GPU answers: each kernel against the scalar reference kernels (kernels/ref) on awkward sizes,
 * and whole decode and prefill steps of small models (finite, repeatable, batch rows equal to
 * single-sequence decode, prefill's last token equal to decoding it). Without a GPU it prints why
 * and exits 77, which ctest reports as skipped.
 *
 * `test_offload_cuda --bench` (ci/gpu-check.sh) also times llama-3.1-8b-shaped decode and prefill
 * and the device probes, for a first look at a GPU; it checks nothing more. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ic_cuda_test.h"
#include "ic_dispatch.h"
#include "ic_test.h"

static const ic_offload_ops *g_ops = &ic_offload_cuda_ops;

/* ---- host checks: the plan and the probe ---- */

static ic_offload_shape llama31_8b(ic_dtype t) {
    ic_offload_shape s = {0};
    s.n_layer = 32;
    s.d_model = 4096;
    s.n_head = 32;
    s.n_head_kv = 8;
    s.head_dim = 128;
    s.d_ff = 14336;
    s.n_vocab = 128256;
    s.rope_theta = 500000.0;
    s.norm_eps = 1e-5;
    s.dtype = t;
    s.max_ctx = 8192;
    s.max_batch = 4;
    s.max_prompt = 512;
    s.seed = 1;
    return s;
}

/* Every buffer takes its size plus 16 bytes (the GEMV's over-read), rounded up to 256: a size
 * already a multiple of 256 takes 256 more, the f32 norms (16384 bytes) 16640, the logits
 * (4 x 128256 x 4 = 2052096) 2052352.
 *
 * bf16, per layer: 2 norms 2 x 16640; wqkv 6144 x 4096 x 2 = 50331648; wo 4096 x 4096 x 2 =
 * 33554432; w_gate_up 28672 x 4096 x 2 = 234881024; w_down 4096 x 14336 x 2 = 117440512:
 * 436241920 with the padding. Weights: 2 tables of 128256 x 4096 x 2 = 1050673152, the final
 * norm and 32 layers: 2 x 1050673408 + 16640 + 32 x 436241920 = 16061104896.
 * KV cache: 32 layers x 4 sequences x 8192 positions x 1024 x 2 (K, V) x 2 bytes = 4294967296.
 * Activations for 512 rows (max_prompt): x 512 x 4096 x 4 = 8388608, qkv 512 x 6144 x 4 =
 * 12582912, attention 8388608, gate/up 512 x 28672 x 4 = 58720256, bf16 input 512 x 14336 x 2 =
 * 14680064, attention partials 512 (row, split) pairs x 4096 x 4 = 8388608 and 512 x 32 x 8 =
 * 131072, logits 2052096: 113334272 with the padding. Workspace 32 MiB = 33554432.
 * Total 16061104896 + 4294967552 + 113334272 + 33554432 = 20502961152. */
#define PLAN_8B_BF16 20502961152ull

/* q8_0: rows of 4096 are 128 blocks of 34 = 4352 bytes, rows of 14336 are 448 x 34 = 15232.
 * Tables 128256 x 4352 = 558170112; per layer 2 x 16640 + 6144 x 4352 (26738688) + 4096 x 4352
 * (17825792) + 28672 x 4352 (124780544) + 4096 x 15232 (62390272) + 4 x 256 = 231769600; weights
 * 2 x 558170368 + 16640 + 32 x 231769600 = 8532984576. Activations as bf16's plus the q8_0 GEMV
 * input for 4 rows (4 x 14336 = 57344, scales 4 x 448 x 4 = 7168) and prefill's bf16 copy of the
 * largest matrix (28672 x 4096 x 2 = 234881024): 113334272 + 57600 + 7424 + 234881280 =
 * 348280576. Total 8532984576 + 4294967552 + 348280576 + 33554432 = 13209787136. */
#define PLAN_8B_Q8_0 13209787136ull

static void check_plan(void) {
    ic_offload_shape s = llama31_8b(IC_DT_BF16);
    uint64_t bf16 = g_ops->plan_bytes(&s);
    CHECK(bf16 == PLAN_8B_BF16, "llama-3.1-8b bf16: plan %llu, want %llu", (unsigned long long)bf16,
          PLAN_8B_BF16);
    s.dtype = IC_DT_Q8_0;
    uint64_t q8 = g_ops->plan_bytes(&s);
    CHECK(q8 == PLAN_8B_Q8_0, "llama-3.1-8b q8_0: plan %llu, want %llu", (unsigned long long)q8,
          PLAN_8B_Q8_0);
    /* Tied embeddings drop one table; twice the context adds exactly one more KV cache. */
    s.tied_embeddings = 1;
    uint64_t tied = g_ops->plan_bytes(&s);
    CHECK(tied == PLAN_8B_Q8_0 - 558170368ull, "tied q8_0: %llu", (unsigned long long)tied);
    s.tied_embeddings = 0;
    s.max_ctx = 16384;
    uint64_t long_ctx = g_ops->plan_bytes(&s);
    CHECK(long_ctx == PLAN_8B_Q8_0 + 4294967296ull, "q8_0 at 16384 positions: %llu",
          (unsigned long long)long_ctx);

    /* Absurd but within every per-field bound: the KV cache alone is 2^94 bytes. */
    ic_offload_shape a = llama31_8b(IC_DT_BF16);
    a.n_layer = 1u << 24;
    a.d_model = 1u << 24;
    a.n_head = 1u << 14;
    a.n_head_kv = 1u << 14;
    a.head_dim = 256;
    a.d_ff = 1u << 24;
    a.n_vocab = 1u << 24;
    a.max_ctx = 1u << 30;
    a.max_batch = 1u << 16;
    a.max_prompt = 1u << 16;
    CHECK(g_ops->plan_bytes(&a) == UINT64_MAX, "absurd shape: plan %llu, want saturation",
          (unsigned long long)g_ops->plan_bytes(&a));
    /* ... and it is refused for its size, not its fields: one layer, sequence and position of it
     * plans (2^49-byte tables and all). */
    ic_offload_shape one = a;
    one.n_layer = 1;
    one.max_batch = 1;
    one.max_ctx = 1;
    CHECK(g_ops->plan_bytes(&one) < UINT64_MAX && g_ops->plan_bytes(&one) > (1ull << 50),
          "the absurd shape's fields are accepted: plan %llu",
          (unsigned long long)g_ops->plan_bytes(&one));
    /* A shape whose only overflow is the KV cache (2^24 layers x 2^16 x 2^30 positions). */
    a = llama31_8b(IC_DT_Q4_0);
    a.max_ctx = 1u << 30;
    a.max_batch = 1u << 16;
    a.n_layer = 1u << 24;
    CHECK(g_ops->plan_bytes(&a) == UINT64_MAX, "a KV cache past 2^64 bytes saturates the plan");

    /* Shapes load refuses plan as "does not fit". */
    ic_offload_shape r = llama31_8b(IC_DT_Q8_0);
    r.n_expert = 8;
    r.n_expert_used = 2;
    CHECK(g_ops->plan_bytes(&r) == UINT64_MAX, "MoE shape should plan as saturated");
    r = llama31_8b(IC_DT_F32);
    CHECK(g_ops->plan_bytes(&r) == UINT64_MAX, "f32 weights should plan as saturated");
    r = llama31_8b(IC_DT_Q4_0);
    r.d_ff = 14337;
    CHECK(g_ops->plan_bytes(&r) == UINT64_MAX, "q4_0 with d_ff = 14337 should be refused");
    r = llama31_8b(IC_DT_BF16);
    r.head_dim = 129;
    CHECK(g_ops->plan_bytes(&r) == UINT64_MAX, "odd head_dim should be refused");
}

/* The table, the probe's contract, and calls that must fail cleanly without a model. */
static int check_probe(ic_offload_info *info) {
    CHECK(strcmp(g_ops->name, "cuda") == 0 && strcmp(g_ops->label, "CUDA (NVIDIA GPUs)") == 0,
          "name %s, label %s", g_ops->name, g_ops->label);
    CHECK(g_ops->probe && g_ops->init && g_ops->plan_bytes && g_ops->load && g_ops->decode &&
              g_ops->prefill && g_ops->synchronize && g_ops->timer_begin && g_ops->timer_end &&
              g_ops->read_probe && g_ops->gemm_probe && g_ops->fini,
          "every entry of the table is set");
    g_ops->probe(info);
    CHECK(info->state == IC_OFFLOAD_USABLE || info->state == IC_OFFLOAD_UNAVAILABLE,
          "a built backend is usable or unavailable, not %d", (int)info->state);
    CHECK(info->state == IC_OFFLOAD_USABLE || info->why[0] != '\0', "an unusable backend says why");
    if (info->state == IC_OFFLOAD_USABLE)
        CHECK(info->n_devices >= 1 && info->device[0] && info->mem_bytes > 0 &&
                  strncmp(info->arch, "sm_", 3) == 0 && info->runtime[0],
              "probe: %d devices, '%s', %llu bytes, %s, %s", info->n_devices, info->device,
              (unsigned long long)info->mem_bytes, info->arch, info->runtime);
    else
        CHECK(strstr(info->why, "CUDA") || strstr(info->why, "sm_"), "reason: %s", info->why);
    if (info->state != IC_OFFLOAD_USABLE) printf("test_offload_cuda: probe: %s\n", info->why);
    if (info->state == IC_OFFLOAD_USABLE)
        printf("test_offload_cuda: probe: %s (%s, %.1f GB, %s), %d device(s)\n", info->device,
               info->arch, (double)info->mem_bytes / 1e9, info->runtime, info->n_devices);

    char err[256] = "";
    ic_offload_ctx *c = (ic_offload_ctx *)1;
    CHECK(g_ops->init(-1, &c, err, sizeof err) == -1 && c == NULL && err[0],
          "init(-1) fails with a message");
    if (info->state != IC_OFFLOAD_USABLE) {
        err[0] = '\0';
        CHECK(g_ops->init(0, &c, err, sizeof err) == -1 && c == NULL && err[0],
              "init(0) without a device fails with a message");
        printf("test_offload_cuda: init(0): %s\n", err);
    }
    err[0] = '\0';
    CHECK(g_ops->decode(NULL, 1, 0, err, sizeof err) == -1 && strstr(err, "no model"),
          "decode without a model: %s", err);
    g_ops->fini(NULL);
    return info->state == IC_OFFLOAD_USABLE;
}

/* ---- device checks: kernels against the references ---- */

/* Float summation of k terms is within k * eps * sum|terms| (Higham), 2x for reassociation. */
static double dot_tol(size_t k, double abs_sum) {
    return 2.0 * (double)(k + 2) * FLT_EPSILON * abs_sum + 1e-6;
}

static void fill_uniform(float *x, size_t n, float scale, ic_test_rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = ic_test_uniform(rng) * scale;
}

static size_t row_bytes(ic_dtype t, size_t k) {
    return ic_row_bytes(t, k);
}

static void quantize_rows(ic_dtype t, const float *src, void *dst, size_t rows, size_t k) {
    for (size_t r = 0; r < rows; r++) {
        unsigned char *d = (unsigned char *)dst + r * row_bytes(t, k);
        if (t == IC_DT_Q8_0)
            ic_quantize_q8_0_ref(src + r * k, d, k);
        else if (t == IC_DT_Q4_0)
            ic_quantize_q4_0_ref(src + r * k, d, k);
        else
            ic_quantize_bf16_ref(src + r * k, d, k);
    }
}

static void dequantize_row(ic_dtype t, const void *src, float *dst, size_t k) {
    if (t == IC_DT_Q8_0)
        ic_dequantize_q8_0_ref(src, dst, k);
    else if (t == IC_DT_Q4_0)
        ic_dequantize_q4_0_ref(src, dst, k);
    else
        ic_dequantize_bf16_ref(src, dst, k);
}

/* One GEMV shape of one type: rows not a multiple of the block's 4 warps, k = 32 x odd (tiles of
 * 32 blocks and their tails), more vectors than one launch takes. */
static void check_gemv(ic_dtype t, size_t rows, size_t k, size_t nvec, ic_test_rng *rng) {
    const char *tn = ic_dtype_name(t);
    float *wf = malloc(rows * k * sizeof(float)), *x = malloc(nvec * k * sizeof(float));
    void *w = malloc(rows * row_bytes(t, k));
    float *y = malloc(nvec * rows * sizeof(float)), *want = malloc(rows * sizeof(float));
    float *wrow = malloc(k * sizeof(float)), *xd = malloc(k * sizeof(float));
    ic_block_q8_0 *xq = malloc((k / IC_QK + 1) * sizeof(ic_block_q8_0));
    char err[256];
    fill_uniform(wf, rows * k, 1.0f, rng);
    fill_uniform(x, nvec * k, 2.0f, rng);
    quantize_rows(t, wf, w, rows, k);
    if (ic_cuda_test_gemv(t, w, rows, k, x, nvec, y, err, sizeof err) != 0) {
        CHECK(0, "gemv %s %zu x %zu x %zu: %s", tn, rows, k, nvec, err);
        goto out;
    }
    size_t bad = 0;
    double worst = 0.0;
    for (size_t v = 0; v < nvec; v++) {
        const float *xv = x + v * k;
        if (t == IC_DT_BF16) {
            ic_gemv_bf16_ref(w, xv, want, k, 0, rows);
            memcpy(xd, xv, k * sizeof(float));
        } else {
            ic_quantize_q8_0_ref(xv, xq, k);
            ic_dequantize_q8_0_ref(xq, xd, k);
            if (t == IC_DT_Q8_0)
                ic_gemv_q8_0_ref(w, xq, want, k, 0, rows);
            else
                ic_gemv_q4_0_ref(w, xq, want, k, 0, rows);
        }
        for (size_t r = 0; r < rows; r++) {
            dequantize_row(t, (const unsigned char *)w + r * row_bytes(t, k), wrow, k);
            double mag = 0.0;
            for (size_t j = 0; j < k; j++) mag += fabs((double)wrow[j] * xd[j]);
            /* bf16: the device rounds x to bf16 (relative 2^-9 per term) for cuBLAS */
            const double tol = dot_tol(k, mag) + (t == IC_DT_BF16 ? mag * 0x1p-8 : 0.0);
            const double e = fabs((double)y[v * rows + r] - want[r]);
            if (e / tol > worst) worst = e / tol;
            if (!(e <= tol) && bad++ == 0)
                CHECK(0, "gemv %s %zu x %zu, vector %zu row %zu: %.7g, reference %.7g (tol %.3g)",
                      tn, rows, k, v, r, y[v * rows + r], want[r], tol);
        }
    }
    if (bad == 0) PASS();
    printf("  gemv %-4s rows %4zu k %5zu vectors %2zu: worst error %.2f of tolerance\n", tn, rows,
           k, nvec, worst);
out:
    free(wf), free(x), free(w), free(y), free(want), free(wrow), free(xd), free(xq);
}

static void check_gemvs(ic_test_rng *rng) {
    static const struct {
        size_t rows, k, nvec;
    } shapes[] = {{1, 32, 1},     {3, 96, 2},   {37, 224, 8},  {130, 1056, 3},
                  {67, 1440, 11}, {5, 4128, 1}, {129, 4096, 9}};
    const ic_dtype types[] = {IC_DT_Q8_0, IC_DT_Q4_0, IC_DT_BF16};
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_gemv(types[t], shapes[i].rows, shapes[i].k, shapes[i].nvec, rng);
    check_gemv(IC_DT_BF16, 7, 45, 2, rng); /* bf16 rows need no whole blocks */
}

/* The q8_0 activations the GEMV reads: bit-identical to ic_quantize_q8_0_ref (a zero block
 * included). The dequantization prefill feeds cuBLAS: the reference's values rounded to bf16. */
static void check_quant(ic_test_rng *rng) {
    const size_t k = 32 * 37;
    float *x = malloc(k * sizeof(float));
    ic_block_q8_0 *got = malloc(k / 32 * sizeof *got), *want = malloc(k / 32 * sizeof *want);
    char err[256];
    fill_uniform(x, k, 3.0f, rng);
    for (size_t j = 64; j < 96; j++) x[j] = 0.0f;
    ic_quantize_q8_0_ref(x, want, k);
    if (ic_cuda_test_quantize_q8_0(x, k, got, err, sizeof err) != 0)
        CHECK(0, "quantize: %s", err);
    else
        CHECK(memcmp(got, want, k / 32 * sizeof *got) == 0,
              "device q8_0 quantization differs from ic_quantize_q8_0_ref");

    const size_t rows = 5, kk = 32 * 9;
    float *wf = malloc(rows * kk * sizeof(float)), *deq = malloc(kk * sizeof(float));
    uint16_t *bf = malloc(rows * kk * sizeof(uint16_t));
    void *w = malloc(rows * row_bytes(IC_DT_Q8_0, kk));
    fill_uniform(wf, rows * kk, 1.0f, rng);
    const ic_dtype types[] = {IC_DT_Q8_0, IC_DT_Q4_0};
    for (size_t t = 0; t < 2; t++) {
        quantize_rows(types[t], wf, w, rows, kk);
        if (ic_cuda_test_dequantize(types[t], w, rows, kk, bf, err, sizeof err) != 0) {
            CHECK(0, "dequantize %s: %s", ic_dtype_name(types[t]), err);
            continue;
        }
        size_t bad = 0;
        for (size_t r = 0; r < rows; r++) {
            dequantize_row(types[t], (const unsigned char *)w + r * row_bytes(types[t], kk), deq,
                           kk);
            for (size_t j = 0; j < kk; j++) bad += bf[r * kk + j] != ic_f32_to_bf16(deq[j]);
        }
        CHECK(bad == 0, "dequantize %s: %zu values differ from the reference's in bf16",
              ic_dtype_name(types[t]), bad);
    }
    free(x), free(got), free(want), free(wf), free(deq), free(bf), free(w);
}

static void check_rmsnorm(ic_test_rng *rng) {
    const size_t ns[] = {1, 33, 4096 + 7};
    const size_t rows = 3;
    char err[256];
    for (size_t i = 0; i < 3; i++) {
        const size_t n = ns[i];
        float *x = malloc(rows * n * 4), *w = malloc(n * 4), *y = malloc(rows * n * 4),
              *want = malloc(n * 4);
        fill_uniform(x, rows * n, 4.0f, rng);
        fill_uniform(w, n, 1.5f, rng);
        if (ic_cuda_test_rmsnorm(x, w, y, rows, n, 1e-5f, err, sizeof err) != 0) {
            CHECK(0, "rmsnorm n %zu: %s", n, err);
        } else {
            size_t bad = 0;
            for (size_t r = 0; r < rows; r++) {
                ic_rmsnorm_ref(x + r * n, w, want, n, 1e-5f);
                for (size_t j = 0; j < n; j++)
                    bad += !(fabsf(y[r * n + j] - want[j]) <= 1e-5f * fabsf(want[j]) + 1e-6f);
            }
            CHECK(bad == 0, "rmsnorm n %zu: %zu values off the reference", n, bad);
        }
        free(x), free(w), free(y), free(want);
    }
}

static void check_rope(ic_test_rng *rng) {
    const size_t dims[] = {2, 64, 128}, pos0s[] = {0, 1000, 131000};
    const size_t rows = 3, heads = 3;
    char err[256];
    for (size_t i = 0; i < 3; i++) {
        for (size_t p = 0; p < 3; p++) {
            const size_t hd = dims[i], n = heads * hd;
            float *x = malloc(rows * n * 4), *want = malloc(rows * n * 4);
            fill_uniform(x, rows * n, 1.0f, rng);
            memcpy(want, x, rows * n * 4);
            for (size_t r = 0; r < rows; r++)
                ic_rope_ref(want + r * n, heads, hd, pos0s[p] + r, 500000.0f);
            if (ic_cuda_test_rope(x, rows, heads, hd, pos0s[p], 500000.0f, err, sizeof err)) {
                CHECK(0, "rope head_dim %zu: %s", hd, err);
            } else {
                size_t bad = 0;
                for (size_t j = 0; j < rows * n; j++)
                    bad += !(fabsf(x[j] - want[j]) <= 2e-6f + 1e-5f * fabsf(want[j]));
                CHECK(bad == 0, "rope head_dim %zu at %zu: %zu values off the reference", hd,
                      pos0s[p], bad);
            }
            free(x), free(want);
        }
    }
}

static void check_swiglu(ic_test_rng *rng) {
    const size_t ns[] = {1, 37, 1000};
    char err[256];
    for (size_t i = 0; i < 3; i++) {
        const size_t n = ns[i];
        float *g = malloc(n * 4), *u = malloc(n * 4), *y = malloc(n * 4), *want = malloc(n * 4);
        fill_uniform(g, n, 20.0f, rng);
        fill_uniform(u, n, 3.0f, rng);
        ic_swiglu_ref(g, u, want, n);
        if (ic_cuda_test_swiglu(g, u, y, n, err, sizeof err) != 0) {
            CHECK(0, "swiglu n %zu: %s", n, err);
        } else {
            size_t bad = 0;
            for (size_t j = 0; j < n; j++)
                bad += !(fabsf(y[j] - want[j]) <= 1e-5f * fabsf(want[j]) + 1e-6f);
            CHECK(bad == 0, "swiglu n %zu: %zu values off the reference", n, bad);
        }
        free(g), free(u), free(y), free(want);
    }
}

/* One attention case: rows sequences (or a causal prompt) against ic_attention_f32_ref on the same
 * f16-rounded caches. */
static void check_attention_case(size_t rows, int causal, size_t nh, size_t nkv, size_t hd,
                                 size_t n_pos, int n_split, ic_test_rng *rng) {
    const size_t qd = nh * hd, kvd = nkv * hd, seqs = causal ? 1 : rows;
    float *q = malloc(rows * qd * 4), *out = malloc(rows * qd * 4), *want = malloc(qd * 4);
    float *kf = malloc(seqs * n_pos * kvd * 4), *vf = malloc(seqs * n_pos * kvd * 4);
    uint16_t *k = malloc(seqs * n_pos * kvd * 2), *v = malloc(seqs * n_pos * kvd * 2);
    float *scratch = malloc(ic_attn_scratch_floats(nh, n_pos) * 4);
    char err[256];
    fill_uniform(q, rows * qd, 2.0f, rng);
    for (size_t i = 0; i < seqs * n_pos * kvd; i++) {
        k[i] = ic_f32_to_fp16(ic_test_uniform(rng));
        v[i] = ic_f32_to_fp16(ic_test_uniform(rng));
        kf[i] = ic_fp16_to_f32(k[i]);
        vf[i] = ic_fp16_to_f32(v[i]);
    }
    if (ic_cuda_test_attention(q, k, v, rows, causal, nh, nkv, hd, n_pos, n_split, out, err,
                               sizeof err) != 0) {
        CHECK(0, "attention %zu heads/%zu, head_dim %zu, %zu positions: %s", nh, nkv, hd, n_pos,
              err);
        goto out;
    }
    size_t bad = 0;
    double worst = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const size_t seq = causal ? 0 : r, np = causal ? r + 1 : n_pos;
        const ic_attn_shape s = {nh, nkv, hd, np, kvd};
        ic_attention_f32_ref(q + r * qd, kf + seq * n_pos * kvd, vf + seq * n_pos * kvd, want, NULL,
                             scratch, &s, 0, nh);
        for (size_t j = 0; j < qd; j++) {
            const double e = fabs((double)out[r * qd + j] - want[j]);
            if (e > worst) worst = e;
            if (!(e <= 5e-5) && bad++ == 0)
                CHECK(0,
                      "attention %s rows %zu, %zu/%zu heads, head_dim %zu, %zu positions, "
                      "splits %d: row %zu [%zu] = %.7g, reference %.7g",
                      causal ? "causal" : "decode", rows, nh, nkv, hd, n_pos, n_split, r, j,
                      out[r * qd + j], want[j]);
        }
    }
    if (bad == 0) PASS();
    printf("  attention %-6s rows %3zu heads %2zu/%zu head_dim %3zu positions %4zu splits %2d: "
           "worst error %.2g\n",
           causal ? "causal" : "decode", rows, nh, nkv, hd, n_pos, n_split, worst);
out:
    free(q), free(out), free(want), free(kf), free(vf), free(k), free(v), free(scratch);
}

static void check_attention(ic_test_rng *rng) {
    check_attention_case(1, 0, 4, 2, 64, 1, 0, rng);      /* context 1 */
    check_attention_case(2, 0, 8, 2, 128, 1000, 0, rng);  /* two sequences, own split */
    check_attention_case(2, 0, 8, 2, 128, 1000, 7, rng);  /* uneven spans */
    check_attention_case(1, 0, 12, 1, 80, 1031, 32, rng); /* 12 heads on one KV head, 2 blocks */
    check_attention_case(1, 0, 2, 2, 256, 33, 3, rng);    /* the widest head */
    check_attention_case(3, 0, 3, 3, 6, 5, 0, rng);       /* lanes mostly idle */
    check_attention_case(1, 0, 32, 8, 128, 4097, 0, rng); /* llama-3.1-8b, a long context */
    check_attention_case(70, 1, 4, 1, 64, 70, 0, rng);    /* prefill: causal */
    check_attention_case(70, 1, 4, 1, 64, 70, 2, rng);    /* causal, empty spans */
}

/* ---- device checks: whole steps ---- */

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ||a - b|| / ||b|| over n values. */
static double rel_l2(const float *a, const float *b, size_t n) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

static ic_offload_shape small_model(ic_dtype t) {
    ic_offload_shape s = {0};
    s.n_layer = 2;
    s.d_model = 256;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim = 64;
    s.d_ff = 704; /* 32 x 22 */
    s.n_vocab = 1000;
    s.rope_theta = 500000.0;
    s.norm_eps = 1e-5;
    s.tied_embeddings = t == IC_DT_Q4_0;
    s.dtype = t;
    s.max_ctx = 1100;
    s.max_batch = 3;
    s.max_prompt = 40;
    s.seed = 42;
    return s;
}

static void check_model(ic_dtype t) {
    const char *tn = ic_dtype_name(t);
    const ic_offload_shape s = small_model(t);
    const size_t V = s.n_vocab;
    ic_offload_ctx *c = NULL;
    char err[256];
    float *pre = malloc(V * 4), *one = malloc(V * 4), *three = malloc(3 * V * 4),
          *again = malloc(3 * V * 4);
    CHECK(g_ops->plan_bytes(&s) > 0 && g_ops->plan_bytes(&s) < ((uint64_t)1 << 32),
          "small %s model plans %llu bytes", tn, (unsigned long long)g_ops->plan_bytes(&s));
    if (g_ops->init(0, &c, err, sizeof err) != 0) {
        CHECK(0, "init(0): %s", err);
        goto out;
    }
    if (g_ops->load(c, &s, err, sizeof err) != 0) {
        CHECK(0, "load %s: %s", tn, err);
        goto out;
    }
    /* The prompt's last token, then the same token decoded over the prompt's cache. */
    int ok = g_ops->prefill(c, 40, err, sizeof err) == 0 &&
             ic_cuda_test_logits(c, 1, pre, err, sizeof err) == 0 &&
             g_ops->decode(c, 1, 39, err, sizeof err) == 0 &&
             ic_cuda_test_logits(c, 1, one, err, sizeof err) == 0 &&
             g_ops->decode(c, 3, 39, err, sizeof err) == 0 &&
             ic_cuda_test_logits(c, 3, three, err, sizeof err) == 0;
    CHECK(ok, "%s prefill/decode: %s", tn, err);
    if (!ok) goto out;
    CHECK(all_finite(pre, V) && all_finite(one, V) && all_finite(three, 3 * V),
          "%s: logits are finite", tn);
    /* Quantized decode reads q8_0 activations, prefill bf16 ones: a looser match. */
    const double lim = t == IC_DT_BF16 ? 0.02 : 0.08;
    const double e_pre = rel_l2(one, pre, V), e_batch = rel_l2(three, one, V);
    CHECK(e_pre < lim, "%s: prefill's last logits vs decoding it: relative error %.3g", tn, e_pre);
    CHECK(e_batch < 0.02, "%s: batch row 0 vs the same sequence alone: relative error %.3g", tn,
          e_batch);
    printf("  model %-4s prefill vs decode %.2g, batch vs single %.2g\n", tn, e_pre, e_batch);

    /* A replayed graph gives the same logits; a long context; the first and the last position. */
    ok = g_ops->decode(c, 3, 1050, err, sizeof err) == 0 &&
         ic_cuda_test_logits(c, 3, three, err, sizeof err) == 0 &&
         g_ops->decode(c, 3, 1050, err, sizeof err) == 0 &&
         ic_cuda_test_logits(c, 3, again, err, sizeof err) == 0;
    CHECK(ok, "%s decode at 1050: %s", tn, err);
    if (ok) {
        CHECK(all_finite(three, 3 * V), "%s: logits at 1050 are finite", tn);
        CHECK(memcmp(three, again, 3 * V * 4) == 0, "%s: the graph's replay differs", tn);
    }
    ok = g_ops->decode(c, 1, 0, err, sizeof err) == 0 &&
         ic_cuda_test_logits(c, 1, one, err, sizeof err) == 0 &&
         g_ops->decode(c, 2, 1099, err, sizeof err) == 0 &&
         ic_cuda_test_logits(c, 2, three, err, sizeof err) == 0;
    CHECK(ok && all_finite(one, V) && all_finite(three, 2 * V), "%s decode at 0 and 1099: %s", tn,
          ok ? "not finite" : err);

    /* Out of range: refused with a message, the context still usable. */
    err[0] = '\0';
    CHECK(g_ops->decode(c, 3, 1100, err, sizeof err) == -1 && err[0], "context 1100 refused");
    CHECK(g_ops->decode(c, 4, 0, err, sizeof err) == -1 && err[0], "batch 4 refused");
    CHECK(g_ops->prefill(c, 41, err, sizeof err) == -1 && err[0], "41-token prompt refused");

    double sec = 0.0;
    ok = g_ops->timer_begin(c, err, sizeof err) == 0 &&
         g_ops->decode(c, 3, 1050, err, sizeof err) == 0 &&
         g_ops->timer_end(c, &sec, err, sizeof err) == 0;
    CHECK(ok && sec > 0.0 && sec < 1.0, "%s timed decode: %g s %s", tn, sec, ok ? "" : err);
    CHECK(g_ops->synchronize(c, err, sizeof err) == 0, "synchronize: %s", err);

    ic_offload_shape moe = s;
    moe.n_expert = 8;
    moe.n_expert_used = 2;
    CHECK(g_ops->load(c, &moe, err, sizeof err) == -1 && strstr(err, "mixture-of-experts"),
          "MoE load refused: %s", err);
out:
    g_ops->fini(c);
    free(pre), free(one), free(three), free(again);
}

static void check_probes_run(void) {
    ic_offload_ctx *c = NULL;
    char err[256];
    if (g_ops->init(0, &c, err, sizeof err) != 0) {
        CHECK(0, "init(0): %s", err);
        return;
    }
    double gbs = 0.0, tflops = 0.0;
    CHECK(g_ops->read_probe(c, (uint64_t)64 << 20, 3, &gbs, err, sizeof err) == 0 && gbs > 0.0,
          "read probe: %s", err);
    CHECK(g_ops->gemm_probe(c, 1024, 3, &tflops, err, sizeof err) == 0 && tflops > 0.0,
          "GEMM probe: %s", err);
    CHECK(g_ops->read_probe(c, 8, 3, &gbs, err, sizeof err) == -1 && err[0],
          "read probe of 8 bytes refused");
    printf("  probes (small): read 64 MiB %.0f GB/s, bf16 GEMM 1024 %.1f TFLOP/s\n", gbs, tflops);
    g_ops->fini(c);
}

/* ---- --bench: a first look at a GPU (prints, checks nothing) ---- */

static void bench_shape(ic_offload_ctx *c, ic_dtype t) {
    ic_offload_shape s = llama31_8b(t);
    s.max_ctx = 4096;
    s.max_batch = 8;
    s.max_prompt = 512;
    char err[256], b[64];
    const double gb = (double)g_ops->plan_bytes(&s) / 1e9;
    if (g_ops->load(c, &s, err, sizeof err) != 0) {
        printf("bench %s: load: %s\n", ic_dtype_name(t), err);
        return;
    }
    const uint32_t batches[] = {1, 8};
    for (int i = 0; i < 2; i++) {
        double best = INFINITY, sec;
        for (int r = 0; r < 10; r++) {
            if (g_ops->timer_begin(c, err, sizeof err) ||
                g_ops->decode(c, batches[i], 1024, err, sizeof err) ||
                g_ops->timer_end(c, &sec, err, sizeof err)) {
                printf("bench %s decode: %s\n", ic_dtype_name(t), err);
                return;
            }
            if (sec < best) best = sec;
        }
        snprintf(b, sizeof b, "batch %u", batches[i]);
        printf("bench llama-3.1-8b %-4s decode %-8s at 1024: %7.3f ms/step, %8.1f tok/s "
               "(plan %.1f GB)\n",
               ic_dtype_name(t), b, best * 1e3, batches[i] / best, gb);
    }
    double best = INFINITY, sec;
    for (int r = 0; r < 3; r++) {
        if (g_ops->timer_begin(c, err, sizeof err) || g_ops->prefill(c, 512, err, sizeof err) ||
            g_ops->timer_end(c, &sec, err, sizeof err)) {
            printf("bench %s prefill: %s\n", ic_dtype_name(t), err);
            return;
        }
        if (sec < best) best = sec;
    }
    printf("bench llama-3.1-8b %-4s prefill 512: %7.2f ms, %8.0f tok/s\n", ic_dtype_name(t),
           best * 1e3, 512 / best);
}

static void bench(void) {
    ic_offload_ctx *c = NULL;
    char err[256];
    if (g_ops->init(0, &c, err, sizeof err) != 0) {
        printf("bench: init(0): %s\n", err);
        return;
    }
    double gbs = 0.0, tflops = 0.0;
    if (g_ops->read_probe(c, (uint64_t)1 << 30, 10, &gbs, err, sizeof err) == 0)
        printf("bench probe: read 1 GiB: %.0f GB/s\n", gbs);
    else
        printf("bench probe: read: %s\n", err);
    if (g_ops->gemm_probe(c, 8192, 5, &tflops, err, sizeof err) == 0)
        printf("bench probe: bf16 GEMM 8192: %.0f TFLOP/s\n", tflops);
    else
        printf("bench probe: GEMM: %s\n", err);
    bench_shape(c, IC_DT_BF16);
    bench_shape(c, IC_DT_Q8_0);
    bench_shape(c, IC_DT_Q4_0);
    g_ops->fini(c);
}

int main(int argc, char **argv) {
    ic_offload_info info;
    check_plan();
    if (!check_probe(&info)) {
        printf("test_offload_cuda: GPU checks skipped: %s\n", info.why);
        if (ic_test_failed) return ic_test_finish("test_offload_cuda");
        printf("test_offload_cuda: %d host checks passed\n", ic_test_passed);
        return 77;
    }
    ic_test_rng rng = {2024};
    check_quant(&rng);
    check_gemvs(&rng);
    check_rmsnorm(&rng);
    check_rope(&rng);
    check_swiglu(&rng);
    check_attention(&rng);
    check_model(IC_DT_BF16);
    check_model(IC_DT_Q8_0);
    check_model(IC_DT_Q4_0);
    check_probes_run();
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) bench();
    return ic_test_finish("test_offload_cuda");
}
