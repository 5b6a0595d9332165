#define _GNU_SOURCE
/* The forward pass on tiny shapes: every kernel set the host can run gives the logits of the
 * reference set (IC_ISA=ref) within tolerance; prefill (GEMM path) agrees with token-by-token
 * decode (GEMV path); batched decode agrees with single decode; thread count changes nothing. The
 * same for each KV-cache type, and a pass with an f16, bf16 or q8_0 cache agrees with the f32
 * cache's within what the type's rounding allows. */
#include "forward.h"
#include "ic_config.h"
#include "ic_test.h"

#include <math.h>
#include <string.h>

/* head_dim 16, or 32 where a q8_0 cache (blocks of 32) needs it. */
static ic_model tiny(ic_dtype t, int moe, size_t head_dim) {
    ic_model m = {.name = "tiny",
                  .n_layer = 2,
                  .d_model = 64,
                  .n_head = 4,
                  .n_head_kv = 2,
                  .head_dim = (uint32_t)head_dim,
                  .d_ff = 96,
                  .n_vocab = 100,
                  .rope_theta = 10000,
                  .norm_eps = 1e-5,
                  .dtype = t};
    if (moe) {
        m.n_expert = 4;
        m.n_expert_used = 2;
    }
    return m;
}

/* max |a - b| / max |b|. */
static double rel_diff(const float *a, const float *b, size_t n) {
    double md = 0, mb = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= md)) md = d; /* NaN propagates as a failure */
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / mb;
}

typedef struct {
    ic_pool *pool;
    ic_forward *f;
} pass;

static int make(pass *p, const ic_model *m, const ic_kset *ks, int threads, int blas) {
    char err[512];
    ic_fwd_config cfg = {.model = m,
                         .n_layer_run = m->n_layer,
                         .ctx_cap = 16,
                         .max_rows = 8,
                         .batch_seqs = 3,
                         .batch_ctx_cap = 8,
                         .seed = 42,
                         .use_blas = blas,
                         .kv_dtype = ks->attention->wtype,
                         .rows_split_min = 1}; /* the per-row ops split on several threads */
    if (ic_pool_create(&p->pool, threads, IC_BIND_NONE, err, sizeof err)) {
        CHECK(0, "pool: %s", err);
        return -1;
    }
    if (ic_forward_create(&p->f, &cfg, ks, p->pool, err, sizeof err)) {
        CHECK(0, "forward: %s", err);
        ic_pool_destroy(p->pool);
        return -1;
    }
    ic_forward_fill_kv(p->f, 5);
    return 0;
}

static void drop(pass *p) {
    ic_forward_destroy(p->f);
    ic_pool_destroy(p->pool);
}

/* Decode at position 5 of sequence 0; the logits are copied to out. */
static void decode5(pass *p, float *out) {
    const float *lg = ic_forward_decode(p->f, 7, 5);
    CHECK(lg != NULL, "decode returned NULL");
    if (lg) memcpy(out, lg, 100 * sizeof(float));
}

/* Weight type t, KV-cache type kv. */
static void test_dtype(ic_dtype t, int moe, ic_dtype kv) {
    char tn[32];
    snprintf(tn, sizeof tn, "%s kv %s", ic_dtype_name(t), ic_dtype_name(kv));
    char err[512];
    ic_model m = tiny(t, moe, kv == IC_DT_Q8_0 ? 32 : 16);
    CHECK(ic_model_validate(&m, err, sizeof err) == 0, "%s", err);
    ic_kset ref;
    if (ic_kset_select(&ref, t, kv, 0, IC_LVL_REF, err, sizeof err)) {
        CHECK(0, "%s", err);
        return;
    }
    pass pr;
    if (make(&pr, &m, &ref, 1, 0)) return;
    float want[100], got[100], seq[100];
    decode5(&pr, want);
    double mx = 0;
    for (int i = 0; i < 100; i++) mx = fmax(mx, fabs(want[i]));
    CHECK(mx > 1e-3 && isfinite(mx), "%s: logits are degenerate (max %g)", tn, mx);

    /* Thread count: rows split differently, same sums; for a prompt too, whose attention
     * rows the workers take from each other's shares (a row's cost grows with its position). */
    uint32_t toks[6] = {3, 14, 15, 92, 65, 35};
    float pf3[100];
    int have_pf3 = 0;
    pass p3;
    if (make(&p3, &m, &ref, 3, 0) == 0) {
        decode5(&p3, got);
        CHECK(memcmp(got, want, sizeof got) == 0, "%s%s: 3 threads differ from 1 (rel %g)", tn,
              moe ? " moe" : "", rel_diff(got, want, 100));
        const float *pf = ic_forward_prefill(p3.f, toks, 6);
        CHECK(pf != NULL, "prefill NULL (3 threads)");
        if (pf) memcpy(pf3, pf, sizeof pf3), have_pf3 = 1;
        drop(&p3);
    }

    /* Prefill of 6 tokens (GEMM path) against decoding them one by one (GEMV path). */
    const float *pf = ic_forward_prefill(pr.f, toks, 6);
    CHECK(pf != NULL, "prefill NULL");
    if (pf) memcpy(got, pf, sizeof got);
    CHECK(!have_pf3 || memcmp(got, pf3, sizeof got) == 0,
          "%s%s: prefill on 3 threads differs from 1 (rel %g)", tn, moe ? " moe" : "",
          rel_diff(got, pf3, 100));
    for (size_t i = 0; i < 6; i++) {
        const float *lg = ic_forward_decode(pr.f, toks[i], i);
        if (lg) memcpy(seq, lg, sizeof seq);
    }
    /* GEMM and GEMV reference kernels sum in the same order over the same quantized inputs;
     * only float rounding in accumulation order may differ. */
    CHECK(pf && rel_diff(got, seq, 100) < 1e-4, "%s%s: prefill vs decode rel diff %g", tn,
          moe ? " moe" : "", rel_diff(got, seq, 100));

    /* Batched decode: row 0 is sequence 0 at position 5. */
    ic_forward_fill_kv(pr.f, 5);
    decode5(&pr, want);
    uint32_t bt[3] = {7, 8, 9};
    const float *bl = ic_forward_decode_batch(pr.f, bt, 3, 5);
    CHECK(bl && rel_diff(bl, want, 100) < 1e-4, "%s: batch row 0 vs decode rel %g", tn,
          bl ? rel_diff(bl, want, 100) : -1.0);
    CHECK(bl && rel_diff(bl + 100, bl, 100) > 1e-6, "%s: batch rows are distinct", tn);
    CHECK(ic_forward_decode_batch(pr.f, bt, 3, 8) == NULL, "batch past the cache is refused");
    CHECK(ic_forward_decode(pr.f, 1, 16) == NULL, "decode past the cache is refused");

    /* Every kernel set the host can run, level by level, against the reference set. The
     * tolerance: 2% of the largest logit, for bf16 activations (8-bit mantissa) in a variant
     * that rounds them; q8_0 variants do the same integer sums and differ far less. */
    const ic_cpu_info *cpu = ic_cpu();
    ic_kset prev = ref;
    int sets = 0;
    for (int lv = IC_LVL_REF + 1; lv < IC_LVL_COUNT; lv++) {
        if (!ic_level_is_native((ic_level)lv)) continue;
        ic_kset ks;
        if (ic_kset_select(&ks, t, kv, cpu->features, (ic_level)lv, err, sizeof err)) continue;
        if (memcmp(&ks, &prev, sizeof ks) == 0) continue;
        prev = ks;
        sets++;
        pass pv;
        if (make(&pv, &m, &ks, 2, 0)) continue;
        decode5(&pv, got);
        char names[512];
        ic_kset_describe(&ks, names, sizeof names);
        double tol = (ks.gemv->atype == IC_DT_BF16 || ks.gemm->atype == IC_DT_BF16) ? 2e-2 : 2e-3;
        CHECK(rel_diff(got, want, 100) < tol, "%s level %s (%s): decode rel diff %g > %g", tn,
              ic_level_name((ic_level)lv), names, rel_diff(got, want, 100), tol);
        const float *p2 = ic_forward_prefill(pv.f, toks, 6);
        CHECK(p2 && rel_diff(p2, seq, 100) < tol, "%s level %s: prefill rel diff %g", tn,
              ic_level_name((ic_level)lv), p2 ? rel_diff(p2, seq, 100) : -1.0);
        drop(&pv);
    }
    printf("test_forward: %s%s: %d kernel set(s) beyond ref on this host\n", tn, moe ? " moe" : "",
           sets);

#if IC_HAVE_OPENBLAS
    if (t == IC_DT_F32) {
        pass pb;
        if (make(&pb, &m, &ref, 2, 1) == 0) {
            const float *p2 = ic_forward_prefill(pb.f, toks, 6);
            CHECK(p2 && rel_diff(p2, seq, 100) < 1e-4, "blas prefill rel diff %g",
                  p2 ? rel_diff(p2, seq, 100) : -1.0);
            drop(&pb);
        }
    }
#endif
    drop(&pr);
}

/* ic_kset_describe names each variant of a set once, though one may fill two roles (the q8_0
 * quantizer serves both the GEMV and the GEMM), and names every variant of the set. */
static void test_describe(void) {
    const uint64_t all = (1ull << IC_FEATURE_COUNT) - 1;
    for (int t = 0; t < IC_DT_COUNT; t++)
        for (int lv = 0; lv < IC_LVL_COUNT; lv++) {
            if (!ic_dtype_is_weight((ic_dtype)t) || !ic_level_is_native((ic_level)lv)) continue;
            ic_kset ks;
            char err[256], names[512];
            if (ic_kset_select(&ks, (ic_dtype)t, IC_DT_F16, all, (ic_level)lv, err, sizeof err))
                continue;
            ic_kset_describe(&ks, names, sizeof names);
            const ic_kernel *used[] = {ks.gemv,       ks.gemm,      ks.quant_gemv,
                                       ks.quant_gemm, ks.attention, ks.kv_quant,
                                       ks.rmsnorm,    ks.rope,      ks.swiglu};
            int ok = 1;
            for (size_t i = 0; i < sizeof used / sizeof used[0] && ok; i++) {
                /* whole names only: "quantize_q8_0_ref" must not match inside a longer one */
                size_t hits = 0, len = strlen(used[i]->name);
                for (const char *p = names; (p = strstr(p, used[i]->name)) != NULL; p += len)
                    hits += (p == names || p[-1] == ' ') && (p[len] == ',' || p[len] == '\0');
                if (hits != 1) {
                    CHECK(0, "%s at %s: %s named %zu times in '%s'", ic_dtype_name((ic_dtype)t),
                          ic_level_name((ic_level)lv), used[i]->name, hits, names);
                    ok = 0;
                }
            }
            if (ok) PASS();
        }
    /* the case that printed quantize_q8_0_ref twice */
    ic_kset ks;
    char err[256], names[512];
    CHECK(ic_kset_select(&ks, IC_DT_Q8_0, IC_DT_F16, 0, IC_LVL_REF, err, sizeof err) == 0, "%s",
          err);
    ic_kset_describe(&ks, names, sizeof names);
    CHECK(ks.quant_gemv == ks.quant_gemm &&
              strcmp(names, "gemv_q8_0_ref, gemm_q8_0_ref, quantize_q8_0_ref, attention_f16_ref, "
                            "quantize_f16_ref, rmsnorm_ref, rope_ref, swiglu_ref") == 0,
          "q8_0 ref set with an f16 cache: '%s'", names);
    /* a q8_0 cache's quantizer is the activations' one: named once */
    CHECK(ic_kset_select(&ks, IC_DT_Q8_0, IC_DT_Q8_0, 0, IC_LVL_REF, err, sizeof err) == 0, "%s",
          err);
    ic_kset_describe(&ks, names, sizeof names);
    CHECK(strcmp(names, "gemv_q8_0_ref, gemm_q8_0_ref, quantize_q8_0_ref, attention_q8_0_ref, "
                        "rmsnorm_ref, rope_ref, swiglu_ref") == 0,
          "q8_0 ref set with a q8_0 cache: '%s'", names);
    CHECK(ic_kset_select(&ks, IC_DT_Q8_0, IC_DT_Q4_0, 0, IC_LVL_REF, err, sizeof err) == -1 &&
              strstr(err, "q4_0 is not a KV-cache type"),
          "q4_0 cache accepted: %s", err);
}

/* Logits at position 5 after decoding six tokens into empty caches of type kv with the reference
 * set: the caches hold only what the pass appended (converted at append). f32 weights: with
 * quantized activations any small change can flip a q8_0 code, a step of 1/127 of its block. */
static int kv_logits(ic_dtype kv, float *out) {
    char err[512];
    ic_model m = tiny(IC_DT_F32, 0, 32);
    ic_kset ks;
    if (ic_kset_select(&ks, IC_DT_F32, kv, 0, IC_LVL_REF, err, sizeof err)) {
        CHECK(0, "%s", err);
        return -1;
    }
    pass p;
    if (make(&p, &m, &ks, 2, 0)) return -1;
    const uint32_t toks[6] = {3, 14, 15, 92, 65, 35};
    const float *lg = NULL;
    for (size_t i = 0; i < 6; i++) lg = ic_forward_decode(p.f, toks[i], i);
    if (lg) memcpy(out, lg, 100 * sizeof(float));
    drop(&p);
    return lg ? 0 : -1;
}

/* The same tokens through caches of each type: f16 keeps 11 bits of each value, bf16 8 and q8_0
 * about 7 of its block's largest, so the logits move by about that much relative to the f32
 * cache's (here 1.4e-4, 1.0e-3 and 2.4e-3), and not at all for f32 itself. */
static void test_kv_types(void) {
    float f32[100], got[100];
    if (kv_logits(IC_DT_F32, f32)) return;
    const struct {
        ic_dtype kv;
        double tol;
    } cases[] = {{IC_DT_F32, 0}, {IC_DT_F16, 6e-4}, {IC_DT_BF16, 4e-3}, {IC_DT_Q8_0, 8e-3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (kv_logits(cases[c].kv, got)) continue;
        const double d = rel_diff(got, f32, 100);
        CHECK(d <= cases[c].tol, "kv %s: logits differ from the f32 cache's by %g > %g",
              ic_dtype_name(cases[c].kv), d, cases[c].tol);
        if (cases[c].kv != IC_DT_F32)
            CHECK(d > 0, "kv %s: logits identical to the f32 cache's (not converted?)",
                  ic_dtype_name(cases[c].kv));
        printf("test_forward: kv %s: rel diff from the f32 cache %.2e\n",
               ic_dtype_name(cases[c].kv), d);
    }
}

static void test_bytes(void) {
    char err[512];
    ic_model m = tiny(IC_DT_Q8_0, 0, 16);
    ic_fwd_config cfg = {.model = &m,
                         .n_layer_run = 2,
                         .ctx_cap = 16,
                         .max_rows = 8,
                         .batch_seqs = 3,
                         .batch_ctx_cap = 8,
                         .seed = 1};
    ic_fwd_bytes b;
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == 0, "%s", err);
    /* KV: 2 layers * 2 * 32 floats * 4 bytes * (16 + 2 * 8) positions = 16384 */
    CHECK(b.kv_cache == 16384, "kv %llu", (unsigned long long)b.kv_cache);
    CHECK(b.weights >= 2 * ic_model_layer_bytes(&m) + ic_model_nonlayer_bytes(&m), "weights");
    /* the KV bytes follow the cache's type: 2 bytes a value for f16 and bf16 */
    cfg.kv_dtype = IC_DT_F16;
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == 0 && b.kv_cache == 8192, "f16 kv %llu",
          (unsigned long long)b.kv_cache);
    cfg.kv_dtype = IC_DT_BF16;
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == 0 && b.kv_cache == 8192, "bf16 kv %llu",
          (unsigned long long)b.kv_cache);
    /* q8_0: 34 bytes a block of 32, and head_dim 16 holds no whole block */
    cfg.kv_dtype = IC_DT_Q8_0;
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == -1 && strstr(err, "head_dim 16"),
          "q8_0 cache of head_dim 16 accepted: %s", err);
    ic_model m32 = tiny(IC_DT_Q8_0, 0, 32);
    cfg.model = &m32;
    /* 2 layers * 2 * 64 values / 32 * 34 bytes * 32 positions = 8704 */
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == 0 && b.kv_cache == 8704,
          "q8_0 kv %llu: %s", (unsigned long long)b.kv_cache, err);
    cfg.model = &m;
    cfg.kv_dtype = IC_DT_F32;
    cfg.n_layer_run = 3;
    CHECK(ic_forward_bytes(&cfg, 2, &b, err, sizeof err) == -1, "more layers than the model");
}

int main(void) {
    char err[256];
    if (ic_dispatch_init(err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int t = 0; t < IC_DT_COUNT; t++)
        if (ic_dtype_is_weight((ic_dtype)t)) test_dtype((ic_dtype)t, 0, IC_DT_F32);
    test_dtype(IC_DT_Q8_0, 1, IC_DT_F32);
    test_dtype(IC_DT_Q4_0, 1, IC_DT_F32);
    /* each cache type, with q8_0 and bf16 weights */
    const ic_dtype kvs[] = {IC_DT_F16, IC_DT_BF16, IC_DT_Q8_0};
    for (size_t i = 0; i < sizeof kvs / sizeof kvs[0]; i++) {
        test_dtype(IC_DT_Q8_0, 0, kvs[i]);
        test_dtype(IC_DT_BF16, 0, kvs[i]);
    }
    test_dtype(IC_DT_Q4_0, 1, IC_DT_F16);
    test_kv_types();
    test_describe();
    test_bytes();
    return ic_test_finish("test_forward");
}
