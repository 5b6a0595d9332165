/* The kernel table, built from the variant list, and selection by CPU features and IC_ISA. */
#include "ic_dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define IC_GEMV(w, W, A, isa_, L, f)                                                               \
    {.op = IC_OP_GEMV,                                                                             \
     .name = "gemv_" #w "_" #isa_,                                                                 \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .fn.gemv = ic_gemv_##w##_##isa_},
#define IC_GEMM(w, W, A, isa_, L, f)                                                               \
    {.op = IC_OP_GEMM,                                                                             \
     .name = "gemm_" #w "_" #isa_,                                                                 \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .fn.gemm = ic_gemm_##w##_##isa_},
#define IC_QUANTIZE(t, T, isa_, L, f)                                                              \
    {.op = IC_OP_QUANTIZE,                                                                         \
     .name = "quantize_" #t "_" #isa_,                                                             \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .features = (f),                                                                              \
     .wtype = IC_DT_##T,                                                                           \
     .atype = IC_DT_F32,                                                                           \
     .fn.quantize = ic_quantize_##t##_##isa_},
#define IC_DEQUANTIZE(t, T, isa_, L, f)                                                            \
    {.op = IC_OP_DEQUANTIZE,                                                                       \
     .name = "dequantize_" #t "_" #isa_,                                                           \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .features = (f),                                                                              \
     .wtype = IC_DT_##T,                                                                           \
     .atype = IC_DT_##T,                                                                           \
     .fn.dequantize = ic_dequantize_##t##_##isa_},
#define IC_UNTYPED(OP, lop, isa_, L, f)                                                            \
    {.op = IC_OP_##OP,                                                                             \
     .name = #lop "_" #isa_,                                                                       \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .features = (f),                                                                              \
     .wtype = IC_DT_F32,                                                                           \
     .atype = IC_DT_F32,                                                                           \
     .fn.lop = ic_##lop##_##isa_},
#define IC_RMSNORM(isa_, L, f)   IC_UNTYPED(RMSNORM, rmsnorm, isa_, L, f)
#define IC_ROPE(isa_, L, f)      IC_UNTYPED(ROPE, rope, isa_, L, f)
#define IC_SOFTMAX(isa_, L, f)   IC_UNTYPED(SOFTMAX, softmax, isa_, L, f)
#define IC_SWIGLU(isa_, L, f)    IC_UNTYPED(SWIGLU, swiglu, isa_, L, f)
#define IC_ATTENTION(isa_, L, f) IC_UNTYPED(ATTENTION, attention, isa_, L, f)

static const ic_kernel g_table[] = {
#include "ic_kernels.inc"
};

static const char *const g_op_names[] = {
#define IC_X(id, str) str,
    IC_OP_LIST(IC_X)
#undef IC_X
};

const char *ic_op_name(ic_op op) {
    return (op >= 0 && op < IC_OP_COUNT) ? g_op_names[op] : NULL;
}

int ic_op_is_typed(ic_op op) {
    return op == IC_OP_GEMV || op == IC_OP_GEMM || op == IC_OP_QUANTIZE || op == IC_OP_DEQUANTIZE;
}

const ic_kernel *ic_kernel_table(size_t *count) {
    *count = sizeof g_table / sizeof g_table[0];
    return g_table;
}

#if defined(__x86_64__)
ic_gemv_runs_fn ic_gemv_runs_q8_0_avx512vnni, ic_gemv_runs_q4_0_avx512vnni;
#endif

ic_gemv_runs_fn *ic_gemv_runs_for(const ic_kernel *k) {
    if (k == NULL || k->op != IC_OP_GEMV) return NULL;
#if defined(__x86_64__)
    if (k->fn.gemv == ic_gemv_q8_0_avx512vnni) return ic_gemv_runs_q8_0_avx512vnni;
    if (k->fn.gemv == ic_gemv_q4_0_avx512vnni) return ic_gemv_runs_q4_0_avx512vnni;
#endif
    return NULL;
}

const ic_kernel *ic_kernel_by_name(const char *name) {
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++)
        if (strcmp(g_table[i].name, name) == 0) return &g_table[i];
    return NULL;
}

int ic_kernel_usable(const ic_kernel *k, uint64_t features, ic_level cap) {
    return ic_level_is_native(k->level) && k->level <= cap && (k->features & ~features) == 0;
}

static int key_matches(const ic_kernel *k, ic_op op, ic_dtype wtype) {
    return k->op == op && (!ic_op_is_typed(op) || k->wtype == wtype);
}

const ic_kernel *ic_select_for(ic_op op, ic_dtype wtype, uint64_t features, ic_level cap) {
    const ic_kernel *best = NULL;
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
        const ic_kernel *k = &g_table[i];
        if (!key_matches(k, op, wtype) || !ic_kernel_usable(k, features, cap)) continue;
        if (best == NULL || k->level >= best->level) best = k;
    }
    return best;
}

/* Why a variant was passed over, for IC_DEBUG. */
static void describe_skip(const ic_kernel *k, uint64_t features, ic_level cap, char *out,
                          size_t len) {
    if (!ic_level_is_native(k->level)) {
        snprintf(out, len, "other architecture");
    } else if (k->level > cap) {
        snprintf(out, len, "above the IC_ISA cap %s", ic_level_name(cap));
    } else {
        size_t used = (size_t)snprintf(out, len, "missing");
        for (int b = 0; b < IC_FEATURE_COUNT && used < len; b++) {
            uint64_t bit = 1ull << b;
            if ((k->features & bit) && !(features & bit))
                used += (size_t)snprintf(out + used, len - used, " %s", ic_feature_name(bit));
        }
    }
}

static struct {
    pthread_once_t once;
    int ok;
    ic_level cap;
    char err[512];
    const ic_kernel *chosen[IC_OP_COUNT][IC_DT_COUNT];
} g_sel = {.once = PTHREAD_ONCE_INIT};

static void init_once(void) {
    if (ic_level_cap(&g_sel.cap, g_sel.err, sizeof g_sel.err) != 0) return;
    const ic_cpu_info *cpu = ic_cpu();
    int debug = ic_debug_enabled();
    for (int op = 0; op < IC_OP_COUNT; op++) {
        int ntypes = ic_op_is_typed((ic_op)op) ? IC_DT_COUNT : 1;
        for (int t = 0; t < ntypes; t++) {
            const ic_kernel *k = ic_select_for((ic_op)op, (ic_dtype)t, cpu->features, g_sel.cap);
            g_sel.chosen[op][t] = k;
            if (!debug || k == NULL) continue;
            fprintf(stderr, "infercost: %s%s%s -> %s (level %s, IC_ISA cap %s)\n",
                    ic_op_name((ic_op)op), ntypes > 1 ? " " : "",
                    ntypes > 1 ? ic_dtype_name((ic_dtype)t) : "", k->name, ic_level_name(k->level),
                    ic_level_name(g_sel.cap));
            for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
                const ic_kernel *o = &g_table[i];
                if (o == k || !key_matches(o, (ic_op)op, (ic_dtype)t)) continue;
                char why[160];
                if (ic_kernel_usable(o, cpu->features, g_sel.cap))
                    snprintf(why, sizeof why, "usable, lower preference");
                else
                    describe_skip(o, cpu->features, g_sel.cap, why, sizeof why);
                fprintf(stderr, "infercost:   passed over %s: %s\n", o->name, why);
            }
        }
    }
    g_sel.ok = 1;
}

int ic_dispatch_init(char *err, size_t errlen) {
    pthread_once(&g_sel.once, init_once);
    if (!g_sel.ok) {
        snprintf(err, errlen, "%s", g_sel.err);
        return -1;
    }
    return 0;
}

const ic_kernel *ic_select(ic_op op, ic_dtype wtype) {
    pthread_once(&g_sel.once, init_once);
    if (!g_sel.ok || op < 0 || op >= IC_OP_COUNT || wtype < 0 || wtype >= IC_DT_COUNT) return NULL;
    return g_sel.chosen[op][ic_op_is_typed(op) ? wtype : 0];
}
