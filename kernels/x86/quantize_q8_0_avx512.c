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
    for (size_t i = 0; i < k / IC_QK; i++) {
        __m512 v0 = _mm512_loadu_ps(x + i * IC_QK), v1 = _mm512_loadu_ps(x + i * IC_QK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = ic_f32_to_fp16(d);
        __m512 s = _mm512_set1_ps(id);
        __m128i q0 = _mm512_cvtsepi32_epi8(ic_x86_round_away(_mm512_mul_ps(v0, s)));
        __m128i q1 = _mm512_cvtsepi32_epi8(ic_x86_round_away(_mm512_mul_ps(v1, s)));
        _mm_storeu_si128((__m128i *)b[i].qs, q0);
        _mm_storeu_si128((__m128i *)(b[i].qs + 16), q1);
    }
}
