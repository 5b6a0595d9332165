/* Grouped-query attention for one decode step over a KV cache of type KV_TYPE (f16, bf16 or q8_0),
 * base Advanced SIMD. The including file defines KV_TYPE, KV_FN and
 *   kv4(row, e): elements e .. e + 3 of a cache row as f32 (e % 4 == 0 within a head), and
 *   kv1(row, e): element e alone (the head_dim tail of f16 and bf16; q8_0 heads have none),
 * each the value ic_dequantize_<type>_ref gives. The cache is read at its own size and widened in
 * registers: q.k scores, the NEON softmax, then each position's value row added into the output,
 * the positions in address order. */
#include "neon_common.h"

#include <assert.h>
#include <math.h>

void KV_FN(const float *q, const void *k_cache, const void *v_cache, float *out, float *lse,
           float *scratch, const ic_attn_shape *s, size_t head_begin, size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(KV_TYPE, s->kv_stride) > 0 && ic_row_bytes(KV_TYPE, s->head_dim) > 0);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim;
    const size_t seg = KV_SEG(d) < d ? KV_SEG(d) : d;
    const size_t rb = ic_row_bytes(KV_TYPE, s->kv_stride);
    const unsigned char *kc = k_cache, *vc = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = head_begin; h < head_end; h++) {
        const float *qh = q + h * d;
        const size_t e0 = (h / group) * d;
        for (size_t p = 0; p < s->n_pos; p++) {
            const unsigned char *row = kc + p * rb;
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
            const float dot = vaddvq_f32(vaddq_f32(a0, a1)) + tail;
            scratch[p] = dot * scale;
        }
        const float l = ic_softmax_neon(scratch, s->n_pos);
        if (lse) lse[h] = l;
        float *oh = out + h * d;
        for (size_t j = 0; j < d; j++) oh[j] = 0.0f;
        for (size_t p = 0; p < s->n_pos; p++) {
            const unsigned char *row = vc + p * rb;
            const float w = scratch[p];
            for (size_t s0 = 0; s0 < d; s0 += seg) {
                const size_t s1 = s0 + seg, s4 = s0 + (s1 - s0) / 4 * 4;
                const float sc = kv_scale(row, e0 + s0);
                size_t j = s0;
                for (; j < s4; j += 4)
                    vst1q_f32(oh + j, vfmaq_n_f32(vld1q_f32(oh + j), kv4(row, e0 + j, sc), w));
                for (; j < s1; j++) oh[j] += w * kv1(row, e0 + j, sc);
            }
        }
    }
}
