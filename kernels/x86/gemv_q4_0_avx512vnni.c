/* q4_0 GEMV with AVX-512 VNNI. The nibbles (0..15) are the unsigned operand of vpdpbusd and the
 * q8_0 activations the signed one, so no sign trick is needed; the -8 offset becomes one FMA per
 * 16 blocks, since sum((q - 8) x) = sum(q x) - 8 sum(x) and sum(x) depends only on the
 * activations. Full groups of 16 blocks take four blocks per vector (rows4_dot16); the rest two
 * blocks per vector, their 32 bytes of nibbles split into low and high halves. The activations are
 * reordered once per call to match both. */
#ifndef __AVX512VNNI__
#error "gemv_q4_0_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>
#include <string.h>

/* Blocks of x prepared at a time (k up to 16384 in one pass; 36 KiB of stack). */
#define CHUNK_BLOCKS 512

/* Software prefetch distance per weight row, as in the q8_0 kernel. */
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 2048
#endif
#ifndef PREFETCH_HINT
#define PREFETCH_HINT _MM_HINT_T0
#endif

typedef struct {
    int8_t xr[CHUNK_BLOCKS * IC_QK] __attribute__((aligned(64))); /* pair layout, see below */
    int8_t xq[CHUNK_BLOCKS * IC_QK] __attribute__((aligned(64))); /* quad layout, see below */
    float dx[CHUNK_BLOCKS] __attribute__((aligned(64)));          /* activation scales */
    float corr[CHUNK_BLOCKS] __attribute__((aligned(64)));        /* -8 * dx * sum(x) */
    /* per full quad j, in the lanes of rows4_dot16's sums (lanes 4i..4i+3: block 4j+i): dx of
     * the lane's block, and its corr in lane 4i only */
    float dxq[CHUNK_BLOCKS / 4][16] __attribute__((aligned(64)));
    float corrq[CHUNK_BLOCKS / 4][16] __attribute__((aligned(64)));
} xprep;

/* Pair layout of blocks b, b+1: x_b[0..15], x_b+1[0..15], x_b[16..31], x_b+1[16..31], matching
 * the weights' low nibbles of both blocks followed by their high nibbles. */
static void prepare_x(const ic_block_q8_0 *x, size_t nb, xprep *p) {
    const __m512i idx = _mm512_setr_epi64(0, 1, 4, 5, 2, 3, 6, 7);
    const __m512i ones = _mm512_set1_epi8(1);
    for (size_t b = 0; b < nb; b += 2) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i hi =
            b + 1 < nb ? _mm256_loadu_si256((const __m256i *)x[b + 1].qs) : _mm256_setzero_si256();
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        _mm512_store_si512(p->xr + b * IC_QK, _mm512_permutexvar_epi64(idx, v));
        /* per-block sums of x: vpdpbusd with ones, then the 8 lanes of each half */
        __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, v);
        int s0 = _mm512_mask_reduce_add_epi32(0x00ff, s);
        int s1 = _mm512_mask_reduce_add_epi32(0xff00, s);
        p->dx[b] = ic_x86_fp16(x[b].d);
        p->corr[b] = -8.0f * p->dx[b] * (float)s0;
        if (b + 1 < nb) {
            p->dx[b + 1] = ic_x86_fp16(x[b + 1].d);
            p->corr[b + 1] = -8.0f * p->dx[b + 1] * (float)s1;
        }
    }
    /* Quad layout of blocks 4j..4j+3 (full quads only): x_4j[0..15], ..., x_4j+3[0..15], then
     * x_4j[16..31], ..., x_4j+3[16..31]: 64 bytes against the low nibbles of four blocks, 64
     * against their high nibbles. */
    for (size_t b = 0; b < (nb & ~(size_t)3); b++) {
        int8_t *q = p->xq + (b / 4) * 4 * IC_QK + (b % 4) * 16;
        memcpy(q, x[b].qs, 16);
        memcpy(q + 64, x[b].qs + 16, 16);
        for (int l = 0; l < 4; l++) {
            p->dxq[b / 4][(b % 4) * 4 + (size_t)l] = p->dx[b];
            p->corrq[b / 4][(b % 4) * 4 + (size_t)l] = l == 0 ? p->corr[b] : 0.0f;
        }
    }
}

/* The raw nibble bytes of four consecutive blocks, 16 bytes each, in one vector, from the quad's
 * bytes 0-63 (a) and 8-71 (b): the four blocks span 72 bytes, an fp16 scale before each 16 quant
 * bytes, all at even offsets, so one word permute across both loads picks them, instead of four
 * 16-byte loads and three inserts. */
static inline __m512i quad_nibbles(__m512i a, __m512i b) {
    /* word j of block s: a's word 1 + 9s + j for s < 3; block 3 from b (bytes 56-71 = b's words
     * 24-31, numbered 32 + 24 + j in the two-source index) */
    static const uint16_t order[32] __attribute__((aligned(64))) = {
        1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12, 13, 14, 15, 16, 17,
        19, 20, 21, 22, 23, 24, 25, 26, 56, 57, 58, 59, 60, 61, 62, 63};
    return _mm512_permutex2var_epi16(a, _mm512_load_si512(order), b);
}

/* Full groups of 16 blocks for 4 rows, four blocks per vector: the low nibbles against the quad
 * layout's first 64 bytes and the high nibbles against its second, both vpdpbusd into one sum, so
 * lanes 4i..4i+3 hold block i's dot product. About 11 vector instructions per 4 blocks and row,
 * against 16 with two blocks per vector. */
static inline __attribute__((always_inline)) void
rows4_dot16(const ic_block_q4_0 *const *wr, const xprep *p, size_t g, __m512 *acc) {
    const __m512i zero = _mm512_setzero_si512(), m4 = _mm512_set1_epi8(0x0f);
    /* the fp16 scale of block i of a quad is word 9i of its first 64 bytes: spread to lanes
     * 4i..4i+3 of 16 words, then widened */
    static const uint16_t scale_words[32]
        __attribute__((aligned(64))) = {0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27};
    const __m512i sidx = _mm512_load_si512(scale_words);
    /* each row is one of four streams (gemv_streams_entry.h): its next rows follow it */
    for (int r = 0; r < 4; r++)
        for (size_t o = 0; o < 16 * sizeof(ic_block_q4_0); o += 64)
            _mm_prefetch((const char *)(wr[r] + g) + PREFETCH_BYTES + o, PREFETCH_HINT);
#pragma GCC unroll 4
    for (int q = 0; q < 16; q += 4) {
        const size_t b = g + (size_t)q;
        const __m512i xlo = _mm512_load_si512(p->xq + b * IC_QK);
        const __m512i xhi = _mm512_load_si512(p->xq + b * IC_QK + 64);
        const __m512 dxq = _mm512_load_ps(p->dxq[b / 4]), corrq = _mm512_load_ps(p->corrq[b / 4]);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const unsigned char *wq = (const unsigned char *)(wr[r] + b);
            const __m512i a = _mm512_loadu_si512(wq);
            const __m512i z = quad_nibbles(a, _mm512_loadu_si512(wq + 8));
            const __m512i lo = _mm512_and_si512(z, m4);
            const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
            const __m512i d = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, lo, xlo), hi, xhi);
            const __m512 sw =
                _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(sidx, a)));
            /* sum over lanes of sw * (d * dx + corr) = sum over blocks of dw (dx q.x - 8 dx sum x)
             */
            acc[r] =
                _mm512_fmadd_ps(sw, _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), dxq, corrq), acc[r]);
        }
    }
}

/* The fp16 scales of ng <= 16 consecutive blocks as f32 (scalar loads: gathers are slow on Zen). */
static inline __m512 load_scales(const ic_block_q4_0 *w, size_t ng) {
    uint16_t d[16] __attribute__((aligned(32))) = {0};
    for (size_t i = 0; i < ng; i++) d[i] = w[i].d;
    return _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)d));
}

/* Nibbles of blocks w[0] and (if two) w[1] as bytes 0..15 in the pair layout. */
static inline __m512i load_pair(const ic_block_q4_0 *w, int two) {
    __m128i a = _mm_loadu_si128((const __m128i *)w[0].qs);
    __m128i b = two ? _mm_loadu_si128((const __m128i *)w[1].qs) : _mm_setzero_si128();
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(v), v, 1);
    const __m512i shift = _mm512_setr_epi64(0, 0, 0, 0, 0x0004000400040004ll, 0x0004000400040004ll,
                                            0x0004000400040004ll, 0x0004000400040004ll);
    return _mm512_and_si512(_mm512_srlv_epi16(z, shift), _mm512_set1_epi8(0x0f));
}

static inline __attribute__((always_inline)) void
rows_dot(const ic_block_q4_0 *const *wr, int R, const xprep *p, size_t b0, size_t nb, __m512 *acc) {
    const __m512i zero = _mm512_setzero_si512();
    for (size_t g = b0; g < nb; g += 16) {
        size_t ng = nb - g < 16 ? nb - g : 16;
        __mmask16 gm = (__mmask16)((1u << ng) - 1);
        __m512 dx = _mm512_maskz_load_ps(gm, p->dx + g),
               corr = _mm512_maskz_load_ps(gm, p->corr + g);
        __m512 sv[IC_X86_GEMV_ROWS];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512 dw = load_scales(wr[r] + g, ng);
            sv[r] = _mm512_mul_ps(dw, dx);
            acc[r] = _mm512_fmadd_ps(dw, corr, acc[r]);
        }
        for (size_t q = 0; q < ng; q += 2) {
            const size_t b = g + q;
            const int two = q + 1 < ng;
            const __m512i xv = _mm512_load_si512(p->xr + b * IC_QK);
            /* lanes 0-3 and 8-11 hold block q's sums, lanes 4-7 and 12-15 block q + 1's */
            const __m512i idx =
                _mm512_add_epi32(_mm512_set1_epi32((int)q),
                                 _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1));
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                _mm_prefetch((const char *)(wr[r] + b) + PREFETCH_BYTES, PREFETCH_HINT);
                __m512i wv = load_pair(wr[r] + b, two);
                __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, wv, xv));
                acc[r] = _mm512_fmadd_ps(f, _mm512_permutexvar_ps(idx, sv[r]), acc[r]);
            }
        }
    }
}

#define GEMV_ENTRY   ic_gemv_q4_0_avx512vnni
#define GEMV_RUNS    ic_gemv_runs_q4_0_avx512vnni
#define GEMV_WBLOCK  ic_block_q4_0
#define GEMV_PREP    xprep
#define GEMV_CHUNK   CHUNK_BLOCKS
#define GEMV_PREPARE prepare_x
#define GEMV_ROWS4   rows4_dot16
#define GEMV_ROWS    rows_dot
#include "gemv_streams_entry.h"

/* ---- several tokens at once (small-batch decode through the GEMM entry) ----
 *
 * As in the q8_0 kernel: each quad of weights (nibbles split, scales widened) is dotted with up
 * to 4 tokens while it is in registers, so a batch streams the weights once per 4 tokens. The
 * activations need no change (they are the signed side), so each token keeps the GEMV's own
 * prepared layout; the activation loads are vpdpbusd memory operands. */

/* Full groups of 16 blocks, 4 rows x T tokens (T a constant at each call). */
static inline __attribute__((always_inline)) void
rows4_tokens16(const int T, const ic_block_q4_0 *const *wr, const xprep *const *px, size_t g,
               size_t row_left, size_t row_bytes, __m512 acc[4][4]) {
    const __m512i zero = _mm512_setzero_si512(), m4 = _mm512_set1_epi8(0x0f);
    static const uint16_t scale_words[32]
        __attribute__((aligned(64))) = {0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27};
    const __m512i sidx = _mm512_load_si512(scale_words);
    const size_t ahead = g * sizeof(ic_block_q4_0) + PREFETCH_BYTES < row_left
                             ? PREFETCH_BYTES
                             : PREFETCH_BYTES + 3 * row_bytes;
    for (int r = 0; r < 4; r++)
        for (size_t o = 0; o < 16 * sizeof(ic_block_q4_0); o += 64)
            _mm_prefetch((const char *)(wr[r] + g) + ahead + o, PREFETCH_HINT);
#pragma GCC unroll 4
    for (int q = 0; q < 16; q += 4) {
        const size_t b = g + (size_t)q;
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const unsigned char *wq = (const unsigned char *)(wr[r] + b);
            const __m512i a = _mm512_loadu_si512(wq);
            const __m512i z = quad_nibbles(a, _mm512_loadu_si512(wq + 8));
            const __m512i lo = _mm512_and_si512(z, m4);
            const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
            const __m512 sw =
                _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(sidx, a)));
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) {
                const xprep *p = px[t];
                const __m512i d = _mm512_dpbusd_epi32(
                    _mm512_dpbusd_epi32(zero, lo, _mm512_load_si512(p->xq + b * IC_QK)), hi,
                    _mm512_load_si512(p->xq + b * IC_QK + 64));
                acc[r][t] = _mm512_fmadd_ps(sw,
                                            _mm512_fmadd_ps(_mm512_cvtepi32_ps(d),
                                                            _mm512_load_ps(p->dxq[b / 4]),
                                                            _mm512_load_ps(p->corrq[b / 4])),
                                            acc[r][t]);
            }
        }
    }
}

#define TOK_ENTRY   ic_gemv_tokens_q4_0_avx512vnni
#define TOK_WBLOCK  ic_block_q4_0
#define TOK_PREP    xprep
#define TOK_CHUNK   CHUNK_BLOCKS
#define TOK_PREPARE prepare_x
#define TOK_ROWS    rows4_tokens16
#define TOK_GEMV    ic_gemv_q4_0_avx512vnni
#include "gemv_tokens_entry.h"
