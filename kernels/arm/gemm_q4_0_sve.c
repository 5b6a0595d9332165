/* GEMM, q4_0 weights (nibbles unpacked in registers) x q8_0 activations (SDOT), SVE at any vector
 * length: a tile of two weight rows and four tokens, so that each row's blocks are loaded once per
 * four tokens and each token's once per two rows, several blocks per vector from 512 bits
 * (sve_qdot.h). */
#ifndef __ARM_FEATURE_SVE
#error "gemm_q4_0_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_qdot.h"

#include <assert.h>

void ic_gemm_q4_0_sve(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const ic_block_q4_0 *wq = w;
    const ic_block_q8_0 *xq = x;
    /* past r1 or n the last row or token is repeated and its results dropped */
    for (size_t r = r0; r < r1; r += 2) {
        const void *const rows[2] = {wq + r * nb, wq + (r + 1 < r1 ? r + 1 : r) * nb};
        for (size_t t = 0; t < n; t += 4) {
            const void *toks[4];
            for (size_t u = 0; u < 4; u++) toks[u] = xq + (t + u < n ? t + u : n - 1) * nb;
            float out[8];
            ic__qv_dot(rows, 1, 2, toks, 0, nb, out);
            for (size_t v = 0; v < 2 && r + v < r1; v++)
                for (size_t u = 0; u < 4 && t + u < n; u++)
                    y[(t + u) * ldy + r + v] = out[4 * v + u];
        }
    }
}
