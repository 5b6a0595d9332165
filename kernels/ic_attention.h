/* Attention for one decode step over a KV cache, with grouped-query heads. */
#ifndef IC_ATTENTION_H
#define IC_ATTENTION_H

#include "ic_types.h"

#include <stddef.h>

typedef struct ic_attn_shape {
    size_t n_head;    /* query heads */
    size_t n_head_kv; /* key/value heads; divides n_head (GQA) */
    size_t head_dim;
    size_t n_pos;     /* cached positions to attend over: 0 .. n_pos - 1, including this token */
    size_t kv_stride; /* elements between consecutive positions in the caches
                       * (>= n_head_kv * head_dim) */
} ic_attn_shape;

/* For each query head h in [head_begin, head_end):
 *   out_h = sum_p softmax_p(q_h . k[p][g] / sqrt(head_dim)) v[p][g],  g = h / (n_head / n_head_kv).
 * q and out hold n_head * head_dim floats. The caches are in the variant's KV type (its record's
 * wtype: f32, f16, bf16 or q8_0): position p starts at byte p * ic_row_bytes(kvtype, kv_stride)
 * and KV head g at element g * head_dim of it, so a q8_0 cache needs head_dim and kv_stride
 * multiples of 32 (ggml q8_0 blocks; ic_attn_check_kv). The kernel reads the cache values as
 * ic_dequantize_<kvtype>_ref would give them.
 * lse (NULL: not wanted) gets, for each head of the range, lse[h] = log sum_p e^(score_p): with it
 * the results of disjoint position spans of one context merge into the whole (ic_attn_merge), so a
 * decode step can split its positions across workers. scratch holds at least
 * ic_attn_scratch_floats(n_head, n_pos) floats, owned by the calling thread. */
typedef void ic_attention_fn(const float *q, const void *k_cache, const void *v_cache, float *out,
                             float *lse, float *scratch, const ic_attn_shape *s, size_t head_begin,
                             size_t head_end);

/* Returns 0 when a KV cache of type kv can hold heads of head_dim elements (and is a KV type),
 * otherwise -1 with a message naming the type, head_dim and the block size. */
int ic_attn_check_kv(ic_dtype kv, size_t head_dim, char *err, size_t errlen);

/* Positions a kernel may take as one tile (the tiled x86 kernels walk positions a tile at a time,
 * across all their heads, with an online softmax). */
#define IC_ATTN_TILE 64

/* Scratch floats for a call over n_pos positions: one row of n_pos scores (the per-head kernels),
 * or a tile of scores and the running max, sum and rescale of each of up to n_head heads (the
 * tiled kernel); each part rounded up to 16 floats (a 64-byte line). */
static inline size_t ic_attn_scratch_floats(size_t n_head, size_t n_pos) {
    const size_t row = (n_pos + 15) & ~(size_t)15, heads = (n_head + 15) & ~(size_t)15;
    const size_t tiled = heads * (IC_ATTN_TILE + 4);
    return row > tiled ? row : tiled;
}

/* A prompt's attention: n_rows query rows of one sequence at consecutive positions, causal. Row i
 * (q + i * q_stride, n_head * head_dim floats, heads as for ic_attention_fn) attends positions
 * [0, s->n_pos + i), i.e. s->n_pos is row 0's count, and its result goes to out + i * out_stride;
 * every head, each row as ic_attention_fn over those positions would give it (to float rounding).
 * Needs n_head / n_head_kv <= IC_ATTN_ROWS_LANES. scratch holds at least
 * ic_attn_rows_scratch_floats(s->n_head, s->n_head_kv, s->head_dim, s->n_pos + n_rows - 1)
 * floats, owned by the calling thread. The kernels with this entry score a block of rows against
 * each key at once: the block's query vectors of one KV head (rows x group heads, up to
 * IC_ATTN_ROWS_LANES) a vector lane each, IC_ATTN_ROWS_TILE positions at a time. */
typedef void ic_attention_rows_fn(const float *q, size_t q_stride, const void *k_cache,
                                  const void *v_cache, float *out, size_t out_stride,
                                  float *scratch, const ic_attn_shape *s, size_t n_rows);

#define IC_ATTN_ROWS_LANES 16
#define IC_ATTN_ROWS_TILE  32
/* Floats between a tile's widened keys (or values): head_dim rounded up to 16, and 16 more, so
 * that sixteen rows are not 256 or 512 bytes apart (2048 rows of llama-3.2-1b's heads, f16:
 * 231 -> 218 ms). */
#define IC_ATTN_ROWS_PITCH(d) ((((d) + 15) & ~(size_t)15) + 16)

/* Rows of a prompt block: the query vectors of one KV head fill the lanes. */
static inline size_t ic_attn_rows_block(size_t n_head, size_t n_head_kv) {
    const size_t g = n_head / n_head_kv;
    return g <= IC_ATTN_ROWS_LANES ? IC_ATTN_ROWS_LANES / g : 0;
}

/* Scratch floats for an ic_attention_rows_fn call whose last row attends max_pos positions: each
 * KV head's queries and running output, transposed (head_dim x lanes each), and its running max
 * and sum; a tile of keys and of values as floats and a tile of scores; or, where a block falls
 * back to one row at a time (non-finite scores), what ic_attention_fn needs. */
static inline size_t ic_attn_rows_scratch_floats(size_t n_head, size_t n_head_kv, size_t head_dim,
                                                 size_t max_pos) {
    const size_t L = IC_ATTN_ROWS_LANES, T = IC_ATTN_ROWS_TILE, dp = IC_ATTN_ROWS_PITCH(head_dim);
    const size_t rows = n_head_kv * (2 * head_dim * L + 2 * L) + 2 * T * dp + T * L;
    const size_t one = ic_attn_scratch_floats(n_head, max_pos);
    return rows > one ? rows : one;
}

/* Merges n_span partial results of the heads [0, n_head) (outs[t * n_head * head_dim ...] and
 * lses[t * n_head ...], each from one call over a disjoint span of positions) into out: the
 * spans weighted by e^(lse_t - lse), lse = log sum_t e^(lse_t). Exact for finite scores; where the
 * largest lse is infinite, the spans that reach it share the weight equally. n_span is at most
 * IC_ATTN_SPANS_MAX. */
void ic_attn_merge(const float *outs, const float *lses, size_t n_span, size_t n_head,
                   size_t head_dim, float *out);

/* How many query heads a split of `units` (row, head) pairs over nt workers should keep together:
 * a whole group sharing a KV head, so that no KV head is read by two workers, unless that would
 * leave workers without a group. */
static inline size_t ic_attn_split_align(size_t n_head, size_t n_head_kv, size_t units, int nt) {
    const size_t group = n_head_kv ? n_head / n_head_kv : 1;
    return group > 1 && units / group >= (size_t)nt ? group : 1;
}

/* A decode step split across nt workers: the positions into spans of whole IC_ATTN_SPLIT-
 * position pieces (at most IC_ATTN_SPANS_MAX of them, so that merging stays cheap), and each
 * span's heads into ranges that keep a KV head's query heads together. Worker t's share: the
 * positions [pos_begin, pos_end) and heads [head_begin, head_end) (empty when it has none); the
 * return value is the number of spans. Span s's workers are t = s * parts .. (s + 1) * parts - 1.
 */
#define IC_ATTN_SPLIT     16
#define IC_ATTN_SPANS_MAX 8

typedef struct {
    size_t spans, span, pos_begin, pos_end, head_begin, head_end;
} ic_attn_unit;

static inline ic_attn_unit ic_attn_decode_unit(size_t n_pos, size_t n_head, size_t n_head_kv,
                                               size_t nt, size_t t) {
    const size_t pieces = (n_pos + IC_ATTN_SPLIT - 1) / IC_ATTN_SPLIT;
    size_t spans = pieces < nt ? pieces : nt;
    if (spans > IC_ATTN_SPANS_MAX) spans = IC_ATTN_SPANS_MAX;
    const size_t parts = nt / spans, s = t / parts, hp = t % parts;
    ic_attn_unit u = {spans, s, 0, 0, 0, 0};
    if (s >= spans) return u;
    const size_t pb = pieces * s / spans * IC_ATTN_SPLIT,
                 pe = pieces * (s + 1) / spans * IC_ATTN_SPLIT;
    u.pos_begin = pb < n_pos ? pb : n_pos;
    u.pos_end = pe < n_pos ? pe : n_pos;
    const size_t align = ic_attn_split_align(n_head, n_head_kv, n_head, (int)parts);
    const size_t units = n_head / align; /* align divides n_head */
    u.head_begin = units * hp / parts * align;
    u.head_end = units * (hp + 1) / parts * align;
    return u;
}

#endif
