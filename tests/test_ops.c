/* RMSNorm, RoPE, softmax, SwiGLU and attention: every variant this host can run against
 * double-precision computations written out naively here. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ic_dispatch.h"
#include "ic_test.h"

static const size_t g_sizes_full[] = {1, 31, 32, 33, 4095, 4096, 4097};
/* IC_TEST_QUICK=1 (ci/aarch64.sh under qemu): the same tails around a smaller power of two. */
static const size_t g_sizes_quick[] = {1, 31, 32, 33, 255, 256, 257};
_Static_assert(sizeof g_sizes_quick == sizeof g_sizes_full,
               "the quick list replaces the full one entry for entry");
static const size_t *g_sizes = g_sizes_full;

static int close_rel(double got, double want, double tol) {
    return fabs(got - want) <= tol * (1.0 + fabs(want));
}

static void test_rmsnorm(const ic_kernel *k, ic_test_rng *rng) {
    for (size_t si = 0; si < sizeof g_sizes_full / sizeof g_sizes_full[0]; si++) {
        size_t n = g_sizes[si];
        float *x = malloc(n * 4), *w = malloc(n * 4), *y = malloc((n + 16) * 4);
        for (size_t i = 0; i < n; i++) x[i] = 3 * ic_test_uniform(rng), w[i] = ic_test_uniform(rng);
        for (size_t i = n; i < n + 16; i++) y[i] = 12345.0f;
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
        double scale = 1.0 / sqrt(ss / (double)n + 1e-5);
        k->fn.rmsnorm(x, w, y, n, 1e-5f);
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++)
            if (!close_rel(y[i], x[i] * scale * w[i], 1e-5 + (double)n * FLT_EPSILON * 0.01)) {
                CHECK(0, "%s n=%zu i=%zu got %g want %g", k->name, n, i, y[i], x[i] * scale * w[i]);
                ok = 0;
            }
        if (ok) PASS();
        CHECK(y[n] == 12345.0f && y[n + 15] == 12345.0f, "%s n=%zu: wrote past n", k->name, n);
        k->fn.rmsnorm(x, w, x, n, 1e-5f); /* in place */
        CHECK(memcmp(x, y, n * 4) == 0, "%s in-place result differs", k->name);
        free(x), free(w), free(y);
    }
}

static void test_rope(const ic_kernel *k, ic_test_rng *rng) {
    const size_t dims[] = {2, 64, 128}, heads[] = {1, 3, 8}, positions[] = {0, 1, 17, 4095, 131071};
    for (size_t di = 0; di < 3; di++)
        for (size_t hi = 0; hi < 3; hi++)
            for (size_t pi = 0; pi < 5; pi++) {
                size_t d = dims[di], nh = heads[hi], pos = positions[pi], n = d * nh;
                float *x = malloc(n * 4), *orig = malloc(n * 4);
                for (size_t i = 0; i < n; i++) orig[i] = x[i] = ic_test_uniform(rng);
                k->fn.rope(x, nh, d, pos, 500000.0f);
                int ok = 1;
                for (size_t h = 0; h < nh && ok; h++)
                    for (size_t i = 0; i < d / 2 && ok; i++) {
                        double ang = (double)pos * pow(500000.0, -2.0 * (double)i / (double)d);
                        double a = orig[h * d + 2 * i], b = orig[h * d + 2 * i + 1];
                        double e0 = a * cos(ang) - b * sin(ang), e1 = a * sin(ang) + b * cos(ang);
                        /* the angle is rounded to float: error grows with pos * freq */
                        double tol = 1e-5 + fabs(ang) * 2e-7;
                        if (!close_rel(x[h * d + 2 * i], e0, tol) ||
                            !close_rel(x[h * d + 2 * i + 1], e1, tol)) {
                            CHECK(0, "%s d=%zu pos=%zu h=%zu i=%zu got (%g,%g) want (%g,%g)",
                                  k->name, d, pos, h, i, x[h * d + 2 * i], x[h * d + 2 * i + 1], e0,
                                  e1);
                            ok = 0;
                        }
                    }
                if (ok) PASS();
                free(x), free(orig);
            }
}

static void test_softmax(const ic_kernel *k, ic_test_rng *rng) {
    for (size_t si = 0; si < sizeof g_sizes_full / sizeof g_sizes_full[0]; si++) {
        size_t n = g_sizes[si];
        float *x = malloc(n * 4), *orig = malloc(n * 4);
        for (size_t i = 0; i < n; i++) orig[i] = x[i] = 20 * ic_test_uniform(rng);
        double max = -INFINITY, sum = 0;
        for (size_t i = 0; i < n; i++) max = fmax(max, orig[i]);
        for (size_t i = 0; i < n; i++) sum += exp(orig[i] - max);
        const float lse = k->fn.softmax(x, n);
        int ok = 1;
        if (fabs(lse - (max + log(sum))) > 1e-5 * (1 + fabs(max))) {
            CHECK(0, "%s n=%zu: log-sum-exp %g want %g", k->name, n, lse, max + log(sum));
            ok = 0;
        }
        for (size_t i = 0; i < n && ok; i++)
            if (!close_rel(x[i], exp(orig[i] - max) / sum, 1e-5 + (double)n * FLT_EPSILON)) {
                CHECK(0, "%s n=%zu i=%zu got %g want %g", k->name, n, i, x[i],
                      exp(orig[i] - max) / sum);
                ok = 0;
            }
        if (ok) PASS();
        free(x), free(orig);
    }
    /* Huge, very negative and infinite inputs: no NaN, and the mass sums to 1. */
    float cases[][5] = {{1e30f, 1e30f, -1e30f, 0, 3e38f},
                        {-1e30f, -3e38f, -1e38f, -1e30f, -1e30f},
                        {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
                        {INFINITY, 0, INFINITY, -INFINITY, 1},
                        {-INFINITY, 0, -INFINITY, 88.7f, -1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float *x = cases[c];
        const float lse = k->fn.softmax(x, 5);
        const float want_lse[] = {3e38f, -1e30f /* + log 3, lost at this size */, -INFINITY,
                                  INFINITY, 88.7f};
        CHECK(c == 1 ? fabsf(lse - want_lse[c]) <= 1e24f : lse == want_lse[c],
              "%s case %zu: log-sum-exp %g want %g", k->name, c, lse, want_lse[c]);
        double sum = 0;
        int nan = 0;
        for (int i = 0; i < 5; i++) nan |= isnan(x[i]), sum += x[i];
        CHECK(!nan && fabs(sum - 1.0) < 1e-5, "%s case %zu: NaN=%d sum=%g", k->name, c, nan, sum);
    }
}

static void test_swiglu(const ic_kernel *k, ic_test_rng *rng) {
    for (size_t si = 0; si < sizeof g_sizes_full / sizeof g_sizes_full[0]; si++) {
        size_t n = g_sizes[si];
        float *g = malloc(n * 4), *u = malloc(n * 4), *y = malloc((n + 16) * 4);
        for (size_t i = 0; i < n; i++)
            g[i] = 12 * ic_test_uniform(rng), u[i] = ic_test_uniform(rng);
        for (size_t i = n; i < n + 16; i++) y[i] = 12345.0f;
        if (n > 3) g[0] = -200, g[1] = 200, g[2] = -1e30f;
        k->fn.swiglu(g, u, y, n);
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++) {
            double want = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
            if (!close_rel(y[i], want, 1e-5)) {
                CHECK(0, "%s n=%zu i=%zu gate=%g got %g want %g", k->name, n, i, g[i], y[i], want);
                ok = 0;
            }
        }
        if (ok) PASS();
        CHECK(y[n] == 12345.0f && y[n + 15] == 12345.0f, "%s n=%zu: wrote past n", k->name, n);
        free(g), free(u), free(y);
    }
}

/* The reference in double, once per shape: every head's scaled scores against every position
 * (score: n_head x n_pos) and its output (want: n_head x head_dim), the KV head of query head h
 * being h * n_kv / n_head (kc, vc: the caches as floats). */
static void ref_attention(const float *q, const float *kc, const float *vc, const ic_attn_shape *s,
                          double *score, double *want) {
    const double scale = 1.0 / sqrt((double)s->head_dim);
    for (size_t h = 0; h < s->n_head; h++) {
        const size_t g = h * s->n_head_kv / s->n_head;
        double *sc = score + h * s->n_pos, max = -INFINITY, sum = 0;
        for (size_t p = 0; p < s->n_pos; p++) {
            double dot = 0;
            for (size_t j = 0; j < s->head_dim; j++)
                dot += (double)q[h * s->head_dim + j] * kc[p * s->kv_stride + g * s->head_dim + j];
            sc[p] = dot * scale;
            max = fmax(max, sc[p]);
        }
        for (size_t p = 0; p < s->n_pos; p++) sum += exp(sc[p] - max);
        double *w = want + h * s->head_dim;
        for (size_t j = 0; j < s->head_dim; j++) w[j] = 0;
        for (size_t p = 0; p < s->n_pos; p++) {
            const double a = exp(sc[p] - max) / sum;
            const float *v = vc + p * s->kv_stride + g * s->head_dim;
            for (size_t j = 0; j < s->head_dim; j++) w[j] += a * v[j];
        }
    }
}

/* Writes n rows of stride floats from f into c in the KV type t (ic_row_bytes(t, stride) bytes a
 * row), then reads them back into f, so that the reference in double sees exactly the values the
 * kernel reads. */
static void to_kv_type(ic_dtype t, float *f, unsigned char *c, size_t n, size_t stride) {
    const size_t row = ic_row_bytes(t, stride);
    for (size_t p = 0; p < n; p++) {
        ic_select_for(IC_OP_QUANTIZE, t, 0, IC_LVL_REF)
            ->fn.quantize(f + p * stride, c + p * row, stride);
        ic_select_for(IC_OP_DEQUANTIZE, t, 0, IC_LVL_REF)
            ->fn.dequantize(c + p * row, f + p * stride, stride);
    }
}

/* One attention case: a shape, its inputs in the variant's KV type and as floats, the reference's
 * scores and output in double, and the kernel's output and work buffers. */
typedef struct {
    ic_attn_shape s;
    size_t row; /* bytes a cache row */
    float *q, *kf, *vf, *out, *scratch, *part, *lse;
    unsigned char *kc, *vc;
    double *score, *want;
} attn_case;

static void attn_case_init(attn_case *c, ic_dtype t, ic_attn_shape s, ic_test_rng *rng) {
    c->s = s;
    c->row = ic_row_bytes(t, s.kv_stride);
    const size_t qn = s.n_head * s.head_dim, cn = s.n_pos * s.kv_stride;
    c->q = malloc(qn * 4), c->kf = malloc(cn * 4), c->vf = malloc(cn * 4), c->out = malloc(qn * 4);
    c->kc = malloc(s.n_pos * c->row), c->vc = malloc(s.n_pos * c->row);
    c->scratch = malloc(ic_attn_scratch_floats(s.n_head, s.n_pos) * 4);
    c->part = malloc(IC_ATTN_SPANS_MAX * qn * 4);
    c->lse = malloc(IC_ATTN_SPANS_MAX * s.n_head * 4);
    c->score = malloc(s.n_head * s.n_pos * sizeof(double));
    c->want = malloc(qn * sizeof(double));
    for (size_t i = 0; i < qn; i++) c->q[i] = ic_test_uniform(rng);
    for (size_t i = 0; i < cn; i++)
        c->kf[i] = ic_test_uniform(rng), c->vf[i] = ic_test_uniform(rng);
    to_kv_type(t, c->kf, c->kc, s.n_pos, s.kv_stride);
    to_kv_type(t, c->vf, c->vc, s.n_pos, s.kv_stride);
    ref_attention(c->q, c->kf, c->vf, &s, c->score, c->want);
}

static void attn_case_free(attn_case *c) {
    free(c->q), free(c->kf), free(c->vf), free(c->out), free(c->kc), free(c->vc);
    free(c->scratch), free(c->part), free(c->lse), free(c->score), free(c->want);
}

/* A decode step split as the model splits it for nt workers (ic_attn_decode_unit: position spans,
 * each span's heads in ranges), the spans merged into c->out. Each span's lse is checked: log
 * sum_p e^score over the span. */
static void run_decode_split(const ic_kernel *k, attn_case *c, size_t nt, size_t si) {
    const ic_attn_shape *s = &c->s;
    const size_t qn = s->n_head * s->head_dim;
    size_t spans = 1;
    for (size_t w = 0; w < nt; w++) {
        ic_attn_unit u = ic_attn_decode_unit(s->n_pos, s->n_head, s->n_head_kv, nt, w);
        spans = u.spans;
        if (u.pos_begin >= u.pos_end || u.head_begin >= u.head_end) continue;
        ic_attn_shape st = *s;
        st.n_pos = u.pos_end - u.pos_begin;
        float *ls = c->lse + u.span * s->n_head;
        for (size_t h = u.head_begin; h < u.head_end; h++) ls[h] = NAN;
        k->fn.attention(c->q, c->kc + u.pos_begin * c->row, c->vc + u.pos_begin * c->row,
                        u.spans == 1 ? c->out : c->part + u.span * qn, u.spans == 1 ? NULL : ls,
                        c->scratch, &st, u.head_begin, u.head_end);
        for (size_t h = u.head_begin; h < u.head_end && u.spans > 1; h++) {
            double sum = 0;
            for (size_t p = u.pos_begin; p < u.pos_end; p++) sum += exp(c->score[h * s->n_pos + p]);
            CHECK(fabs(ls[h] - log(sum)) < 1e-4, "%s shape %zu span %zu h=%zu lse %g want %g",
                  k->name, si, u.span, h, ls[h], log(sum));
        }
    }
    if (spans > 1) ic_attn_merge(c->part, c->lse, spans, s->n_head, s->head_dim, c->out);
}

/* GQA attention against the reference in double, over caches in the variant's KV type (the
 * reference reads them dequantized). Shapes whose head_dim the type cannot hold (q8_0: a multiple
 * of 32) are skipped for it. The work is split 7 ways: parts 1-3, the heads in that many calls;
 * 4-7, a decode step as the model splits it for 2, 3, 7 and 40 workers. */
static void test_attention(const ic_kernel *k, ic_test_rng *rng) {
    const struct {
        size_t nh, nkv, d, npos;
    } shapes[] = {{1, 1, 64, 1},      {4, 4, 32, 7},   {8, 2, 64, 33},  {32, 8, 128, 130},
                  {6, 1, 16, 513},    {4, 2, 2, 5},    {14, 2, 64, 37}, {28, 4, 128, 300},
                  {10, 2, 80, 70},    {8, 8, 130, 9},  {12, 3, 100, 1}, {9, 1, 48, 1030},
                  {5, 1, 32, 15},     {6, 3, 64, 17},  {7, 7, 80, 16},  {3, 1, 128, 1},
                  {12, 4, 128, 1001}, {15, 5, 96, 65}, {2, 2, 32, 1025}};
    static const size_t workers[] = {2, 3, 7, 40};
    const ic_dtype t = k->wtype;
    size_t tested = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        char why[160];
        if (ic_attn_check_kv(t, shapes[si].d, why, sizeof why) != 0) continue;
        tested++;
        /* padded rows: a whole block for q8_0 */
        const size_t pad = t == IC_DT_Q8_0 ? IC_QK : 3;
        attn_case c;
        attn_case_init(&c, t,
                       (ic_attn_shape){shapes[si].nh, shapes[si].nkv, shapes[si].d, shapes[si].npos,
                                       shapes[si].nkv * shapes[si].d + pad},
                       rng);
        const ic_attn_shape *s = &c.s;
        const size_t qn = s->n_head * s->head_dim;
        /* the error bound: float sums over head_dim products and over n_pos weighted values */
        const double tol = 1e-5 + 1e-6 * (double)s->head_dim + 4 * FLT_EPSILON * sqrt(s->n_pos);
        for (int parts = 1; parts <= 7; parts++) {
            for (size_t i = 0; i < qn; i++) c.out[i] = NAN;
            if (parts <= 3) {
                for (int p = 0; p < parts; p++)
                    k->fn.attention(c.q, c.kc, c.vc, c.out, NULL, c.scratch, s,
                                    s->n_head * (size_t)p / (size_t)parts,
                                    s->n_head * (size_t)(p + 1) / (size_t)parts);
            } else {
                run_decode_split(k, &c, workers[parts - 4], si);
            }
            size_t i = 0;
            while (i < qn && close_rel(c.out[i], c.want[i], tol)) i++;
            CHECK(i == qn, "%s shape %zu parts %d h=%zu j=%zu got %g want %g", k->name, si, parts,
                  i / s->head_dim, i % s->head_dim, i < qn ? c.out[i] : 0.0,
                  i < qn ? c.want[i] : 0.0);
        }
        attn_case_free(&c);
    }
    CHECK(tested >= 10, "%s: only %zu shapes fit its KV type", k->name, tested);
}

/* The prompt entry (ic_attention_rows_fn) against the reference in double, row by row: row i of a
 * call attends the first n_pos0 + i positions. The shapes cross blocks (the last one short),
 * tiles of positions, lanes left empty (5 x 3 heads of 16) and head_dim tails; then a block with
 * an infinite score, which must come out as the decode entry gives it, row by row. */
static void test_attention_rows(const ic_kernel *k, ic_test_rng *rng) {
    const struct {
        size_t nh, nkv, d, npos0, rows;
    } shapes[] = {{8, 2, 64, 1, 40},  {14, 2, 64, 5, 9},    {4, 4, 32, 1, 37},   {16, 1, 32, 3, 5},
                  {6, 3, 40, 33, 7},  {32, 8, 128, 100, 6}, {10, 2, 96, 31, 33}, {12, 4, 64, 1, 1},
                  {8, 2, 64, 64, 64}, {2, 1, 2, 1, 3},      {15, 5, 80, 2, 20}};
    const ic_dtype t = k->wtype;
    size_t tested = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        char why[160];
        if (ic_attn_check_kv(t, shapes[si].d, why, sizeof why) != 0) continue;
        tested++;
        const size_t nh = shapes[si].nh, nkv = shapes[si].nkv, d = shapes[si].d;
        const size_t n0 = shapes[si].npos0, R = shapes[si].rows, npos = n0 + R - 1;
        const size_t pad = t == IC_DT_Q8_0 ? IC_QK : 3, qn = nh * d, qs = qn + 5, os = qn + 7;
        attn_case c;
        attn_case_init(&c, t, (ic_attn_shape){nh, nkv, d, npos, nkv * d + pad}, rng);
        float *q = malloc(R * qs * 4), *out = malloc(R * os * 4), *row = malloc(qn * 4);
        float *scratch = malloc(ic_attn_rows_scratch_floats(nh, nkv, d, npos) * 4);
        double *score = malloc(nh * npos * sizeof(double)), *want = malloc(R * qn * sizeof(double));
        for (size_t i = 0; i < R * qs; i++) q[i] = ic_test_uniform(rng);
        for (size_t i = 0; i < R * os; i++) out[i] = NAN;
        for (size_t i = 0; i < R; i++) {
            ic_attn_shape si_ = c.s;
            si_.n_pos = n0 + i;
            ref_attention(q + i * qs, c.kf, c.vf, &si_, score, want + i * qn);
        }
        ic_attn_shape s = c.s;
        s.n_pos = n0;
        k->attention_rows(q, qs, c.kc, c.vc, out, os, scratch, &s, R);
        const double tol = 1e-5 + 1e-6 * (double)d + 4 * FLT_EPSILON * sqrt((double)npos);
        size_t bad = R * qn;
        for (size_t i = 0; i < R * qn && bad == R * qn; i++)
            if (!close_rel(out[i / qn * os + i % qn], want[i], tol)) bad = i;
        CHECK(bad == R * qn, "%s rows shape %zu: row %zu h=%zu j=%zu got %g want %g", k->name, si,
              bad / qn, bad % qn / d, bad % d, bad < R * qn ? out[bad / qn * os + bad % qn] : 0.0,
              bad < R * qn ? want[bad] : 0.0);
        for (size_t i = 0; i < R; i++)
            CHECK(isnan(out[i * os + qn]), "%s rows shape %zu: row %zu written past its heads",
                  k->name, si, i);

        /* an infinite score in row R / 2: its block as the decode entry gives it */
        if (si == 0) {
            q[R / 2 * qs] = INFINITY;
            k->attention_rows(q, qs, c.kc, c.vc, out, os, scratch, &s, R);
            int same = 1;
            for (size_t i = 0; i < R; i++) {
                ic_attn_shape si_ = s;
                si_.n_pos = n0 + i;
                k->fn.attention(q + i * qs, c.kc, c.vc, row, NULL, scratch, &si_, 0, nh);
                for (size_t j = 0; j < qn; j++) {
                    const float a = out[i * os + j], b = row[j];
                    if (isinf(q[i * qs]) && !(a == b || (isnan(a) && isnan(b)))) same = 0;
                    if (!isinf(q[i * qs]) && !close_rel(a, b, tol)) same = 0;
                }
            }
            CHECK(same, "%s rows: a row with an infinite score differs from the decode entry",
                  k->name);
        }
        free(q), free(out), free(row), free(scratch), free(score), free(want);
        attn_case_free(&c);
    }
    CHECK(tested >= 6, "%s rows: only %zu shapes fit its KV type", k->name, tested);
}

/* Attention work splits keep a KV head's query heads on one worker while there are groups enough
 * for every worker. */
static void test_attn_split(void) {
    CHECK(ic_attn_split_align(32, 8, 32, 2) == 4, "llama: 8 groups of 4 for 2 workers");
    CHECK(ic_attn_split_align(32, 8, 64, 16) == 4, "2 rows: 16 groups for 16 workers");
    CHECK(ic_attn_split_align(32, 8, 32, 16) == 1, "8 groups cannot feed 16 workers");
    CHECK(ic_attn_split_align(14, 2, 14, 2) == 7, "qwen2.5-0.5b: groups of 7");
    CHECK(ic_attn_split_align(8, 8, 8, 3) == 1, "no GQA: nothing to keep together");
    CHECK(ic_attn_split_align(8, 0, 8, 1) == 1, "no KV heads given: no grouping");
}

/* A decode step's split covers every (position, head) exactly once, in at most
 * IC_ATTN_SPANS_MAX spans of whole pieces, keeping KV groups together where there are enough. */
static void test_attn_decode_split(void) {
    const size_t cases[][4] = {{1, 32, 8, 2},     {129, 32, 8, 2},  {4097, 32, 8, 2},
                               {4097, 32, 8, 16}, {33, 14, 2, 192}, {100000, 64, 8, 192},
                               {16, 8, 8, 3},     {17, 4, 1, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const size_t np = cases[c][0], H = cases[c][1], Hkv = cases[c][2], nt = cases[c][3];
        unsigned char *seen = calloc(np * H, 1);
        size_t spans = 0, busy = 0, misaligned = 0;
        for (size_t t = 0; t < nt; t++) {
            ic_attn_unit u = ic_attn_decode_unit(np, H, Hkv, nt, t);
            spans = u.spans;
            if (u.pos_begin >= u.pos_end || u.head_begin >= u.head_end) continue;
            busy++;
            misaligned += u.pos_begin % IC_ATTN_SPLIT != 0;
            if (Hkv >= nt / u.spans) misaligned += u.head_begin % (H / Hkv) != 0;
            for (size_t p = u.pos_begin; p < u.pos_end; p++)
                for (size_t h = u.head_begin; h < u.head_end; h++) seen[p * H + h]++;
        }
        size_t bad = 0;
        for (size_t i = 0; i < np * H; i++) bad += seen[i] != 1;
        CHECK(bad == 0, "case %zu: %zu (position, head) pairs not covered exactly once", c, bad);
        CHECK(spans >= 1 && spans <= IC_ATTN_SPANS_MAX, "case %zu: %zu spans", c, spans);
        CHECK(misaligned == 0, "case %zu: %zu shares start off a piece or a KV group", c,
              misaligned);
        CHECK(busy >= spans, "case %zu: %zu workers busy for %zu spans", c, busy, spans);
        free(seen);
    }
    ic_attn_unit u = ic_attn_decode_unit(129, 32, 8, 2, 1);
    CHECK(u.spans == 2 && u.pos_begin == 64 && u.pos_end == 129 && u.head_end == 32,
          "llama-3.2-1b at ctx 128 on 2 workers: positions [64, 129), all heads (got %zu spans, "
          "[%zu, %zu), heads to %zu)",
          u.spans, u.pos_begin, u.pos_end, u.head_end);
}

int main(void) {
    test_attn_split();
    test_attn_decode_split();
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    /* every variant this CPU can run, the SVE ones dispatch passes over at 128 bits included */
    uint64_t features = ic_features_runnable(ic_cpu()->features);
    ic_test_rng rng = {1234};
    const char *quick = getenv("IC_TEST_QUICK");
    if (quick && quick[0] == '1') g_sizes = g_sizes_quick;
    /* IC_TEST_ONLY=NAME: that variant alone (a CI stage's check of one path), so the checks that
     * every op and KV type was tested are left out */
    const char *only = getenv("IC_TEST_ONLY");
    int tested[IC_OP_COUNT] = {0}, attn_tested[IC_DT_COUNT] = {0};
    for (size_t i = 0; i < count; i++) {
        const ic_kernel *k = &table[i];
        if (!ic_kernel_usable(k, features, IC_LVL_COUNT)) continue;
        if (only && strcmp(only, k->name) != 0) continue;
        switch (k->op) {
        case IC_OP_RMSNORM:
            test_rmsnorm(k, &rng);
            break;
        case IC_OP_ROPE:
            test_rope(k, &rng);
            break;
        case IC_OP_SOFTMAX:
            test_softmax(k, &rng);
            break;
        case IC_OP_SWIGLU:
            test_swiglu(k, &rng);
            break;
        case IC_OP_ATTENTION:
            test_attention(k, &rng);
            if (k->attention_rows) test_attention_rows(k, &rng);
            attn_tested[k->wtype]++;
            break;
        default:
            continue;
        }
        tested[k->op]++;
        printf("  %-28s checked\n", k->name);
    }
    if (only) {
        size_t n = 0;
        for (int op = 0; op < IC_OP_COUNT; op++) n += (size_t)tested[op];
        CHECK(n == 1, "IC_TEST_ONLY=%s: no usable variant of that name", only);
        return ic_test_finish("test_ops");
    }
    for (int op = IC_OP_RMSNORM; op < IC_OP_COUNT; op++)
        CHECK(tested[op] > 0, "no variant of %s was tested", ic_op_name((ic_op)op));
    for (int t = 0; t < IC_DT_COUNT; t++)
        CHECK(!ic_dtype_is_kv((ic_dtype)t) || attn_tested[t] > 0,
              "no attention variant over a %s cache was tested", ic_dtype_name((ic_dtype)t));
    return ic_test_finish("test_ops");
}
