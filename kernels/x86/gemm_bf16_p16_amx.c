/* bf16 GEMM over 16-row panels (IC_LAYOUT_PANEL16) with AMX-BF16: the prefill path on CPUs with
 * tile units. Decode and small batches keep the AVX-512 BF16 panel kernel, which reads the same
 * bytes (gemm_bf16_p16_avx512bf16.c).
 *
 * The panel layout is tdpbf16ps's B operand as it stands: 32 columns of a panel are 16 column
 * pairs of 64 bytes (pair c holds columns 2c and 2c + 1 of each of the 16 rows), one 16 x 64-byte
 * tile (K = 32, N = 16). The A operand is 16 tokens' bf16 activations over the same 32 columns,
 * repacked once per (k chunk, token chunk) so that a tile is 1 KiB in a row. There are no block
 * scales, so the float accumulator tiles add up a whole k chunk on the tile unit; a panel that
 * lies wholly in the range moves its accumulators between the tile and y directly (a token's 16
 * results are one tile row), and only a panel cut by the range goes through the vector side.
 *
 * Register blocking: 2 panels x 2 groups of 16 tokens in 4 accumulator tiles, so each A and B
 * tile loaded feeds two multiplies. k is cut into chunks of up to KC_MAX x 32 columns, each
 * adding into y once more; the tokens into chunks whose repacked activations over a k chunk take
 * a quarter of the L2 that hwloc reports (ic_cpu_l2_bytes), where they stay while every panel
 * pair of the range passes over them. The panels stream from memory: while one pair runs, the
 * next pair's chunk is prefetched into L2, a few lines at each block step.
 *
 * Measured on a 2-vCPU Sapphire-Rapids-class VM (bench gemm/bf16/p16_amx/m:4096/k:14336, two
 * threads, medians of 3, same session): n = 512 went from 1.39 to 2.02 TFLOP/s, n = 64 from
 * 1.27 to 1.83 (29 GB/s of weights, about the read bound). The earlier form loaded A tiles from
 * the token rows (16 rows 28 KiB apart), added each chunk into y on the vector side and let the
 * first group pair of every panel pair wait on memory for its weights.
 *
 * Where the rest goes (same VM and bench, the tdpbf16ps probe at 5.7 TFLOP/s; a standalone loop
 * for the step, a driver calling this function for the rest, best of 4-5 runs):
 * - The 2 x 2 step (4 tile loads, 4 multiplies) runs 33-35 ns a thread with its tiles in L2,
 *   3.7-4.0 TFLOP/s: 4 tile loads alone take 29 ns, 4 multiplies on resident tiles 21, and 2
 *   loads hide under 4 multiplies (20 ns). So the form tops out at 65-70% of the probe. The step
 *   slows to 45 ns past about 1.3 MiB of tiles a core and to 88 ns at 2 MiB.
 * - With every panel pair reading the first pair's chunk (weights held in L2, results wrong,
 *   timing only) the kernel reaches 2.9-3.1 TFLOP/s at KC_MAX 64 and 3.2-3.5 at 128-224: each
 *   tile_block call costs about 0.6 us more than its steps. Neither y's round trip (accumulators
 *   kept in a local buffer instead) nor its latency (y prefetched for the next call) is it.
 * - With the weights from memory it is 1.95-2.2. A token chunk twice as long (each weight byte
 *   over 256 tokens) 1.98-2.19, four times 1.35; KC_MAX 32 1.72-1.87, 128 1.59-1.98; no
 *   prefetch of the next pair 1.88; tiles prefetched into L1 a few steps ahead 15-20% slower.
 * - The mirror order (a row chunk of panels in half the L2, every group pair of all the tokens
 *   over it, the activations streamed from L3) measured 1.5-2.0 over k chunks of 16 to 224
 *   blocks, with or without the next group pair's activations prefetched.
 *
 * Tokens past the last whole group of 16, and any k that is not a multiple of 32 (no real model
 * has one), go to the AVX-512 BF16 panel kernel, as does everything when the repack buffer
 * cannot be allocated. */
#if !defined(__AMX_BF16__) && !defined(__AMXBF16__) /* GCC, clang */
#error "gemm_bf16_p16_amx.c needs AMX-BF16 (-mamx-tile -mamx-bf16)"
#endif

#include "../ic_cpu.h"
#include "../ic_dispatch.h"
#include "../ic_layout.h"
#include "amx_util.h"

#include <assert.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define GROUP      16   /* tokens per tile */
#define KT         32   /* columns per tile multiply: 16 pairs */
#define TILE_BYTES 1024 /* one 16 x 64-byte tile: a panel's block, a group's repacked block */
#define T_C00      0    /* accumulators: panel p + j, group g + i in T_C<i><j> */
#define T_C01      1
#define T_C10      2
#define T_C11      3
#define T_A0       4 /* activations of groups g, g + 1 */
#define T_A1       5
#define T_B0       6 /* weights of panels p, p + 1 */
#define T_B1       7

/* The chunks: kc column blocks (up to KC_MAX, in chunks of equal length) and tc tokens (a
 * multiple of two groups, at least two) whose repacked activations over the chunk take a quarter
 * of the L2 that hwloc reports, beside the panel pair's chunk (128 KiB at KC_MAX) and the next
 * one coming in. */
#define KC_MAX 64
static void chunks(size_t kblocks, size_t nw, size_t *kc, size_t *tc) {
    const size_t parts = (kblocks + KC_MAX - 1) / KC_MAX;
    *kc = (kblocks + parts - 1) / parts;
    size_t t = ic_cpu_l2_bytes() / 4 / (*kc * TILE_BYTES / GROUP) / (2 * GROUP) * (2 * GROUP);
    t = t < 2 * GROUP ? 2 * GROUP : t;
    *tc = t < nw ? t : nw;
}

/* Tokens [t0, t0 + tn) (whole groups), column blocks [b0, b0 + kb) of the bf16 rows x (xs bytes
 * apart) into tiles: group g's block b is the 1 KiB at out + (g * kb + b) * TILE_BYTES, its 16
 * token rows 64 bytes apart, so an A tile is one contiguous read instead of 16 rows a whole
 * activation row (28 KiB at k = 14336) apart. */
static void repack(const unsigned char *x, size_t xs, size_t b0, size_t kb, size_t t0, size_t tn,
                   unsigned char *out) {
    for (size_t t = 0; t < tn; t++) {
        const unsigned char *src = x + (t0 + t) * xs + b0 * KT * 2;
        unsigned char *dst = out + t / GROUP * kb * TILE_BYTES + t % GROUP * KT * 2;
        for (size_t b = 0; b < kb; b++) memcpy(dst + b * TILE_BYTES, src + b * KT * 2, KT * 2);
    }
}

/* Whether panel `base` lies wholly in rows [lo, hi): its accumulators then move between the tile
 * and y directly (y's 16 floats of a token are a tile row, ldy floats apart). */
static inline int whole_panel(size_t base, size_t lo, size_t hi) {
    return lo <= base && base + IC_PANEL_ROWS <= hi;
}

/* Accumulator tile c for panel `base` and 16 tokens at y: zeroed when first or when the panel is
 * cut (added into y on the way out instead), else loaded from y. */
#define C_IN(c, y, base)                                                                           \
    do {                                                                                           \
        if (!first && whole_panel((base), lo, hi))                                                 \
            _tile_loadd(c, (y) + (base), ldy * sizeof(float));                                     \
        else                                                                                       \
            _tile_zero(c);                                                                         \
    } while (0)

#define C_OUT(c, y, base)                                                                          \
    do {                                                                                           \
        if (whole_panel((base), lo, hi)) {                                                         \
            _tile_stored(c, (y) + (base), ldy * sizeof(float));                                    \
        } else {                                                                                   \
            _tile_stored(c, acc, 64);                                                              \
            ic_amx_panel_to_y(&acc[0][0], (y), ldy, (base), lo, hi, first);                        \
        }                                                                                          \
    } while (0)

/* np (1 or 2) panels from wq (stride bytes apart) x ng (1 or 2) groups of repacked activations
 * from a (the second group kb tiles on) over kb column blocks, added into y (stored when
 * first). */
static void tile_block(const unsigned char *wq, size_t stride, const unsigned char *a, size_t kb,
                       int np, int ng, float *y, size_t ldy, size_t base, size_t lo, size_t hi,
                       int first, ic_amx_next *pf) {
    float acc[GROUP][16] __attribute__((aligned(64)));
    float *y1 = y + GROUP * ldy;
    const size_t base1 = base + IC_PANEL_ROWS;
    C_IN(T_C00, y, base);
    if (np == 2) C_IN(T_C01, y, base1);
    if (ng == 2) C_IN(T_C10, y1, base);
    if (np == 2 && ng == 2) C_IN(T_C11, y1, base1);
    const unsigned char *a1 = a + kb * TILE_BYTES;
    for (size_t b = 0; b < kb; b++) {
        if (pf) ic_amx_fetch_next(pf);
        _tile_loadd(T_A0, a + b * TILE_BYTES, 64);
        _tile_loadd(T_B0, wq + b * TILE_BYTES, 64);
        _tile_dpbf16ps(T_C00, T_A0, T_B0);
        if (np == 2) {
            _tile_loadd(T_B1, wq + stride + b * TILE_BYTES, 64);
            _tile_dpbf16ps(T_C01, T_A0, T_B1);
        }
        if (ng == 2) {
            _tile_loadd(T_A1, a1 + b * TILE_BYTES, 64);
            _tile_dpbf16ps(T_C10, T_A1, T_B0);
            if (np == 2) _tile_dpbf16ps(T_C11, T_A1, T_B1);
        }
    }
    C_OUT(T_C00, y, base);
    if (np == 2) C_OUT(T_C01, y, base1);
    if (ng == 2) C_OUT(T_C10, y1, base);
    if (np == 2 && ng == 2) C_OUT(T_C11, y1, base1);
}

/* The whole groups of tokens: every (k chunk, token chunk) repacked once, then each panel pair
 * of the range over the chunk's group pairs. Returns -1 when the chunk buffer cannot be had. */
static int amx_groups(const unsigned char *wb, const unsigned char *x, float *y, size_t k,
                      size_t nw, size_t ldy, size_t r0, size_t r1) {
    const size_t stride = ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_BF16, k), xs = k * 2;
    const size_t kblocks = k / KT;
    size_t kc, tc;
    chunks(kblocks, nw, &kc, &tc);
    unsigned char *buf = aligned_alloc(64, tc / GROUP * kc * TILE_BYTES);
    if (buf == NULL) return -1;
    const size_t p0 = r0 / IC_PANEL_ROWS, p1 = (r1 + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    static const uint8_t rows[8] = {16, 16, 16, 16, 16, 16, 16, 16};
    static const uint16_t colsb[8] = {64, 64, 64, 64, 64, 64, 64, 64};
    ic_amx_configure(rows, colsb);
    for (size_t b0 = 0; b0 < kblocks; b0 += kc) {
        const size_t kb = kblocks - b0 < kc ? kblocks - b0 : kc;
        for (size_t t0 = 0; t0 < nw; t0 += tc) {
            const size_t tn = nw - t0 < tc ? nw - t0 : tc;
            repack(x, xs, b0, kb, t0, tn, buf);
            for (size_t p = p0; p < p1; p += 2) {
                const int np = p + 1 < p1 ? 2 : 1;
                /* the next pair's chunks (none past the range), over this pair's block steps */
                const size_t chunk = kb * TILE_BYTES;
                ic_amx_next pf = ic_amx_next_init(
                    p + 2 < p1 ? wb + (p + 2) * stride + b0 * TILE_BYTES : NULL, chunk,
                    p + 3 < p1 ? wb + (p + 3) * stride + b0 * TILE_BYTES : NULL, chunk,
                    (tn / GROUP + 1) / 2 * kb);
                for (size_t g = 0; g < tn / GROUP; g += 2) {
                    const int ng = g + 1 < tn / GROUP ? 2 : 1;
                    tile_block(wb + p * stride + b0 * TILE_BYTES, stride, buf + g * kb * TILE_BYTES,
                               kb, np, ng, y + (t0 + g * GROUP) * ldy, ldy, p * IC_PANEL_ROWS, r0,
                               r1, b0 == 0, p + 2 < p1 ? &pf : NULL);
                }
            }
        }
    }
    _tile_release();
    free(buf);
    return 0;
}

void ic_gemm_bf16_p16_amx(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                          size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && ldy >= r1);
    size_t nw = k % KT == 0 ? n / GROUP * GROUP : 0;
    const unsigned char *xb = x;
    /* without its buffer (out of memory), every token goes to the AVX-512 BF16 kernel */
    if (nw > 0 && r0 < r1 && amx_groups(w, xb, y, k, nw, ldy, r0, r1) != 0) nw = 0;
    if (nw < n)
        ic_gemm_bf16_p16_avx512bf16(w, xb + nw * k * 2, y + nw * ldy, k, n - nw, ldy, r0, r1);
}
