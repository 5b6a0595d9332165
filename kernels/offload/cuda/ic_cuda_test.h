/* The CUDA backend's kernels, one call each, for tests: each copies its host inputs to device 0,
 * runs the kernel the backend uses, and copies the result back. Host memory is the caller's;
 * device memory lives for the call only. Every function returns 0, or -1 with the failing CUDA
 * call and its error in err. Built only where nvcc is (IC_OFFLOAD_HAVE_CUDA). */
#ifndef IC_CUDA_TEST_H
#define IC_CUDA_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "ic_offload.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ic_offload_ops ic_offload_cuda_ops;

/* y[v * rows + r] = W[r] . x[v] for n_vec vectors of k floats: W is rows x k of type wtype in
 * the ggml layout (q8_0, q4_0: ic_types.h blocks) or bf16. q8_0/q4_0: x is quantized to q8_0 on
 * the device and multiplied by the quantized GEMV (compare with ic_gemv_*_ref on
 * ic_quantize_q8_0_ref(x)); bf16: x is rounded to bf16 and multiplied by cuBLAS. */
int ic_cuda_test_gemv(ic_dtype wtype, const void *w, size_t rows, size_t k, const float *x,
                      size_t n_vec, float *y, char *err, size_t errlen);

/* x (k floats, k a multiple of 32) quantized on the device, as ggml q8_0 blocks. */
int ic_cuda_test_quantize_q8_0(const float *x, size_t k, ic_block_q8_0 *out, char *err,
                               size_t errlen);

/* W (rows x k, q8_0 or q4_0) dequantized on the device to bf16 (prefill's path), as bf16 bits. */
int ic_cuda_test_dequantize(ic_dtype wtype, const void *w, size_t rows, size_t k, uint16_t *out,
                            char *err, size_t errlen);

/* y[r] = rmsnorm(x[r]) * weight for rows rows of n floats. */
int ic_cuda_test_rmsnorm(const float *x, const float *weight, float *y, size_t rows, size_t n,
                         float eps, char *err, size_t errlen);

/* In place: rows rows of n_heads heads of head_dim floats, row r rotated for position pos0 + r. */
int ic_cuda_test_rope(float *x, size_t rows, size_t n_heads, size_t head_dim, size_t pos0,
                      float theta, char *err, size_t errlen);

/* y = silu(gate) * up, n floats. */
int ic_cuda_test_swiglu(const float *gate, const float *up, float *y, size_t n, char *err,
                        size_t errlen);

/* Decode attention. q: rows rows of n_head * head_dim floats; k, v: f16 bits,
 * [sequence][position][n_head_kv * head_dim]. causal = 0: row r is sequence r's query over all
 * n_pos positions of its own cache (rows sequences). causal = 1: one sequence of n_pos positions
 * and rows = n_pos queries, query t over positions 0..t (prefill). n_split: position splits, or 0
 * for the backend's own choice. out: rows rows of n_head * head_dim floats. */
int ic_cuda_test_attention(const float *q, const uint16_t *k, const uint16_t *v, size_t rows,
                           int causal, size_t n_head, size_t n_head_kv, size_t head_dim,
                           size_t n_pos, int n_split, float *out, char *err, size_t errlen);

/* The logits of the last step on c (decode: rows = its batch; prefill: 1 row), n_vocab floats a
 * row, after the work is finished (synchronize). */
int ic_cuda_test_logits(ic_offload_ctx *c, size_t rows, float *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
