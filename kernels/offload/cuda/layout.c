/* The CUDA backend's memory plan: one rule for plan_bytes and load. */
#include "layout.h"

#include <stdio.h>

uint64_t ic_cuda_row_bytes(ic_dtype t, uint64_t k) {
    switch (t) {
    case IC_DT_F32:
        return ic_cuda_mul(k, 4);
    case IC_DT_BF16:
        return ic_cuda_mul(k, 2);
    case IC_DT_Q8_0:
        return k % IC_QK ? 0 : ic_cuda_mul(k / IC_QK, sizeof(ic_block_q8_0));
    case IC_DT_Q4_0:
        return k % IC_QK ? 0 : ic_cuda_mul(k / IC_QK, sizeof(ic_block_q4_0));
    default:
        return 0;
    }
}

/* The type's name; kernels/types.c has the same table, but this library does not link the kernel
 * library (the kernel library links it). */
static const char *dtype_name(ic_dtype t) {
    static const char *const names[IC_DT_COUNT] = {"f32", "bf16", "q8_0", "q4_0", "f16", "q8_0s"};
    return t >= 0 && t < IC_DT_COUNT ? names[t] : "(invalid)";
}

/* Kernel arguments (rows, columns, positions) are ints; these bounds keep every one of them, and
 * every per-launch grid dimension, in range. They are far above any published model. */
#define DIM_MAX   (1u << 24)
#define CTX_MAX   (1u << 30)
#define BATCH_MAX (1u << 16)
#define HEADS_MAX 65535u /* a grid dimension of the attention */

static int check_shape(const ic_offload_shape *s, char *err, size_t errlen) {
    const struct {
        const char *name;
        uint32_t v, max;
    } dims[] = {
        {"n_layer", s->n_layer, DIM_MAX},       {"d_model", s->d_model, DIM_MAX},
        {"n_head", s->n_head, DIM_MAX},         {"n_head_kv", s->n_head_kv, DIM_MAX},
        {"head_dim", s->head_dim, DIM_MAX},     {"d_ff", s->d_ff, DIM_MAX},
        {"n_vocab", s->n_vocab, DIM_MAX},       {"max_ctx", s->max_ctx, CTX_MAX},
        {"max_batch", s->max_batch, BATCH_MAX},
    };
    if (s->n_expert > 0) {
        snprintf(err, errlen, "mixture-of-experts is not implemented on the CUDA backend");
        return -1;
    }
    if (s->dtype != IC_DT_BF16 && s->dtype != IC_DT_Q8_0 && s->dtype != IC_DT_Q4_0) {
        snprintf(err, errlen,
                 "weight type %s is not supported on the CUDA backend (bf16, q8_0, q4_0)",
                 dtype_name(s->dtype));
        return -1;
    }
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        if (dims[i].v == 0 || dims[i].v > dims[i].max) {
            snprintf(err, errlen, "%s = %u: the CUDA backend takes 1 to %u", dims[i].name,
                     dims[i].v, dims[i].max);
            return -1;
        }
    }
    if (s->max_prompt > DIM_MAX) {
        snprintf(err, errlen, "max_prompt = %u: the CUDA backend takes at most %u", s->max_prompt,
                 DIM_MAX);
        return -1;
    }
    if (s->n_head % s->n_head_kv != 0) {
        snprintf(err, errlen, "n_head = %u is not a multiple of n_head_kv = %u", s->n_head,
                 s->n_head_kv);
        return -1;
    }
    if (s->head_dim % 2 != 0 || s->head_dim > IC_CUDA_HEAD_DIM_MAX) {
        snprintf(err, errlen, "head_dim = %u: the CUDA attention takes even sizes up to %u",
                 s->head_dim, IC_CUDA_HEAD_DIM_MAX);
        return -1;
    }
    if (s->n_head > HEADS_MAX) {
        snprintf(err, errlen, "n_head = %u: the CUDA attention takes at most %u", s->n_head,
                 HEADS_MAX);
        return -1;
    }
    /* The attention merge runs one block per (row, head). */
    const uint64_t rows = s->max_batch > s->max_prompt ? s->max_batch : s->max_prompt;
    if (rows * s->n_head > INT32_MAX) {
        snprintf(err, errlen, "%llu rows x %u heads: the CUDA attention takes at most 2^31 - 1",
                 (unsigned long long)rows, s->n_head);
        return -1;
    }
    if ((uint64_t)s->n_head * s->head_dim > DIM_MAX) {
        snprintf(err, errlen, "n_head * head_dim = %llu: the CUDA backend takes at most %u",
                 (unsigned long long)s->n_head * s->head_dim, DIM_MAX);
        return -1;
    }
    if (s->dtype != IC_DT_BF16) {
        /* The rows of every matrix are d_model, n_head * head_dim or d_ff elements long. */
        const struct {
            const char *name;
            uint64_t k;
        } ks[] = {{"d_model", s->d_model},
                  {"n_head * head_dim", (uint64_t)s->n_head * s->head_dim},
                  {"d_ff", s->d_ff}};
        for (size_t i = 0; i < 3; i++) {
            if (ks[i].k % IC_QK != 0) {
                snprintf(err, errlen,
                         "%s = %llu: %s rows hold whole blocks of %d values, and it is not a "
                         "multiple",
                         ks[i].name, (unsigned long long)ks[i].k, dtype_name(s->dtype), IC_QK);
                return -1;
            }
        }
    }
    if (!(s->norm_eps >= 0.0) || !(s->rope_theta > 0.0)) {
        snprintf(err, errlen, "norm_eps = %g, rope_theta = %g: want eps >= 0 and theta > 0",
                 s->norm_eps, s->rope_theta);
        return -1;
    }
    return 0;
}

/* Places a buffer of n bytes at *used and advances it. */
static uint64_t take(uint64_t *used, uint64_t n) {
    uint64_t at = *used;
    *used = ic_cuda_add(*used, ic_cuda_buf(n));
    return at;
}

static uint64_t max64(uint64_t a, uint64_t b) {
    return a > b ? a : b;
}

int ic_cuda_layout_make(const ic_offload_shape *s, ic_cuda_layout *L, char *err, size_t errlen) {
    if (check_shape(s, err, errlen) != 0) return -1;
    const ic_dtype t = s->dtype;
    const uint64_t d = s->d_model, ff = s->d_ff, vocab = s->n_vocab, B = s->max_batch;
    const int quant = t != IC_DT_BF16;
    L->qd = (uint64_t)s->n_head * s->head_dim;
    L->kvd = (uint64_t)s->n_head_kv * s->head_dim;
    L->qkv_rows = L->qd + 2 * L->kvd;
    L->kmax = max64(max64(d, ff), L->qd);
    L->act_ld = (L->kmax + 31) / 32 * 32;
    L->rows = max64(B, s->max_prompt);
    L->part_cap = max64(B * IC_CUDA_SPLIT_MAX, L->rows);

    /* Weights: the tables, the final norm, then the layers, each the same size. */
    uint64_t w = 0;
    const uint64_t table = ic_cuda_mul(vocab, ic_cuda_row_bytes(t, d));
    L->embed = take(&w, table);
    L->lm_head = s->tied_embeddings ? L->embed : take(&w, table);
    L->out_norm = take(&w, d * 4);
    L->layer0 = w;
    uint64_t lw = 0;
    L->attn_norm = take(&lw, d * 4);
    L->ffn_norm = take(&lw, d * 4);
    L->wqkv = take(&lw, ic_cuda_mul(L->qkv_rows, ic_cuda_row_bytes(t, d)));
    L->wo = take(&lw, ic_cuda_mul(d, ic_cuda_row_bytes(t, L->qd)));
    L->wgu = take(&lw, ic_cuda_mul(2 * ff, ic_cuda_row_bytes(t, d)));
    L->wdown = take(&lw, ic_cuda_mul(d, ic_cuda_row_bytes(t, ff)));
    L->layer_bytes = lw;
    L->weights_bytes = ic_cuda_add(w, ic_cuda_mul(s->n_layer, lw));

    /* KV cache: f16 keys and values of every layer, sequence and position. */
    uint64_t kv = ic_cuda_mul(ic_cuda_mul(s->n_layer, B), ic_cuda_mul(s->max_ctx, L->kvd));
    L->kv_bytes = ic_cuda_buf(ic_cuda_mul(kv, 2 * 2));

    /* Activations, for `rows` rows (a decode batch or a prompt). */
    const uint64_t R = L->rows;
    uint64_t a = 0;
    L->x = take(&a, ic_cuda_mul(R, d * 4));
    L->qkv = take(&a, ic_cuda_mul(R, L->qkv_rows * 4));
    L->attn = take(&a, ic_cuda_mul(R, L->qd * 4));
    L->gu = take(&a, ic_cuda_mul(R, 2 * ff * 4));
    L->act_bf = take(&a, ic_cuda_mul(R, L->act_ld * 2));
    /* q8_0 activations of the quantized GEMV (decode rows only): values, then block scales. */
    L->act_q = quant ? take(&a, ic_cuda_mul(B, L->act_ld)) : 0;
    L->act_qd = quant ? take(&a, ic_cuda_mul(B, L->act_ld / 32 * 4)) : 0;
    L->part_o = take(&a, ic_cuda_mul(L->part_cap, L->qd * 4));
    L->part_ml = take(&a, ic_cuda_mul(L->part_cap, (uint64_t)s->n_head * 8));
    L->logits = take(&a, ic_cuda_mul(B, vocab * 4));
    /* Prefill of a quantized model: the largest layer matrix dequantized to bf16 for cuBLAS. */
    uint64_t deq = 0;
    if (quant && s->max_prompt > 0) {
        deq = max64(max64(L->qkv_rows * d, d * L->qd), max64(2 * ff * d, d * ff));
        L->deq = take(&a, deq * 2);
    } else {
        L->deq = 0;
    }
    L->act_bytes = a;

    L->workspace_bytes = IC_CUDA_WORKSPACE_BYTES;
    L->total_bytes = ic_cuda_add(ic_cuda_add(L->weights_bytes, L->kv_bytes),
                                 ic_cuda_add(L->act_bytes, L->workspace_bytes));
    return 0;
}

uint64_t ic_cuda_plan_bytes(const ic_offload_shape *s) {
    ic_cuda_layout L;
    char err[256];
    if (ic_cuda_layout_make(s, &L, err, sizeof err) != 0) return IC_CUDA_SATURATED;
    return L.total_bytes;
}
