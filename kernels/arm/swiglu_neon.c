/* SwiGLU, base Advanced SIMD: silu(gate) * up with a vector exp. A very negative gate makes
 * exp(-gate) inf and the result -0, as the reference gives. */
#ifndef __ARM_NEON
#error "swiglu_neon.c needs NEON (-march=armv8-a)"
#endif
#include "neon_common.h"

#include <math.h>

void ic_swiglu_neon(const float *gate, const float *up, float *y, size_t n) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t g = vld1q_f32(gate + i);
        float32x4_t silu = vdivq_f32(g, vaddq_f32(one, ic__neon_exp(vnegq_f32(g))));
        vst1q_f32(y + i, vmulq_f32(silu, vld1q_f32(up + i)));
    }
    for (; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}
