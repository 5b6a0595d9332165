/* GEMM, bf16 weights x bf16 activations, with BFMMLA (FEAT_BF16): one BFMMLA multiplies a 2x4 bf16
 * tile of two weight rows by a 2x4 tile of two tokens into a 2x2 f32 tile. An odd last row or token
 * repeats its neighbour and the duplicate is not stored; k % 8 tail values are summed in scalar. */
#if !defined(__ARM_FEATURE_BF16) &&                                                                \
    !defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC) /* GCC 12 defines only the latter */
#error "gemm_bf16_bf16.c needs -march=armv8.2-a+bf16"
#endif
#include "neon_common.h"

static inline bfloat16x8_t zip_lo(const uint16_t *a, const uint16_t *b) {
    uint64x2_t va = vld1q_u64((const uint64_t *)(const void *)a);
    uint64x2_t vb = vld1q_u64((const uint64_t *)(const void *)b);
    return vreinterpretq_bf16_u64(vzip1q_u64(va, vb));
}
static inline bfloat16x8_t zip_hi(const uint16_t *a, const uint16_t *b) {
    uint64x2_t va = vld1q_u64((const uint64_t *)(const void *)a);
    uint64x2_t vb = vld1q_u64((const uint64_t *)(const void *)b);
    return vreinterpretq_bf16_u64(vzip2q_u64(va, vb));
}

void ic_gemm_bf16_bf16(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    const uint16_t *wb = w, *xb = x;
    for (size_t r = r0; r < r1; r += 2) {
        const size_t rb = r + 1 < r1 ? r + 1 : r;
        const uint16_t *w0 = wb + r * k, *w1 = wb + rb * k;
        for (size_t t = 0; t < n; t += 2) {
            const size_t tb = t + 1 < n ? t + 1 : t;
            const uint16_t *x0 = xb + t * k, *x1 = xb + tb * k;
            float32x4_t acc = vdupq_n_f32(0.0f); /* [w0.x0, w0.x1, w1.x0, w1.x1] */
            size_t j = 0;
            for (; j + 8 <= k; j += 8) {
                acc = vbfmmlaq_f32(acc, zip_lo(w0 + j, w1 + j), zip_lo(x0 + j, x1 + j));
                acc = vbfmmlaq_f32(acc, zip_hi(w0 + j, w1 + j), zip_hi(x0 + j, x1 + j));
            }
            float s[4];
            vst1q_f32(s, acc);
            for (; j < k; j++) {
                float a0 = ic_bf16_to_f32(w0[j]), a1 = ic_bf16_to_f32(w1[j]);
                float b0 = ic_bf16_to_f32(x0[j]), b1 = ic_bf16_to_f32(x1[j]);
                s[0] += a0 * b0, s[1] += a0 * b1, s[2] += a1 * b0, s[3] += a1 * b1;
            }
            y[t * ldy + r] = s[0];
            if (tb != t) y[tb * ldy + r] = s[1];
            if (rb != r) y[t * ldy + rb] = s[2];
            if (rb != r && tb != t) y[tb * ldy + rb] = s[3];
        }
    }
}
