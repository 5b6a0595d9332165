/* Activation quantization to q8_0, base Advanced SIMD. Byte-identical to the reference: the same
 * scale d = amax / 127, the same single multiply by 1/d, and FCVTAS rounds half away from zero
 * exactly as roundf does. */
#ifndef __ARM_NEON
#error "quantize_q8_0_neon.c needs NEON (-march=armv8-a)"
#endif
#include "neon_common.h"

#include <assert.h>

void ic_quantize_q8_0_neon(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q8_0 *b = y;
    for (size_t i = 0; i < k / IC_QK; i++) {
        const float *xb = x + i * IC_QK;
        float32x4_t v[8];
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < 8; j++) {
            v[j] = vld1q_f32(xb + 4 * j);
            m = vmaxq_f32(m, vabsq_f32(v[j]));
        }
        float d = vmaxvq_f32(m) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = ic_f32_to_fp16(d);
        for (int j = 0; j < 8; j += 2) {
            int32x4_t q0 = vcvtaq_s32_f32(vmulq_n_f32(v[j], id));
            int32x4_t q1 = vcvtaq_s32_f32(vmulq_n_f32(v[j + 1], id));
            int16x8_t h = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
            vst1_s8(b[i].qs + 4 * j, vmovn_s16(h));
        }
    }
}
