/* Grouped-query attention for one decode step over a KV cache of type KV_TYPE (f16, bf16 or q8_0),
 * SVE at any vector length. The including file defines KV_TYPE, KV_FN and the two walks over one
 * head's d values of a cache row (from element e0), each giving what ic_dequantize_<type>_ref
 * gives:
 *   kv_dot(qh, row, e0, d): the lanes of q . k (summed by the body), and
 *   kv_axpy(oh, row, e0, d, w): oh += w v.
 * q8_0 walks its blocks itself and says so with KV_OWN_ROWS; f16 and bf16 get the walks here
 * from kv_vec(pg, row, e), the active lanes of elements e, e + 1, ... as f32.
 * The cache is read at its own size and widened in registers: q.k scores, the SVE softmax, then
 * each position's value row added into the output, the positions in address order. */
#include "sve_common.h"

#include <assert.h>
#include <math.h>

#ifndef KV_OWN_ROWS
/* Whole vectors two at a time with an all-true predicate and two accumulators, then a WHILELT
 * tail. Instructions an output for f16 and bf16 alike (ci/arm_insn_count.py) at 128 / 256 / 512 /
 * 1024 / 2048 bits: 1020.4 / 544.5 / 306.5 / 187.6 / 128.1, against 1286.3 / 666.4 / 356.5 /
 * 201.5 / 124.0 with a WHILELT for every vector. At 2048 bits a 128-value head is one step, and
 * adding the two accumulators is the 3% more there. */
static inline svfloat32_t kv_dot(const float *qh, const unsigned char *row, size_t e0, size_t d) {
    const svbool_t all = svptrue_b32();
    const size_t vl = svcntw();
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0;
    size_t j = 0;
    for (; j + 2 * vl <= d; j += 2 * vl) {
        a0 = svmla_f32_x(all, a0, svld1_f32(all, qh + j), kv_vec(all, row, e0 + j));
        a1 = svmla_f32_x(all, a1, svld1_f32(all, qh + j + vl), kv_vec(all, row, e0 + j + vl));
    }
    for (; j < d; j += vl) {
        const svbool_t pg = svwhilelt_b32_u64(j, d);
        a0 = svmla_f32_m(pg, a0, svld1_f32(pg, qh + j), kv_vec(pg, row, e0 + j));
    }
    return svadd_f32_x(all, a0, a1);
}

static inline void kv_axpy(float *oh, const unsigned char *row, size_t e0, size_t d, float w) {
    const svbool_t all = svptrue_b32();
    const size_t vl = svcntw();
    size_t j = 0;
    for (; j + 2 * vl <= d; j += 2 * vl) {
        svst1_f32(all, oh + j,
                  svmla_n_f32_x(all, svld1_f32(all, oh + j), kv_vec(all, row, e0 + j), w));
        svst1_f32(
            all, oh + j + vl,
            svmla_n_f32_x(all, svld1_f32(all, oh + j + vl), kv_vec(all, row, e0 + j + vl), w));
    }
    for (; j < d; j += vl) {
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
