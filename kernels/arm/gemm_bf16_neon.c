/* GEMM, bf16 weights (widened by a shift) x f32 activations, base Advanced SIMD: each weight row
 * meets four tokens per load. */
#ifndef __ARM_NEON
#error "gemm_bf16_neon.c needs NEON (-march=armv8-a)"
#endif
#include "float_dot_neon.h"

void ic_gemm_bf16_neon(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    const float *xf = x;
    for (size_t r = r0; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            float out[4];
            ic__dot4_bf16(wr, xf + t * k, k, k, out);
            for (int u = 0; u < 4; u++) y[(t + (size_t)u) * ldy + r] = out[u];
        }
        for (; t < n; t++) y[t * ldy + r] = ic__dot_bf16(wr, xf + t * k, k);
    }
}
