/* RMSNorm with AVX-512F. The sum of squares is accumulated in double, as the reference does, so
 * long rows keep full float accuracy; the scaling is one multiply pair per element. */
#ifndef __AVX512F__
#error "rmsnorm_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

/* Whole vectors with plain loads and stores, the tail masked (a masked load that misses the
 * cache stalls far longer on Zen 5; see swiglu_avx512.c). */
static inline void sum_squares(__m512 v, __m512d *s0, __m512d *s1) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                  hi = _mm512_cvtps_pd(ic_x86_hi256(v));
    *s0 = _mm512_fmadd_pd(lo, lo, *s0);
    *s1 = _mm512_fmadd_pd(hi, hi, *s1);
}

static inline __m512 normed(__m512 v, __m512 scale, __m512 w) {
    return _mm512_mul_ps(_mm512_mul_ps(v, scale), w);
}

void ic_rmsnorm_avx512(const float *x, const float *weight, float *y, size_t n, float eps) {
    assert(x != NULL && weight != NULL && y != NULL);
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    const size_t whole = n / 16 * 16;
    for (size_t i = 0; i < whole; i += 16) sum_squares(_mm512_loadu_ps(x + i), &s0, &s1);
    if (whole < n)
        sum_squares(_mm512_maskz_loadu_ps(ic_x86_tail16(n - whole), x + whole), &s0, &s1);
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const __m512 scale = _mm512_set1_ps((float)(1.0 / sqrt(ss / (double)n + eps)));
    for (size_t i = 0; i < whole; i += 16)
        _mm512_storeu_ps(y + i, normed(_mm512_loadu_ps(x + i), scale, _mm512_loadu_ps(weight + i)));
    if (whole < n) {
        const __mmask16 t = ic_x86_tail16(n - whole);
        _mm512_mask_storeu_ps(y + whole, t,
                              normed(_mm512_maskz_loadu_ps(t, x + whole), scale,
                                     _mm512_maskz_loadu_ps(t, weight + whole)));
    }
}
