/* The forward pass on synthetic weights. One code path serves decode (1 row, GEMV), prefill
 * (n rows of one sequence at positions 0..n-1, GEMM) and batched decode (row b is sequence b at a
 * common position, GEMM). Q, K and V are one matrix, and so are gate and up, so that each input
 * is quantized once and each matrix is one pool task over its rows. */
#define _GNU_SOURCE
#include "forward.h"
#include "checked.h"
#include "clock.h"
#include "ic_config.h"
#include "probes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if IC_HAVE_OPENBLAS
#include <cblas.h>
#endif

static const char *const g_fop_names[] = {
#define IC_X(id, s) s,
    IC_FOP_LIST(IC_X)
#undef IC_X
};

const char *ic_fop_name(ic_fop op) {
    return (op >= 0 && op < IC_FOP_COUNT) ? g_fop_names[op] : NULL;
}

int ic_kset_select(ic_kset *ks, ic_dtype wtype, ic_dtype kvtype, uint64_t features, ic_level cap,
                   char *err, size_t errlen) {
    memset(ks, 0, sizeof *ks);
    if (!ic_dtype_is_kv(kvtype)) {
        snprintf(err, errlen, "%s is not a KV-cache type (f16, bf16, f32 or q8_0)",
                 ic_dtype_name(kvtype) ? ic_dtype_name(kvtype) : "(invalid)");
        return -1;
    }
    ks->gemv = ic_select_for(IC_OP_GEMV, wtype, features, cap);
    ks->gemm = ic_select_for(IC_OP_GEMM, wtype, features, cap);
    ks->gemv_f32 = ic_select_for(IC_OP_GEMV, IC_DT_F32, features, cap);
    ks->embed = ic_select_for(IC_OP_DEQUANTIZE, wtype, features, cap);
    ks->rmsnorm = ic_select_for(IC_OP_RMSNORM, IC_DT_F32, features, cap);
    ks->rope = ic_select_for(IC_OP_ROPE, IC_DT_F32, features, cap);
    ks->swiglu = ic_select_for(IC_OP_SWIGLU, IC_DT_F32, features, cap);
    ks->attention = ic_select_for(IC_OP_ATTENTION, kvtype, features, cap);
    ks->kv_quant = ic_select_for(IC_OP_QUANTIZE, kvtype, features, cap);
    if (ks->gemv && ks->gemm && ks->gemv->layout != ks->gemm->layout) {
        /* one copy of the weights: the GEMV reads the GEMM's layout, else the GEMM the GEMV's */
        const ic_kernel *v = ic_select_layout(IC_OP_GEMV, wtype, ks->gemm->layout, features, cap);
        if (v)
            ks->gemv = v;
        else
            ks->gemm = ic_select_layout(IC_OP_GEMM, wtype, ks->gemv->layout, features, cap);
    }
    if (ks->gemv) ks->quant_gemv = ic_select_for(IC_OP_QUANTIZE, ks->gemv->atype, features, cap);
    if (ks->gemm) ks->quant_gemm = ic_select_for(IC_OP_QUANTIZE, ks->gemm->atype, features, cap);
    const ic_kernel *all[] = {ks->gemv,     ks->gemm,      ks->quant_gemv, ks->quant_gemm,
                              ks->gemv_f32, ks->embed,     ks->rmsnorm,    ks->rope,
                              ks->swiglu,   ks->attention, ks->kv_quant};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] == NULL) {
            snprintf(err, errlen, "no usable kernel for op %zu of the %s forward pass", i,
                     ic_dtype_name(wtype));
            return -1;
        }
    return 0;
}

void ic_kset_describe(const ic_kset *ks, char *out, size_t len) {
    const ic_kernel *all[] = {ks->gemv,       ks->gemm,      ks->quant_gemv,
                              ks->quant_gemm, ks->attention, ks->kv_quant,
                              ks->rmsnorm,    ks->rope,      ks->swiglu};
    const size_t n = sizeof all / sizeof all[0];
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) seen |= all[j] == all[i];
        if (!seen)
            used +=
                (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", all[i]->name);
    }
}

/* One layer's weights; matrices are row-major in the model's type. */
typedef struct {
    float *attn_norm, *ffn_norm;
    void *wqkv;    /* (qd + 2 kvd) x d */
    void *wo;      /* d x qd */
    float *router; /* n_expert x d, f32 */
    void **w_gu;   /* per expert: 2 d_ff x d (gate rows, then up rows) */
    void **w_down; /* per expert: d x d_ff */
} layer_w;

struct ic_forward {
    ic_model m;
    ic_fwd_config cfg;
    ic_kset ks;
    ic_pool *pool;
    int nthreads;
    ic_layout wl; /* the weight matrices' layout: the GEMV's and GEMM's (ic_kset_select) */
    size_t d, qd, kvd, ff, vocab, n_exp, n_exp_slots;
    size_t qkv_rows;
    /* weights */
    unsigned char *arena;
    size_t arena_bytes, kv_bytes;
    void *embed, *lm_head;
    ic_layout embed_layout; /* the LM head's when tied, else rows */
    float *out_norm;
    layer_w *layers;
    void **expert_ptrs;
    /* KV caches in the KV type (cfg.kv_dtype), kv_row bytes a position: sequence s, layer l: K at
     * byte kv_base[s] + l * 2 * cap[s] * kv_row, V after it. */
    unsigned char *kv;
    size_t *kv_base, *kv_cap;
    size_t kv_row;
    size_t n_seq;
    /* activations, max_rows rows each */
    float *x, *xn, *qkv, *attn, *gu, *out, *logits, *scratch, *moe_acc, *moe_in;
    float *attn_part, *attn_lse; /* per span: a decode step's attention over its positions */
    float *router_logits;
    void *xq;      /* max_rows rows of the widest input, in the widest activation type */
    size_t xq_row; /* bytes per row of xq */
    size_t scratch_stride;
    uint32_t *moe_rows; /* rows routed to one expert */
    uint32_t *moe_sel;  /* per row: n_exp_used chosen experts */
    float *moe_wt;      /* per row: their weights */
    /* per-op timing */
    double op_ns[IC_FOP_COUNT];
    double layers_ns;        /* of which inside the layer loop, for extrapolating a slice */
    double quant_ns_pending; /* quantize time inside the op being timed, charged to QUANTIZE */
    uint64_t clock_reads;
    uint64_t reads_per_step;
};

#define OP_BEGIN() double op_t0_ = ic_now_ns()
#define OP_END(op)                                                                                 \
    do {                                                                                           \
        double op_t1_ = ic_now_ns();                                                               \
        f->op_ns[IC_FOP_##op] += op_t1_ - op_t0_ - f->quant_ns_pending;                            \
        f->quant_ns_pending = 0;                                                                   \
        f->clock_reads += 2;                                                                       \
        op_t0_ = op_t1_;                                                                           \
    } while (0)
#define OP_NEXT(op) OP_END(op)

/* ---- sizes ---- */

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

/* A weight matrix's bytes in the pass's layout. Sizes of the weight arena go through the
 * saturating helpers: the shape was capped by ic_model_validate, and these keep a shape that
 * slipped past it from wrapping silently. */
static uint64_t wmat_bytes(const ic_forward *f, uint64_t rows, uint64_t k) {
    return ic_layout_bytes(f->wl, f->m.dtype, (size_t)rows, (size_t)k);
}

/* Rows of a block of a prompt's attention when the chosen kernel has a prompt entry that takes the
 * model's heads (ic_attention_rows_fn), else 0: one call a row. */
static size_t prompt_block_rows(const ic_kset *ks, const ic_model *m) {
    return ks->attention->attention_rows ? ic_attn_rows_block(m->n_head, m->n_head_kv) : 0;
}

static size_t atype_row_max(const ic_kset *ks, size_t k) {
    size_t a = ic_row_bytes(ks->gemv->atype, k), b = ic_row_bytes(ks->gemm->atype, k);
    size_t c = k * sizeof(float);
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* Sizes in the order ic_forward_create lays them out; also used for planning. A NULL kset sizes
 * activations for the widest type (f32). */
static int layout(const ic_fwd_config *cfg, int nthreads, ic_fwd_bytes *b, char *err,
                  size_t errlen) {
    const ic_model *m = cfg->model;
    if (cfg->n_layer_run < 1 || cfg->n_layer_run > m->n_layer || cfg->max_rows < 1 ||
        cfg->batch_seqs < 1 || cfg->ctx_cap < 1) {
        snprintf(err, errlen, "forward pass: bad configuration (layers %u of %u, rows %zu)",
                 cfg->n_layer_run, m->n_layer, cfg->max_rows);
        return -1;
    }
    uint64_t d = m->d_model, ff = m->d_ff, qd = (uint64_t)m->n_head * m->head_dim;
    uint64_t kvd = (uint64_t)m->n_head_kv * m->head_dim, vocab = m->n_vocab;
    if (ic_model_total_bytes(m) > IC_MODEL_MAX_BYTES) {
        snprintf(err, errlen, "forward pass: %s's weights exceed the cap of %llu bytes", m->name,
                 (unsigned long long)IC_MODEL_MAX_BYTES);
        return -1;
    }
    /* alignment slack per matrix, and the zero rows that fill a matrix's last 16-row panel */
    const uint64_t widest_row = d > ff ? (d > qd ? d : qd) : (ff > qd ? ff : qd);
    const uint64_t pad =
        ic_size_add(ic_size_mul(IC_PANEL_ROWS, ic_row_bytes(m->dtype, widest_row)), 128);
    const uint64_t per_layer = 2 + 2 * (uint64_t)(m->n_expert ? m->n_expert : 1);
    uint64_t layer = ic_size_add(ic_model_layer_bytes(m), ic_size_mul(per_layer, pad));
    b->weights = ic_size_add(ic_size_mul(cfg->n_layer_run, layer),
                             ic_size_add(ic_model_nonlayer_bytes(m), ic_size_mul(3, pad)));
    /* KV: sequence 0 holds ctx_cap positions, the others batch_ctx_cap. Doubles avoid overflow
     * on absurd requests; the caller compares with memory anyway. */
    if (ic_attn_check_kv(cfg->kv_dtype, m->head_dim, err, errlen)) return -1;
    double kv = (double)cfg->n_layer_run * 2.0 * (double)ic_row_bytes(cfg->kv_dtype, kvd) *
                ((double)cfg->ctx_cap + (double)(cfg->batch_seqs - 1) * (double)cfg->batch_ctx_cap);
    double rows = (double)cfg->max_rows;
    double widest = (double)(d > ff ? d : ff);
    if (qd > widest) widest = (double)qd;
    double act = rows * sizeof(float) *
                     ((double)d * 3 + (double)(qd + 2 * kvd) + (double)qd + 2.0 * (double)ff +
                      (double)d * 2 + (double)m->n_expert) +
                 rows * widest * sizeof(float) + /* quantized activations (f32 is the widest) */
                 (double)nthreads * ((double)cfg->ctx_cap + 16) * sizeof(float) +
                 /* logits: one row per batch sequence (prefill keeps only its last token's) */
                 (double)cfg->batch_seqs * (double)vocab * sizeof(float) + 4096.0 * 16;
    if (kv > 1e18 || act > 1e18) {
        snprintf(err, errlen, "forward pass: the request is absurdly large");
        return -1;
    }
    b->kv_cache = (uint64_t)kv;
    b->activations = (uint64_t)act;
    b->total = b->weights + b->kv_cache + b->activations;
    return 0;
}

int ic_forward_bytes(const ic_fwd_config *cfg, int nthreads, ic_fwd_bytes *out, char *err,
                     size_t errlen) {
    return layout(cfg, nthreads, out, err, errlen);
}

/* ---- synthetic data ---- */

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fills one row of k values of type t, uniform in [-a, a] (quantized types: random codes and a
 * scale that gives that range), from a stream seeded by (seed, id, row) so that the contents do
 * not depend on the thread count. */
static void fill_row(void *dst, ic_dtype t, size_t k, float a, uint64_t seed, uint64_t id,
                     uint64_t row) {
    uint64_t s = mix64(seed ^ mix64(id * 0x9e3779b97f4a7c15ull + row));
    switch (t) {
    case IC_DT_F32:
    case IC_DT_BF16:
    case IC_DT_F16:
        for (size_t j = 0; j < k; j++) {
            s += 0x9e3779b97f4a7c15ull;
            float v = (float)((double)(mix64(s) >> 11) * 0x1.0p-53 * 2.0 - 1.0) * a;
            if (t == IC_DT_F32)
                ((float *)dst)[j] = v;
            else if (t == IC_DT_BF16)
                ((uint16_t *)dst)[j] = ic_f32_to_bf16(v);
            else
                ((uint16_t *)dst)[j] = ic_f32_to_fp16(v);
        }
        break;
    case IC_DT_Q8_0: {
        ic_block_q8_0 *b = dst;
        uint16_t d = ic_f32_to_fp16(a / 127.0f);
        for (size_t i = 0; i < k / IC_QK; i++) {
            b[i].d = d;
            for (size_t j = 0; j < IC_QK; j += 8) {
                s += 0x9e3779b97f4a7c15ull;
                uint64_t r = mix64(s);
                for (size_t u = 0; u < 8; u++) {
                    int8_t q = (int8_t)(r >> (8 * u));
                    b[i].qs[j + u] = q == -128 ? -127 : q;
                }
            }
        }
        break;
    }
    case IC_DT_Q4_0: {
        ic_block_q4_0 *b = dst;
        uint16_t d = ic_f32_to_fp16(a / 8.0f);
        for (size_t i = 0; i < k / IC_QK; i++) {
            b[i].d = d;
            for (size_t j = 0; j < IC_QK / 2; j += 8) {
                s += 0x9e3779b97f4a7c15ull;
                uint64_t r = mix64(s);
                memcpy(&b[i].qs[j], &r, 8);
            }
        }
        break;
    }
    default:
        break;
    }
}

typedef struct {
    void *w;
    ic_dtype t;
    size_t rows, k;
    float a;
    uint64_t seed, id;
    ic_layout layout; /* IC_LAYOUT_ROWS (0) unless named */
} fill_task;

/* A panel-layout matrix is filled a panel at a time: its rows, the same values as the row layout
 * holds, into a worker's buffer, then packed into place. */
static void fill_panels(const fill_task *ft, int tid, int nt) {
    const size_t rb = ic_row_bytes(ft->t, ft->k);
    const size_t panels = (ft->rows + IC_PANEL_ROWS - 1) / IC_PANEL_ROWS;
    unsigned char *rows = malloc(IC_PANEL_ROWS * rb);
    size_t b, e;
    ic_split_range(panels, 1, tid, nt, &b, &e);
    for (size_t p = b; p < e && rows; p++) {
        const size_t r0 = p * IC_PANEL_ROWS;
        const size_t n = ft->rows - r0 < IC_PANEL_ROWS ? ft->rows - r0 : IC_PANEL_ROWS;
        for (size_t i = 0; i < n; i++)
            fill_row(rows + i * rb, ft->t, ft->k, ft->a, ft->seed, ft->id, r0 + i);
        ic_layout_pack(ft->layout, ft->t, rows, ft->w, ft->k, r0, n);
    }
    free(rows); /* NULL: out of memory at start-up; the matrix keeps the arena's zeros */
}

static void fill_run(void *ctx, int tid, int nt) {
    const fill_task *ft = ctx;
    if (ft->layout != IC_LAYOUT_ROWS) {
        fill_panels(ft, tid, nt);
        return;
    }
    size_t b, e, rb = ic_row_bytes(ft->t, ft->k);
    ic_split_range(ft->rows, 1, tid, nt, &b, &e);
    for (size_t r = b; r < e; r++)
        fill_row((unsigned char *)ft->w + r * rb, ft->t, ft->k, ft->a, ft->seed, ft->id, r);
}

/* A weight matrix in layout l. */
static void fill_matrix(ic_forward *f, void *w, ic_dtype t, ic_layout l, size_t rows, size_t k,
                        float a, uint64_t id) {
    fill_task ft = {w, t, rows, k, a, f->cfg.seed, id, l};
    ic_pool_run(f->pool, fill_run, &ft);
}

void ic_forward_fill_kv(ic_forward *f, size_t n_pos) {
    const ic_dtype kvt = f->cfg.kv_dtype;
    for (size_t s = 0; s < f->n_seq; s++) {
        size_t np = n_pos < f->kv_cap[s] ? n_pos : f->kv_cap[s];
        for (uint32_t l = 0; l < f->cfg.n_layer_run; l++) {
            unsigned char *k = f->kv + f->kv_base[s] + (size_t)l * 2 * f->kv_cap[s] * f->kv_row;
            unsigned char *v = k + f->kv_cap[s] * f->kv_row;
            uint64_t id = 1000000ull + s * 10000ull + l;
            fill_task fk = {.w = k,
                            .t = kvt,
                            .rows = np,
                            .k = f->kvd,
                            .a = 1.0f,
                            .seed = f->cfg.seed,
                            .id = id * 2};
            fill_task fv = fk;
            fv.w = v;
            fv.id = id * 2 + 1;
            ic_pool_run(f->pool, fill_run, &fk);
            ic_pool_run(f->pool, fill_run, &fv);
        }
    }
}

/* ---- creation ---- */

static void *take(ic_forward *f, size_t *used, size_t bytes) {
    void *p = f->arena + *used;
    *used += align64(bytes);
    return p;
}

int ic_forward_create(ic_forward **out, const ic_fwd_config *cfg, const ic_kset *ks, ic_pool *pool,
                      char *err, size_t errlen) {
    *out = NULL;
    ic_fwd_bytes fb;
    int nt = ic_pool_threads(pool);
    if (layout(cfg, nt, &fb, err, errlen)) return -1;
    const ic_model *m = cfg->model;
    if (cfg->use_blas && (!IC_HAVE_OPENBLAS || m->dtype != IC_DT_F32)) {
        snprintf(err, errlen, "%s",
                 IC_HAVE_OPENBLAS ? "the BLAS path runs f32 weights only"
                                  : "unavailable: this build has no OpenBLAS");
        return -1;
    }
    if (m->n_expert_used > IC_MODEL_MAX_EXPERTS_USED) {
        snprintf(err, errlen, "forward pass: at most %d active experts per token (model has %u)",
                 IC_MODEL_MAX_EXPERTS_USED, m->n_expert_used);
        return -1;
    }
    if (ks->attention->wtype != cfg->kv_dtype || ks->kv_quant->wtype != cfg->kv_dtype) {
        snprintf(err, errlen, "forward pass: the kernel set's KV type is %s, the pass's %s",
                 ic_dtype_name(ks->attention->wtype), ic_dtype_name(cfg->kv_dtype));
        return -1;
    }
    ic_forward *f = calloc(1, sizeof *f);
    if (f == NULL) goto oom;
    f->m = *m;
    f->cfg = *cfg;
    f->cfg.model = &f->m;
    f->ks = *ks;
    f->pool = pool;
    f->nthreads = nt;
    f->d = m->d_model;
    f->qd = (size_t)m->n_head * m->head_dim;
    f->kvd = (size_t)m->n_head_kv * m->head_dim;
    f->kv_row = ic_row_bytes(cfg->kv_dtype, f->kvd);
    f->ff = m->d_ff;
    f->vocab = m->n_vocab;
    f->n_exp = m->n_expert;
    f->n_exp_slots = m->n_expert ? m->n_expert : 1;
    f->qkv_rows = f->qd + 2 * f->kvd;
    const ic_dtype t = m->dtype;
    const uint32_t L = cfg->n_layer_run;
    f->wl = ks->gemm->layout;
    /* the embedding table is read by the LM head only when tied; else it keeps ggml's rows */
    const ic_layout el = m->tied_embeddings ? f->wl : IC_LAYOUT_ROWS;

    /* Weights: one arena, each matrix 64-byte aligned; never more than the plan's figure. */
    uint64_t wbytes = ic_size_align64(ic_layout_bytes(el, t, f->vocab, f->d));
    if (!m->tied_embeddings)
        wbytes = ic_size_add(wbytes, ic_size_align64(ic_layout_bytes(f->wl, t, f->vocab, f->d)));
    wbytes = ic_size_add(wbytes, align64(f->d * sizeof(float)));
    uint64_t expert = ic_size_add(ic_size_align64(wmat_bytes(f, 2 * f->ff, f->d)),
                                  ic_size_align64(wmat_bytes(f, f->d, f->ff)));
    uint64_t layer = 2 * align64(f->d * sizeof(float));
    layer = ic_size_add(layer, ic_size_align64(wmat_bytes(f, f->qkv_rows, f->d)));
    layer = ic_size_add(layer, ic_size_align64(wmat_bytes(f, f->d, f->qd)));
    layer = ic_size_add(layer, ic_size_align64(ic_size_mul3(f->n_exp, f->d, sizeof(float))));
    layer = ic_size_add(layer, ic_size_mul(f->n_exp_slots, expert));
    wbytes = ic_size_add(wbytes, ic_size_mul(L, layer));
    if (wbytes > fb.weights || wbytes > SIZE_MAX) {
        snprintf(err, errlen, "forward pass: the weight arena (%llu bytes) exceeds its plan (%llu)",
                 (unsigned long long)wbytes, (unsigned long long)fb.weights);
        free(f);
        return -1;
    }
    f->arena_bytes = (size_t)wbytes;
    f->arena = ic_big_alloc(wbytes);
    f->layers = calloc(L, sizeof *f->layers);
    f->expert_ptrs = calloc((size_t)L * 2 * f->n_exp_slots, sizeof(void *));
    if (f->arena == NULL || f->layers == NULL || f->expert_ptrs == NULL) goto oom;
    size_t used = 0;
    f->embed_layout = el;
    f->embed = take(f, &used, ic_layout_bytes(el, t, f->vocab, f->d));
    f->lm_head = m->tied_embeddings ? f->embed : take(f, &used, wmat_bytes(f, f->vocab, f->d));
    f->out_norm = take(f, &used, f->d * sizeof(float));
    const float a_d = 1.0f / sqrtf((float)f->d), a_q = 1.0f / sqrtf((float)f->qd),
                a_ff = 1.0f / sqrtf((float)f->ff);
    fill_matrix(f, f->embed, t, el, f->vocab, f->d, 1.0f, 1);
    if (!m->tied_embeddings) fill_matrix(f, f->lm_head, t, f->wl, f->vocab, f->d, a_d, 2);
    for (size_t j = 0; j < f->d; j++) f->out_norm[j] = 1.0f;
    for (uint32_t l = 0; l < L; l++) {
        layer_w *w = &f->layers[l];
        uint64_t id = 100 + (uint64_t)l * 100;
        w->attn_norm = take(f, &used, f->d * sizeof(float));
        w->ffn_norm = take(f, &used, f->d * sizeof(float));
        for (size_t j = 0; j < f->d; j++) w->attn_norm[j] = w->ffn_norm[j] = 1.0f;
        w->wqkv = take(f, &used, wmat_bytes(f, f->qkv_rows, f->d));
        w->wo = take(f, &used, wmat_bytes(f, f->d, f->qd));
        w->router = f->n_exp ? take(f, &used, f->n_exp * f->d * sizeof(float)) : NULL;
        fill_matrix(f, w->wqkv, t, f->wl, f->qkv_rows, f->d, a_d, id + 1);
        fill_matrix(f, w->wo, t, f->wl, f->d, f->qd, a_q, id + 2);
        if (w->router)
            fill_matrix(f, w->router, IC_DT_F32, IC_LAYOUT_ROWS, f->n_exp, f->d, a_d, id + 3);
        w->w_gu = f->expert_ptrs + (size_t)l * 2 * f->n_exp_slots;
        w->w_down = w->w_gu + f->n_exp_slots;
        for (size_t e = 0; e < f->n_exp_slots; e++) {
            w->w_gu[e] = take(f, &used, wmat_bytes(f, 2 * f->ff, f->d));
            w->w_down[e] = take(f, &used, wmat_bytes(f, f->d, f->ff));
            fill_matrix(f, w->w_gu[e], t, f->wl, 2 * f->ff, f->d, a_d, id + 10 + 2 * e);
            fill_matrix(f, w->w_down[e], t, f->wl, f->d, f->ff, a_ff, id + 11 + 2 * e);
        }
    }

    /* KV caches. */
    f->n_seq = cfg->batch_seqs;
    f->kv_base = calloc(f->n_seq, sizeof *f->kv_base);
    f->kv_cap = calloc(f->n_seq, sizeof *f->kv_cap);
    if (f->kv_base == NULL || f->kv_cap == NULL) goto oom;
    size_t kv_bytes = 0;
    for (size_t s = 0; s < f->n_seq; s++) {
        f->kv_cap[s] = s == 0 ? cfg->ctx_cap : cfg->batch_ctx_cap;
        f->kv_base[s] = kv_bytes;
        kv_bytes += (size_t)L * 2 * f->kv_cap[s] * f->kv_row;
    }
    f->kv_bytes = kv_bytes;
    f->kv = ic_big_alloc(f->kv_bytes);
    if (f->kv == NULL) goto oom;

    /* Activations. */
    size_t R = cfg->max_rows, widest = f->d > f->ff ? f->d : f->ff;
    if (f->qd > widest) widest = f->qd;
    f->xq_row = align64(atype_row_max(ks, widest));
    size_t pos_cap = cfg->ctx_cap > cfg->batch_ctx_cap ? cfg->ctx_cap : cfg->batch_ctx_cap;
    size_t scratch = ic_attn_scratch_floats(m->n_head, pos_cap + 1);
    if (prompt_block_rows(ks, m)) {
        const size_t rows =
            ic_attn_rows_scratch_floats(m->n_head, m->n_head_kv, m->head_dim, pos_cap + 1);
        if (rows > scratch) scratch = rows;
    }
    f->scratch_stride = align64(scratch * sizeof(float)) / sizeof(float);
    f->x = aligned_alloc(64, align64(R * f->d * 4));
    f->xn = aligned_alloc(64, align64(R * f->d * 4));
    f->qkv = aligned_alloc(64, align64(R * f->qkv_rows * 4));
    f->attn = aligned_alloc(64, align64(R * f->qd * 4));
    f->attn_part = aligned_alloc(64, align64(IC_ATTN_SPANS_MAX * f->qd * 4));
    f->attn_lse = aligned_alloc(64, align64(IC_ATTN_SPANS_MAX * m->n_head * 4));
    f->gu = aligned_alloc(64, align64(R * 2 * f->ff * 4));
    f->out = aligned_alloc(64, align64(R * f->d * 4));
    f->moe_acc = aligned_alloc(64, align64(R * f->d * 4));
    f->moe_in = aligned_alloc(64, align64(R * f->d * 4));
    f->logits = aligned_alloc(64, align64(cfg->batch_seqs * f->vocab * 4));
    f->xq = aligned_alloc(64, R * f->xq_row);
    f->scratch = aligned_alloc(64, (size_t)nt * f->scratch_stride * 4);
    f->router_logits = calloc(R * (f->n_exp + 1), sizeof(float));
    f->moe_rows = calloc(R + 1, sizeof(uint32_t));
    f->moe_sel = calloc(R * (m->n_expert_used + 1), sizeof(uint32_t));
    f->moe_wt = calloc(R * (m->n_expert_used + 1), sizeof(float));
    if (!f->x || !f->xn || !f->qkv || !f->attn || !f->attn_part || !f->attn_lse || !f->gu ||
        !f->out || !f->moe_acc || !f->moe_in || !f->logits || !f->xq || !f->scratch ||
        !f->router_logits || !f->moe_rows || !f->moe_sel || !f->moe_wt)
        goto oom;
#if IC_HAVE_OPENBLAS
    if (cfg->use_blas) openblas_set_num_threads(nt);
#endif
    *out = f;
    return 0;
oom:
    snprintf(err, errlen,
             "out of memory allocating the forward pass (%.2f GiB of weights, %.2f GiB of KV "
             "cache, %.2f GiB of activations)",
             fb.weights / 1073741824.0, fb.kv_cache / 1073741824.0, fb.activations / 1073741824.0);
    ic_forward_destroy(f);
    return -1;
}

void ic_forward_destroy(ic_forward *f) {
    if (f == NULL) return;
    ic_big_free(f->arena, f->arena_bytes);
    free(f->layers);
    free(f->expert_ptrs);
    ic_big_free(f->kv, f->kv_bytes);
    free(f->kv_base);
    free(f->kv_cap);
    free(f->x);
    free(f->xn);
    free(f->qkv);
    free(f->attn);
    free(f->attn_part);
    free(f->attn_lse);
    free(f->gu);
    free(f->out);
    free(f->moe_acc);
    free(f->moe_in);
    free(f->logits);
    free(f->xq);
    free(f->scratch);
    free(f->router_logits);
    free(f->moe_rows);
    free(f->moe_sel);
    free(f->moe_wt);
    free(f);
}

/* ---- pool tasks ---- */

typedef struct {
    const ic_kernel *k;
    const void *w, *x;
    float *y;
    size_t kdim, n, ldy, rows;
    int nt;
} mm_task;

/* A piece of a GEMM's rows, from the pool's row runner, as for the GEMVs: each worker takes its
 * own share in pieces (a quarter of what is left, at least ic_gemm_rows_chunk rows) and then
 * helps the other, so a stalled vCPU no longer holds the whole matrix up (pool.h). */
static void mm_rows(void *ctx, int tid, size_t b, size_t e) {
    const mm_task *t = ctx;
    (void)tid;
    t->k->fn.gemm(t->w, t->x, t->y, t->kdim, t->n, t->ldy, b, e);
}

/* With a four-runs entry (ic_gemv.h) each worker's share of the rows is walked as one set of
 * four streams for the whole GEMV (ic_rows_as_runs): the owner's next piece continues each
 * stream where its last piece stopped, instead of starting four new ones. Measured on the
 * 2-vCPU Zen 5 VM (llama-3.2-1b q8_0, ctx 128, per-op times alternating with the per-piece
 * streams): o 6-8% and qkv 3-7% faster; gate/up, down and the LM head, whose pieces are long
 * anyway, unchanged. */
void ic_gemv_piece(const ic_kernel *k, const void *w, const void *x, float *y, size_t kdim,
                   size_t rows, int nt, int tid, size_t b, size_t e) {
    if (k->gemv_runs == NULL) {
        k->fn.gemv(w, x, y, kdim, b, e);
        return;
    }
    const ic_rows_runs r = ic_rows_as_runs(rows, k->row_align, nt, tid, b, e);
    if (r.len) k->gemv_runs(w, x, y, kdim, r.first, r.len);
    if (r.tail_begin < r.tail_end) k->fn.gemv(w, x, y, kdim, r.tail_begin, r.tail_end);
}

static void mv_rows(void *ctx, int tid, size_t b, size_t e) {
    const mm_task *t = ctx;
    ic_gemv_piece(t->k, t->w, t->x, t->y, t->kdim, t->rows, t->nt, tid, b, e);
}

static void kv_at(const ic_forward *f, size_t seq, uint32_t layer, unsigned char **k,
                  unsigned char **v) {
    *k = f->kv + f->kv_base[seq] + (size_t)layer * 2 * f->kv_cap[seq] * f->kv_row;
    *v = *k + f->kv_cap[seq] * f->kv_row;
}

/* The per-row ops of a pass (norms, rope, the KV append, SwiGLU, the residual adds, the
 * activations' quantization): each row by itself, so a step of many rows hands them to the
 * workers (for_rows). On the calling thread alone, while the other worker waited, they were 13% of
 * a 64-token prefill of llama-3.2-1b q8_0 on the 2-vCPU Zen 5 VM and 17% of a 512-token one (the
 * prefill op share); on both workers, 8% of the 64-token one. */
typedef enum { ROW_RMSNORM, ROW_ROPE, ROW_KV_APPEND, ROW_SWIGLU, ROW_ADD, ROW_QUANTIZE } row_op;

typedef struct {
    ic_forward *f;
    row_op op;
    const float *x, *w; /* ROW_RMSNORM: rows x, weights w; ROW_ADD: rows x added into y;
                         * ROW_QUANTIZE: rows x, in_stride floats apart */
    float *y;           /* ROW_RMSNORM, ROW_ADD: the rows written */
    uint32_t layer;     /* ROW_KV_APPEND */
    int prefill;        /* ROW_ROPE, ROW_KV_APPEND: row r is token r of sequence 0, else
                         * sequence r at pos */
    size_t pos;
    const ic_kernel *q; /* ROW_QUANTIZE: the quantizer, rows of k values into out */
    size_t k, in_stride;
    unsigned char *out;
} row_task;

/* Steps below this many floats of work in all keep their per-row ops on the calling thread
 * (ic_fwd_config.rows_split_min overrides it): a pool call costs a few microseconds, a decoded
 * token's rows a few hundred nanoseconds. */
#define ROWS_SPLIT_MIN 16384

static void row_one(const row_task *t, size_t r) {
    ic_forward *f = t->f;
    const size_t d = f->d, ff = f->ff;
    switch (t->op) {
    case ROW_RMSNORM:
        f->ks.rmsnorm->fn.rmsnorm(t->x + r * d, t->w, t->y + r * d, d, (float)f->m.norm_eps);
        break;
    case ROW_ROPE: {
        /* the query heads and then the key heads, contiguous: one call, one table of angles */
        f->ks.rope->fn.rope(f->qkv + r * f->qkv_rows, f->m.n_head + f->m.n_head_kv, f->m.head_dim,
                            t->prefill ? r : t->pos, (float)f->m.rope_theta);
        break;
    }
    case ROW_KV_APPEND: {
        const size_t p = t->prefill ? r : t->pos;
        unsigned char *kc, *vc;
        kv_at(f, t->prefill ? 0 : r, t->layer, &kc, &vc);
        const float *kv = f->qkv + r * f->qkv_rows + f->qd;
        /* into the cache's type: a copy for f32, a conversion for the others */
        f->ks.kv_quant->fn.quantize(kv, kc + p * f->kv_row, f->kvd);
        f->ks.kv_quant->fn.quantize(kv + f->kvd, vc + p * f->kv_row, f->kvd);
        break;
    }
    case ROW_SWIGLU: {
        float *g = f->gu + r * 2 * ff;
        f->ks.swiglu->fn.swiglu(g, g + ff, g, ff);
        break;
    }
    case ROW_ADD:
        for (size_t i = r * d; i < (r + 1) * d; i++) t->y[i] += t->x[i];
        break;
    case ROW_QUANTIZE:
        t->q->fn.quantize(t->x + r * t->in_stride, t->out + r * ic_row_bytes(t->q->wtype, t->k),
                          t->k);
        break;
    }
}

static void row_piece(void *ctx, int tid, size_t b, size_t e) {
    for (size_t r = b; r < e; r++) row_one(ctx, r);
}

/* t's op over rows [0, n), each row width floats of work: on the workers when there is enough. */
static void for_rows(ic_forward *f, const row_task *t, size_t n, size_t width) {
    const size_t min = f->cfg.rows_split_min ? f->cfg.rows_split_min : ROWS_SPLIT_MIN;
    if (f->nthreads > 1 && n > 1 && n * width >= min)
        ic_pool_run_rows(f->pool, n, 1, 1, row_piece, (void *)t);
    else
        row_piece((void *)t, 0, 0, n);
}

static void rmsnorm_rows(ic_forward *f, const float *x, const float *w, float *y, size_t n) {
    const row_task t = {.f = f, .op = ROW_RMSNORM, .x = x, .w = w, .y = y};
    for_rows(f, &t, n, f->d);
}

/* y += x over n rows of d_model floats */
static void add_rows(ic_forward *f, const float *x, float *y, size_t n) {
    const row_task t = {.f = f, .op = ROW_ADD, .x = x, .y = y};
    for_rows(f, &t, n, f->d);
}

/* y[n][ldy] = in[n][k] W^T over W's rows: quantizes the n input rows (stride in_stride floats)
 * once for the chosen kernel's activation type, then one pool task. */
static void matmul(ic_forward *f, const void *w, size_t rows, size_t k, const float *in,
                   size_t in_stride, size_t n, float *y, size_t ldy) {
#if IC_HAVE_OPENBLAS
    if (f->cfg.use_blas && n > 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)rows, (int)k, 1.0f, in,
                    (int)in_stride, (const float *)w, (int)k, 0.0f, y, (int)ldy);
        return;
    }
#endif
    const ic_kernel *kern = n == 1 ? f->ks.gemv : f->ks.gemm;
    const ic_kernel *q = n == 1 ? f->ks.quant_gemv : f->ks.quant_gemm;
    const void *x = in;
    if (kern->atype != IC_DT_F32 || (n > 1 && in_stride != k)) {
        double t0 = ic_now_ns();
        const row_task qt = {.f = f,
                             .op = ROW_QUANTIZE,
                             .x = in,
                             .q = q,
                             .k = k,
                             .in_stride = in_stride,
                             .out = (unsigned char *)f->xq};
        for_rows(f, &qt, n, k);
        x = f->xq;
        double dt = ic_now_ns() - t0;
        f->op_ns[IC_FOP_QUANTIZE] += dt;
        f->quant_ns_pending += dt;
        f->clock_reads += 2;
    }
    mm_task mt = {kern, w, x, y, k, n, ldy, rows, f->nthreads};
    if (n == 1)
        ic_pool_run_rows(f->pool, rows, kern->row_align,
                         ic_rows_chunk(ic_row_bytes(kern->wtype, k)), mv_rows, &mt);
    else
        ic_pool_run_rows(f->pool, rows, kern->row_align, ic_gemm_rows_chunk(), mm_rows, &mt);
}

/* Attention for n rows: row r belongs to sequence seq(r) at position pos(r). A prompt's work
 * units, handed out by the pool's row runner, are blocks of rows when its kernel has a prompt
 * entry (prompt_block_rows), otherwise whole rows; a batch step's are (row, head) pairs,
 * row-major, split statically. (Head-major units, a KV
 * head's rows together so that its cache stays in L2, measured slower: prefill of 4096 tokens
 * 159 tok/s against 214, each call then reading 128 of every 1024 bytes of a position.) */
typedef struct {
    ic_forward *f;
    uint32_t layer;
    size_t n;
    int prefill; /* 1: rows are tokens 0..n-1 of sequence 0; 0: row r is sequence r at pos */
    size_t pos;
} attn_task;

/* Units [b, e) of an n-row step: (row, head) pairs, row-major. */
static void attn_rows(void *ctx, int tid, size_t b, size_t e) {
    const attn_task *a = ctx;
    ic_forward *f = a->f;
    const size_t H = f->m.n_head;
    float *scratch = f->scratch + (size_t)tid * f->scratch_stride;
    for (size_t u = b; u < e;) {
        size_t r = u / H, h0 = u % H, h1 = h0 + (e - u) < H ? h0 + (e - u) : H;
        size_t seq = a->prefill ? 0 : r, pos = a->prefill ? r : a->pos;
        unsigned char *kc, *vc;
        kv_at(f, seq, a->layer, &kc, &vc);
        ic_attn_shape s = {f->m.n_head, f->m.n_head_kv, f->m.head_dim, pos + 1, f->kvd};
        f->ks.attention->fn.attention(f->qkv + r * f->qkv_rows, kc, vc, f->attn + r * f->qd, NULL,
                                      scratch, &s, h0, h1);
        u += h1 - h0;
    }
}

static void attn_batch_run(void *ctx, int tid, int nt) {
    const attn_task *a = ctx;
    const size_t H = a->f->m.n_head, units = a->n * H;
    size_t b, e;
    ic_split_range(units, ic_attn_split_align(H, a->f->m.n_head_kv, units, nt), tid, nt, &b, &e);
    attn_rows(ctx, tid, b, e);
}

/* Blocks [b, e) of a prompt's rows (ic_attn_rows_block rows each, the last maybe short), through
 * the kernel's prompt entry: one call, so that each key and value is read once a block. */
static void attn_prompt_blocks(void *ctx, int tid, size_t b, size_t e) {
    const attn_task *a = ctx;
    ic_forward *f = a->f;
    const size_t R = prompt_block_rows(&f->ks, &f->m), r0 = b * R;
    const size_t r1 = e * R < a->n ? e * R : a->n;
    unsigned char *kc, *vc;
    kv_at(f, 0, a->layer, &kc, &vc);
    const ic_attn_shape s = {f->m.n_head, f->m.n_head_kv, f->m.head_dim, r0 + 1, f->kvd};
    f->ks.attention->attention_rows(f->qkv + r0 * f->qkv_rows, f->qkv_rows, kc, vc,
                                    f->attn + r0 * f->qd, f->qd,
                                    f->scratch + (size_t)tid * f->scratch_stride, &s, r1 - r0);
}

/* One decode step of sequence 0 at position pos: the positions split across workers, each
 * taking all heads over its span into its own partial result, merged by run_attention. Each
 * worker then reads one contiguous stretch of the caches. */
static void attn_span_run(void *ctx, int tid, int nt) {
    const attn_task *a = ctx;
    ic_forward *f = a->f;
    const ic_attn_unit u =
        ic_attn_decode_unit(a->pos + 1, f->m.n_head, f->m.n_head_kv, (size_t)nt, (size_t)tid);
    if (u.pos_begin >= u.pos_end || u.head_begin >= u.head_end) return;
    unsigned char *kc, *vc;
    kv_at(f, 0, a->layer, &kc, &vc);
    const size_t b = u.pos_begin;
    ic_attn_shape s = {f->m.n_head, f->m.n_head_kv, f->m.head_dim, u.pos_end - b, f->kvd};
    const int whole = u.spans == 1; /* one span: the result itself */
    f->ks.attention->fn.attention(f->qkv, kc + b * f->kv_row, vc + b * f->kv_row,
                                  whole ? f->attn : f->attn_part + u.span * f->qd,
                                  whole ? NULL : f->attn_lse + u.span * f->m.n_head,
                                  f->scratch + (size_t)tid * f->scratch_stride, &s, u.head_begin,
                                  u.head_end);
}

static void run_attention(ic_forward *f, attn_task *at) {
    if (at->n == 1 && !at->prefill) {
        ic_pool_run(f->pool, attn_span_run, at);
        const size_t spans = ic_attn_decode_unit(at->pos + 1, f->m.n_head, f->m.n_head_kv,
                                                 (size_t)ic_pool_threads(f->pool), 0)
                                 .spans;
        if (spans > 1)
            ic_attn_merge(f->attn_part, f->attn_lse, spans, f->m.n_head, f->m.head_dim, f->attn);
    } else if (at->prefill && prompt_block_rows(&f->ks, &f->m)) {
        /* whole blocks to a worker, so that the sums do not depend on the thread count */
        const size_t R = prompt_block_rows(&f->ks, &f->m);
        ic_pool_run_rows(f->pool, (at->n + R - 1) / R, 1, 1, attn_prompt_blocks, at);
    } else if (at->prefill) {
        /* Whole rows through the pool's row runner, whose idle workers take rows from the back of
         * the others' shares: a prompt's row r reads r + 1 positions, so equal shares of rows are
         * not equal work (the last half of a causal prompt is three quarters of it). */
        const size_t H = f->m.n_head;
        ic_pool_run_rows(f->pool, at->n * H, H, H, attn_rows, at);
    } else {
        /* a batch step: every row the same work, a static split. (Through the row runner its
         * pieces split rows into a few heads, each call then reading part of every position:
         * batch 4 at ctx 4096 went from 50-52 to 40 tok/s.) */
        ic_pool_run(f->pool, attn_batch_run, at);
    }
}

/* The MoE FFN for n rows of xn: route each row to n_expert_used experts (softmax over the chosen
 * logits, as Mixtral), then per expert run its FFN on the rows routed to it. */
static void moe_ffn(ic_forward *f, const layer_w *w, size_t n) {
    const size_t E = f->n_exp, K = f->m.n_expert_used, d = f->d, ff = f->ff;
    OP_BEGIN();
    for (size_t t = 0; t < n; t++) {
        float *lg = f->router_logits + t * E;
        f->ks.gemv_f32->fn.gemv(w->router, f->xn + t * d, lg, d, 0, E);
        float top[IC_MODEL_MAX_EXPERTS_USED];
        uint32_t *sel = f->moe_sel + t * K;
        for (size_t i = 0; i < K; i++) {
            size_t best = E;
            for (size_t e = 0; e < E; e++) {
                int taken = 0;
                for (size_t j = 0; j < i; j++) taken |= sel[j] == e;
                if (!taken && (best == E || lg[e] > lg[best])) best = e;
            }
            sel[i] = (uint32_t)best;
            top[i % IC_MODEL_MAX_EXPERTS_USED] = lg[best];
        }
        float mx = top[0], sum = 0.0f;
        for (size_t i = 0; i < K && i < IC_MODEL_MAX_EXPERTS_USED; i++) sum += expf(top[i] - mx);
        for (size_t i = 0; i < K; i++)
            f->moe_wt[t * K + i] = expf(top[i % IC_MODEL_MAX_EXPERTS_USED] - mx) / sum;
    }
    memset(f->moe_acc, 0, n * d * sizeof(float));
    OP_END(ROUTER);
    for (size_t e = 0; e < E; e++) {
        size_t m = 0;
        for (size_t t = 0; t < n; t++)
            for (size_t i = 0; i < K; i++)
                if (f->moe_sel[t * K + i] == e) f->moe_rows[m++] = (uint32_t)(t * K + i);
        if (m == 0) continue;
        for (size_t j = 0; j < m; j++)
            memcpy(f->moe_in + j * d, f->xn + (f->moe_rows[j] / K) * d, d * sizeof(float));
        OP_NEXT(ROUTER);
        matmul(f, w->w_gu[e], 2 * ff, d, f->moe_in, d, m, f->gu, 2 * ff);
        OP_NEXT(GATE_UP);
        const row_task sw = {.f = f, .op = ROW_SWIGLU}; /* the expert's m rows of gu */
        for_rows(f, &sw, m, 2 * ff);
        OP_NEXT(SWIGLU);
        matmul(f, w->w_down[e], d, ff, f->gu, 2 * ff, m, f->out, d);
        OP_NEXT(DOWN);
        for (size_t j = 0; j < m; j++) {
            size_t t = f->moe_rows[j] / K;
            float wt = f->moe_wt[f->moe_rows[j]];
            for (size_t c = 0; c < d; c++) f->moe_acc[t * d + c] += wt * f->out[j * d + c];
        }
        OP_NEXT(RESIDUAL);
    }
    memcpy(f->out, f->moe_acc, n * d * sizeof(float));
}

/* The whole pass for n rows already embedded in x. Leaves the logits of the rows from
 * head_from on in f->logits. */
static void run_layers(ic_forward *f, size_t n, int prefill, size_t pos, size_t head_from) {
    const size_t d = f->d, qd = f->qd, kvd = f->kvd, ff = f->ff;
    const double layers_t0 = ic_now_ns();
    for (uint32_t l = 0; l < f->cfg.n_layer_run; l++) {
        const layer_w *w = &f->layers[l];
        OP_BEGIN();
        rmsnorm_rows(f, f->x, w->attn_norm, f->xn, n);
        OP_NEXT(RMSNORM);
        matmul(f, w->wqkv, f->qkv_rows, d, f->xn, d, n, f->qkv, f->qkv_rows);
        OP_NEXT(QKV);
        const row_task rope = {.f = f, .op = ROW_ROPE, .prefill = prefill, .pos = pos};
        for_rows(f, &rope, n, qd + kvd);
        OP_NEXT(ROPE);
        const row_task app = {
            .f = f, .op = ROW_KV_APPEND, .layer = l, .prefill = prefill, .pos = pos};
        for_rows(f, &app, n, 2 * kvd);
        OP_NEXT(KV_APPEND);
        attn_task at = {f, l, n, prefill, pos};
        run_attention(f, &at);
        OP_NEXT(ATTENTION);
        matmul(f, w->wo, d, qd, f->attn, qd, n, f->out, d);
        OP_NEXT(O_PROJ);
        add_rows(f, f->out, f->x, n);
        OP_NEXT(RESIDUAL);
        rmsnorm_rows(f, f->x, w->ffn_norm, f->xn, n);
        OP_NEXT(RMSNORM);
        if (f->n_exp) {
            moe_ffn(f, w, n);
            op_t0_ = ic_now_ns();
        } else {
            matmul(f, w->w_gu[0], 2 * ff, d, f->xn, d, n, f->gu, 2 * ff);
            OP_NEXT(GATE_UP);
            const row_task sw = {.f = f, .op = ROW_SWIGLU};
            for_rows(f, &sw, n, 2 * ff);
            OP_NEXT(SWIGLU);
            matmul(f, w->w_down[0], d, ff, f->gu, 2 * ff, n, f->out, d);
            OP_NEXT(DOWN);
        }
        add_rows(f, f->out, f->x, n);
        OP_END(RESIDUAL);
    }
    OP_BEGIN();
    f->layers_ns += op_t0_ - layers_t0;
    f->clock_reads += 1;
    size_t m = n - head_from;
    rmsnorm_rows(f, f->x + head_from * d, f->out_norm, f->xn, m);
    OP_NEXT(RMSNORM);
    matmul(f, f->lm_head, f->vocab, d, f->xn, d, m, f->logits, f->vocab);
    OP_END(LM_HEAD);
}

static void embed_rows(ic_forward *f, const uint32_t *tokens, size_t n) {
    OP_BEGIN();
    size_t rb = ic_row_bytes(f->m.dtype, f->d);
    for (size_t t = 0; t < n; t++) {
        const size_t r = tokens[t] % f->vocab;
        const void *row = (const unsigned char *)f->embed + r * rb;
        if (f->embed_layout != IC_LAYOUT_ROWS) { /* a tied table in panels: the row back first */
            ic_layout_unpack_row(f->embed_layout, f->m.dtype, f->embed, f->d, r, f->xq);
            row = f->xq;
        }
        f->ks.embed->fn.dequantize(row, f->x + t * f->d, f->d);
    }
    OP_END(EMBED);
}

const float *ic_forward_decode(ic_forward *f, uint32_t token, size_t pos) {
    if (pos >= f->kv_cap[0]) return NULL;
    uint64_t r0 = f->clock_reads;
    embed_rows(f, &token, 1);
    run_layers(f, 1, 0, pos, 0);
    f->reads_per_step = f->clock_reads - r0;
    return f->logits;
}

const void *ic_forward_weights(const ic_forward *f, size_t *bytes) {
    *bytes = f->arena_bytes;
    return f->arena;
}

const float *ic_forward_prefill(ic_forward *f, const uint32_t *tokens, size_t n) {
    if (n < 1 || n > f->cfg.max_rows || n > f->kv_cap[0]) return NULL;
    embed_rows(f, tokens, n);
    run_layers(f, n, 1, 0, n - 1);
    return f->logits;
}

const float *ic_forward_decode_batch(ic_forward *f, const uint32_t *tokens, size_t b, size_t pos) {
    if (b < 1 || b > f->cfg.max_rows || b > f->n_seq) return NULL;
    for (size_t s = 0; s < b; s++)
        if (pos >= f->kv_cap[s]) return NULL;
    embed_rows(f, tokens, b);
    run_layers(f, b, 0, pos, 0);
    return f->logits;
}

void ic_forward_op_ns(const ic_forward *f, double ns[IC_FOP_COUNT]) {
    memcpy(ns, f->op_ns, sizeof f->op_ns);
}

void ic_forward_reset_op_ns(ic_forward *f) {
    memset(f->op_ns, 0, sizeof f->op_ns);
    f->layers_ns = 0;
}

double ic_forward_layers_ns(const ic_forward *f) {
    return f->layers_ns;
}

uint64_t ic_forward_clock_reads_per_step(const ic_forward *f) {
    return f->reads_per_step;
}
