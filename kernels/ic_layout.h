/* Weight layouts: the ggml row-major rows every kernel can read, and the 16-row panels that the
 * AVX-512 micro-kernels read, made once when the weights are loaded (as llama.cpp's repacked CPU
 * buffers are). */
#ifndef IC_LAYOUT_H
#define IC_LAYOUT_H

#include <stddef.h>

#include "ic_types.h"

typedef enum ic_layout {
    /* Row r at r * ic_row_bytes(t, k): the ggml tensor as a GGUF file holds it. */
    IC_LAYOUT_ROWS = 0,
    /* Rows in panels of 16 (the last one padded with zero rows), panel p at p * panel stride.
     * Inside a panel the 16 rows are interleaved so that one 64-byte vector holds the same 4
     * bytes of every row, and a broadcast activation word multiplies all 16 rows at once:
     *   q8_0: per block b, 8 vectors (b * 512 + j * 64 + r * 4 + i = row r's quant 4j + i,
     *         stored as q + 128, unsigned, for vpdpbusd), then after all nb blocks the scales
     *         (b * 32 + r * 2: row r's fp16 scale);
     *   q4_0: per block b, 4 vectors (b * 256 + j * 64 + r * 4 + i = row r's byte 4j + i: low
     *         nibble value 4j + i, high nibble value 16 + 4j + i, as ggml), then the scales;
     *   bf16: per pair of columns c, one vector (c * 64 + r * 4 = row r's values 2c, 2c + 1;
     *         an odd k's last pair padded with 0), for vdpbf16ps.
     * Each panel is padded to a multiple of 64 bytes. */
    IC_LAYOUT_PANEL16,
    IC_LAYOUT_COUNT
} ic_layout;

#define IC_PANEL_ROWS 16

/* "rows" or "panel16". */
const char *ic_layout_name(ic_layout l);

/* Whether a type has the layout (rows: all; panel16: q8_0, q4_0, bf16). */
int ic_layout_supports(ic_layout l, ic_dtype t);

/* Bytes between panels (panel16) or rows (rows) of a matrix of k columns; 0 when the layout does
 * not hold the type or k is not a multiple of its block. */
size_t ic_layout_stride(ic_layout l, ic_dtype t, size_t k);

/* Bytes of a rows x k matrix in the layout (saturating at SIZE_MAX; 0 as above). */
size_t ic_layout_bytes(ic_layout l, ic_dtype t, size_t rows, size_t k);

/* Writes rows [r0, r0 + n) of a matrix in the layout from n ggml rows at src (row i at
 * i * ic_row_bytes(t, k)). For panel16, r0 is a multiple of 16 and n is 16, or less only for
 * the last panel, whose missing rows become zero. dst is the whole matrix. */
void ic_layout_pack(ic_layout l, ic_dtype t, const void *src, void *dst, size_t k, size_t r0,
                    size_t n);

/* The whole rows x k matrix from ggml rows at src into dst (ic_layout_bytes of them). */
void ic_layout_pack_all(ic_layout l, ic_dtype t, const void *src, void *dst, size_t rows, size_t k);

/* Row r of a matrix in the layout, back as ggml's row (ic_row_bytes(t, k) bytes at out): the
 * embedding lookup of a table the LM head also reads. */
void ic_layout_unpack_row(ic_layout l, ic_dtype t, const void *w, size_t k, size_t r, void *out);

#endif
