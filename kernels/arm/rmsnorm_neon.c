/* RMSNorm, base Advanced SIMD. The sum of squares is kept in f64 lanes, as the reference keeps it
 * in a double, so long rows lose nothing to the accumulation. */
#ifndef __ARM_NEON
#error "rmsnorm_neon.c needs NEON (-march=armv8-a)"
#endif
#include "neon_common.h"

#include <math.h>

void ic_rmsnorm_neon(const float *x, const float *weight, float *y, size_t n, float eps) {
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
        s0 = vfmaq_f64(s0, lo, lo);
        s1 = vfmaq_f64(s1, hi, hi);
    }
    double ss = vaddvq_f64(vaddq_f64(s0, s1));
    for (size_t j = i; j < n; j++) ss += (double)x[j] * x[j];
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), scale), vld1q_f32(weight + i)));
    for (; i < n; i++) y[i] = x[i] * scale * weight[i];
}
