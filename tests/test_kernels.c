/* Every kernel variant this host can run, the scalar references included, against a
 * double-precision computation on the same (already quantized) inputs: odd sizes, unaligned
 * buffers, and the row range split as 1 to 7 threads would split it. Also: blocks that cannot hold
 * k give a clear error. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ic_dispatch.h"
#include "ic_test.h"

/* 352 is 11 blocks of 32: whole groups and a remainder where a kernel takes several blocks per
 * vector (the SVE q8_0/q4_0 kernels from 512 bits). */
static const size_t g_sizes_any[] = {1, 31, 32, 33, 64, 352, 4095, 4096, 4097};
/* IC_TEST_QUICK=1 (ci/aarch64.sh under qemu): the same tails around a smaller power of two. */
static const size_t g_sizes_quick[] = {1, 31, 32, 33, 64, 352, 255, 256, 257};
_Static_assert(sizeof g_sizes_quick == sizeof g_sizes_any,
               "the quick list replaces the full one entry for entry");
/* 83 rows are six 16-row panels, the last partial: the panel kernels' widest register tiles (4
 * panels) and a remainder tile both run. */
static const size_t g_rows[] = {1, 7, 33, 83};

/* Kernel arithmetic error bound for a k-term dot product: recursive summation in float is within
 * k * eps * sum|terms| (Higham); we allow 2x for FMA-reassociated vector variants. */
static double dot_tol(size_t k, double abs_sum) {
    return 2.0 * (double)(k + 2) * FLT_EPSILON * abs_sum + 1e-30;
}

static unsigned char *alloc_offset(size_t bytes, size_t offset, void **base) {
    *base = malloc(bytes + 64 + offset);
    return (unsigned char *)*base + offset;
}

static void dequant(ic_dtype t, const void *src, float *dst, size_t k) {
    ic_select_for(IC_OP_DEQUANTIZE, t, 0, IC_LVL_REF)->fn.dequantize(src, dst, k);
}

static void quant(ic_dtype t, const float *src, void *dst, size_t k) {
    ic_select_for(IC_OP_QUANTIZE, t, 0, IC_LVL_REF)->fn.quantize(src, dst, k);
}

/* GEMV and GEMM of one variant at one shape, every row split from 1 to 7 parts. */
static void check_matmul(const ic_kernel *kern, size_t m, size_t k, size_t n, ic_test_rng *rng) {
    const ic_dtype wt = kern->wtype, at = kern->atype;
    const size_t wrow = ic_row_bytes(wt, k), arow = ic_row_bytes(at, k);
    float *wf = malloc(m * k * sizeof *wf), *xf = malloc(n * k * sizeof *xf);
    for (size_t i = 0; i < m * k; i++) wf[i] = ic_test_uniform(rng);
    for (size_t i = 0; i < n * k; i++) xf[i] = ic_test_uniform(rng);
    void *wbase, *xbase, *ybase;
    unsigned char *w = alloc_offset(m * wrow, 4, &wbase), *x = alloc_offset(n * arow, 4, &xbase);
    float *y = (float *)alloc_offset(n * m * sizeof(float), 4, &ybase);
    for (size_t r = 0; r < m; r++) quant(wt, wf + r * k, w + r * wrow, k);
    for (size_t t = 0; t < n; t++) quant(at, xf + t * k, x + t * arow, k);
    /* The double reference sees exactly what the kernel sees: the dequantized inputs. */
    for (size_t r = 0; r < m; r++) dequant(wt, w + r * wrow, wf + r * k, k);
    for (size_t t = 0; t < n; t++) dequant(at, x + t * arow, xf + t * k, k);
    /* a panel variant reads the weights packed, as a forward pass hands them over; packed at an
     * odd offset too */
    void *pbase = NULL;
    if (kern->layout != IC_LAYOUT_ROWS) {
        unsigned char *packed = alloc_offset(ic_layout_bytes(kern->layout, wt, m, k), 4, &pbase);
        ic_layout_pack_all(kern->layout, wt, w, packed, m, k);
        w = packed;
    }

    for (int parts = 1; parts <= 7; parts++) {
        for (size_t i = 0; i < n * m; i++) y[i] = NAN;
        for (int p = 0; p < parts; p++) {
            size_t r0 = m * (size_t)p / (size_t)parts, r1 = m * (size_t)(p + 1) / (size_t)parts;
            if (kern->op == IC_OP_GEMV)
                kern->fn.gemv(w, x, y, k, r0, r1);
            else
                kern->fn.gemm(w, x, y, k, n, m, r0, r1);
        }
        int bad = 0;
        double worst = 0;
        for (size_t t = 0; t < n && !bad; t++) {
            for (size_t r = 0; r < m; r++) {
                double ref = 0, abs_sum = 0;
                for (size_t j = 0; j < k; j++) {
                    double term = (double)wf[r * k + j] * xf[t * k + j];
                    ref += term;
                    abs_sum += fabs(term);
                }
                double err = fabs((double)y[t * m + r] - ref);
                if (!(err <= dot_tol(k, abs_sum))) {
                    bad = 1;
                    worst = err;
                    CHECK(0,
                          "%s m=%zu k=%zu n=%zu parts=%d row=%zu tok=%zu: got %.9g want %.9g "
                          "(err %.3g > tol %.3g)",
                          kern->name, m, k, n, parts, r, t, y[t * m + r], ref, err,
                          dot_tol(k, abs_sum));
                    break;
                }
            }
        }
        if (!bad) PASS();
        (void)worst;
    }
    free(wf);
    free(xf);
    free(wbase);
    free(pbase);
    free(xbase);
    free(ybase);
}

static void test_matmuls(const ic_kernel *table, size_t count, uint64_t features) {
    ic_test_rng rng = {42};
    for (size_t i = 0; i < count; i++) {
        const ic_kernel *kern = &table[i];
        if ((kern->op != IC_OP_GEMV && kern->op != IC_OP_GEMM) ||
            !ic_kernel_usable(kern, features, IC_LVL_COUNT))
            continue;
        size_t block = ic_dtype_block(kern->wtype);
        size_t ran = 0;
        const char *quick = getenv("IC_TEST_QUICK");
        const size_t *sizes = quick && quick[0] == '1' ? g_sizes_quick : g_sizes_any;
        for (size_t si = 0; si < sizeof g_sizes_any / sizeof g_sizes_any[0]; si++) {
            size_t k = sizes[si];
            if (k % block) continue;
            for (size_t mi = 0; mi < sizeof g_rows / sizeof g_rows[0]; mi++) {
                size_t m = g_rows[mi];
                if (k >= 4095 && m > 7) continue; /* enough rows at the long sizes */
                if (kern->op == IC_OP_GEMV) {
                    check_matmul(kern, m, k, 1, &rng);
                } else {
                    check_matmul(kern, m, k, 1, &rng);
                    check_matmul(kern, m, k, 5, &rng);
                    if (k <= 64) check_matmul(kern, m, k, 17, &rng);
                }
                ran++;
            }
        }
        CHECK(ran > 0, "%s ran at no size", kern->name);
        printf("  %-28s checked at %zu shapes\n", kern->name, ran);
    }
}

/* k not a multiple of the block is refused with a message that names the type and k. */
static void test_block_errors(void) {
    char err[256];
    const size_t bad[] = {1, 31, 33, 4095, 4097};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (ic_dtype t = IC_DT_Q8_0; t <= IC_DT_Q4_0; t++) {
            err[0] = '\0';
            CHECK(ic_check_row(t, bad[i], err, sizeof err) == -1, "%s k=%zu accepted",
                  ic_dtype_name(t), bad[i]);
            CHECK(strstr(err, ic_dtype_name(t)) && strstr(err, "multiple"), "message: %s", err);
            CHECK(ic_row_bytes(t, bad[i]) == 0, "row bytes for k=%zu", bad[i]);
        }
        CHECK(ic_check_row(IC_DT_F32, bad[i], err, sizeof err) == 0, "f32 k=%zu refused", bad[i]);
        CHECK(ic_check_row(IC_DT_BF16, bad[i], err, sizeof err) == 0, "bf16 k=%zu refused", bad[i]);
    }
    CHECK(ic_check_row(IC_DT_Q8_0, 0, err, sizeof err) == -1, "k=0 accepted");
}

/* Quantize -> dequantize error within each format's bound; every quantize variant matches ref. */
static void test_roundtrip(const ic_kernel *table, size_t count, uint64_t features) {
    ic_test_rng rng = {7};
    const size_t k = 4096;
    float *x = malloc(k * sizeof *x), *back = malloc(k * sizeof *back);
    void *q = malloc(ic_row_bytes(IC_DT_F32, k)), *qref = malloc(ic_row_bytes(IC_DT_F32, k));
    for (size_t i = 0; i < k; i++) x[i] = ic_test_uniform(&rng) * (i % 97 == 0 ? 50.0f : 1.0f);
    x[5] = 0; /* a zero block is handled too */
    for (size_t i = 0; i < count; i++) {
        const ic_kernel *kq = &table[i];
        if (kq->op != IC_OP_QUANTIZE || !ic_kernel_usable(kq, features, IC_LVL_COUNT)) continue;
        ic_dtype t = kq->wtype;
        kq->fn.quantize(x, q, k);
        quant(t, x, qref, k);
        dequant(t, q, back, k);
        int ok = 1;
        for (size_t b = 0; b < k && ok; b += ic_dtype_block(t)) {
            size_t bl = ic_dtype_block(t);
            float amax = 0;
            for (size_t j = b; j < b + bl; j++) amax = fmaxf(amax, fabsf(x[j]));
            for (size_t j = b; j < b + bl; j++) {
                /* q8_0 and q8_0s (the same quants and fp16-rounded scale): half a step (amax/254)
                 * plus the fp16 scale's rounding (2^-11 relative);
                 * q4_0: a full step (amax/8: the top of the range clamps) plus the same;
                 * bf16: half an ulp, 2^-8 relative; f16: half an ulp, 2^-11 relative, or
                 * half the smallest subnormal step (2^-25) below 2^-14; f32: exact. */
                double bound = t == IC_DT_Q8_0 || t == IC_DT_Q8_0S ? amax / 254.0 + amax * 0x1p-10
                               : t == IC_DT_Q4_0                   ? amax / 8.0 + amax * 0x1p-10
                               : t == IC_DT_BF16                   ? fabs(x[j]) * 0x1p-8
                               : t == IC_DT_F16                    ? fabs(x[j]) * 0x1p-11 + 0x1p-25
                                                                   : 0.0;
                if (!(fabs((double)back[j] - x[j]) <= bound)) {
                    CHECK(0, "%s round trip x[%zu]=%g back %g bound %g", kq->name, j, x[j], back[j],
                          bound);
                    ok = 0;
                    break;
                }
            }
        }
        if (ok) PASS();
        CHECK(memcmp(q, qref, ic_row_bytes(t, k)) == 0, "%s differs from the reference bytes",
              kq->name);
        printf("  %-28s checked\n", kq->name);
    }
    /* bf16 rounds to nearest even and keeps NaN a NaN. */
    CHECK(ic_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie to even");
    CHECK(ic_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81, "bf16 round up");
    CHECK(isnan(ic_bf16_to_f32(ic_f32_to_bf16(NAN))), "bf16 NaN");
    /* fp16: round trip of every half value is exact. */
    int fp16_ok = 1;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = ic_fp16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (ic_f32_to_fp16(f) != h) {
            fp16_ok = 0;
            CHECK(0, "fp16 0x%04x -> %g -> 0x%04x", h, f, ic_f32_to_fp16(f));
            break;
        }
    }
    if (fp16_ok) PASS();
    CHECK(ic_f32_to_fp16(65520.0f) == 0x7c00, "fp16 overflow to inf");
    CHECK(ic_f32_to_fp16(0x1p-25f) == 0, "fp16 tie to zero");
    CHECK(ic_f32_to_fp16(0x1.8p-25f) == 1, "fp16 smallest subnormal");
    free(x);
    free(back);
    free(q);
    free(qref);
}

/* The panel layout: sizes by hand, and every row back as it went in (odd row counts, whose last
 * panel is part padding; odd block counts, whose panels are padded to 64 bytes). */
static void test_layout(void) {
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_Q8_0, 64) == 16 * 68, "q8_0 k 64 panel");
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_Q8_0, 32) == 576, "q8_0 k 32: 544 -> 576");
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_Q4_0, 96) == 896, "q4_0 k 96: 864 -> 896");
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_BF16, 5) == 3 * 64, "bf16 k 5: 3 pairs");
    CHECK(ic_layout_bytes(IC_LAYOUT_PANEL16, IC_DT_Q8_0, 17, 64) == 2 * 16 * 68, "17 rows");
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_F32, 64) == 0, "f32 has no panels");
    CHECK(ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_Q8_0, 33) == 0, "k not a block multiple");
    CHECK(ic_layout_bytes(IC_LAYOUT_PANEL16, IC_DT_Q8_0, SIZE_MAX / 2, 4096) == SIZE_MAX,
          "saturates");
    ic_test_rng rng = {7};
    const ic_dtype types[] = {IC_DT_Q8_0, IC_DT_Q4_0, IC_DT_BF16};
    const size_t ks[] = {32, 96, 64, 7}, rows[] = {1, 16, 17, 35};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t ki = 0; ki < 4; ki++)
            for (size_t ri = 0; ri < 4; ri++) {
                const ic_dtype t = types[ti];
                const size_t k = ks[ki], m = rows[ri], rb = ic_row_bytes(t, k);
                if (rb == 0) continue;
                unsigned char *src = malloc(m * rb), *back = malloc(rb);
                unsigned char *packed = malloc(ic_layout_bytes(IC_LAYOUT_PANEL16, t, m, k));
                float *f = malloc(k * sizeof *f);
                for (size_t r = 0; r < m; r++) {
                    for (size_t j = 0; j < k; j++) f[j] = ic_test_uniform(&rng);
                    quant(t, f, src + r * rb, k);
                }
                ic_layout_pack_all(IC_LAYOUT_PANEL16, t, src, packed, m, k);
                int same = 1;
                for (size_t r = 0; r < m; r++) {
                    ic_layout_unpack_row(IC_LAYOUT_PANEL16, t, packed, k, r, back);
                    same &= memcmp(back, src + r * rb, rb) == 0;
                }
                CHECK(same, "%s k=%zu rows=%zu: a row differs after pack and unpack",
                      ic_dtype_name(t), k, m);
                free(src), free(back), free(packed), free(f);
            }
}

/* q8_0s holds q8_0's quants and scale, and ds = d * sum(q) as the panel kernels need it. */
static void test_q8_0s(void) {
    ic_test_rng rng = {11};
    const size_t k = 96;
    float x[96];
    for (size_t i = 0; i < k; i++) x[i] = ic_test_uniform(&rng) * (i < 32 ? 1e-3f : 30.0f);
    ic_block_q8_0 q[3];
    ic_block_q8_0s s[3];
    quant(IC_DT_Q8_0, x, q, k);
    quant(IC_DT_Q8_0S, x, s, k);
    for (int b = 0; b < 3; b++) {
        int32_t sum = 0, same = 1;
        for (int j = 0; j < IC_QK; j++) {
            same &= s[b].qs[j] == q[b].qs[j];
            sum += s[b].qs[j];
        }
        CHECK(same, "q8_0s block %d: quants differ from q8_0's", b);
        CHECK(s[b].d == ic_fp16_to_f32(q[b].d), "q8_0s block %d: scale %g, q8_0 %g", b, s[b].d,
              ic_fp16_to_f32(q[b].d));
        CHECK(s[b].c == -128.0f * s[b].d * (float)sum, "q8_0s block %d: c %g, -128*d*sum %g", b,
              s[b].c, -128.0f * s[b].d * (float)sum);
    }
}

/* Every f16 quantize variant writes ic_f32_to_fp16's bytes for the values where a conversion
 * can go wrong: signed zeros, infinities, NaNs of several payloads, the largest half and the
 * values either side of overflow, ties to even, subnormal halves and what rounds to them, f32
 * subnormals; at every offset of a vector and in a tail (k = 45, from each start 0 .. 7). */
static void test_f16_edges(const ic_kernel *table, size_t count, uint64_t features) {
    const uint32_t bits[] = {
        0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u,
        0x7fffffffu, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x477ff001u, 0x3f801000u, 0x3f803000u,
        0x3f801001u, 0x33800000u, 0x33000000u, 0x33000001u, 0x32ffffffu, 0x38800000u, 0x387fe000u,
        0x387ff000u, 0x00000001u, 0x807fffffu, 0xc7000000u, 0x3f800000u, 0xbf7fffffu, 0x40490fdbu,
        0x33c00000u, 0x34400000u, 0x38000000u, 0x387fffffu, 0x477fffffu, 0x47800000u, 0x3eaaaaabu,
        0xbdcccccdu, 0x7f7fffffu, 0xff7fffffu, 0x00800000u, 0x3f800001u, 0x3f802000u, 0x3f806000u,
        0x46fffe00u, 0x46ffff00u, 0xb3800001u};
    const size_t n = sizeof bits / sizeof bits[0];
    float x[64];
    uint16_t want[64], got[64 + 8];
    for (size_t i = 0; i < n; i++) memcpy(&x[i], &bits[i], sizeof x[i]);
    for (size_t i = 0; i < n; i++) want[i] = ic_f32_to_fp16(x[i]);
    size_t tested = 0;
    for (size_t v = 0; v < count; v++) {
        const ic_kernel *kq = &table[v];
        if (kq->op != IC_OP_QUANTIZE || kq->wtype != IC_DT_F16 ||
            !ic_kernel_usable(kq, features, IC_LVL_COUNT))
            continue;
        tested++;
        for (size_t s = 0; s < 8; s++) {
            for (size_t i = 0; i < n + 8; i++) got[i] = 0xabcd;
            kq->fn.quantize(x + s, got, n - s);
            size_t i = 0;
            while (i < n - s && got[i] == want[s + i]) i++;
            CHECK(i == n - s, "%s from %zu: x=0x%08x got 0x%04x want 0x%04x", kq->name, s,
                  i < n - s ? bits[s + i] : 0u, i < n - s ? got[i] : 0u,
                  i < n - s ? want[s + i] : 0u);
            CHECK(got[n - s] == 0xabcd, "%s from %zu: wrote past k", kq->name, s);
        }
    }
    CHECK(tested >= 1, "no f16 quantize variant ran");
    CHECK(want[4] == 0x7e00 && want[10] == 0x7c00 && want[12] == 0x3c00 && want[13] == 0x3c02,
          "the reference's NaN, overflow and ties");
}

/* Every q8_0 and q8_0s quantize variant writes the reference's bytes, and nothing past k, at
 * block counts around the 16-block groups the AVX-512 ones take at once (1, 15, 16, 17, 33, 50),
 * over blocks that try the scale: zero, one nonzero value, a negative maximum, ties at .5 after
 * scaling, and magnitudes from 1e-30 (the fp16 scale rounds to 0 or a subnormal) to 1e36 (it
 * overflows to inf). Not below: under an amax of about 4e-37 the scale's reciprocal overflows,
 * and the reference's (int8_t)roundf(inf), as ggml's, has no defined value (the AVX-512 variants
 * write -128 there, the reference 0 with GCC on x86); such a block's fp16 scale is 0, so its
 * quants never count. */
static void test_q8_edges(const ic_kernel *table, size_t count, uint64_t features) {
    static const size_t blocks[] = {1, 15, 16, 17, 33, 50};
    enum { MAXB = 50 };
    static float x[MAXB * IC_QK];
    ic_test_rng rng = {11};
    for (size_t b = 0; b < MAXB; b++) {
        float *xb = x + b * IC_QK;
        const float mag = powf(10.0f, (float)((int)(b * 7 % 67) - 30));
        for (int j = 0; j < IC_QK; j++) xb[j] = ic_test_uniform(&rng) * mag;
        switch (b % 6) {
        case 0: /* zero */
            for (int j = 0; j < IC_QK; j++) xb[j] = b % 12 == 0 ? 0.0f : -0.0f;
            break;
        case 1: /* one nonzero value */
            for (int j = 0; j < IC_QK; j++) xb[j] = j == 9 ? -mag : 0.0f;
            break;
        case 2: /* d = 1: ties at .5 go away from zero */
            for (int j = 0; j < IC_QK; j++) xb[j] = (float)(j - 16) + 0.5f;
            xb[31] = 127.0f;
            break;
        case 3: /* a negative maximum */
            xb[IC_QK / 2] = -2.0f * mag;
            break;
        default:
            break;
        }
    }
    size_t tested = 0;
    for (size_t v = 0; v < count; v++) {
        const ic_kernel *kq = &table[v];
        const ic_dtype t = kq->wtype;
        if (kq->op != IC_OP_QUANTIZE || (t != IC_DT_Q8_0 && t != IC_DT_Q8_0S) ||
            !ic_kernel_usable(kq, features, IC_LVL_COUNT))
            continue;
        tested++;
        for (size_t c = 0; c < sizeof blocks / sizeof blocks[0]; c++) {
            const size_t k = blocks[c] * IC_QK, bytes = ic_row_bytes(t, k);
            unsigned char got[MAXB * 40 + 64], want[MAXB * 40 + 64];
            memset(got, 0xab, sizeof got);
            memset(want, 0xab, sizeof want);
            kq->fn.quantize(x, got, k);
            quant(t, x, want, k);
            size_t i = 0;
            while (i < bytes && got[i] == want[i]) i++;
            CHECK(i == bytes,
                  "%s, %zu blocks: byte %zu (block %zu) is 0x%02x, the reference's 0x%02x",
                  kq->name, blocks[c], i, i / (bytes / blocks[c]), i < bytes ? got[i] : 0,
                  i < bytes ? want[i] : 0);
            CHECK(got[bytes] == 0xab && got[bytes + 63] == 0xab, "%s, %zu blocks: wrote past k",
                  kq->name, blocks[c]);
        }
    }
    CHECK(tested >= 2, "the q8_0 and q8_0s reference quantizers did not run");
}

int main(void) {
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    /* every variant this CPU can run, the SVE ones dispatch passes over at 128 bits included */
    uint64_t features = ic_features_runnable(ic_cpu()->features);
    test_block_errors();
    test_layout();
    test_q8_0s();
    test_roundtrip(table, count, features);
    test_f16_edges(table, count, features);
    test_q8_edges(table, count, features);
    test_matmuls(table, count, features);
    return ic_test_finish("test_kernels");
}
