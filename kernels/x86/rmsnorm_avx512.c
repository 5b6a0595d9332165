/* RMSNorm with AVX-512F. The sum of squares is accumulated in double, as the reference does, so
 * long rows keep full float accuracy; the scaling is one multiply pair per element. */
#ifndef __AVX512F__
#error "rmsnorm_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

void ic_rmsnorm_avx512(const float *x, const float *weight, float *y, size_t n, float eps) {
    assert(x != NULL && weight != NULL && y != NULL);
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (size_t i = 0; i < n; i += 16) {
        __m512 v = _mm512_maskz_loadu_ps(ic_x86_tail16(n - i), x + i);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                hi = _mm512_cvtps_pd(ic_x86_hi256(v));
        s0 = _mm512_fmadd_pd(lo, lo, s0);
        s1 = _mm512_fmadd_pd(hi, hi, s1);
    }
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const __m512 scale = _mm512_set1_ps((float)(1.0 / sqrt(ss / (double)n + eps)));
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 t = ic_x86_tail16(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(t, x + i), scale);
        _mm512_mask_storeu_ps(y + i, t, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(t, weight + i)));
    }
}
