/* The offload backends this source tree knows (ic_offload.h), built or not. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ic_offload.h"

extern const ic_offload_ops ic_offload_neuron_ops; /* neuron/neuron.c: always built (dlopen) */

/* ---- cuda: a proxy for the plugin ----
 * The CUDA backend is a shared library (cuda/CMakeLists.txt) opened on first use, so that no CPU
 * command loads cuBLAS. Where it is looked for: $IC_CUDA_PLUGIN, then <prefix>/lib/infercost/
 * beside the binary (<prefix>/bin), then the build tree's path when this build made one. */
#define CUDA_PLUGIN_NAME "libic_offload_cuda.so"
#define CUDA_NOTE                                                                                  \
    "a plugin (" CUDA_PLUGIN_NAME ") built for sm_90 (H100, H200); compiled, not yet run on a GPU"

static const ic_offload_ops *g_cuda; /* the plugin's table, once loaded */
static char g_cuda_why[sizeof(((ic_offload_info *)0)->why)];

#if defined(IC_CUDA_PLUGIN_BUILD_PATH) && !defined(IC_OFFLOAD_STATIC)
/* The plugin beside the binary: <dir of /proc/self/exe>/../lib/infercost/. */
static int installed_path(char *out, size_t len) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    int w = snprintf(out, len, "%s/../lib/infercost/" CUDA_PLUGIN_NAME, exe);
    return w > 0 && (size_t)w < len ? 0 : -1;
}

static const ic_offload_ops *cuda_plugin(void) {
    static int tried;
    if (tried) return g_cuda;
    tried = 1;
    char here[4200] = "";
    const char *env = getenv("IC_CUDA_PLUGIN");
    const char *paths[3] = {env && env[0] ? env : NULL,
                            installed_path(here, sizeof here) == 0 ? here : NULL,
                            IC_CUDA_PLUGIN_BUILD_PATH};
    char first[160] = "";
    for (size_t i = 0; i < 3; i++) {
        if (!paths[i]) continue;
        if (i > 0 && access(paths[i], F_OK) != 0) continue; /* not installed there */
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        const ic_offload_ops *t =
            h ? (const ic_offload_ops *)dlsym(h, "ic_offload_cuda_ops") : NULL;
        if (t) return g_cuda = t;
        if (!first[0])
            snprintf(first, sizeof first, "%.150s", h ? "no ic_offload_cuda_ops" : dlerror());
        if (h) dlclose(h);
        if (i == 0) break; /* a plugin the user named: no fallback */
    }
    snprintf(g_cuda_why, sizeof g_cuda_why, "the CUDA backend plugin cannot be loaded (%s)",
             first[0] ? first : CUDA_PLUGIN_NAME " not found beside the binary or in the build");
    return NULL;
}
#else
static const ic_offload_ops *cuda_plugin(void) {
#ifndef IC_OFFLOAD_CUDA_WHY
#define IC_OFFLOAD_CUDA_WHY "this build has no CUDA backend"
#endif
    snprintf(g_cuda_why, sizeof g_cuda_why, "%s", IC_OFFLOAD_CUDA_WHY);
    return NULL;
}
#endif

static void cuda_probe(ic_offload_info *info) {
    const ic_offload_ops *p = cuda_plugin();
    if (p) {
        p->probe(info);
        return;
    }
    memset(info, 0, sizeof *info);
#if defined(IC_CUDA_PLUGIN_BUILD_PATH)
    info->state = IC_OFFLOAD_UNAVAILABLE;
#else
    info->state = IC_OFFLOAD_NOT_BUILT;
#endif
    snprintf(info->why, sizeof info->why, "%s", g_cuda_why);
}

static int cuda_init(int index, ic_offload_ctx **out, char *err, size_t errlen) {
    const ic_offload_ops *p = cuda_plugin();
    if (p) return p->init(index, out, err, errlen);
    *out = NULL;
    snprintf(err, errlen, "%s", g_cuda_why);
    return -1;
}

/* Every other entry takes a context init made, so the plugin is loaded by then. */
static uint64_t cuda_plan_bytes(const ic_offload_shape *s) {
    const ic_offload_ops *p = cuda_plugin();
    return p ? p->plan_bytes(s) : UINT64_MAX;
}
static int cuda_load(ic_offload_ctx *c, const ic_offload_shape *s, char *e, size_t n) {
    return g_cuda->load(c, s, e, n);
}
static int cuda_decode(ic_offload_ctx *c, uint32_t b, uint32_t ctx, char *e, size_t n) {
    return g_cuda->decode(c, b, ctx, e, n);
}
static int cuda_prefill(ic_offload_ctx *c, uint32_t t, char *e, size_t n) {
    return g_cuda->prefill(c, t, e, n);
}
static int cuda_sync(ic_offload_ctx *c, char *e, size_t n) {
    return g_cuda->synchronize(c, e, n);
}
static int cuda_begin(ic_offload_ctx *c, char *e, size_t n) {
    return g_cuda->timer_begin(c, e, n);
}
static int cuda_end(ic_offload_ctx *c, double *s, char *e, size_t n) {
    return g_cuda->timer_end(c, s, e, n);
}
static int cuda_read(ic_offload_ctx *c, uint64_t bytes, int reps, double *gbs, char *e, size_t n) {
    return g_cuda->read_probe(c, bytes, reps, gbs, e, n);
}
static int cuda_gemm(ic_offload_ctx *c, uint32_t side, int reps, double *tf, char *e, size_t n) {
    return g_cuda->gemm_probe(c, side, reps, tf, e, n);
}
static void cuda_fini(ic_offload_ctx *c) {
    if (g_cuda) g_cuda->fini(c);
}

static const ic_offload_ops g_cuda_proxy = {
    .name = "cuda",
    .label = "CUDA (NVIDIA GPUs)",
#if defined(IC_CUDA_PLUGIN_BUILD_PATH)
    .note = CUDA_NOTE,
#endif
    .probe = cuda_probe,
    .init = cuda_init,
    .plan_bytes = cuda_plan_bytes,
    .load = cuda_load,
    .decode = cuda_decode,
    .prefill = cuda_prefill,
    .synchronize = cuda_sync,
    .timer_begin = cuda_begin,
    .timer_end = cuda_end,
    .read_probe = cuda_read,
    .gemm_probe = cuda_gemm,
    .fini = cuda_fini,
};

static const ic_offload_ops *const g_backends[] = {&g_cuda_proxy, &ic_offload_neuron_ops};

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
