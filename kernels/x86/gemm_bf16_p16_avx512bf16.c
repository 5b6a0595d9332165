/* bf16 GEMV and GEMM over 16-row panels (IC_LAYOUT_PANEL16, ic_layout.h) with AVX-512 BF16. One
 * 64-byte weight vector holds a column pair of each of a panel's 16 rows; the token's pair is
 * broadcast against it, so one vdpbf16ps adds 2 products to each row's sum, and lane r is row r:
 * no repack at run time, no horizontal sums, a token's 16 results one store into y. Activations
 * are bf16 (atype BF16), as in the bf16 GEMV.
 *
 * Blocking as the q8_0/q4_0 panel kernels (p16_q_avx512vnni_body.h): for many tokens, k in
 * chunks sized from hwloc's L2 (a tile's panels' chunk stays in L2 while the chunk's tokens pass
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
#define TILE_P  4 /* panels per register tile: 24 sums, 4 weight vectors, 1 broadcast */

/* The chunks for many tokens: a tile's TILE_P panels' chunk of weights takes half of the L2 that
 * hwloc reports (1 MiB: 2048 column pairs), in chunks of equal length, so that y, which each chunk
 * adds into once more, is passed over as few times as L2 allows (chunks sized for L1, 192 pairs,
 * made 37 passes at 14336 columns); the token chunk is at most TC_MAX, a multiple of the tile. */
#define TC_MAX 510
static void chunks(size_t pairs, size_t *kc, size_t *tc) {
    size_t k = ic_cpu_l2_bytes() / 2 / (TILE_P * 64);
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

/* NP panels x T tokens over column pairs [c0, c1), into fo. The sums live in a local array,
 * copied to fo once at the end, so they stay in registers even where run_tile is not inlined
 * (__m512 may alias any float: sums kept behind the pointer would be stored every pair; see
 * p16_q_avx512vnni_body.h). The tile is 4 panels x 6 tokens: 10 loads (4 weight vectors, 6
 * broadcasts) feed 24 vdpbf16ps, where 2 x 6 had 8 feed 12. Measured on the 2-vCPU Zen 5 VM
 * against the 2 x 6 tile, alternating in one process: one thread, weights in L2, 64 x 2048
 * n = 96 1.158x (3 x 8: 1.144x), the same results bit for bit; two threads, cold weights,
 * medians of 10-30: 4096 x 14336 n = 512 530 -> 705 GFLOP/s (1.323x; 3 x 8 1.271x), 2048 x 8192
 * n = 512 1.285x, n = 64 1.030x, 16384 x 2048 n = 4 1.095x, n = 1 1.007x. */
static inline __attribute__((always_inline)) void tile(const unsigned char *wq, size_t stride,
                                                       const uint16_t *x, size_t k, size_t c0,
                                                       size_t c1, int NP, int T,
                                                       __m512 fo[TILE_P][TILE_T]) {
    __m512 f[TILE_P][TILE_T];
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) f[p][t] = _mm512_setzero_ps();
    for (size_t c = c0; c < c1; c++) {
        const int whole = 2 * c + 1 < k; /* false only for an odd k's last pair */
        __m512bh w[TILE_P];
#pragma GCC unroll 4
        for (int p = 0; p < NP; p++) w[p] = (__m512bh)_mm512_loadu_si512(wq + p * stride + c * 64);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            const __m512bh xv =
                whole ? pair_full(x + (size_t)t * k, c) : pair(x + (size_t)t * k, k, c);
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) f[p][t] = _mm512_dpbf16_ps(f[p][t], w[p], xv);
        }
    }
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) fo[p][t] = f[p][t];
}

#define TILE_CASE(NP_, T_)                                                                         \
    case (NP_)*8 + (T_):                                                                           \
        tile(wq, stride, x, k, c0, c1, NP_, T_, f);                                                \
        break;

static void run_tile(const unsigned char *wq, size_t stride, const uint16_t *x, size_t k, size_t c0,
                     size_t c1, int np, int T, __m512 f[TILE_P][TILE_T]) {
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
        TILE_CASE(3, 1)
        TILE_CASE(3, 2)
        TILE_CASE(3, 3)
        TILE_CASE(3, 4)
        TILE_CASE(3, 5)
        TILE_CASE(3, 6)
        TILE_CASE(4, 1)
        TILE_CASE(4, 2)
        TILE_CASE(4, 3)
        TILE_CASE(4, 4)
        TILE_CASE(4, 5)
        TILE_CASE(4, 6)
    default:
        assert(0);
    }
}

static void store_tile(float *y, size_t ldy, size_t p0, int NP, int T, size_t lo, size_t hi,
                       int first, __m512 f[TILE_P][TILE_T]) {
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
            for (size_t p = p0; p < p1; p += TILE_P) {
                const int np = p1 - p < TILE_P ? (int)(p1 - p) : TILE_P;
                for (size_t t = 0; t < tn; t += TILE_T) {
                    const int T = tn - t < TILE_T ? (int)(tn - t) : TILE_T;
                    __m512 f[TILE_P][TILE_T];
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
