/* The kernel table, built from the variant list, and selection by CPU features and IC_ISA. */
#include "ic_dispatch.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Workers' shares of a matrix's rows start at multiples of 16 rows: each worker writes whole
 * 64-byte lines of the f32 output (16 floats), never a line another worker writes, and every
 * variant's steps of 4 rows stay whole, as the four-runs entry needs (ic_rows_as_runs). Every
 * GEMV and GEMM record carries it (ic_kernel.row_align), so callers never hard-code it. */
#define MATMUL_ROW_ALIGN 16

#define IC_GEMV(w, W, A, isa_, L, P, f)                                                            \
    {.op = IC_OP_GEMV,                                                                             \
     .name = "gemv_" #w "_" #isa_,                                                                 \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .row_align = MATMUL_ROW_ALIGN,                                                                \
     .fn.gemv = ic_gemv_##w##_##isa_},
#define IC_GEMV_RUNS_TOKENS(w, W, A, isa_, L, P, f)                                                \
    {.op = IC_OP_GEMV,                                                                             \
     .name = "gemv_" #w "_" #isa_,                                                                 \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .row_align = MATMUL_ROW_ALIGN,                                                                \
     .fn.gemv = ic_gemv_##w##_##isa_,                                                              \
     .gemv_runs = ic_gemv_runs_##w##_##isa_,                                                       \
     .gemv_tokens = ic_gemv_tokens_##w##_##isa_},
#define IC_GEMM(w, W, A, isa_, L, P, f)                                                            \
    {.op = IC_OP_GEMM,                                                                             \
     .name = "gemm_" #w "_" #isa_,                                                                 \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .row_align = MATMUL_ROW_ALIGN,                                                                \
     .fn.gemm = ic_gemm_##w##_##isa_},
#define IC_GEMV_P16(w, W, A, isa_, L, P, f)                                                        \
    {.op = IC_OP_GEMV,                                                                             \
     .name = "gemv_" #w "_p16_" #isa_,                                                             \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .row_align = MATMUL_ROW_ALIGN,                                                                \
     .layout = IC_LAYOUT_PANEL16,                                                                  \
     .fn.gemv = ic_gemv_##w##_p16_##isa_},
#define IC_GEMM_P16(w, W, A, isa_, L, P, f)                                                        \
    {.op = IC_OP_GEMM,                                                                             \
     .name = "gemm_" #w "_p16_" #isa_,                                                             \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##W,                                                                           \
     .atype = IC_DT_##A,                                                                           \
     .row_align = MATMUL_ROW_ALIGN,                                                                \
     .layout = IC_LAYOUT_PANEL16,                                                                  \
     .fn.gemm = ic_gemm_##w##_p16_##isa_},
#define IC_QUANTIZE(t, T, isa_, L, P, f)                                                           \
    {.op = IC_OP_QUANTIZE,                                                                         \
     .name = "quantize_" #t "_" #isa_,                                                             \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##T,                                                                           \
     .atype = IC_DT_F32,                                                                           \
     .fn.quantize = ic_quantize_##t##_##isa_},
#define IC_DEQUANTIZE(t, T, isa_, L, P, f)                                                         \
    {.op = IC_OP_DEQUANTIZE,                                                                       \
     .name = "dequantize_" #t "_" #isa_,                                                           \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##T,                                                                           \
     .atype = IC_DT_##T,                                                                           \
     .fn.dequantize = ic_dequantize_##t##_##isa_},
#define IC_UNTYPED(OP, lop, isa_, L, P, f)                                                         \
    {.op = IC_OP_##OP,                                                                             \
     .name = #lop "_" #isa_,                                                                       \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_F32,                                                                           \
     .atype = IC_DT_F32,                                                                           \
     .fn.lop = ic_##lop##_##isa_},
#define IC_RMSNORM(isa_, L, P, f) IC_UNTYPED(RMSNORM, rmsnorm, isa_, L, P, f)
#define IC_ROPE(isa_, L, P, f)    IC_UNTYPED(ROPE, rope, isa_, L, P, f)
#define IC_SOFTMAX(isa_, L, P, f) IC_UNTYPED(SOFTMAX, softmax, isa_, L, P, f)
#define IC_SWIGLU(isa_, L, P, f)  IC_UNTYPED(SWIGLU, swiglu, isa_, L, P, f)
/* rows: the prompt entry, or NULL */
#define IC_ATTENTION_ENTRY(kv, KV, isa_, L, P, f, rows)                                            \
    {.op = IC_OP_ATTENTION,                                                                        \
     .name = "attention_" #kv "_" #isa_,                                                           \
     .isa = #isa_,                                                                                 \
     .level = IC_LVL_##L,                                                                          \
     .priority = (P),                                                                              \
     .features = (f),                                                                              \
     .wtype = IC_DT_##KV,                                                                          \
     .atype = IC_DT_F32,                                                                           \
     .fn.attention = ic_attention_##kv##_##isa_,                                                   \
     .attention_rows = (rows)},
#define IC_ATTENTION(kv, KV, isa_, L, P, f) IC_ATTENTION_ENTRY(kv, KV, isa_, L, P, f, NULL)
#define IC_ATTENTION_ROWS(kv, KV, isa_, L, P, f)                                                   \
    IC_ATTENTION_ENTRY(kv, KV, isa_, L, P, f, ic_attention_rows_##kv##_##isa_)

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
    return op == IC_OP_GEMV || op == IC_OP_GEMM || op == IC_OP_QUANTIZE || op == IC_OP_DEQUANTIZE ||
           op == IC_OP_ATTENTION;
}

int ic_op_takes_type(ic_op op, ic_dtype t) {
    if (t < 0 || t >= IC_DT_COUNT) return 0;
    switch (op) {
    case IC_OP_GEMV:
    case IC_OP_GEMM:
        return ic_dtype_is_weight(t);
    case IC_OP_ATTENTION:
        return ic_dtype_is_kv(t);
    default:
        return 1;
    }
}

const ic_kernel *ic_kernel_table(size_t *count) {
    *count = sizeof g_table / sizeof g_table[0];
    return g_table;
}

const ic_kernel *ic_kernel_by_name(const char *name) {
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++)
        if (strcmp(g_table[i].name, name) == 0) return &g_table[i];
    return NULL;
}

/* The three ways a variant can be unusable; ic_kernel_usable and ic_kernel_why_unusable both
 * read them, so the predicate and its explanation cannot disagree. */
static int other_arch(const ic_kernel *k) {
    return !ic_level_is_native(k->level);
}

static int above_cap(const ic_kernel *k, ic_level cap) {
    return k->level > cap;
}

static uint64_t missing_features(const ic_kernel *k, uint64_t features) {
    return k->features & ~features;
}

int ic_kernel_usable(const ic_kernel *k, uint64_t features, ic_level cap) {
    return !other_arch(k) && !above_cap(k, cap) && missing_features(k, features) == 0;
}

const char *ic_kernel_why_unusable(const ic_kernel *k, uint64_t features, ic_level cap, char *buf,
                                   size_t len) {
    if (ic_kernel_usable(k, features, cap)) return NULL;
    assert(buf != NULL && len > 0);
    buf[0] = '\0';
    if (other_arch(k)) {
        snprintf(buf, len, "other architecture (level %s)", ic_level_name(k->level));
        return buf;
    }
    size_t used = 0;
    if (above_cap(k, cap))
        used = (size_t)snprintf(buf, len, "above the IC_ISA cap %s", ic_level_name(cap));
    const uint64_t missing = missing_features(k, features);
    if (missing != 0 && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%smissing", used ? "; " : "");
    for (int b = 0; b < IC_FEATURE_COUNT && used < len; b++)
        if (missing & (1ull << b))
            used += (size_t)snprintf(buf + used, len - used, " %s", ic_feature_name(1ull << b));
    return buf;
}

static int key_matches(const ic_kernel *k, ic_op op, ic_dtype wtype) {
    return k->op == op && (!ic_op_is_typed(op) || k->wtype == wtype);
}

/* Whether a ranks above b: the higher level, then the higher priority. */
static int ranks_above(const ic_kernel *a, const ic_kernel *b) {
    return a->level != b->level ? a->level > b->level : a->priority > b->priority;
}

const ic_kernel *ic_select_for(ic_op op, ic_dtype wtype, uint64_t features, ic_level cap) {
    const ic_kernel *best = NULL;
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
        const ic_kernel *k = &g_table[i];
        if (!key_matches(k, op, wtype) || !ic_kernel_usable(k, features, cap)) continue;
        if (best == NULL || ranks_above(k, best)) best = k;
    }
    return best;
}

const ic_kernel *ic_select_layout(ic_op op, ic_dtype wtype, ic_layout layout, uint64_t features,
                                  ic_level cap) {
    const ic_kernel *best = NULL;
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
        const ic_kernel *k = &g_table[i];
        if (!key_matches(k, op, wtype) || k->layout != layout ||
            !ic_kernel_usable(k, features, cap))
            continue;
        if (best == NULL || ranks_above(k, best)) best = k;
    }
    return best;
}

ic_level ic_best_level(uint64_t features) {
    ic_level best = IC_LVL_REF;
    for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
        const ic_kernel *k = &g_table[i];
        if (ic_kernel_usable(k, features, IC_LVL_COUNT) && k->level > best) best = k->level;
    }
    return best;
}

void ic_isa_cap_describe(uint64_t features, char *buf, size_t len) {
    ic_level cap;
    if (ic_level_cap(&cap, buf, len) != 0) return;
    const char *best = ic_level_name(ic_best_level(features));
    if (ic_isa_env() == NULL)
        snprintf(buf, len, "none (IC_ISA unset; best level on this CPU: %s)", best);
    else
        snprintf(buf, len, "%s (from IC_ISA; best level on this CPU: %s)", ic_level_name(cap),
                 best);
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
            if (!ic_op_takes_type((ic_op)op, (ic_dtype)t)) continue;
            const ic_kernel *k = ic_select_for((ic_op)op, (ic_dtype)t, cpu->features, g_sel.cap);
            g_sel.chosen[op][t] = k;
            if (!debug || k == NULL) continue;
            fprintf(stderr, "infercost: %s%s%s -> %s (level %s, IC_ISA cap %s)\n",
                    ic_op_name((ic_op)op), ntypes > 1 ? " " : "",
                    ntypes > 1 ? ic_dtype_name((ic_dtype)t) : "", k->name, ic_level_name(k->level),
                    ic_isa_env() ? ic_level_name(g_sel.cap) : "none");
            for (size_t i = 0; i < sizeof g_table / sizeof g_table[0]; i++) {
                const ic_kernel *o = &g_table[i];
                if (o == k || !key_matches(o, (ic_op)op, (ic_dtype)t)) continue;
                char buf[160];
                const char *why =
                    ic_kernel_why_unusable(o, cpu->features, g_sel.cap, buf, sizeof buf);
                fprintf(stderr, "infercost:   passed over %s: %s\n", o->name,
                        why ? why : "usable, ranked lower");
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
