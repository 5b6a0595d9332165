/* q8_0 and q4_0 dot products for the SVE GEMV and GEMM: one or two rows ("shared") against four
 * ("each"), so that a shared row's blocks are loaded once for four dot products and an each-row's
 * once for both shared rows, with as many 32-value blocks in a vector as fit. How a block meets a
 * vector depends on the length:
 *   128 bits: a block is two vectors (two SDOTs, one scale);
 *   256 bits: one vector, loaded contiguously (lanes past the block's 32 bytes load zeros);
 *   512 and up: G = VL / 256 blocks per vector. A q8_0 block is 34 bytes (scale, then values), so
 *     G blocks' values are not contiguous: one LD1D gather takes them as 8-byte pieces (lane l of
 *     a 64-bit vector from block l / 4), and SDOT sums block b into the 32-bit lanes 8b .. 8b + 7,
 *     the two 128-bit segments 2b and 2b + 1.
 * Scales are applied per segment with the indexed FMLA: in every segment of a vector P, lane u
 * holds the shared row's scale times each-row u's scale for the segment's block, so the sum of
 * shared row n and each-row u is scaled by one FMLA with P's lane u. One LD1H gather fills the
 * four each-rows' scales (lane u of a segment from row u, the segment's block), one multiply by
 * the shared row's scales makes P: the scales of four dot products cost what one did, and those
 * of G blocks what one block's did. The instruction count per element then falls with the
 * vector length (ci/arm_insn_count.py). A gather counts as one instruction; on hardware it costs
 * about one access per lane, which is why 256 bits keeps the contiguous loads for the values. */
#ifndef IC_ARM_SVE_QDOT_H
#define IC_ARM_SVE_QDOT_H

#include <assert.h>
#include <stdint.h>

#include "sve_common.h"

#define IC__QV_INLINE static inline __attribute__((always_inline))

enum { IC__QV_HALF, IC__QV_ONE, IC__QV_MANY };

/* Blocks per vector step: G from 512 bits, else 1. */
IC__QV_INLINE size_t ic__qv_blocks(int mode) {
    return mode == IC__QV_MANY ? svcntb() / IC_QK : 1;
}

/* The byte offsets of a group's 8-byte value pieces from its first block: lane l reads piece l % 4
 * of block l / 4 (q8_0), or for q4_0 (16 bytes of nibbles) piece l % 2, so that each block's
 * bytes come twice, the first copy for its low nibbles and the second for its high ones
 * (ic__qv_nibble_shifts). */
IC__QV_INLINE svuint64_t ic__qv_value_offsets(int q4) {
    const svbool_t all = svptrue_b64();
    const svuint64_t l = svindex_u64(0, 1);
    const svuint64_t piece = q4 ? svand_n_u64_x(all, l, 1) : svand_n_u64_x(all, l, 3);
    const uint64_t stride = q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0);
    return svadd_n_u64_x(
        all, svmla_n_u64_x(all, svlsl_n_u64_x(all, piece, 3), svlsr_n_u64_x(all, l, 2), stride),
        offsetof(ic_block_q8_0, qs));
}

/* The byte offset of block l / 8's scale for 32-bit lane l. */
IC__QV_INLINE svint32_t ic__qv_scale_offsets(int q4) {
    const int32_t stride = q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0);
    return svmul_n_s32_x(svptrue_b32(), svasr_n_s32_x(svptrue_b32(), svindex_s32(0, 1), 3), stride);
}

/* Per byte lane: 0 where the lane takes a low nibble (values 0..15 of its block), 4 where it
 * takes a high one (16..31). */
IC__QV_INLINE svuint8_t ic__qv_nibble_shifts(void) {
    const svbool_t all = svptrue_b8();
    return svlsl_n_u8_x(all, svand_n_u8_x(all, svlsr_n_u8_x(all, svindex_u8(0, 1), 4), 1), 2);
}

/* The values of the group at block b as signed bytes; `part` is the second half of the block at
 * 128 bits. q4_0 values are the nibbles 0..15, the -8 is the caller's. pv is the load's
 * predicate: bytes (128 and 256 bits) or 64-bit pieces (512 and up). */
IC__QV_INLINE svint8_t ic__qv_values(const void *b, int q4, int mode, int part, svbool_t pv,
                                     svuint64_t offs, svuint8_t shifts) {
    const svbool_t all = svptrue_b8();
    if (!q4) {
        if (mode == IC__QV_MANY)
            return svreinterpret_s8_u64(
                svld1_gather_u64base_offset_u64(pv, offs, (int64_t)(uintptr_t)b));
        return svld1_s8(pv, ((const ic_block_q8_0 *)b)->qs + 16 * part);
    }
    const uint8_t *qs = ((const ic_block_q4_0 *)b)->qs;
    if (mode == IC__QV_HALF) {
        const svuint8_t q = svld1_u8(all, qs);
        return svreinterpret_s8_u8(part ? svlsr_n_u8_x(all, q, 4) : svand_n_u8_x(all, q, 0x0f));
    }
    const svuint8_t q = mode == IC__QV_ONE
                            ? svld1rq_u8(all, qs) /* the 16 bytes in every 128-bit quarter */
                            : svreinterpret_u8_u64(
                                  svld1_gather_u64base_offset_u64(pv, offs, (int64_t)(uintptr_t)b));
    return svreinterpret_s8_u8(svand_n_u8_x(all, svlsr_u8_x(all, q, shifts), 0x0f));
}

/* Scales as f32 from the fp16 at byte offsets offs (one per 32-bit lane) from b's scale, or, with
 * broadcast, b's scale in every lane. The scale is the first field of both block types. */
IC__QV_INLINE svfloat32_t ic__qv_scales(const void *b, int broadcast, svbool_t ps, svint32_t offs) {
    const uint16_t *d = (const uint16_t *)b;
    const svuint32_t h = broadcast ? svreinterpret_u32_u16(svdup_n_u16(*d))
                                   : svld1uh_gather_s32offset_u32(ps, d, offs);
    /* FCVT reads the low half of each 32-bit lane; inactive lanes loaded 0 and stay 0 */
    return svcvt_f32_f16_x(svptrue_b32(), svreinterpret_f16_u32(h));
}

IC__QV_INLINE const void *ic__qv_block(const void *row, size_t i, int q4) {
    return (const unsigned char *)row + i * (q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0));
}

/* Shared row n's group from block i: its values with q4_0's -8 applied, its scales, and where
 * its dot products' integer sums start: with q4_0 on the each side, -8 times the sum of these
 * values, so that SDOT gives sum (q - 8) x directly and the four each-rows skip the subtraction. */
#define IC__QV_SHARED(n, i, pv, ps)                                                                \
    const void *sb##n = ic__qv_block(s[n], (i), sq4);                                              \
    svint8_t s##n##v0 = ic__qv_values(sb##n, sq4, mode, 0, (pv), soffs, shifts);                   \
    svint8_t s##n##v1 = s##n##v0;                                                                  \
    if (mode == IC__QV_HALF) s##n##v1 = ic__qv_values(sb##n, sq4, mode, 1, (pv), soffs, shifts);   \
    if (sq4) {                                                                                     \
        s##n##v0 = svsub_n_s8_x(all8, s##n##v0, 8);                                                \
        if (mode == IC__QV_HALF) s##n##v1 = svsub_n_s8_x(all8, s##n##v1, 8);                       \
    }                                                                                              \
    svint32_t s##n##start = svdup_n_s32(0);                                                        \
    if (eq4) {                                                                                     \
        s##n##start = svdot_n_s32(s##n##start, s##n##v0, -8);                                      \
        if (mode == IC__QV_HALF) s##n##start = svdot_n_s32(s##n##start, s##n##v1, -8);             \
    }                                                                                              \
    const svfloat32_t p##n =                                                                       \
        svmul_f32_x(all32, escales, ic__qv_scales(sb##n, mode != IC__QV_MANY, (ps), soffs_d));

/* Each-row k's group from block i against each shared row: the integer sums, scaled by lane k of
 * the shared row's P, into a<n><k>. */
#define IC__QV_EACH(k, i, pv)                                                                      \
    {                                                                                              \
        const void *eb = ic__qv_block(e[k], (i), eq4);                                             \
        const svint8_t ev0 = ic__qv_values(eb, eq4, mode, 0, (pv), eoffs, shifts);                 \
        svint8_t ev1 = ev0;                                                                        \
        if (mode == IC__QV_HALF) ev1 = ic__qv_values(eb, eq4, mode, 1, (pv), eoffs, shifts);       \
        IC__QV_SUM(0, k)                                                                           \
        if (nshared == 2) IC__QV_SUM(1, k)                                                         \
    }

#define IC__QV_SUM(n, k)                                                                           \
    {                                                                                              \
        svint32_t sum = svdot_s32(s##n##start, s##n##v0, ev0);                                     \
        if (mode == IC__QV_HALF) sum = svdot_s32(sum, s##n##v1, ev1);                              \
        a##n##k = svmla_lane_f32(a##n##k, svcvt_f32_s32_x(all32, sum), p##n, k);                   \
    }

#define IC__QV_GROUP(i, pv, ps)                                                                    \
    do {                                                                                           \
        const svfloat32_t escales = ic__qv_scales(ic__qv_block(e[0], (i), eq4), 0, (ps), eoffs_d); \
        IC__QV_SHARED(0, i, pv, ps)                                                                \
        IC__QV_SHARED(1, i, pv, ps)                                                                \
        IC__QV_EACH(0, i, pv)                                                                      \
        IC__QV_EACH(1, i, pv)                                                                      \
        IC__QV_EACH(2, i, pv)                                                                      \
        IC__QV_EACH(3, i, pv)                                                                      \
    } while (0)

IC__QV_INLINE void ic__qv_dot_mode(const void *const s[2], int sq4, size_t nshared,
                                   const void *const e[4], int eq4, size_t nb, float out[8],
                                   int mode) {
    const svbool_t all8 = svptrue_b8(), all32 = svptrue_b32();
    const size_t g = ic__qv_blocks(mode);
    /* The each-rows' scales: lane u of every segment from row e[u], plus, from 512 bits, the
     * segment's block (segment j of block j / 2). */
    int32_t rel[4];
    for (int u = 0; u < 4; u++) {
        const ptrdiff_t d = (const char *)e[u] - (const char *)e[0];
        assert(d >= INT32_MIN && d <= INT32_MAX);
        rel[u] = (int32_t)d;
    }
    svint32_t eoffs_d = svdupq_n_s32(rel[0], rel[1], rel[2], rel[3]), soffs_d = svdup_n_s32(0);
    svuint64_t soffs = svdup_n_u64(0), eoffs = soffs;
    svuint8_t shifts = svdup_n_u8(0);
    /* Whole groups: every byte of the block (128 bits), its 32 (256), or G blocks' pieces. */
    svbool_t pv = mode == IC__QV_ONE ? svwhilelt_b8_u64(0, IC_QK) : all8;
    svbool_t ps = all32;
    if (mode == IC__QV_MANY) {
        soffs = ic__qv_value_offsets(sq4), eoffs = ic__qv_value_offsets(eq4);
        soffs_d = ic__qv_scale_offsets(sq4);
        eoffs_d = svadd_s32_x(all32, eoffs_d, ic__qv_scale_offsets(eq4));
        pv = svwhilelt_b64_u64(0, 4 * g), ps = svwhilelt_b32_u64(0, 8 * g);
    }
    if (sq4 || eq4) shifts = ic__qv_nibble_shifts();
    svfloat32_t a00 = svdup_n_f32(0.0f), a01 = a00, a02 = a00, a03 = a00;
    svfloat32_t a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    size_t i = 0;
    for (; i + g <= nb; i += g) IC__QV_GROUP(i, pv, ps);
    if (i < nb) { /* the last G - 1 blocks or fewer (512 bits and up) */
        const svbool_t tv = svwhilelt_b64_u64(0, 4 * (nb - i)),
                       ts = svwhilelt_b32_u64(0, 8 * (nb - i));
        IC__QV_GROUP(i, tv, ts);
    }
    out[0] = svaddv_f32(all32, a00), out[1] = svaddv_f32(all32, a01);
    out[2] = svaddv_f32(all32, a02), out[3] = svaddv_f32(all32, a03);
    if (nshared == 2) {
        out[4] = svaddv_f32(all32, a10), out[5] = svaddv_f32(all32, a11);
        out[6] = svaddv_f32(all32, a12), out[7] = svaddv_f32(all32, a13);
    }
}

#undef IC__QV_GROUP
#undef IC__QV_SUM
#undef IC__QV_EACH
#undef IC__QV_SHARED

/* out[4n + k] = the dot product of row s[n] (q4_0 when sq4, else q8_0) with row e[k] (q4_0 when
 * eq4), nb blocks each, for n < nshared (1 or 2) and k < 4. Every argument but the rows, nb and
 * out is a constant where it is called, so each call compiles to three loops, one per mode. With
 * two shared rows each row e[k]'s values are loaded once for both. */
IC__QV_INLINE void ic__qv_dot(const void *const s[2], int sq4, size_t nshared,
                              const void *const e[4], int eq4, size_t nb, float out[8]) {
    if (svcntb() < 32)
        ic__qv_dot_mode(s, sq4, nshared, e, eq4, nb, out, IC__QV_HALF);
    else if (svcntb() < 64)
        ic__qv_dot_mode(s, sq4, nshared, e, eq4, nb, out, IC__QV_ONE);
    else
        ic__qv_dot_mode(s, sq4, nshared, e, eq4, nb, out, IC__QV_MANY);
}

#endif
