/* Helpers shared by the NEON-family variants (neon, dotprod, i8mm, bf16): bf16 widening, a vector
 * exp, q4_0 unpacking, and the int8 dot-product step. Everything is static inline, so each variant
 * file compiles them with its own ISA flags; only base Advanced SIMD is used here. */
#ifndef IC_ARM_NEON_COMMON_H
#define IC_ARM_NEON_COMMON_H

#include <arm_neon.h>

#include "../ic_dispatch.h"
#include "arm_common.h"

/* bf16 is the top half of an f32: widening is a shift into the high 16 bits. */
static inline float32x4_t ic__bf16_lo(uint16x8_t v) {
    return vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16));
}
static inline float32x4_t ic__bf16_hi(uint16x8_t v) {
    return vreinterpretq_f32_u32(vshll_high_n_u16(v, 16));
}

/* e^x to about 1 ulp (Cephes expf polynomial on |r| <= ln2/2). The scale 2^n is applied as two
 * halves so that n from -150 to 128 stays a normal float: results overflow to inf and underflow
 * through the subnormals as expf does. NaN stays NaN. */
static inline float32x4_t ic__neon_exp(float32x4_t x) {
    float32x4_t xc = vmaxq_f32(vminq_f32(x, vdupq_n_f32(89.0f)), vdupq_n_f32(-104.0f));
    float32x4_t n = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    float32x4_t y = vmulq_f32(vmulq_f32(p, s1), s2);
    return vbslq_f32(vceqq_f32(x, x), y, x);
}

/* A q4_0 block's 32 values as signed bytes in [-8, 7]: lo holds values 0..15, hi 16..31. */
static inline void ic__q4_0_unpack(const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t q = vld1q_u8(qs);
    const int8x16_t eight = vdupq_n_s8(8);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), eight);
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
}

/* acc[i] += sum of a[4i..4i+3] * b[4i..4i+3]: what SDOT does, in base Advanced SIMD (two widening
 * multiplies and two pairwise accumulates). int8 products fit int16: |-128 * -128| = 16384. */
static inline int32x4_t ic__neon_sdot_emul(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}

/* Sum of the four lanes, and of k - j scalar tail products. */
static inline float ic__tail_f32(float s, const float *w, const float *x, size_t j, size_t k) {
    for (; j < k; j++) s += w[j] * x[j];
    return s;
}

#endif
