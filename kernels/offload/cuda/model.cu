/* A model on the device: synthetic weights as harness/forward.c makes them (fused QKV and gate/up
 * matrices, f32 norms, the same seeded values), an f16 KV cache, and the step that decode and
 * prefill enqueue:
 *
 *   embed -> per layer: rmsnorm -> QKV -> RoPE + KV append -> attention -> O (+residual)
 *                       -> rmsnorm -> gate/up -> SwiGLU -> down (+residual)
 *         -> rmsnorm -> LM head
 *
 * Matrix products: bf16 weights go through cuBLAS (GEMV and GEMM alike). Quantized weights use
 * our q8_0/q4_0 GEMV in decode; in prefill each q8_0/q4_0 matrix is dequantized to a bf16 scratch
 * and multiplied by cuBLAS, so a quantized prefill measures that dequantization plus a bf16 GEMM,
 * not a fused quantized GEMM. Prefill's attention is the decode kernel with one query row per
 * prompt token, each attending over its own prefix (causal); it reads the prefix once per token,
 * which is what it measures at long prompts. */
#include "cuda_common.cuh"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Where a layer's pieces live. */
typedef struct {
    const float *attn_norm, *ffn_norm;
    const void *wqkv, *wo, *wgu, *wdown;
} layer_ptrs;

static layer_ptrs layer_at(const ic_offload_ctx *c, uint32_t l) {
    const ic_cuda_layout *L = &c->L;
    const unsigned char *b = c->weights + L->layer0 + (uint64_t)l * L->layer_bytes;
    layer_ptrs p = {(const float *)(b + L->attn_norm),
                    (const float *)(b + L->ffn_norm),
                    b + L->wqkv,
                    b + L->wo,
                    b + L->wgu,
                    b + L->wdown};
    return p;
}

void ic_cuda__unload(ic_offload_ctx *c) {
    if (c->graph) (void)cudaGraphExecDestroy(c->graph);
    c->graph = NULL;
    if (c->weights) (void)cudaFree(c->weights);
    if (c->kv) (void)cudaFree(c->kv);
    if (c->act) (void)cudaFree(c->act);
    c->weights = c->kv = c->act = NULL;
    c->loaded = 0;
}

/* ---- load ---- */

static int fill(ic_offload_ctx *c, const void *w, uint64_t rows, uint64_t k, float a, uint64_t id,
                const char *what, char *err, size_t errlen) {
    return ic_cuda__check(
        ic_cuda__fill_weights((void *)w, c->shape.dtype, rows, k, a, c->shape.seed, id, c->stream),
        err, errlen, "fill kernel launch (%s)", what);
}

static int fill_ones(ic_offload_ctx *c, const float *p, uint64_t n, char *err, size_t errlen) {
    return ic_cuda__check(ic_cuda__fill_f32((float *)p, n, 1.0f, c->stream), err, errlen,
                          "fill kernel launch (norm weights)");
}

/* The values harness/forward.c gives each matrix: ids and ranges as there. */
static int fill_model(ic_offload_ctx *c, char *err, size_t errlen) {
    const ic_offload_shape *s = &c->shape;
    const ic_cuda_layout *L = &c->L;
    const uint64_t d = s->d_model, qd = L->qd, ff = s->d_ff;
    const float a_d = 1.0f / sqrtf((float)d), a_q = 1.0f / sqrtf((float)qd),
                a_ff = 1.0f / sqrtf((float)ff);
    if (fill(c, c->weights + L->embed, s->n_vocab, d, 1.0f, 1, "embedding", err, errlen) ||
        (!s->tied_embeddings &&
         fill(c, c->weights + L->lm_head, s->n_vocab, d, a_d, 2, "LM head", err, errlen)) ||
        fill_ones(c, (const float *)(c->weights + L->out_norm), d, err, errlen))
        return -1;
    for (uint32_t l = 0; l < s->n_layer; l++) {
        const layer_ptrs w = layer_at(c, l);
        const uint64_t id = 100 + (uint64_t)l * 100;
        if (fill_ones(c, w.attn_norm, d, err, errlen) || fill_ones(c, w.ffn_norm, d, err, errlen) ||
            fill(c, w.wqkv, L->qkv_rows, d, a_d, id + 1, "wqkv", err, errlen) ||
            fill(c, w.wo, d, qd, a_q, id + 2, "wo", err, errlen) ||
            fill(c, w.wgu, 2 * ff, d, a_d, id + 10, "w_gate_up", err, errlen) ||
            fill(c, w.wdown, d, ff, a_ff, id + 11, "w_down", err, errlen))
            return -1;
    }
    /* Keys and values of an earlier prompt in every position, as ic_forward_fill_kv does. */
    const uint64_t kv_halves = L->kv_bytes / 2;
    if (ic_cuda__check(
            ic_cuda__fill_f16((__half *)c->kv, kv_halves, s->seed ^ 0x6b76ull, c->stream), err,
            errlen, "fill kernel launch (KV cache)") ||
        ic_cuda__check(cudaMemsetAsync(c->act, 0, L->act_bytes, c->stream), err, errlen,
                       "cudaMemset(activations)"))
        return -1;
    return ic_cuda__check(cudaStreamSynchronize(c->stream), err, errlen,
                          "filling the weights and KV cache");
}

int ic_cuda__load(ic_offload_ctx *c, const ic_offload_shape *s, char *err, size_t errlen) {
    ic_cuda_layout L;
    if (ic_cuda_layout_make(s, &L, err, errlen) != 0) return -1;
    if (ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice(%d)", c->device))
        return -1;
    (void)cudaStreamSynchronize(c->stream);
    ic_cuda__unload(c);
    const uint64_t need =
        ic_cuda_add(ic_cuda_add(L.weights_bytes, L.kv_bytes), L.act_bytes); /* + workspace: init */
    size_t free_b = 0, total_b = 0;
    if (ic_cuda__check(cudaMemGetInfo(&free_b, &total_b), err, errlen, "cudaMemGetInfo")) return -1;
    if (need > (uint64_t)free_b) {
        char b1[32], b2[32], b3[32], b4[32], b5[32];
        snprintf(
            err, errlen,
            "the shape needs %s of device memory (weights %s, KV cache %s, activations %s); "
            "device %d has %s free",
            ic_cuda__bytes(need, b1, sizeof b1), ic_cuda__bytes(L.weights_bytes, b2, sizeof b2),
            ic_cuda__bytes(L.kv_bytes, b3, sizeof b3), ic_cuda__bytes(L.act_bytes, b4, sizeof b4),
            c->device, ic_cuda__bytes(free_b, b5, sizeof b5));
        return -1;
    }
    c->shape = *s;
    c->L = L;
    if (ic_cuda__malloc((void **)&c->weights, L.weights_bytes, "the weights", err, errlen) ||
        ic_cuda__malloc((void **)&c->kv, L.kv_bytes, "the KV cache", err, errlen) ||
        ic_cuda__malloc((void **)&c->act, L.act_bytes, "the activations", err, errlen) ||
        fill_model(c, err, errlen)) {
        ic_cuda__unload(c);
        return -1;
    }
    c->loaded = 1;
    return 0;
}

/* ---- the step ---- */

/* The rows one step computes: n rows as rp places them, the longest attending over npos_max
 * positions; prefill takes the GEMM path and keeps the last row's logits only. */
typedef struct {
    int n;
    ic_cuda_rows rp;
    int npos_max;
    int prefill;
} step_rows;

/* Y (+)= W X for n activation rows: cuBLAS for bf16; the quantized GEMV in decode; in prefill,
 * the matrix dequantized to bf16 and cuBLAS. */
static int matmul(ic_offload_ctx *c, const void *w, int rows, int k, int n, const ic_cuda_act *a,
                  float *y, int ldy, int accumulate, int prefill, const char *what, uint32_t layer,
                  char *err, size_t errlen) {
    const ic_dtype t = c->shape.dtype;
    const void *wb = w;
    if (t != IC_DT_BF16 && !prefill)
        return ic_cuda__check(
            ic_cuda__gemv_q(t, w, rows, k, a, n, y, (size_t)ldy, accumulate, c->stream), err,
            errlen, "gemv_%s kernel launch (layer %u %s, %d x %d, %d rows)",
            t == IC_DT_Q8_0 ? "q8_0" : "q4_0", layer, what, rows, k, n);
    if (t != IC_DT_BF16) {
        __nv_bfloat16 *deq = (__nv_bfloat16 *)(c->act + c->L.deq);
        if (ic_cuda__check(ic_cuda__dequant_bf16(w, t, rows, k, deq, c->stream), err, errlen,
                           "dequantize kernel launch (layer %u %s)", layer, what))
            return -1;
        wb = deq;
    }
    return ic_cuda__check_blas(ic_cuda__gemm_bf16(c->blas, rows, n, k, wb, a->bf, (int)a->bf_ld, y,
                                                  ldy, accumulate ? 1.0f : 0.0f),
                               err, errlen, "cublasGemmEx(layer %u %s, %d x %d x %d)", layer, what,
                               rows, k, n);
}

/* Enqueues one step on c->stream (captured into a graph by decode). */
static int enqueue_step(ic_offload_ctx *c, const step_rows *sr, char *err, size_t errlen) {
    const ic_offload_shape *s = &c->shape;
    const ic_cuda_layout *L = &c->L;
    const int n = sr->n, d = (int)s->d_model, qd = (int)L->qd, kvd = (int)L->kvd;
    const int qkv_rows = (int)L->qkv_rows, ff = (int)s->d_ff, hd = (int)s->head_dim;
    const int vocab = (int)s->n_vocab;
    const float eps = (float)s->norm_eps, theta = (float)s->rope_theta;
    const int quant = s->dtype != IC_DT_BF16;
    cudaStream_t st = c->stream;
    unsigned char *A = c->act;
    float *x = (float *)(A + L->x), *qkv = (float *)(A + L->qkv), *attn = (float *)(A + L->attn);
    float *gu = (float *)(A + L->gu), *logits = (float *)(A + L->logits);
    float *part_o = (float *)(A + L->part_o);
    float2 *part_ml = (float2 *)(A + L->part_ml);

    /* The activation format of the matrix products: bf16 for cuBLAS, q8_0 for the GEMV. */
    ic_cuda_act a_bf = {}, a_q = {};
    a_bf.bf = (__nv_bfloat16 *)(A + L->act_bf);
    a_bf.bf_ld = L->act_ld;
    if (quant) {
        a_q.q = (int8_t *)(A + L->act_q);
        a_q.qd = (float *)(A + L->act_qd);
        a_q.q_ld = L->act_ld;
        a_q.qd_ld = L->act_ld / 32;
    }
    const ic_cuda_act *a = quant && !sr->prefill ? &a_q : &a_bf;
    const ic_cuda_act *a_head = quant ? &a_q : &a_bf; /* the LM head: a GEMV in both paths */

    /* KV cache of layer l: [sequence][K, V][position][kvd] halves. */
    const size_t seq_stride = (size_t)2 * s->max_ctx * kvd, v_off = (size_t)s->max_ctx * kvd;
    const size_t layer_halves = seq_stride * s->max_batch;
    const int n_split = ic_cuda__attn_splits(n, (int)s->n_head, (int)s->n_head_kv, sr->npos_max,
                                             c->sm_count, L->part_cap);
    const int chunk = (sr->npos_max + n_split - 1) / n_split;

    if (ic_cuda__check(
            ic_cuda__embed(c->weights + L->embed, s->dtype, d, vocab, n, sr->rp, s->seed, x, st),
            err, errlen, "embedding kernel launch"))
        return -1;
    for (uint32_t l = 0; l < s->n_layer; l++) {
        const layer_ptrs w = layer_at(c, l);
        __half *kc = (__half *)c->kv + l * layer_halves;
        if (ic_cuda__check(ic_cuda__rmsnorm(x, d, w.attn_norm, n, d, eps, a, st), err, errlen,
                           "rmsnorm kernel launch (layer %u)", l) ||
            matmul(c, w.wqkv, qkv_rows, d, n, a, qkv, qkv_rows, 0, sr->prefill, "wqkv", l, err,
                   errlen) ||
            ic_cuda__check(ic_cuda__rope(qkv, qkv_rows, n, (int)(s->n_head + s->n_head_kv),
                                         (int)s->n_head, hd, sr->rp, theta, kc, v_off, seq_stride,
                                         kvd, st),
                           err, errlen, "rope kernel launch (layer %u)", l) ||
            ic_cuda__check(ic_cuda__attention(qkv, qkv_rows, kc, kc + v_off, seq_stride, kvd,
                                              (int)s->n_head, (int)s->n_head_kv, hd, n, sr->rp,
                                              n_split, chunk, part_o, part_ml, attn, qd, st),
                           err, errlen, "attention kernel launch (layer %u, %d splits)", l,
                           n_split) ||
            ic_cuda__check(ic_cuda__convert(attn, qd, n, qd, a, st), err, errlen,
                           "convert kernel launch (layer %u)", l) ||
            matmul(c, w.wo, d, qd, n, a, x, d, 1, sr->prefill, "wo", l, err, errlen) ||
            ic_cuda__check(ic_cuda__rmsnorm(x, d, w.ffn_norm, n, d, eps, a, st), err, errlen,
                           "rmsnorm kernel launch (layer %u)", l) ||
            matmul(c, w.wgu, 2 * ff, d, n, a, gu, 2 * ff, 0, sr->prefill, "w_gate_up", l, err,
                   errlen) ||
            ic_cuda__check(ic_cuda__swiglu(gu, 2 * (size_t)ff, n, ff, a, st), err, errlen,
                           "swiglu kernel launch (layer %u)", l) ||
            matmul(c, w.wdown, d, ff, n, a, x, d, 1, sr->prefill, "w_down", l, err, errlen))
            return -1;
    }
    /* The logits of every decode row, or of the prompt's last token. */
    const int from = sr->prefill ? n - 1 : 0, m = n - from;
    const float *out_norm = (const float *)(c->weights + L->out_norm);
    if (ic_cuda__check(ic_cuda__rmsnorm(x + (size_t)from * d, d, out_norm, m, d, eps, a_head, st),
                       err, errlen, "rmsnorm kernel launch (output)") ||
        matmul(c, c->weights + L->lm_head, vocab, d, m, a_head, logits, vocab, 0, 0, "lm_head",
               s->n_layer, err, errlen))
        return -1;
    return 0;
}

/* ---- decode and prefill ---- */

static int check_loaded(ic_offload_ctx *c, const char *what, char *err, size_t errlen) {
    if (c == NULL || !c->loaded) {
        snprintf(err, errlen, "CUDA %s: no model loaded (call load first)", what);
        return -1;
    }
    return ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice(%d)", c->device);
}

/* Captures the step for (batch, context) into c->graph, replacing the one cached. */
static int capture(ic_offload_ctx *c, uint32_t batch, uint32_t context, char *err, size_t errlen) {
    if (c->graph) {
        /* the old graph may still be running */
        if (ic_cuda__check(cudaStreamSynchronize(c->stream), err, errlen,
                           "cudaStreamSynchronize (before replacing the decode graph)"))
            return -1;
        (void)cudaGraphExecDestroy(c->graph);
        c->graph = NULL;
    }
    const step_rows sr = {(int)batch, {(int)context, 0, 1}, (int)context + 1, 0};
    /* One step outside the capture first: cuBLAS picks its kernels and CUDA loads the modules
     * (lazily, on first use) there rather than inside the capture. */
    if (enqueue_step(c, &sr, err, errlen) ||
        ic_cuda__check(cudaStreamSynchronize(c->stream), err, errlen,
                       "the decode step before its capture (batch %u, context %u)", batch, context))
        return -1;
    if (ic_cuda__check(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal), err,
                       errlen, "cudaStreamBeginCapture"))
        return -1;
    const int rc = enqueue_step(c, &sr, err, errlen);
    cudaGraph_t g = NULL;
    const cudaError_t e = cudaStreamEndCapture(c->stream, &g);
    if (rc != 0 || ic_cuda__check(e, err, errlen, "cudaStreamEndCapture (decode step)")) {
        if (g) (void)cudaGraphDestroy(g);
        (void)cudaGetLastError();
        return -1;
    }
    cudaGraphExec_t exec = NULL;
    const cudaError_t ei = cudaGraphInstantiate(&exec, g, 0);
    (void)cudaGraphDestroy(g);
    if (ic_cuda__check(ei, err, errlen, "cudaGraphInstantiate (decode step, batch %u, context %u)",
                       batch, context))
        return -1;
    c->graph = exec;
    c->graph_batch = batch;
    c->graph_context = context;
    return 0;
}

/* `context` is the number of positions already in each sequence's cache: the new token goes to
 * position `context` and attends over context + 1 positions, as ic_forward_decode's pos. */
int ic_cuda__decode(ic_offload_ctx *c, uint32_t batch, uint32_t context, char *err, size_t errlen) {
    if (check_loaded(c, "decode", err, errlen)) return -1;
    if (batch < 1 || batch > c->shape.max_batch || context >= c->shape.max_ctx) {
        snprintf(err, errlen,
                 "CUDA decode: batch %u at context %u: the model was loaded for 1 to %u "
                 "sequences of contexts 0 to %u",
                 batch, context, c->shape.max_batch, c->shape.max_ctx - 1);
        return -1;
    }
    if (!(c->graph && c->graph_batch == batch && c->graph_context == context) &&
        capture(c, batch, context, err, errlen))
        return -1;
    return ic_cuda__check(cudaGraphLaunch(c->graph, c->stream), err, errlen,
                          "cudaGraphLaunch (decode step, batch %u, context %u)", batch, context);
}

/* A prompt of `tokens` tokens into sequence 0 at positions 0 .. tokens - 1. */
int ic_cuda__prefill(ic_offload_ctx *c, uint32_t tokens, char *err, size_t errlen) {
    if (check_loaded(c, "prefill", err, errlen)) return -1;
    if (tokens < 1 || tokens > c->shape.max_prompt || tokens > c->shape.max_ctx) {
        snprintf(err, errlen,
                 "CUDA prefill: %u tokens: the model was loaded for prompts of 1 to %u tokens "
                 "(max_prompt) and %u positions (max_ctx)",
                 tokens, c->shape.max_prompt, c->shape.max_ctx);
        return -1;
    }
    const step_rows sr = {(int)tokens, {0, 1, 0}, (int)tokens, 1};
    return enqueue_step(c, &sr, err, errlen);
}
