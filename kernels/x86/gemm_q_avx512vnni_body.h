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

#define GROUP       16 /* blocks per repacked group: one per 32-bit lane */
#define TOKEN_BATCH 96 /* tokens repacked at a time: 96 * 640 B = 60 KiB of stack */
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

/* Weights, blocks w[0..ng) of one row. */
static inline void pack_w(const wblock *w, __mmask16 m, packed *p) {
    __m512i sum = _mm512_setzero_si512();
#if IC_GEMM_Q4
    for (int j = 0; j < 4; j++) {
        __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m,
                                                block_offsets(sizeof(wblock), 2 + 4 * j), w, 1);
        p->q[j] = _mm512_and_si512(v, _mm512_set1_epi8(0x0f));
        p->q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f));
    }
#else
    for (int j = 0; j < 8; j++) {
        p->q[j] = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m,
                                              block_offsets(sizeof(wblock), 2 + 4 * j), w, 1);
        sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi8((char)0x80), p->q[j]);
    }
#endif
    p->init = _mm512_sub_epi32(_mm512_setzero_si512(), sum);
    p->scale = gather_scales(w, sizeof(wblock), m);
}

/* One R x T register tile over one group; adds (first: stores) into y[t * ldy + r]. */
static inline __attribute__((always_inline)) void tile(const packed *pw, const packed *px, int R,
                                                       int T, float *y, size_t ldy, int first) {
    __m512i acc[TILE_R][TILE_T];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = IC_GEMM_Q4 ? px[t].init : pw[r].init;
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) {
#if IC_GEMM_Q4
                acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], pw[r].q[j], px[t].q[j]);
#else
                acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], px[t].q[j], pw[r].q[j]);
#endif
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) {
        __m512 f[TILE_R];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            f[r] = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][t]),
                                 _mm512_mul_ps(pw[r].scale, px[t].scale));
        float *yt = y + (size_t)t * ldy;
        if (R == TILE_R) {
            __m128 s = ic_x86_hsum512_x4(f[0], f[1], f[2], f[3]);
            if (!first) s = _mm_add_ps(s, _mm_loadu_ps(yt));
            _mm_storeu_ps(yt, s);
        } else {
            float s = _mm512_reduce_add_ps(f[0]);
            yt[0] = first ? s : yt[0] + s;
        }
    }
}

/* Below this many tokens the weight repack (vpgatherdd, slow on AMD Zen: measured 6.9 GFLOP/s at
 * n = 4 and 18 at n = 32 on Zen 5, 1 thread, 4096x4096) costs more than reading the weights once
 * per token, so the GEMV kernel runs per token instead. */
#define MIN_TOKENS 16

void IC_GEMM_FN(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy, size_t r0,
                size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0 && ldy >= r1);
    if (n < MIN_TOKENS) {
        for (size_t t = 0; t < n; t++)
            IC_GEMV_FN(w, (const ic_block_q8_0 *)x + t * (k / IC_QK), y + t * ldy, k, r0, r1);
        return;
    }
    const size_t nb = k / IC_QK;
    const wblock *wb = w;
    const ic_block_q8_0 *xb = x;
    packed px[TOKEN_BATCH], pw[TILE_R];
    for (size_t g = 0; g < nb; g += GROUP) {
        const size_t ng = nb - g < GROUP ? nb - g : GROUP;
        const __mmask16 m = (__mmask16)((1u << ng) - 1);
        for (size_t t0 = 0; t0 < n; t0 += TOKEN_BATCH) {
            const size_t nt = n - t0 < TOKEN_BATCH ? n - t0 : TOKEN_BATCH;
            for (size_t t = 0; t < nt; t++) pack_x(xb + (t0 + t) * nb + g, m, &px[t]);
            size_t r = r0;
            for (; r + TILE_R <= r1; r += TILE_R) {
                for (int i = 0; i < TILE_R; i++) pack_w(wb + (r + (size_t)i) * nb + g, m, &pw[i]);
                size_t t = 0;
                for (; t + TILE_T <= nt; t += TILE_T)
                    tile(pw, px + t, TILE_R, TILE_T, y + (t0 + t) * ldy + r, ldy, g == 0);
                for (; t < nt; t++)
                    tile(pw, px + t, TILE_R, 1, y + (t0 + t) * ldy + r, ldy, g == 0);
            }
            for (; r < r1; r++) {
                pack_w(wb + r * nb + g, m, &pw[0]);
                size_t t = 0;
                for (; t + TILE_T <= nt; t += TILE_T)
                    tile(pw, px + t, 1, TILE_T, y + (t0 + t) * ldy + r, ldy, g == 0);
                for (; t < nt; t++) tile(pw, px + t, 1, 1, y + (t0 + t) * ldy + r, ldy, g == 0);
            }
        }
    }
}
