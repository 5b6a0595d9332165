/* The 2x2 tile machinery shared by the SVE matrix-multiply variants (SMMLA, BFMMLA). These
 * instructions work on each 128-bit segment of a vector: a 2-row tile of A times a 2-row tile of B
 * into a 2x2 f32/int32 tile [a0.b0, a0.b1, a1.b0, a1.b1]. Zipping the 64-bit chunks of two rows,
 * [r0c0 r1c0 r0c1 r1c1 ...], makes every segment such a tile, at any vector length. */
#ifndef IC_ARM_SVE_MMLA_H
#define IC_ARM_SVE_MMLA_H

#include "sve_common.h"

/* Segment tiles from two rows' vectors: zip1 holds the first half of the chunks, zip2 the rest. */
static inline svuint64_t ic__zip1_rows(svuint64_t r0, svuint64_t r1) {
    return svzip1_u64(r0, r1);
}
static inline svuint64_t ic__zip2_rows(svuint64_t r0, svuint64_t r1) {
    return svzip2_u64(r0, r1);
}

/* Sum of every segment's 2x2 tile into out[4]: out[u] adds lane u of each segment, one FADDV
 * over the lanes l % 4 == u (a scalar loop over the lanes cost 3 instructions per lane, and made
 * the count per output rise from 1024 bits on). */
static inline void ic__sum_tiles(svfloat32_t acc, float out[4]) {
    const svbool_t all = svptrue_b32();
    const svuint32_t lane = svand_n_u32_x(all, svindex_u32(0, 1), 3);
    for (uint32_t u = 0; u < 4; u++) out[u] = svaddv_f32(svcmpeq_n_u32(all, lane, u), acc);
}

/* Stores a 2x2 tile for weight rows r, rb and tokens t, tb; a repeated row or token (the odd
 * last one) is stored once. */
static inline void ic__store_tile(float *y, size_t ldy, size_t r, size_t rb, size_t t, size_t tb,
                                  const float s[4]) {
    y[t * ldy + r] = s[0];
    if (tb != t) y[tb * ldy + r] = s[1];
    if (rb != r) y[t * ldy + rb] = s[2];
    if (rb != r && tb != t) y[tb * ldy + rb] = s[3];
}

#endif
