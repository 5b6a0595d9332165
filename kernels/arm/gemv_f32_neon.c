/* GEMV, f32 weights x f32 activations, base Advanced SIMD. */
#ifndef __ARM_NEON
#error "gemv_f32_neon.c needs NEON (-march=armv8-a)"
#endif
#include "float_dot_neon.h"

void ic_gemv_f32_neon(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = ic__dot_f32((const float *)w + r * k, x, k);
}
