/* Grouped-query attention for one decode step over a q8_0 KV cache, SVE: the body in
 * attention_sve_body.h walking each head block by block (KV_SEG 32), the codes sign-extended into
 * 32-bit lanes, converted and multiplied by the block's scale. */
#ifndef __ARM_FEATURE_SVE
#error "attention_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include <arm_sve.h>

#include "../ic_types.h"

#define KV_TYPE   IC_DT_Q8_0
#define KV_FN     ic_attention_q8_0_sve
#define KV_SEG(d) ((size_t)IC_QK)

/* The block's fp16 scale, converted by the FPU (FCVT), once per 32 values. */
static inline float kv_scale(const unsigned char *row, size_t e) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    __fp16 d;
    memcpy(&d, &b->d, 2);
    return (float)d;
}

static inline svfloat32_t kv_vec(svbool_t pg, const unsigned char *row, size_t e, float sc) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    const svfloat32_t c = svcvt_f32_s32_x(pg, svld1sb_s32(pg, b->qs + e % IC_QK));
    return svmul_n_f32_x(pg, c, sc);
}

#include "attention_sve_body.h"
