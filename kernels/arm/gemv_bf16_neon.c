/* GEMV, bf16 weights (widened by a shift) x f32 activations, base Advanced SIMD. */
#ifndef __ARM_NEON
#error "gemv_bf16_neon.c needs NEON (-march=armv8-a)"
#endif
#include "float_dot_neon.h"

void ic_gemv_bf16_neon(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = ic__dot_bf16((const uint16_t *)w + r * k, x, k);
}
