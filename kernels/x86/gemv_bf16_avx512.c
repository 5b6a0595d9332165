/* bf16-weight GEMV with f32 activations on AVX-512F: widening bf16 to f32 is a zero-extend and a
 * 16-bit shift, then FMA. Four rows at a time; masked loads take the tail of k. */
#ifndef __AVX512F__
#error "gemv_bf16_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

static inline __m512 load_bf16(const uint16_t *p, __mmask16 m) {
    __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

void ic_gemv_bf16_avx512(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const float *xf = x;
    const size_t k16 = k & ~(size_t)15;
    const __mmask16 tail = (__mmask16)((1u << (k - k16)) - 1);
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint16_t *w0 = (const uint16_t *)w + r * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            __m512 xv = _mm512_maskz_loadu_ps(m, xf + j);
            a0 = _mm512_fmadd_ps(load_bf16(w0 + j, m), xv, a0);
            a1 = _mm512_fmadd_ps(load_bf16(w1 + j, m), xv, a1);
            a2 = _mm512_fmadd_ps(load_bf16(w2 + j, m), xv, a2);
            a3 = _mm512_fmadd_ps(load_bf16(w3 + j, m), xv, a3);
        }
        _mm_storeu_ps(y + r, ic_x86_hsum512_x4(a0, a1, a2, a3));
    }
    for (; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        __m512 a = _mm512_setzero_ps();
        for (size_t j = 0; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            a = _mm512_fmadd_ps(load_bf16(wr + j, m), _mm512_maskz_loadu_ps(m, xf + j), a);
        }
        y[r] = _mm512_reduce_add_ps(a);
    }
}
