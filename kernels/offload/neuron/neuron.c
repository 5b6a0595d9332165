/* The AWS Neuron (Trainium, Inferentia) offload backend: a stub with a clean seam.
 *
 * What it does: opens the Neuron runtime library (libnrt) with dlopen at run time, so that one
 * binary runs everywhere; checks that the entry points a real path needs are there; and, on a
 * machine with Neuron devices, initializes the runtime to count the NeuronCores. It runs nothing:
 * a model on Neuron is a NEFF compiled ahead of time by the Neuron compiler (neuronx-cc), and this
 * project has no NEFF of its decode step. probe therefore says "unavailable" with the reason, and
 * init fails with it, so `infercost run --device neuron` exits 2 saying why.
 *
 * The seam a real path needs (README.md beside this file has the details):
 *   1. nrt_init(NRT_FRAMEWORK_TYPE_NO_FW, "", "")                 once per process
 *   2. nrt_load(neff_bytes, size, start_nc, nc_count, &model)     a NEFF per (shape, batch, ctx)
 *   3. nrt_allocate_tensor_set(&in), nrt_tensor_allocate(NRT_TENSOR_PLACEMENT_DEVICE, nc, bytes,
 *      name, &t), nrt_add_tensor_to_tensor_set(in, name, t)      inputs and outputs by the NEFF's
 *                                                                 tensor names
 *   4. nrt_execute(model, in, out)                                one decode step or one prefill
 *   5. nrt_unload(model), nrt_close()
 * Timing would wrap step 4 (it is synchronous) with the host's monotonic clock. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ic_offload.h"

/* The runtime's entry points this seam uses, by name (nrt.h of the Neuron SDK, NRT 2.x). */
static const char *const g_symbols[] = {
    "nrt_init",
    "nrt_close",
    "nrt_get_total_nc_count",
    "nrt_load",
    "nrt_unload",
    "nrt_execute",
    "nrt_allocate_tensor_set",
    "nrt_tensor_allocate",
    "nrt_add_tensor_to_tensor_set",
};

typedef int nrt_init_fn(int framework, const char *fw_version, const char *fal_version);
typedef int nrt_count_fn(uint32_t *nc_count);
typedef void nrt_close_fn(void);
#define NRT_FRAMEWORK_TYPE_NO_FW 1 /* nrt.h: nrt_framework_type_t */

/* dlopen the runtime: $IC_NRT_LIBRARY if set, else the soname, else the SDK's default path. A
 * statically linked binary (the cross-built aarch64 one) cannot load a shared runtime at all. */
static void *open_runtime(char *where, size_t len, char *why, size_t wlen) {
#if defined(IC_OFFLOAD_STATIC)
    (void)where, (void)len;
    snprintf(why, wlen,
             "this binary is linked statically and cannot dlopen libnrt: use a "
             "dynamically linked build on the Neuron host");
    return NULL;
#endif
    const char *env = getenv("IC_NRT_LIBRARY");
    const char *const candidates[] = {env && env[0] ? env : NULL, "libnrt.so.1",
                                      "/opt/aws/neuron/lib/libnrt.so.1"};
    why[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i]) continue;
        void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            snprintf(where, len, "%s", candidates[i]);
            return h;
        }
        if (!why[0]) snprintf(why, wlen, "%s", dlerror()); /* the first failure names the cause */
        if (env && env[0]) break; /* a library the user named: no fallback */
    }
    return NULL;
}

static void neuron_probe(ic_offload_info *info) {
    memset(info, 0, sizeof *info);
    info->state = IC_OFFLOAD_UNAVAILABLE;
    char where[256], why[200];
    why[0] = '\0';
    void *h = open_runtime(where, sizeof where, why, sizeof why);
    if (!h) {
        snprintf(info->why, sizeof info->why, "Neuron runtime not found (%.200s)", why);
        return;
    }
    for (size_t i = 0; i < sizeof g_symbols / sizeof *g_symbols; i++)
        if (!dlsym(h, g_symbols[i])) {
            snprintf(info->why, sizeof info->why,
                     "the Neuron runtime %.150s lacks %s: not a Neuron runtime 2.x", where,
                     g_symbols[i]);
            dlclose(h);
            return;
        }
    nrt_init_fn *init = (nrt_init_fn *)dlsym(h, "nrt_init");
    nrt_count_fn *count = (nrt_count_fn *)dlsym(h, "nrt_get_total_nc_count");
    nrt_close_fn *fini = (nrt_close_fn *)dlsym(h, "nrt_close");
    uint32_t cores = 0;
    int st = init(NRT_FRAMEWORK_TYPE_NO_FW, "", "");
    if (st != 0) {
        snprintf(
            info->why, sizeof info->why,
            "the Neuron runtime %.100s is installed but nrt_init failed (status %d): no Neuron "
            "device here, or the driver is not loaded",
            where, st);
        dlclose(h);
        return;
    }
    if (count(&cores) == 0) info->n_devices = (int)cores;
    fini();
    snprintf(info->runtime, sizeof info->runtime, "%.95s", where);
    snprintf(info->device, sizeof info->device, "%u NeuronCores", cores);
    snprintf(info->why, sizeof info->why,
             "the Neuron runtime %.80s answers (%u NeuronCores), but running a model needs a NEFF "
             "compiled by neuronx-cc, and this build has none (kernels/offload/neuron/README.md)",
             where, cores);
    dlclose(h);
}

static int neuron_init(int index, ic_offload_ctx **out, char *err, size_t errlen) {
    ic_offload_info info;
    neuron_probe(&info);
    *out = NULL;
    snprintf(err, errlen, "unavailable: %s", info.why);
    return -1;
}

const ic_offload_ops ic_offload_neuron_ops = {
    .name = "neuron",
    .label = "AWS Neuron (Trainium, Inferentia): stub",
    .probe = neuron_probe,
    .init = neuron_init,
};
