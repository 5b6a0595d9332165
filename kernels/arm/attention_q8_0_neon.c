/* Grouped-query attention for one decode step over a q8_0 KV cache, base Advanced SIMD: the body
 * in attention_neon_body.h, with the row walks here going a block at a time (heads are whole
 * blocks: ic_attn_check_kv). A block's 32 codes are two 16-byte loads widened (SXTL twice) and
 * converted into eight vectors, and its fp16 scale converted once by the FPU (FCVT): q . k is
 * summed unscaled over the block and scaled once, and w v takes the weight times the scale.
 * Instructions an output (ci/arm_insn_count.py, 8 heads over 2 KV heads of 128, 256 positions):
 * the body's generic walk, four codes a load and a block index and a multiply by the scale for
 * every four, ran 2592.8; this walk runs 1114.8 (SVE at 128 bits: 1231.5). */
#ifndef __ARM_NEON
#error "attention_q8_0_neon.c needs NEON (-march=armv8-a)"
#endif
#include <arm_neon.h>
#include <string.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_Q8_0
#define KV_FN   ic_attention_q8_0_neon
#define KV_OWN_ROWS

static inline float blk_scale(const ic_block_q8_0 *b) {
    __fp16 d;
    memcpy(&d, &b->d, 2);
    return (float)d;
}

/* The block's 32 codes as floats, four to a vector. */
static inline void block_floats(const ic_block_q8_0 *b, float32x4_t v[8]) {
    for (int h = 0; h < 2; h++) {
        const int8x16_t c = vld1q_s8(b->qs + 16 * h);
        const int16x8_t lo = vmovl_s8(vget_low_s8(c)), hi = vmovl_high_s8(c);
        v[4 * h + 0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
        v[4 * h + 1] = vcvtq_f32_s32(vmovl_high_s16(lo));
        v[4 * h + 2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
        v[4 * h + 3] = vcvtq_f32_s32(vmovl_high_s16(hi));
    }
}

static inline float kv_dot(const float *qh, const unsigned char *row, size_t e0, size_t d) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e0 / IC_QK;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    for (size_t i = 0; i < d / IC_QK; i++, qh += IC_QK) {
        float32x4_t v[8];
        block_floats(b + i, v);
        float32x4_t t0 = vmulq_f32(vld1q_f32(qh), v[0]), t1 = vmulq_f32(vld1q_f32(qh + 4), v[1]);
        for (int k = 2; k < 8; k += 2) {
            t0 = vfmaq_f32(t0, vld1q_f32(qh + 4 * k), v[k]);
            t1 = vfmaq_f32(t1, vld1q_f32(qh + 4 * k + 4), v[k + 1]);
        }
        const float sc = blk_scale(b + i);
        a0 = vfmaq_n_f32(a0, t0, sc);
        a1 = vfmaq_n_f32(a1, t1, sc);
    }
    return vaddvq_f32(vaddq_f32(a0, a1));
}

static inline void kv_axpy(float *oh, const unsigned char *row, size_t e0, size_t d, float w) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e0 / IC_QK;
    for (size_t i = 0; i < d / IC_QK; i++, oh += IC_QK) {
        float32x4_t v[8];
        block_floats(b + i, v);
        const float wd = w * blk_scale(b + i);
        for (int k = 0; k < 8; k++)
            vst1q_f32(oh + 4 * k, vfmaq_n_f32(vld1q_f32(oh + 4 * k), v[k], wd));
    }
}

#include "attention_neon_body.h"
