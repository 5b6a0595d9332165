/* The body of the q8_0 and q4_0 GEMM kernels with AVX-512 VNNI (prefill and batched decode).
 * Included by gemm_q8_0_avx512vnni.c (IC_GEMM_Q4 = 0) and gemm_q4_0_avx512vnni.c (1); not a public
 * header.
 *
 * Layout trick: a group of 16 consecutive blocks is repacked so that 32-bit lane i of vector j
 * holds bytes 4j..4j+3 of block i. Then eight vpdpbusd per (weight row, token) pair accumulate
 * each block's whole integer dot product in its own lane, and one convert + one FMA with the 16
 * block scales finish 512 multiply-adds: the per-block scaling, which dominates a naive int8
 * GEMM, is paid once per 8 vpdpbusd. The activations of a group are repacked once per call for
 * all tokens, the weights once per group of 4 rows for all tokens.
 *
 * vpdpbusd multiplies unsigned by signed bytes. q8_0: the activations go in as x + 128 (unsigned)
 * and the exact correction -128 * sum(w) per block, which depends only on the weights, starts
 * each accumulator; exact for every weight byte, -128 included. q4_0: the nibbles are the
 * unsigned side and -8 * sum(x), which depends only on the activations, starts the accumulator. */
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

#if IC_GEMM_Q4
typedef ic_block_q4_0 wblock;
#else
typedef ic_block_q8_0 wblock;
#endif

/* TOKEN_BATCH is 64 rather than 48: a 64-token prompt is then one batch instead of 48 + 16, whose
 * 16 paid a weight repack for a quarter of the tiles. On the Zen 5 VM (llama-3.2-1b, 2 threads,
 * alternating) prefill of 64 tokens went from 152-157 to 201-210 tok/s at q8_0 and from 179-216 to
 * 253-255 at q4_0, of 512 tokens from 175-179 to 200-206; batch 16 tied. KGROUPS is 4 rather
 * than 2: each tile's sums go to y once per 4 groups instead of 2 (a horizontal reduction, a load
 * and a store per row and token). Measured the same way: prefill of 64 tokens 228-247 -> 250-266
 * tok/s (4 pairs), of 512 tokens 235-237 -> 254-264, batch 16 105 -> 119-126, q4_0 prefill of 64
 * 294 -> 327. The packed activations (64 * 4 * 640 B = 160 KiB) live in L2. */
#define GROUP       16 /* blocks per repacked group: one per 32-bit lane */
#define TOKEN_BATCH 64 /* tokens repacked at a time */
#define KGROUPS     4  /* groups per k step: 64 * 4 * 640 B = 160 KiB of packed activations */
#define TILE_R      4  /* weight rows per register tile */
#define TILE_T      4  /* tokens per register tile: 16 accumulators */

typedef struct {
    __m512i q[8]; /* the group's quants in lane = block layout */
    __m512i init; /* accumulator start: the offset correction */
    __m512 scale; /* the 16 block scales (0 past the end of the row) */
} packed;

static inline __m512i block_offsets(size_t bytes, int add) {
    return _mm512_add_epi32(
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32((int)bytes)),
        _mm512_set1_epi32(add));
}

static inline __m512 gather_scales(const void *blocks, size_t bytes, __mmask16 m) {
    __m512i d =
        _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, block_offsets(bytes, 0), blocks, 1);
    return _mm512_maskz_mov_ps(m, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d)));
}

/* Activations, q8_0 blocks x[0..ng). */
static inline void pack_x(const ic_block_q8_0 *x, __mmask16 m, packed *p) {
    __m512i sum = _mm512_setzero_si512();
    for (int j = 0; j < 8; j++) {
        __m512i v = _mm512_mask_i32gather_epi32(
            _mm512_setzero_si512(), m, block_offsets(sizeof(ic_block_q8_0), 2 + 4 * j), x, 1);
#if IC_GEMM_Q4
        p->q[j] = v;
        sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi8(8), v);
#else
        p->q[j] = _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80)); /* x + 128 */
#endif
    }
    p->init = _mm512_sub_epi32(_mm512_setzero_si512(), sum);
    p->scale = gather_scales(x, sizeof(ic_block_q8_0), m);
}

#if IC_GEMM_Q4
/* 16 full q4_0 blocks into the lane = block layout with shuffles: four blocks' 16 bytes per
 * vector (128-bit lane L = block 4a + L), a 4x4 dword transpose inside each vector so that lane
 * j holds dword j of its four blocks, then a 4x4 transpose of 128-bit lanes across the vectors.
 * out[j] lane i = dword j of block i. 24 shuffles instead of 4 vpgatherdd. */
static inline void transpose_q4(const wblock *w, __m512i *out) {
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i z[4];
    for (int a = 0; a < 4; a++) {
        const wblock *b = w + 4 * a;
        __m256i lo = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)b[0].qs)),
            _mm_loadu_si128((const __m128i *)b[1].qs), 1);
        __m256i hi = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)b[2].qs)),
            _mm_loadu_si128((const __m128i *)b[3].qs), 1);
        z[a] = _mm512_permutexvar_epi32(idx, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
    }
    /* z[a] lane j = dword j of blocks 4a..4a+3; out[j] lane a = z[a] lane j */
    const __m512i p0 = _mm512_shuffle_i64x2(z[0], z[1], 0x44); /* z0.0 z0.1 z1.0 z1.1 */
    const __m512i p1 = _mm512_shuffle_i64x2(z[0], z[1], 0xee); /* z0.2 z0.3 z1.2 z1.3 */
    const __m512i p2 = _mm512_shuffle_i64x2(z[2], z[3], 0x44);
    const __m512i p3 = _mm512_shuffle_i64x2(z[2], z[3], 0xee);
    out[0] = _mm512_shuffle_i64x2(p0, p2, 0x88); /* z0.0 z1.0 z2.0 z3.0 */
    out[1] = _mm512_shuffle_i64x2(p0, p2, 0xdd);
    out[2] = _mm512_shuffle_i64x2(p1, p3, 0x88);
    out[3] = _mm512_shuffle_i64x2(p1, p3, 0xdd);
}
#else
/* 16 full q8_0 blocks into the lane = block layout with shuffles: two blocks per vector, dwords
 * interleaved so that qword j holds dword j of both, then an 8x8 qword transpose (unpack, two
 * rounds of 128-bit lane shuffles). out[j] lane i = dword j of block i. 40 shuffles instead of
 * 8 vpgatherdd. */
static inline void transpose_q8(const wblock *w, __m512i *out) {
    const __m512i idx = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    __m512i z[8], x[8];
    for (int i = 0; i < 8; i++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)w[2 * i].qs);
        __m256i b = _mm256_loadu_si256((const __m256i *)w[2 * i + 1].qs);
        z[i] = _mm512_permutexvar_epi32(idx, _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1));
    }
    /* z[i] qword j = dword j of blocks 2i, 2i+1; want out[j] qword i = z[i] qword j */
    for (int a = 0; a < 4; a++) {
        x[a] = _mm512_unpacklo_epi64(z[2 * a], z[2 * a + 1]);     /* lane L: column 2L */
        x[a + 4] = _mm512_unpackhi_epi64(z[2 * a], z[2 * a + 1]); /* lane L: column 2L + 1 */
    }
    for (int h = 0; h < 2; h++) {
        const __m512i *X = x + 4 * h;
        const __m512i p0 = _mm512_shuffle_i64x2(X[0], X[1], 0x88); /* X0.0 X0.2 X1.0 X1.2 */
        const __m512i p1 = _mm512_shuffle_i64x2(X[0], X[1], 0xdd); /* X0.1 X0.3 X1.1 X1.3 */
        const __m512i q0 = _mm512_shuffle_i64x2(X[2], X[3], 0x88);
        const __m512i q1 = _mm512_shuffle_i64x2(X[2], X[3], 0xdd);
        out[0 + h] = _mm512_shuffle_i64x2(p0, q0, 0x88); /* lane 0 of X0..X3: column 0 + h */
        out[4 + h] = _mm512_shuffle_i64x2(p0, q0, 0xdd); /* lane 2: column 4 + h */
        out[2 + h] = _mm512_shuffle_i64x2(p1, q1, 0x88); /* lane 1: column 2 + h */
        out[6 + h] = _mm512_shuffle_i64x2(p1, q1, 0xdd); /* lane 3: column 6 + h */
    }
}
#endif

/* Weights, blocks w[0..ng) of one row. A full group is transposed with shuffles; a short last
 * group is gathered (vpgatherdd is slow on AMD Zen, but that group is at most one per row). */
static inline void pack_w(const wblock *w, __mmask16 m, packed *p) {
    __m512i sum = _mm512_setzero_si512();
    const int full = m == (__mmask16)0xffff;
#if IC_GEMM_Q4
    if (full) {
        transpose_q4(w, p->q);
        for (int j = 0; j < 4; j++) {
            p->q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(p->q[j], 4), _mm512_set1_epi8(0x0f));
            p->q[j] = _mm512_and_si512(p->q[j], _mm512_set1_epi8(0x0f));
        }
    } else {
        for (int j = 0; j < 4; j++) {
            __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m,
                                                    block_offsets(sizeof(wblock), 2 + 4 * j), w, 1);
            p->q[j] = _mm512_and_si512(v, _mm512_set1_epi8(0x0f));
            p->q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f));
        }
    }
#else
    if (full) transpose_q8(w, p->q);
    for (int j = 0; j < 8; j++) {
        if (!full)
            p->q[j] = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m,
                                                  block_offsets(sizeof(wblock), 2 + 4 * j), w, 1);
        sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi8((char)0x80), p->q[j]);
    }
#endif
    p->init = _mm512_sub_epi32(_mm512_setzero_si512(), sum);
    p->scale = full ? ic_x86_fp16x16(&w[0].d, sizeof *w) : gather_scales(w, sizeof(wblock), m);
}

/* One R x T register tile over kg consecutive groups; adds (first: stores) into y[t * ldy + r].
 * pw[r * kg + g] and px[t * kg + g] are row r's and token t's packed group g. The integer sums
 * are scaled per group into float accumulators, and the 16 lanes are reduced once per call, not
 * once per group (the horizontal sums had cost about as much as the vpdpbusd). */
static inline __attribute__((always_inline)) void
tile(const packed *pw, const packed *px, int kg, int R, int T, float *y, size_t ldy, int first) {
    __m512 f[TILE_R][TILE_T];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) f[r][t] = _mm512_setzero_ps();
    for (int g = 0; g < kg; g++) {
        __m512i acc[TILE_R][TILE_T];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                acc[r][t] = IC_GEMM_Q4 ? px[t * kg + g].init : pw[r * kg + g].init;
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
                for (int t = 0; t < T; t++) {
#if IC_GEMM_Q4
                    acc[r][t] =
                        _mm512_dpbusd_epi32(acc[r][t], pw[r * kg + g].q[j], px[t * kg + g].q[j]);
#else
                    acc[r][t] =
                        _mm512_dpbusd_epi32(acc[r][t], px[t * kg + g].q[j], pw[r * kg + g].q[j]);
#endif
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                f[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][t]),
                                          _mm512_mul_ps(pw[r * kg + g].scale, px[t * kg + g].scale),
                                          f[r][t]);
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) {
        float *yt = y + (size_t)t * ldy;
        if (R == TILE_R) {
            __m128 s = ic_x86_hsum512_x4(f[0][t], f[1][t], f[2][t], f[3][t]);
            if (!first) s = _mm_add_ps(s, _mm_loadu_ps(yt));
            _mm_storeu_ps(yt, s);
        } else {
            float s = _mm512_reduce_add_ps(f[0][t]);
            yt[0] = first ? s : yt[0] + s;
        }
    }
}

/* Below this many tokens the GEMV kernel runs per token instead: with the shuffle repack,
 * measured on this host (Zen 5 VM, 1 thread, 4096x4096, best of 9), the GEMM beats n GEMVs from
 * n = 4 (q8_0 1.49 vs 1.86 ms, q4_0 0.85 vs 1.35 ms) and ties at n = 2 and 3. It was 16 when
 * the repack used vpgatherdd. */
#define MIN_TOKENS 4

void IC_GEMM_FN(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy, size_t r0,
                size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0 && ldy >= r1);
#ifdef IC_GEMM_SMALL_FN
    if (n <= IC_GEMM_SMALL_MAX) {
        IC_GEMM_SMALL_FN(w, x, y, k, n, ldy, r0, r1);
        return;
    }
#endif
    if (n < MIN_TOKENS) {
        for (size_t t = 0; t < n; t++)
            IC_GEMV_FN(w, (const ic_block_q8_0 *)x + t * (k / IC_QK), y + t * ldy, k, r0, r1);
        return;
    }
    const size_t nb = k / IC_QK;
    const wblock *wb = w;
    const ic_block_q8_0 *xb = x;
    packed px[TOKEN_BATCH * KGROUPS], pw[TILE_R * KGROUPS];
    for (size_t g0 = 0; g0 < nb; g0 += GROUP * KGROUPS) {
        /* groups [g0, g0 + kg * GROUP) of every row and token: kg full or partial groups */
        const size_t span = nb - g0 < GROUP * KGROUPS ? nb - g0 : GROUP * KGROUPS;
        const int kg = (int)((span + GROUP - 1) / GROUP);
        for (size_t t0 = 0; t0 < n; t0 += TOKEN_BATCH) {
            const size_t nt = n - t0 < TOKEN_BATCH ? n - t0 : TOKEN_BATCH;
            for (size_t t = 0; t < nt; t++)
                for (int g = 0; g < kg; g++) {
                    const size_t b = g0 + (size_t)g * GROUP, ng = nb - b < GROUP ? nb - b : GROUP;
                    pack_x(xb + (t0 + t) * nb + b, (__mmask16)((1u << ng) - 1),
                           &px[t * (size_t)kg + (size_t)g]);
                }
            size_t r = r0;
            for (; r < r1;) {
                const int R = r1 - r >= TILE_R ? TILE_R : 1;
                /* The next tile's rows of this k step, while this tile computes: pack_w reads
                 * them straight from memory. Measured on the Zen 5 VM: 1 thread, 32768x2048
                 * q8_0, 64 tokens, alternating in one process, 7-8% more GOP/s (an A/A pair:
                 * 0-2%); llama-3.2-1b, 2 threads, alternating runs: prefill of 64 tokens
                 * 200-216 -> 253-263 tok/s at q8_0 and 317 -> 350 at q4_0, of 512 tokens and
                 * batch 16 a tie. */
                if (r + 2 * TILE_R <= r1)
                    for (int i = 0; i < TILE_R; i++) {
                        const char *next = (const char *)(wb + (r + TILE_R + (size_t)i) * nb + g0);
                        for (size_t o = 0; o < span * sizeof(wblock); o += 64)
                            _mm_prefetch(next + o, _MM_HINT_T0);
                    }
                for (int i = 0; i < R; i++)
                    for (int g = 0; g < kg; g++) {
                        const size_t b = g0 + (size_t)g * GROUP,
                                     ng = nb - b < GROUP ? nb - b : GROUP;
                        pack_w(wb + (r + (size_t)i) * nb + b, (__mmask16)((1u << ng) - 1),
                               &pw[i * kg + g]);
                    }
                size_t t = 0;
                if (R == TILE_R) {
                    for (; t + TILE_T <= nt; t += TILE_T)
                        tile(pw, px + t * (size_t)kg, kg, TILE_R, TILE_T, y + (t0 + t) * ldy + r,
                             ldy, g0 == 0);
                    for (; t < nt; t++)
                        tile(pw, px + t * (size_t)kg, kg, TILE_R, 1, y + (t0 + t) * ldy + r, ldy,
                             g0 == 0);
                } else {
                    for (; t + TILE_T <= nt; t += TILE_T)
                        tile(pw, px + t * (size_t)kg, kg, 1, TILE_T, y + (t0 + t) * ldy + r, ldy,
                             g0 == 0);
                    for (; t < nt; t++)
                        tile(pw, px + t * (size_t)kg, kg, 1, 1, y + (t0 + t) * ldy + r, ldy,
                             g0 == 0);
                }
                r += (size_t)R;
            }
        }
    }
}
