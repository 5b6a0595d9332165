/* bf16 GEMM (prefill, batched decode) with AVX-512 BF16: a 4-row x 4-token register tile of
 * vdpbf16ps accumulators (32 multiply-adds each) over a k range sized so that the tokens' k range
 * stays in L2 while every weight row passes over it; partial sums are added into y per range.
 * Activations are bf16 (atype BF16), as in the bf16 GEMV. */
#ifndef __AVX512BF16__
#error "gemm_bf16_avx512bf16.c needs AVX-512 BF16 (-mavx512bf16)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

#define TR 4
#define TT 4

static inline __attribute__((always_inline)) void tile(const uint16_t *w, const uint16_t *x,
                                                       size_t k, size_t j0, size_t j1, int R, int T,
                                                       float *y, size_t ldy, int first) {
    __m512 acc[TR][TT];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    for (size_t j = j0; j < j1; j += 32) {
        __mmask32 m = j1 - j >= 32 ? 0xffffffffu : (__mmask32)((1ull << (j1 - j)) - 1);
        __m512bh xv[TT];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) xv[t] = (__m512bh)_mm512_maskz_loadu_epi16(m, x + t * k + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, w + r * k + j);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv, xv[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) {
        float *yt = y + (size_t)t * ldy;
        if (R == TR) {
            __m128 s = ic_x86_hsum512_x4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]);
            if (!first) s = _mm_add_ps(s, _mm_loadu_ps(yt));
            _mm_storeu_ps(yt, s);
        } else {
            float s = _mm512_reduce_add_ps(acc[0][t]);
            yt[0] = first ? s : yt[0] + s;
        }
    }
}

void ic_gemm_bf16_avx512bf16(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                             size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && ldy >= r1);
    const uint16_t *wb = w, *xb = x;
    /* the n tokens' k range takes at most half of L2 */
    const size_t kc = ic_x86_k_chunk(n, sizeof(uint16_t), 32);
    for (size_t j0 = 0; j0 < k; j0 += kc) {
        const size_t j1 = k - j0 < kc ? k : j0 + kc;
        size_t r = r0;
        for (; r + TR <= r1; r += TR) {
            size_t t = 0;
            for (; t + TT <= n; t += TT)
                tile(wb + r * k, xb + t * k, k, j0, j1, TR, TT, y + t * ldy + r, ldy, j0 == 0);
            for (; t < n; t++)
                tile(wb + r * k, xb + t * k, k, j0, j1, TR, 1, y + t * ldy + r, ldy, j0 == 0);
        }
        for (; r < r1; r++) {
            size_t t = 0;
            for (; t + TT <= n; t += TT)
                tile(wb + r * k, xb + t * k, k, j0, j1, 1, TT, y + t * ldy + r, ldy, j0 == 0);
            for (; t < n; t++)
                tile(wb + r * k, xb + t * k, k, j0, j1, 1, 1, y + t * ldy + r, ldy, j0 == 0);
        }
    }
}
