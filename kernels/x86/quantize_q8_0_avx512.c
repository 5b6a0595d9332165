/* Activation quantization to q8_0 with AVX-512F: the same arithmetic as the reference (d =
 * max|x| / 127, q = roundf(x / d) with ties away from zero), so the bytes are identical. Run once
 * per GEMV input, so it is a small share of decode time, but it is on the critical path. */
#ifndef __AVX512F__
#error "quantize_q8_0_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>

void ic_quantize_q8_0_avx512(const float *x, void *y, size_t k) {
    assert(x != NULL && y != NULL && k % IC_QK == 0);
    ic_block_q8_0 *b = y;
    const size_t nb = k / IC_QK;
    size_t i = 0;
    for (; i + 16 <= nb; i += 16) {
        uint16_t h[16];
        _mm256_storeu_si256((__m256i *)h,
                            ic_x86_q8_blocks16(x + i * IC_QK, b[i].qs, sizeof *b, NULL));
        for (int j = 0; j < 16; j++) b[i + j].d = h[j];
    }
    for (; i < nb; i++) b[i].d = ic_f32_to_fp16(ic_x86_q8_block(x + i * IC_QK, b[i].qs, NULL));
}
