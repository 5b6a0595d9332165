/* SwiGLU, SVE at any vector length: silu(gate) * up with a vector exp. */
#ifndef __ARM_FEATURE_SVE
#error "swiglu_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

void ic_swiglu_sve(const float *gate, const float *up, float *y, size_t n) {
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        svfloat32_t g = svld1_f32(pg, gate + i);
        svfloat32_t den = svadd_n_f32_x(pg, ic__sve_exp(pg, svneg_f32_x(pg, g)), 1.0f);
        svst1_f32(pg, y + i, svmul_f32_x(pg, svdiv_f32_x(pg, g, den), svld1_f32(pg, up + i)));
    }
}
