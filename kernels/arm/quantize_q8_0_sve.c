/* Activation quantization to q8_0, SVE at any vector length. Byte-identical to the reference: the
 * same scale, one multiply by 1/d, FRINTA (half away from zero, as roundf), and ST1B narrows. */
#ifndef __ARM_FEATURE_SVE
#error "quantize_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>

void ic_quantize_q8_0_sve(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q8_0 *b = y;
    for (size_t i = 0; i < k / IC_QK; i++) {
        const float *xb = x + i * IC_QK;
        svfloat32_t m = svdup_n_f32(0.0f);
        for (size_t j = 0; j < IC_QK; j += svcntw()) {
            svbool_t pg = svwhilelt_b32_u64(j, IC_QK);
            m = svmax_f32_m(pg, m, svabs_f32_x(pg, svld1_f32(pg, xb + j)));
        }
        float d = svmaxv_f32(svptrue_b32(), m) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = ic_f32_to_fp16(d);
        for (size_t j = 0; j < IC_QK; j += svcntw()) {
            svbool_t pg = svwhilelt_b32_u64(j, IC_QK);
            svfloat32_t v = svrinta_f32_x(pg, svmul_n_f32_x(pg, svld1_f32(pg, xb + j), id));
            svst1b_s32(pg, b[i].qs + j, svcvt_s32_f32_x(pg, v));
        }
    }
}
