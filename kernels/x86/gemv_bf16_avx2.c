/* bf16-weight GEMV with f32 activations on AVX2 + FMA: bf16 widens to f32 by a zero-extend and a
 * 16-bit shift. Four rows at a time; a scalar loop takes the last k % 8 columns. The four rows
 * are far apart, one per quarter of the range (see gemv_f32_avx512.c): llama-3.2-1b bf16 decode
 * at IC_ISA=avx2 on the Zen 5 VM went from 10.2-12.5 to 11.9-19.8 tok/s against four adjacent
 * rows (2 pairs in a noisy spell). */
#ifndef __AVX2__
#error "gemv_bf16_avx2.c needs AVX2 and FMA (-mavx2 -mfma)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

static inline __m256 load_bf16(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

void ic_gemv_bf16_avx2(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const float *xf = x;
    const size_t k8 = k & ~(size_t)7;
    const size_t q = (r1 - r0) / 4;
    for (size_t i = 0; i < q; i++) {
        const size_t r = r0 + i;
        const uint16_t *w0 = (const uint16_t *)w + r * k, *w1 = w0 + q * k, *w2 = w1 + q * k,
                       *w3 = w2 + q * k;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t j = 0;
        for (; j < k8; j += 8) {
            __m256 xv = _mm256_loadu_ps(xf + j);
            a0 = _mm256_fmadd_ps(load_bf16(w0 + j), xv, a0);
            a1 = _mm256_fmadd_ps(load_bf16(w1 + j), xv, a1);
            a2 = _mm256_fmadd_ps(load_bf16(w2 + j), xv, a2);
            a3 = _mm256_fmadd_ps(load_bf16(w3 + j), xv, a3);
        }
        float t[4];
        _mm_storeu_ps(t, ic_x86_hsum256_x4(a0, a1, a2, a3));
        for (; j < k; j++) {
            t[0] += ic_bf16_to_f32(w0[j]) * xf[j];
            t[1] += ic_bf16_to_f32(w1[j]) * xf[j];
            t[2] += ic_bf16_to_f32(w2[j]) * xf[j];
            t[3] += ic_bf16_to_f32(w3[j]) * xf[j];
        }
        ic_x86_store_quarters(y, r, q, _mm_loadu_ps(t));
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        __m256 a = _mm256_setzero_ps();
        size_t j = 0;
        for (; j < k8; j += 8) a = _mm256_fmadd_ps(load_bf16(wr + j), _mm256_loadu_ps(xf + j), a);
        float s = ic_x86_hsum256(a);
        for (; j < k; j++) s += ic_bf16_to_f32(wr[j]) * xf[j];
        y[r] = s;
    }
}
