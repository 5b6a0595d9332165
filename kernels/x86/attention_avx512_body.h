/* The body of the AVX-512F attention kernels, one per KV-cache type: the including file
 * (attention_<kv>_avx512.c) defines KV_TYPE, KV_FN (the function's name) and two loads that widen
 * sixteen cache values at element e of a row to floats, kv_load(row, e) and the masked
 * kv_load_mask(t, row, e), then includes this. The f16 and bf16 values are widened in registers
 * (vcvtph2ps, a shift), q8_0 ones scaled by their block's fp16 d, so the cache is read once, at its
 * own width.
 *
 * The KV cache is [position][kv head][head_dim]. The kernel reads it in address order: positions
 * a tile (IC_ATTN_TILE) at a time, and within a tile the keys four positions at a time across all
 * the KV heads of its query heads. A decode step split by positions across workers
 * (ic_attn_decode_unit, ic_attn_merge) so reads one contiguous stretch of each cache per worker.
 * The previous version walked one KV head at a time over all positions: 256-byte pieces 2 KiB
 * apart at llama-3.2-1b's shape, and each worker took every other such piece. On the Zen 5 dev VM
 * (2 workers, cold caches) plain loads in that pattern read 30-34 GB/s, against 65-78 GB/s over
 * contiguous halves; `bench attention/avx512` (head_dim 128) went 1.2x faster at ctx 4096 and
 * 1.9x at ctx 32768, and the model's decode at ctx 4096 1.13x. Within a tile:
 * - the query heads that share a KV head (up to GROUP_MAX at a time) are scored together, each
 *   key vector loaded once for all of them;
 * - an online softmax: each head keeps its running max and sum in scratch, and its output so far
 *   (in out) is rescaled when the max grows, so scratch does not grow with n_pos;
 * - v is walked once per KV head and 64 output dims, the weights of every head of the group
 *   applied to each loaded vector, the sums in registers across the tile;
 * - whole vectors are loaded unmasked (see load16);
 * - software prefetch (attention_prefetch.h): as a KV head's keys of four positions are scored,
 *   its key and value pieces 16 KiB further on;
 * - the scores of a 4-head x 4-position tile summed in one tree (ic_x86_hsum512_x16): 45 adds
 *   and shuffles, where four 4-way sums took about 76.
 * head_dim need not be a multiple of 16: a masked tail. Loops over a group's heads are unrolled
 * on a constant count (FOR_GROUP_SIZES), so the accumulators stay in registers. */
#ifndef __AVX512F__
#error "attention_avx512_body.h needs AVX-512F (-mavx512f)"
#endif
#if !defined(KV_TYPE) || !defined(KV_FN)
#error "define KV_TYPE, KV_FN, kv_load and kv_load_mask before including attention_avx512_body.h"
#endif
#include <assert.h>
#include <math.h>

#include "attention_prefetch.h"
#include "ops_avx512.h"

/* Query heads scored at once (16 accumulators at 4 positions each). */
#define GROUP_MAX 4
#define TILE      IC_ATTN_TILE
_Static_assert(GROUP_MAX == 4, "scores() sums a 4 x 4 tile with ic_x86_hsum512_x16");

/* Sixteen floats from p, of which the mask t keeps some (0: none, no memory touched). Whole
 * vectors take a plain load: on Zen 5 a masked load that misses the cache stalls far longer than
 * a plain one (cold-cache attention at context 128 ran 2x faster once the full vectors were
 * loaded unmasked), so masks are kept for a head_dim tail. */
static inline __m512 load16(__mmask16 t, const float *p) {
    if (t == (__mmask16)0xffff) return _mm512_loadu_ps(p);
    if (t == 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps(t, p);
}

/* Sixteen cache values at element e of a row, as floats; the mask as for load16. */
static inline __m512 kv16(__mmask16 t, const unsigned char *row, size_t e) {
    if (t == (__mmask16)0xffff) return kv_load(row, e);
    if (t == 0) return _mm512_setzero_ps();
    return kv_load_mask(t, row, e);
}

/* In the loops below FULL (a constant at each call) says head_dim is a multiple of 64, so every
 * vector is whole and the mask tests compile away. */
#define LD(t, p)       (FULL ? _mm512_loadu_ps(p) : load16((t), (p)))
#define KLD(t, row, e) (FULL ? kv_load((row), (e)) : kv16((t), (row), (e)))

/* Scaled scores of HN heads (q rows qh, head_dim d apart) against positions [0, np) of one KV
 * head's keys (rows from k, rb bytes apart, the head at element e0), into sc[i * TILE + p]: four
 * positions at a time, each key vector loaded once for all HN heads. HN is a constant at each
 * call. */
static inline __attribute__((always_inline)) void scores(const int HN, const int FULL,
                                                         const float *qh, const unsigned char *k,
                                                         size_t rb, size_t e0, size_t d, size_t np,
                                                         float scale, float *sc) {
    const __m512 sc16 = _mm512_set1_ps(scale);
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
        __m512 acc[GROUP_MAX][4]; /* the heads past HN stay 0 for the sums below */
#pragma GCC unroll 4
        for (int i = 0; i < GROUP_MAX; i++)
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_ps();
        const unsigned char *kp = k + p * rb;
        for (size_t j = 0; j < d; j += 16) {
            const __mmask16 t = FULL ? (__mmask16)0xffff : ic_x86_tail16(d - j);
            const __m512 k0 = KLD(t, kp, e0 + j), k1 = KLD(t, kp + rb, e0 + j),
                         k2 = KLD(t, kp + 2 * rb, e0 + j), k3 = KLD(t, kp + 3 * rb, e0 + j);
#pragma GCC unroll 4
            for (int i = 0; i < HN; i++) {
                const __m512 qv = LD(t, qh + (size_t)i * d + j);
                acc[i][0] = _mm512_fmadd_ps(qv, k0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(qv, k1, acc[i][1]);
                acc[i][2] = _mm512_fmadd_ps(qv, k2, acc[i][2]);
                acc[i][3] = _mm512_fmadd_ps(qv, k3, acc[i][3]);
            }
        }
        /* 128-bit lane i: head i's four scores */
        const __m512 s16 = _mm512_mul_ps(ic_x86_hsum512_x16(&acc[0][0]), sc16);
        _mm_storeu_ps(sc + p, _mm512_castps512_ps128(s16));
        if (HN > 1) _mm_storeu_ps(sc + TILE + p, _mm512_extractf32x4_ps(s16, 1));
        if (HN > 2) _mm_storeu_ps(sc + 2 * TILE + p, _mm512_extractf32x4_ps(s16, 2));
        if (HN > 3) _mm_storeu_ps(sc + 3 * TILE + p, _mm512_extractf32x4_ps(s16, 3));
    }
    for (; p < np; p++)
        for (int i = 0; i < HN; i++) {
            __m512 a = _mm512_setzero_ps();
            for (size_t j = 0; j < d; j += 16) {
                const __mmask16 t = ic_x86_tail16(d - j);
                a = _mm512_fmadd_ps(load16(t, qh + (size_t)i * d + j), kv16(t, k + p * rb, e0 + j),
                                    a);
            }
            sc[(size_t)i * TILE + p] = _mm512_reduce_add_ps(a) * scale;
        }
}

/* out rows of HN heads, dims [j, j + 64) (masked to d): out_i = out_i * alpha[i] + sum over
 * p < np of w[i * TILE + p] v[p] (v: rows rb bytes apart, the KV head at element e0; out_i taken
 * as 0 when first). HN is a constant at each call, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void weighted_v(const int HN, const int FULL,
                                                             const float *w, const float *alpha,
                                                             int first, const unsigned char *v,
                                                             size_t rb, size_t e0, size_t d,
                                                             size_t j, size_t np, float *out) {
    const __mmask16 t0 = ic_x86_tail16(d - j), t1 = d > j + 16 ? ic_x86_tail16(d - j - 16) : 0,
                    t2 = d > j + 32 ? ic_x86_tail16(d - j - 32) : 0,
                    t3 = d > j + 48 ? ic_x86_tail16(d - j - 48) : 0;
    __m512 acc[GROUP_MAX][4];
#pragma GCC unroll 4
    for (int i = 0; i < HN; i++) {
        const float *o = out + (size_t)i * d + j;
        if (first) {
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_ps();
        } else {
            const __m512 a = _mm512_set1_ps(alpha[i]);
            acc[i][0] = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(t0, o));
            acc[i][1] = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(t1, o + 16));
            acc[i][2] = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(t2, o + 32));
            acc[i][3] = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(t3, o + 48));
        }
    }
    const size_t ej = e0 + j;
    for (size_t p = 0; p < np; p++) {
        const unsigned char *vp = v + p * rb;
        const __m512 v0 = KLD(t0, vp, ej), v1 = KLD(t1, vp, ej + 16), v2 = KLD(t2, vp, ej + 32),
                     v3 = KLD(t3, vp, ej + 48);
#pragma GCC unroll 4
        for (int i = 0; i < HN; i++) {
            const __m512 wp = _mm512_set1_ps(w[(size_t)i * TILE + p]);
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

/* Folds one tile of scores (np <= TILE positions, sc[i * TILE + p] for nh heads) into the running
 * max mx and sum sum of each head: the scores become weights e^(score - max), and alpha[i] the
 * factor that rescales what the head has summed so far. An infinite max follows
 * ic_softmax_ref: +inf scores share the weight and all -inf is uniform. */
static void online_softmax(float *sc, size_t nh, size_t np, float *mx, float *sum, float *alpha) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < nh; i++) {
        float *row = sc + i * TILE;
        __m512 m = ninf;
        for (size_t p = 0; p < np; p += 16)
            m = _mm512_max_ps(m, _mm512_mask_loadu_ps(ninf, ic_x86_tail16(np - p), row + p));
        const float old = mx[i], top = fmaxf(old, _mm512_reduce_max_ps(m));
        if (isinf(top)) {
            /* Weight 1 for the scores at the max, 0 for the rest; what was summed at a smaller
             * max no longer counts. */
            unsigned count = 0;
            for (size_t p = 0; p < np; p += 16) {
                const __mmask16 t = ic_x86_tail16(np - p);
                const __mmask16 at = _mm512_mask_cmp_ps_mask(t, _mm512_loadu_ps(row + p),
                                                             _mm512_set1_ps(top), _CMP_EQ_OQ);
                _mm512_mask_storeu_ps(row + p, t, _mm512_maskz_mov_ps(at, _mm512_set1_ps(1.0f)));
                count += (unsigned)__builtin_popcount(at);
            }
            alpha[i] = old == top ? 1.0f : 0.0f;
            sum[i] = sum[i] * alpha[i] + (float)count;
        } else {
            const __m512 top16 = _mm512_set1_ps(top);
            __m512 acc = _mm512_setzero_ps();
            for (size_t p = 0; p < np; p += 16) {
                const __mmask16 t = ic_x86_tail16(np - p);
                const __m512 e = _mm512_maskz_mov_ps(
                    t, ic_x86_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, row + p), top16)));
                _mm512_mask_storeu_ps(row + p, t, e);
                acc = _mm512_add_ps(acc, e);
            }
            alpha[i] = old == -INFINITY ? 0.0f : expf(old - top);
            sum[i] = sum[i] * alpha[i] + _mm512_reduce_add_ps(acc);
        }
        mx[i] = top;
    }
}

/* CALL(HN, FULL) with the constants for hn heads in the chunk and the current head_dim. */
#define FOR_GROUP_SIZES(CALL)                                                                      \
    switch (hn * 2 + (size_t)full) {                                                               \
    case 9:                                                                                        \
        CALL(4, 1);                                                                                \
        break;                                                                                     \
    case 8:                                                                                        \
        CALL(4, 0);                                                                                \
        break;                                                                                     \
    case 7:                                                                                        \
        CALL(3, 1);                                                                                \
        break;                                                                                     \
    case 6:                                                                                        \
        CALL(3, 0);                                                                                \
        break;                                                                                     \
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
    const int full = d % 64 == 0;
    /* scratch: nh rows of TILE scores, then each head's running max, sum and rescale */
    float *sc = scratch, *mx = sc + nh * TILE, *sum = mx + nh, *alpha = sum + nh;
    for (size_t i = 0; i < nh; i++) mx[i] = -INFINITY, sum[i] = 0.0f;
    const ic_attn_pf pf = ic_attn_pf_start(KV_TYPE, kc, vc, rb, np, d, head_begin, group);
    for (size_t p = 0; p < np; p += TILE) {
        const size_t n = np - p < TILE ? np - p : TILE;
        /* scores: four positions at a time, across all the range's KV heads, so the keys are
         * read in address order */
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
        /* values: one KV head and 64 dims at a time over the tile, the sums in registers */
        const unsigned char *vt = vc + p * rb;
        for (size_t h = head_begin; h < head_end;) {
            const size_t he = chunk_end(h, head_end, group), hn = he - h;
            const size_t e0 = (h / group) * d;
            const float *wh = sc + (h - head_begin) * TILE, *ah = alpha + (h - head_begin);
            for (size_t j = 0; j < d; j += 64) {
#define SUMS(HN, FULL) weighted_v(HN, FULL, wh, ah, p == 0, vt, rb, e0, d, j, n, out + h * d)
                FOR_GROUP_SIZES(SUMS)
#undef SUMS
            }
            h = he;
        }
    }
    for (size_t h = head_begin; h < head_end; h++) {
        const size_t i = h - head_begin;
        const __m512 inv = _mm512_set1_ps(1.0f / sum[i]);
        float *o = out + h * d;
        for (size_t j = 0; j < d; j += 16) {
            const __mmask16 t = ic_x86_tail16(d - j);
            _mm512_mask_storeu_ps(o + j, t, _mm512_mul_ps(inv, _mm512_maskz_loadu_ps(t, o + j)));
        }
        if (lse) lse[h] = mx[i] + logf(sum[i]);
    }
}
