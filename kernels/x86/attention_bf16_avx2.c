/* Grouped-query attention for one decode step over a bf16 KV cache, AVX2+FMA: the tiled
 * online-softmax body (attention_avx2_body.h) with each cache vector widened in a register (the
 * 16 bits shifted into the top of each float, which is exact). */
#ifndef __AVX2__
#error "attention_bf16_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_BF16
#define KV_FN   ic_attention_bf16_avx2

static inline __m256 kv_load(const unsigned char *row, size_t e) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * e)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static inline float kv_elem(const unsigned char *row, size_t e) {
    uint16_t b;
    memcpy(&b, row + 2 * e, sizeof b);
    return ic_bf16_to_f32(b);
}

#include "attention_avx2_body.h"
