/* f32 GEMM (prefill, batched decode) with AVX-512F: a 4-row x 4-token register tile of
 * FMA accumulators (16 multiply-adds each) over a k range sized so that the tokens' k range
 * stays in L2 while every weight row passes over it; partial sums are added into y per range.
 * Cache sizes are read at run time (x86_util.h). */
#ifndef __AVX512F__
#error "gemm_f32_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

#define TR 4
#define TT 4

static inline __attribute__((always_inline)) void tile(const float *w, const float *x, size_t k,
                                                       size_t j0, size_t j1, int R, int T, float *y,
                                                       size_t ldy, int first) {
    __m512 acc[TR][TT];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    for (size_t j = j0; j < j1; j += 16) {
        __mmask16 m = j1 - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (j1 - j)) - 1);
        __m512 xv[TT];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) xv[t] = _mm512_maskz_loadu_ps(m, x + t * k + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512 wv = _mm512_maskz_loadu_ps(m, w + r * k + j);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
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

void ic_gemm_f32_avx512(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                        size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && ldy >= r1);
    const float *wb = w, *xb = x;
    /* the n tokens' k range takes at most half of L2 */
    const size_t kc = ic_x86_k_chunk(n, sizeof(float), 16);
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
