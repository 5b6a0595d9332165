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
    for (size_t i = 0; i < k / IC_QK; i++) {
        __m512 v0 = _mm512_loadu_ps(x + i * IC_QK), v1 = _mm512_loadu_ps(x + i * IC_QK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        const float dr = ic_fp16_to_f32(ic_f32_to_fp16(d)); /* the scale q8_0 stores */
        __m512 s = _mm512_set1_ps(id);
        __m512i i0 = ic_x86_round_away(_mm512_mul_ps(v0, s));
        __m512i i1 = ic_x86_round_away(_mm512_mul_ps(v1, s));
        _mm_storeu_si128((__m128i *)b[i].qs, _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(b[i].qs + 16), _mm512_cvtsepi32_epi8(i1));
        /* the quants are in [-127, 127]: their sum is exact in int32 (saturation never bites) */
        const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
        b[i].d = dr;
        b[i].ds = dr * (float)sum;
    }
}
