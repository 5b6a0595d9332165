/* GEMM, bf16 weights (widened in registers) x f32 activations, SVE at any vector length: each
 * weight row meets four tokens per load. */
#ifndef __ARM_FEATURE_SVE
#error "gemm_bf16_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

void ic_gemm_bf16_sve(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    const float *xa = x;
    for (size_t r = r0; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            float out[4];
            ic__sve_dot4_bf16(wr, xa + t * k, k, k, out);
            for (int u = 0; u < 4; u++) y[(t + (size_t)u) * ldy + r] = out[u];
        }
        for (; t < n; t++) y[t * ldy + r] = ic__sve_dot_bf16(wr, xa + t * k, k);
    }
}
