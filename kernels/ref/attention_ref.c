/* Reference grouped-query attention for one decode step, over a KV cache of each type. */
#include "../ic_dispatch.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

/* Element i of a cache row of type t, as ic_dequantize_<t>_ref gives it. Inlined with t a constant
 * (as attention_ref is into each variant), so the f32 reference costs what it did before types. */
static inline __attribute__((always_inline)) float kv_elem(ic_dtype t, const void *row, size_t i) {
    switch (t) {
    case IC_DT_F16:
        return ic_fp16_to_f32(((const uint16_t *)row)[i]);
    case IC_DT_BF16:
        return ic_bf16_to_f32(((const uint16_t *)row)[i]);
    case IC_DT_Q8_0: {
        const ic_block_q8_0 *b = (const ic_block_q8_0 *)row + i / IC_QK;
        return ic_fp16_to_f32(b->d) * (float)b->qs[i % IC_QK];
    }
    default:
        return ((const float *)row)[i];
    }
}

/* The reference for every KV type: each cache element is dequantized where it is read, and the
 * scores go through the reference softmax in scratch. */
static inline __attribute__((always_inline)) void
attention_ref(ic_dtype t, const float *q, const void *k_cache, const void *v_cache, float *out,
              float *lse, float *scratch, const ic_attn_shape *s, size_t head_begin,
              size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(t, s->kv_stride) > 0 && ic_row_bytes(t, s->head_dim) > 0);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim;
    const size_t row = ic_row_bytes(t, s->kv_stride);
    const unsigned char *kb = k_cache, *vb = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t g = h / group;
        for (size_t p = 0; p < s->n_pos; p++) {
            float dot = 0.0f;
            for (size_t j = 0; j < d; j++) dot += qh[j] * kv_elem(t, kb + p * row, g * d + j);
            scratch[p] = dot * scale;
        }
        const float l = ic_softmax_ref(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j++) oh[j] = 0.0f;
        for (size_t p = 0; p < s->n_pos; p++)
            for (size_t j = 0; j < d; j++)
                oh[j] += scratch[p] * kv_elem(t, vb + p * row, g * d + j);
    }
}

#define ATTENTION_REF(kv, KV)                                                                      \
    void ic_attention_##kv##_ref(const float *q, const void *k_cache, const void *v_cache,         \
                                 float *out, float *lse, float *scratch, const ic_attn_shape *s,   \
                                 size_t head_begin, size_t head_end) {                             \
        attention_ref(IC_DT_##KV, q, k_cache, v_cache, out, lse, scratch, s, head_begin,           \
                      head_end);                                                                   \
    }
ATTENTION_REF(f32, F32)
ATTENTION_REF(f16, F16)
ATTENTION_REF(bf16, BF16)
ATTENTION_REF(q8_0, Q8_0)

int ic_attn_check_kv(ic_dtype kv, size_t head_dim, char *err, size_t errlen) {
    if (!ic_dtype_is_kv(kv)) {
        snprintf(err, errlen, "%s is not a KV-cache type (valid: f16, bf16, f32, q8_0)",
                 ic_dtype_name(kv) ? ic_dtype_name(kv) : "(invalid)");
        return -1;
    }
    if (head_dim == 0 || head_dim % ic_dtype_block(kv) != 0) {
        snprintf(err, errlen,
                 "a %s KV cache stores each head in blocks of %zu values; head_dim %zu is not a "
                 "multiple (use --kv-dtype f16, bf16 or f32)",
                 ic_dtype_name(kv), ic_dtype_block(kv), head_dim);
        return -1;
    }
    return 0;
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
