/* Grouped-query attention for one decode step over an f32 KV cache, AVX-512F (the tiled
 * online-softmax body, attention_avx512_body.h). */
#ifndef __AVX512F__
#error "attention_f32_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_F32
#define KV_FN   ic_attention_f32_avx512

static inline __m512 kv_load(const unsigned char *row, size_t e) {
    return _mm512_loadu_ps((const float *)row + e);
}

static inline __m512 kv_load_mask(__mmask16 t, const unsigned char *row, size_t e) {
    return _mm512_maskz_loadu_ps(t, (const float *)row + e);
}

#include "attention_avx512_body.h"

#define KV_ROWS_FN ic_attention_rows_f32_avx512
#include "attention_rows_avx512_body.h"
