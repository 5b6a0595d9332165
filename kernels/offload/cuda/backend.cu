/* The CUDA backend's table: probe, the device's context (stream, cuBLAS, events), timing, the
 * bandwidth and GEMM probes. The model itself is in model.cu, the kernels in kernels.cu. */
#include "cuda_common.cuh"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

static int vfail(char *err, size_t errlen, const char *reason, const char *fmt, va_list ap) {
    if (err && errlen) {
        char what[192];
        vsnprintf(what, sizeof what, fmt, ap);
        snprintf(err, errlen, "%s: %s", what, reason);
    }
    return -1;
}

int ic_cuda__fail(char *err, size_t errlen, const char *reason, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(err, errlen, reason, fmt, ap);
    va_end(ap);
    return -1;
}

int ic_cuda__check(cudaError_t e, char *err, size_t errlen, const char *fmt, ...) {
    if (e == cudaSuccess) return 0;
    (void)cudaGetLastError(); /* a non-sticky error must not be reported again by the next check */
    va_list ap;
    va_start(ap, fmt);
    vfail(err, errlen, cudaGetErrorString(e), fmt, ap);
    va_end(ap);
    return -1;
}

int ic_cuda__check_blas(cublasStatus_t s, char *err, size_t errlen, const char *fmt, ...) {
    if (s == CUBLAS_STATUS_SUCCESS) return 0;
    va_list ap;
    va_start(ap, fmt);
    vfail(err, errlen, cublasGetStatusString(s), fmt, ap);
    va_end(ap);
    return -1;
}

const char *ic_cuda__bytes(uint64_t n, char *buf, size_t len) {
    if (n >= 1000000000ull)
        snprintf(buf, len, "%.1f GB", (double)n / 1e9);
    else if (n >= 1000000ull)
        snprintf(buf, len, "%.1f MB", (double)n / 1e6);
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    return buf;
}

int ic_cuda__malloc(void **p, uint64_t n, const char *what, char *err, size_t errlen) {
    char b[32];
    *p = NULL;
    if (n > (uint64_t)SIZE_MAX)
        return ic_cuda__fail(err, errlen, "too large", "cudaMalloc(%s for %s)",
                             ic_cuda__bytes(n, b, sizeof b), what);
    return ic_cuda__check(cudaMalloc(p, (size_t)n), err, errlen, "cudaMalloc(%s for %s)",
                          ic_cuda__bytes(n, b, sizeof b), what);
}

/* ---- probe ---- */

/* The build's kernels are sm_90 code (and compute_90 PTX, which newer devices compile at load);
 * an older device cannot run them. */
#define IC_CUDA_MIN_MAJOR 9

static void cuda_probe(ic_offload_info *info) {
    memset(info, 0, sizeof *info);
    info->state = IC_OFFLOAD_UNAVAILABLE;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        (void)cudaGetLastError();
        snprintf(info->why, sizeof info->why, "no CUDA device: %s",
                 e != cudaSuccess ? cudaGetErrorString(e) : "the runtime sees 0 devices");
        return;
    }
    info->n_devices = n;
    cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, 0);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(info->why, sizeof info->why, "cudaGetDeviceProperties(0): %s",
                 cudaGetErrorString(e));
        return;
    }
    snprintf(info->device, sizeof info->device, "%.127s", p.name);
    info->mem_bytes = p.totalGlobalMem;
    snprintf(info->arch, sizeof info->arch, "sm_%d%d", p.major, p.minor);
    int drv = 0, rt = 0;
    if (cudaDriverGetVersion(&drv) != cudaSuccess) drv = 0;
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) rt = 0;
    (void)cudaGetLastError();
    snprintf(info->runtime, sizeof info->runtime, "driver %d.%d, runtime %d.%d", drv / 1000,
             drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    if (p.major < IC_CUDA_MIN_MAJOR) {
        snprintf(info->why, sizeof info->why,
                 "device 0 (%.120s) is %s; this build's kernels need sm_%d0 or newer", p.name,
                 info->arch, IC_CUDA_MIN_MAJOR);
        return;
    }
    info->state = IC_OFFLOAD_USABLE;
}

/* ---- context ---- */

static void cuda_fini(ic_offload_ctx *c) {
    if (c == NULL) return;
    (void)cudaSetDevice(c->device);
    if (c->stream) (void)cudaStreamSynchronize(c->stream);
    ic_cuda__unload(c);
    if (c->blas) cublasDestroy(c->blas);
    if (c->workspace) (void)cudaFree(c->workspace);
    if (c->ev_begin) (void)cudaEventDestroy(c->ev_begin);
    if (c->ev_end) (void)cudaEventDestroy(c->ev_end);
    if (c->stream) (void)cudaStreamDestroy(c->stream);
    (void)cudaGetLastError();
    free(c);
}

static int cuda_init(int index, ic_offload_ctx **out, char *err, size_t errlen) {
    *out = NULL;
    int n = 0;
    if (ic_cuda__check(cudaGetDeviceCount(&n), err, errlen, "no CUDA device: cudaGetDeviceCount"))
        return -1;
    if (index < 0 || index >= n) {
        snprintf(err, errlen, "CUDA device %d: there are %d (0 to %d)", index, n, n - 1);
        return -1;
    }
    if (ic_cuda__check(cudaSetDevice(index), err, errlen, "cudaSetDevice(%d)", index)) return -1;
    ic_offload_ctx *c = (ic_offload_ctx *)calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of host memory for the CUDA context");
        return -1;
    }
    c->device = index;
    int sms = 0;
    if (ic_cuda__check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, index), err,
                       errlen, "cudaDeviceGetAttribute(multiprocessors)") ||
        ic_cuda__check(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), err, errlen,
                       "cudaStreamCreate") ||
        ic_cuda__check(cudaEventCreate(&c->ev_begin), err, errlen, "cudaEventCreate") ||
        ic_cuda__check(cudaEventCreate(&c->ev_end), err, errlen, "cudaEventCreate") ||
        ic_cuda__check_blas(cublasCreate(&c->blas), err, errlen, "cublasCreate") ||
        ic_cuda__check_blas(cublasSetStream(c->blas, c->stream), err, errlen, "cublasSetStream") ||
        ic_cuda__malloc(&c->workspace, IC_CUDA_WORKSPACE_BYTES, "the cuBLAS workspace", err,
                        errlen) ||
        ic_cuda__check_blas(
            cublasSetWorkspace(c->blas, c->workspace, (size_t)IC_CUDA_WORKSPACE_BYTES), err, errlen,
            "cublasSetWorkspace")) {
        cuda_fini(c);
        return -1;
    }
    c->sm_count = sms > 0 ? sms : 1;
    *out = c;
    return 0;
}

static int cuda_synchronize(ic_offload_ctx *c, char *err, size_t errlen) {
    if (ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice(%d)", c->device))
        return -1;
    return ic_cuda__check(cudaStreamSynchronize(c->stream), err, errlen,
                          "cudaStreamSynchronize (the work enqueued since the last check)");
}

/* ---- timing ---- */

static int cuda_timer_begin(ic_offload_ctx *c, char *err, size_t errlen) {
    return ic_cuda__check(cudaEventRecord(c->ev_begin, c->stream), err, errlen,
                          "cudaEventRecord(begin)");
}

static int cuda_timer_end(ic_offload_ctx *c, double *seconds, char *err, size_t errlen) {
    float ms = 0.0f;
    *seconds = 0.0;
    if (ic_cuda__check(cudaEventRecord(c->ev_end, c->stream), err, errlen,
                       "cudaEventRecord(end)") ||
        ic_cuda__check(cudaEventSynchronize(c->ev_end), err, errlen,
                       "cudaEventSynchronize (the timed work)") ||
        ic_cuda__check(cudaEventElapsedTime(&ms, c->ev_begin, c->ev_end), err, errlen,
                       "cudaEventElapsedTime"))
        return -1;
    *seconds = (double)ms * 1e-3;
    return 0;
}

/* ---- probes ---- */

static int cuda_read_probe(ic_offload_ctx *c, uint64_t bytes, int reps, double *gbs, char *err,
                           size_t errlen) {
    *gbs = 0.0;
    const uint64_t n16 = bytes / 16;
    if (n16 == 0 || reps < 1) {
        snprintf(err, errlen, "read probe: %llu bytes, %d repetitions: want >= 16 bytes and >= 1",
                 (unsigned long long)bytes, reps);
        return -1;
    }
    if (ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice(%d)", c->device))
        return -1;
    void *buf = NULL, *sink = NULL;
    int rc = -1;
    double best = INFINITY;
    if (ic_cuda__malloc(&buf, n16 * 16, "the read probe", err, errlen) ||
        ic_cuda__malloc(&sink, 256, "the read probe's result", err, errlen) ||
        ic_cuda__check(cudaMemsetAsync(buf, 0x5a, n16 * 16, c->stream), err, errlen,
                       "cudaMemset(read probe)"))
        goto out;
    /* One untimed pass first: page mappings and clocks. */
    if (ic_cuda__check(ic_cuda__read(buf, n16, (unsigned *)sink, c->sm_count, c->stream), err,
                       errlen, "read kernel launch"))
        goto out;
    for (int r = 0; r < reps; r++) {
        double s;
        if (cuda_timer_begin(c, err, errlen) ||
            ic_cuda__check(ic_cuda__read(buf, n16, (unsigned *)sink, c->sm_count, c->stream), err,
                           errlen, "read kernel launch") ||
            cuda_timer_end(c, &s, err, errlen))
            goto out;
        if (s < best) best = s;
    }
    if (!(best > 0.0)) {
        snprintf(err, errlen, "read probe: the events measured %g s", best);
        goto out;
    }
    *gbs = (double)(n16 * 16) / best / 1e9;
    rc = 0;
out:
    (void)cudaStreamSynchronize(c->stream);
    if (buf) (void)cudaFree(buf);
    if (sink) (void)cudaFree(sink);
    return rc;
}

static int cuda_gemm_probe(ic_offload_ctx *c, uint32_t n, int reps, double *tflops, char *err,
                           size_t errlen) {
    *tflops = 0.0;
    if (n == 0 || n > (1u << 16) || reps < 1) {
        snprintf(err, errlen, "GEMM probe: n = %u, %d repetitions: want 1 to 65536 and >= 1", n,
                 reps);
        return -1;
    }
    if (ic_cuda__check(cudaSetDevice(c->device), err, errlen, "cudaSetDevice(%d)", c->device))
        return -1;
    const uint64_t nn = (uint64_t)n * n;
    void *a = NULL, *b = NULL, *y = NULL;
    int rc = -1;
    double best = INFINITY;
    /* Random operands: zeros would draw less power and could run faster than real data. */
    if (ic_cuda__malloc(&a, nn * 2 + 16, "the GEMM probe's A", err, errlen) ||
        ic_cuda__malloc(&b, nn * 2 + 16, "the GEMM probe's B", err, errlen) ||
        ic_cuda__malloc(&y, nn * 4, "the GEMM probe's C", err, errlen) ||
        ic_cuda__check(ic_cuda__fill_weights(a, IC_DT_BF16, n, n, 1.0f, 1, 1, c->stream), err,
                       errlen, "fill kernel launch") ||
        ic_cuda__check(ic_cuda__fill_weights(b, IC_DT_BF16, n, n, 1.0f, 1, 2, c->stream), err,
                       errlen, "fill kernel launch"))
        goto out;
    for (int r = -1; r < reps; r++) { /* r = -1: the untimed first call (heuristics, clocks) */
        double s = 0.0;
        if (r >= 0 && cuda_timer_begin(c, err, errlen)) goto out;
        if (ic_cuda__check_blas(ic_cuda__gemm_bf16(c->blas, (int)n, (int)n, (int)n, a, b, (int)n,
                                                   (float *)y, (int)n, 0.0f),
                                err, errlen, "cublasGemmEx(bf16, %u x %u x %u)", n, n, n))
            goto out;
        if (r >= 0) {
            if (cuda_timer_end(c, &s, err, errlen)) goto out;
            if (s < best) best = s;
        }
    }
    if (!(best > 0.0)) {
        snprintf(err, errlen, "GEMM probe: the events measured %g s", best);
        goto out;
    }
    *tflops = 2.0 * (double)n * (double)n * (double)n / best / 1e12;
    rc = 0;
out:
    (void)cudaStreamSynchronize(c->stream);
    if (a) (void)cudaFree(a);
    if (b) (void)cudaFree(b);
    if (y) (void)cudaFree(y);
    return rc;
}

static uint64_t cuda_plan_bytes(const ic_offload_shape *s) {
    return ic_cuda_plan_bytes(s);
}

extern "C" const ic_offload_ops ic_offload_cuda_ops = {
    /* name */ "cuda",
    /* label */ "CUDA (NVIDIA GPUs)",
    /* note */ "kernels for sm_90 (H100, H200); compiled, not yet run on a GPU",
    /* probe */ cuda_probe,
    /* init */ cuda_init,
    /* plan_bytes */ cuda_plan_bytes,
    /* load */ ic_cuda__load,
    /* decode */ ic_cuda__decode,
    /* prefill */ ic_cuda__prefill,
    /* synchronize */ cuda_synchronize,
    /* timer_begin */ cuda_timer_begin,
    /* timer_end */ cuda_timer_end,
    /* read_probe */ cuda_read_probe,
    /* gemm_probe */ cuda_gemm_probe,
    /* fini */ cuda_fini,
};
