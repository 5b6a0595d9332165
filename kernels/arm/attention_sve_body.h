/* Grouped-query attention for one decode step over a KV cache of type KV_TYPE (f16, bf16 or q8_0),
 * SVE at any vector length. The including file defines KV_TYPE, KV_FN and the two walks over one
 * head's d values of a cache row (from element e0), each giving what ic_dequantize_<type>_ref
 * gives:
 *   kv_dot(qh, row, e0, d): the lanes of q . k (summed by the body), and
 *   kv_axpy(oh, row, e0, d, w): oh += w v.
 * f16 and bf16 get them here from kv_vec(pg, row, e) (the active lanes of elements e, e + 1, ...
 * as f32) by defining KV_VEC_ROWS; q8_0 walks its blocks itself.
 * The cache is read at its own size and widened in registers: q.k scores, the SVE softmax, then
 * each position's value row added into the output, the positions in address order. */
#include "sve_common.h"

#include <assert.h>
#include <math.h>

#ifdef KV_VEC_ROWS
static inline svfloat32_t kv_dot(const float *qh, const unsigned char *row, size_t e0, size_t d) {
    svfloat32_t acc = svdup_n_f32(0.0f);
    for (size_t j = 0; j < d; j += svcntw()) {
        const svbool_t pg = svwhilelt_b32_u64(j, d);
        acc = svmla_f32_m(pg, acc, svld1_f32(pg, qh + j), kv_vec(pg, row, e0 + j));
    }
    return acc;
}

static inline void kv_axpy(float *oh, const unsigned char *row, size_t e0, size_t d, float w) {
    for (size_t j = 0; j < d; j += svcntw()) {
        const svbool_t pg = svwhilelt_b32_u64(j, d);
        svst1_f32(pg, oh + j, svmla_n_f32_x(pg, svld1_f32(pg, oh + j), kv_vec(pg, row, e0 + j), w));
    }
}
#endif

void KV_FN(const float *q, const void *k_cache, const void *v_cache, float *out, float *lse,
           float *scratch, const ic_attn_shape *s, size_t head_begin, size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(KV_TYPE, s->kv_stride) > 0 && ic_row_bytes(KV_TYPE, s->head_dim) > 0);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, vl = svcntw();
    const size_t rb = ic_row_bytes(KV_TYPE, s->kv_stride);
    const unsigned char *kc = k_cache, *vc = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    const svbool_t all = svptrue_b32();
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t e0 = (h / group) * d;
        for (size_t p = 0; p < s->n_pos; p++)
            scratch[p] = svaddv_f32(all, kv_dot(qh, kc + p * rb, e0, d)) * scale;
        const float l = ic_softmax_sve(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j += vl)
            svst1_f32(svwhilelt_b32_u64(j, d), oh + j, svdup_n_f32(0));
        for (size_t p = 0; p < s->n_pos; p++) kv_axpy(oh, vc + p * rb, e0, d, scratch[p]);
    }
}
