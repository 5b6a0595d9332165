/* ic_cuda_test.h: the backend's kernels one call at a time, on device 0's default stream. */
#include "cuda_common.cuh"
#include "ic_cuda_test.h"

#include <math.h>
#include <stdio.h>

namespace {

/* Device buffers of one call, freed together. */
struct scratch {
    void *p[8] = {};
    int n = 0;
    char *err;
    size_t errlen;
    scratch(char *e, size_t el) : err(e), errlen(el) {}
    ~scratch() {
        for (int i = 0; i < n; i++) (void)cudaFree(p[i]);
    }
    /* n bytes (plus the 16 spare bytes the GEMV may read), optionally a copy of host data. */
    template <typename T> int get(T **out, size_t bytes, const void *host = NULL) {
        void *d = NULL;
        if (ic_cuda__malloc(&d, bytes + 16, "a test buffer", err, errlen)) return -1;
        p[n++] = d;
        *out = (T *)d;
        if (host)
            return ic_cuda__check(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice), err, errlen,
                                  "cudaMemcpy(to the device, %zu bytes)", bytes);
        return ic_cuda__check(cudaMemset(d, 0, bytes + 16), err, errlen, "cudaMemset");
    }
};

int finish(cudaError_t launch, const char *what, void *host, const void *dev, size_t bytes,
           char *err, size_t errlen) {
    if (ic_cuda__check(launch, err, errlen, "%s kernel launch", what) ||
        ic_cuda__check(cudaDeviceSynchronize(), err, errlen, "%s kernel", what))
        return -1;
    if (bytes == 0) return 0;
    return ic_cuda__check(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost), err, errlen,
                          "cudaMemcpy(from the device, %zu bytes)", bytes);
}

int sm_count(void) {
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        return 1;
    }
    return sms > 0 ? sms : 1;
}

size_t row_bytes(ic_dtype t, size_t k) {
    return t == IC_DT_BF16 ? 2 * k : t == IC_DT_Q8_0 ? k / IC_QK * 34 : k / IC_QK * 18;
}

int check_quant_k(ic_dtype t, size_t k, char *err, size_t errlen) {
    if ((t == IC_DT_Q8_0 || t == IC_DT_Q4_0 || t == IC_DT_BF16) &&
        (t == IC_DT_BF16 || k % IC_QK == 0) && k > 0)
        return 0;
    snprintf(err, errlen, "test call: type %d with k = %zu is not supported", (int)t, k);
    return -1;
}

} // namespace

extern "C" int ic_cuda_test_gemv(ic_dtype wtype, const void *w, size_t rows, size_t k,
                                 const float *x, size_t n_vec, float *y, char *err, size_t errlen) {
    if (check_quant_k(wtype, k, err, errlen)) return -1;
    scratch s(err, errlen);
    unsigned char *dw;
    float *dx, *dy;
    const size_t ld = (k + 31) / 32 * 32;
    if (s.get(&dw, rows * row_bytes(wtype, k), w) || s.get(&dx, n_vec * k * 4, x) ||
        s.get(&dy, n_vec * rows * 4))
        return -1;
    ic_cuda_act a = {};
    if (wtype == IC_DT_BF16) {
        if (s.get(&a.bf, n_vec * ld * 2)) return -1;
        a.bf_ld = ld;
    } else {
        if (s.get(&a.q, n_vec * ld) || s.get(&a.qd, n_vec * ld / 32 * 4)) return -1;
        a.q_ld = ld;
        a.qd_ld = ld / 32;
    }
    if (ic_cuda__check(ic_cuda__convert(dx, k, (int)n_vec, (int)k, &a, 0), err, errlen,
                       "convert kernel launch"))
        return -1;
    if (wtype != IC_DT_BF16)
        return finish(ic_cuda__gemv_q(wtype, dw, (int)rows, (int)k, &a, (int)n_vec, dy, rows, 0, 0),
                      "gemv", y, dy, n_vec * rows * 4, err, errlen);
    cublasHandle_t h = NULL;
    if (ic_cuda__check_blas(cublasCreate(&h), err, errlen, "cublasCreate")) return -1;
    const cublasStatus_t bs = ic_cuda__gemm_bf16(h, (int)rows, (int)n_vec, (int)k, dw, a.bf,
                                                 (int)ld, dy, (int)rows, 0.0f);
    const int rc =
        ic_cuda__check_blas(bs, err, errlen, "cublasGemmEx(%zu x %zu x %zu)", rows, k, n_vec) ||
        finish(cudaSuccess, "cublasGemmEx", y, dy, n_vec * rows * 4, err, errlen);
    cublasDestroy(h);
    return rc ? -1 : 0;
}

extern "C" int ic_cuda_test_quantize_q8_0(const float *x, size_t k, ic_block_q8_0 *out, char *err,
                                          size_t errlen) {
    if (check_quant_k(IC_DT_Q8_0, k, err, errlen)) return -1;
    scratch s(err, errlen);
    float *dx;
    ic_cuda_act a = {};
    if (s.get(&dx, k * 4, x) || s.get(&a.q, k) || s.get(&a.qd, k / 32 * 4)) return -1;
    a.q_ld = k;
    a.qd_ld = k / 32;
    int8_t q[IC_QK];
    float d;
    if (finish(ic_cuda__convert(dx, k, 1, (int)k, &a, 0), "convert", NULL, NULL, 0, err, errlen))
        return -1;
    for (size_t b = 0; b < k / IC_QK; b++) {
        if (ic_cuda__check(cudaMemcpy(q, a.q + b * IC_QK, IC_QK, cudaMemcpyDeviceToHost), err,
                           errlen, "cudaMemcpy(from the device)") ||
            ic_cuda__check(cudaMemcpy(&d, a.qd + b, 4, cudaMemcpyDeviceToHost), err, errlen,
                           "cudaMemcpy(from the device)"))
            return -1;
        out[b].d = ic_f32_to_fp16(d); /* exact: d is an fp16 value */
        for (int j = 0; j < IC_QK; j++) out[b].qs[j] = q[j];
    }
    return 0;
}

extern "C" int ic_cuda_test_dequantize(ic_dtype wtype, const void *w, size_t rows, size_t k,
                                       uint16_t *out, char *err, size_t errlen) {
    if (wtype == IC_DT_BF16 || check_quant_k(wtype, k, err, errlen)) {
        if (wtype == IC_DT_BF16) snprintf(err, errlen, "test call: bf16 needs no dequantization");
        return -1;
    }
    scratch s(err, errlen);
    unsigned char *dw;
    __nv_bfloat16 *dout;
    if (s.get(&dw, rows * row_bytes(wtype, k), w) || s.get(&dout, rows * k * 2)) return -1;
    return finish(ic_cuda__dequant_bf16(dw, wtype, (int)rows, (int)k, dout, 0), "dequantize", out,
                  dout, rows * k * 2, err, errlen);
}

extern "C" int ic_cuda_test_rmsnorm(const float *x, const float *weight, float *y, size_t rows,
                                    size_t n, float eps, char *err, size_t errlen) {
    scratch s(err, errlen);
    float *dx, *dw, *dy;
    if (s.get(&dx, rows * n * 4, x) || s.get(&dw, n * 4, weight) || s.get(&dy, rows * n * 4))
        return -1;
    ic_cuda_act a = {};
    a.f32 = dy;
    a.f32_ld = n;
    return finish(ic_cuda__rmsnorm(dx, n, dw, (int)rows, (int)n, eps, &a, 0), "rmsnorm", y, dy,
                  rows * n * 4, err, errlen);
}

extern "C" int ic_cuda_test_rope(float *x, size_t rows, size_t n_heads, size_t head_dim,
                                 size_t pos0, float theta, char *err, size_t errlen) {
    scratch s(err, errlen);
    float *dx;
    const size_t n = n_heads * head_dim;
    if (s.get(&dx, rows * n * 4, x)) return -1;
    const ic_cuda_rows rp = {(int)pos0, 1, 0};
    return finish(ic_cuda__rope(dx, n, (int)rows, (int)n_heads, (int)n_heads, (int)head_dim, rp,
                                theta, NULL, 0, 0, 0, 0),
                  "rope", x, dx, rows * n * 4, err, errlen);
}

extern "C" int ic_cuda_test_swiglu(const float *gate, const float *up, float *y, size_t n,
                                   char *err, size_t errlen) {
    scratch s(err, errlen);
    float *dgu, *dy;
    if (s.get(&dgu, 2 * n * 4) || s.get(&dy, n * 4) ||
        ic_cuda__check(cudaMemcpy(dgu, gate, n * 4, cudaMemcpyHostToDevice), err, errlen,
                       "cudaMemcpy(to the device)") ||
        ic_cuda__check(cudaMemcpy(dgu + n, up, n * 4, cudaMemcpyHostToDevice), err, errlen,
                       "cudaMemcpy(to the device)"))
        return -1;
    ic_cuda_act a = {};
    a.f32 = dy;
    a.f32_ld = n;
    return finish(ic_cuda__swiglu(dgu, 2 * n, 1, (int)n, &a, 0), "swiglu", y, dy, n * 4, err,
                  errlen);
}

extern "C" int ic_cuda_test_attention(const float *q, const uint16_t *k, const uint16_t *v,
                                      size_t rows, int causal, size_t n_head, size_t n_head_kv,
                                      size_t head_dim, size_t n_pos, int n_split, float *out,
                                      char *err, size_t errlen) {
    if (n_head_kv == 0 || n_head % n_head_kv || head_dim % 2 || head_dim > IC_CUDA_HEAD_DIM_MAX ||
        n_pos == 0 || rows == 0 || (causal && rows != n_pos) || n_split < 0 ||
        n_split > IC_CUDA_SPLIT_MAX) {
        snprintf(err, errlen, "test call: attention shape not supported");
        return -1;
    }
    scratch s(err, errlen);
    const size_t qd = n_head * head_dim, kvd = n_head_kv * head_dim;
    const size_t seqs = causal ? 1 : rows, cache = seqs * n_pos * kvd;
    /* The backend's cache layout: keys then values of each sequence. */
    float *dq, *dout, *part_o;
    __half *kv;
    float2 *part_ml;
    if (s.get(&dq, rows * qd * 4, q) || s.get(&dout, rows * qd * 4) || s.get(&kv, 2 * cache * 2) ||
        s.get(&part_o, rows * IC_CUDA_SPLIT_MAX * qd * 4) ||
        s.get(&part_ml, rows * IC_CUDA_SPLIT_MAX * n_head * 8))
        return -1;
    for (size_t sq = 0; sq < seqs; sq++) {
        const size_t bytes = n_pos * kvd * 2;
        if (ic_cuda__check(cudaMemcpy(kv + sq * 2 * n_pos * kvd, k + sq * n_pos * kvd, bytes,
                                      cudaMemcpyHostToDevice),
                           err, errlen, "cudaMemcpy(keys)") ||
            ic_cuda__check(cudaMemcpy(kv + (sq * 2 + 1) * n_pos * kvd, v + sq * n_pos * kvd, bytes,
                                      cudaMemcpyHostToDevice),
                           err, errlen, "cudaMemcpy(values)"))
            return -1;
    }
    const ic_cuda_rows rp = causal ? ic_cuda_rows{0, 1, 0} : ic_cuda_rows{(int)n_pos - 1, 0, 1};
    const int splits =
        n_split ? n_split
                : ic_cuda__attn_splits((int)rows, (int)n_head, (int)n_head_kv, (int)n_pos,
                                       sm_count(), (uint64_t)rows * IC_CUDA_SPLIT_MAX);
    const int chunk = ((int)n_pos + splits - 1) / splits;
    return finish(ic_cuda__attention(dq, qd, kv, kv + n_pos * kvd, 2 * n_pos * kvd, (int)kvd,
                                     (int)n_head, (int)n_head_kv, (int)head_dim, (int)rows, rp,
                                     splits, chunk, part_o, part_ml, dout, qd, 0),
                  "attention", out, dout, rows * qd * 4, err, errlen);
}

extern "C" int ic_cuda_test_logits(ic_offload_ctx *c, size_t rows, float *out, char *err,
                                   size_t errlen) {
    if (c == NULL || !c->loaded || rows < 1 || rows > c->shape.max_batch) {
        snprintf(err, errlen, "test call: no model loaded, or rows %zu out of range", rows);
        return -1;
    }
    const size_t bytes = rows * c->shape.n_vocab * 4;
    return ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice") ||
                   ic_cuda__check(cudaStreamSynchronize(c->stream), err, errlen,
                                  "cudaStreamSynchronize") ||
                   ic_cuda__check(
                       cudaMemcpy(out, c->act + c->L.logits, bytes, cudaMemcpyDeviceToHost), err,
                       errlen, "cudaMemcpy(logits)")
               ? -1
               : 0;
}
