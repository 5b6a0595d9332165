/* Grouped-query attention for one decode step over a bf16 KV cache, SVE: the body in
 * attention_sve_body.h, each value loaded into a 32-bit lane and shifted into its high half. */
#ifndef __ARM_FEATURE_SVE
#error "attention_bf16_sve.c needs -march=armv8.2-a+sve"
#endif
#include <arm_sve.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_BF16
#define KV_FN   ic_attention_bf16_sve

static inline svfloat32_t kv_vec(svbool_t pg, const unsigned char *row, size_t e) {
    const svuint32_t h = svld1uh_u32(pg, (const uint16_t *)(row + 2 * e));
    return svreinterpret_f32_u32(svlsl_n_u32_x(pg, h, 16));
}

#include "attention_sve_body.h"
