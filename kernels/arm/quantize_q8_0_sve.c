/* Activation quantization to q8_0, SVE at any vector length. Byte-identical to the reference: the
 * same scale, one multiply by 1/d, FRINTA (half away from zero, as roundf), and ST1B narrows.
 * A block is one vector at 1024 bits; at 2048 two blocks share a vector, so the instructions per
 * value keep falling with the length (ci/arm_insn_count.py: 1.57 at both 1024 and 2048 bits with
 * one block a vector). */
#ifndef __ARM_FEATURE_SVE
#error "quantize_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>
#include <stddef.h>

/* A block's scale from its largest magnitude, stored as fp16 in *d; returns 1/d (0 for d = 0). */
static inline float block_scale(float amax, uint16_t *d) {
    const float s = amax / 127.0f, inv = s != 0.0f ? 1.0f / s : 0.0f;
    *d = ic_f32_to_fp16(s);
    return inv;
}

/* Block i of x into b[i]: the scale from the block's largest magnitude, then the codes. */
static void one_block(const float *xb, ic_block_q8_0 *b) {
    svfloat32_t m = svdup_n_f32(0.0f);
    for (size_t j = 0; j < IC_QK; j += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(j, IC_QK);
        m = svmax_f32_m(pg, m, svabs_f32_x(pg, svld1_f32(pg, xb + j)));
    }
    const float id = block_scale(svmaxv_f32(svptrue_b32(), m), &b->d);
    for (size_t j = 0; j < IC_QK; j += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(j, IC_QK);
        svfloat32_t v = svrinta_f32_x(pg, svmul_n_f32_x(pg, svld1_f32(pg, xb + j), id));
        svst1b_s32(pg, b->qs + j, svcvt_s32_f32_x(pg, v));
    }
}

/* At 2048 bits a vector holds two blocks (64 floats): both loaded at once, each half's largest
 * magnitude reduced under its own predicate, the halves' 1/d put side by side (SEL), one multiply,
 * round and convert, and each half's codes stored into its own block (the second half's store
 * based 32 bytes before that block's codes, so its lanes 32 .. 63 land on them). */
static void two_blocks(const float *xb, ic_block_q8_0 *b, svbool_t lo, svbool_t hi) {
    const svfloat32_t v = svld1_f32(svptrue_b32(), xb);
    const svfloat32_t a = svabs_f32_x(svptrue_b32(), v);
    const float id0 = block_scale(svmaxv_f32(lo, a), &b[0].d);
    const float id1 = block_scale(svmaxv_f32(hi, a), &b[1].d);
    const svfloat32_t id = svsel_f32(lo, svdup_n_f32(id0), svdup_n_f32(id1));
    const svint32_t q = svcvt_s32_f32_x(
        svptrue_b32(), svrinta_f32_x(svptrue_b32(), svmul_f32_x(svptrue_b32(), v, id)));
    svst1b_s32(lo, b[0].qs, q);
    /* b[1]'s codes less 32 bytes, as bytes of the output buffer (not of b[1].qs) */
    int8_t *q1 = (int8_t *)((unsigned char *)(b + 1) + offsetof(ic_block_q8_0, qs) - IC_QK);
    svst1b_s32(hi, q1, q);
}

void ic_quantize_q8_0_sve(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q8_0 *b = y;
    const size_t nb = k / IC_QK;
    size_t i = 0;
    if (svcntw() == 2 * IC_QK) {
        const svbool_t lo = svwhilelt_b32_u64(0, IC_QK), hi = svnot_b_z(svptrue_b32(), lo);
        for (; i + 2 <= nb; i += 2) two_blocks(x + i * IC_QK, b + i, lo, hi);
    }
    for (; i < nb; i++) one_block(x + i * IC_QK, b + i);
}
