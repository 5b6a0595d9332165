/* Vector exp and softmax for the AVX-512 elementwise and attention kernels. Internal to
 * kernels/x86/; compiled under the including file's AVX-512 flags. */
#ifndef IC_X86_OPS_AVX512_H
#define IC_X86_OPS_AVX512_H

#include "../ic_dispatch.h"
#include "x86_util.h"

#include <math.h>

/* e^x to about 2 ulp: x = n ln2 + r with |r| <= ln2 / 2, a degree-7 Taylor polynomial for e^r
 * (truncation below 2^-27 relative), and vscalefps for the 2^n, which also gives 0 and inf at the
 * ends. Inputs are clamped to [-104, 89] first so that -inf gives 0 and +inf gives inf. */
static inline __m512 ic_x86_exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 ic_x86_tail16(size_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Softmax in place, as ic_softmax_ref; rows whose maximum is infinite take the reference's
 * special cases. */
static inline float ic_x86_softmax512(float *x, size_t n) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < n; i += 16)
        mv = _mm512_max_ps(
            mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), ic_x86_tail16(n - i), x + i));
    float max = _mm512_reduce_max_ps(mv);
    if (isinf(max)) return ic_softmax_ref(x, n);
    __m512 m = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 t = ic_x86_tail16(n - i);
        __m512 e = ic_x86_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, x + i), m));
        e = _mm512_maskz_mov_ps(t, e);
        _mm512_mask_storeu_ps(x + i, t, e);
        sum = _mm512_add_ps(sum, e);
    }
    const float total = _mm512_reduce_add_ps(sum);
    __m512 inv = _mm512_set1_ps(1.0f / total);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 t = ic_x86_tail16(n - i);
        _mm512_mask_storeu_ps(x + i, t, _mm512_mul_ps(_mm512_maskz_loadu_ps(t, x + i), inv));
    }
    return max + logf(total);
}

#endif
