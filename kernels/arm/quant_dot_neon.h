/* q8_0 and q4_0 dot products for the NEON and dotprod variants. The includer defines IC__SDOT(acc,
 * a, b) as the 4-way int8 dot step: vdotq_s32 with dotprod, ic__neon_sdot_emul without, so both
 * ISAs share one block loop and differ only in that instruction. */
#ifndef IC_ARM_QUANT_DOT_NEON_H
#define IC_ARM_QUANT_DOT_NEON_H

#include "neon_common.h"

#ifndef IC__SDOT
#error "define IC__SDOT before including quant_dot_neon.h"
#endif

/* One q8_0 weight row of nb blocks against one q8_0 activation row. Each block's integer sum is
 * scaled by both blocks' scales into a float accumulator, as the reference does. */
static inline float ic__dot_q8_0(const ic_block_q8_0 *w, const ic_block_q8_0 *x, size_t nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < nb; i++) {
        int32x4_t s = vdupq_n_s32(0);
        s = IC__SDOT(s, vld1q_s8(w[i].qs), vld1q_s8(x[i].qs));
        s = IC__SDOT(s, vld1q_s8(w[i].qs + 16), vld1q_s8(x[i].qs + 16));
        float d = ic__fp16_to_f32(w[i].d) * ic__fp16_to_f32(x[i].d);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

/* One q8_0 weight row against four activation rows xs blocks apart: each weight block is loaded
 * once for four tokens. */
static inline void ic__dot4_q8_0(const ic_block_q8_0 *w, const ic_block_q8_0 *x, size_t xs,
                                 size_t nb, float out[4]) {
    /* Named accumulators, one step per token: kept in registers. */
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < nb; i++) {
        int8x16_t w0 = vld1q_s8(w[i].qs), w1 = vld1q_s8(w[i].qs + 16);
        const float dw = ic__fp16_to_f32(w[i].d);
        const ic_block_q8_0 *xb = x + i;
#define IC__STEP(acc)                                                                              \
    acc = vfmaq_n_f32(acc,                                                                         \
                      vcvtq_f32_s32(IC__SDOT(IC__SDOT(vdupq_n_s32(0), w0, vld1q_s8(xb->qs)), w1,   \
                                             vld1q_s8(xb->qs + 16))),                              \
                      dw * ic__fp16_to_f32(xb->d));                                                \
    xb += xs;
        IC__STEP(a0) IC__STEP(a1) IC__STEP(a2) IC__STEP(a3)
#undef IC__STEP
    }
    out[0] = vaddvq_f32(a0), out[1] = vaddvq_f32(a1);
    out[2] = vaddvq_f32(a2), out[3] = vaddvq_f32(a3);
}

/* q4_0 weights against q8_0 activations: low nibbles meet values 0..15, high nibbles 16..31. */
static inline float ic__dot_q4_0(const ic_block_q4_0 *w, const ic_block_q8_0 *x, size_t nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < nb; i++) {
        int8x16_t lo, hi;
        ic__q4_0_unpack(w[i].qs, &lo, &hi);
        int32x4_t s = IC__SDOT(vdupq_n_s32(0), lo, vld1q_s8(x[i].qs));
        s = IC__SDOT(s, hi, vld1q_s8(x[i].qs + 16));
        float d = ic__fp16_to_f32(w[i].d) * ic__fp16_to_f32(x[i].d);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

static inline void ic__dot4_q4_0(const ic_block_q4_0 *w, const ic_block_q8_0 *x, size_t xs,
                                 size_t nb, float out[4]) {
    /* Named accumulators, one step per token: kept in registers. */
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < nb; i++) {
        int8x16_t w0, w1;
        ic__q4_0_unpack(w[i].qs, &w0, &w1);
        const float dw = ic__fp16_to_f32(w[i].d);
        const ic_block_q8_0 *xb = x + i;
#define IC__STEP(acc)                                                                              \
    acc = vfmaq_n_f32(acc,                                                                         \
                      vcvtq_f32_s32(IC__SDOT(IC__SDOT(vdupq_n_s32(0), w0, vld1q_s8(xb->qs)), w1,   \
                                             vld1q_s8(xb->qs + 16))),                              \
                      dw * ic__fp16_to_f32(xb->d));                                                \
    xb += xs;
        IC__STEP(a0) IC__STEP(a1) IC__STEP(a2) IC__STEP(a3)
#undef IC__STEP
    }
    out[0] = vaddvq_f32(a0), out[1] = vaddvq_f32(a1);
    out[2] = vaddvq_f32(a2), out[3] = vaddvq_f32(a3);
}

#endif
