/* GEMV, bf16 weights x bf16 activations, with SVE BFDOT (FEAT_SVE + FEAT_BF16: Graviton3 and
 * Graviton4), at any vector length. Like gemv_bf16_bf16 its activation type is bf16. The predicate
 * zeroes the tail, odd k included, so there is no scalar loop. */
#if !defined(__ARM_FEATURE_SVE) ||                                                                 \
    (!defined(__ARM_FEATURE_BF16) && !defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC))
#error "gemv_bf16_svebf16.c needs -march=armv8.2-a+sve+bf16"
#endif
#include "sve_common.h"

static float dot(const bfloat16_t *w, const bfloat16_t *x, size_t k) {
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0;
    const size_t vl = svcnth();
    size_t j = 0;
    const svbool_t all = svptrue_b16();
    for (; j + 2 * vl <= k; j += 2 * vl) {
        a0 = svbfdot_f32(a0, svld1_bf16(all, w + j), svld1_bf16(all, x + j));
        a1 = svbfdot_f32(a1, svld1_bf16(all, w + j + vl), svld1_bf16(all, x + j + vl));
    }
    for (; j < k; j += vl) {
        svbool_t pg = svwhilelt_b16_u64(j, k);
        a0 = svbfdot_f32(a0, svld1_bf16(pg, w + j), svld1_bf16(pg, x + j));
    }
    return svaddv_f32(svptrue_b32(), svadd_f32_x(svptrue_b32(), a0, a1));
}

void ic_gemv_bf16_svebf16(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = dot((const bfloat16_t *)w + r * k, x, k);
}
