/* GEMV, bf16 weights x bf16 activations, with BFDOT (FEAT_BF16: Graviton3 and Graviton4). BFDOT
 * reads bf16 pairs from both operands, so this variant's activation type is bf16 (the caller rounds
 * x once per token, as llama.cpp does for bf16 weights); products are exact and sums are f32. */
#if !defined(__ARM_FEATURE_BF16) &&                                                                \
    !defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC) /* GCC 12 defines only the latter */
#error "gemv_bf16_bf16.c needs -march=armv8.2-a+bf16"
#endif
#include "neon_common.h"

static float dot(const uint16_t *w, const uint16_t *x, size_t k) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    size_t j = 0;
    for (; j + 16 <= k; j += 16) {
        a0 = vbfdotq_f32(a0, vld1q_bf16((const bfloat16_t *)(w + j)),
                         vld1q_bf16((const bfloat16_t *)(x + j)));
        a1 = vbfdotq_f32(a1, vld1q_bf16((const bfloat16_t *)(w + j + 8)),
                         vld1q_bf16((const bfloat16_t *)(x + j + 8)));
    }
    for (; j + 8 <= k; j += 8)
        a0 = vbfdotq_f32(a0, vld1q_bf16((const bfloat16_t *)(w + j)),
                         vld1q_bf16((const bfloat16_t *)(x + j)));
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; j < k; j++) s += ic_bf16_to_f32(w[j]) * ic_bf16_to_f32(x[j]);
    return s;
}

void ic_gemv_bf16_bf16(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = dot((const uint16_t *)w + r * k, x, k);
}
