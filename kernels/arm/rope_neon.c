/* RoPE, base Advanced SIMD. The angles are computed as the reference does (double pow, cos, sin),
 * two pairs at a time; the rotation of those two pairs in every head is then one vector step:
 * [a0 b0 a1 b1] -> a * [c0 s0 c1 s1] + b * [-s0 c0 -s1 c1], with a and b spread by TRN1/TRN2. */
#ifndef __ARM_NEON
#error "rope_neon.c needs NEON (-march=armv8-a)"
#endif
#include "neon_common.h"

#include <assert.h>
#include <math.h>

static void angle(size_t i, size_t head_dim, size_t pos, float theta, float *c, float *s) {
    double a = (double)pos * pow((double)theta, -2.0 * (double)i / (double)head_dim);
    *c = (float)cos(a), *s = (float)sin(a);
}

void ic_rope_neon(float *x, size_t n_heads, size_t head_dim, size_t pos, float theta) {
    assert(head_dim % 2 == 0);
    size_t i = 0;
    for (; i + 2 <= head_dim / 2; i += 2) {
        float c0, s0, c1, s1;
        angle(i, head_dim, pos, theta, &c0, &s0);
        angle(i + 1, head_dim, pos, theta, &c1, &s1);
        const float ca[4] = {c0, s0, c1, s1}, cb[4] = {-s0, c0, -s1, c1};
        float32x4_t va = vld1q_f32(ca), vb = vld1q_f32(cb);
        for (size_t h = 0; h < n_heads; h++) {
            float *p = x + h * head_dim + 2 * i;
            float32x4_t v = vld1q_f32(p);
            float32x4_t a = vtrn1q_f32(v, v), b = vtrn2q_f32(v, v);
            vst1q_f32(p, vfmaq_f32(vmulq_f32(a, va), b, vb));
        }
    }
    for (; i < head_dim / 2; i++) {
        float c, s;
        angle(i, head_dim, pos, theta, &c, &s);
        for (size_t h = 0; h < n_heads; h++) {
            float *p = x + h * head_dim + 2 * i;
            float a = p[0], b = p[1];
            p[0] = a * c - b * s;
            p[1] = a * s + b * c;
        }
    }
}
