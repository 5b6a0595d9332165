/* Internal to the CUDA backend: the context, error helpers and the kernel launchers that
 * kernels.cu defines and backend.cu, model.cu and test_api.cu call. Names with `ic_cuda__` are the
 * library's own. */
#ifndef IC_CUDA_COMMON_CUH
#define IC_CUDA_COMMON_CUH

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ic_types.h is C11 (its layout checks are _Static_assert); C++ spells that static_assert. It
 * comes before the CUDA headers: cuda_fp16.h's global `half` would make a local of ic_types.h
 * a -Wshadow warning. */
#define _Static_assert static_assert
#include "ic_offload.h"
#undef _Static_assert

#include "layout.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

/* An opened device and, after load, one model on it. */
struct ic_offload_ctx {
    int device;
    int sm_count;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *workspace; /* IC_CUDA_WORKSPACE_BYTES, cuBLAS's for every call on this context */
    cudaEvent_t ev_begin, ev_end;

    int loaded;
    ic_offload_shape shape;
    ic_cuda_layout L;
    unsigned char *weights, *kv, *act; /* the three arenas of L */

    /* The decode step of the last (batch, context), captured once and replayed. */
    cudaGraphExec_t graph;
    uint32_t graph_batch, graph_context;
};

/* ---- errors ---- */

/* Writes "<what>: <reason>" to err and returns -1; what is printf-formatted. */
int ic_cuda__fail(char *err, size_t errlen, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 0 when e is cudaSuccess; else -1 with "<what>: <cudaGetErrorString(e)>" in err, and the
 * runtime's last-error state cleared. */
int ic_cuda__check(cudaError_t e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same for a cuBLAS status: "<what>: <cublasGetStatusString(s)>". */
int ic_cuda__check_blas(cublasStatus_t s, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "1.2 GB", "340.0 MB", "512 bytes": for messages. */
const char *ic_cuda__bytes(uint64_t n, char *buf, size_t len);

/* cudaMalloc of n bytes, or -1 with "cudaMalloc(<n> for <what>): <reason>". */
int ic_cuda__malloc(void **p, uint64_t n, const char *what, char *err, size_t errlen);

/* ---- the model (model.cu): the ops table's load, decode and prefill ---- */

int ic_cuda__load(ic_offload_ctx *c, const ic_offload_shape *s, char *err, size_t errlen);
int ic_cuda__decode(ic_offload_ctx *c, uint32_t batch, uint32_t context, char *err, size_t errlen);
int ic_cuda__prefill(ic_offload_ctx *c, uint32_t tokens, char *err, size_t errlen);
/* Frees the model's arenas and graph; the context stays open. */
void ic_cuda__unload(ic_offload_ctx *c);

/* ---- kernels (kernels.cu); each launcher returns the launch's cudaGetLastError() ---- */

/* Which position and sequence activation row r stands for: position pos0 + r * pos_step of
 * sequence r * seq_step, attending over positions 0 .. position. A decode step of a batch at
 * context c is {c, 0, 1}; a prefill of sequence 0 is {0, 1, 0}. */
struct ic_cuda_rows {
    int pos0, pos_step, seq_step;
};

/* Where a kernel writes activation rows, in each format whose pointer is set: f32, bf16 (the
 * cuBLAS input), q8_0 (the quantized GEMV's input: int8 values and one f32 scale per 32, the
 * scale already rounded through fp16 as in a ggml block). Strides are elements per row. */
struct ic_cuda_act {
    float *f32;
    size_t f32_ld;
    __nv_bfloat16 *bf;
    size_t bf_ld;
    int8_t *q;
    float *qd;
    size_t q_ld, qd_ld;
};

/* Fills rows x k weights of type t (bf16, q8_0, q4_0) with the values harness/forward.c's
 * fill_row gives for (seed, id): uniform in [-a, a], quantized types as random codes with the
 * scale a / 127 (q8_0) or a / 8 (q4_0). */
cudaError_t ic_cuda__fill_weights(void *w, ic_dtype t, uint64_t rows, uint64_t k, float a,
                                  uint64_t seed, uint64_t id, cudaStream_t st);
/* n floats set to v. */
cudaError_t ic_cuda__fill_f32(float *p, uint64_t n, float v, cudaStream_t st);
/* n halves uniform in [-1, 1] from seed: the keys and values of an earlier prompt. */
cudaError_t ic_cuda__fill_f16(__half *p, uint64_t n, uint64_t seed, cudaStream_t st);

/* x[r] = row tok(r) of the d-wide table of type t, dequantized, for a synthetic token tok(r) from
 * (seed, row's sequence, row's position). */
cudaError_t ic_cuda__embed(const void *table, ic_dtype t, int d, int vocab, int rows,
                           ic_cuda_rows rp, uint64_t seed, float *x, cudaStream_t st);

/* out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for rows rows of n. */
cudaError_t ic_cuda__rmsnorm(const float *x, size_t x_ld, const float *w, int rows, int n,
                             float eps, const ic_cuda_act *out, cudaStream_t st);
/* out[r] = x[r] in the act's formats. */
cudaError_t ic_cuda__convert(const float *x, size_t x_ld, int rows, int n, const ic_cuda_act *out,
                             cudaStream_t st);
/* out[r][j] = silu(gu[r][j]) * gu[r][n + j]. */
cudaError_t ic_cuda__swiglu(const float *gu, size_t gu_ld, int rows, int n, const ic_cuda_act *out,
                            cudaStream_t st);

/* Rotates n_rot_heads heads of head_dim floats at the start of each row of x (ld floats apart) by
 * the row's position (Llama convention, adjacent pairs, ic_rope_ref). When kc is set it also
 * appends the row's key and value to the f16 cache: the key is heads q_heads .. n_rot_heads - 1
 * after rotation, the value the kvd floats after them; kc is sequence 0's keys of one layer,
 * values at kc + v_off, sequences seq_stride halves apart, positions kvd. */
cudaError_t ic_cuda__rope(float *x, size_t ld, int rows, int n_rot_heads, int q_heads, int head_dim,
                          ic_cuda_rows rp, float theta, __half *kc, size_t v_off, size_t seq_stride,
                          int kvd, cudaStream_t st);

/* How many position splits one attention launch uses, given the rows and heads it covers. */
int ic_cuda__attn_splits(int rows, int n_head, int n_head_kv, int npos_max, int sm_count,
                         uint64_t part_cap);

/* Decode attention of rows query rows (q: n_head * head_dim floats per row, q_ld apart) over the
 * f16 caches (kc keys and vc values of sequence 0, sequences seq_stride halves apart, positions
 * kvd): each row's positions are cut into n_split spans, each span's partial max, sum and
 * unnormalized output written to part_o/part_ml (flash-decoding), then merged into out (rows of
 * n_head * head_dim floats, out_ld apart). chunk: positions per span. */
cudaError_t ic_cuda__attention(const float *q, size_t q_ld, const __half *kc, const __half *vc,
                               size_t seq_stride, int kvd, int n_head, int n_head_kv, int head_dim,
                               int rows, ic_cuda_rows rp, int n_split, int chunk, float *part_o,
                               float2 *part_ml, float *out, size_t out_ld, cudaStream_t st);

/* y[v][r] (+)= W[r] . x[v] for n_vec activation vectors (q8_0 in act->q/qd) and rows rows of the
 * q8_0 or q4_0 matrix w (ggml blocks, k values per row, at least 16 readable bytes past its
 * end); y rows ldy apart. Reads each weight row once per 8 vectors. */
cudaError_t ic_cuda__gemv_q(ic_dtype t, const void *w, int rows, int k, const ic_cuda_act *act,
                            int n_vec, float *y, size_t ldy, int accumulate, cudaStream_t st);

/* out = the rows x k matrix w (q8_0 or q4_0) in bf16, row-major. */
cudaError_t ic_cuda__dequant_bf16(const void *w, ic_dtype t, int rows, int k, __nv_bfloat16 *out,
                                  cudaStream_t st);

/* Reads n16 16-byte words at p (a read of device memory for the bandwidth probe); the XOR of
 * everything read decides whether *sink is written, so no load can be dropped. */
cudaError_t ic_cuda__read(const void *p, uint64_t n16, unsigned *sink, int sm_count,
                          cudaStream_t st);

/* Y (rows of ldy floats, n of them) = beta * Y + W X: W rows x k bf16 row-major, X n rows of k
 * bf16 (ldx apart). cuBLAS, fp32 accumulation. */
cublasStatus_t ic_cuda__gemm_bf16(cublasHandle_t h, int rows, int n, int k, const void *w,
                                  const void *x, int ldx, float *y, int ldy, float beta);

#endif
