/* Grouped-query attention for one decode step over a q8_0 KV cache, base Advanced SIMD: the body
 * in attention_neon_body.h, each four codes widened (SXTL twice) and converted, times the block's
 * scale. Heads are whole blocks (ic_attn_check_kv), so four values never straddle two blocks. */
#ifndef __ARM_NEON
#error "attention_q8_0_neon.c needs NEON (-march=armv8-a)"
#endif
#include <arm_neon.h>

#include "../ic_types.h"

#define KV_TYPE   IC_DT_Q8_0
#define KV_FN     ic_attention_q8_0_neon
#define KV_SEG(d) ((size_t)IC_QK)

/* The block's fp16 scale, converted by the FPU (FCVT), once per 32 values. */
static inline float kv_scale(const unsigned char *row, size_t e) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    __fp16 d;
    memcpy(&d, &b->d, 2);
    return (float)d;
}

static inline float32x4_t kv4(const unsigned char *row, size_t e, float sc) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    int32_t w;
    memcpy(&w, b->qs + e % IC_QK, 4);
    const int16x4_t c = vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w))));
    return vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(c)), sc);
}

static inline float kv1(const unsigned char *row, size_t e, float sc) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    return sc * (float)b->qs[e % IC_QK];
}

#include "attention_neon_body.h"
