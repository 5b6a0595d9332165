/* GEMM, q4_0 weights x q8_0 activations, with SMMLA (FEAT_I8MM): as gemm_q8_0_i8mm, with each
 * weight block unpacked to signed bytes once per pair of tokens. */
#ifndef __ARM_FEATURE_MATMUL_INT8
#error "gemm_q4_0_i8mm.c needs -march=armv8.2-a+i8mm"
#endif
#include "neon_common.h"

#include <assert.h>

static inline int8x16_t zip_lo(int8x16_t a, int8x16_t b) {
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
static inline int8x16_t zip_hi(int8x16_t a, int8x16_t b) {
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

void ic_gemm_q4_0_i8mm(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q4_0 *wq = w;
    const ic_block_q8_0 *xq = x;
    for (size_t r = r0; r < r1; r += 2) {
        const size_t rb = r + 1 < r1 ? r + 1 : r;
        const ic_block_q4_0 *w0 = wq + r * nb, *w1 = wq + rb * nb;
        for (size_t t = 0; t < n; t += 2) {
            const size_t tb = t + 1 < n ? t + 1 : t;
            const ic_block_q8_0 *x0 = xq + t * nb, *x1 = xq + tb * nb;
            float32x4_t acc = vdupq_n_f32(0.0f); /* [w0.x0, w0.x1, w1.x0, w1.x1] */
            for (size_t i = 0; i < nb; i++) {
                int8x16_t lo0, hi0, lo1, hi1;
                ic__q4_0_unpack(w0[i].qs, &lo0, &hi0);
                ic__q4_0_unpack(w1[i].qs, &lo1, &hi1);
                int8x16_t b0 = vld1q_s8(x0[i].qs), b1 = vld1q_s8(x1[i].qs);
                int8x16_t c0 = vld1q_s8(x0[i].qs + 16), c1 = vld1q_s8(x1[i].qs + 16);
                int32x4_t s = vmmlaq_s32(vdupq_n_s32(0), zip_lo(lo0, lo1), zip_lo(b0, b1));
                s = vmmlaq_s32(s, zip_hi(lo0, lo1), zip_hi(b0, b1));
                s = vmmlaq_s32(s, zip_lo(hi0, hi1), zip_lo(c0, c1));
                s = vmmlaq_s32(s, zip_hi(hi0, hi1), zip_hi(c0, c1));
                float dw0 = ic__fp16_to_f32(w0[i].d), dw1 = ic__fp16_to_f32(w1[i].d);
                float dx0 = ic__fp16_to_f32(x0[i].d), dx1 = ic__fp16_to_f32(x1[i].d);
                const float sc[4] = {dw0 * dx0, dw0 * dx1, dw1 * dx0, dw1 * dx1};
                acc = vfmaq_f32(acc, vcvtq_f32_s32(s), vld1q_f32(sc));
            }
            y[t * ldy + r] = vgetq_lane_f32(acc, 0);
            if (tb != t) y[tb * ldy + r] = vgetq_lane_f32(acc, 1);
            if (rb != r) y[t * ldy + rb] = vgetq_lane_f32(acc, 2);
            if (rb != r && tb != t) y[tb * ldy + rb] = vgetq_lane_f32(acc, 3);
        }
    }
}
