/* The offload backends this source tree knows (ic_offload.h), built or not. */
#include <stdio.h>
#include <string.h>

#include "ic_offload.h"

extern const ic_offload_ops ic_offload_neuron_ops; /* neuron/neuron.c: always built (dlopen) */

#if defined(IC_OFFLOAD_HAVE_CUDA)
extern const ic_offload_ops ic_offload_cuda_ops; /* cuda/: built when CMake found nvcc */
#else
#ifndef IC_OFFLOAD_CUDA_WHY
#define IC_OFFLOAD_CUDA_WHY "this build has no CUDA backend library"
#endif
static void cuda_not_built(ic_offload_info *info) {
    memset(info, 0, sizeof *info);
    info->state = IC_OFFLOAD_NOT_BUILT;
    snprintf(info->why, sizeof info->why, "%s", IC_OFFLOAD_CUDA_WHY);
}
static const ic_offload_ops ic_offload_cuda_ops = {
    .name = "cuda", .label = "CUDA (NVIDIA GPUs)", .probe = cuda_not_built};
#endif

static const ic_offload_ops *const g_backends[] = {&ic_offload_cuda_ops, &ic_offload_neuron_ops};

const ic_offload_ops *ic_offload_backend(size_t i) {
    return i < sizeof g_backends / sizeof *g_backends ? g_backends[i] : NULL;
}

const ic_offload_ops *ic_offload_find(const char *name) {
    for (size_t i = 0; i < sizeof g_backends / sizeof *g_backends; i++)
        if (strcmp(g_backends[i]->name, name) == 0) return g_backends[i];
    return NULL;
}

const char *ic_offload_state_name(ic_offload_state s) {
    switch (s) {
    case IC_OFFLOAD_NOT_BUILT:
        return "not built";
    case IC_OFFLOAD_UNAVAILABLE:
        return "unavailable";
    case IC_OFFLOAD_USABLE:
        return "usable";
    }
    return "?";
}
