/* RoPE, SVE at any vector length. The angles of one vector's worth of pairs are computed as the
 * reference does (double pow, cos, sin) into small tables, then every head rotates those pairs in
 * one step: a * [c s ...] + b * [-s c ...], with a and b spread by TRN1/TRN2. */
#ifndef __ARM_FEATURE_SVE
#error "rope_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>
#include <math.h>

enum { MAX_LANES = 2048 / 32 }; /* the largest SVE vector, in floats */

void ic_rope_sve(float *x, size_t n_heads, size_t head_dim, size_t pos, float theta) {
    assert(head_dim % 2 == 0 && svcntw() <= MAX_LANES);
    float ca[MAX_LANES], cb[MAX_LANES];
    for (size_t j = 0; j < head_dim; j += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(j, head_dim);
        for (size_t e = j; e < j + svcntw() && e < head_dim; e += 2) {
            double a = (double)pos * pow((double)theta, -(double)e / (double)head_dim);
            float c = (float)cos(a), s = (float)sin(a);
            ca[e - j] = c, ca[e - j + 1] = s;
            cb[e - j] = -s, cb[e - j + 1] = c;
        }
        svfloat32_t va = svld1_f32(pg, ca), vb = svld1_f32(pg, cb);
        for (size_t h = 0; h < n_heads; h++) {
            float *p = x + h * head_dim + j;
            svfloat32_t v = svld1_f32(pg, p);
            svfloat32_t r = svmul_f32_x(pg, svtrn1_f32(v, v), va);
            svst1_f32(pg, p, svmla_f32_x(pg, r, svtrn2_f32(v, v), vb));
        }
    }
}
