/* f32 GEMV with AVX-512F FMA: four rows at a time, two accumulators per row so that eight FMA
 * chains hide the FMA latency; masked loads take the tail of k. Memory-bound at LLM shapes. The
 * four rows are far apart, one per quarter of the range, so each quarter is one stream read in
 * address order (as gemv_streams_entry.h); the rows left over go one at a time. Measured on the
 * 2-vCPU Zen 5 VM (llama-3.2-1b f32 decode at ctx 128, alternating, 2 pairs) against four
 * adjacent rows: 9.6-9.8 -> 11.5-12.1 tok/s, 71-72% -> 85-89% of the read bound. */
#ifndef __AVX512F__
#error "gemv_f32_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

void ic_gemv_f32_avx512(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const float *xf = x;
    const size_t k32 = k & ~(size_t)31, k16 = k & ~(size_t)15;
    const __mmask16 tail = (__mmask16)((1u << (k - k16)) - 1);
    const size_t q = (r1 - r0) / 4;
    for (size_t i = 0; i < q; i++) {
        const size_t r = r0 + i;
        const float *w0 = (const float *)w + r * k, *w1 = w0 + q * k, *w2 = w1 + q * k,
                    *w3 = w2 + q * k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        size_t j = 0;
        for (; j < k32; j += 32) {
            __m512 x0 = _mm512_loadu_ps(xf + j), x1 = _mm512_loadu_ps(xf + j + 16);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + j), x0, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + j), x0, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + j), x0, a3);
            b0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j + 16), x1, b0);
            b1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + j + 16), x1, b1);
            b2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + j + 16), x1, b2);
            b3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + j + 16), x1, b3);
        }
        for (; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            __m512 x0 = _mm512_maskz_loadu_ps(m, xf + j);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + j), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + j), x0, a1);
            a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + j), x0, a2);
            a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + j), x0, a3);
        }
        __m128 s = ic_x86_hsum512_x4(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1),
                                     _mm512_add_ps(a2, b2), _mm512_add_ps(a3, b3));
        ic_x86_store_quarters(y, r, q, s);
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const float *wr = (const float *)w + r * k;
        __m512 a = _mm512_setzero_ps(), b = a;
        size_t j = 0;
        for (; j < k32; j += 32) {
            a = _mm512_fmadd_ps(_mm512_loadu_ps(wr + j), _mm512_loadu_ps(xf + j), a);
            b = _mm512_fmadd_ps(_mm512_loadu_ps(wr + j + 16), _mm512_loadu_ps(xf + j + 16), b);
        }
        for (; j < k; j += 16) {
            __mmask16 m = j < k16 ? (__mmask16)0xffff : tail;
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + j), _mm512_maskz_loadu_ps(m, xf + j),
                                a);
        }
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    }
}
