/* The CUDA backend's device memory: where every buffer of a loaded model lives, computed from the
 * shape alone, so that plan_bytes and load share one rule. Plain C: no CUDA types here. */
#ifndef IC_CUDA_LAYOUT_H
#define IC_CUDA_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ic_offload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Saturated sizes: a sum of products that does not fit in 64 bits stays UINT64_MAX. */
#define IC_CUDA_SATURATED UINT64_MAX

static inline uint64_t ic_cuda_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? IC_CUDA_SATURATED : r;
}

static inline uint64_t ic_cuda_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? IC_CUDA_SATURATED : r;
}

/* The bytes a buffer of n bytes takes: n plus 16 bytes that the quantized GEMV may read past a
 * matrix's last row (it loads whole 16-byte words), rounded up to 256 bytes (cudaMalloc's
 * alignment), saturating. */
static inline uint64_t ic_cuda_buf(uint64_t n) {
    uint64_t r = ic_cuda_add(n, 16 + 255);
    return r == IC_CUDA_SATURATED ? r : r & ~(uint64_t)255;
}

/* Splits of one decode attention over the positions (flash-decoding), at most. */
#define IC_CUDA_SPLIT_MAX 32
/* The cuBLAS workspace, set once per context (CUDA graphs need it fixed before capture). */
#define IC_CUDA_WORKSPACE_BYTES ((uint64_t)32 << 20)
/* Head dimensions the attention kernels are built for: even, at most this. */
#define IC_CUDA_HEAD_DIM_MAX 256

/* Offsets are in bytes from the start of the arena named in the comment. */
typedef struct ic_cuda_layout {
    /* dimensions derived from the shape */
    uint64_t qd, kvd, qkv_rows, kmax, act_ld; /* act_ld: elements per activation row */
    uint64_t rows;                            /* activation rows: max(max_batch, max_prompt) */
    uint64_t part_cap;                        /* (row, split) pairs the attention partials hold */

    /* weights arena */
    uint64_t embed, lm_head, out_norm;
    uint64_t layer0, layer_bytes; /* layer l starts at layer0 + l * layer_bytes */
    uint64_t attn_norm, ffn_norm, wqkv, wo, wgu, wdown; /* within a layer */
    uint64_t weights_bytes;

    /* KV cache arena: f16, [layer][sequence][K then V][position][n_head_kv * head_dim] */
    uint64_t kv_bytes;

    /* activations arena */
    uint64_t x, qkv, attn, gu, act_bf, act_q, act_qd, part_o, part_ml, logits, deq;
    uint64_t act_bytes;

    uint64_t workspace_bytes;
    uint64_t total_bytes; /* weights + KV + activations + workspace, saturated */
} ic_cuda_layout;

/* Bytes of one matrix row of k elements of type t (ic_row_bytes' rule, in 64 bits). */
uint64_t ic_cuda_row_bytes(ic_dtype t, uint64_t k);

/* Checks that the backend can build shape s (dense FFN, bf16/q8_0/q4_0, even head_dim up to
 * IC_CUDA_HEAD_DIM_MAX, n_head a multiple of n_head_kv, quantized rows of whole blocks, sizes
 * within the kernels' int ranges) and fills L. Returns 0, or -1 with a message naming the field. */
int ic_cuda_layout_make(const ic_offload_shape *s, ic_cuda_layout *L, char *err, size_t errlen);

/* The device bytes load uses for s, or IC_CUDA_SATURATED for a shape it would refuse (its message
 * comes from load) or one whose size does not fit in 64 bits. */
uint64_t ic_cuda_plan_bytes(const ic_offload_shape *s);

#ifdef __cplusplus
}
#endif

#endif
