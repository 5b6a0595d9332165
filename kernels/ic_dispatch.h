/* The kernel table and runtime selection. */
#ifndef IC_DISPATCH_H
#define IC_DISPATCH_H

#include "ic_attention.h"
#include "ic_cpu.h"
#include "ic_gemm.h"
#include "ic_gemv.h"
#include "ic_layout.h"
#include "ic_quant.h"
#include "ic_rmsnorm.h"
#include "ic_rope.h"
#include "ic_softmax.h"
#include "ic_swiglu.h"
#include "ic_types.h"

#define IC_OP_LIST(X)                                                                              \
    X(GEMV, "gemv")                                                                                \
    X(GEMM, "gemm")                                                                                \
    X(QUANTIZE, "quantize")                                                                        \
    X(DEQUANTIZE, "dequantize")                                                                    \
    X(RMSNORM, "rmsnorm")                                                                          \
    X(ROPE, "rope")                                                                                \
    X(SOFTMAX, "softmax")                                                                          \
    X(SWIGLU, "swiglu")                                                                            \
    X(ATTENTION, "attention")

typedef enum ic_op {
#define IC_X(id, str) IC_OP_##id,
    IC_OP_LIST(IC_X)
#undef IC_X
        IC_OP_COUNT
} ic_op;

/* Declarations of every variant, from the list. */
#define IC_GEMV(w, W, A, isa, L, P, f) ic_gemv_fn ic_gemv_##w##_##isa;
#define IC_GEMV_RUNS_TOKENS(w, W, A, isa, L, P, f)                                                 \
    ic_gemv_fn ic_gemv_##w##_##isa;                                                                \
    ic_gemv_runs_fn ic_gemv_runs_##w##_##isa;                                                      \
    ic_gemv_tokens_fn ic_gemv_tokens_##w##_##isa;
#define IC_GEMM(w, W, A, isa, L, P, f)     ic_gemm_fn ic_gemm_##w##_##isa;
#define IC_GEMV_P16(w, W, A, isa, L, P, f) ic_gemv_fn ic_gemv_##w##_p16_##isa;
#define IC_GEMM_P16(w, W, A, isa, L, P, f) ic_gemm_fn ic_gemm_##w##_p16_##isa;
#define IC_QUANTIZE(t, T, isa, L, P, f)    ic_quantize_fn ic_quantize_##t##_##isa;
#define IC_DEQUANTIZE(t, T, isa, L, P, f)  ic_dequantize_fn ic_dequantize_##t##_##isa;
#define IC_RMSNORM(isa, L, P, f)           ic_rmsnorm_fn ic_rmsnorm_##isa;
#define IC_ROPE(isa, L, P, f)              ic_rope_fn ic_rope_##isa;
#define IC_SOFTMAX(isa, L, P, f)           ic_softmax_fn ic_softmax_##isa;
#define IC_SWIGLU(isa, L, P, f)            ic_swiglu_fn ic_swiglu_##isa;
#define IC_ATTENTION(kv, KV, isa, L, P, f) ic_attention_fn ic_attention_##kv##_##isa;
#define IC_ATTENTION_ROWS(kv, KV, isa, L, P, f)                                                    \
    ic_attention_fn ic_attention_##kv##_##isa;                                                     \
    ic_attention_rows_fn ic_attention_rows_##kv##_##isa;
#include "ic_kernels.inc"
#undef IC_GEMV
#undef IC_GEMV_RUNS_TOKENS
#undef IC_GEMM
#undef IC_GEMV_P16
#undef IC_GEMM_P16
#undef IC_QUANTIZE
#undef IC_DEQUANTIZE
#undef IC_RMSNORM
#undef IC_ROPE
#undef IC_SOFTMAX
#undef IC_SWIGLU
#undef IC_ATTENTION
#undef IC_ATTENTION_ROWS

/* One variant: every entry point it offers and what a caller needs to run it. For ops without a
 * weight type (norms, elementwise) wtype and atype are IC_DT_F32; for attention wtype is the KV
 * cache's type and atype IC_DT_F32 (the query and output).
 *
 * Selection (ic_select_for) ranks the usable variants of one op and type by level, then by
 * priority: the highest level wins, and among variants of that level the highest priority. The
 * priority is written in the list for each variant (0 unless a variant of the same level should
 * win, e.g. Arm's svei8mm GEMMs over the plain SVE ones); no two variants of one op and type share
 * a level and a priority, so the order of the list never decides. */
typedef struct ic_kernel {
    ic_op op;
    const char *name; /* "gemv_q8_0_avx512vnni" */
    const char *isa;  /* "avx512vnni" */
    ic_level level;
    int priority;      /* ranks variants of one op, type and level; higher wins */
    uint64_t features; /* IC_F_* bits the variant needs */
    ic_dtype wtype;    /* weight type, the type converted to/from, or the KV cache's type */
    ic_dtype atype;    /* activation type the variant reads */
    /* GEMV and GEMM: callers split a matrix's rows between workers in multiples of this many
     * rows (ic_split_range, ic_pool_run_rows, ic_rows_as_runs), a multiple of 4; 0 for other
     * ops. */
    size_t row_align;
    /* GEMV and GEMM: the layout the weights must be in (ic_layout.h); a forward pass packs each
     * matrix into it once, and its GEMV and GEMM must agree. IC_LAYOUT_ROWS for other ops. */
    ic_layout layout;
    union {
        ic_gemv_fn *gemv;
        ic_gemm_fn *gemm;
        ic_quantize_fn *quantize;
        ic_dequantize_fn *dequantize;
        ic_rmsnorm_fn *rmsnorm;
        ic_rope_fn *rope;
        ic_softmax_fn *softmax;
        ic_swiglu_fn *swiglu;
        ic_attention_fn *attention;
    } fn;
    ic_gemv_runs_fn *gemv_runs;           /* GEMV: the four-runs entry (ic_gemv.h), or NULL */
    ic_gemv_tokens_fn *gemv_tokens;       /* GEMV: the token-batch entry (ic_gemv.h), or NULL */
    ic_attention_rows_fn *attention_rows; /* attention: the prompt entry (ic_attention.h), or
                                           * NULL (then a prompt is one call a row) */
} ic_kernel;

/* The op's name ("gemv"), or NULL. */
const char *ic_op_name(ic_op op);

/* True for ops that have a variant per type: GEMV, GEMM (weight types), quantize, dequantize
 * (every type) and attention (KV-cache types). */
int ic_op_is_typed(ic_op op);

/* Whether selection of (op, t) is meaningful, i.e. the reference set has a variant for it: an
 * untyped op takes any t (ignored), GEMV and GEMM the weight types, attention the KV types,
 * quantize and dequantize every type. Loops over ops and types skip the pairs this refuses. */
int ic_op_takes_type(ic_op op, ic_dtype t);

/* The whole table in list order; *count receives its length. */
const ic_kernel *ic_kernel_table(size_t *count);

/* Validates IC_ISA and reads IC_DEBUG. Call once at start-up; returns 0, or -1 with a message
 * listing the valid ISA names. Selection before a successful call does it implicitly. */
int ic_dispatch_init(char *err, size_t errlen);

/* Whether a variant may run on a CPU with these features under this cap: its level is of this
 * architecture and at most cap, and it needs no feature outside the mask. */
int ic_kernel_usable(const ic_kernel *k, uint64_t features, ic_level cap);

/* Why a variant may not run on a CPU with these features under this cap, or NULL when it may
 * (exactly when ic_kernel_usable is false). The reason is written to buf (len bytes, truncated to
 * fit) and buf returned: "other architecture (level sve)", or "above the IC_ISA cap avx2" and
 * "missing avx512_vnni amx_int8", joined by "; " when both hold. `infercost list`, the skips of
 * `infercost bench` and the IC_DEBUG log all print this text. */
const char *ic_kernel_why_unusable(const ic_kernel *k, uint64_t features, ic_level cap, char *buf,
                                   size_t len);

/* The variant selection picks for (op, wtype) given a feature mask and a cap: the usable one with
 * the highest level, then the highest priority (see ic_kernel). Pure; never NULL for a type the
 * reference set covers. Untyped ops ignore wtype. */
const ic_kernel *ic_select_for(ic_op op, ic_dtype wtype, uint64_t features, ic_level cap);

/* As ic_select_for, among the variants that read weights in `layout` only; NULL when none is
 * usable. A forward pass picks its GEMV and GEMM of one layout with it. */
const ic_kernel *ic_select_layout(ic_op op, ic_dtype wtype, ic_layout layout, uint64_t features,
                                  ic_level cap);

/* The highest level of any variant of this architecture that a CPU with these features can run,
 * IC_ISA aside: what selection reaches with no cap. IC_LVL_REF on a CPU with none of them. */
ic_level ic_best_level(uint64_t features);

/* The ISA cap in words, for people: "none (IC_ISA unset; best level on this CPU: avx512bf16)" or
 * "avx2 (from IC_ISA; best level on this CPU: avx512bf16)", or IC_ISA's error when it names no
 * level. features: the CPU's, for the best level. Written to buf (len bytes). */
void ic_isa_cap_describe(uint64_t features, char *buf, size_t len);

/* ic_select_for with the host's features and the IC_ISA cap, cached per (op, wtype); logs each
 * first choice to stderr under IC_DEBUG=1. Returns NULL when IC_ISA is invalid. */
const ic_kernel *ic_select(ic_op op, ic_dtype wtype);

/* Looks a variant up by name ("gemv_q8_0_ref"); NULL when this binary has none. */
const ic_kernel *ic_kernel_by_name(const char *name);

#endif
