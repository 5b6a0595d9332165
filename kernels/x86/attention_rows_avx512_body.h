/* The prompt (multi-row) entry of the AVX-512F attention kernels, ic_attention_rows_fn: included by
 * attention_<kv>_avx512.c after attention_avx512_body.h, with KV_ROWS_FN naming the function (and
 * kv_load, kv_load_mask, KV_TYPE, KV_FN as for that body).
 *
 * Per row, the decode body reads each key once for its query heads and reduces every score across
 * a vector (a horizontal sum per score), widens every cached value again for every row, and runs
 * the softmax per head. Here a block of rows is scored at once, its query vectors of one KV head
 * (rows x the group's heads, up to IC_ATTN_ROWS_LANES) one lane each:
 * - the block's queries are transposed once (head_dim vectors of lanes), so a score vector of
 *   every lane against one position is head_dim FMAs with the key's value broadcast, and no
 *   horizontal sums at all;
 * - keys and values are widened to floats once per block and tile (IC_ATTN_ROWS_TILE positions),
 *   not once per row;
 * - the online softmax runs down the lanes: a tile's max, weights and sums are vertical ops,
 *   one e^x for 16 query vectors;
 * - the output is kept transposed (head_dim vectors of lanes), each value broadcast against the
 *   lanes' weights, and written back once per block.
 * Positions are walked in address order, a tile at a time across all the KV heads, so the caches
 * stream as in the decode body. Causality is a lane mask per position: lane l of row i sees
 * positions below n_pos + r0 + i.
 *
 * Non-finite scores (an infinite or NaN maximum in any lane) send the block to the decode body
 * row by row, which follows ic_softmax_ref's rules for them. */
#ifndef KV_ROWS_FN
#error "define KV_ROWS_FN before including attention_rows_avx512_body.h"
#endif
#include <string.h>

#define RL IC_ATTN_ROWS_LANES
#define RT IC_ATTN_ROWS_TILE

/* The block's running state and buffers in scratch (ic_attn_rows_scratch_floats). */
typedef struct {
    float *qt;  /* [kv head][head_dim][RL]: the block's queries, transposed */
    float *ot;  /* [kv head][head_dim][RL]: the output so far, transposed */
    float *mx;  /* [kv head][RL]: running max */
    float *sum; /* [kv head][RL]: running sum of weights */
    float *kf;  /* [RT][dp]: a tile of one KV head's keys as floats */
    float *vf;  /* [RT][dp]: the same tile's values */
    float *w;   /* [RT][RL]: the tile's scores, then weights */
} rows_state;

/* np cache rows from row (rb bytes apart), KV head at element e0, d elements, as floats into
 * dst (rows dp floats apart; the tail of the last vector zero). (A software prefetch of the next
 * tile's rows, to L1 or L2, measured no faster: 218-236 ms for 2048 rows either way.) */
static inline void rows_widen(const unsigned char *row, size_t rb, size_t e0, size_t d, size_t dp,
                              size_t np, float *dst) {
    for (size_t t = 0; t < np; t++, row += rb)
        for (size_t j = 0; j < d; j += 16)
            _mm512_storeu_ps(dst + t * dp + j,
                             j + 16 <= d ? kv_load(row, e0 + j)
                                         : kv_load_mask(ic_x86_tail16(d - j), row, e0 + j));
}

/* Scores of the lanes against np <= RT positions of one KV head (keys in st->kf), scaled and
 * masked (-inf where a lane's row does not see the position), into st->w. Sixteen positions at a
 * time: per element of the head, one load of the lanes' queries and sixteen FMAs. */
static inline __attribute__((always_inline)) void
rows_scores_dp(const size_t dp, const rows_state *st, const float *qt, size_t d, size_t p0,
               size_t np, __m512i lim, float scale) {
    const __m512 sc = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);
    for (size_t t0 = 0; t0 < np; t0 += 16) {
        __m512 acc[16];
#pragma GCC unroll 16
        for (int u = 0; u < 16; u++) acc[u] = _mm512_setzero_ps();
        const float *k = st->kf + t0 * dp;
        for (size_t j = 0; j < d; j++) {
            const __m512 qv = _mm512_loadu_ps(qt + j * RL);
#pragma GCC unroll 16
            for (int u = 0; u < 16; u++)
                acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(k[(size_t)u * dp + j]), qv, acc[u]);
        }
        for (size_t u = 0; u < 16 && t0 + u < np; u++) {
            const __mmask16 sees =
                _mm512_cmplt_epi32_mask(_mm512_set1_epi32((int)(p0 + t0 + u)), lim);
            _mm512_storeu_ps(st->w + (t0 + u) * RL,
                             _mm512_mask_mov_ps(ninf, sees, _mm512_mul_ps(acc[u], sc)));
        }
    }
}

/* rows_scores_dp with the row pitch a constant for the common head sizes (64 and 128), so that
 * the sixteen keys' broadcasts are one base register and fixed offsets. */
static void rows_scores(const rows_state *st, const float *qt, size_t d, size_t dp, size_t p0,
                        size_t np, __m512i lim, float scale) {
    if (dp == IC_ATTN_ROWS_PITCH(64))
        rows_scores_dp(IC_ATTN_ROWS_PITCH(64), st, qt, d, p0, np, lim, scale);
    else if (dp == IC_ATTN_ROWS_PITCH(128))
        rows_scores_dp(IC_ATTN_ROWS_PITCH(128), st, qt, d, p0, np, lim, scale);
    else
        rows_scores_dp(dp, st, qt, d, p0, np, lim, scale);
}

/* The lanes' online softmax over a tile of np scores (st->w): the weights e^(score - max) in
 * place (0 where masked), the running max and sum of KV head g updated, and the factor that
 * rescales what was summed before returned through alpha. Returns 0 when a lane's max is not
 * finite. */
static inline int rows_softmax(const rows_state *st, size_t g, size_t np, __m512 *alpha) {
    __m512 top = _mm512_loadu_ps(st->mx + g * RL);
    const __m512 old = top;
    for (size_t t = 0; t < np; t++) top = _mm512_max_ps(top, _mm512_loadu_ps(st->w + t * RL));
    /* finite: x - x == 0 (inf - inf and NaN are NaN) */
    if (_mm512_cmp_ps_mask(_mm512_sub_ps(top, top), _mm512_setzero_ps(), _CMP_EQ_OQ) !=
        (__mmask16)0xffff)
        return 0;
    const __mmask16 had = _mm512_cmp_ps_mask(old, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    *alpha = _mm512_maskz_mov_ps(had, ic_x86_exp512(_mm512_sub_ps(old, top)));
    __m512 s = _mm512_setzero_ps();
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t t = 0; t < np; t++) {
        const __m512 x = _mm512_loadu_ps(st->w + t * RL);
        const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, ninf, _CMP_NEQ_OQ),
                                             ic_x86_exp512(_mm512_sub_ps(x, top)));
        _mm512_storeu_ps(st->w + t * RL, e);
        s = _mm512_add_ps(s, e);
    }
    _mm512_storeu_ps(st->sum + g * RL,
                     _mm512_fmadd_ps(_mm512_loadu_ps(st->sum + g * RL), *alpha, s));
    _mm512_storeu_ps(st->mx + g * RL, top);
    return 1;
}

/* ot rows [j, j + N) (N <= 16 elements of the head, a constant at each call) rescaled by alpha
 * and given sum over t < np of w[t] v[t][j ..]: each value broadcast against the lanes' weights. */
static inline __attribute__((always_inline)) void rows_values(const int N, const rows_state *st,
                                                              float *ot, size_t j, size_t dp,
                                                              size_t np, __m512 alpha) {
    __m512 acc[16];
#pragma GCC unroll 16
    for (int c = 0; c < N; c++) acc[c] = _mm512_mul_ps(_mm512_loadu_ps(ot + (j + c) * RL), alpha);
    for (size_t t = 0; t < np; t++) {
        const __m512 wt = _mm512_loadu_ps(st->w + t * RL);
        const float *v = st->vf + t * dp + j;
#pragma GCC unroll 16
        for (int c = 0; c < N; c++) acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(v[c]), wt, acc[c]);
    }
#pragma GCC unroll 16
    for (int c = 0; c < N; c++) _mm512_storeu_ps(ot + (j + c) * RL, acc[c]);
}

/* r[i] (16 vectors) transposed in place: lane j of r[i] becomes lane i of r[j]. Within each
 * 128-bit lane a 4x4 transpose (unpacks, then 64-bit shuffles), then the 4x4 of 128-bit lanes
 * across vectors four apart (two rounds of shuffle_f32x4). */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

/* Rows [r0, r0 + rows) of the call. Returns 0 (nothing written) when a lane's max is not
 * finite. */
static int rows_block(const float *q, size_t q_stride, const unsigned char *kc,
                      const unsigned char *vc, float *out, size_t out_stride, const rows_state *st,
                      const ic_attn_shape *s, size_t r0, size_t rows) {
    const size_t Hkv = s->n_head_kv, G = s->n_head / Hkv, d = s->head_dim, L = rows * G;
    const size_t dp = IC_ATTN_ROWS_PITCH(d), rb = ic_row_bytes(KV_TYPE, s->kv_stride);
    const size_t last = s->n_pos + r0 + rows - 1; /* positions the block's last row sees */
    const float scale = 1.0f / sqrtf((float)d);
    int lim_[RL];
    for (size_t l = 0; l < RL; l++) lim_[l] = (int)(s->n_pos + r0 + (l < L ? l / G : rows - 1));
    const __m512i lim = _mm512_loadu_si512(lim_);
    const size_t d16 = d & ~(size_t)15;
    for (size_t g = 0; g < Hkv; g++) {
        float *qt = st->qt + g * d * RL;
        /* lane l's query, element j, to qt[j][l]: 16 x 16 at a time, the tail one by one */
        for (size_t j = 0; j < d16; j += 16) {
            __m512 r[16];
            for (size_t l = 0; l < RL; l++)
                r[l] = l < L
                           ? _mm512_loadu_ps(q + (r0 + l / G) * q_stride + (g * G + l % G) * d + j)
                           : _mm512_setzero_ps();
            transpose16(r);
            for (size_t i = 0; i < 16; i++) _mm512_storeu_ps(qt + (j + i) * RL, r[i]);
        }
        for (size_t l = 0; l < RL; l++) {
            const float *src = q + (r0 + l / G) * q_stride + (g * G + l % G) * d;
            for (size_t j = d16; j < d; j++) qt[j * RL + l] = l < L ? src[j] : 0.0f;
        }
        memset(st->ot + g * d * RL, 0, d * RL * sizeof(float));
        for (size_t l = 0; l < RL; l++) st->mx[g * RL + l] = -INFINITY, st->sum[g * RL + l] = 0;
    }
    for (size_t p0 = 0; p0 < last; p0 += RT) {
        const size_t np = last - p0 < RT ? last - p0 : RT;
        for (size_t g = 0; g < Hkv; g++) {
            rows_widen(kc + p0 * rb, rb, g * d, d, dp, np, st->kf);
            /* the scores take sixteen positions at a time: the rows past np zero, not stale */
            memset(st->kf + np * dp, 0, ((np + 15) / 16 * 16 - np) * dp * sizeof(float));
            rows_scores(st, st->qt + g * d * RL, d, dp, p0, np, lim, scale);
            __m512 alpha;
            if (!rows_softmax(st, g, np, &alpha)) return 0;
            rows_widen(vc + p0 * rb, rb, g * d, d, dp, np, st->vf);
            float *ot = st->ot + g * d * RL;
            size_t j = 0;
            for (; j + 16 <= d; j += 16) rows_values(16, st, ot, j, dp, np, alpha);
            for (; j < d; j++) rows_values(1, st, ot, j, dp, np, alpha);
        }
    }
    for (size_t g = 0; g < Hkv; g++) {
        const float *ot = st->ot + g * d * RL;
        const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_loadu_ps(st->sum + g * RL));
        float inv_[RL];
        _mm512_storeu_ps(inv_, inv);
        /* back from ot[j][l], divided by the lane's sum */
        for (size_t j = 0; j < d16; j += 16) {
            __m512 r[16];
            for (size_t i = 0; i < 16; i++)
                r[i] = _mm512_mul_ps(_mm512_loadu_ps(ot + (j + i) * RL), inv);
            transpose16(r);
            for (size_t l = 0; l < L; l++)
                _mm512_storeu_ps(out + (r0 + l / G) * out_stride + (g * G + l % G) * d + j, r[l]);
        }
        for (size_t l = 0; l < L; l++) {
            float *dst = out + (r0 + l / G) * out_stride + (g * G + l % G) * d;
            for (size_t j = d16; j < d; j++) dst[j] = ot[j * RL + l] * inv_[l];
        }
    }
    return 1;
}

void KV_ROWS_FN(const float *q, size_t q_stride, const void *k_cache, const void *v_cache,
                float *out, size_t out_stride, float *scratch, const ic_attn_shape *s,
                size_t n_rows) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    const size_t R = ic_attn_rows_block(s->n_head, s->n_head_kv), d = s->head_dim;
    assert(R > 0);
    const size_t dp = IC_ATTN_ROWS_PITCH(d), hs = s->n_head_kv * d * RL;
    rows_state st = {
        scratch, scratch + hs, scratch + 2 * hs, scratch + 2 * hs + s->n_head_kv * RL, NULL,
        NULL,    NULL};
    st.kf = st.sum + s->n_head_kv * RL;
    st.vf = st.kf + RT * dp;
    st.w = st.vf + RT * dp;
    for (size_t r0 = 0; r0 < n_rows; r0 += R) {
        const size_t rows = n_rows - r0 < R ? n_rows - r0 : R;
        if (rows_block(q, q_stride, k_cache, v_cache, out, out_stride, &st, s, r0, rows)) continue;
        for (size_t i = 0; i < rows; i++) {
            ic_attn_shape si = *s;
            si.n_pos = s->n_pos + r0 + i;
            KV_FN(q + (r0 + i) * q_stride, k_cache, v_cache, out + (r0 + i) * out_stride, NULL,
                  scratch, &si, 0, s->n_head);
        }
    }
}

#undef RL
#undef RT
