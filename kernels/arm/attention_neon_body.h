/* Grouped-query attention for one decode step over a KV cache of type KV_TYPE (f16, bf16 or q8_0),
 * base Advanced SIMD. The including file defines KV_TYPE, KV_FN and either the two walks over one
 * head's d values of a cache row (from element e0), each giving what ic_dequantize_<type>_ref
 * gives (q8_0, which walks its blocks itself, with KV_OWN_ROWS):
 *   kv_dot(qh, row, e0, d): q . k, and
 *   kv_axpy(oh, row, e0, d, w): oh += w v;
 * or KV_SEG(d) (the run of values that share a scale, at most d: the head for f16 and bf16) and
 *   kv_scale(row, e): the scale of the run that starts at element e,
 *   kv4(row, e, sc): elements e .. e + 3 of a cache row as f32 (e % 4 == 0 within a head), and
 *   kv1(row, e, sc): element e alone (the head_dim tail),
 * from which the walks are made here. The cache is read at its own size and widened in
 * registers: q.k scores, the NEON softmax, then each position's value row added into the output,
 * the positions in address order. */
#include "neon_common.h"

#include <assert.h>
#include <math.h>

#ifndef KV_OWN_ROWS
static inline float kv_dot(const float *qh, const unsigned char *row, size_t e0, size_t d) {
    const size_t seg = KV_SEG(d);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    float tail = 0.0f;
    for (size_t s0 = 0; s0 < d; s0 += seg) {
        const size_t s1 = s0 + seg, s4 = s0 + (s1 - s0) / 4 * 4;
        const float sc = kv_scale(row, e0 + s0);
        size_t j = s0;
        for (; j + 8 <= s4; j += 8) {
            a0 = vfmaq_f32(a0, vld1q_f32(qh + j), kv4(row, e0 + j, sc));
            a1 = vfmaq_f32(a1, vld1q_f32(qh + j + 4), kv4(row, e0 + j + 4, sc));
        }
        if (j < s4) a0 = vfmaq_f32(a0, vld1q_f32(qh + j), kv4(row, e0 + j, sc));
        for (j = s4; j < s1; j++) tail += qh[j] * kv1(row, e0 + j, sc);
    }
    return vaddvq_f32(vaddq_f32(a0, a1)) + tail;
}

static inline void kv_axpy(float *oh, const unsigned char *row, size_t e0, size_t d, float w) {
    const size_t seg = KV_SEG(d);
    for (size_t s0 = 0; s0 < d; s0 += seg) {
        const size_t s1 = s0 + seg, s4 = s0 + (s1 - s0) / 4 * 4;
        const float sc = kv_scale(row, e0 + s0);
        size_t j = s0;
        for (; j < s4; j += 4)
            vst1q_f32(oh + j, vfmaq_n_f32(vld1q_f32(oh + j), kv4(row, e0 + j, sc), w));
        for (; j < s1; j++) oh[j] += w * kv1(row, e0 + j, sc);
    }
}
#endif

void KV_FN(const float *q, const void *k_cache, const void *v_cache, float *out, float *lse,
           float *scratch, const ic_attn_shape *s, size_t head_begin, size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(KV_TYPE, s->kv_stride) > 0 && ic_row_bytes(KV_TYPE, s->head_dim) > 0);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim;
    const size_t rb = ic_row_bytes(KV_TYPE, s->kv_stride);
    const unsigned char *kc = k_cache, *vc = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t e0 = (h / group) * d;
        for (size_t p = 0; p < s->n_pos; p++) scratch[p] = kv_dot(qh, kc + p * rb, e0, d) * scale;
        const float l = ic_softmax_neon(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j++) oh[j] = 0.0f;
        for (size_t p = 0; p < s->n_pos; p++) kv_axpy(oh, vc + p * rb, e0, d, scratch[p]);
    }
}
