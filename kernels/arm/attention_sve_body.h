/* Grouped-query attention for one decode step over a KV cache of type KV_TYPE (f16, bf16 or q8_0),
 * SVE at any vector length. The including file defines KV_TYPE, KV_FN, KV_SEG (the run of values
 * one load may cover: the head for f16 and bf16, a 32-value block for q8_0) and
 *   kv_scale(row, e): the scale of the run that starts at element e (1 for f16 and bf16), and
 *   kv_vec(pg, row, e, sc): the active lanes of elements e, e + 1, ... of a cache row as f32, the
 *   value ic_dequantize_<type>_ref gives, never reaching past e's KV_SEG run.
 * The cache is read at its own size and widened in registers: q.k scores, the SVE softmax, then
 * each position's value row added into the output, the positions in address order. */
#include "sve_common.h"

#include <assert.h>
#include <math.h>

void KV_FN(const float *q, const void *k_cache, const void *v_cache, float *out, float *lse,
           float *scratch, const ic_attn_shape *s, size_t head_begin, size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(KV_TYPE, s->kv_stride) > 0 && ic_row_bytes(KV_TYPE, s->head_dim) > 0);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, vl = svcntw();
    const size_t seg = KV_SEG(d) < d ? KV_SEG(d) : d;
    const size_t rb = ic_row_bytes(KV_TYPE, s->kv_stride);
    const unsigned char *kc = k_cache, *vc = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    const svbool_t all = svptrue_b32();
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t e0 = (h / group) * d;
        for (size_t p = 0; p < s->n_pos; p++) {
            const unsigned char *row = kc + p * rb;
            svfloat32_t acc = svdup_n_f32(0.0f);
            for (size_t s0 = 0; s0 < d; s0 += seg) {
                const float sc = kv_scale(row, e0 + s0);
                for (size_t j = s0; j < s0 + seg; j += vl) {
                    const svbool_t pg = svwhilelt_b32_u64(j, s0 + seg);
                    acc = svmla_f32_m(pg, acc, svld1_f32(pg, qh + j), kv_vec(pg, row, e0 + j, sc));
                }
            }
            scratch[p] = svaddv_f32(all, acc) * scale;
        }
        const float l = ic_softmax_sve(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j += vl)
            svst1_f32(svwhilelt_b32_u64(j, d), oh + j, svdup_n_f32(0));
        for (size_t p = 0; p < s->n_pos; p++) {
            const unsigned char *row = vc + p * rb;
            const float w = scratch[p];
            for (size_t s0 = 0; s0 < d; s0 += seg) {
                const float sc = kv_scale(row, e0 + s0);
                for (size_t j = s0; j < s0 + seg; j += vl) {
                    const svbool_t pg = svwhilelt_b32_u64(j, s0 + seg);
                    svst1_f32(
                        pg, oh + j,
                        svmla_n_f32_x(pg, svld1_f32(pg, oh + j), kv_vec(pg, row, e0 + j, sc), w));
                }
            }
        }
    }
}
