/* GEMM, bf16 weights x bf16 activations, with SVE BFMMLA (FEAT_SVE + FEAT_BF16), at any vector
 * length: 2-row x 2-token output tiles, each 128-bit segment a 2x4 x 2x4 product (sve_mmla.h). The
 * predicate zeroes the tail of k in both operands, so odd k needs no scalar loop. */
#if !defined(__ARM_FEATURE_SVE) ||                                                                 \
    (!defined(__ARM_FEATURE_BF16) && !defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC))
#error "gemm_bf16_svebf16.c needs -march=armv8.2-a+sve+bf16"
#endif
#include "sve_mmla.h"

static inline svuint64_t ld(svbool_t pg, const uint16_t *p) {
    return svreinterpret_u64_u16(svld1_u16(pg, p));
}

void ic_gemm_bf16_svebf16(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                          size_t r0, size_t r1) {
    const uint16_t *wb = w, *xb = x;
    for (size_t r = r0; r < r1; r += 2) {
        const size_t rb = r + 1 < r1 ? r + 1 : r;
        const uint16_t *w0 = wb + r * k, *w1 = wb + rb * k;
        for (size_t t = 0; t < n; t += 2) {
            const size_t tb = t + 1 < n ? t + 1 : t;
            const uint16_t *x0 = xb + t * k, *x1 = xb + tb * k;
            svfloat32_t acc = svdup_n_f32(0.0f);
            for (size_t j = 0; j < k; j += svcnth()) {
                const svbool_t pg = svwhilelt_b16_u64(j, k);
                svuint64_t a0 = ld(pg, w0 + j), a1 = ld(pg, w1 + j);
                svuint64_t b0 = ld(pg, x0 + j), b1 = ld(pg, x1 + j);
                acc = svbfmmla_f32(acc, svreinterpret_bf16_u64(ic__zip1_rows(a0, a1)),
                                   svreinterpret_bf16_u64(ic__zip1_rows(b0, b1)));
                acc = svbfmmla_f32(acc, svreinterpret_bf16_u64(ic__zip2_rows(a0, a1)),
                                   svreinterpret_bf16_u64(ic__zip2_rows(b0, b1)));
            }
            float out[4];
            ic__sum_tiles(acc, out);
            ic__store_tile(y, ldy, r, rb, t, tb, out);
        }
    }
}
