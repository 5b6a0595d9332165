/* Grouped-query attention for one decode step over an f16 (IEEE half) KV cache, base Advanced
 * SIMD: the body in attention_neon_body.h, each four cache values widened by FCVTL. */
#ifndef __ARM_NEON
#error "attention_f16_neon.c needs NEON (-march=armv8-a)"
#endif
#include <arm_neon.h>

#include "../ic_types.h"

#define KV_TYPE   IC_DT_F16
#define KV_FN     ic_attention_f16_neon
#define KV_SEG(d) (d)

static inline float kv_scale(const unsigned char *row, size_t e) {
    (void)row, (void)e;
    return 1.0f;
}

static inline float32x4_t kv4(const unsigned char *row, size_t e, float sc) {
    (void)sc;
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)(row + 2 * e))));
}

static inline float kv1(const unsigned char *row, size_t e, float sc) {
    (void)sc;
    uint16_t h;
    memcpy(&h, row + 2 * e, 2);
    return ic_fp16_to_f32(h);
}

#include "attention_neon_body.h"
