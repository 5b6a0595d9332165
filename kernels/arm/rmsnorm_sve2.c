/* RMSNorm, SVE2 at any vector length. Where SVE2 helps: FCVTLT converts the odd f32 lanes to f64,
 * so the f64 sum of squares reads whole f32 vectors (the SVE variant loads half a vector into
 * 64-bit containers per step); base FCVT converts the even lanes. */
#ifndef __ARM_FEATURE_SVE2
#error "rmsnorm_sve2.c needs -march=armv8.2-a+sve2"
#endif
#include "sve_common.h"

#include <math.h>

void ic_rmsnorm_sve2(const float *x, const float *weight, float *y, size_t n, float eps) {
    const svbool_t all = svptrue_b64();
    svfloat64_t even = svdup_n_f64(0.0), odd = even;
    for (size_t i = 0; i < n; i += svcntw()) {
        svfloat32_t v = svld1_f32(svwhilelt_b32_u64(i, n), x + i); /* inactive lanes read 0 */
        svfloat64_t lo = svcvt_f64_f32_x(all, v), hi = svcvtlt_f64_f32_x(all, v);
        even = svmla_f64_x(all, even, lo, lo);
        odd = svmla_f64_x(all, odd, hi, hi);
    }
    double ss = svaddv_f64(all, svadd_f64_x(all, even, odd));
    const float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (size_t i = 0; i < n; i += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(i, n);
        svfloat32_t v = svmul_n_f32_x(pg, svld1_f32(pg, x + i), scale);
        svst1_f32(pg, y + i, svmul_f32_x(pg, v, svld1_f32(pg, weight + i)));
    }
}
