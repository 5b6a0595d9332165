/* Activation quantization to q8_0s with AVX-512F: the q8_0 arithmetic of the reference (so the
 * quants and the fp16-rounded scale are q8_0's, byte for byte), the scale widened, and the
 * block's correction c = -128 * d * sum(qs) for the panel GEMV and GEMM (ic_types.h). */
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
        float dv[16], cv[16];
        _mm512_storeu_ps(dv, dq);
        _mm512_storeu_ps(cv, _mm512_mul_ps(_mm512_set1_ps(-128.0f), _mm512_mul_ps(dq, sums)));
        for (int j = 0; j < 16; j++) b[i + j].d = dv[j], b[i + j].c = cv[j];
    }
    for (; i < nb; i++) {
        int32_t sum;
        const float d = ic_x86_q8_block(x + i * IC_QK, b[i].qs, &sum);
        b[i].d = ic_fp16_to_f32(ic_f32_to_fp16(d)); /* the scale q8_0 stores */
        b[i].c = -128.0f * (b[i].d * (float)sum);
    }
}
