/* The body of the q8_0 and q4_0 GEMV and GEMM kernels over 16-row panels (IC_LAYOUT_PANEL16,
 * ic_layout.h) with AVX-512 VNNI. Included by gemm_q8_0_p16_avx512vnni.c (IC_P16_Q4 = 0) and
 * gemm_q4_0_p16_avx512vnni.c (1); not a public header.
 *
 * One 64-byte weight vector holds 4 consecutive quants of each of a panel's 16 rows, and one
 * activation word (4 quants of one token) is broadcast against it: a vpdpbusd adds 4 products to
 * each row's sum, with no repack at run time and no horizontal sums (lane r is row r, so a
 * token's 16 results are one store into y). A block's 8 vpdpbusd per (panel, token) are followed
 * by one convert and two FMAs (the token's scale and correction, then the rows' scales).
 *
 * vpdpbusd multiplies unsigned (the vector) by signed (the broadcast) bytes. q8_0 weights are
 * stored as q + 128, and each (token, block) adds the correction -128 * dx * sum(x) on the float
 * side; q4_0 nibbles are unsigned already, and the correction is -8 * dx * sum(x). The
 * activations come as q8_0s (ic_types.h), whose blocks carry q8_0's correction, computed once
 * when the activation row is quantized, not once per call (a piece of a decode GEMV is a call);
 * q4_0 takes a sixteenth of it (CSCALE), exactly.
 *
 * Blocking: for many tokens, a tile's panels hold a chunk of k in L2 (chunks(), from the L2 that
 * hwloc reports; the whole row when it fits, as for 14336 columns in 1 MiB) while every token of
 * a token chunk passes over it; the tokens' activations stream from the last-level cache. Each
 * chunk of k adds into y once more, a pass that misses the caches, so k chunks are made as long
 * as L2 allows rather than as L1 would: chunks sized for L1 (22 blocks) spent a third of the
 * GEMM's time reloading y (perf on the Zen 5 VM, 4096 x 14336, n = 512: 333 GOP/s a core; one
 * chunk per row, 475). For up to SMALL_N tokens (decode, batched decode) the whole row is one
 * chunk, so each weight byte is read once per call in address order, and a software prefetch
 * runs ahead of each panel's stream (prefetch_targets). For more tokens the token tiles of one
 * panel group each fetch a share of the next group's chunk into L2 (prefetch_next_group). */
#include "../ic_cpu.h"
#include "../ic_dispatch.h"
#include "../ic_layout.h"
#include "x86_util.h"

#include <assert.h>

#if IC_P16_Q4
#define QBYTES    256                 /* quant bytes of one block of a panel */
#define QGROUPS   4                   /* weight vectors per block */
#define CSCALE(c) ((c) * (1.0f / 16)) /* the q8_0s correction (-128 * ...) as -8 * ... */
#else
#define QBYTES    512
#define QGROUPS   8
#define CSCALE(c) (c)
#endif

#define SMALL_N 8   /* up to this many tokens: one pass over k */
#define TC_MAX  512 /* most tokens per chunk for more tokens */
#define TILE_T  4   /* most tokens per register tile */
#define TILE_P  4   /* most panels per register tile */

/* How far ahead the one-pass path prefetches: 6 KiB per tile, split among its panels (1.5 KiB a
 * panel in the 4-panel tile of 1-2 tokens, 3 KiB in the 2-panel tile of 3-8), one prefetch next
 * to each weight load (prefetch_targets). Measured on the 2-vCPU Zen 5 VM with the variants
 * alternating in one process (2 threads, medians of 25-30 passes over 0.3-1.3 GB of panels):
 * - one token, q8_0 at 16384 x 2048, 2048 x 8192 and 128256 x 2048: 1.5 KiB a panel placed
 *   56.1, 58.3 and 57.2 GB/s; 2 KiB in a burst at each block's start (before) 50.6, 53.3 and
 *   51.7; 1 KiB placed 54.0-57.5, 2 KiB placed 53.9-56.1; none 42.9-47.0. q4_0 at 16384 x 2048
 *   and 128256 x 2048: 1.5 KiB placed 59.0 and 54.2, the burst 57.3 and 53.0, 768 B 54.8, 51.1;
 * - four tokens, q8_0 at 128256 x 2048 (GOP/s): 3 KiB a panel placed 413, 1.5 KiB placed 328,
 *   2 KiB 364; in a burst 2, 1.5 and 3 KiB 366, 347 and 369. Eight tokens: 3 KiB placed 535,
 *   the bursts 513-534;
 * - the rule against the burst of 2 KiB a panel, q8_0 128256 x 2048 at n = 1, 2, 4, 8: 1.15x,
 *   1.14x, 1.06x, 1.07x; q4_0 128256 x 4096: 1.0x, 1.05x, 1.06x, 1.06x.
 * As the row-layout GEMV found (gemv_q8_0_avx512vnni.c), Zen 5 wants its prefetches spread among
 * the loads. On the SPR-class KVM VM of earlier stops the burst of 2 KiB a panel gained 3-5% over
 * none in llama-3.2-1b q8_0 decode (1, 2, 3 and 4 KiB alike, 8 KiB nothing); this rule has not
 * been measured there. */
#define PF_TILE_BYTES 6144
#define PF_BLOCKS(NP) (PF_TILE_BYTES / ((NP)*QBYTES))

/* The chunks for many tokens: a tile's panels' chunk of weights takes half of the L2 that hwloc
 * reports (ic_cpu_l2_bytes; 1 MiB: 481 blocks of 2 q8_0 panels, the whole of a 14336-column row),
 * in chunks of equal length; the token chunk is at most TC_MAX. */
static void chunks(int np, size_t nb, size_t *kc, size_t *tc) {
    size_t k = ic_cpu_l2_bytes() / 2 / ((size_t)np * (QBYTES + 2 * IC_PANEL_ROWS));
    k = k < 4 ? 4 : k;
    const size_t parts = (nb + k - 1) / k;
    *kc = (nb + parts - 1) / parts;
    *tc = TC_MAX;
}

/* What block b of a tile's NP panels (one pass, kb blocks) prefetches: block b + PF_BLOCKS of
 * each panel, its quants at pq[p] (one prefetch per line, next to the weight load of the same
 * line offset) and its scales' line at pd[p] (one per two blocks). Past the row's end it runs on
 * into the next group's next_np panels (0 when the call has no next group), so that group does
 * not start cold; measured on the SPR-class VM, with the run-on 4-5% over none, without it about
 * half of that. A panel with nothing to fetch points at its own block b, lines its loads are
 * reading anyway, so the loop has no branch. */
static inline __attribute__((always_inline)) void
prefetch_targets(const unsigned char *wq, const uint16_t *wd, size_t stride, size_t b, size_t kb,
                 int NP, int next_np, const unsigned char *pq[TILE_P], const uint16_t *pd[TILE_P]) {
    size_t bp = b + PF_BLOCKS(NP);
    const unsigned char *q = wq;
    const uint16_t *d = wd;
    int n = NP;
    if (bp >= kb) {
        bp -= kb;
        q += (size_t)NP * stride;
        d += (size_t)NP * stride / 2;
        n = bp < kb ? next_np : 0; /* rows shorter than the distance: no run-on */
    }
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++) {
        const int far = p < n;
        pq[p] = far ? q + p * stride + bp * QBYTES : wq + p * stride + b * QBYTES;
        pd[p] = far && bp % 2 == 0 ? d + p * stride / 2 + bp * IC_PANEL_ROWS
                                   : wd + p * stride / 2 + b * IC_PANEL_ROWS;
    }
}

/* For more than SMALL_N tokens a panel group's chunk is read from memory by its first token tile
 * and from L2 by the others, so that first tile would wait on memory at every group. Instead each
 * of a group's `parts` token tiles, before it runs, prefetches into L2 its part (part of parts)
 * of the next group's chunk: np panels (stride bytes apart) of kb blocks, quants from nq and
 * scales from nd. Measured on the 2-vCPU Zen 5 VM, two forwards of llama-3.2-1b in one process on
 * one pool, one with the kernel as it was, prompts alternating in ABBA order, medians of 40:
 * prefill of 64 tokens took 1/1.043 and 1/1.049 of the time in q8_0, 1/1.051 in q4_0. The GEMM
 * at 4096 x 14336, n = 512, where each chunk serves 103 tiles, is unchanged (time ratio 1.000 in
 * q8_0 and q4_0, medians of 30 cold calls). */
static inline __attribute__((always_inline)) void
prefetch_next_group(const unsigned char *nq, const uint16_t *nd, size_t stride, size_t kb, int np,
                    size_t part, size_t parts) {
    const size_t qlines = kb * QBYTES / 64, dlines = (kb * IC_PANEL_ROWS * 2 + 63) / 64;
    for (int p = 0; p < np; p++) {
        const char *q = (const char *)(nq + (size_t)p * stride);
        const char *d = (const char *)(nd + (size_t)p * stride / 2);
        for (size_t l = qlines * part / parts; l < qlines * (part + 1) / parts; l++)
            _mm_prefetch(q + l * 64, _MM_HINT_T1);
        for (size_t l = dlines * part / parts; l < dlines * (part + 1) / parts; l++)
            _mm_prefetch(d + l * 64, _MM_HINT_T1);
    }
}

static inline __m512i bcast(const ic_block_q8_0s *b, int at) {
    int32_t v;
    memcpy(&v, b->qs + at, 4);
    return _mm512_set1_epi32(v);
}

/* NP panels (stride bytes apart; their chunk's quants at wq, scales at wd) x T tokens (x: token
 * 0's first block of the chunk, tokens nb blocks apart) over kb blocks, into fo[p][t]. A
 * block's sum is dw * (dx * acc + cx), cx the activation block's correction (q8_0s, CSCALE).
 * PF: prefetch (prefetch_targets), with next_np panels in the next group (only in the one-pass
 * path: for many tokens the chunk is in L2).
 *
 * The sums live in a local array, copied to fo once at the end: __m512 may alias any float, so
 * sums kept in the caller's array were stored back every block (the next block's activation
 * scales might be them), 10 stores a block in the 2 x 5 tile of the time; the epilogue also took
 * each token's scale and correction once per panel. One thread, weights in L2, kernel as it was
 * against this (same results, bit for bit): 1.10x q8_0 at 32 x 4096 n = 512, 1.09x at 64 x 2048
 * n = 40, 1.13x q4_0 at 48 x 4096 n = 512. Two threads, cold weights, 4096 x 14336 n = 512:
 * q8_0 1076 -> 1179 GOP/s, q4_0 1110 -> 1228 (time ratios 0.905, 0.906, medians of 20 ABBA);
 * n = 64 0.945 (q8_0, 16384 x 2048) and 0.912 (q4_0, 2048 x 8192); 1 to 8 tokens, bound by
 * memory, 0.98-1.02. */
static inline __attribute__((always_inline)) void tile(const unsigned char *wq, const uint16_t *wd,
                                                       size_t stride, const ic_block_q8_0s *x,
                                                       size_t nb, size_t kb, int NP, int T, int PF,
                                                       int next_np, __m512 fo[TILE_P][TILE_T]) {
    __m512 f[TILE_P][TILE_T];
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) f[p][t] = _mm512_setzero_ps();
    for (size_t b = 0; b < kb; b++) {
        const unsigned char *pq[TILE_P];
        const uint16_t *pd[TILE_P];
        if (PF) prefetch_targets(wq, wd, stride, b, kb, NP, next_np, pq, pd);
        __m512i acc[TILE_P][TILE_T];
#pragma GCC unroll 4
        for (int p = 0; p < NP; p++)
#pragma GCC unroll 8
            for (int t = 0; t < T; t++) acc[p][t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < QGROUPS; j++) {
            __m512i w[TILE_P];
#if IC_P16_Q4
            __m512i hi[TILE_P];
#endif
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) {
                if (PF) ic_x86_prefetch(pq[p] + j * 64);
                if (PF && j == QGROUPS - 1) ic_x86_prefetch(pd[p]);
                w[p] = _mm512_loadu_si512(wq + p * stride + b * QBYTES + j * 64);
#if IC_P16_Q4
                hi[p] = _mm512_and_si512(_mm512_srli_epi16(w[p], 4), _mm512_set1_epi8(0x0f));
                w[p] = _mm512_and_si512(w[p], _mm512_set1_epi8(0x0f));
#endif
            }
#pragma GCC unroll 8
            for (int t = 0; t < T; t++) {
                const ic_block_q8_0s *xb = x + (size_t)t * nb + b;
                const __m512i lo_x = bcast(xb, 4 * j);
#if IC_P16_Q4
                const __m512i hi_x = bcast(xb, 16 + 4 * j);
#endif
#pragma GCC unroll 4
                for (int p = 0; p < NP; p++) {
                    acc[p][t] = _mm512_dpbusd_epi32(acc[p][t], w[p], lo_x);
#if IC_P16_Q4
                    acc[p][t] = _mm512_dpbusd_epi32(acc[p][t], hi[p], hi_x);
#endif
                }
            }
        }
        __m512 dw[TILE_P];
#pragma GCC unroll 4
        for (int p = 0; p < NP; p++)
            dw[p] = _mm512_cvtph_ps(
                _mm256_loadu_si256((const __m256i *)(wd + p * stride / 2 + b * IC_PANEL_ROWS)));
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) {
            const ic_block_q8_0s *xb = x + (size_t)t * nb + b;
            const __m512 d = _mm512_set1_ps(xb->d), c = _mm512_set1_ps(CSCALE(xb->c));
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) {
                const __m512 u = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[p][t]), d, c);
                f[p][t] = _mm512_fmadd_ps(u, dw[p], f[p][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) fo[p][t] = f[p][t];
}

/* The tile's sums into y: rows [lo, hi) of panels p0 .. p0 + NP - 1 (lanes outside masked),
 * tokens t < T; stored on the first chunk, added after. */
static inline void store_tile(float *y, size_t ldy, size_t p0, int NP, int T, size_t lo, size_t hi,
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

#define TILE_CASE(NP_, T_)                                                                         \
    case (NP_)*16 + (T_):                                                                          \
        if (next_np >= 0)                                                                          \
            tile(wq, wd, stride, x, nb, kb, NP_, T_, 1, next_np, f);                               \
        else                                                                                       \
            tile(wq, wd, stride, x, nb, kb, NP_, T_, 0, 0, f);                                     \
        break;
#define TILE_ROW(NP_)                                                                              \
    TILE_CASE(NP_, 1)                                                                              \
    TILE_CASE(NP_, 2)                                                                              \
    TILE_CASE(NP_, 3)                                                                              \
    TILE_CASE(NP_, 4)

static void run_tile(const unsigned char *wq, const uint16_t *wd, size_t stride,
                     const ic_block_q8_0s *x, size_t nb, size_t kb, int np, int T, int next_np,
                     __m512 f[TILE_P][TILE_T]) {
    switch (np * 16 + T) {
        TILE_ROW(1)
        TILE_ROW(2)
        TILE_ROW(3)
        TILE_ROW(4)
    default:
        assert(0);
    }
}

/* The tile shape for n tokens: NP panels x NT tokens, NP weight vectors and NT broadcasts
 * feeding NP x NT vpdpbusd chains. Measured on the Zen 5 VM (one tile over 32 blocks, 1 thread,
 * G vpdpbusd/s): 2 x 4 4.9, 2 x 6 4.8, 4 x 4 4.4, 1 x 8 3.2 (a broadcast per vpdpbusd), 4 x 2 2.9,
 * 4 x 1 1.5. For many tokens the shape was measured in the GEMM itself, 3 x 4 for both types
 * (Zen 5 VM, the shapes alternating in one process). When tile() still stored its sums every
 * block (see there), q8_0 did best at 2 x 5 and q4_0 at 3 x 4 (2 threads, GOP/s at 4096 x 14336
 * n = 512, 8192 x 2048 n = 64 and 2048 x 8192 n = 64: q8_0 2 x 5 1100, 968, 1033 against 2 x 4
 * 1071, 939, 1002; q4_0 3 x 4 1024 and 927 against 2 x 4 978 and 855, 2 x 5 1001 and 900). With
 * the sums in registers, q8_0's 3 x 4 against its 2 x 5: one thread, weights in L2, 1.02-1.05x
 * (96 x 4096 n = 512, 96 x 14336 n = 512, 192 x 2048 n = 64); two threads, cold weights, time
 * ratios 0.993 at 4096 x 14336 n = 512 (where 3 panels take two k chunks), 0.944 at 16384 x 2048,
 * 0.965 at 2048 x 8192 and 0.988 at 3072 x 2048, n = 64. q4_0's 2 x 5 matched its 3 x 4 (1.11x and
 * 1.12x the old kernel, the same runs). Each weight vector loaded from L2 serves more tokens. */
static void tile_shape(size_t n, int *np, int *nt) {
    if (n > SMALL_N) {
        *np = 3;
        *nt = 4;
        return;
    }
    *np = n <= 2 ? 4 : 2;
    *nt = n < 4 ? (int)n : 4;
}

/* Y[t][r] for t < n, r in [r0, r1): every panel group of the range over each (k chunk, token
 * chunk). */
static void p16_matmul(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0);
    const ic_dtype wt = IC_P16_Q4 ? IC_DT_Q4_0 : IC_DT_Q8_0;
    const size_t nb = k / IC_QK, stride = ic_layout_stride(IC_LAYOUT_PANEL16, wt, k);
    const size_t p0 = r0 / IC_PANEL_ROWS, p1 = (r1 + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    int NPm, NTm;
    tile_shape(n, &NPm, &NTm);
    size_t kc = nb, tc = SMALL_N;
    if (n > SMALL_N) chunks(NPm, nb, &kc, &tc);
    const ic_block_q8_0s *xb = x;
    const unsigned char *wb = w;
    for (size_t b0 = 0; b0 < nb; b0 += kc) {
        const size_t kb = nb - b0 < kc ? nb - b0 : kc;
        for (size_t t0 = 0; t0 < n; t0 += tc) {
            const size_t tn = n - t0 < tc ? n - t0 : tc;
            for (size_t p = p0; p < p1; p += (size_t)NPm) {
                const int np = p1 - p < (size_t)NPm ? (int)(p1 - p) : NPm;
                /* the prefetch's panels in the next group, or -1: no prefetch */
                const size_t after = p1 - p - (size_t)np;
                const int next_np = n > SMALL_N ? -1 : after < (size_t)NPm ? (int)after : NPm;
                const unsigned char *wq = wb + p * stride + b0 * QBYTES;
                const uint16_t *wd =
                    (const uint16_t *)(wb + p * stride + nb * QBYTES) + b0 * IC_PANEL_ROWS;
                /* many tokens: the next group's panels, whose chunk the tiles prefetch */
                const int pf_np = n <= SMALL_N || t0 > 0 ? 0
                                  : after < (size_t)NPm  ? (int)after
                                                         : NPm;
                const size_t tiles = (tn + (size_t)NTm - 1) / (size_t)NTm;
                for (size_t t = 0; t < tn; t += (size_t)NTm) {
                    const int T = tn - t < (size_t)NTm ? (int)(tn - t) : NTm;
                    if (pf_np)
                        prefetch_next_group(wq + (size_t)NPm * stride,
                                            wd + (size_t)NPm * stride / 2, stride, kb, pf_np,
                                            t / (size_t)NTm, tiles);
                    __m512 f[TILE_P][TILE_T];
                    run_tile(wq, wd, stride, xb + (t0 + t) * nb + b0, nb, kb, np, T, next_np, f);
                    store_tile(y + (t0 + t) * ldy, ldy, p, np, T, r0, r1, b0 == 0, f);
                }
            }
        }
    }
}

void IC_P16_GEMV_FN(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    p16_matmul(w, x, y, k, 1, r1, r0, r1);
}

void IC_P16_GEMM_FN(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                    size_t r0, size_t r1) {
    assert(ldy >= r1);
    p16_matmul(w, x, y, k, n, ldy, r0, r1);
}
