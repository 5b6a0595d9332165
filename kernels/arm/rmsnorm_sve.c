/* RMSNorm, SVE at any vector length. The sum of squares is kept in f64 lanes, as the reference
 * keeps it in a double: LD1W into 64-bit containers puts each float where FCVT reads it. */
#ifndef __ARM_FEATURE_SVE
#error "rmsnorm_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <math.h>

void ic_rmsnorm_sve(const float *x, const float *weight, float *y, size_t n, float eps) {
    svfloat64_t acc = svdup_n_f64(0.0);
    for (size_t i = 0; i < n; i += svcntd()) {
        svbool_t pd = svwhilelt_b64_u64(i, n);
        svfloat32_t v = svreinterpret_f32_u64(svld1uw_u64(pd, (const uint32_t *)(x + i)));
        svfloat64_t w = svcvt_f64_f32_x(pd, v);
        acc = svmla_f64_m(pd, acc, w, w);
    }
    double ss = svaddv_f64(svptrue_b64(), acc);
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        svfloat32_t v = svmul_n_f32_x(pg, svld1_f32(pg, x + i), scale);
        svst1_f32(pg, y + i, svmul_f32_x(pg, v, svld1_f32(pg, weight + i)));
    }
}
