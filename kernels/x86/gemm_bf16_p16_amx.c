/* bf16 GEMM over 16-row panels (IC_LAYOUT_PANEL16) with AMX-BF16: the prefill path on CPUs with
 * tile units. Decode and small batches keep the AVX-512 BF16 panel kernel, which reads the same
 * bytes (gemm_bf16_p16_avx512bf16.c).
 *
 * The panel layout is tdpbf16ps's B operand as it stands: 32 columns of a panel are 16 column
 * pairs of 64 bytes (pair c holds columns 2c and 2c + 1 of each of the 16 rows), one 16 x 64-byte
 * tile (K = 32, N = 16). The A operand is 16 tokens' bf16 activations over the same 32 columns,
 * loaded from their rows (k apart). There are no block scales, so the float accumulator tiles add
 * up the whole of a k chunk on the tile unit, and the vector side only writes them into y.
 *
 * Register blocking: 2 panels x 2 groups of 16 tokens in 4 accumulator tiles, so each A and B
 * tile loaded feeds two multiplies. k is cut into chunks of up to KC_MAX x 32 columns, each
 * adding into y once more, and the tokens into chunks whose activations over a k chunk take
 * half of the L2 that hwloc reports (ic_cpu_l2_bytes): they stay there while every panel pair
 * of the range passes over them, and the panels stream. Tokens past the last whole group of 16, and
 * any k that is not a multiple of 32 (no real model has one), go to the AVX-512 BF16 panel kernel.
 */
#if !defined(__AMX_BF16__) && !defined(__AMXBF16__) /* GCC, clang */
#error "gemm_bf16_p16_amx.c needs AMX-BF16 (-mamx-tile -mamx-bf16)"
#endif

#include "../ic_cpu.h"
#include "../ic_dispatch.h"
#include "../ic_layout.h"
#include "amx_util.h"

#include <assert.h>
#include <immintrin.h>
#include <string.h>

#define GROUP 16 /* tokens per tile */
#define KT    32 /* columns per tile multiply: 16 pairs */
#define T_C00 0  /* accumulators: panel p + j, group g + i in T_C<i><j> */
#define T_C01 1
#define T_C10 2
#define T_C11 3
#define T_A0  4 /* activations of groups g, g + 1 */
#define T_A1  5
#define T_B0  6 /* weights of panels p, p + 1 */
#define T_B1  7

/* The chunks: kc column blocks (up to KC_MAX) and tc tokens (a multiple of two groups, at least
 * two) whose activations over the chunk take half of the L2 that hwloc reports. */
#define KC_MAX 64
static void chunks(size_t kblocks, size_t nw, size_t *kc, size_t *tc) {
    const size_t parts = (kblocks + KC_MAX - 1) / KC_MAX;
    *kc = (kblocks + parts - 1) / parts;
    size_t t = ic_cpu_l2_bytes() / 2 / (*kc * KT * 2) / (2 * GROUP) * (2 * GROUP);
    t = t < 2 * GROUP ? 2 * GROUP : t;
    *tc = t < nw ? t : nw;
}

/* np (1 or 2) panels from wq (stride bytes apart) x ng (1 or 2) groups from x (token rows xs
 * bytes apart) over kb column blocks, then into y. */
static void tile_block(const unsigned char *wq, size_t stride, const unsigned char *x, size_t xs,
                       size_t kb, int np, int ng, float *y, size_t ldy, size_t base, size_t lo,
                       size_t hi, int first) {
    float acc[GROUP][16] __attribute__((aligned(64)));
    _tile_zero(T_C00);
    _tile_zero(T_C01);
    _tile_zero(T_C10);
    _tile_zero(T_C11);
    for (size_t b = 0; b < kb; b++) {
        _tile_loadd(T_A0, x + b * KT * 2, xs);
        _tile_loadd(T_B0, wq + b * KT * 2 * IC_PANEL_ROWS, 64);
        _tile_dpbf16ps(T_C00, T_A0, T_B0);
        if (np == 2) {
            _tile_loadd(T_B1, wq + stride + b * KT * 2 * IC_PANEL_ROWS, 64);
            _tile_dpbf16ps(T_C01, T_A0, T_B1);
        }
        if (ng == 2) {
            _tile_loadd(T_A1, x + GROUP * xs + b * KT * 2, xs);
            _tile_dpbf16ps(T_C10, T_A1, T_B0);
            if (np == 2) _tile_dpbf16ps(T_C11, T_A1, T_B1);
        }
    }
    _tile_stored(T_C00, acc, 64);
    ic_amx_panel_to_y(&acc[0][0], y, ldy, base, lo, hi, first);
    if (np == 2) {
        _tile_stored(T_C01, acc, 64);
        ic_amx_panel_to_y(&acc[0][0], y, ldy, base + IC_PANEL_ROWS, lo, hi, first);
    }
    if (ng == 2) {
        _tile_stored(T_C10, acc, 64);
        ic_amx_panel_to_y(&acc[0][0], y + GROUP * ldy, ldy, base, lo, hi, first);
        if (np == 2) {
            _tile_stored(T_C11, acc, 64);
            ic_amx_panel_to_y(&acc[0][0], y + GROUP * ldy, ldy, base + IC_PANEL_ROWS, lo, hi,
                              first);
        }
    }
}

void ic_gemm_bf16_p16_amx(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                          size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && ldy >= r1);
    const size_t nw = k % KT == 0 ? n / GROUP * GROUP : 0, xs = k * 2;
    const unsigned char *wb = w, *xb = x;
    if (nw > 0 && r0 < r1) {
        const size_t stride = ic_layout_stride(IC_LAYOUT_PANEL16, IC_DT_BF16, k);
        const size_t kblocks = k / KT;
        size_t kc, tc;
        chunks(kblocks, nw, &kc, &tc);
        const size_t p0 = r0 / IC_PANEL_ROWS, p1 = (r1 + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
        static const uint8_t rows[8] = {16, 16, 16, 16, 16, 16, 16, 16};
        static const uint16_t colsb[8] = {64, 64, 64, 64, 64, 64, 64, 64};
        ic_amx_configure(rows, colsb);
        for (size_t b0 = 0; b0 < kblocks; b0 += kc) {
            const size_t kb = kblocks - b0 < kc ? kblocks - b0 : kc;
            for (size_t t0 = 0; t0 < nw; t0 += tc) {
                const size_t te = nw - t0 < tc ? nw : t0 + tc;
                for (size_t p = p0; p < p1; p += 2) {
                    const int np = p + 1 < p1 ? 2 : 1;
                    for (size_t t = t0; t < te; t += 2 * GROUP) {
                        const int ng = t + GROUP < te ? 2 : 1;
                        tile_block(wb + p * stride + b0 * KT * 2 * IC_PANEL_ROWS, stride,
                                   xb + t * xs + b0 * KT * 2, xs, kb, np, ng, y + t * ldy, ldy,
                                   p * IC_PANEL_ROWS, r0, r1, b0 == 0);
                    }
                }
            }
        }
        _tile_release();
    }
    if (nw < n) ic_gemm_bf16_p16_avx512bf16(w, xb + nw * xs, y + nw * ldy, k, n - nw, ldy, r0, r1);
}
