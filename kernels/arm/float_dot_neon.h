/* f32 and bf16-weight dot products in base Advanced SIMD, shared by the gemv and gemm files. */
#ifndef IC_ARM_FLOAT_DOT_NEON_H
#define IC_ARM_FLOAT_DOT_NEON_H

#include "neon_common.h"

/* Four independent accumulators hide the FMA latency; the tail is scalar. */
static inline float ic__dot_f32(const float *w, const float *x, size_t k) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 16 <= k; j += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(w + j), vld1q_f32(x + j));
        a1 = vfmaq_f32(a1, vld1q_f32(w + j + 4), vld1q_f32(x + j + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(w + j + 8), vld1q_f32(x + j + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(w + j + 12), vld1q_f32(x + j + 12));
    }
    for (; j + 4 <= k; j += 4) a0 = vfmaq_f32(a0, vld1q_f32(w + j), vld1q_f32(x + j));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    return ic__tail_f32(s, w, x, j, k);
}

/* One weight row against four activation rows xs floats apart. */
static inline void ic__dot4_f32(const float *w, const float *x, size_t xs, size_t k, float out[4]) {
    /* Named accumulators: an array indexed in a loop was kept in memory (the instruction counts
     * showed three times the work of the GEMV). */
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    const float *x0 = x, *x1 = x + xs, *x2 = x + 2 * xs, *x3 = x + 3 * xs;
    size_t j = 0;
    for (; j + 4 <= k; j += 4) {
        float32x4_t wv = vld1q_f32(w + j);
        a0 = vfmaq_f32(a0, wv, vld1q_f32(x0 + j));
        a1 = vfmaq_f32(a1, wv, vld1q_f32(x1 + j));
        a2 = vfmaq_f32(a2, wv, vld1q_f32(x2 + j));
        a3 = vfmaq_f32(a3, wv, vld1q_f32(x3 + j));
    }
    out[0] = ic__tail_f32(vaddvq_f32(a0), w, x0, j, k);
    out[1] = ic__tail_f32(vaddvq_f32(a1), w, x1, j, k);
    out[2] = ic__tail_f32(vaddvq_f32(a2), w, x2, j, k);
    out[3] = ic__tail_f32(vaddvq_f32(a3), w, x3, j, k);
}

static inline float ic__tail_bf16(float s, const uint16_t *w, const float *x, size_t j, size_t k) {
    for (; j < k; j++) s += ic_bf16_to_f32(w[j]) * x[j];
    return s;
}

/* bf16 weights widened to f32 in registers (a shift), f32 activations: exact products, f32 sums. */
static inline float ic__dot_bf16(const uint16_t *w, const float *x, size_t k) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
        uint16x8_t wv = vld1q_u16(w + j);
        a0 = vfmaq_f32(a0, ic__bf16_lo(wv), vld1q_f32(x + j));
        a1 = vfmaq_f32(a1, ic__bf16_hi(wv), vld1q_f32(x + j + 4));
    }
    return ic__tail_bf16(vaddvq_f32(vaddq_f32(a0, a1)), w, x, j, k);
}

static inline void ic__dot4_bf16(const uint16_t *w, const float *x, size_t xs, size_t k,
                                 float out[4]) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    const float *x0 = x, *x1 = x + xs, *x2 = x + 2 * xs, *x3 = x + 3 * xs;
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
        uint16x8_t wv = vld1q_u16(w + j);
        float32x4_t lo = ic__bf16_lo(wv), hi = ic__bf16_hi(wv);
        a0 = vfmaq_f32(vfmaq_f32(a0, lo, vld1q_f32(x0 + j)), hi, vld1q_f32(x0 + j + 4));
        a1 = vfmaq_f32(vfmaq_f32(a1, lo, vld1q_f32(x1 + j)), hi, vld1q_f32(x1 + j + 4));
        a2 = vfmaq_f32(vfmaq_f32(a2, lo, vld1q_f32(x2 + j)), hi, vld1q_f32(x2 + j + 4));
        a3 = vfmaq_f32(vfmaq_f32(a3, lo, vld1q_f32(x3 + j)), hi, vld1q_f32(x3 + j + 4));
    }
    out[0] = ic__tail_bf16(vaddvq_f32(a0), w, x0, j, k);
    out[1] = ic__tail_bf16(vaddvq_f32(a1), w, x1, j, k);
    out[2] = ic__tail_bf16(vaddvq_f32(a2), w, x2, j, k);
    out[3] = ic__tail_bf16(vaddvq_f32(a3), w, x3, j, k);
}

#endif
