/* bf16-weight GEMV with f32 activations on AVX-512F: widening bf16 to f32 is a zero-extend and a
 * 16-bit shift, then FMA. Four rows at a time; masked loads take the tail of k. The four rows are
 * far apart, one per quarter of the range (see gemv_f32_avx512.c); at IC_ISA=avx512 on the Zen 5
 * VM llama-3.2-1b bf16 decode tied with four adjacent rows (9.6 and 12.1-12.7 tok/s, 2 pairs):
 * the widening, not the reads, bounds it there. */
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
    const size_t q = (r1 - r0) / 4;
    for (size_t i = 0; i < q; i++) {
        const size_t r = r0 + i;
        const uint16_t *w0 = (const uint16_t *)w + r * k, *w1 = w0 + q * k, *w2 = w1 + q * k,
                       *w3 = w2 + q * k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            __m512 xv = _mm512_maskz_loadu_ps(m, xf + j);
            a0 = _mm512_fmadd_ps(load_bf16(w0 + j, m), xv, a0);
            a1 = _mm512_fmadd_ps(load_bf16(w1 + j, m), xv, a1);
            a2 = _mm512_fmadd_ps(load_bf16(w2 + j, m), xv, a2);
            a3 = _mm512_fmadd_ps(load_bf16(w3 + j, m), xv, a3);
        }
        ic_x86_store_quarters(y, r, q, ic_x86_hsum512_x4(a0, a1, a2, a3));
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        __m512 a = _mm512_setzero_ps();
        for (size_t j = 0; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            a = _mm512_fmadd_ps(load_bf16(wr + j, m), _mm512_maskz_loadu_ps(m, xf + j), a);
        }
        y[r] = _mm512_reduce_add_ps(a);
    }
}
