/* Grouped-query attention for one decode step over an f16 (IEEE half) KV cache, SVE: the body in
 * attention_sve_body.h, each half loaded into the bottom of a 32-bit lane and widened by FCVT. */
#ifndef __ARM_FEATURE_SVE
#error "attention_f16_sve.c needs -march=armv8.2-a+sve"
#endif
#include <arm_sve.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_F16
#define KV_FN   ic_attention_f16_sve

static inline svfloat32_t kv_vec(svbool_t pg, const unsigned char *row, size_t e) {
    const svuint32_t h = svld1uh_u32(pg, (const uint16_t *)(row + 2 * e));
    return svcvt_f32_f16_x(pg, svreinterpret_f16_u32(h));
}

#include "attention_sve_body.h"
