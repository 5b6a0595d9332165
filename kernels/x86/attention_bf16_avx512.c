/* Grouped-query attention for one decode step over a bf16 KV cache, AVX-512F: the tiled
 * online-softmax body (attention_avx512_body.h) with each cache vector widened in a register (the
 * 16 bits shifted into the top of each float, which is exact). */
#ifndef __AVX512F__
#error "attention_bf16_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_BF16
#define KV_FN   ic_attention_bf16_avx512

static inline __m512 widen_bf16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline __m512 kv_load(const unsigned char *row, size_t e) {
    return widen_bf16(_mm256_loadu_si256((const __m256i *)(row + 2 * e)));
}

/* AVX-512BW+VL masked 16-bit load: a head_dim tail only. */
static inline __m512 kv_load_mask(__mmask16 t, const unsigned char *row, size_t e) {
    return widen_bf16(_mm256_maskz_loadu_epi16(t, row + 2 * e));
}

#include "attention_avx512_body.h"

#define KV_ROWS_FN ic_attention_rows_bf16_avx512
#include "attention_rows_avx512_body.h"
