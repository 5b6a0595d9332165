/* Softmax, SVE at any vector length, with a vector exp. A row whose maximum is infinite takes the
 * reference's path, which defines that case. */
#ifndef __ARM_FEATURE_SVE
#error "softmax_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>
#include <math.h>

float ic_softmax_sve(float *x, size_t n) {
    assert(n >= 1);
    svfloat32_t m = svdup_n_f32(-INFINITY);
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        m = svmax_f32_m(pg, m, svld1_f32(pg, x + i));
    }
    const float max = svmaxv_f32(svptrue_b32(), m);
    if (isinf(max)) return ic_softmax_ref(x, n);
    svfloat32_t s = svdup_n_f32(0.0f);
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        svfloat32_t e = ic__sve_exp(pg, svsub_n_f32_x(pg, svld1_f32(pg, x + i), max));
        svst1_f32(pg, x + i, e);
        s = svadd_f32_m(pg, s, e);
    }
    const float sum = svaddv_f32(svptrue_b32(), s);
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        svst1_f32(pg, x + i, svdiv_n_f32_x(pg, svld1_f32(pg, x + i), sum));
    }
    return max + logf(sum);
}
