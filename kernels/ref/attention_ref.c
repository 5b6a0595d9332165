/* Reference grouped-query attention for one decode step. */
#include "../ic_dispatch.h"

#include <assert.h>
#include <math.h>

void ic_attention_ref(const float *q, const float *k_cache, const float *v_cache, float *out,
                      float *lse, float *scratch, const ic_attn_shape *s, size_t head_begin,
                      size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t g = h / group;
        for (size_t p = 0; p < s->n_pos; p++) {
            const float *kp = k_cache + p * s->kv_stride + g * d;
            float dot = 0.0f;
            for (size_t j = 0; j < d; j++) dot += qh[j] * kp[j];
            scratch[p] = dot * scale;
        }
        const float l = ic_softmax_ref(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j++) oh[j] = 0.0f;
        for (size_t p = 0; p < s->n_pos; p++) {
            const float *vp = v_cache + p * s->kv_stride + g * d;
            for (size_t j = 0; j < d; j++) oh[j] += scratch[p] * vp[j];
        }
    }
}

void ic_attn_merge(const float *outs, const float *lses, size_t n_span, size_t n_head,
                   size_t head_dim, float *out) {
    assert(n_span >= 1 && n_span <= IC_ATTN_SPANS_MAX);
    for (size_t h = 0; h < n_head; h++) {
        float top = -INFINITY;
        for (size_t t = 0; t < n_span; t++) top = fmaxf(top, lses[t * n_head + h]);
        /* Span weights relative to the largest: e^(lse_t - top), exactly 1 for the spans at the
         * top (no exp: at an infinite top e^(inf - inf) would be NaN, and the others get 0).
         * Computed once per span: the merge runs on one thread between two pool tasks, and
         * computing each weight twice made it ~4 us per llama-3.2-1b layer. */
        float w[IC_ATTN_SPANS_MAX], wsum = 0.0f;
        for (size_t t = 0; t < n_span; t++) {
            const float l = lses[t * n_head + h];
            w[t] = l == top ? 1.0f : isinf(top) ? 0.0f : expf(l - top);
            wsum += w[t];
        }
        float *o = out + h * head_dim;
        for (size_t t = 0; t < n_span; t++) {
            const float wt = w[t] / wsum;
            const float *src = outs + (t * n_head + h) * head_dim;
            if (t == 0)
                for (size_t j = 0; j < head_dim; j++) o[j] = wt * src[j];
            else
                for (size_t j = 0; j < head_dim; j++) o[j] += wt * src[j];
        }
    }
}
