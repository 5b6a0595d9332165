#define _GNU_SOURCE
/* The forward pass on tiny shapes: every kernel set the host can run gives the logits of the
 * reference set (IC_ISA=ref) within tolerance; prefill (GEMM path) agrees with token-by-token
 * decode (GEMV path); batched decode agrees with single decode; thread count changes nothing. */
#include "forward.h"
#include "ic_config.h"
#include "ic_test.h"

#include <math.h>
#include <string.h>

static ic_model tiny(ic_dtype t, int moe) {
    ic_model m = {.name = "tiny",
                  .n_layer = 2,
                  .d_model = 64,
                  .n_head = 4,
                  .n_head_kv = 2,
                  .head_dim = 16,
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
                         .use_blas = blas};
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

static void test_dtype(ic_dtype t, int moe) {
    const char *tn = ic_dtype_name(t);
    char err[512];
    ic_model m = tiny(t, moe);
    CHECK(ic_model_validate(&m, err, sizeof err) == 0, "%s", err);
    ic_kset ref;
    if (ic_kset_select(&ref, t, 0, IC_LVL_REF, err, sizeof err)) {
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

    /* Thread count: rows split differently, same sums. */
    pass p3;
    if (make(&p3, &m, &ref, 3, 0) == 0) {
        decode5(&p3, got);
        CHECK(memcmp(got, want, sizeof got) == 0, "%s%s: 3 threads differ from 1 (rel %g)", tn,
              moe ? " moe" : "", rel_diff(got, want, 100));
        drop(&p3);
    }

    /* Prefill of 6 tokens (GEMM path) against decoding them one by one (GEMV path). */
    uint32_t toks[6] = {3, 14, 15, 92, 65, 35};
    const float *pf = ic_forward_prefill(pr.f, toks, 6);
    CHECK(pf != NULL, "prefill NULL");
    if (pf) memcpy(got, pf, sizeof got);
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
        if (ic_kset_select(&ks, t, cpu->features, (ic_level)lv, err, sizeof err)) continue;
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
            if (ic_kset_select(&ks, (ic_dtype)t, all, (ic_level)lv, err, sizeof err)) continue;
            ic_kset_describe(&ks, names, sizeof names);
            const ic_kernel *used[] = {ks.gemv,      ks.gemm,    ks.quant_gemv, ks.quant_gemm,
                                       ks.attention, ks.rmsnorm, ks.rope,       ks.swiglu};
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
    CHECK(ic_kset_select(&ks, IC_DT_Q8_0, 0, IC_LVL_REF, err, sizeof err) == 0, "%s", err);
    ic_kset_describe(&ks, names, sizeof names);
    CHECK(ks.quant_gemv == ks.quant_gemm &&
              strcmp(names, "gemv_q8_0_ref, gemm_q8_0_ref, quantize_q8_0_ref, attention_f32_ref, "
                            "rmsnorm_ref, rope_ref, swiglu_ref") == 0,
          "q8_0 ref set: '%s'", names);
}

static void test_bytes(void) {
    char err[512];
    ic_model m = tiny(IC_DT_Q8_0, 0);
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
        if (ic_dtype_is_weight((ic_dtype)t)) test_dtype((ic_dtype)t, 0);
    test_dtype(IC_DT_Q8_0, 1);
    test_dtype(IC_DT_Q4_0, 1);
    test_describe();
    test_bytes();
    return ic_test_finish("test_forward");
}
