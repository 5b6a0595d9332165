/* GEMM, q8_0 weights x q8_0 activations (SDOT), SVE at any vector length: each weight row meets
 * four tokens per load. */
#ifndef __ARM_FEATURE_SVE
#error "gemm_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>

void ic_gemm_q8_0_sve(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q8_0 *xa = x;
    for (size_t r = r0; r < r1; r++) {
        const ic_block_q8_0 *wr = (const ic_block_q8_0 *)w + r * nb;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            float out[4];
            ic__sve_dot4_q8_0(wr, xa + t * nb, nb, nb, out);
            for (int u = 0; u < 4; u++) y[(t + (size_t)u) * ldy + r] = out[u];
        }
        for (; t < n; t++) y[t * ldy + r] = ic__sve_dot_q8_0(wr, xa + t * nb, nb);
    }
}
