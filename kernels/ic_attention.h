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
 * scratch holds at least ic_attn_scratch_floats(n_pos) floats, owned by the calling thread: room
 * for the scores of IC_ATTN_GROUP_MAX heads at once, so that the heads sharing a KV head can be
 * scored in one pass over its keys. */
typedef void ic_attention_fn(const float *q, const float *k_cache, const float *v_cache, float *out,
                             float *scratch, const ic_attn_shape *s, size_t head_begin,
                             size_t head_end);

/* Query heads a kernel may score at once, and the scratch that takes: IC_ATTN_GROUP_MAX rows of
 * n_pos scores, each row rounded up to 16 floats (a 64-byte line). */
#define IC_ATTN_GROUP_MAX 4

static inline size_t ic_attn_scratch_stride(size_t n_pos) {
    return (n_pos + 15) & ~(size_t)15;
}

static inline size_t ic_attn_scratch_floats(size_t n_pos) {
    return IC_ATTN_GROUP_MAX * ic_attn_scratch_stride(n_pos);
}

/* How many query heads a split of `units` (row, head) pairs over nt workers should keep together:
 * a whole group sharing a KV head, so that no KV head is read by two workers, unless that would
 * leave workers without a group. */
static inline size_t ic_attn_split_align(size_t n_head, size_t n_head_kv, size_t units, int nt) {
    const size_t group = n_head_kv ? n_head / n_head_kv : 1;
    return group > 1 && units / group >= (size_t)nt ? group : 1;
}

#endif
