/* GEMV, q8_0 weights x q8_0 activations (SDOT), SVE at any vector length: four weight rows per
 * pass over the activation row, several blocks per vector from 512 bits (sve_qdot.h). */
#ifndef __ARM_FEATURE_SVE
#error "gemv_q8_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_qdot.h"

#include <assert.h>

void ic_gemv_q8_0_sve(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q8_0 *wq = w;
    const void *const xs[2] = {x, x};
    for (size_t r = r0; r < r1; r += 4) {
        /* past r1 the last row is repeated and its result dropped */
        const void *rows[4];
        for (size_t u = 0; u < 4; u++) rows[u] = wq + (r + u < r1 ? r + u : r1 - 1) * nb;
        float out[8];
        ic__qv_dot(xs, 0, 1, rows, 0, nb, out);
        for (size_t u = 0; u < 4 && r + u < r1; u++) y[r + u] = out[u];
    }
}
