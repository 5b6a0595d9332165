/* The forward pass of a decoder-only transformer on synthetic weights: one decode step at a
 * context position, a prefill of n tokens (GEMM path), and batched decode of B sequences (GEMM
 * path at n = B, each sequence with its own KV cache). Kernels come from a kernel set; every
 * matrix op is one pool task whose workers split the weight rows. Nothing is allocated or printed
 * after ic_forward_create. */
#ifndef IC_FORWARD_H
#define IC_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "ic_dispatch.h"
#include "model.h"
#include "pool.h"

/* The kernels one forward pass uses, chosen for a weight type and a KV-cache type. */
typedef struct ic_kset {
    const ic_kernel *gemv, *gemm; /* for the weight type */
    const ic_kernel *quant_gemv;  /* quantizes activations to gemv->atype */
    const ic_kernel *quant_gemm;  /* quantizes activations to gemm->atype */
    const ic_kernel *gemv_f32;    /* the f32 MoE router */
    const ic_kernel *embed;       /* dequantizes one embedding row */
    const ic_kernel *rmsnorm, *rope, *swiglu;
    const ic_kernel *attention; /* over a cache of the KV type (its wtype) */
    const ic_kernel *kv_quant;  /* converts a K or V row into the KV type at append */
} ic_kset;

/* Fills ks with what selection picks for weight type wtype and KV-cache type kvtype (f16, bf16,
 * f32 or q8_0) under this feature mask and ISA cap (the test compares sets; the CLI passes the
 * host's features and the IC_ISA cap). 0, or -1 with a message when kvtype is not a KV type or
 * an op has no usable variant. */
int ic_kset_select(ic_kset *ks, ic_dtype wtype, ic_dtype kvtype, uint64_t features, ic_level cap,
                   char *err, size_t errlen);

/* "gemv_q8_0_ref, gemm_q8_0_ref, attention_f16_ref, ...": the set's variant names, each once (one
 * variant may serve two roles, e.g. the quantizer of both the GEMV and the GEMM). */
void ic_kset_describe(const ic_kset *ks, char *out, size_t len);

/* One piece [b, e) of a one-token GEMV over `rows` rows, handed to worker tid of nt by
 * ic_pool_run_rows(pool, rows, k->row_align, ...): through the variant's four-runs entry when it
 * has one (k->gemv_runs; each worker's share walked as one set of four streams, see
 * ic_rows_as_runs), else through its plain entry. The model and `infercost bench` both use it. */
void ic_gemv_piece(const ic_kernel *k, const void *w, const void *x, float *y, size_t kdim,
                   size_t rows, int nt, int tid, size_t b, size_t e);

typedef struct ic_fwd_config {
    const ic_model *model;
    uint32_t n_layer_run;  /* layers allocated and run: n_layer, or fewer for a slice */
    size_t ctx_cap;        /* KV positions of sequence 0 (decode and prefill) */
    size_t max_rows;       /* most rows of one GEMM: prefill tokens or batch size; >= 1 */
    size_t batch_seqs;     /* sequences for batched decode (sequence 0 included); >= 1 */
    size_t batch_ctx_cap;  /* KV positions of sequences 1 .. batch_seqs - 1 */
    uint64_t seed;         /* synthetic weights and KV contents */
    ic_dtype kv_dtype;     /* the KV caches' type: f16, bf16, f32 or q8_0 (q8_0 needs head_dim
                            * % 32 == 0); the kset's attention and kv_quant must be of it */
    int use_blas;          /* f32 GEMMs through cblas_sgemm (needs an OpenBLAS build) */
    size_t rows_split_min; /* the per-row ops (norms, rope, SwiGLU, ...) of a step go to the
                            * workers from this many floats of work; 0: the default (16384).
                            * Tests set 1 to split every step of several rows. */
} ic_fwd_config;

/* What a configuration allocates, in bytes. */
typedef struct ic_fwd_bytes {
    uint64_t weights, kv_cache, activations, total;
} ic_fwd_bytes;

/* Computes the allocation of cfg without allocating; 0, or -1 on overflow or a bad config. */
int ic_forward_bytes(const ic_fwd_config *cfg, int nthreads, ic_fwd_bytes *out, char *err,
                     size_t errlen);

/* The ops timed inside the pass, for the op-share breakdown. */
#define IC_FOP_LIST(X)                                                                             \
    X(EMBED, "embed")                                                                              \
    X(RMSNORM, "rmsnorm")                                                                          \
    X(QUANTIZE, "quantize")                                                                        \
    X(QKV, "qkv_matmul")                                                                           \
    X(ROPE, "rope")                                                                                \
    X(KV_APPEND, "kv_append")                                                                      \
    X(ATTENTION, "attention")                                                                      \
    X(O_PROJ, "o_matmul")                                                                          \
    X(ROUTER, "moe_router")                                                                        \
    X(GATE_UP, "gate_up_matmul")                                                                   \
    X(SWIGLU, "swiglu")                                                                            \
    X(DOWN, "down_matmul")                                                                         \
    X(RESIDUAL, "residual")                                                                        \
    X(LM_HEAD, "lm_head")

typedef enum ic_fop {
#define IC_X(id, s) IC_FOP_##id,
    IC_FOP_LIST(IC_X)
#undef IC_X
        IC_FOP_COUNT
} ic_fop;

const char *ic_fop_name(ic_fop op);

typedef struct ic_forward ic_forward;

/* Allocates weights (filled with seeded random values in the model's type, in parallel on the
 * pool), the KV caches and the activations. The pool and kset must outlive the pass. Returns 0,
 * or -1 with a message (out of memory names the bytes asked for). */
int ic_forward_create(ic_forward **out, const ic_fwd_config *cfg, const ic_kset *ks, ic_pool *pool,
                      char *err, size_t errlen);

void ic_forward_destroy(ic_forward *f);

/* Fills the first n_pos KV positions of every sequence with seeded random values in the KV type,
 * standing in for the keys and values of an earlier prompt. */
void ic_forward_fill_kv(ic_forward *f, size_t n_pos);

/* One decode step of sequence 0 for token at position pos (< ctx_cap; else NULL): writes K/V at pos
 * and attends over positions 0..pos. Returns the logits (n_vocab floats, owned by f). */
const float *ic_forward_decode(ic_forward *f, uint32_t token, size_t pos);

/* The weights as one block of memory (every matrix and norm vector), and its size in bytes. */
const void *ic_forward_weights(const ic_forward *f, size_t *bytes);

/* Prefill of n tokens (n <= max_rows and <= ctx_cap) into sequence 0 at positions 0..n-1 on the
 * GEMM path; returns the last token's logits. */
const float *ic_forward_prefill(ic_forward *f, const uint32_t *tokens, size_t n);

/* One decode step of sequences 0..b-1 (b <= batch_seqs and <= max_rows), each at position pos
 * of its own cache, on the GEMM path. Returns b rows of n_vocab logits. */
const float *ic_forward_decode_batch(ic_forward *f, const uint32_t *tokens, size_t b, size_t pos);

/* Nanoseconds spent per op since the last reset (clock reads around each op, on the caller). */
void ic_forward_op_ns(const ic_forward *f, double ns[IC_FOP_COUNT]);
void ic_forward_reset_op_ns(ic_forward *f);

/* Nanoseconds of the above spent inside the layer loop (the rest, embedding, final norm and LM
 * head, does not scale with depth): extrapolating a slice of K layers to L uses it. */
double ic_forward_layers_ns(const ic_forward *f);

/* Clock reads taken per decode step, for stating the timing overhead. */
uint64_t ic_forward_clock_reads_per_step(const ic_forward *f);

#endif
