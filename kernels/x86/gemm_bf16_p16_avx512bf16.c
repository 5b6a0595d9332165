/* bf16 GEMV and GEMM over 16-row panels (IC_LAYOUT_PANEL16, ic_layout.h) with AVX-512 BF16. One
 * 64-byte weight vector holds a column pair of each of a panel's 16 rows; the token's pair is
 * broadcast against it, so one vdpbf16ps adds 2 products to each row's sum, and lane r is row r:
 * no repack at run time, no horizontal sums, a token's 16 results one store into y. Activations
 * are bf16 (atype BF16), as in the bf16 GEMV.
 *
 * Blocking as the q8_0/q4_0 panel kernels (p16_q_avx512vnni_body.h): for many tokens, k in
 * chunks sized from hwloc's L2 (a panel pair's chunk stays in L2 while the chunk's tokens pass
 * over it); for up to SMALL_N tokens one pass over k. */
#ifndef __AVX512BF16__
#error "gemm_bf16_p16_avx512bf16.c needs AVX-512 BF16 (-mavx512bf16)"
#endif
#include "../ic_cpu.h"
#include "../ic_dispatch.h"
#include "../ic_layout.h"
#include "x86_util.h"

#include <assert.h>

#define SMALL_N 8
#define TILE_T  6

/* The chunks for many tokens: a panel pair's chunk of weights takes half of the L2 that hwloc
 * reports (1 MiB: 4096 column pairs), in chunks of equal length, so that y, which each chunk
 * adds into once more, is passed over as few times as L2 allows (chunks sized for L1, 192 pairs,
 * made 37 passes at 14336 columns); the token chunk is at most TC_MAX, a multiple of the tile. */
#define TC_MAX 510
static void chunks(size_t pairs, size_t *kc, size_t *tc) {
    size_t k = ic_cpu_l2_bytes() / 2 / (2 * 64);
    k = k < 16 ? 16 : k;
    const size_t parts = (pairs + k - 1) / k;
    *kc = (pairs + parts - 1) / parts;
    *tc = TC_MAX;
}

/* Token row x's column pair c; an odd k's last pair is (x[k - 1], 0), never read past the row. */
static inline __m512bh pair(const uint16_t *x, size_t k, size_t c) {
    uint32_t v;
    if (2 * c + 1 < k)
        memcpy(&v, x + 2 * c, 4);
    else
        v = x[2 * c];
    return (__m512bh)_mm512_set1_epi32((int)v);
}

static inline __m512bh pair_full(const uint16_t *x, size_t c) {
    uint32_t v;
    memcpy(&v, x + 2 * c, 4);
    return (__m512bh)_mm512_set1_epi32((int)v);
}

static inline __attribute__((always_inline)) void tile(const unsigned char *wq, size_t stride,
                                                       const uint16_t *x, size_t k, size_t c0,
                                                       size_t c1, int NP, int T,
                                                       __m512 f[2][TILE_T]) {
    for (size_t c = c0; c < c1; c++) {
        const int whole = 2 * c + 1 < k; /* false only for an odd k's last pair */
        __m512bh w[2];
#pragma GCC unroll 2
        for (int p = 0; p < NP; p++) w[p] = (__m512bh)_mm512_loadu_si512(wq + p * stride + c * 64);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            const __m512bh xv =
                whole ? pair_full(x + (size_t)t * k, c) : pair(x + (size_t)t * k, k, c);
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) f[p][t] = _mm512_dpbf16_ps(f[p][t], w[p], xv);
        }
    }
}

#define TILE_CASE(NP_, T_)                                                                         \
    case (NP_)*8 + (T_):                                                                           \
        tile(wq, stride, x, k, c0, c1, NP_, T_, f);                                                \
        break;

static void run_tile(const unsigned char *wq, size_t stride, const uint16_t *x, size_t k, size_t c0,
                     size_t c1, int np, int T, __m512 f[2][TILE_T]) {
    switch (np * 8 + T) {
        TILE_CASE(1, 1)
        TILE_CASE(1, 2)
        TILE_CASE(1, 3)
        TILE_CASE(1, 4)
        TILE_CASE(1, 5)
        TILE_CASE(1, 6)
        TILE_CASE(2, 1)
        TILE_CASE(2, 2)
        TILE_CASE(2, 3)
        TILE_CASE(2, 4)
        TILE_CASE(2, 5)
        TILE_CASE(2, 6)
    default:
        assert(0);
    }
}

static void store_tile(float *y, size_t ldy, size_t p0, int NP, int T, size_t lo, size_t hi,
                       int first, __m512 f[2][TILE_T]) {
    for (int p = 0; p < NP; p++) {
        const size_t base = (p0 + (size_t)p) * IC_PANEL_ROWS;
        const size_t a = lo > base ? lo - base : 0, e = hi - base < 16 ? hi - base : 16;
        if (a >= e) continue;
        const __mmask16 m = (__mmask16)(((1u << e) - 1) & ~((1u << a) - 1));
        for (int t = 0; t < T; t++) {
            float *yt = y + (size_t)t * ldy + base;
            __m512 v = f[p][t];
            if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, yt));
            _mm512_mask_storeu_ps(yt, m, v);
        }
    }
}

static void p16_matmul(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k >= 1);
    const size_t pairs = (k + 1) / 2, stride = ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_BF16, k);
    const size_t p0 = r0 / IC_PANEL_ROWS, p1 = (r1 + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    size_t kc = pairs, tc = SMALL_N;
    if (n > SMALL_N) chunks(pairs, &kc, &tc);
    const uint16_t *xb = x;
    const unsigned char *wb = w;
    for (size_t c0 = 0; c0 < pairs; c0 += kc) {
        const size_t c1 = pairs - c0 < kc ? pairs : c0 + kc;
        for (size_t t0 = 0; t0 < n; t0 += tc) {
            const size_t tn = n - t0 < tc ? n - t0 : tc;
            for (size_t p = p0; p < p1; p += 2) {
                const int np = p1 - p < 2 ? 1 : 2;
                for (size_t t = 0; t < tn; t += TILE_T) {
                    const int T = tn - t < TILE_T ? (int)(tn - t) : TILE_T;
                    __m512 f[2][TILE_T];
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < TILE_T; j++) f[i][j] = _mm512_setzero_ps();
                    run_tile(wb + p * stride, stride, xb + (t0 + t) * k, k, c0, c1, np, T, f);
                    store_tile(y + (t0 + t) * ldy, ldy, p, np, T, r0, r1, c0 == 0, f);
                }
            }
        }
    }
}

void ic_gemv_bf16_p16_avx512bf16(const void *w, const void *x, float *y, size_t k, size_t r0,
                                 size_t r1) {
    p16_matmul(w, x, y, k, 1, r1, r0, r1);
}

void ic_gemm_bf16_p16_avx512bf16(const void *w, const void *x, float *y, size_t k, size_t n,
                                 size_t ldy, size_t r0, size_t r1) {
    assert(ldy >= r1);
    p16_matmul(w, x, y, k, n, ldy, r0, r1);
}
