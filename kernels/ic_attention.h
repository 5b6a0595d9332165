/* Attention for one decode step over a KV cache, with grouped-query heads. */
#ifndef IC_ATTENTION_H
#define IC_ATTENTION_H

#include <stddef.h>

typedef struct ic_attn_shape {
    size_t n_head;    /* query heads */
    size_t n_head_kv; /* key/value heads; divides n_head (GQA) */
    size_t head_dim;
    size_t n_pos; /* cached positions to attend over: 0 .. n_pos - 1, including this token */
    size_t
        kv_stride; /* floats between consecutive positions in the caches (>= n_head_kv*head_dim) */
} ic_attn_shape;

/* For each query head h in [head_begin, head_end):
 *   out_h = sum_p softmax_p(q_h . k[p][g] / sqrt(head_dim)) v[p][g],  g = h / (n_head / n_head_kv).
 * q and out hold n_head * head_dim floats; k_cache[p * kv_stride + g * head_dim + d], same for v.
 * scratch holds at least n_pos floats, owned by the calling thread. */
typedef void ic_attention_fn(const float *q, const float *k_cache, const float *v_cache, float *out,
                             float *scratch, const ic_attn_shape *s, size_t head_begin,
                             size_t head_end);

#endif
