/* bf16 GEMV with AVX-512 BF16: vdpbf16ps multiplies 32 bf16 pairs and accumulates in f32 in one
 * instruction. The activations are bf16 too (atype BF16: the caller rounds them once per GEMV,
 * which is what a bf16 inference engine does). Four rows at a time; masked loads take the tail. */
#ifndef __AVX512BF16__
#error "gemv_bf16_avx512bf16.c needs AVX-512 BF16 (-mavx512bf16)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

static inline __m512bh ld(const uint16_t *p, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

void ic_gemv_bf16_avx512bf16(const void *w, const void *x, float *y, size_t k, size_t r0,
                             size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const uint16_t *xb = x;
    const size_t k32 = k & ~(size_t)31;
    const __mmask32 tail = (__mmask32)((1ull << (k - k32)) - 1);
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint16_t *w0 = (const uint16_t *)w + r * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < k; j += 32) {
            __mmask32 m = j < k32 ? (__mmask32)0xffffffffu : tail;
            __m512bh xv = ld(xb + j, m);
            a0 = _mm512_dpbf16_ps(a0, ld(w0 + j, m), xv);
            a1 = _mm512_dpbf16_ps(a1, ld(w1 + j, m), xv);
            a2 = _mm512_dpbf16_ps(a2, ld(w2 + j, m), xv);
            a3 = _mm512_dpbf16_ps(a3, ld(w3 + j, m), xv);
        }
        _mm_storeu_ps(y + r, ic_x86_hsum512_x4(a0, a1, a2, a3));
    }
    for (; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        __m512 a = _mm512_setzero_ps();
        for (size_t j = 0; j < k; j += 32) {
            __mmask32 m = j < k32 ? (__mmask32)0xffffffffu : tail;
            a = _mm512_dpbf16_ps(a, ld(wr + j, m), ld(xb + j, m));
        }
        y[r] = _mm512_reduce_add_ps(a);
    }
}
