/* GEMM, q8_0 weights x q8_0 activations, with SMMLA (FEAT_I8MM: Graviton3 and Graviton4). One
 * SMMLA multiplies a 2x8 int8 tile of two weight rows by a 2x8 tile of two tokens into a 2x2 int32
 * tile, so a 2-row x 2-token block of outputs costs 4 SMMLA per 32-value block. An odd last row or
 * token repeats its neighbour and the duplicate result is not stored. */
#ifndef __ARM_FEATURE_MATMUL_INT8
#error "gemm_q8_0_i8mm.c needs -march=armv8.2-a+i8mm"
#endif
#include "neon_common.h"

#include <assert.h>

/* [a.lo64, b.lo64] and [a.hi64, b.hi64]: the two 2x8 tiles of 16 bytes from two rows. */
static inline int8x16_t zip_lo(int8x16_t a, int8x16_t b) {
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
static inline int8x16_t zip_hi(int8x16_t a, int8x16_t b) {
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

void ic_gemm_q8_0_i8mm(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                       size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q8_0 *wq = w, *xq = x;
    for (size_t r = r0; r < r1; r += 2) {
        const size_t rb = r + 1 < r1 ? r + 1 : r;
        const ic_block_q8_0 *w0 = wq + r * nb, *w1 = wq + rb * nb;
        for (size_t t = 0; t < n; t += 2) {
            const size_t tb = t + 1 < n ? t + 1 : t;
            const ic_block_q8_0 *x0 = xq + t * nb, *x1 = xq + tb * nb;
            float32x4_t acc = vdupq_n_f32(0.0f); /* [w0.x0, w0.x1, w1.x0, w1.x1] */
            for (size_t i = 0; i < nb; i++) {
                int32x4_t s = vdupq_n_s32(0);
                for (int h = 0; h < IC_QK; h += 16) {
                    int8x16_t a0 = vld1q_s8(w0[i].qs + h), a1 = vld1q_s8(w1[i].qs + h);
                    int8x16_t b0 = vld1q_s8(x0[i].qs + h), b1 = vld1q_s8(x1[i].qs + h);
                    s = vmmlaq_s32(s, zip_lo(a0, a1), zip_lo(b0, b1));
                    s = vmmlaq_s32(s, zip_hi(a0, a1), zip_hi(b0, b1));
                }
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
