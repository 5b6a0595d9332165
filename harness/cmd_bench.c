/* infercost bench: every variant of every op in the kernel table, OpenBLAS beside them, and the
 * probes, at LLM shapes, measured through Google Benchmark. Names are regular
 * (gemv/q8_0/avx512vnni/m:4096/k:14336/threads:2) so --benchmark_filter selects them. */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#if IC_HAVE_BENCHMARK
#include "counters.h"
#include "forward.h"
#include "gbench.h"
#include "instance.h"
#include "ic_dispatch.h"
#include "pool.h"
#include "probes.h"
#include "topology.h"
#if IC_HAVE_OPENBLAS
#include <cblas.h>
#endif
#endif

static const char g_usage[] =
    "usage: infercost bench [--threads N] [--bind none|core|numa] [--counters] [--benchmark_*...]\n"
    "  --threads N     worker threads for GEMV, GEMM, attention and the probes (default: one per\n"
    "                  physical core, from hwloc)\n"
    "  --bind MODE     pin workers: none, core (one core each, round-robin) or numa (the NUMA\n"
    "                  node of that core); default core with hwloc, none without\n"
    "  --counters      add PAPI cycles, instructions and LLC misses per iteration, with IPC and\n"
    "                  bytes per instruction, where the machine exposes them\n"
    "  --benchmark_*   Google Benchmark's own flags, unchanged: --benchmark_filter=REGEX,\n"
    "                  --benchmark_format=console|json|csv, --benchmark_out=FILE,\n"
    "                  --benchmark_repetitions=N, --benchmark_min_time=S (default here 0.1) ...\n"
    "Every figure is measured on this host. Names: gemv/<type>/<isa>/m:M/k:K/threads:T,\n"
    "gemm/<type>/<isa>/m:M/k:K/n:N/threads:T, blas/sgemv/..., attention/<kv>/<isa>/ctx:C/...,\n"
    "probe/read_bw/<loop>/..., probe/peak_<type>/<loop>/...\n";

#if !IC_HAVE_BENCHMARK

int ic_cmd_bench(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        }
    ic_error("bench: unavailable: built without libbenchmark (%s)", IC_WHY_NO_BENCHMARK);
    return IC_EXIT_FAIL;
}

#else

/* ---- shapes of Llama-3-8B (d 4096, FFN 14336, vocab 128256, 32 heads, 8 KV heads): decode GEMV,
 * prefill GEMM, attention contexts ---- */
static const size_t g_gemv_shapes[][2] = {
    {4096, 4096}, {14336, 4096}, {4096, 14336}, {128256, 4096}};
/* Prefill GEMM shapes (m x k). The second is the FFN's down projection; the scalar references are
 * left out there (one n=512 iteration takes tens of seconds: 4096x4096 already shows them). */
static const size_t g_gemm_mk[][2] = {{4096, 4096}, {4096, 14336}};
static const size_t g_gemm_n[] = {8, 64, 512};
static const size_t g_attn_ctx[] = {512, 4096, 32768};
static const size_t g_attn_prompt[] = {512, 2048};
enum { ATTN_HEADS = 32, ATTN_KV_HEADS = 8, ATTN_HEAD_DIM = 128, ELEM_N = 4096 };

typedef struct {
    int n;
    int64_t v[IC_BENCH_MAX_ARGS];
    const char *names[IC_BENCH_MAX_ARGS];
} argset;

static void arg_add(argset *a, const char *name, int64_t v) {
    a->names[a->n] = name;
    a->v[a->n++] = v;
}

/* One registered benchmark. */
typedef enum {
    B_GEMV,
    B_GEMM,
    B_SGEMV,
    B_SGEMM,
    B_ATTN,
    B_ATTN_PROMPT,
    B_RMSNORM,
    B_ROPE,
    B_SOFTMAX,
    B_SWIGLU,
    B_QUANT,
    B_DEQUANT,
    B_PROBE,
    B_STREAM_SUM,
    B_STREAM_TRIAD
} bench_kind;

typedef struct bench_item {
    bench_kind kind;
    const ic_kernel *kern;     /* ops from the kernel table */
    const ic_probe_loop *loop; /* probes */
    ic_dtype wtype, atype;
    size_t m, k, n; /* GEMV/GEMM: rows, reduction, tokens; attention: n = context; a prompt's
                     * attention: n = rows, m = 1 for the decode entry row by row */
    /* set when the variant cannot run here, with the reason in skip_buf (a flag, not a pointer
     * into the item: growing the item array moves items, and such a pointer was left dangling) */
    int skip;
    char skip_buf[160];
    char name[96];
    argset args;
} bench_item;

static struct {
    ic_pool *pool;
    int threads;
    int counters;     /* --counters asked */
    ic_counters *ctr; /* NULL when unavailable */
} g_b;

/* ---- one cached workload, shared by consecutive benchmarks of the same shape and type ---- */
static struct {
    int valid;
    bench_kind kind;
    ic_dtype wtype, atype;
    ic_layout layout;
    size_t m, k, n;
    void *w;
    size_t w_bytes;
    void *x;
    float *y;
    float *aux; /* attention: v cache; elementwise: second input */
    size_t aux_bytes;
    float *scratch; /* attention: ic_attn_scratch_floats(heads, n_pos) floats per worker */
    float *part;    /* attention: per span, its output (heads x head_dim) and lse */
    float *lse;
} g_wl;

static void wl_free(void) {
    ic_big_free(g_wl.w, g_wl.w_bytes);
    ic_big_free(g_wl.aux, g_wl.aux_bytes);
    free(g_wl.x);
    free(g_wl.y);
    free(g_wl.scratch);
    free(g_wl.part);
    free(g_wl.lse);
    memset(&g_wl, 0, sizeof g_wl);
}

typedef struct {
    unsigned char *dst;
    const unsigned char *row;
    size_t row_bytes, rows;
} fill_ctx;

/* Each worker writes the rows it will later read, so their pages are local to it. */
static void fill_task(void *arg, int tid, int nt) {
    fill_ctx *c = arg;
    size_t b, e;
    ic_split_range(c->rows, 16, tid, nt, &b, &e);
    for (size_t r = b; r < e; r++) memcpy(c->dst + r * c->row_bytes, c->row, c->row_bytes);
}

static uint64_t g_rng = 0x2545f4914f6cdd1dull;
static float rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((double)(g_rng >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

/* k random floats converted to type t, into a new buffer of ic_row_bytes(t, k) bytes. */
static void *random_row(ic_dtype t, size_t k, size_t rows) {
    size_t rb = ic_row_bytes(t, k);
    unsigned char *out = malloc(rb * rows);
    float *f = malloc(k * sizeof *f);
    const ic_kernel *q = ic_select(IC_OP_QUANTIZE, t);
    if (out == NULL || f == NULL || q == NULL) {
        free(out);
        free(f);
        return NULL;
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < k; i++) f[i] = rnd();
        q->fn.quantize(f, out + r * rb, k);
    }
    free(f);
    return out;
}

/* A row repeated into a whole 16-row panel of the layout: the unit fill_task copies. */
static void *panel_of(ic_layout l, ic_dtype wtype, const void *row, size_t k) {
    const size_t rb = ic_row_bytes(wtype, k);
    unsigned char *rows = malloc(rb * IC_PANEL_ROWS),
                  *panel = malloc(ic_layout_stride(l, wtype, k));
    if (rows && panel) {
        for (size_t r = 0; r < IC_PANEL_ROWS; r++) memcpy(rows + r * rb, row, rb);
        ic_layout_pack(l, wtype, rows, panel, k, 0, IC_PANEL_ROWS);
    }
    free(rows);
    if (rows == NULL) {
        free(panel);
        return NULL;
    }
    return panel;
}

/* Weights of m rows of k elements of wtype (one random row repeated: the values do not change
 * the cost) in the variant's layout, and n activation rows of atype. Returns 0 or -1 with a
 * message. */
static int wl_matrix(bench_kind kind, ic_dtype wtype, ic_dtype atype, ic_layout layout, size_t m,
                     size_t k, size_t n, char *err, size_t errlen) {
    if (g_wl.valid && g_wl.wtype == wtype && g_wl.atype == atype && g_wl.layout == layout &&
        g_wl.m == m && g_wl.k == k && g_wl.n == n &&
        (g_wl.kind == B_GEMV || g_wl.kind == B_GEMM || g_wl.kind == B_SGEMV ||
         g_wl.kind == B_SGEMM))
        return 0;
    wl_free();
    const int panels = layout != IC_LAYOUT_ROWS;
    size_t rb = ic_row_bytes(wtype, k);
    g_wl.w_bytes = ic_layout_bytes(layout, wtype, m, k);
    g_wl.w = ic_big_alloc(g_wl.w_bytes);
    void *row = random_row(wtype, k, 1);
    if (row && panels) {
        void *panel = panel_of(layout, wtype, row, k);
        free(row);
        row = panel;
        rb = ic_layout_stride(layout, wtype, k);
    }
    g_wl.x = random_row(atype, k, n);
    g_wl.y = malloc(m * n * sizeof(float));
    if (g_wl.w == NULL || row == NULL || g_wl.x == NULL || g_wl.y == NULL) {
        free(row);
        snprintf(err, errlen, "skipped: out of memory for %zu MiB of %s weights (%s)",
                 g_wl.w_bytes >> 20, ic_dtype_name(wtype), strerror(errno));
        wl_free();
        return -1;
    }
    fill_ctx fc = {g_wl.w, row, rb, panels ? (m + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS : m};
    ic_pool_run(g_b.pool, fill_task, &fc);
    free(row);
    g_wl.valid = 1;
    g_wl.kind = kind;
    g_wl.wtype = wtype;
    g_wl.atype = atype;
    g_wl.layout = layout;
    g_wl.m = m;
    g_wl.k = k;
    g_wl.n = n;
    return 0;
}

/* KV caches of n_pos positions in the KV type kvt (random keys scaled by 0.1 so that the softmax
 * is not one-hot, in w and aux), queries for q_rows rows (x), outputs for as many (y), and
 * scratch_floats of scratch. Returns 0 or -1 with a message. */
static int wl_attn_inputs(bench_kind kind, ic_dtype kvt, size_t n_pos, size_t q_rows,
                          size_t scratch_floats, char *err, size_t errlen) {
    wl_free();
    size_t kv = (size_t)ATTN_KV_HEADS * ATTN_HEAD_DIM, q = (size_t)ATTN_HEADS * ATTN_HEAD_DIM;
    const size_t rb = ic_row_bytes(kvt, kv);
    const ic_kernel *conv = ic_select(IC_OP_QUANTIZE, kvt);
    g_wl.w_bytes = g_wl.aux_bytes = n_pos * rb;
    g_wl.w = ic_big_alloc(g_wl.w_bytes);
    g_wl.aux = ic_big_alloc(g_wl.aux_bytes);
    g_wl.x = malloc(q_rows * q * sizeof(float));
    g_wl.y = malloc(q_rows * q * sizeof(float));
    g_wl.scratch = malloc(scratch_floats * sizeof(float));
    g_wl.part = malloc(IC_ATTN_SPANS_MAX * q * sizeof(float));
    g_wl.lse = malloc(IC_ATTN_SPANS_MAX * ATTN_HEADS * sizeof(float));
    float *row = malloc(2 * kv * sizeof(float));
    if (!g_wl.w || !g_wl.aux || !g_wl.x || !g_wl.y || !g_wl.scratch || !g_wl.part || !g_wl.lse ||
        !row || !conv) {
        snprintf(err, errlen, "skipped: out of memory for a KV cache of %zu positions", n_pos);
        free(row);
        wl_free();
        return -1;
    }
    unsigned char *kc = g_wl.w, *vc = (unsigned char *)g_wl.aux;
    float *qv = g_wl.x;
    for (size_t p = 0; p < n_pos; p++) {
        for (size_t i = 0; i < kv; i++) row[i] = rnd() * 0.1f, row[kv + i] = rnd();
        conv->fn.quantize(row, kc + p * rb, kv);
        conv->fn.quantize(row + kv, vc + p * rb, kv);
    }
    free(row);
    for (size_t i = 0; i < q_rows * q; i++) qv[i] = rnd();
    g_wl.valid = 1;
    g_wl.kind = kind;
    g_wl.wtype = kvt;
    g_wl.n = n_pos;
    return 0;
}

/* A decode step over n_pos cached positions: the caches, the query, and the outputs and scratch
 * of every worker. */
static int wl_attention(ic_dtype kvt, size_t n_pos, char *err, size_t errlen) {
    if (g_wl.valid && g_wl.kind == B_ATTN && g_wl.wtype == kvt && g_wl.n == n_pos) return 0;
    return wl_attn_inputs(B_ATTN, kvt, n_pos, 1,
                          (size_t)g_b.threads * ic_attn_scratch_floats(ATTN_HEADS, n_pos), err,
                          errlen);
}

/* A prompt of n rows: the caches of its n positions, its queries and outputs, one thread's
 * scratch for either entry. */
static int wl_attn_prompt(ic_dtype kvt, size_t n, char *err, size_t errlen) {
    if (g_wl.valid && g_wl.kind == B_ATTN_PROMPT && g_wl.wtype == kvt && g_wl.n == n) return 0;
    return wl_attn_inputs(B_ATTN_PROMPT, kvt, n, n,
                          ic_attn_rows_scratch_floats(ATTN_HEADS, ATTN_KV_HEADS, ATTN_HEAD_DIM, n),
                          err, errlen);
}

/* Row-vector inputs for the single-row ops: x (n floats or a row of type t), aux, y. */
static int wl_vector(bench_kind kind, ic_dtype t, size_t n, char *err, size_t errlen) {
    if (g_wl.valid && g_wl.kind == kind && g_wl.wtype == t && g_wl.n == n) return 0;
    wl_free();
    g_wl.x = kind == B_DEQUANT ? random_row(t, n, 1) : random_row(IC_DT_F32, n, 1);
    g_wl.aux_bytes = n * sizeof(float) + 64;
    g_wl.aux = ic_big_alloc(g_wl.aux_bytes);
    g_wl.y = malloc(n * sizeof(float) + 64);
    if (!g_wl.x || !g_wl.aux || !g_wl.y) {
        snprintf(err, errlen, "skipped: out of memory");
        wl_free();
        return -1;
    }
    for (size_t i = 0; i < n; i++) g_wl.aux[i] = rnd();
    g_wl.valid = 1;
    g_wl.kind = kind;
    g_wl.wtype = t;
    g_wl.n = n;
    return 0;
}

typedef struct {
    unsigned char *buf;
    size_t bytes;
} touch_ctx;

/* First touch by the worker that will read the share, as the probes read it. */
static void touch_task(void *arg, int tid, int nt) {
    touch_ctx *c = arg;
    size_t b, e;
    ic_split_range(c->bytes, 4096, tid, nt, &b, &e);
    memset(c->buf + b, 1, e - b);
}

/* The buffer of the read probes and STREAM loops: ic_probe_default_read_bytes(), a multiple of
 * 12 pages so the triad's three arrays split it evenly; kept across the library's calls. */
static int wl_buffer(char *err, size_t errlen) {
    if (g_wl.valid && (g_wl.kind == B_PROBE || g_wl.kind == B_STREAM_SUM)) return 0;
    wl_free();
    size_t bytes = ic_probe_default_read_bytes() / (12 * 4096) * (12 * 4096);
    g_wl.w = ic_big_alloc(bytes);
    if (g_wl.w == NULL) {
        snprintf(err, errlen, "skipped: out of memory for a %zu MiB buffer", bytes >> 20);
        return -1;
    }
    g_wl.w_bytes = bytes;
    touch_ctx tc = {g_wl.w, bytes};
    ic_pool_run(g_b.pool, touch_task, &tc);
    g_wl.valid = 1;
    g_wl.kind = B_PROBE;
    return 0;
}

/* ---- the pool tasks ---- */
typedef struct {
    const bench_item *it;
} task_ctx;

/* A piece of the GEMV as the model runs it (ic_gemv_piece): with a four-runs entry, each
 * worker's share is walked as one set of four streams across its pieces. */
static void gemv_rows(void *arg, int tid, size_t b, size_t e) {
    const task_ctx *tc = arg;
    const bench_item *it = tc->it;
    ic_gemv_piece(it->kern, g_wl.w, g_wl.x, g_wl.y, it->k, it->m, ic_pool_threads(g_b.pool), tid, b,
                  e);
}

/* A GEMM as the model runs it: pieces of rows from the pool's row runner (ic_gemm_rows_chunk). */
static void gemm_rows(void *arg, int tid, size_t b, size_t e) {
    const bench_item *it = ((task_ctx *)arg)->it;
    (void)tid;
    it->kern->fn.gemm(g_wl.w, g_wl.x, g_wl.y, it->k, it->n, it->m, b, e);
}

/* A decode step as the model runs it: the positions split across workers, each taking all heads
 * over its span; the caller merges the spans (attn_step). */
static void attn_task(void *arg, int tid, int nt) {
    const bench_item *it = ((task_ctx *)arg)->it;
    const size_t kvd = (size_t)ATTN_KV_HEADS * ATTN_HEAD_DIM,
                 q = (size_t)ATTN_HEADS * ATTN_HEAD_DIM;
    const ic_attn_unit u =
        ic_attn_decode_unit(it->n, ATTN_HEADS, ATTN_KV_HEADS, (size_t)nt, (size_t)tid);
    if (u.pos_begin >= u.pos_end || u.head_begin >= u.head_end) return;
    const size_t b = u.pos_begin, rb = ic_row_bytes(it->wtype, kvd);
    ic_attn_shape s = {ATTN_HEADS, ATTN_KV_HEADS, ATTN_HEAD_DIM, u.pos_end - b, kvd};
    it->kern->fn.attention(g_wl.x, (const unsigned char *)g_wl.w + b * rb,
                           (const unsigned char *)g_wl.aux + b * rb,
                           u.spans == 1 ? g_wl.y : g_wl.part + u.span * q,
                           u.spans == 1 ? NULL : g_wl.lse + u.span * ATTN_HEADS,
                           g_wl.scratch + (size_t)tid * ic_attn_scratch_floats(ATTN_HEADS, g_wl.n),
                           &s, u.head_begin, u.head_end);
}

static void attn_step(task_ctx *tc) {
    ic_pool_run(g_b.pool, attn_task, tc);
    const size_t spans =
        ic_attn_decode_unit(tc->it->n, ATTN_HEADS, ATTN_KV_HEADS, (size_t)g_b.threads, 0).spans;
    if (spans > 1) ic_attn_merge(g_wl.part, g_wl.lse, spans, ATTN_HEADS, ATTN_HEAD_DIM, g_wl.y);
}

/* A prompt's attention on the calling thread: the kernel's prompt entry over all n rows (row r
 * at position r), or (m = 1) its decode entry once a row, as a forward pass without the prompt
 * entry runs it. */
static void attn_prompt(const bench_item *it) {
    const size_t kvd = (size_t)ATTN_KV_HEADS * ATTN_HEAD_DIM,
                 q = (size_t)ATTN_HEADS * ATTN_HEAD_DIM;
    ic_attn_shape s = {ATTN_HEADS, ATTN_KV_HEADS, ATTN_HEAD_DIM, 1, kvd};
    if (it->m == 0) {
        it->kern->attention_rows(g_wl.x, q, g_wl.w, g_wl.aux, g_wl.y, q, g_wl.scratch, &s, it->n);
        return;
    }
    for (size_t r = 0; r < it->n; r++) {
        s.n_pos = r + 1;
        it->kern->fn.attention(g_wl.x + r * q, g_wl.w, g_wl.aux, g_wl.y + r * q, NULL, g_wl.scratch,
                               &s, 0, ATTN_HEADS);
    }
}

static volatile double g_sink;

typedef struct {
    const float *a;
    float *out;
    const float *b, *c;
    size_t n;
    int triad;
    double part[64];
} stream_ctx;

static void stream_task(void *arg, int tid, int nt) {
    stream_ctx *c = arg;
    size_t b, e;
    ic_split_range(c->n, 1024, tid, nt, &b, &e);
    if (c->triad)
        ic_stream_triad(c->out, c->b, c->c, 0.5f, b, e);
    else
        c->part[tid & 63] += ic_stream_sum(c->a, b, e);
}

typedef struct {
    const ic_probe_loop *loop;
    unsigned char *buf;
    size_t bytes;
    uint64_t iters;
    double part[64];
} probe_task_ctx;

static void probe_task(void *arg, int tid, int nt) {
    probe_task_ctx *c = arg;
    double ops;
    if (c->loop->kind == IC_PROBE_READ) {
        size_t b, e;
        ic_split_range(c->bytes, 4096, tid, nt, &b, &e);
        c->part[tid & 63] += c->loop->read(c->buf + b, e - b);
    } else {
        c->part[tid & 63] += c->loop->peak(c->iters, &ops);
    }
}

/* ---- the benchmark body ---- */

/* Rates over the timed loop. Work spread over the pool is rated by wall-clock time measured
 * here (wall_s > 0): the library's own rates divide by the calling thread's CPU time, and its
 * wall-clock mode would rename every benchmark with a "/real_time" suffix. Single-thread ops
 * (wall_s = 0) use the library's rate flags, which exclude paused time. */
static void set_rates(ic_bench_state *st, double wall_s, double bytes, double flop, double tokens,
                      const char *flop_name) {
    double it = (double)ic_bench_iterations(st);
    if (wall_s > 0) {
        if (bytes > 0) ic_bench_set_counter(st, "bytes_per_second", bytes * it / wall_s, 0);
        if (flop > 0) ic_bench_set_counter(st, flop_name, flop * it / wall_s, 0);
        if (tokens > 0) ic_bench_set_counter(st, "tokens_per_second", tokens * it / wall_s, 0);
        return;
    }
    if (bytes > 0) ic_bench_set_bytes_processed(st, (int64_t)(bytes * it));
    if (flop > 0) ic_bench_set_counter(st, flop_name, flop * it, IC_COUNTER_RATE);
    if (tokens > 0) ic_bench_set_counter(st, "tokens_per_second", tokens * it, IC_COUNTER_RATE);
}

/* The timed loop of a pool benchmark, with its wall-clock time kept in wall_s for the rates. */
#define IC_WALL_LOOP(wall_s, body)                                                                 \
    do {                                                                                           \
        double t0_ = ic_now_s();                                                                   \
        while (ic_bench_keep_running(st)) body;                                                    \
        (wall_s) = ic_now_s() - t0_;                                                               \
    } while (0)

/* PAPI totals over the timed loop, summed over the workers, as per-iteration figures. */
static void report_counters(ic_bench_state *st, const ic_counters_sample *cs, double bytes) {
    ic_counter_figure f[8];
    int n = ic_counters_derive(cs, ic_bench_iterations(st), bytes, f);
    for (int i = 0; i < n; i++) ic_bench_set_counter(st, f[i].name, f[i].value, IC_COUNTER_DEFAULT);
}

/* The work of one iteration, for the rates, and the timed loop's wall-clock time (0 for the
 * single-thread ops). */
typedef struct {
    double bytes, flop, tokens, wall;
    const char *flop_name;
} loop_work;

/* "p16_" for a panel variant, so that its name differs from the row-major one of its ISA. */
static const char *layout_tag(const ic_kernel *k) {
    return k->layout == IC_LAYOUT_PANEL16 ? "p16_" : "";
}

/* The layout the item's weights are read in: its variant's (BLAS reads rows). */
static ic_layout matrix_layout(const bench_item *it) {
    return it->kern ? it->kern->layout : IC_LAYOUT_ROWS;
}

/* Builds (or reuses) the inputs of the item's kind. Returns 0 or -1 with a message. */
static int prepare_workload(const bench_item *it, char *err, size_t errlen) {
    switch (it->kind) {
    case B_GEMV:
    case B_SGEMV:
        return wl_matrix(it->kind, it->wtype, it->atype, matrix_layout(it), it->m, it->k, 1, err,
                         errlen);
    case B_GEMM:
    case B_SGEMM:
        return wl_matrix(it->kind, it->wtype, it->atype, matrix_layout(it), it->m, it->k, it->n,
                         err, errlen);
    case B_ATTN:
        return wl_attention(it->wtype, it->n, err, errlen);
    case B_ATTN_PROMPT:
        return wl_attn_prompt(it->wtype, it->n, err, errlen);
    case B_RMSNORM:
    case B_ROPE:
    case B_SOFTMAX:
    case B_SWIGLU:
    case B_QUANT:
    case B_DEQUANT:
        return wl_vector(it->kind, it->wtype, it->n, err, errlen);
    case B_PROBE:
        return it->loop->kind == IC_PROBE_READ ? wl_buffer(err, errlen) : 0;
    case B_STREAM_SUM:
    case B_STREAM_TRIAD:
        return wl_buffer(err, errlen);
    }
    return 0;
}

/* GEMV, GEMM, their OpenBLAS counterparts and attention, spread over the pool. Returns -1 when
 * the benchmark was skipped instead. */
static int time_pool_op(ic_bench_state *st, const bench_item *it, loop_work *w) {
    task_ctx tc = {it};
    switch (it->kind) {
    case B_GEMV:
        IC_WALL_LOOP(w->wall, ic_pool_run_rows(g_b.pool, it->m, it->kern->row_align,
                                               ic_rows_chunk(ic_row_bytes(it->kern->wtype, it->k)),
                                               gemv_rows, &tc));
        w->bytes =
            (double)g_wl.w_bytes + (double)ic_row_bytes(it->atype, it->k) + 4.0 * (double)it->m;
        w->flop = 2.0 * (double)it->m * (double)it->k;
        w->tokens = 1;
        break;
    case B_GEMM:
        IC_WALL_LOOP(w->wall, ic_pool_run_rows(g_b.pool, it->m, it->kern->row_align,
                                               ic_gemm_rows_chunk(), gemm_rows, &tc));
        w->bytes = (double)g_wl.w_bytes + (double)(ic_row_bytes(it->atype, it->k) * it->n) +
                   4.0 * (double)(it->m * it->n);
        w->flop = 2.0 * (double)it->m * (double)it->k * (double)it->n;
        w->tokens = (double)it->n;
        break;
#if IC_HAVE_OPENBLAS
    case B_SGEMV:
        openblas_set_num_threads(g_b.threads);
        IC_WALL_LOOP(w->wall, cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)it->m, (int)it->k, 1.0f,
                                          g_wl.w, (int)it->k, g_wl.x, 1, 0.0f, g_wl.y, 1));
        w->bytes = (double)g_wl.w_bytes + 4.0 * (double)(it->k + it->m);
        w->flop = 2.0 * (double)it->m * (double)it->k;
        w->tokens = 1;
        break;
    case B_SGEMM:
        openblas_set_num_threads(g_b.threads);
        /* Y (n x m) = X (n x k) W^T, W row-major m x k: the layout of our GEMM. */
        IC_WALL_LOOP(w->wall, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)it->n,
                                          (int)it->m, (int)it->k, 1.0f, g_wl.x, (int)it->k, g_wl.w,
                                          (int)it->k, 0.0f, g_wl.y, (int)it->m));
        w->bytes = (double)g_wl.w_bytes + 4.0 * (double)(it->k * it->n + it->m * it->n);
        w->flop = 2.0 * (double)it->m * (double)it->k * (double)it->n;
        w->tokens = (double)it->n;
        break;
#else
    case B_SGEMV:
    case B_SGEMM:
        ic_bench_skip(st, "unavailable: built without OpenBLAS");
        return -1;
#endif
    case B_ATTN: {
        IC_WALL_LOOP(w->wall, attn_step(&tc));
        /* both caches in their type, read once; the query and output in f32 */
        double kvb = 2.0 * (double)it->n *
                     (double)ic_row_bytes(it->wtype, (size_t)ATTN_KV_HEADS * ATTN_HEAD_DIM);
        w->bytes = kvb + 2.0 * ATTN_HEADS * ATTN_HEAD_DIM * 4.0;
        w->flop = 4.0 * ATTN_HEADS * ATTN_HEAD_DIM * (double)it->n; /* q.k and p.v */
        w->tokens = 1;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* The single-row ops, on the calling thread. */
static void time_row_op(ic_bench_state *st, const bench_item *it, loop_work *w) {
    switch (it->kind) {
    case B_RMSNORM:
        while (ic_bench_keep_running(st))
            it->kern->fn.rmsnorm(g_wl.x, g_wl.aux, g_wl.y, it->n, 1e-5f);
        w->bytes = 12.0 * (double)it->n;
        w->flop = 4.0 * (double)it->n;
        break;
    case B_ROPE:
        while (ic_bench_keep_running(st))
            it->kern->fn.rope(g_wl.x, ATTN_HEADS, it->n / ATTN_HEADS, 77, 500000.0f);
        w->bytes = 8.0 * (double)it->n;
        w->flop = 3.0 * (double)it->n;
        break;
    case B_SOFTMAX:
        while (ic_bench_keep_running(st)) {
            ic_bench_pause(st); /* softmax is in place: restore its input untimed */
            memcpy(g_wl.y, g_wl.aux, it->n * sizeof(float));
            ic_bench_resume(st);
            it->kern->fn.softmax(g_wl.y, it->n);
        }
        w->bytes = 8.0 * (double)it->n;
        break;
    case B_SWIGLU:
        while (ic_bench_keep_running(st)) it->kern->fn.swiglu(g_wl.x, g_wl.aux, g_wl.y, it->n);
        w->bytes = 12.0 * (double)it->n;
        break;
    case B_QUANT:
        while (ic_bench_keep_running(st)) it->kern->fn.quantize(g_wl.x, g_wl.aux, it->n);
        w->bytes = 4.0 * (double)it->n + (double)ic_row_bytes(it->wtype, it->n);
        break;
    case B_DEQUANT:
        while (ic_bench_keep_running(st)) it->kern->fn.dequantize(g_wl.x, g_wl.y, it->n);
        w->bytes = 4.0 * (double)it->n + (double)ic_row_bytes(it->wtype, it->n);
        break;
    case B_ATTN_PROMPT:
        while (ic_bench_keep_running(st)) attn_prompt(it);
        /* both caches in their type, read once; queries and outputs in f32 */
        w->bytes = 2.0 * (double)it->n *
                       (double)ic_row_bytes(it->wtype, (size_t)ATTN_KV_HEADS * ATTN_HEAD_DIM) +
                   2.0 * (double)it->n * ATTN_HEADS * ATTN_HEAD_DIM * 4.0;
        /* q.k and p.v of row r over its r + 1 positions */
        w->flop = 4.0 * ATTN_HEADS * ATTN_HEAD_DIM * (double)it->n * (double)(it->n + 1) / 2.0;
        w->tokens = (double)it->n;
        break;
    default:
        break;
    }
}

/* A read-bandwidth or peak-compute probe loop on every worker. */
static void time_probe(ic_bench_state *st, const bench_item *it, loop_work *w) {
    probe_task_ctx pc = {.loop = it->loop};
    if (it->loop->kind == IC_PROBE_READ) {
        pc.buf = g_wl.w;
        pc.bytes = g_wl.w_bytes;
        w->bytes = (double)pc.bytes;
    } else {
        /* About a millisecond of work per iteration. */
        double ops;
        it->loop->peak(1, &ops);
        pc.iters = 1u << 18;
        w->flop = ops * (double)pc.iters * g_b.threads;
        w->flop_name = it->loop->kind == IC_PROBE_INT8 ? "op_per_second" : "flop_per_second";
    }
    IC_WALL_LOOP(w->wall, ic_pool_run(g_b.pool, probe_task, &pc));
    g_sink = pc.part[0];
}

/* The STREAM-style sum or triad over the probes' buffer. */
static void time_stream(ic_bench_state *st, const bench_item *it, loop_work *w) {
    size_t total = g_wl.w_bytes;
    float *buf = g_wl.w;
    stream_ctx sc = {.n = total / 4};
    if (it->kind == B_STREAM_TRIAD) {
        sc.triad = 1;
        sc.n = total / 12;
        sc.out = buf;
        sc.b = buf + sc.n;
        sc.c = buf + 2 * sc.n;
    } else {
        sc.a = buf;
    }
    IC_WALL_LOOP(w->wall, ic_pool_run(g_b.pool, stream_task, &sc));
    w->bytes = (double)total;
    g_sink = sc.part[0];
}

static void bench_body(ic_bench_state *st, void *user) {
    bench_item *it = user;
    char err[256];
    if (it->skip) {
        ic_bench_skip(st, it->skip_buf);
        return;
    }
    if (prepare_workload(it, err, sizeof err) != 0) {
        ic_bench_skip(st, err);
        return;
    }
    loop_work w = {.flop_name = "flop_per_second"};
    ic_counters_sample cs;
    int counting = g_b.ctr != NULL && ic_counters_start(g_b.ctr) == 0;
    switch (it->kind) {
    case B_GEMV:
    case B_GEMM:
    case B_SGEMV:
    case B_SGEMM:
    case B_ATTN:
        if (time_pool_op(st, it, &w) != 0) return;
        break;
    case B_RMSNORM:
    case B_ROPE:
    case B_SOFTMAX:
    case B_SWIGLU:
    case B_QUANT:
    case B_DEQUANT:
    case B_ATTN_PROMPT:
        time_row_op(st, it, &w);
        break;
    case B_PROBE:
        time_probe(st, it, &w);
        break;
    case B_STREAM_SUM:
    case B_STREAM_TRIAD:
        time_stream(st, it, &w);
        break;
    }
    if (counting && ic_counters_stop(g_b.ctr, &cs) == 0) report_counters(st, &cs, w.bytes);
    set_rates(st, w.wall, w.bytes, w.flop, w.tokens, w.flop_name);
}

/* ---- registration ---- */
static bench_item *g_items;
static size_t g_nitems, g_capitems;

static bench_item *new_item(bench_kind kind) {
    if (g_nitems == g_capitems) {
        size_t cap = g_capitems ? 2 * g_capitems : 256;
        bench_item *n = realloc(g_items, cap * sizeof *n);
        if (n == NULL) return NULL;
        g_items = n;
        g_capitems = cap;
    }
    bench_item *it = &g_items[g_nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    return it;
}

/* 1, with "skipped: <variant>: <why>" in it->skip_buf, when a kernel variant cannot run here
 * (ic_kernel_why_unusable); else 0. */
static int kernel_skip(const ic_kernel *k, bench_item *it) {
    ic_level cap;
    char e[256], why[128];
    ic_level_cap(&cap, e, sizeof e);
    if (ic_kernel_why_unusable(k, ic_cpu()->features, cap, why, sizeof why) == NULL) return 0;
    snprintf(it->skip_buf, sizeof it->skip_buf, "skipped: %s: %s", k->name, why);
    return 1;
}

/* Items are collected first and registered in one pass afterwards (register_all), so growing
 * the array never moves an item that the library already points to. */
static int add(bench_kind kind, const char *name, argset args, bench_item proto) {
    bench_item *it = new_item(kind);
    if (it == NULL) return -1;
    *it = proto;
    it->kind = kind;
    snprintf(it->name, sizeof it->name, "%s", name);
    it->args = args;
    return 0;
}

/* Decode GEMV, shape by shape, so each weight matrix is built once for all its variants. */
static int collect_gemv(const ic_kernel *table, size_t nk, int T) {
    char name[96];
    for (size_t s = 0; s < sizeof g_gemv_shapes / sizeof g_gemv_shapes[0]; s++) {
        for (int t = 0; t < IC_DT_COUNT; t++) {
            if (!ic_dtype_is_weight((ic_dtype)t)) continue;
            for (size_t i = 0; i < nk; i++) {
                const ic_kernel *k = &table[i];
                if (k->op != IC_OP_GEMV || k->wtype != (ic_dtype)t || !ic_level_is_native(k->level))
                    continue;
                bench_item p = {.kern = k,
                                .wtype = k->wtype,
                                .atype = k->atype,
                                .m = g_gemv_shapes[s][0],
                                .k = g_gemv_shapes[s][1]};
                p.skip = kernel_skip(k, &p);
                argset a = {0};
                arg_add(&a, "m", (int64_t)p.m);
                arg_add(&a, "k", (int64_t)p.k);
                arg_add(&a, "threads", T);
                snprintf(name, sizeof name, "gemv/%s/%s%s", ic_dtype_name(k->wtype), layout_tag(k),
                         k->isa);
                if (add(B_GEMV, name, a, p)) return -1;
            }
            if (t == IC_DT_F32) {
                bench_item p = {.wtype = IC_DT_F32,
                                .atype = IC_DT_F32,
                                .m = g_gemv_shapes[s][0],
                                .k = g_gemv_shapes[s][1]};
                argset a = {0};
                arg_add(&a, "m", (int64_t)p.m);
                arg_add(&a, "k", (int64_t)p.k);
                arg_add(&a, "threads", T);
                if (add(B_SGEMV, "blas/sgemv", a, p)) return -1;
            }
        }
    }
    return 0;
}

/* Prefill GEMM. */
static int collect_gemm(const ic_kernel *table, size_t nk, int T) {
    char name[96];
    for (size_t sh = 0; sh < sizeof g_gemm_mk / sizeof g_gemm_mk[0]; sh++)
        for (size_t s = 0; s < sizeof g_gemm_n / sizeof g_gemm_n[0]; s++) {
            for (int t = 0; t < IC_DT_COUNT; t++) {
                if (!ic_dtype_is_weight((ic_dtype)t)) continue;
                for (size_t i = 0; i < nk; i++) {
                    const ic_kernel *k = &table[i];
                    if (k->op != IC_OP_GEMM || k->wtype != (ic_dtype)t ||
                        !ic_level_is_native(k->level) || (sh > 0 && k->level == IC_LVL_REF))
                        continue;
                    bench_item p = {.kern = k,
                                    .wtype = k->wtype,
                                    .atype = k->atype,
                                    .m = g_gemm_mk[sh][0],
                                    .k = g_gemm_mk[sh][1],
                                    .n = g_gemm_n[s]};
                    p.skip = kernel_skip(k, &p);
                    argset a = {0};
                    arg_add(&a, "m", (int64_t)p.m);
                    arg_add(&a, "k", (int64_t)p.k);
                    arg_add(&a, "n", (int64_t)p.n);
                    arg_add(&a, "threads", T);
                    snprintf(name, sizeof name, "gemm/%s/%s%s", ic_dtype_name(k->wtype),
                             layout_tag(k), k->isa);
                    if (add(B_GEMM, name, a, p)) return -1;
                }
                if (t == IC_DT_F32) {
                    bench_item p = {.wtype = IC_DT_F32,
                                    .atype = IC_DT_F32,
                                    .m = g_gemm_mk[sh][0],
                                    .k = g_gemm_mk[sh][1],
                                    .n = g_gemm_n[s]};
                    argset a = {0};
                    arg_add(&a, "m", (int64_t)p.m);
                    arg_add(&a, "k", (int64_t)p.k);
                    arg_add(&a, "n", (int64_t)p.n);
                    arg_add(&a, "threads", T);
                    if (add(B_SGEMM, "blas/sgemm", a, p)) return -1;
                }
            }
        }
    return 0;
}

/* The native attention variant at i of nk * IC_DT_COUNT, taking the table type by type (so that
 * each shape's caches are built once per KV type), or NULL. */
static const ic_kernel *attention_variant(const ic_kernel *table, size_t nk, size_t i) {
    const ic_kernel *k = &table[i % nk];
    return k->op == IC_OP_ATTENTION && k->wtype == (ic_dtype)(i / nk) &&
                   ic_level_is_native(k->level)
               ? k
               : NULL;
}

/* The attention benchmarks' arguments: the length (ctx or rows), the shape, the threads. */
static argset attention_args(const char *len_name, size_t len, int threads) {
    argset a = {0};
    arg_add(&a, len_name, (int64_t)len);
    arg_add(&a, "heads", ATTN_HEADS);
    arg_add(&a, "kv_heads", ATTN_KV_HEADS);
    arg_add(&a, "head_dim", ATTN_HEAD_DIM);
    arg_add(&a, "threads", threads);
    return a;
}

/* Decode attention at each context, every variant; then a prompt's attention, one thread, for
 * the variants with a prompt entry: that entry, and the same variant's decode entry once a row
 * beside it. */
static int collect_attention(const ic_kernel *table, size_t nk, int T) {
    char name[96];
    for (size_t c = 0; c < sizeof g_attn_ctx / sizeof g_attn_ctx[0]; c++)
        for (size_t i = 0; i < nk * IC_DT_COUNT; i++) {
            const ic_kernel *k = attention_variant(table, nk, i);
            if (!k) continue;
            bench_item p = {.kern = k, .wtype = k->wtype, .atype = IC_DT_F32, .n = g_attn_ctx[c]};
            p.skip = kernel_skip(k, &p);
            snprintf(name, sizeof name, "attention/%s/%s", ic_dtype_name(k->wtype), k->isa);
            if (add(B_ATTN, name, attention_args("ctx", p.n, T), p)) return -1;
        }
    for (size_t c = 0; c < sizeof g_attn_prompt / sizeof g_attn_prompt[0]; c++)
        for (size_t i = 0; i < nk * IC_DT_COUNT; i++) {
            const ic_kernel *k = attention_variant(table, nk, i);
            if (!k || !k->attention_rows) continue;
            for (size_t per_row = 0; per_row < 2; per_row++) {
                bench_item p = {.kern = k, .wtype = k->wtype, .m = per_row, .n = g_attn_prompt[c]};
                p.skip = kernel_skip(k, &p);
                snprintf(name, sizeof name, "attention_prompt/%s/%s%s", ic_dtype_name(k->wtype),
                         k->isa, per_row ? "/per_row" : "");
                if (add(B_ATTN_PROMPT, name, attention_args("rows", p.n, 1), p)) return -1;
            }
        }
    return 0;
}

/* Norms, elementwise ops and conversions: every variant of the untyped and conversion ops, in
 * table order. */
static int collect_row_ops(const ic_kernel *table, size_t nk) {
    char name[96];
    for (size_t i = 0; i < nk; i++) {
        const ic_kernel *k = &table[i];
        if (!ic_level_is_native(k->level)) continue;
        bench_kind kind;
        switch (k->op) {
        case IC_OP_RMSNORM:
            kind = B_RMSNORM;
            break;
        case IC_OP_ROPE:
            kind = B_ROPE;
            break;
        case IC_OP_SOFTMAX:
            kind = B_SOFTMAX;
            break;
        case IC_OP_SWIGLU:
            kind = B_SWIGLU;
            break;
        case IC_OP_QUANTIZE:
            kind = B_QUANT;
            break;
        case IC_OP_DEQUANTIZE:
            kind = B_DEQUANT;
            break;
        default:
            continue;
        }
        bench_item p = {.kern = k, .wtype = k->wtype, .n = ELEM_N};
        p.skip = kernel_skip(k, &p);
        argset a = {0};
        arg_add(&a, "n", ELEM_N);
        arg_add(&a, "threads", 1); /* one row: a pool hand-off would cost more than the op */
        if (ic_op_is_typed(k->op))
            snprintf(name, sizeof name, "%s/%s/%s", ic_op_name(k->op), ic_dtype_name(k->wtype),
                     k->isa);
        else
            snprintf(name, sizeof name, "%s/%s", ic_op_name(k->op), k->isa);
        if (add(kind, name, a, p)) return -1;
    }
    return 0;
}

/* The probes, and the STREAM-style loops the read probe is held against. */
static int collect_probes(int T) {
    char name[96];
    size_t nl;
    const ic_probe_loop *loops = ic_probe_loops(&nl);
    static const char *const kind_names[] = {"read_bw", "peak_f32", "peak_bf16", "peak_int8"};
    for (size_t i = 0; i < nl; i++) {
        bench_item p = {.loop = &loops[i]};
        if (!ic_probe_loop_usable(&loops[i])) {
            snprintf(p.skip_buf, sizeof p.skip_buf,
                     "skipped: probe %s needs CPU features this host lacks (%s)", loops[i].name,
                     loops[i].isa);
            p.skip = 1;
        }
        argset a = {0};
        arg_add(&a, "threads", T);
        snprintf(name, sizeof name, "probe/%s/%s", kind_names[loops[i].kind], loops[i].name);
        if (add(B_PROBE, name, a, p)) return -1;
    }
    argset a = {0};
    arg_add(&a, "threads", T);
    bench_item p = {0};
    if (add(B_STREAM_SUM, "probe/stream_sum/c", a, p)) return -1;
    if (add(B_STREAM_TRIAD, "probe/stream_triad/c", a, p)) return -1;
    return 0;
}

/* Every benchmark, in the order they are listed and run. */
static int collect(void) {
    size_t nk;
    const ic_kernel *table = ic_kernel_table(&nk);
    int T = g_b.threads;
    if (collect_gemv(table, nk, T) || collect_gemm(table, nk, T) ||
        collect_attention(table, nk, T) || collect_row_ops(table, nk) || collect_probes(T))
        return -1;
    return 0;
}

static int register_all(char *err, size_t errlen) {
    for (size_t i = 0; i < g_nitems; i++) {
        bench_item *it = &g_items[i];
        ic_bench_config cfg = {.n_args = it->args.n};
        for (int j = 0; j < cfg.n_args; j++) {
            cfg.args[j] = it->args.v[j];
            cfg.arg_names[j] = it->args.names[j];
        }
        if (ic_bench_register(it->name, bench_body, it, &cfg, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- context ---- */

static void add_context(const char *counters_note) {
    char buf[1024];
    const ic_cpu_info *cpu = ic_cpu();
    size_t used = 0;
    buf[0] = '\0';
    for (int b = 0; b < IC_FEATURE_COUNT && used < sizeof buf; b++)
        if (cpu->features >> b & 1)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", used ? " " : "",
                                     ic_feature_name(1ull << b));
    ic_bench_add_context("infercost_version", IC_VERSION);
    ic_bench_add_context("infercost_git_commit", IC_GIT_COMMIT);
    ic_bench_add_context("provenance", "measured on this host");
    ic_bench_add_context("cpu_model", cpu->model_name);
    ic_bench_add_context("cpu_features", buf);
    ic_isa_cap_describe(cpu->features, buf, sizeof buf);
    ic_bench_add_context("isa_cap", buf);
    snprintf(buf, sizeof buf, "%d", g_b.threads);
    ic_bench_add_context("threads", buf);
    ic_bench_add_context("thread_binding", ic_bind_name(ic_pool_binding(g_b.pool)));
    ic_bench_add_context("thread_binding_detail", ic_pool_binding_detail(g_b.pool));
    const ic_topology *t = ic_topology_get();
    snprintf(buf, sizeof buf, "%d cores, %d PUs, %d NUMA nodes, LLC %zu MiB (%s)", t->cores, t->pus,
             t->numa_nodes, ic_topology_llc_bytes(t) >> 20, t->source);
    ic_bench_add_context("topology", buf);
    char why[256];
    if (!ic_instance_detect(NULL, buf, sizeof buf, why, sizeof why))
        snprintf(buf, sizeof buf, "%s", why);
    ic_bench_add_context("instance_type", buf);
    ic_bench_add_context("lib_benchmark", ic_bench_library_version());
    ic_bench_add_context("lib_hwloc", IC_HAVE_HWLOC ? ic_topology_hwloc_version()
                                                    : "unavailable: built without hwloc");
#if IC_HAVE_OPENBLAS
    snprintf(buf, sizeof buf, "%s", openblas_get_config());
    ic_bench_add_context("lib_openblas", buf);
#else
    ic_bench_add_context("lib_openblas", "unavailable: built without OpenBLAS");
#endif
    ic_bench_add_context("lib_papi", ic_counters_library_version());
    ic_bench_add_context("hardware_counters", counters_note);
}

/* ---- the command ---- */

/* Parses our own options (own[0..nown)); sets *help when --help printed the usage. Returns
 * IC_EXIT_OK or the exit status of a usage error, already printed. */
static int parse_options(int nown, char **own, int *threads, ic_bind *bind, int *help) {
    static const struct option opts[] = {{"threads", required_argument, 0, 't'},
                                         {"bind", required_argument, 0, 'b'},
                                         {"counters", no_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nown, own, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > 4096)
                return ic_usage_error("bench", g_usage,
                                      "--threads '%s': expected a whole number from 1 to 4096",
                                      optarg);
            *threads = (int)v;
            break;
        }
        case 'b':
            if (ic_bind_parse(optarg, bind) != 0)
                return ic_usage_error("bench", g_usage, "--bind '%s': expected none, core or numa",
                                      optarg);
            break;
        case 'c':
            g_b.counters = 1;
            break;
        case 'h':
            fputs(g_usage, stdout);
            *help = 1;
            return IC_EXIT_OK;
        default:
            return ic_option_error("bench", g_usage, opts, own, optind);
        }
    }
    if (optind < nown)
        return ic_usage_error("bench", g_usage, "unexpected argument '%s'", own[optind]);
    return IC_EXIT_OK;
}

enum { COUNTERS_NOTE = 256 };

/* Opens the hardware counters when --counters asked for them; note (COUNTERS_NOTE bytes) says
 * for the context what came of it. */
static void open_counters(char *note) {
    snprintf(note, COUNTERS_NOTE, "%s", "not asked (--counters)");
    if (!g_b.counters) return;
    if (ic_counters_open(&g_b.ctr, g_b.pool, note, COUNTERS_NOTE) != 0) {
        fprintf(stderr, "infercost bench: hardware counters unavailable: %s\n", note);
        char tmp[COUNTERS_NOTE + 16];
        snprintf(tmp, sizeof tmp, "unavailable: %s", note);
        snprintf(note, COUNTERS_NOTE, "%.*s", COUNTERS_NOTE - 1, tmp);
    }
}

/* The pool, the counters, the context and every benchmark registered. Returns an exit status,
 * the error printed. */
static int set_up(int threads, ic_bind bind) {
    char err[512];
    if (ic_pool_create(&g_b.pool, threads, bind, err, sizeof err) != 0) {
        ic_error("bench: %s", err);
        return bind != IC_BIND_NONE ? IC_EXIT_USAGE : IC_EXIT_FAIL;
    }
    g_b.threads = threads;
    char note[COUNTERS_NOTE];
    open_counters(note);
    add_context(note);
    if (collect() != 0) {
        ic_error("bench: out of memory registering benchmarks");
        return IC_EXIT_FAIL;
    }
    if (register_all(err, sizeof err) != 0) {
        ic_error("bench: %s", err);
        return IC_EXIT_FAIL;
    }
    return IC_EXIT_OK;
}

/* Runs what the library's flags (gb[0..ngb)) select. Returns an exit status, the error printed. */
static int run_selected(int ngb, char **gb, int threads) {
    char err[512];
    int listing = 0;
    for (int i = 1; i < ngb; i++)
        if (strcmp(gb[i], "--benchmark_list_tests") == 0 ||
            strcmp(gb[i], "--benchmark_list_tests=true") == 0)
            listing = 1;
        else if (strncmp(gb[i], "--benchmark_list_tests=", 23) == 0)
            listing = 0;
    int n = ic_bench_run(ngb, gb, NULL, NULL, err, sizeof err);
    if (n < 0) {
        ic_error("bench: %s", err);
        return n == IC_BENCH_BAD_FLAGS ? IC_EXIT_USAGE : IC_EXIT_FAIL;
    }
    if (n == 0 && !listing) {
        ic_error("bench: no benchmark matched the filter (names look like "
                 "gemv/q8_0/ref/m:4096/k:4096/threads:%d; try --benchmark_list_tests)",
                 threads);
        return IC_EXIT_USAGE;
    }
    return IC_EXIT_OK;
}

/* Releases the library's registrations, the workload, the counters, the pool and the items, so
 * the command can run again in the same process. */
static void tear_down(void) {
    ic_bench_clear();
    wl_free();
    ic_counters_close(g_b.ctr);
    g_b.ctr = NULL;
    g_b.counters = 0;
    ic_pool_destroy(g_b.pool);
    g_b.pool = NULL;
    free(g_items);
    g_items = NULL;
    g_nitems = g_capitems = 0;
}

int ic_cmd_bench(int argc, char **argv) {
    /* Google Benchmark's flags go to the library untouched; the rest are ours. */
    char **own = calloc((size_t)argc + 1, sizeof *own);
    char **gb = calloc((size_t)argc + 3, sizeof *gb);
    if (own == NULL || gb == NULL) {
        free(own);
        free(gb);
        ic_error("bench: out of memory");
        return IC_EXIT_FAIL;
    }
    int nown = 0, ngb = 0;
    own[nown++] = argv[0];
    gb[ngb++] = argv[0];
    gb[ngb++] = "--benchmark_min_time=0.1"; /* the default here; a later flag wins */
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--benchmark_", 12) == 0 || strncmp(argv[i], "--v=", 4) == 0)
            gb[ngb++] = argv[i];
        else
            own[nown++] = argv[i];
    }
    int threads = 0, help = 0;
    ic_bind bind = IC_HAVE_HWLOC ? IC_BIND_CORE : IC_BIND_NONE;
    int rc = parse_options(nown, own, &threads, &bind, &help);
    if (rc != IC_EXIT_OK || help) goto out;
    if ((rc = ic_cli_check_isa()) != 0) goto out;
    if (threads == 0) threads = ic_default_threads();
    if ((rc = set_up(threads, bind)) != IC_EXIT_OK) goto out;
    rc = run_selected(ngb, gb, threads);
out:
    tear_down();
    free(own);
    free(gb);
    return rc;
}

#endif
