/* RoPE with AVX-512F. The cos/sin of each pair's angle are computed once per call in double
 * precision, as the reference does (at position 131071 the angle is 1.3e5 rad, so a float sine
 * would miss the tests' tolerance), into an interleaved table that every head reuses; the
 * frequencies come from one pow and a running product instead of a pow per pair. Each 16 floats
 * of a head are then rotated with one pair swap, one multiply and one FMA. */
#ifndef __AVX512F__
#error "rope_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

/* Pairs per cos/sin table: 2 x 512 floats of stack; longer heads take several passes. */
#define ROPE_PAIRS 256

void ic_rope_avx512(float *x, size_t n_heads, size_t head_dim, size_t pos, float theta) {
    assert(x != NULL && head_dim % 2 == 0);
    float c[2 * ROPE_PAIRS] __attribute__((aligned(64)));
    float s[2 * ROPE_PAIRS] __attribute__((aligned(64))); /* -sin, +sin per pair */
    const size_t half = head_dim / 2;
    /* freq_i = theta^(-2i/d) as a running product: the relative error after i steps is about
     * i * 2^-53, far below the float rounding of the result. */
    const double step = pow((double)theta, -2.0 / (double)head_dim);
    double freq = 1.0;
    for (size_t p0 = 0; p0 < half; p0 += ROPE_PAIRS) {
        const size_t np = half - p0 < ROPE_PAIRS ? half - p0 : ROPE_PAIRS;
        for (size_t i = 0; i < np; i++) {
            const double angle = (double)pos * freq;
            const float ci = (float)cos(angle), si = (float)sin(angle);
            c[2 * i] = c[2 * i + 1] = ci;
            s[2 * i] = -si;
            s[2 * i + 1] = si;
            freq *= step;
        }
        for (size_t h = 0; h < n_heads; h++) {
            float *v = x + h * head_dim + 2 * p0;
            for (size_t j = 0; j < 2 * np; j += 16) {
                const __mmask16 t = ic_x86_tail16(2 * np - j);
                const __m512 a = _mm512_maskz_loadu_ps(t, v + j);
                const __m512 sw = _mm512_permute_ps(a, 0xb1); /* (b, a) per pair */
                const __m512 r = _mm512_fmadd_ps(a, _mm512_maskz_load_ps(t, c + j),
                                                 _mm512_mul_ps(sw, _mm512_maskz_load_ps(t, s + j)));
                _mm512_mask_storeu_ps(v + j, t, r);
            }
        }
    }
}
