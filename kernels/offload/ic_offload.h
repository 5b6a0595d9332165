/* The offload backend interface: one table of functions per device kind (CUDA GPUs, AWS Neuron
 * devices), the same for every device, so that `infercost run --device NAME` drives any of them
 * through one sequence:
 *
 *   probe      is the backend built, is a device there, and what is it (no state kept)
 *   init       open device `index`: a context, a stream, the library handles
 *   load       the model's weights in device memory (synthetic values, as the CPU path uses), the
 *              KV cache and activations for up to max_batch sequences of max_ctx positions
 *   decode     enqueue one decode step for `batch` sequences at `context` positions
 *   prefill    enqueue one prefill of `tokens` prompt tokens
 *   timer      device-side timing of enqueued work (events on the stream), for the benchmark
 *              shim's manual time: timer_begin, enqueue, timer_end waits and returns seconds
 *   probes     the device's own ceilings, measured: a read of device memory (GB/s) and a large
 *              GEMM in bf16 (TFLOP/s), the roofline a run is compared against
 *   fini       free everything
 *
 * Every function returns 0, or -1 with a message in err naming what failed (the device call and
 * its error string). A backend that is not built still has a table: its probe says why.
 *
 * Backends: kernels/offload/cuda (built when CMake finds nvcc), kernels/offload/neuron (the Neuron
 * runtime is opened with dlopen at run time; the execution seam is documented there and not
 * implemented). */
#ifndef IC_OFFLOAD_H
#define IC_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "ic_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ic_offload_state {
    IC_OFFLOAD_NOT_BUILT = 0, /* this build has no code for the backend */
    IC_OFFLOAD_UNAVAILABLE,   /* built, but no runtime or no device here */
    IC_OFFLOAD_USABLE,        /* built, and a device answered */
} ic_offload_state;

/* What probe found. */
typedef struct ic_offload_info {
    ic_offload_state state;
    char why[256];      /* not built / unavailable: the reason, as `list` prints it */
    int n_devices;      /* devices visible */
    char device[128];   /* device 0's name, e.g. "NVIDIA H100 80GB HBM3" */
    uint64_t mem_bytes; /* device 0's memory */
    char runtime[96];   /* driver and runtime versions, e.g. "driver 13.0, runtime 13.0" */
    char arch[32];      /* e.g. "sm_90" */
} ic_offload_info;

/* The shape a backend builds: the model's dimensions and the weight type of every matrix. */
typedef struct ic_offload_shape {
    uint32_t n_layer, d_model, n_head, n_head_kv, head_dim, d_ff, n_vocab;
    uint32_t n_expert, n_expert_used; /* 0, 0 for a dense FFN */
    double rope_theta, norm_eps;
    int tied_embeddings;
    ic_dtype dtype;     /* IC_DT_BF16, IC_DT_Q8_0 or IC_DT_Q4_0 on CUDA */
    uint32_t max_ctx;   /* KV positions per sequence */
    uint32_t max_batch; /* sequences decoded at once */
    uint32_t max_prompt;
    uint64_t seed; /* synthetic weights */
} ic_offload_shape;

typedef struct ic_offload_ctx ic_offload_ctx; /* the backend's own */

typedef struct ic_offload_ops {
    const char *name;  /* "cuda", "neuron": the --device value */
    const char *label; /* "CUDA (NVIDIA GPUs)" */
    const char *note;  /* what `list` adds, e.g. what the backend has been run on; may be NULL */
    void (*probe)(ic_offload_info *info);
    int (*init)(int index, ic_offload_ctx **out, char *err, size_t errlen);
    /* Bytes of device memory load would use for s (weights, KV cache, activations, workspace),
     * so the caller can refuse a shape that does not fit before allocating. */
    uint64_t (*plan_bytes)(const ic_offload_shape *s);
    int (*load)(ic_offload_ctx *c, const ic_offload_shape *s, char *err, size_t errlen);
    int (*decode)(ic_offload_ctx *c, uint32_t batch, uint32_t context, char *err, size_t errlen);
    int (*prefill)(ic_offload_ctx *c, uint32_t tokens, char *err, size_t errlen);
    int (*synchronize)(ic_offload_ctx *c, char *err, size_t errlen);
    int (*timer_begin)(ic_offload_ctx *c, char *err, size_t errlen);
    int (*timer_end)(ic_offload_ctx *c, double *seconds, char *err, size_t errlen);
    /* Measured ceilings of device `c`: a read of `bytes` of device memory, and a square bf16 GEMM
     * of side n; each the best of `reps`. */
    int (*read_probe)(ic_offload_ctx *c, uint64_t bytes, int reps, double *gbs, char *err,
                      size_t errlen);
    int (*gemm_probe)(ic_offload_ctx *c, uint32_t n, int reps, double *tflops, char *err,
                      size_t errlen);
    void (*fini)(ic_offload_ctx *c);
} ic_offload_ops;

/* Every backend this source tree knows, built or not, in a fixed order; NULL past the end. */
const ic_offload_ops *ic_offload_backend(size_t i);

/* The backend named name, or NULL. */
const ic_offload_ops *ic_offload_find(const char *name);

/* "not built", "unavailable" or "usable". */
const char *ic_offload_state_name(ic_offload_state s);

#ifdef __cplusplus
}
#endif

#endif
