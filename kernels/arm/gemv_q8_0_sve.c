/* GEMV, q8_0 weights x q8_0 activations (SDOT), SVE at any vector length. */
#ifndef __ARM_FEATURE_SVE
#error "gemv_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>

void ic_gemv_q8_0_sve(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    for (size_t r = r0; r < r1; r++)
        y[r] = ic__sve_dot_q8_0((const ic_block_q8_0 *)w + r * nb, x, nb);
}
