/* Grouped-query attention for one decode step over an f32 KV cache, SVE at any vector length:
 * q.k scores, the SVE softmax, then the value rows accumulated into the output one vector of
 * head_dim at a time. */
#ifndef __ARM_FEATURE_SVE
#error "attention_f32_sve.c needs -march=armv8.2-a+sve"
#endif
#include "sve_common.h"

#include <assert.h>
#include <math.h>

void ic_attention_f32_sve(const float *q, const void *k_cache_, const void *v_cache_, float *out,
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
            scratch[p] = ic__sve_dot_f32(qh, k_cache + p * s->kv_stride + g * d, d) * scale;
        const float l = ic_softmax_sve(scratch, s->n_pos);
        if (lse) lse[h] = l;
        for (size_t j = 0; j < d; j += svcntw()) {
            svbool_t pg = svwhilelt_b32_u64(j, d);
            svfloat32_t acc = svdup_n_f32(0.0f);
            for (size_t p = 0; p < s->n_pos; p++)
                acc = svmla_n_f32_x(pg, acc, svld1_f32(pg, v_cache + p * s->kv_stride + g * d + j),
                                    scratch[p]);
            svst1_f32(pg, out + h * d + j, acc);
        }
    }
}
