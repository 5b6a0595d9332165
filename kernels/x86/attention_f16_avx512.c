/* Grouped-query attention for one decode step over an f16 (IEEE half) KV cache, AVX-512F: the
 * tiled online-softmax body (attention_avx512_body.h) with each cache vector widened in a register
 * by vcvtph2ps, so the cache is read at 2 bytes a value and never converted in memory. */
#ifndef __AVX512F__
#error "attention_f16_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <immintrin.h>

#include "../ic_types.h"

#define KV_TYPE IC_DT_F16
#define KV_FN   ic_attention_f16_avx512

static inline __m512 kv_load(const unsigned char *row, size_t e) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * e)));
}

/* AVX-512BW+VL masked 16-bit load: a head_dim tail only. */
static inline __m512 kv_load_mask(__mmask16 t, const unsigned char *row, size_t e) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(t, row + 2 * e));
}

#include "attention_avx512_body.h"

#define KV_ROWS_FN ic_attention_rows_f16_avx512
#include "attention_rows_avx512_body.h"
