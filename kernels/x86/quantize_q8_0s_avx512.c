/* Activation quantization to q8_0s with AVX-512F: the q8_0 arithmetic of the reference (so the
 * quants and the fp16-rounded scale are q8_0's, byte for byte), the scale widened, and the
 * block's quant sum times it (ds), which the panel GEMV and GEMM use for their correction. */
#ifndef __AVX512F__
#error "quantize_q8_0s_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

void ic_quantize_q8_0s_avx512(const float *x, void *y, size_t k) {
    assert(x != NULL && y != NULL && k % IC_QK == 0);
    ic_block_q8_0s *b = y;
    const size_t nb = k / IC_QK;
    size_t i = 0;
    for (; i + 16 <= nb; i += 16) {
        __m512 sums;
        /* the scales q8_0 stores, widened */
        const __m512 dq =
            _mm512_cvtph_ps(ic_x86_q8_blocks16(x + i * IC_QK, b[i].qs, sizeof *b, &sums));
        float dv[16], dsv[16];
        _mm512_storeu_ps(dv, dq);
        _mm512_storeu_ps(dsv, _mm512_mul_ps(dq, sums));
        for (int j = 0; j < 16; j++) b[i + j].d = dv[j], b[i + j].ds = dsv[j];
    }
    for (; i < nb; i++) {
        int32_t sum;
        const float d = ic_x86_q8_block(x + i * IC_QK, b[i].qs, &sum);
        b[i].d = ic_fp16_to_f32(ic_f32_to_fp16(d)); /* the scale q8_0 stores */
        b[i].ds = b[i].d * (float)sum;
    }
}
