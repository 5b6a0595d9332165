/* Grouped-query attention for one decode step over an f32 KV cache, base Advanced SIMD: q.k scores
 * with FMA dot products, the NEON softmax, then the value rows accumulated into the output with
 * FMA. */
#ifndef __ARM_NEON
#error "attention_f32_neon.c needs NEON (-march=armv8-a)"
#endif
#include "float_dot_neon.h"

#include <assert.h>
#include <math.h>

void ic_attention_f32_neon(const float *q, const void *k_cache_, const void *v_cache_, float *out,
                           float *lse, float *scratch, const ic_attn_shape *s, size_t head_begin,
                           size_t head_end) {
    const float *k_cache = k_cache_, *v_cache = v_cache_;
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t g = h / group;
        for (size_t p = 0; p < s->n_pos; p++)
            scratch[p] = ic__dot_f32(qh, k_cache + p * s->kv_stride + g * d, d) * scale;
        const float l = ic_softmax_neon(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        size_t j = 0;
        for (; j + 4 <= d; j += 4) {
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (size_t p = 0; p < s->n_pos; p++)
                acc =
                    vfmaq_n_f32(acc, vld1q_f32(v_cache + p * s->kv_stride + g * d + j), scratch[p]);
            vst1q_f32(oh + j, acc);
        }
        for (; j < d; j++) {
            float acc = 0.0f;
            for (size_t p = 0; p < s->n_pos; p++)
                acc += scratch[p] * v_cache[p * s->kv_stride + g * d + j];
            oh[j] = acc;
        }
    }
}
