/* Grouped-query attention for one decode step with AVX-512F.
 *
 * The KV cache is [position][kv head][head_dim], so one head's keys sit head_dim floats at a time,
 * kv_stride floats apart: a 4 KiB stride at Llama's 8 KV heads of 128, which the hardware
 * prefetchers do not follow across pages. The first version walked it once per query head and,
 * for v, once per 16 output dims, with no prefetch; at context 4096 it read 3.5 GB/s (bench
 * attention/avx512/ctx:4096, 2 threads, Zen 5), latency-bound. Now:
 * - the query heads that share a KV head (up to IC_ATTN_GROUP_MAX at a time) go together, so each
 *   key and value is read from memory once per group, not once per query head;
 * - v is walked once per 64 output dims, position by position, the weights of every head of the
 *   group applied to each loaded vector;
 * - both passes prefetch about PREFETCH_BYTES of cache ahead, position by position.
 * head_dim need not be a multiple of 16: masked loads. */
#ifndef __AVX512F__
#error "attention_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

/* How far ahead to prefetch the cache, in bytes of one head's rows (positions). */
#define PREFETCH_BYTES 8192

static inline __m512 dot_part(const float *q, const float *k, size_t d, __m512 acc) {
    for (size_t j = 0; j < d; j += 16) {
        __mmask16 t = ic_x86_tail16(d - j);
        acc =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q + j), _mm512_maskz_loadu_ps(t, k + j), acc);
    }
    return acc;
}

/* The cache lines of `bytes` bytes from p. */
static inline void prefetch_row(const float *p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

/* Scaled scores of hn heads (q rows qh, head_dim d apart) against positions [0, np) of one KV
 * head's keys k (stride st), into sc[i * ss + p]. */
static inline void scores(const float *qh, size_t hn, const float *k, size_t st, size_t d,
                          size_t np, size_t pd, float scale, float *sc, size_t ss) {
    const size_t row = d * sizeof(float);
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
        for (size_t j = 0; j < 4; j++)
            if (p + pd + j < np) prefetch_row(k + (p + pd + j) * st, row);
        for (size_t i = 0; i < hn; i++) {
            const float *q = qh + i * d;
            __m512 a0 = dot_part(q, k + p * st, d, _mm512_setzero_ps());
            __m512 a1 = dot_part(q, k + (p + 1) * st, d, _mm512_setzero_ps());
            __m512 a2 = dot_part(q, k + (p + 2) * st, d, _mm512_setzero_ps());
            __m512 a3 = dot_part(q, k + (p + 3) * st, d, _mm512_setzero_ps());
            _mm_storeu_ps(sc + i * ss + p,
                          _mm_mul_ps(ic_x86_hsum512_x4(a0, a1, a2, a3), _mm_set1_ps(scale)));
        }
    }
    for (; p < np; p++)
        for (size_t i = 0; i < hn; i++)
            sc[i * ss + p] =
                _mm512_reduce_add_ps(dot_part(qh + i * d, k + p * st, d, _mm512_setzero_ps())) *
                scale;
}

/* out rows of HN heads, dims [j, j + 64) (masked to d): sum over p of w[i][p] v[p]. HN is a
 * constant at each call, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void weighted_v(const int HN, const float *w,
                                                             size_t ss, const float *v, size_t st,
                                                             size_t d, size_t j, size_t np,
                                                             size_t pd, float *out) {
    const __mmask16 t0 = ic_x86_tail16(d - j), t1 = d > j + 16 ? ic_x86_tail16(d - j - 16) : 0,
                    t2 = d > j + 32 ? ic_x86_tail16(d - j - 32) : 0,
                    t3 = d > j + 48 ? ic_x86_tail16(d - j - 48) : 0;
    const size_t span = (d - j < 64 ? d - j : 64) * sizeof(float);
    __m512 acc[IC_ATTN_GROUP_MAX][4];
    for (int i = 0; i < HN; i++)
        for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_ps();
    const float *vj = v + j;
    for (size_t p = 0; p < np; p++) {
        if (p + pd < np) prefetch_row(vj + (p + pd) * st, span);
        const float *vp = vj + p * st;
        const __m512 v0 = _mm512_maskz_loadu_ps(t0, vp), v1 = _mm512_maskz_loadu_ps(t1, vp + 16),
                     v2 = _mm512_maskz_loadu_ps(t2, vp + 32),
                     v3 = _mm512_maskz_loadu_ps(t3, vp + 48);
        for (int i = 0; i < HN; i++) {
            const __m512 wp = _mm512_set1_ps(w[(size_t)i * ss + p]);
            acc[i][0] = _mm512_fmadd_ps(wp, v0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(wp, v1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(wp, v2, acc[i][2]);
            acc[i][3] = _mm512_fmadd_ps(wp, v3, acc[i][3]);
        }
    }
    for (int i = 0; i < HN; i++) {
        float *o = out + (size_t)i * d + j;
        _mm512_mask_storeu_ps(o, t0, acc[i][0]);
        _mm512_mask_storeu_ps(o + 16, t1, acc[i][1]);
        _mm512_mask_storeu_ps(o + 32, t2, acc[i][2]);
        _mm512_mask_storeu_ps(o + 48, t3, acc[i][3]);
    }
}

void ic_attention_avx512(const float *q, const float *k_cache, const float *v_cache, float *out,
                         float *scratch, const ic_attn_shape *s, size_t head_begin,
                         size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, np = s->n_pos;
    const size_t st = s->kv_stride, ss = ic_attn_scratch_stride(np);
    const float scale = 1.0f / sqrtf((float)d);
    size_t pd = PREFETCH_BYTES / (d * sizeof(float));
    if (pd < 4) pd = 4;
    for (size_t h = head_begin; h < head_end;) {
        const size_t g = h / group, g_end = (g + 1) * group < head_end ? (g + 1) * group : head_end;
        const size_t hn = g_end - h < IC_ATTN_GROUP_MAX ? g_end - h : IC_ATTN_GROUP_MAX;
        const float *kg = k_cache + g * d, *vg = v_cache + g * d;
        scores(q + h * d, hn, kg, st, d, np, pd, scale, scratch, ss);
        for (size_t i = 0; i < hn; i++) ic_x86_softmax512(scratch + i * ss, np);
        for (size_t j = 0; j < d; j += 64) {
            switch (hn) {
            case 4:
                weighted_v(4, scratch, ss, vg, st, d, j, np, pd, out + h * d);
                break;
            case 3:
                weighted_v(3, scratch, ss, vg, st, d, j, np, pd, out + h * d);
                break;
            case 2:
                weighted_v(2, scratch, ss, vg, st, d, j, np, pd, out + h * d);
                break;
            default:
                weighted_v(1, scratch, ss, vg, st, d, j, np, pd, out + h * d);
                break;
            }
        }
        h += hn;
    }
}
