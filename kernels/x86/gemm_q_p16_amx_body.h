/* The q8_0 and q4_0 GEMMs over 16-row panels (IC_LAYOUT_PANEL16) with AMX-INT8: the prefill
 * path on CPUs with tile units (Sapphire Rapids and later). Included by gemm_q8_0_p16_amx.c
 * (IC_P16_Q4 = 0) and gemm_q4_0_p16_amx.c (1); not a public header. Decode (one token) and small
 * batches keep the AVX-512 VNNI panel kernels, which read the same bytes
 * (p16_q_avx512vnni_body.h). Against them, bench gemm/<type>/<isa>/m:4096/k:14336, two threads,
 * on a 2-vCPU Sapphire-Rapids-class VM: q8_0 n = 512 0.76 TOP/s there, 1.23-1.31 here; q4_0
 * n = 512 0.68-0.73 there, 1.32-1.36 here, n = 64 0.67-0.68 there, 1.24-1.25 here.
 *
 * A tile multiply's B operand for one q8_0 block is 8 rows of 64 bytes, row j holding quants
 * 4j .. 4j + 3 of each of the 16 weight rows (K = 32, N = 16): a q8_0 panel's block as stored,
 * but for the sign (the VNNI kernels keep q + 128), and a q4_0 panel's block unpacked (its 4
 * vectors hold quants 4j .. 4j + 3 in their low nibbles and 16 + 4j .. in their high ones, as
 * q + 8). Each panel's chunk is turned into signed quants once (panel_to_signed: an XOR, or a
 * nibble unpack), amortized over the chunk's token groups, so tdpbssd needs no correction term.
 * The A operand is 16 tokens' quants of the same block, repacked per chunk into 8 lines in a
 * row.
 *
 * Every block has its own scales, so each block's 16 tokens x 16 rows int32 tile is stored and
 * turned into floats on the vector side: per token, y += acc * (dx * dw). That epilogue (a
 * convert, a multiply and an FMA per 16 results) and the tile stores are the kernel's limit, not
 * the tile unit; two tiles in flight let the tile multiply of block b + 1 run under the epilogue
 * of block b. (With weights as q + 128, a correction -128 * dx * sum(x) * dw took a fourth FMA
 * per 16 results: bench gemm/q8_0/p16_amx/m:4096/k:14336/n:512, two threads, interleaved runs on
 * a 2-vCPU Sapphire-Rapids-class VM, 1.07-1.14 TOP/s with it, 1.29-1.33 without.)
 *
 * Blocking: a token chunk (up to TC_MAX tokens, 16 at a time) and a k chunk sized so that the
 * chunk's activations and one panel's weights (as stored and as signed) fit in half the L2 that
 * hwloc reports (ic_cpu_l2_bytes). Within a chunk every panel of the range passes once, and each
 * panel's weights stay in L2 while the chunk's token groups go over them; the next panel's chunk
 * is prefetched into L2 meanwhile (ic_amx_fetch_next), so its first group does not wait on
 * memory (q8_0, same bench: n = 64 from 1.00-1.07 to 1.21-1.28 TOP/s, n = 512 unchanged at
 * 1.08-1.20, where the epilogue is the limit). Tokens past the last whole group of 16 go to the
 * VNNI panel kernel. */
#if !defined(__AMX_INT8__) && !defined(__AMXINT8__) /* GCC, clang */
#error "gemm_q*_p16_amx.c need AMX-INT8 (-mamx-tile -mamx-int8)"
#endif

#include "../ic_cpu.h"
#include "../ic_dispatch.h"
#include "../ic_layout.h"
#include "amx_util.h"

#include <assert.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#if IC_P16_Q4
#define WBYTES 256 /* quant bytes of one block of a panel as stored */
#define WTYPE  IC_DT_Q4_0
#define VNNI   ic_gemm_q4_0_p16_avx512vnni
#else
#define WBYTES 512
#define WTYPE  IC_DT_Q8_0
#define VNNI   ic_gemm_q8_0_p16_avx512vnni
#endif
#define QBYTES 512 /* signed quant bytes of one block: 8 tile rows of 64 */
#define GROUP  16  /* tokens per tile */
#define TC_MAX 256 /* most tokens per chunk */
#define T_C0   0   /* accumulator tiles: blocks b, b + 1 (C0, C1) and b + 2, b + 3 (C2, C3) */
#define T_C1   1
#define T_C2   2
#define T_C3   3
#define T_A0   4 /* activations of a pair of blocks */
#define T_A1   5
#define T_B0   6 /* weights of a pair of blocks */
#define T_B1   7

/* Tiles: 16 x 64-byte accumulators, 16 x 32-byte activation rows, 8 x 64-byte weight rows. */
static void configure_tiles(void) {
    static const uint8_t rows[8] = {GROUP, GROUP, GROUP,       GROUP,
                                    GROUP, GROUP, QBYTES / 64, QBYTES / 64};
    static const uint16_t colsb[8] = {64, 64, 64, 64, IC_QK, IC_QK, 64, 64};
    ic_amx_configure(rows, colsb);
}

/* One block of a 16-token group, repacked from the tokens' q8_0s rows: the quants as the A tile
 * reads them (8 lines in a row, not 16 scattered), the scales side by side for the epilogue's
 * broadcasts at fixed offsets. */
typedef struct {
    int8_t qs[GROUP][IC_QK];
    float d[GROUP];
} group_block;

/* Blocks b and b + 1 into accumulator tiles ca and cb. */
#define TILE_PAIR(ca, cb, b)                                                                       \
    do {                                                                                           \
        _tile_zero(ca);                                                                            \
        _tile_zero(cb);                                                                            \
        _tile_loadd(T_A0, x[b].qs, IC_QK);                                                         \
        _tile_loadd(T_B0, wq + (b)*QBYTES, 64);                                                    \
        _tile_dpbssd(ca, T_A0, T_B0);                                                              \
        _tile_loadd(T_A1, x[(b) + 1].qs, IC_QK);                                                   \
        _tile_loadd(T_B1, wq + ((b) + 1) * QBYTES, 64);                                            \
        _tile_dpbssd(cb, T_A1, T_B1);                                                              \
    } while (0)

/* The 16 tokens' float sums live in 16 named registers (an array of them stayed in memory,
 * loaded and stored around every FMA). */
#define FOR_TOKENS(X)                                                                              \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define F_DECLARE(t) __m512 f##t = _mm512_setzero_ps();
#define F_TOKEN(t)                                                                                 \
    f##t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(acc_[t])),                         \
                           _mm512_mul_ps(_mm512_set1_ps(xg_->d[t]), dw_), f##t);
#define F_STORE(t) _mm512_store_ps(out + 16 * (t), f##t);

/* One block's tile (ACC: 16 tokens x 16 rows, int32) into f0 .. f15, the tokens' float sums:
 * f += acc * (dx * dw), the token scales dx as broadcasts from the group block XG, the row
 * scales dw from WD. */
#define EPILOGUE(ACC, XG, WD)                                                                      \
    do {                                                                                           \
        const int32_t(*acc_)[16] = (const int32_t(*)[16])(ACC);                                    \
        const group_block *xg_ = (XG);                                                             \
        const __m512 dw_ = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(WD)));             \
        FOR_TOKENS(F_TOKEN)                                                                        \
    } while (0)

/* One panel x 16 tokens over blocks [0, kb) of a chunk, into y (ic_amx_panel_to_y): wq the
 * panel's chunk of signed quants (panel_to_signed), wd its scales, x the group's repacked blocks
 * of the chunk (repack). The tile unit runs a pair of blocks ahead of the epilogue: each pair's
 * tiles are stored, the next pair's multiplies issued, and only then the stored pair turned into
 * floats, so the two run side by side (4 accumulator tiles in turn). */
static void panel_group(const int8_t *wq, const uint16_t *wd, const group_block *x, size_t kb,
                        float *y, size_t ldy, size_t base, size_t lo, size_t hi, int first,
                        ic_amx_next *pf) {
    int32_t acc[2][GROUP][16] __attribute__((aligned(64)));
    FOR_TOKENS(F_DECLARE)
    const size_t pairs = kb / 2;
    if (pairs > 0) TILE_PAIR(T_C0, T_C1, 0);
    for (size_t q = 0; q < pairs; q += 2) { /* pair q in C0/C1, pair q + 1 in C2/C3 */
        const size_t b = 2 * q;
        if (pf) ic_amx_fetch_next(pf);
        _tile_stored(T_C0, acc[0], 64);
        _tile_stored(T_C1, acc[1], 64);
        if (q + 1 < pairs) TILE_PAIR(T_C2, T_C3, b + 2);
        EPILOGUE(acc[0], x + b, wd + b * IC_PANEL_ROWS);
        EPILOGUE(acc[1], x + b + 1, wd + (b + 1) * IC_PANEL_ROWS);
        if (q + 1 >= pairs) break;
        _tile_stored(T_C2, acc[0], 64);
        _tile_stored(T_C3, acc[1], 64);
        if (q + 2 < pairs) TILE_PAIR(T_C0, T_C1, b + 4);
        EPILOGUE(acc[0], x + b + 2, wd + (b + 2) * IC_PANEL_ROWS);
        EPILOGUE(acc[1], x + b + 3, wd + (b + 3) * IC_PANEL_ROWS);
    }
    if (kb % 2) { /* the last block alone */
        const size_t b = kb - 1;
        _tile_zero(T_C0);
        _tile_loadd(T_A0, x[b].qs, IC_QK);
        _tile_loadd(T_B0, wq + b * QBYTES, 64);
        _tile_dpbssd(T_C0, T_A0, T_B0);
        _tile_stored(T_C0, acc[0], 64);
        EPILOGUE(acc[0], x + b, wd + b * IC_PANEL_ROWS);
    }
    float out[GROUP * 16] __attribute__((aligned(64)));
    FOR_TOKENS(F_STORE)
    ic_amx_panel_to_y(out, y, ldy, base, lo, hi, first);
}

/* The chunks: tokens tc (a multiple of GROUP, at most TC_MAX, at most the groups there are) and
 * k blocks kc so that tc tokens' activations and one panel (as stored and as signed) fit in half
 * of L2. */
static void chunks(size_t groups, size_t nb, size_t *kc, size_t *tc) {
    *tc = groups * GROUP < TC_MAX ? groups * GROUP : TC_MAX;
    size_t k = ic_cpu_l2_bytes() / 2 /
               (WBYTES + QBYTES + 2 * IC_PANEL_ROWS + *tc * sizeof(ic_block_q8_0s));
    k = k < 2 ? 2 : k;
    const size_t parts = (nb + k - 1) / k;
    *kc = (nb + parts - 1) / parts;
}

/* Tokens [t0, t0 + tn) (whole groups), blocks [b0, b0 + kb) of the q8_0s rows x into groups:
 * group g's block b at out[g * kb + b]. */
static void repack(const ic_block_q8_0s *x, size_t nb, size_t b0, size_t kb, size_t t0, size_t tn,
                   group_block *out) {
    for (size_t t = 0; t < tn; t++) {
        const ic_block_q8_0s *src = x + (t0 + t) * nb + b0;
        group_block *dst = out + t / GROUP * kb;
        const size_t i = t % GROUP;
        for (size_t b = 0; b < kb; b++) {
            memcpy(dst[b].qs[i], src[b].qs, IC_QK);
            dst[b].d[i] = src[b].d;
        }
    }
}

/* A panel's kb blocks of quants as stored (q + 128 in q8_0 bytes, q + 8 in q4_0 nibbles) into
 * signed q8_0 tile rows, once per panel and k chunk for all of the chunk's token groups. */
static void panel_to_signed(const unsigned char *wq, size_t kb, int8_t *out) {
#if IC_P16_Q4
    const __m512i low = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    for (size_t b = 0; b < kb; b++)
        for (int j = 0; j < 4; j++) {
            const __m512i v = _mm512_loadu_si512(wq + b * WBYTES + j * 64);
            const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
            _mm512_store_si512(out + b * QBYTES + j * 64,
                               _mm512_sub_epi8(_mm512_and_si512(v, low), eight));
            _mm512_store_si512(out + b * QBYTES + (j + 4) * 64, _mm512_sub_epi8(hi, eight));
        }
#else
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (size_t i = 0; i < kb * QBYTES; i += 64)
        _mm512_store_si512(out + i, _mm512_xor_si512(_mm512_loadu_si512(wq + i), flip));
#endif
}

/* The whole groups of tokens: every (k chunk, token chunk) repacked once, then each panel of
 * the range over each of its groups. Returns -1 when the chunk buffer cannot be had. */
static int amx_groups(const unsigned char *wb, const ic_block_q8_0s *x, float *y, size_t nb,
                      size_t stride, size_t nw, size_t ldy, size_t r0, size_t r1) {
    size_t kc, tc;
    chunks(nw / GROUP, nb, &kc, &tc);
    const size_t bytes = (tc / GROUP * kc * sizeof(group_block) + 63) / 64 * 64;
    group_block *buf = aligned_alloc(64, bytes + kc * QBYTES);
    if (buf == NULL) return -1;
    int8_t *ws = (int8_t *)buf + bytes; /* the current panel's chunk, signed */
    const size_t p0 = r0 / IC_PANEL_ROWS, p1 = (r1 + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    configure_tiles();
    for (size_t b0 = 0; b0 < nb; b0 += kc) {
        const size_t kb = nb - b0 < kc ? nb - b0 : kc;
        for (size_t t0 = 0; t0 < nw; t0 += tc) {
            const size_t tn = nw - t0 < tc ? nw - t0 : tc;
            repack(x, nb, b0, kb, t0, tn, buf);
            for (size_t p = p0; p < p1; p++) {
                const unsigned char *wq = wb + p * stride + b0 * WBYTES;
                const uint16_t *wd =
                    (const uint16_t *)(wb + p * stride + nb * WBYTES) + b0 * IC_PANEL_ROWS;
                /* the next panel's quants and scales of the chunk, over this panel's steps: one
                 * per turn of panel_group's loop, which takes four blocks */
                ic_amx_next pf = ic_amx_next_init(
                    p + 1 < p1 ? wq + stride : NULL, kb * WBYTES,
                    p + 1 < p1 ? (const unsigned char *)wd + stride : NULL,
                    kb * IC_PANEL_ROWS * sizeof(uint16_t), tn / GROUP * ((kb / 2 + 1) / 2));
                panel_to_signed(wq, kb, ws);
                for (size_t g = 0; g < tn / GROUP; g++)
                    panel_group(ws, wd, buf + g * kb, kb, y + (t0 + g * GROUP) * ldy, ldy,
                                p * IC_PANEL_ROWS, r0, r1, b0 == 0, p + 1 < p1 ? &pf : NULL);
            }
        }
    }
    _tile_release();
    free(buf);
    return 0;
}

void IC_P16_AMX_FN(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                   size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && ldy >= r1 && k % IC_QK == 0);
    const size_t nb = k / IC_QK, stride = ic_layout_stride(IC_LAYOUT_PANEL16, WTYPE, k);
    size_t nw = n / GROUP * GROUP;
    const ic_block_q8_0s *xb = x;
    /* without its buffer (out of memory), every token goes to the VNNI kernel */
    if (nw > 0 && r0 < r1 && amx_groups(w, xb, y, nb, stride, nw, ldy, r0, r1) != 0) nw = 0;
    if (nw < n) VNNI(w, xb + nw * nb, y + nw * ldy, k, n - nw, ldy, r0, r1);
}
