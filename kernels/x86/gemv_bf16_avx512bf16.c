/* bf16 GEMV with AVX-512 BF16: vdpbf16ps multiplies 32 bf16 pairs and accumulates in f32 in one
 * instruction. The activations are bf16 too (atype BF16: the caller rounds them once per GEMV,
 * which is what a bf16 inference engine does). Four rows at a time, unmasked loads and a software
 * prefetch in the main loop; masked loads take the tail. The four rows are far apart: the range
 * is cut in quarters and step i takes row i of each, so each quarter is one stream read in
 * address order, as the q8_0 GEMV does (gemv_streams_entry.h); the rows left over go one at a
 * time. Four adjacent rows, the earlier walk, read four 4 KiB stretches side by side at k = 2048.
 * Measured on the 2-vCPU Zen 5 VM (llama-3.2-1b bf16 decode at ctx 128, alternating, 3 pairs):
 * 17.9-22.1 -> 25.5-27.5 tok/s, 61-76% -> 90-94% of the read bound. */
#ifndef __AVX512BF16__
#error "gemv_bf16_avx512bf16.c needs AVX-512 BF16 (-mavx512bf16)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

/* Software prefetch distance per weight row (bytes; 0 turns it off). */
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 1024
#endif

static inline __m512bh ld(const uint16_t *p, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

void ic_gemv_bf16_avx512bf16(const void *w, const void *x, float *y, size_t k, size_t r0,
                             size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1);
    const uint16_t *xb = x;
    const size_t k32 = k & ~(size_t)31;
    const __mmask32 tail = (__mmask32)((1ull << (k - k32)) - 1);
    const size_t q = (r1 - r0) / 4;
    for (size_t i = 0; i < q; i++) {
        const size_t r = r0 + i;
        const uint16_t *w0 = (const uint16_t *)w + r * k, *w1 = w0 + q * k, *w2 = w1 + q * k,
                       *w3 = w2 + q * k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t j = 0;
        for (; j < k32; j += 32) {
#if PREFETCH_BYTES > 0
            _mm_prefetch((const char *)(w0 + j) + PREFETCH_BYTES, _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + j) + PREFETCH_BYTES, _MM_HINT_T0);
            _mm_prefetch((const char *)(w2 + j) + PREFETCH_BYTES, _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + j) + PREFETCH_BYTES, _MM_HINT_T0);
#endif
            const __m512bh xv = (__m512bh)_mm512_loadu_si512(xb + j);
            a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(w0 + j), xv);
            a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(w1 + j), xv);
            a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_loadu_si512(w2 + j), xv);
            a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_loadu_si512(w3 + j), xv);
        }
        if (j < k) {
            const __m512bh xv = ld(xb + j, tail);
            a0 = _mm512_dpbf16_ps(a0, ld(w0 + j, tail), xv);
            a1 = _mm512_dpbf16_ps(a1, ld(w1 + j, tail), xv);
            a2 = _mm512_dpbf16_ps(a2, ld(w2 + j, tail), xv);
            a3 = _mm512_dpbf16_ps(a3, ld(w3 + j, tail), xv);
        }
        ic_x86_store_quarters(y, r, q, ic_x86_hsum512_x4(a0, a1, a2, a3));
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const uint16_t *wr = (const uint16_t *)w + r * k;
        __m512 a = _mm512_setzero_ps();
        for (size_t j = 0; j < k; j += 32) {
            __mmask32 m = j < k32 ? (__mmask32)0xffffffffu : tail;
            a = _mm512_dpbf16_ps(a, ld(wr + j, m), ld(xb + j, m));
        }
        y[r] = _mm512_reduce_add_ps(a);
    }
}
