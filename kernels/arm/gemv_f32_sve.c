/* GEMV, f32 weights x f32 activations, SVE at any vector length. */
#ifndef __ARM_FEATURE_SVE
#error "gemv_f32_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

void ic_gemv_f32_sve(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = ic__sve_dot_f32((const float *)w + r * k, x, k);
}
