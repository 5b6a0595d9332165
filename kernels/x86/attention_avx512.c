/* Grouped-query attention for one decode step with AVX-512F. At long context the two passes over
 * the KV cache dominate: q . k for every position (four positions per step, their dot products
 * reduced together) and the softmax-weighted sum of v (16 output dims per register, four positions
 * per step into separate accumulators). head_dim need not be a multiple of 16: masked loads. */
#ifndef __AVX512F__
#error "attention_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

static inline __m512 dot_part(const float *q, const float *k, size_t d, __m512 acc) {
    for (size_t j = 0; j < d; j += 16) {
        __mmask16 t = ic_x86_tail16(d - j);
        acc =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q + j), _mm512_maskz_loadu_ps(t, k + j), acc);
    }
    return acc;
}

void ic_attention_avx512(const float *q, const float *k_cache, const float *v_cache, float *out,
                         float *scratch, const ic_attn_shape *s, size_t head_begin,
                         size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, np = s->n_pos;
    const size_t st = s->kv_stride;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const float *kg = k_cache + (h / group) * d, *vg = v_cache + (h / group) * d;
        size_t p = 0;
        for (; p + 4 <= np; p += 4) {
            __m512 a0 = dot_part(qh, kg + p * st, d, _mm512_setzero_ps());
            __m512 a1 = dot_part(qh, kg + (p + 1) * st, d, _mm512_setzero_ps());
            __m512 a2 = dot_part(qh, kg + (p + 2) * st, d, _mm512_setzero_ps());
            __m512 a3 = dot_part(qh, kg + (p + 3) * st, d, _mm512_setzero_ps());
            _mm_storeu_ps(scratch + p,
                          _mm_mul_ps(ic_x86_hsum512_x4(a0, a1, a2, a3), _mm_set1_ps(scale)));
        }
        for (; p < np; p++)
            scratch[p] =
                _mm512_reduce_add_ps(dot_part(qh, kg + p * st, d, _mm512_setzero_ps())) * scale;
        ic_x86_softmax512(scratch, np);
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j += 16) {
            const __mmask16 t = ic_x86_tail16(d - j);
            __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
            const float *v = vg + j;
            for (p = 0; p + 4 <= np; p += 4) {
                o0 = _mm512_fmadd_ps(_mm512_set1_ps(scratch[p]),
                                     _mm512_maskz_loadu_ps(t, v + p * st), o0);
                o1 = _mm512_fmadd_ps(_mm512_set1_ps(scratch[p + 1]),
                                     _mm512_maskz_loadu_ps(t, v + (p + 1) * st), o1);
                o2 = _mm512_fmadd_ps(_mm512_set1_ps(scratch[p + 2]),
                                     _mm512_maskz_loadu_ps(t, v + (p + 2) * st), o2);
                o3 = _mm512_fmadd_ps(_mm512_set1_ps(scratch[p + 3]),
                                     _mm512_maskz_loadu_ps(t, v + (p + 3) * st), o3);
            }
            for (; p < np; p++)
                o0 = _mm512_fmadd_ps(_mm512_set1_ps(scratch[p]),
                                     _mm512_maskz_loadu_ps(t, v + p * st), o0);
            _mm512_mask_storeu_ps(oh + j, t,
                                  _mm512_add_ps(_mm512_add_ps(o0, o1), _mm512_add_ps(o2, o3)));
        }
    }
}
