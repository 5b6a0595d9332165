/* f32 GEMV with AVX2 + FMA: four rows at a time, two accumulators per row; a scalar loop takes
 * the last k % 8 columns. The floor for any x86-64 instance. The four rows are far apart, one per
 * quarter of the range (see gemv_f32_avx512.c): llama-3.2-1b f32 decode at IC_ISA=avx2 on the
 * Zen 5 VM went from 9.0-10.1 to 11.4-13.3 tok/s against four adjacent rows (2 pairs). */
#ifndef __AVX2__
#error "gemv_f32_avx2.c needs AVX2 and FMA (-mavx2 -mfma)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

void ic_gemv_f32_avx2(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const float *xf = x;
    const size_t k16 = k & ~(size_t)15, k8 = k & ~(size_t)7;
    const size_t q = (r1 - r0) / 4;
    for (size_t i = 0; i < q; i++) {
        const size_t r = r0 + i;
        const float *w0 = (const float *)w + r * k, *w1 = w0 + q * k, *w2 = w1 + q * k,
                    *w3 = w2 + q * k;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        size_t j = 0;
        for (; j < k16; j += 16) {
            __m256 x0 = _mm256_loadu_ps(xf + j), x1 = _mm256_loadu_ps(xf + j + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j), x0, a3);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j + 8), x1, b0);
            b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j + 8), x1, b1);
            b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j + 8), x1, b2);
            b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j + 8), x1, b3);
        }
        for (; j < k8; j += 8) {
            __m256 x0 = _mm256_loadu_ps(xf + j);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j), x0, a3);
        }
        __m128 s = ic_x86_hsum256_x4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1),
                                     _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3));
        float t[4];
        _mm_storeu_ps(t, s);
        for (; j < k; j++) {
            t[0] += w0[j] * xf[j];
            t[1] += w1[j] * xf[j];
            t[2] += w2[j] * xf[j];
            t[3] += w3[j] * xf[j];
        }
        ic_x86_store_quarters(y, r, q, _mm_loadu_ps(t));
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const float *wr = (const float *)w + r * k;
        __m256 a = _mm256_setzero_ps();
        size_t j = 0;
        for (; j < k8; j += 8)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(wr + j), _mm256_loadu_ps(xf + j), a);
        float s = ic_x86_hsum256(a);
        for (; j < k; j++) s += wr[j] * xf[j];
        y[r] = s;
    }
}
