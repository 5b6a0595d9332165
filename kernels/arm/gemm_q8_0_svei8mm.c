/* GEMM, q8_0 weights x q8_0 activations, with SVE SMMLA (FEAT_SVE + FEAT_I8MM: Graviton3 and
 * Graviton4), at any vector length. A 2-row x 2-token output tile: each 32-value block becomes
 * 2x8 x 2x8 segment tiles (sve_mmla.h), the block's int32 tile is scaled by the four scale
 * products (replicated per segment) into f32, and the segments are summed once per tile. Past the
 * block's 32 bytes the activation loads read zeros, so longer vectors waste lanes but stay right.
 */
#if !defined(__ARM_FEATURE_SVE) || !defined(__ARM_FEATURE_MATMUL_INT8)
#error "gemm_q8_0_svei8mm.c needs -march=armv8.2-a+sve+i8mm"
#endif
#include "sve_mmla.h"

#include <assert.h>

void ic_gemm_q8_0_svei8mm(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                          size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const svbool_t all = svptrue_b32();
    const ic_block_q8_0 *wq = w;
    const ic_block_q8_0 *xq = x;
    for (size_t r = r0; r < r1; r += 2) {
        const size_t rb = r + 1 < r1 ? r + 1 : r;
        const ic_block_q8_0 *w0 = wq + r * nb, *w1 = wq + rb * nb;
        for (size_t t = 0; t < n; t += 2) {
            const size_t tb = t + 1 < n ? t + 1 : t;
            const ic_block_q8_0 *x0 = xq + t * nb, *x1 = xq + tb * nb;
            svfloat32_t acc = svdup_n_f32(0.0f);
            for (size_t i = 0; i < nb; i++) {
                svint32_t s = svdup_n_s32(0);
                for (size_t j = 0; j < IC_QK; j += svcntb()) {
                    const svbool_t pb = svwhilelt_b8_u64(j, IC_QK);
                    svuint64_t a0 = svreinterpret_u64_s8(svld1_s8(pb, w0[i].qs + j));
                    svuint64_t a1 = svreinterpret_u64_s8(svld1_s8(pb, w1[i].qs + j));
                    svuint64_t b0 = svreinterpret_u64_s8(svld1_s8(pb, x0[i].qs + j));
                    svuint64_t b1 = svreinterpret_u64_s8(svld1_s8(pb, x1[i].qs + j));
                    s = svmmla_s32(s, svreinterpret_s8_u64(ic__zip1_rows(a0, a1)),
                                   svreinterpret_s8_u64(ic__zip1_rows(b0, b1)));
                    s = svmmla_s32(s, svreinterpret_s8_u64(ic__zip2_rows(a0, a1)),
                                   svreinterpret_s8_u64(ic__zip2_rows(b0, b1)));
                }
                const float dw0 = ic__fp16_to_f32(w0[i].d), dw1 = ic__fp16_to_f32(w1[i].d);
                const float dx0 = ic__fp16_to_f32(x0[i].d), dx1 = ic__fp16_to_f32(x1[i].d);
                const float sc[4] = {dw0 * dx0, dw0 * dx1, dw1 * dx0, dw1 * dx1};
                acc = svmla_f32_x(all, acc, svcvt_f32_s32_x(all, s), svld1rq_f32(all, sc));
            }
            float out[4];
            ic__sum_tiles(acc, out);
            ic__store_tile(y, ldy, r, rb, t, tb, out);
        }
    }
}
