/* Grouped-query attention for one decode step with AVX-512F.
 *
 * The KV cache is [position][kv head][head_dim]: one head's keys are head_dim floats every
 * kv_stride floats. The first version walked it once per query head and, for v, once per 16
 * output dims, with masked loads throughout; it read 3.5 GB/s at context 4096 (bench
 * attention/avx512/ctx:4096, 2 threads, the Zen 5 dev VM) and spent ~50 us a layer at context 128
 * in the model, where the cache is always cold. Now:
 * - the query heads that share a KV head (up to IC_ATTN_GROUP_MAX at a time) go together, so each
 *   key and value is read from memory once per group, not once per query head; scores take four
 *   positions at a time, each key vector loaded once for all the group's heads;
 * - v is walked once per 64 output dims, position by position, the weights of every head of the
 *   group applied to each loaded vector;
 * - whole vectors are loaded unmasked (see load16);
 * - each pass prefetches PREFETCH_BYTES of its rows ahead and runs on into the next pass's rows.
 * head_dim need not be a multiple of 16: a masked tail. Loops over the group's heads are
 * unrolled on a constant count (the switch at the bottom), so the accumulators stay in
 * registers. */
#ifndef __AVX512F__
#error "attention_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

/* How far ahead to prefetch the cache, in bytes of one head's rows (positions). */
#define PREFETCH_BYTES 8192

/* Sixteen floats from p, of which the mask t keeps some (0: none, no memory touched). Whole
 * vectors take a plain load: on Zen 5 a masked load that misses the cache stalls far longer than
 * a plain one (cold-cache attention at context 128 ran 2x faster once the full vectors were
 * loaded unmasked), so masks are kept for a head_dim tail. */
static inline __m512 load16(__mmask16 t, const float *p) {
    if (t == (__mmask16)0xffff) return _mm512_loadu_ps(p);
    if (t == 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps(t, p);
}

/* In the loops below FULL (a constant at each call) says head_dim is a multiple of 64, so every
 * vector is whole and the mask tests compile away. */
#define LD(t, p) (FULL ? _mm512_loadu_ps(p) : load16((t), (p)))

/* The cache lines of `bytes` bytes from p. */
static inline void prefetch_row(const float *p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

/* Prefetches position q of the pass over cur (span bytes a position); past its last position the
 * stream runs on into the next pass (nx, nx_span bytes a position; NULL: none), so that the next
 * pass starts on lines already on their way instead of with pd demand misses: at short contexts,
 * where a pass is only a few times pd long, those cold starts were most of the time. */
static inline void prefetch_ahead(const float *cur, size_t span, const float *nx, size_t nx_span,
                                  size_t st, size_t np, size_t q) {
    if (q < np)
        prefetch_row(cur + q * st, span);
    else if (nx != NULL && q - np < np)
        prefetch_row(nx + (q - np) * st, nx_span);
}

/* Scaled scores of HN heads (q rows qh, head_dim d apart) against positions [0, np) of one KV
 * head's keys k (stride st), into sc[i * ss + p]: four positions at a time, each key vector
 * loaded once for all HN heads (16 accumulators at HN = 4). HN is a constant at each call. */
static inline __attribute__((always_inline)) void
scores(const int HN, const int FULL, const float *qh, const float *k, size_t st, size_t d,
       size_t np, size_t pd, float scale, float *sc, size_t ss, const float *nx, size_t nx_span) {
    const size_t row = d * sizeof(float);
    const __m128 sc4 = _mm_set1_ps(scale);
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
        for (size_t j = 0; j < 4; j++) prefetch_ahead(k, row, nx, nx_span, st, np, p + pd + j);
        __m512 acc[IC_ATTN_GROUP_MAX][4];
#pragma GCC unroll 4
        for (int i = 0; i < HN; i++)
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_ps();
        const float *kp = k + p * st;
        for (size_t j = 0; j < d; j += 16) {
            const __mmask16 t = FULL ? (__mmask16)0xffff : ic_x86_tail16(d - j);
            const __m512 k0 = LD(t, kp + j), k1 = LD(t, kp + st + j), k2 = LD(t, kp + 2 * st + j),
                         k3 = LD(t, kp + 3 * st + j);
#pragma GCC unroll 4
            for (int i = 0; i < HN; i++) {
                const __m512 qv = LD(t, qh + (size_t)i * d + j);
                acc[i][0] = _mm512_fmadd_ps(qv, k0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(qv, k1, acc[i][1]);
                acc[i][2] = _mm512_fmadd_ps(qv, k2, acc[i][2]);
                acc[i][3] = _mm512_fmadd_ps(qv, k3, acc[i][3]);
            }
        }
#pragma GCC unroll 4
        for (int i = 0; i < HN; i++)
            _mm_storeu_ps(
                sc + (size_t)i * ss + p,
                _mm_mul_ps(ic_x86_hsum512_x4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), sc4));
    }
    for (; p < np; p++)
        for (int i = 0; i < HN; i++) {
            __m512 a = _mm512_setzero_ps();
            for (size_t j = 0; j < d; j += 16) {
                const __mmask16 t = ic_x86_tail16(d - j);
                a = _mm512_fmadd_ps(load16(t, qh + (size_t)i * d + j), load16(t, k + p * st + j),
                                    a);
            }
            sc[(size_t)i * ss + p] = _mm512_reduce_add_ps(a) * scale;
        }
}

/* out rows of HN heads, dims [j, j + 64) (masked to d): sum over p of w[i][p] v[p]. HN is a
 * constant at each call, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void
weighted_v(const int HN, const int FULL, const float *w, size_t ss, const float *v, size_t st,
           size_t d, size_t j, size_t np, size_t pd, float *out, const float *nx, size_t nx_span) {
    const __mmask16 t0 = ic_x86_tail16(d - j), t1 = d > j + 16 ? ic_x86_tail16(d - j - 16) : 0,
                    t2 = d > j + 32 ? ic_x86_tail16(d - j - 32) : 0,
                    t3 = d > j + 48 ? ic_x86_tail16(d - j - 48) : 0;
    const size_t span = (d - j < 64 ? d - j : 64) * sizeof(float);
    __m512 acc[IC_ATTN_GROUP_MAX][4];
#pragma GCC unroll 4
    for (int i = 0; i < HN; i++)
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_ps();
    const float *vj = v + j;
    for (size_t p = 0; p < np; p++) {
        prefetch_ahead(vj, span, nx, nx_span, st, np, p + pd);
        const float *vp = vj + p * st;
        const __m512 v0 = LD(t0, vp), v1 = LD(t1, vp + 16), v2 = LD(t2, vp + 32),
                     v3 = LD(t3, vp + 48);
#pragma GCC unroll 4
        for (int i = 0; i < HN; i++) {
            const __m512 wp = _mm512_set1_ps(w[(size_t)i * ss + p]);
            acc[i][0] = _mm512_fmadd_ps(wp, v0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(wp, v1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(wp, v2, acc[i][2]);
            acc[i][3] = _mm512_fmadd_ps(wp, v3, acc[i][3]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < HN; i++) {
        float *o = out + (size_t)i * d + j;
        _mm512_mask_storeu_ps(o, t0, acc[i][0]);
        _mm512_mask_storeu_ps(o + 16, t1, acc[i][1]);
        _mm512_mask_storeu_ps(o + 32, t2, acc[i][2]);
        _mm512_mask_storeu_ps(o + 48, t3, acc[i][3]);
    }
}

/* Bytes a position of the pass over dims [j, j + 64) of v reads. */
static inline size_t v_span(size_t d, size_t j) {
    return (d - j < 64 ? d - j : 64) * sizeof(float);
}

/* One pass set for HN query heads sharing the KV head at kg/vg: scores, softmax, weighted sum of
 * v (64 dims at a time); the last pass's prefetch runs on into k_next. */
static inline __attribute__((always_inline)) void
group_pass(const int HN, const int FULL, const float *qh, const float *kg, const float *vg,
           const float *k_next, float *oh, float *scratch, size_t ss, size_t st, size_t d,
           size_t np, size_t pd, float scale) {
    scores(HN, FULL, qh, kg, st, d, np, pd, scale, scratch, ss, vg, v_span(d, 0));
    for (int i = 0; i < HN; i++) ic_x86_softmax512(scratch + (size_t)i * ss, np);
    for (size_t j = 0; j < d; j += 64) {
        const int last = j + 64 >= d;
        weighted_v(HN, FULL, scratch, ss, vg, st, d, j, np, pd, oh, last ? k_next : vg + j + 64,
                   last ? d * sizeof(float) : v_span(d, j + 64));
    }
}

void ic_attention_avx512(const float *q, const float *k_cache, const float *v_cache, float *out,
                         float *scratch, const ic_attn_shape *s, size_t head_begin,
                         size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, np = s->n_pos;
    const size_t st = s->kv_stride, ss = ic_attn_scratch_stride(np), row = d * sizeof(float);
    const float scale = 1.0f / sqrtf((float)d);
    const int full = d % 64 == 0;
    size_t pd = PREFETCH_BYTES / row;
    if (pd < 4) pd = 4;
    /* The first pass's start; every later pass's start is prefetched by the pass before. */
    if (head_begin < head_end)
        for (size_t p = 0; p < pd && p < np; p++)
            prefetch_row(k_cache + (head_begin / group) * d + p * st, row);
    for (size_t h = head_begin; h < head_end;) {
        const size_t g = h / group, g_end = (g + 1) * group < head_end ? (g + 1) * group : head_end;
        const size_t hn = g_end - h < IC_ATTN_GROUP_MAX ? g_end - h : IC_ATTN_GROUP_MAX;
        const float *kg = k_cache + g * d, *vg = v_cache + g * d;
        /* the keys of the next heads (the same KV head when a group is wider than GROUP_MAX) */
        const float *k_next = h + hn < head_end ? k_cache + ((h + hn) / group) * d : NULL;
#define GROUP_PASS(HN, FULL)                                                                       \
    group_pass(HN, FULL, q + h * d, kg, vg, k_next, out + h * d, scratch, ss, st, d, np, pd, scale)
        switch (hn * 2 + (size_t)full) {
        case 9:
            GROUP_PASS(4, 1);
            break;
        case 8:
            GROUP_PASS(4, 0);
            break;
        case 7:
            GROUP_PASS(3, 1);
            break;
        case 6:
            GROUP_PASS(3, 0);
            break;
        case 5:
            GROUP_PASS(2, 1);
            break;
        case 4:
            GROUP_PASS(2, 0);
            break;
        case 3:
            GROUP_PASS(1, 1);
            break;
        default:
            GROUP_PASS(1, 0);
            break;
        }
#undef GROUP_PASS
        h += hn;
    }
}
