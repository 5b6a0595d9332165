/* Grouped-query attention for one decode step over an f16 KV cache, AVX2+FMA+F16C: the tiled
 * online-softmax body (attention_avx2_body.h) with each cache vector widened in a register by
 * vcvtph2ps. */
#ifndef __AVX2__
#error "attention_f16_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_F16
#define KV_FN   ic_attention_f16_avx2

static inline __m256 kv_load(const unsigned char *row, size_t e) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * e)));
}

static inline float kv_elem(const unsigned char *row, size_t e) {
    uint16_t h;
    memcpy(&h, row + 2 * e, sizeof h);
    return ic_fp16_to_f32(h);
}

#include "attention_avx2_body.h"
