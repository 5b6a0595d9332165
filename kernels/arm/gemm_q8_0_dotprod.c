/* GEMM, q8_0 weights x q8_0 activations, SDOT: four int8 products summed into each int32 lane in
 * one instruction (Graviton2 and later). Each weight row meets four tokens at a time, so its blocks
 * are loaded (and for q4_0 unpacked) once per four tokens. */
#ifndef __ARM_FEATURE_DOTPROD
#error "gemm_q8_0_dotprod.c needs -march=armv8.2-a+dotprod"
#endif
#define IC__SDOT vdotq_s32
#include "quant_dot_neon.h"

#include <assert.h>

void ic_gemm_q8_0_dotprod(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                          size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q8_0 *xq = x;
    for (size_t r = r0; r < r1; r++) {
        const ic_block_q8_0 *wr = (const ic_block_q8_0 *)w + r * nb;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            float out[4];
            ic__dot4_q8_0(wr, xq + t * nb, nb, nb, out);
            for (int u = 0; u < 4; u++) y[(t + (size_t)u) * ldy + r] = out[u];
        }
        for (; t < n; t++) y[t * ldy + r] = ic__dot_q8_0(wr, xq + t * nb, nb);
    }
}
