/* x86 kernels beyond what test_kernels covers: the chunked and blocked paths that only long rows
 * and many tokens reach (k past the 512-block activation chunk, GEMM k ranges split by the L2
 * blocking, token batches, the small-n GEMV fallback), the GEMVs' four-runs and token-batch
 * entries, and selection under each IC_ISA cap on this machine's features. Links the kernel
 * library only. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ic_dispatch.h"
#include "ic_test.h"

#if defined(IC_ARCH_X86)

static void quant(ic_dtype t, const float *src, void *dst, size_t k) {
    ic_select_for(IC_OP_QUANTIZE, t, 0, IC_LVL_REF)->fn.quantize(src, dst, k);
}

static void dequant(ic_dtype t, const void *src, float *dst, size_t k) {
    ic_select_for(IC_OP_DEQUANTIZE, t, 0, IC_LVL_REF)->fn.dequantize(src, dst, k);
}

/* The entries of a variant that check() runs: the plain one, and a GEMV's four-runs and
 * token-batch entries. */
enum { ENTRY_PLAIN, ENTRY_RUNS, ENTRY_TOKENS, ENTRY_COUNT };
static const char *const g_entry_label[] = {"", " (four runs)", " (token batch)"};

/* y (n tokens of m rows) against double-precision products of the dequantized inputs. */
static int verify(const ic_kernel *kern, int entry, size_t m, size_t k, size_t n, const float *wf,
                  const float *xf, const float *y) {
    int ok = 1;
    for (size_t t = 0; t < n && ok; t++)
        for (size_t r = 0; r < m && ok; r++) {
            double ref = 0, abs_sum = 0;
            for (size_t j = 0; j < k; j++) {
                double term = (double)wf[r * k + j] * xf[t * k + j];
                ref += term;
                abs_sum += fabs(term);
            }
            double tol = 2.0 * (double)(k + 2) * FLT_EPSILON * abs_sum + 1e-30;
            if (!(fabs(y[t * m + r] - ref) <= tol)) {
                CHECK(0, "%s%s m=%zu k=%zu n=%zu row=%zu tok=%zu: got %.9g want %.9g", kern->name,
                      g_entry_label[entry], m, k, n, r, t, y[t * m + r], ref);
                ok = 0;
            }
        }
    if (ok) PASS();
    return ok;
}

/* Whether check() runs this entry of kern for n tokens: a GEMV's plain and four-runs entries take
 * one token, its token-batch entry any number. */
static int entry_applies(const ic_kernel *kern, int entry, size_t n) {
    switch (entry) {
    case ENTRY_PLAIN:
        return kern->op == IC_OP_GEMM || n == 1;
    case ENTRY_RUNS:
        return kern->gemv_runs != NULL && n == 1;
    default:
        return kern->gemv_tokens != NULL;
    }
}

/* One variant at (m, k, n) against a double-precision product of the same quantized inputs,
 * through each of its entries that takes n tokens. */
static void check(const ic_kernel *kern, size_t m, size_t k, size_t n, ic_test_rng *rng) {
    const size_t wrow = ic_row_bytes(kern->wtype, k), arow = ic_row_bytes(kern->atype, k);
    float *wf = malloc(m * k * 4), *xf = malloc(n * k * 4), *y = malloc(n * m * 4);
    unsigned char *w = malloc(m * wrow + 1), *x = malloc(n * arow + 1);
    for (size_t i = 0; i < m * k; i++) wf[i] = ic_test_uniform(rng);
    for (size_t i = 0; i < n * k; i++) xf[i] = ic_test_uniform(rng);
    for (size_t r = 0; r < m; r++) quant(kern->wtype, wf + r * k, w + r * wrow, k);
    for (size_t t = 0; t < n; t++) quant(kern->atype, xf + t * k, x + t * arow, k);
    for (size_t r = 0; r < m; r++) dequant(kern->wtype, w + r * wrow, wf + r * k, k);
    for (size_t t = 0; t < n; t++) dequant(kern->atype, x + t * arow, xf + t * k, k);
    if (kern->layout != IC_LAYOUT_ROWS) { /* a panel variant reads its weights packed */
        unsigned char *packed = malloc(ic_layout_bytes(kern->layout, kern->wtype, m, k));
        ic_layout_pack_all(kern->layout, kern->wtype, w, packed, m, k);
        free(w);
        w = packed;
    }
    for (int entry = 0; entry < ENTRY_COUNT; entry++) {
        if (!entry_applies(kern, entry, n)) continue;
        for (size_t i = 0; i < n * m; i++) y[i] = NAN;
        const size_t cut = m / 3;
        if (entry == ENTRY_RUNS) {
            /* the four quarters as runs, in two uneven pieces; the rows left over through the
             * plain entry */
            const size_t q = m / 4, h = q / 3;
            const size_t a[4] = {0, q, 2 * q, 3 * q}, b[4] = {h, q + h, 2 * q + h, 3 * q + h};
            kern->gemv_runs(w, x, y, k, a, h);
            kern->gemv_runs(w, x, y, k, b, q - h);
            kern->fn.gemv(w, x, y, k, 4 * q, m);
        } else if (entry == ENTRY_TOKENS) { /* two uneven row shares, as two threads take them */
            kern->gemv_tokens(w, x, y, k, n, m, 0, cut);
            kern->gemv_tokens(w, x, y, k, n, m, cut, m);
        } else if (kern->op == IC_OP_GEMV) {
            kern->fn.gemv(w, x, y, k, 0, cut);
            kern->fn.gemv(w, x, y, k, cut, m);
        } else {
            kern->fn.gemm(w, x, y, k, n, m, 0, cut);
            kern->fn.gemm(w, x, y, k, n, m, cut, m);
        }
        if (!verify(kern, entry, m, k, n, wf, xf, y)) break;
    }
    free(wf), free(xf), free(y), free(w), free(x);
}

static void test_long_paths(void) {
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    ic_test_rng rng = {2024};
    for (size_t i = 0; i < count; i++) {
        const ic_kernel *kern = &table[i];
        if (!ic_kernel_usable(kern, ic_cpu()->features, IC_LVL_COUNT) || kern->level == IC_LVL_REF)
            continue;
        if (kern->op == IC_OP_GEMV) {
            if (strstr(kern->name, "_avx512vnni") && kern->layout == IC_LAYOUT_ROWS &&
                (kern->wtype == IC_DT_Q8_0 || kern->wtype == IC_DT_Q4_0))
                CHECK(kern->gemv_runs != NULL && kern->gemv_tokens != NULL,
                      "%s has its four-runs and token-batch entries", kern->name);
            check(kern, 9, 32 * 1100, 1, &rng); /* 1100 blocks: three activation chunks */
            check(kern, 6, 32 * 44, 1, &rng);   /* 2 full 16-block groups, then 12 blocks */
            /* several rows per stream (the q8_0 VNNI GEMV cuts a range in four streams), with
             * leftover rows, across activation chunks and a short last group */
            check(kern, 47, 32 * 1100, 1, &rng);
            check(kern, 38, 32 * 44, 1, &rng);
            if (kern->gemv_tokens) {
                /* the token-batch entry on its own: 1-4 token tiles, rows past the last 4-row
                 * tile, k in one pass and in two (512 + 16 blocks), and k without whole 16-block
                 * groups (one token at a time) */
                for (size_t n = 2; n <= 9; n++) check(kern, 13, 32 * 272, n, &rng);
                check(kern, 6, 32 * 528, 5, &rng);
                check(kern, 7, 32 * 33, 3, &rng);
            }
        } else if (kern->op == IC_OP_GEMM) {
            check(kern, 11, 1024, 3, &rng);  /* n < 4: the per-token GEMV path */
            check(kern, 11, 1024, 5, &rng);  /* small n: a 4-token tile and a single token */
            check(kern, 9, 1056, 20, &rng);  /* 33 blocks: a short last group */
            check(kern, 6, 1024, 300, &rng); /* several token batches and L2 k ranges */
            /* several k steps of the VNNI GEMM (4 groups of 16 blocks each, the last one short)
             * and a second, partial token batch */
            check(kern, 6, 32 * 136, 70, &rng);
            check(kern, 150, 4096, 3, &rng); /* rows beyond one L2 block (gemm_by_gemv.h) */
            /* the small-batch token path (q8_0 and q4_0 VNNI, n <= 8): 1-4 token tiles, rows past
             * the last 4-row tile, k in one pass and in two (512 + 16 blocks) */
            for (size_t n = 1; n <= 9; n++) check(kern, 13, 32 * 272, n, &rng);
            for (size_t n = 2; n <= 6; n += 4) check(kern, 6, 32 * 528, n, &rng);
            check(kern, 7, 32 * 48, 16, &rng);
            /* the panel GEMMs' tiles for many tokens (q8_0 2 panels x 5 tokens, q4_0 3 x 4):
             * a last tile of 4 (q8_0) or 2 (q4_0) tokens, and 41 rows: a last group of one
             * panel (q8_0), a group of three whose last panel is cut (q4_0) */
            check(kern, 41, 32 * 45, 14, &rng);
            /* AMX: two whole 16-token tiles and 3 tokens past them (to the VNNI kernel), an odd
             * block count (the last block alone), rows cut inside a panel */
            check(kern, 37, 32 * 45, 35, &rng);
            /* whole panels of the second row share (rows 32 .. 63 of 23 .. 70) over three k
             * chunks: the bf16 AMX GEMM loads its accumulators from y and stores them back there */
            check(kern, 70, 32 * 136, 35, &rng);
            /* the panel GEMMs' k chunks come from L2 (a 1 MiB L2 holds a 14336-column row in
             * one): the smallest L2 ic_cpu_set_caches takes makes several k chunks at k = 4352,
             * each adding into y; past 512 tokens, a second token chunk */
            const size_t l1 = ic_cpu_l1d_bytes(), l2 = ic_cpu_l2_bytes();
            ic_cpu_set_caches(8 * 1024, 64 * 1024);
            check(kern, 6, 32 * 136, 20, &rng);
            check(kern, 5, 1024, 520, &rng);
            ic_cpu_set_caches(l1, l2);
        }
    }
}

/* Under each cap, every selection is at or below it; on a CPU with the features, the named
 * variant is the one chosen. */
static void test_caps(void) {
    const uint64_t have = ic_cpu()->features;
    for (int cap = IC_LVL_REF; cap <= IC_LVL_AMX; cap++) {
        for (int op = 0; op < IC_OP_COUNT; op++)
            for (int t = 0; t < IC_DT_COUNT; t++) {
                if (!ic_op_takes_type((ic_op)op, (ic_dtype)t)) continue;
                const ic_kernel *k = ic_select_for((ic_op)op, (ic_dtype)t, have, (ic_level)cap);
                CHECK(k && (int)k->level <= cap && (k->features & ~have) == 0, "cap %s chose %s",
                      ic_level_name((ic_level)cap), k ? k->name : "(null)");
            }
    }
    const struct {
        ic_level cap;
        ic_op op;
        ic_dtype t;
        uint64_t needs;
        const char *want;
    } cases[] = {
        {IC_LVL_REF, IC_OP_GEMV, IC_DT_Q8_0, 0, "gemv_q8_0_ref"},
        {IC_LVL_AVX2, IC_OP_GEMV, IC_DT_Q8_0, IC_F_AVX2 | IC_F_FMA | IC_F_F16C, "gemv_q8_0_avx2"},
        {IC_LVL_AVX2, IC_OP_GEMV, IC_DT_F32, IC_F_AVX2 | IC_F_FMA | IC_F_F16C, "gemv_f32_avx2"},
        {IC_LVL_AVXVNNI, IC_OP_GEMV, IC_DT_Q4_0, IC_F_AVXVNNI | IC_F_F16C, "gemv_q4_0_avxvnni"},
        {IC_LVL_AVX512, IC_OP_GEMV, IC_DT_Q8_0, IC_F_AVXVNNI | IC_F_AVX512BW, "gemv_q8_0_avxvnni"},
        {IC_LVL_AVX512, IC_OP_GEMV, IC_DT_BF16, IC_F_AVX512BW | IC_F_AVX512VL, "gemv_bf16_avx512"},
        {IC_LVL_AVX512VNNI, IC_OP_GEMV, IC_DT_Q8_0, IC_F_AVX512VNNI | IC_F_AVX512BW,
         "gemv_q8_0_p16_avx512vnni"},
        {IC_LVL_AVX512VNNI, IC_OP_GEMV, IC_DT_BF16, IC_F_AVX512BW, "gemv_bf16_avx512"},
        {IC_LVL_AVX512BF16, IC_OP_GEMV, IC_DT_BF16, IC_F_AVX512BF16, "gemv_bf16_p16_avx512bf16"},
        {IC_LVL_AVX512BF16, IC_OP_GEMM, IC_DT_Q8_0, IC_F_AVX512VNNI, "gemm_q8_0_p16_avx512vnni"},
        {IC_LVL_AMX, IC_OP_GEMM, IC_DT_Q8_0, IC_F_AVX512VNNI | IC_F_AMX_TILE | IC_F_AMX_INT8,
         "gemm_q8_0_p16_amx"},
        {IC_LVL_AMX, IC_OP_GEMM, IC_DT_Q4_0, IC_F_AVX512VNNI | IC_F_AMX_TILE | IC_F_AMX_INT8,
         "gemm_q4_0_p16_amx"},
        {IC_LVL_AVX512BF16, IC_OP_GEMM, IC_DT_BF16, IC_F_AVX512BF16, "gemm_bf16_p16_avx512bf16"},
        {IC_LVL_AMX, IC_OP_GEMM, IC_DT_BF16, IC_F_AVX512BF16 | IC_F_AMX_TILE | IC_F_AMX_BF16,
         "gemm_bf16_p16_amx"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if ((cases[i].needs & ~have) != 0) {
            printf("  skipped: %s needs features this CPU lacks\n", cases[i].want);
            continue;
        }
        const ic_kernel *k = ic_select_for(cases[i].op, cases[i].t, have, cases[i].cap);
        CHECK(k && strcmp(k->name, cases[i].want) == 0, "cap %s: want %s, chose %s",
              ic_level_name(cases[i].cap), cases[i].want, k ? k->name : "(null)");
    }
}

/* Run by ctest with IC_ISA=avx2: the host selection follows the environment cap. */
static void test_env_avx2(void) {
    char err[256];
    CHECK(ic_dispatch_init(err, sizeof err) == 0, "IC_ISA=avx2 rejected: %s", err);
    for (int op = 0; op < IC_OP_COUNT; op++)
        for (int t = 0; t < IC_DT_COUNT; t++) {
            if (!ic_op_takes_type((ic_op)op, (ic_dtype)t)) continue;
            const ic_kernel *k = ic_select((ic_op)op, (ic_dtype)t);
            CHECK(k && k->level <= IC_LVL_AVX2, "IC_ISA=avx2 chose %s", k ? k->name : "(null)");
        }
    if ((ic_cpu()->features & (IC_F_AVX2 | IC_F_FMA | IC_F_F16C)) ==
        (IC_F_AVX2 | IC_F_FMA | IC_F_F16C)) {
        const ic_kernel *k = ic_select(IC_OP_GEMV, IC_DT_Q8_0);
        CHECK(k && strcmp(k->name, "gemv_q8_0_avx2") == 0, "IC_ISA=avx2: gemv q8_0 -> %s",
              k ? k->name : "(null)");
    }
}

/* RoPE heads longer than the AVX-512 kernel's 256-pair cos/sin table and not a multiple of 16
 * floats, against a double-precision rotation (test_ops covers head_dim 2, 64 and 128). */
static void test_rope_long(void) {
    const ic_kernel *kern = ic_select_for(IC_OP_ROPE, IC_DT_F32, ic_cpu()->features, IC_LVL_COUNT);
    const size_t dims[] = {6, 200, 1100}, positions[] = {0, 5, 131071}, nh = 3;
    ic_test_rng rng = {7};
    for (size_t di = 0; di < 3; di++)
        for (size_t pi = 0; pi < 3; pi++) {
            const size_t d = dims[di], pos = positions[pi], n = d * nh;
            float *x = malloc(n * sizeof *x), *orig = malloc(n * sizeof *orig);
            for (size_t i = 0; i < n; i++) orig[i] = x[i] = ic_test_uniform(&rng);
            kern->fn.rope(x, nh, d, pos, 500000.0f);
            int ok = 1;
            for (size_t h = 0; h < nh && ok; h++)
                for (size_t i = 0; i < d / 2 && ok; i++) {
                    const double ang = (double)pos * pow(500000.0, -2.0 * (double)i / (double)d);
                    const double a = orig[h * d + 2 * i], b = orig[h * d + 2 * i + 1];
                    const double e0 = a * cos(ang) - b * sin(ang), e1 = a * sin(ang) + b * cos(ang);
                    const double tol = 1e-5 + fabs(ang) * 2e-7;
                    if (fabs(x[h * d + 2 * i] - e0) > tol * (1 + fabs(e0)) ||
                        fabs(x[h * d + 2 * i + 1] - e1) > tol * (1 + fabs(e1))) {
                        CHECK(0, "%s d=%zu pos=%zu h=%zu i=%zu: got (%g, %g) want (%g, %g)",
                              kern->name, d, pos, h, i, x[h * d + 2 * i], x[h * d + 2 * i + 1], e0,
                              e1);
                        ok = 0;
                    }
                }
            if (ok) PASS();
            free(x), free(orig);
        }
    printf("  %-28s checked at head_dim 6, 200, 1100\n", kern->name);
}

#endif

int main(int argc, char **argv) {
#if !defined(IC_ARCH_X86)
    (void)argc, (void)argv;
    printf("test_x86: not an x86-64 build, nothing to test\n");
    PASS();
#else
    if (argc > 1 && strcmp(argv[1], "env-avx2") == 0) {
        test_env_avx2();
    } else {
        test_caps();
        test_long_paths();
        test_rope_long();
    }
#endif
    return ic_test_finish("test_x86");
}
