/* SwiGLU with AVX-512F: y = gate / (1 + e^-gate) * up, with the vector exp of ops_avx512.h. */
#ifndef __AVX512F__
#error "swiglu_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

void ic_swiglu_avx512(const float *gate, const float *up, float *y, size_t n) {
    assert(gate != NULL && up != NULL && y != NULL);
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 t = ic_x86_tail16(n - i);
        __m512 g = _mm512_maskz_loadu_ps(t, gate + i), u = _mm512_maskz_loadu_ps(t, up + i);
        __m512 e = ic_x86_exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
        _mm512_mask_storeu_ps(y + i, t, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u));
    }
}
