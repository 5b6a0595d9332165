/* Grouped-query attention for one decode step over a q8_0 KV cache, AVX2+FMA+F16C: the tiled
 * online-softmax body (attention_avx2_body.h) with each vector of 8 codes widened in registers and
 * scaled by its block's fp16 d, as ic_dequantize_q8_0_ref gives them. head_dim is a multiple of 32
 * (ic_attn_check_kv), so every vector is whole and inside one block. */
#ifndef __AVX2__
#error "attention_q8_0_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif
#include <immintrin.h>

#include "../ic_types.h"
#include "x86_util.h"

#define KV_TYPE IC_DT_Q8_0
#define KV_FN   ic_attention_q8_0_avx2

static inline __m256 kv_load(const unsigned char *row, size_t e) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    const __m256 v = _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + e % IC_QK))));
    return _mm256_mul_ps(v, _mm256_set1_ps(ic_x86_fp16(b->d)));
}

static inline float kv_elem(const unsigned char *row, size_t e) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    return ic_fp16_to_f32(b->d) * (float)b->qs[e % IC_QK];
}

#include "attention_avx2_body.h"
