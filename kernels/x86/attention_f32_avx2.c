/* Grouped-query attention for one decode step over an f32 KV cache, AVX2+FMA (the tiled
 * online-softmax body, attention_avx2_body.h). */
#ifndef __AVX2__
#error "attention_f32_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_F32
#define KV_FN   ic_attention_f32_avx2

static inline __m256 kv_load(const unsigned char *row, size_t e) {
    return _mm256_loadu_ps((const float *)row + e);
}

static inline float kv_elem(const unsigned char *row, size_t e) {
    return ((const float *)row)[e];
}

#include "attention_avx2_body.h"
