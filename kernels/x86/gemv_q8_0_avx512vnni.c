/* q8_0 GEMV with AVX-512 VNNI. vpdpbusd multiplies unsigned by signed bytes, so the activation
 * block goes in as |x| (prepared once per call, shared by all rows) and each weight takes the sign
 * of its activation: sum(|x| * sign(x) w) = sum(x w). That is exact for weights in [-127, 127],
 * which is all the q8_0 quantizer produces (a stored -128 opposite a negative activation would
 * wrap; ggml's x86 kernels share that limit). Two blocks fill one 512-bit vector; the per-block
 * scales of 16 blocks are gathered once, multiplied by the activation scales, and permuted into
 * place, so a block pair costs six vector instructions per row (insert, sign, vpdpbusd, convert,
 * permute, FMA). Full groups of 16 blocks take a branch-free unrolled path. */
#ifndef __AVX512VNNI__
#error "gemv_q8_0_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

/* Blocks of x prepared at a time: 16 KiB of |x| plus masks and scales, well inside L1 + L2 and
 * enough for k up to 16384 in one pass. */
#define CHUNK_BLOCKS 512

/* Software prefetch distance per weight row: measured on Zen 5 (1 thread, 4096x14336), 2 KiB ahead
 * beat none, 512 B and 1 KiB. The one-token GEMV walks four row streams (gemv_streams_entry.h),
 * each prefetching this far ahead in its own address order. */
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 2048
#endif
/* The token path walks consecutive 4-row tiles. Rows this short (k <= 4096: 4352 bytes) are always
 * "near the end": a 4-row tile is one contiguous stretch, so its prefetch runs ahead in address
 * order instead, PREFETCH_SHORT_BYTES past the row below's position. Measured when the one-token
 * GEMV walked the same tiles (Zen 5, 2 threads, alternating): 8 KiB gave 16384x2048 1.35x and
 * 128256x2048 1.2-1.4x over 2 KiB; 3 KiB only 1.07x, 1 KiB lost. */
#ifndef SHORT_ROW_BYTES
#define SHORT_ROW_BYTES 4608
#endif
#ifndef PREFETCH_SHORT_BYTES
#define PREFETCH_SHORT_BYTES 8192
#endif
#ifndef PREFETCH_HINT
#define PREFETCH_HINT _MM_HINT_T0
#endif

typedef struct {
    uint8_t ax[CHUNK_BLOCKS * IC_QK] __attribute__((aligned(64))); /* |x|, two blocks per 64 B */
    uint64_t neg[CHUNK_BLOCKS / 2];                                /* x < 0, per block pair */
    float dx[CHUNK_BLOCKS] __attribute__((aligned(64)));           /* activation scales */
} xprep;

static void prepare_x(const ic_block_q8_0 *x, size_t nb, xprep *p) {
    for (size_t b = 0; b < nb; b += 2) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i hi =
            b + 1 < nb ? _mm256_loadu_si256((const __m256i *)x[b + 1].qs) : _mm256_setzero_si256();
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        _mm512_store_si512(p->ax + b * IC_QK, _mm512_abs_epi8(v));
        p->neg[b / 2] = _mm512_movepi8_mask(v);
        p->dx[b] = ic_x86_fp16(x[b].d);
        if (b + 1 < nb) p->dx[b + 1] = ic_x86_fp16(x[b + 1].d);
    }
}

/* Two consecutive weight blocks' quants in one vector; the second is zero past the row's end. */
static inline __m512i load_pair(const ic_block_q8_0 *w, int two) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)w[0].qs);
    __m256i hi = two ? _mm256_loadu_si256((const __m256i *)w[1].qs) : _mm256_setzero_si256();
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* The fp16 scales of up to 16 consecutive blocks (ng of them exist), as f32. Scalar loads into a
 * small array beat vpgatherdd here: gathers are slow on AMD Zen. */
static inline __m512 load_scales(const ic_block_q8_0 *w, size_t ng) {
    uint16_t d[16] __attribute__((aligned(32))) = {0};
    for (size_t i = 0; i < ng; i++) d[i] = w[i].d;
    return _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)d));
}

/* The fp16 scales of 16 consecutive blocks as f32, from eight 64-byte loads over the group (the
 * 16 scales sit 17 words apart in its first 512 bytes) and four two-source word permutes: ~16
 * instructions per row and group instead of the ~45 of packing them through general registers
 * (ic_x86_fp16x16). Each permute fills its four lanes of one index; the masks keep them. */
static inline __m512 scales16(const ic_block_q8_0 *first) {
    static const uint16_t pick[32] __attribute__((aligned(64))) = {0, 17, 34, 51, 4,  21, 38, 55,
                                                                   8, 25, 42, 59, 12, 29, 46, 63};
    const char *p = (const char *)&first->d;
    const __m512i idx = _mm512_load_si512(pick);
    __m512i t = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
    t = _mm512_mask_mov_epi16(
        t, 0x00F0,
        _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 128), idx, _mm512_loadu_si512(p + 192)));
    t = _mm512_mask_mov_epi16(
        t, 0x0F00,
        _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 256), idx, _mm512_loadu_si512(p + 320)));
    t = _mm512_mask_mov_epi16(
        t, 0xF000,
        _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 384), idx, _mm512_loadu_si512(p + 448)));
    return _mm512_cvtph_ps(_mm512_castsi512_si256(t));
}

/* How far past a row's position in group g to prefetch, for a 4-row tile whose rows have
 * row_left bytes from the tile's start to their end: short rows (a tile is one contiguous
 * stretch) run ahead in address order, long rows within the row and, near its end, into the next
 * tile's row 4 below. */
static inline size_t prefetch_ahead(size_t g, size_t row_left, size_t row_bytes) {
    if (row_bytes <= SHORT_ROW_BYTES) return PREFETCH_SHORT_BYTES + 3 * row_bytes;
    return g * sizeof(ic_block_q8_0) + PREFETCH_BYTES < row_left ? PREFETCH_BYTES
                                                                 : PREFETCH_BYTES + 3 * row_bytes;
}

/* Full groups of 16 blocks for 4 rows (each its own stream: see gemv_streams_entry.h): no tail
 * tests in the loop, the 8 block pairs unrolled, the per-pair lane permutation indices constant.
 * Each row's stream is prefetched one line per 64 bytes, PREFETCH_BYTES ahead: pair q fetches the
 * line at the group's start + 32 q (q even, so 64-byte steps), and the last pair one more at
 * + 512. A group is 544 bytes, so those nine lines run from the line of its first byte to the one
 * before the line of the next group's first byte, which that group fetches: every line of the
 * stream once. Each prefetch sits next to its row's loads (ic_x86_prefetch): GCC had hoisted the
 * group's prefetches, then two per pair, into one burst at its start. Measured on the 2-vCPU Zen 5
 * VM against that burst: over a 1 GiB matrix (2 threads, the probe's read loop alternating in the
 * same process) 89% -> 97% of the probe at k = 2048 and 92% -> 99% at k = 8192; llama-3.2-1b
 * decode 3-4% faster in one process switching every 10 tokens. One line each beat two per pair
 * kept in place by 1.1%; 1.5 KiB ahead did no better than 2 KiB, and 3 KiB lost 5%; a burst of
 * the nine lines per row at the group's start lost 19%. */
static inline __attribute__((always_inline)) void
rows4_dot16(const ic_block_q8_0 *const *wr, const xprep *p, size_t g, __m512 *acc) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512 dx = _mm512_load_ps(p->dx + g);
    __m512 sv[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) sv[r] = _mm512_mul_ps(scales16(wr[r] + g), dx);
#pragma GCC unroll 8
    for (int q = 0; q < 16; q += 2) {
        const size_t b = g + (size_t)q;
        const __m512i ax = _mm512_load_si512(p->ax + b * IC_QK);
        const __mmask64 neg = p->neg[b / 2];
        const __m512i idx =
            _mm512_add_epi32(_mm512_set1_epi32(q),
                             _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const char *ahead = (const char *)(wr[r] + g) + PREFETCH_BYTES;
            ic_x86_prefetch(ahead + 32 * q);
            if (q == 14) ic_x86_prefetch(ahead + 512);
            __m512i wv = load_pair(wr[r] + b, 1);
            wv = _mm512_mask_sub_epi8(wv, neg, zero, wv);
            __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, ax, wv));
            acc[r] = _mm512_fmadd_ps(f, _mm512_permutexvar_ps(idx, sv[r]), acc[r]);
        }
    }
}

/* Dot products of R rows with prepared blocks [b0, nb) of x, added into acc: the general path,
 * for a last group of fewer than 16 blocks and for the last rows. */
static inline __attribute__((always_inline)) void
rows_dot(const ic_block_q8_0 *const *wr, int R, const xprep *p, size_t b0, size_t nb, __m512 *acc) {
    const __m512i zero = _mm512_setzero_si512();
    for (size_t g = b0; g < nb; g += 16) {
        size_t ng = nb - g < 16 ? nb - g : 16;
        __mmask16 gm = (__mmask16)((1u << ng) - 1);
        __m512 dx = _mm512_maskz_load_ps(gm, p->dx + g);
        __m512 sv[IC_X86_GEMV_ROWS];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) sv[r] = _mm512_mul_ps(load_scales(wr[r] + g, ng), dx);
        for (size_t q = 0; q < ng; q += 2) {
            const size_t b = g + q;
            const int two = q + 1 < ng;
            const __m512i ax = _mm512_load_si512(p->ax + b * IC_QK);
            const __mmask64 neg = p->neg[b / 2];
            /* lanes 0-7 hold block q's sums, lanes 8-15 block q + 1's */
            const __m512i idx =
                _mm512_add_epi32(_mm512_set1_epi32((int)q),
                                 _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                _mm_prefetch((const char *)(wr[r] + b) + PREFETCH_BYTES, PREFETCH_HINT);
                __m512i wv = load_pair(wr[r] + b, two);
                wv = _mm512_mask_sub_epi8(wv, neg, zero, wv);
                __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, ax, wv));
                acc[r] = _mm512_fmadd_ps(f, _mm512_permutexvar_ps(idx, sv[r]), acc[r]);
            }
        }
    }
}

#define GEMV_ENTRY   ic_gemv_q8_0_avx512vnni
#define GEMV_RUNS    ic_gemv_runs_q8_0_avx512vnni
#define GEMV_WBLOCK  ic_block_q8_0
#define GEMV_PREP    xprep
#define GEMV_CHUNK   CHUNK_BLOCKS
#define GEMV_PREPARE prepare_x
#define GEMV_ROWS4   rows4_dot16
#define GEMV_ROWS    rows_dot
#include "gemv_streams_entry.h"

/* ---- several tokens at once (small-batch decode through the GEMM entry) ----
 *
 * The same 4-row streaming walk, but every weight pair is dotted with up to 4 tokens while it is
 * in registers, so a batch of n tokens streams the weights ceil(n / 4) times instead of n. The
 * activations go in as x + 128 (unsigned) and the weights as they are, so no per-token sign
 * fix-up: each accumulator starts at -128 * sum(w) over its four bytes (one vpdpbusd against ones
 * per weight pair, shared by the tokens), exact for every weight byte, -128 included. The two
 * block scales of a pair are expanded once per token and pass (dxe), and once per row and pair. */

/* Blocks of x prepared at a time (16 + 16 KiB per token): k up to 16384 in one pass, so each row
 * is read whole rather than as a slab per pass. */
#define M_CHUNK 512

typedef struct {
    uint8_t ux[M_CHUNK * IC_QK] __attribute__((aligned(64))); /* x + 128, two blocks per 64 B */
    float dxe[M_CHUNK / 2][16] __attribute__((aligned(64)));  /* pair q: 8 x dx[2q], 8 x dx[2q+1] */
} mprep;

static void prepare_multi(const ic_block_q8_0 *x, size_t nb, mprep *p) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    for (size_t b = 0; b < nb; b += 2) {
        const __m512i v = load_pair(x + b, 1);
        _mm512_store_si512(p->ux + b * IC_QK, _mm512_xor_si512(v, bias));
        const __m256 lo = _mm256_set1_ps(ic_x86_fp16(x[b].d)),
                     hi = _mm256_set1_ps(ic_x86_fp16(x[b + 1].d));
        _mm512_store_ps(p->dxe[b / 2], _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
    }
}

/* Full groups of 16 blocks, 4 rows x T tokens (T a constant at each call). */
static inline __attribute__((always_inline)) void
rows4_multi16(const int T, const ic_block_q8_0 *const *wr, const mprep *const *px, size_t g,
              size_t row_left, size_t row_bytes, __m512 acc[4][4]) {
    const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi8(1);
    __m512 dw[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) dw[r] = ic_x86_fp16x16(&wr[r][g].d, sizeof **wr);
    const size_t ahead = prefetch_ahead(g, row_left, row_bytes);
#pragma GCC unroll 8
    for (int q = 0; q < 16; q += 2) {
        const size_t b = g + (size_t)q;
        const __m512i idx =
            _mm512_add_epi32(_mm512_set1_epi32(q),
                             _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        __m512i ux[4];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) ux[t] = _mm512_load_si512(px[t]->ux + b * IC_QK);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            ic_x86_prefetch((const char *)(wr[r] + b) + ahead);
            ic_x86_prefetch((const char *)(wr[r] + b) + ahead + 64);
            const __m512i wv = load_pair(wr[r] + b, 1);
            const __m512i init =
                _mm512_sub_epi32(zero, _mm512_slli_epi32(_mm512_dpbusd_epi32(zero, ones, wv), 7));
            const __m512 dwe = _mm512_permutexvar_ps(idx, dw[r]);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) {
                const __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, ux[t], wv));
                acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(f, _mm512_load_ps(px[t]->dxe[b / 2])),
                                            dwe, acc[r][t]);
            }
        }
    }
}

#define TOK_ENTRY   ic_gemv_tokens_q8_0_avx512vnni
#define TOK_WBLOCK  ic_block_q8_0
#define TOK_PREP    mprep
#define TOK_CHUNK   M_CHUNK
#define TOK_PREPARE prepare_multi
#define TOK_ROWS    rows4_multi16
#define TOK_GEMV    ic_gemv_q8_0_avx512vnni
#include "gemv_tokens_entry.h"
