/* GEMV, q4_0 weights x q8_0 activations, SDOT: four int8 products summed into each int32 lane in
 * one instruction (Graviton2 and later). */
#ifndef __ARM_FEATURE_DOTPROD
#error "gemv_q4_0_dotprod.c needs -march=armv8.2-a+dotprod"
#endif
#define IC__SDOT vdotq_s32
#include "quant_dot_neon.h"

#include <assert.h>

void ic_gemv_q4_0_dotprod(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    for (size_t r = r0; r < r1; r++) y[r] = ic__dot_q4_0((const ic_block_q4_0 *)w + r * nb, x, nb);
}
