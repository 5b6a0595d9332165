/* GEMV, q4_0 weights x q8_0 activations, base Advanced SIMD: SDOT is emulated with widening
 * multiplies (Graviton1, Cortex-A72). */
#ifndef __ARM_NEON
#error "gemv_q4_0_neon.c needs -march=armv8-a"
#endif
#define IC__SDOT ic__neon_sdot_emul
#include "quant_dot_neon.h"

#include <assert.h>

void ic_gemv_q4_0_neon(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    for (size_t r = r0; r < r1; r++) y[r] = ic__dot_q4_0((const ic_block_q4_0 *)w + r * nb, x, nb);
}
