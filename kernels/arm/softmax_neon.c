/* Softmax, base Advanced SIMD, with a vector exp. A row whose maximum is infinite takes the
 * reference's path, which defines that case (the +inf entries share the mass; all -inf is
 * uniform). */
#ifndef __ARM_NEON
#error "softmax_neon.c needs NEON (-march=armv8-a)"
#endif
#include "neon_common.h"

#include <assert.h>
#include <math.h>

float ic_softmax_neon(float *x, size_t n) {
    assert(n >= 1);
    float32x4_t m = vdupq_n_f32(-INFINITY);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) m = vmaxq_f32(m, vld1q_f32(x + i));
    float max = vmaxvq_f32(m);
    for (size_t j = i; j < n; j++) max = fmaxf(max, x[j]);
    if (isinf(max)) return ic_softmax_ref(x, n);
    float32x4_t s = vdupq_n_f32(0.0f), vmax = vdupq_n_f32(max);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t e = ic__neon_exp(vsubq_f32(vld1q_f32(x + i), vmax));
        vst1q_f32(x + i, e);
        s = vaddq_f32(s, e);
    }
    float sum = vaddvq_f32(s);
    for (size_t j = i; j < n; j++) sum += (x[j] = expf(x[j] - max));
    float32x4_t vsum = vdupq_n_f32(sum);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vdivq_f32(vld1q_f32(x + i), vsum));
    for (; i < n; i++) x[i] /= sum;
    return max + logf(sum);
}
