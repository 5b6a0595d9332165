/* Grouped-query attention for one decode step over a q8_0 KV cache, AVX-512F: the tiled
 * online-softmax body (attention_avx512_body.h) with each vector of 16 codes widened in registers
 * and scaled by its block's fp16 d, as ic_dequantize_q8_0_ref gives them. head_dim and kv_stride
 * are multiples of 32 (ic_attn_check_kv), so a vector never straddles two blocks and the only
 * masks are whole vectors past head_dim. */
#ifndef __AVX512F__
#error "attention_q8_0_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <immintrin.h>

#include "../ic_types.h"
#include "x86_util.h"

#define KV_TYPE IC_DT_Q8_0
#define KV_FN   ic_attention_q8_0_avx512

static inline __m512 kv_load(const unsigned char *row, size_t e) {
    const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + e / IC_QK;
    const __m512 v = _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b->qs + e % IC_QK))));
    return _mm512_mul_ps(v, _mm512_set1_ps(ic_x86_fp16(b->d)));
}

static inline __m512 kv_load_mask(__mmask16 t, const unsigned char *row, size_t e) {
    return _mm512_maskz_mov_ps(t, kv_load(row, e));
}

#include "attention_avx512_body.h"

#define KV_ROWS_FN ic_attention_rows_q8_0_avx512
#include "attention_rows_avx512_body.h"
