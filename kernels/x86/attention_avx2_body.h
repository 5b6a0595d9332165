/* The body of the AVX2 (+FMA, F16C) attention kernels, one per KV-cache type: the including file
 * (attention_<kv>_avx2.c) defines KV_TYPE, KV_FN (the function's name), kv_load(row, e), which
 * widens eight cache values at element e of a row to floats in registers, and kv_elem(row, e), one
 * value, then includes this.
 *
 * The same walk as the AVX-512 body (attention_avx512_body.h), at half the width: positions a
 * tile (IC_ATTN_TILE) at a time; in a tile the keys four positions at a time across all the
 * range's KV heads, so the caches are read in address order; an online softmax over the tile's
 * scores (each head's running max, sum and rescale in scratch, its output so far in out); then
 * the values one KV head and 32 dims at a time, the weights of the group's heads applied to each
 * loaded vector; the software prefetch of attention_prefetch.h takes each KV head's key and value
 * pieces of the positions 16 KiB ahead as it scores their keys. Two query heads of a group are
 * scored together (16 ymm registers hold 8 accumulators, 4 keys and a query). A head_dim that is
 * not a multiple of 8 takes its last values one at a time. */
#ifndef __AVX2__
#error "attention_avx2_body.h needs AVX2 (-mavx2 -mfma -mf16c)"
#endif
#if !defined(KV_TYPE) || !defined(KV_FN)
#error "define KV_TYPE, KV_FN, kv_load and kv_elem before including attention_avx2_body.h"
#endif
#include <assert.h>
#include <math.h>

#include "../ic_dispatch.h"
#include "attention_prefetch.h"
#include "x86_util.h"

#define GROUP_MAX 2
#define TILE      IC_ATTN_TILE

/* Eight cache values at element e of a row, of which the first `left` are wanted (the rest 0). */
static inline __m256 kv8(size_t left, const unsigned char *row, size_t e) {
    if (left >= 8) return kv_load(row, e);
    float buf[8] = {0};
    for (size_t i = 0; i < left; i++) buf[i] = kv_elem(row, e + i);
    return _mm256_loadu_ps(buf);
}

/* Eight floats at p, of which the first `left` are wanted (the rest 0, not read). */
static inline __m256 f8(size_t left, const float *p) {
    if (left >= 8) return _mm256_loadu_ps(p);
    float buf[8] = {0};
    for (size_t i = 0; i < left; i++) buf[i] = p[i];
    return _mm256_loadu_ps(buf);
}

/* e^x as ic_x86_exp512 (Taylor degree 7 after x = n ln2 + r), with 2^n built in the exponent
 * field; x below -87.3 (where 2^n would leave the normal range), -inf included, gives 0. */
static inline __m256 exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* 2^n for n in [-126, 127]: n + 127 in the exponent field */
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), under);
}

static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* In the loops below FULL (a constant at each call) says head_dim is a multiple of 32. */
#define KLD(left, row, e) (FULL ? kv_load((row), (e)) : kv8((left), (row), (e)))
#define QLD(left, p)      (FULL ? _mm256_loadu_ps(p) : f8((left), (p)))

/* Scaled scores of HN heads (q rows qh, head_dim d apart) against positions [0, np) of one KV
 * head's keys (rows from k, rb bytes apart, the head at element e0), into sc[i * TILE + p]. */
static inline __attribute__((always_inline)) void scores(const int HN, const int FULL,
                                                         const float *qh, const unsigned char *k,
                                                         size_t rb, size_t e0, size_t d, size_t np,
                                                         float scale, float *sc) {
    const __m128 sc4 = _mm_set1_ps(scale);
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
        __m256 acc[GROUP_MAX][4];
#pragma GCC unroll 2
        for (int i = 0; i < HN; i++)
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) acc[i][c] = _mm256_setzero_ps();
        const unsigned char *kp = k + p * rb;
        for (size_t j = 0; j < d; j += 8) {
            const size_t left = d - j;
            const __m256 k0 = KLD(left, kp, e0 + j), k1 = KLD(left, kp + rb, e0 + j),
                         k2 = KLD(left, kp + 2 * rb, e0 + j), k3 = KLD(left, kp + 3 * rb, e0 + j);
#pragma GCC unroll 2
            for (int i = 0; i < HN; i++) {
                const __m256 qv = QLD(left, qh + (size_t)i * d + j);
                acc[i][0] = _mm256_fmadd_ps(qv, k0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(qv, k1, acc[i][1]);
                acc[i][2] = _mm256_fmadd_ps(qv, k2, acc[i][2]);
                acc[i][3] = _mm256_fmadd_ps(qv, k3, acc[i][3]);
            }
        }
#pragma GCC unroll 2
        for (int i = 0; i < HN; i++)
            _mm_storeu_ps(
                sc + (size_t)i * TILE + p,
                _mm_mul_ps(ic_x86_hsum256_x4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), sc4));
    }
    for (; p < np; p++)
        for (int i = 0; i < HN; i++) {
            __m256 a = _mm256_setzero_ps();
            for (size_t j = 0; j < d; j += 8)
                a = _mm256_fmadd_ps(f8(d - j, qh + (size_t)i * d + j),
                                    kv8(d - j, k + p * rb, e0 + j), a);
            sc[(size_t)i * TILE + p] = ic_x86_hsum256(a) * scale;
        }
}

/* Stores the first `left` of v's floats at p (all eight when left >= 8). */
static inline void st8(size_t left, float *p, __m256 v) {
    if (left >= 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    float buf[8];
    _mm256_storeu_ps(buf, v);
    for (size_t i = 0; i < left; i++) p[i] = buf[i];
}

/* out rows of HN heads, dims [j, j + 32) (cut at d): out_i = out_i * alpha[i] + sum over p < np
 * of w[i * TILE + p] v[p] (out_i taken as 0 when first). */
static inline __attribute__((always_inline)) void weighted_v(const int HN, const int FULL,
                                                             const float *w, const float *alpha,
                                                             int first, const unsigned char *v,
                                                             size_t rb, size_t e0, size_t d,
                                                             size_t j, size_t np, float *out) {
    const size_t l0 = d - j, l1 = d > j + 8 ? d - j - 8 : 0, l2 = d > j + 16 ? d - j - 16 : 0,
                 l3 = d > j + 24 ? d - j - 24 : 0;
    __m256 acc[GROUP_MAX][4];
#pragma GCC unroll 2
    for (int i = 0; i < HN; i++) {
        const float *o = out + (size_t)i * d + j;
        if (first) {
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) acc[i][c] = _mm256_setzero_ps();
        } else {
            const __m256 a = _mm256_set1_ps(alpha[i]);
            acc[i][0] = _mm256_mul_ps(a, f8(l0, o));
            acc[i][1] = l1 ? _mm256_mul_ps(a, f8(l1, o + 8)) : _mm256_setzero_ps();
            acc[i][2] = l2 ? _mm256_mul_ps(a, f8(l2, o + 16)) : _mm256_setzero_ps();
            acc[i][3] = l3 ? _mm256_mul_ps(a, f8(l3, o + 24)) : _mm256_setzero_ps();
        }
    }
    const size_t ej = e0 + j;
    for (size_t p = 0; p < np; p++) {
        const unsigned char *vp = v + p * rb;
        const __m256 v0 = KLD(l0, vp, ej);
        const __m256 v1 = FULL || l1 ? KLD(l1, vp, ej + 8) : _mm256_setzero_ps();
        const __m256 v2 = FULL || l2 ? KLD(l2, vp, ej + 16) : _mm256_setzero_ps();
        const __m256 v3 = FULL || l3 ? KLD(l3, vp, ej + 24) : _mm256_setzero_ps();
#pragma GCC unroll 2
        for (int i = 0; i < HN; i++) {
            const __m256 wp = _mm256_set1_ps(w[(size_t)i * TILE + p]);
            acc[i][0] = _mm256_fmadd_ps(wp, v0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(wp, v1, acc[i][1]);
            acc[i][2] = _mm256_fmadd_ps(wp, v2, acc[i][2]);
            acc[i][3] = _mm256_fmadd_ps(wp, v3, acc[i][3]);
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < HN; i++) {
        float *o = out + (size_t)i * d + j;
        st8(l0, o, acc[i][0]);
        if (l1) st8(l1, o + 8, acc[i][1]);
        if (l2) st8(l2, o + 16, acc[i][2]);
        if (l3) st8(l3, o + 24, acc[i][3]);
    }
}

/* Folds one tile of scores into each head's running max and sum, as the AVX-512 body's
 * online_softmax: the scores become weights e^(score - max), alpha[i] rescales what the head has
 * summed so far, and an infinite max follows ic_softmax_ref. */
static void online_softmax(float *sc, size_t nh, size_t np, float *mx, float *sum, float *alpha) {
    for (size_t i = 0; i < nh; i++) {
        float *row = sc + i * TILE;
        __m256 m = _mm256_set1_ps(-INFINITY);
        size_t p = 0;
        for (; p + 8 <= np; p += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(row + p));
        float top = hmax256(m);
        for (; p < np; p++) top = fmaxf(top, row[p]);
        const float old = mx[i];
        top = fmaxf(old, top);
        if (isinf(top)) {
            /* Weight 1 for the scores at the max, 0 for the rest; what was summed at a smaller
             * max no longer counts. */
            float count = 0.0f;
            for (p = 0; p < np; p++) {
                row[p] = row[p] == top ? 1.0f : 0.0f;
                count += row[p];
            }
            alpha[i] = old == top ? 1.0f : 0.0f;
            sum[i] = sum[i] * alpha[i] + count;
        } else {
            const __m256 top8 = _mm256_set1_ps(top);
            __m256 acc = _mm256_setzero_ps();
            for (p = 0; p + 8 <= np; p += 8) {
                const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + p), top8));
                _mm256_storeu_ps(row + p, e);
                acc = _mm256_add_ps(acc, e);
            }
            float s = ic_x86_hsum256(acc);
            if (p < np) {
                const __m256 e = exp256(_mm256_sub_ps(f8(np - p, row + p), top8));
                float buf[8];
                _mm256_storeu_ps(buf, e);
                for (size_t u = 0; p + u < np; u++) row[p + u] = buf[u], s += buf[u];
            }
            alpha[i] = old == -INFINITY ? 0.0f : expf(old - top);
            sum[i] = sum[i] * alpha[i] + s;
        }
        mx[i] = top;
    }
}

/* CALL(HN, FULL) with the constants for hn heads in the chunk and the current head_dim. */
#define FOR_GROUP_SIZES(CALL)                                                                      \
    switch (hn * 2 + (size_t)full) {                                                               \
    case 5:                                                                                        \
        CALL(2, 1);                                                                                \
        break;                                                                                     \
    case 4:                                                                                        \
        CALL(2, 0);                                                                                \
        break;                                                                                     \
    case 3:                                                                                        \
        CALL(1, 1);                                                                                \
        break;                                                                                     \
    default:                                                                                       \
        CALL(1, 0);                                                                                \
        break;                                                                                     \
    }

/* The chunk of query heads starting at h that is scored together: the heads of h's KV head, at
 * most GROUP_MAX, not past he. */
static inline size_t chunk_end(size_t h, size_t he, size_t group) {
    size_t e = (h / group + 1) * group;
    if (e > he) e = he;
    if (e > h + GROUP_MAX) e = h + GROUP_MAX;
    return e;
}

void KV_FN(const float *q, const void *k_cache, const void *v_cache, float *out, float *lse,
           float *scratch, const ic_attn_shape *s, size_t head_begin, size_t head_end) {
    assert(s->n_head_kv > 0 && s->n_head % s->n_head_kv == 0 && s->n_pos >= 1);
    assert(ic_row_bytes(KV_TYPE, s->head_dim) > 0 && ic_row_bytes(KV_TYPE, s->kv_stride) > 0);
    if (head_begin >= head_end) return;
    const size_t group = s->n_head / s->n_head_kv, d = s->head_dim, np = s->n_pos;
    const size_t rb = ic_row_bytes(KV_TYPE, s->kv_stride), nh = head_end - head_begin;
    const unsigned char *kc = k_cache, *vc = v_cache;
    const float scale = 1.0f / sqrtf((float)d);
    const int full = d % 32 == 0;
    /* scratch: nh rows of TILE scores, then each head's running max, sum and rescale */
    float *sc = scratch, *mx = sc + nh * TILE, *sum = mx + nh, *alpha = sum + nh;
    for (size_t i = 0; i < nh; i++) mx[i] = -INFINITY, sum[i] = 0.0f;
    const ic_attn_pf pf = ic_attn_pf_start(KV_TYPE, kc, vc, rb, np, d, head_begin, group);
    for (size_t p = 0; p < np; p += TILE) {
        const size_t n = np - p < TILE ? np - p : TILE;
        for (size_t pp = 0; pp < n; pp += 4) {
            const size_t n4 = n - pp < 4 ? n - pp : 4;
            const unsigned char *kt = kc + (p + pp) * rb;
            for (size_t h = head_begin; h < head_end;) {
                const size_t he = chunk_end(h, head_end, group), hn = he - h;
                const size_t e0 = (h / group) * d;
                float *sch = sc + (h - head_begin) * TILE + pp;
                ic_attn_pf_step(&pf, p + pp, h);
#define SCORES(HN, FULL) scores(HN, FULL, q + h * d, kt, rb, e0, d, n4, scale, sch)
                FOR_GROUP_SIZES(SCORES)
#undef SCORES
                h = he;
            }
        }
        online_softmax(sc, nh, n, mx, sum, alpha);
        const unsigned char *vt = vc + p * rb;
        for (size_t h = head_begin; h < head_end;) {
            const size_t he = chunk_end(h, head_end, group), hn = he - h;
            const size_t e0 = (h / group) * d;
            const float *wh = sc + (h - head_begin) * TILE, *ah = alpha + (h - head_begin);
            for (size_t j = 0; j < d; j += 32) {
#define SUMS(HN, FULL) weighted_v(HN, FULL, wh, ah, p == 0, vt, rb, e0, d, j, n, out + h * d)
                FOR_GROUP_SIZES(SUMS)
#undef SUMS
            }
            h = he;
        }
    }
    for (size_t h = head_begin; h < head_end; h++) {
        const size_t i = h - head_begin;
        const float inv = 1.0f / sum[i];
        float *o = out + h * d;
        for (size_t j = 0; j < d; j++) o[j] *= inv;
        if (lse) lse[h] = mx[i] + logf(sum[i]);
    }
}
