/* Packing into and out of the weight layouts (ic_layout.h). Plain C: it runs once per matrix at
 * load, and an embedding row at a time. */
#include "ic_layout.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

const char *ic_layout_name(ic_layout l) {
    return l == IC_LAYOUT_ROWS ? "rows" : l == IC_LAYOUT_PANEL16 ? "panel16" : NULL;
}

int ic_layout_supports(ic_layout l, ic_dtype t) {
    if (l == IC_LAYOUT_ROWS) return ic_dtype_name(t) != NULL;
    return l == IC_LAYOUT_PANEL16 && (t == IC_DT_Q8_0 || t == IC_DT_Q4_0 || t == IC_DT_BF16);
}

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

size_t ic_layout_stride(ic_layout l, ic_dtype t, size_t k) {
    if (!ic_layout_supports(l, t) || ic_row_bytes(t, k) == 0) return 0;
    if (l == IC_LAYOUT_ROWS) return ic_row_bytes(t, k);
    /* 16 rows of the type's bytes, plus the padding: same size as 16 ggml rows when it is a
     * multiple of 64 (q8_0 with an even block count, q4_0 with an even one, bf16 always) */
    if (t == IC_DT_BF16) return (k + 1) / 2 * 64;
    return align64(IC_PANEL_ROWS * ic_row_bytes(t, k));
}

size_t ic_layout_bytes(ic_layout l, ic_dtype t, size_t rows, size_t k) {
    const size_t stride = ic_layout_stride(l, t, k);
    const size_t units = l == IC_LAYOUT_ROWS ? rows : (rows + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    if (stride == 0) return 0;
    return units > SIZE_MAX / stride ? SIZE_MAX : units * stride;
}

/* The quant area of a q8_0 / q4_0 panel: nb blocks of `qbytes` bytes, the scales after. */
static void pack_quant(ic_dtype t, const unsigned char *src, unsigned char *panel, size_t k,
                       size_t n) {
    const size_t nb = k / IC_QK, rb = ic_row_bytes(t, k);
    const size_t qbytes = t == IC_DT_Q8_0 ? 512 : 256; /* per block, 16 rows */
    uint16_t *scales = (uint16_t *)(panel + nb * qbytes);
    for (size_t r = 0; r < n; r++) {
        const unsigned char *row = src + r * rb;
        for (size_t b = 0; b < nb; b++) {
            unsigned char *q = panel + b * qbytes;
            if (t == IC_DT_Q8_0) {
                ic_block_q8_0 blk;
                memcpy(&blk, row + b * sizeof blk, sizeof blk);
                for (size_t e = 0; e < IC_QK; e++)
                    q[(e / 4) * 64 + r * 4 + e % 4] = (unsigned char)(blk.qs[e] + 128);
                scales[b * IC_PANEL_ROWS + r] = blk.d;
            } else {
                ic_block_q4_0 blk;
                memcpy(&blk, row + b * sizeof blk, sizeof blk);
                for (size_t e = 0; e < IC_QK / 2; e++) q[(e / 4) * 64 + r * 4 + e % 4] = blk.qs[e];
                scales[b * IC_PANEL_ROWS + r] = blk.d;
            }
        }
    }
}

static void pack_bf16(const uint16_t *src, uint16_t *panel, size_t k, size_t n) {
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < k; j++) panel[(j / 2) * 32 + r * 2 + j % 2] = src[r * k + j];
}

void ic_layout_pack(ic_layout l, ic_dtype t, const void *src, void *dst, size_t k, size_t r0,
                    size_t n) {
    const size_t stride = ic_layout_stride(l, t, k);
    assert(stride != 0);
    if (l == IC_LAYOUT_ROWS) {
        memcpy((unsigned char *)dst + r0 * stride, src, n * stride);
        return;
    }
    assert(r0 % IC_PANEL_ROWS == 0 && n >= 1 && n <= IC_PANEL_ROWS);
    unsigned char *panel = (unsigned char *)dst + r0 / IC_PANEL_ROWS * stride;
    memset(panel, 0, stride); /* missing rows and padding: zero (q8_0 quants 0 read as -128 with
                                 a zero scale, so they contribute nothing) */
    if (t == IC_DT_BF16)
        pack_bf16(src, (uint16_t *)panel, k, n);
    else
        pack_quant(t, src, panel, k, n);
}

void ic_layout_pack_all(ic_layout l, ic_dtype t, const void *src, void *dst, size_t rows,
                        size_t k) {
    const size_t step = l == IC_LAYOUT_ROWS ? rows : IC_PANEL_ROWS, rb = ic_row_bytes(t, k);
    for (size_t r = 0; r < rows; r += step)
        ic_layout_pack(l, t, (const unsigned char *)src + r * rb, dst, k, r,
                       rows - r < step ? rows - r : step);
}

void ic_layout_unpack_row(ic_layout l, ic_dtype t, const void *w, size_t k, size_t r, void *out) {
    const size_t stride = ic_layout_stride(l, t, k);
    assert(stride != 0);
    if (l == IC_LAYOUT_ROWS) {
        memcpy(out, (const unsigned char *)w + r * stride, stride);
        return;
    }
    const unsigned char *panel = (const unsigned char *)w + r / IC_PANEL_ROWS * stride;
    const size_t i = r % IC_PANEL_ROWS;
    if (t == IC_DT_BF16) {
        const uint16_t *p = (const uint16_t *)panel;
        for (size_t j = 0; j < k; j++) ((uint16_t *)out)[j] = p[(j / 2) * 32 + i * 2 + j % 2];
        return;
    }
    const size_t nb = k / IC_QK, qbytes = t == IC_DT_Q8_0 ? 512 : 256;
    const uint16_t *scales = (const uint16_t *)(panel + nb * qbytes);
    for (size_t b = 0; b < nb; b++) {
        const unsigned char *q = panel + b * qbytes;
        if (t == IC_DT_Q8_0) {
            ic_block_q8_0 blk;
            blk.d = scales[b * IC_PANEL_ROWS + i];
            for (size_t e = 0; e < IC_QK; e++)
                blk.qs[e] = (int8_t)(q[(e / 4) * 64 + i * 4 + e % 4] - 128);
            memcpy((unsigned char *)out + b * sizeof blk, &blk, sizeof blk);
        } else {
            ic_block_q4_0 blk;
            blk.d = scales[b * IC_PANEL_ROWS + i];
            for (size_t e = 0; e < IC_QK / 2; e++) blk.qs[e] = q[(e / 4) * 64 + i * 4 + e % 4];
            memcpy((unsigned char *)out + b * sizeof blk, &blk, sizeof blk);
        }
    }
}
