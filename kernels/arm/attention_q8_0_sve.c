/* Grouped-query attention for one decode step over a q8_0 KV cache, SVE: the body in
 * attention_sve_body.h, with the row walks here going block by block. The codes are
 * sign-extended into 32-bit lanes and converted, and each block's fp16 scale converted once by
 * the FPU (FCVT). How a block meets the vector, by the vector length (VL):
 * - below 1024 bits: a block is 32 / VL vectors (all-true where VL divides 32, as every power of
 *   two does; WHILELT otherwise); its q . k is summed unscaled and scaled once, and for w v the
 *   weight is multiplied by the scale once;
 * - 1024 bits up to 2048: one block a vector, the codes times the scale;
 * - 2048 bits (64 lanes): two blocks a vector, the second block's codes loaded into the high 32
 *   lanes and the two scales side by side.
 * Instructions an output (ci/arm_insn_count.py, 8 heads over 2 KV heads of 128, 256 positions) at
 * 128 / 256 / 512 / 1024 / 2048 bits: 1231.5 / 739.6 / 493.7 / 292.7 / 243.2. The body's generic
 * walk before it (a block index, a scale load and a WHILELT for every vector, one block a vector
 * at most) ran 2265.3 / 1261.4 / 759.5 / 508.5 / 507.0. NEON's block walk runs 1114.8, so the
 * variant needs sve_vl256 (kernels/list_arm.inc) and a 128-bit SVE CPU runs NEON. */
#ifndef __ARM_FEATURE_SVE
#error "attention_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include <arm_sve.h>
#include <stddef.h>
#include <string.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_Q8_0
#define KV_FN   ic_attention_q8_0_sve
#define KV_OWN_ROWS

static inline float blk_scale(const ic_block_q8_0 *b) {
    __fp16 d;
    memcpy(&d, &b->d, 2);
    return (float)d;
}

/* Blocks b[0] and b[1] as 64 f32 lanes (2048-bit vectors), unscaled: lane i < 32 is b[0]'s code i,
 * lane 32 + i b[1]'s. The high lanes load from 32 bytes before b[1]'s codes, computed on the row's
 * bytes, so that lane 32 lands on its first code. */
static inline svfloat32_t pair_codes(const ic_block_q8_0 *b, svbool_t lo, svbool_t hi) {
    const int8_t *hi_base =
        (const int8_t *)((const unsigned char *)(b + 1) + offsetof(ic_block_q8_0, qs) - IC_QK);
    const svbool_t all = svptrue_b32();
    return svcvt_f32_s32_x(all, svorr_s32_x(all, svld1sb_s32(lo, b->qs), svld1sb_s32(hi, hi_base)));
}

/* The two blocks' scales times w, side by side as pair_codes has their codes. */
static inline svfloat32_t pair_scales(const ic_block_q8_0 *b, svbool_t lo, float w) {
    return svsel_f32(lo, svdup_n_f32(w * blk_scale(b)), svdup_n_f32(w * blk_scale(b + 1)));
}

/* One block's q . k unscaled, in vectors of vl lanes: WHOLE (a constant at each call) says vl
 * divides 32, so every vector is all-true. */
static inline __attribute__((always_inline)) svfloat32_t block_dot(const int WHOLE, const float *qh,
                                                                   const int8_t *qs, size_t vl) {
    svfloat32_t t = svdup_n_f32(0.0f);
    for (size_t j = 0; j < IC_QK; j += vl) {
        const svbool_t pg = WHOLE ? svptrue_b32() : svwhilelt_b32_u64(j, IC_QK);
        t = svmla_f32_m(pg, t, svld1_f32(pg, qh + j), svcvt_f32_s32_x(pg, svld1sb_s32(pg, qs + j)));
    }
    return t;
}

/* oh += wd times one block's codes, in vectors of vl lanes, WHOLE as for block_dot. */
static inline __attribute__((always_inline)) void
block_axpy(const int WHOLE, float *oh, const int8_t *qs, size_t vl, float wd) {
    for (size_t j = 0; j < IC_QK; j += vl) {
        const svbool_t pg = WHOLE ? svptrue_b32() : svwhilelt_b32_u64(j, IC_QK);
        svst1_f32(pg, oh + j,
                  svmla_n_f32_x(pg, svld1_f32(pg, oh + j),
                                svcvt_f32_s32_x(pg, svld1sb_s32(pg, qs + j)), wd));
    }
}

static inline svfloat32_t kv_dot(const float *qh, const unsigned char *row, size_t e0, size_t d) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e0 / IC_QK;
    const size_t nb = d / IC_QK, vl = svcntw();
    const svbool_t all = svptrue_b32(), lo = svwhilelt_b32_u64(0, IC_QK);
    svfloat32_t acc = svdup_n_f32(0.0f);
    size_t i = 0;
    if (vl >= 2 * IC_QK) { /* SVE stops at 2048 bits: this is vl == 64 */
        const svbool_t hi = svnot_b_z(all, lo);
        for (; i + 2 <= nb; i += 2)
            acc =
                svmla_f32_x(all, acc, svld1_f32(all, qh + i * IC_QK),
                            svmul_f32_x(all, pair_codes(b + i, lo, hi), pair_scales(b + i, lo, 1)));
    }
    if (vl >= IC_QK) {
        for (; i < nb; i++)
            acc = svmla_f32_m(
                lo, acc, svld1_f32(lo, qh + i * IC_QK),
                svmul_n_f32_x(lo, svcvt_f32_s32_x(lo, svld1sb_s32(lo, b[i].qs)), blk_scale(b + i)));
    } else if (IC_QK % vl == 0) {
        for (; i < nb; i++)
            acc = svmla_n_f32_x(all, acc, block_dot(1, qh + i * IC_QK, b[i].qs, vl),
                                blk_scale(b + i));
    } else {
        for (; i < nb; i++)
            acc = svmla_n_f32_x(all, acc, block_dot(0, qh + i * IC_QK, b[i].qs, vl),
                                blk_scale(b + i));
    }
    return acc;
}

static inline void kv_axpy(float *oh, const unsigned char *row, size_t e0, size_t d, float w) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e0 / IC_QK;
    const size_t nb = d / IC_QK, vl = svcntw();
    const svbool_t all = svptrue_b32(), lo = svwhilelt_b32_u64(0, IC_QK);
    size_t i = 0;
    if (vl >= 2 * IC_QK) { /* SVE stops at 2048 bits: this is vl == 64 */
        const svbool_t hi = svnot_b_z(all, lo);
        for (; i + 2 <= nb; i += 2) {
            float *o = oh + i * IC_QK;
            svst1_f32(all, o,
                      svmla_f32_x(all, svld1_f32(all, o), pair_codes(b + i, lo, hi),
                                  pair_scales(b + i, lo, w)));
        }
    }
    if (vl >= IC_QK) {
        for (; i < nb; i++) {
            float *o = oh + i * IC_QK;
            svst1_f32(lo, o,
                      svmla_n_f32_x(lo, svld1_f32(lo, o),
                                    svcvt_f32_s32_x(lo, svld1sb_s32(lo, b[i].qs)),
                                    w * blk_scale(b + i)));
        }
    } else if (IC_QK % vl == 0) {
        for (; i < nb; i++) block_axpy(1, oh + i * IC_QK, b[i].qs, vl, w * blk_scale(b + i));
    } else {
        for (; i < nb; i++) block_axpy(0, oh + i * IC_QK, b[i].qs, vl, w * blk_scale(b + i));
    }
}

#include "attention_sve_body.h"
