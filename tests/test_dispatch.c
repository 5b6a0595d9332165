/* Selection: never a variant whose features are missing (faked masks), always the best usable
 * one, capped by level, ties of level broken by priority; the choices for a few feature masks;
 * why a variant is unusable; the records' entries and row alignment; IC_ISA parsing; and, when
 * run with IC_ISA=ref, only ref variants. Links the kernel library only. */
#include <string.h>

#include "ic_dispatch.h"
#include "ic_test.h"

static void test_fake_masks(void) {
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    ic_test_rng rng = {99};
    uint64_t all = (1ull << IC_FEATURE_COUNT) - 1;
    /* Random masks, plus the empty and the full mask, at every cap. */
    for (int trial = 0; trial < 2000; trial++) {
        uint64_t mask = trial == 0 ? 0 : trial == 1 ? all : ic_test_next(&rng) & all;
        for (int cap = 0; cap < IC_LVL_COUNT; cap++) {
            for (int op = 0; op < IC_OP_COUNT; op++) {
                for (int t = 0; t < (ic_op_is_typed((ic_op)op) ? IC_DT_COUNT : 1); t++) {
                    if (!ic_op_takes_type((ic_op)op, (ic_dtype)t)) continue;
                    const ic_kernel *k = ic_select_for((ic_op)op, (ic_dtype)t, mask, (ic_level)cap);
                    if (k == NULL) {
                        CHECK(0, "no variant for %s %d", ic_op_name((ic_op)op), t);
                        continue;
                    }
                    if ((k->features & ~mask) != 0 || (int)k->level > cap ||
                        !ic_level_is_native(k->level))
                        CHECK(0, "mask %llx cap %d chose %s", (unsigned long long)mask, cap,
                              k->name);
                    /* nothing usable ranks above the choice */
                    for (size_t i = 0; i < count; i++) {
                        const ic_kernel *o = &table[i];
                        if (o->op == k->op && (!ic_op_is_typed(k->op) || o->wtype == k->wtype) &&
                            ic_kernel_usable(o, mask, (ic_level)cap) &&
                            (o->level > k->level ||
                             (o->level == k->level && o->priority > k->priority)))
                            CHECK(0, "chose %s over better %s", k->name, o->name);
                    }
                }
            }
        }
    }
    PASS();
    /* With no features at all, every choice is a ref kernel. */
    for (int op = 0; op < IC_OP_COUNT; op++) {
        const ic_kernel *k = ic_select_for((ic_op)op, IC_DT_Q8_0, 0, IC_LVL_COUNT - 1);
        CHECK(k && k->level == IC_LVL_REF, "op %s chose %s without features", ic_op_name((ic_op)op),
              k ? k->name : "(null)");
    }
}

/* The list's order never decides: no two variants of one op and type share a level and a
 * priority. */
static void test_no_ties(void) {
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++) {
            const ic_kernel *a = &table[i], *b = &table[j];
            if (a->op == b->op && (!ic_op_is_typed(a->op) || a->wtype == b->wtype) &&
                a->level == b->level && a->priority == b->priority)
                CHECK(0, "%s and %s tie: same level %s and priority %d", a->name, b->name,
                      ic_level_name(a->level), a->priority);
        }
    PASS();
}

/* What selection chose for these masks before the explicit priority replaced "the later in the
 * list on a tie": the priority must keep every one (the Arm SVE cases are the ties it breaks; they
 * have a 256-bit vector where the list asks for one, and the svei8mm GEMMs rank below the sve
 * ones since those execute fewer instructions, kernels/list_arm.inc). */
static void test_pinned_choices(void) {
#if defined(IC_ARCH_X86)
    const uint64_t a2 = IC_F_AVX2 | IC_F_FMA | IC_F_F16C,
                   a5 = a2 | IC_F_AVX512F | IC_F_AVX512BW | IC_F_AVX512VL,
                   zen5 = a5 | IC_F_AVX512VNNI | IC_F_AVXVNNI | IC_F_AVX512BF16;
    const struct {
        uint64_t mask;
        ic_op op;
        ic_dtype t;
        const char *want;
    } cases[] = {
        {a2, IC_OP_GEMV, IC_DT_Q8_0, "gemv_q8_0_avx2"},
        {a2, IC_OP_QUANTIZE, IC_DT_Q8_0, "quantize_q8_0_ref"},
        {a2 | IC_F_AVXVNNI, IC_OP_GEMM, IC_DT_Q4_0, "gemm_q4_0_avxvnni"},
        {a5, IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_avx512"},
        {a5, IC_OP_GEMV, IC_DT_Q8_0, "gemv_q8_0_avx2"},
        {a5, IC_OP_GEMM, IC_DT_BF16, "gemm_bf16_avx2"},
        {a5 | IC_F_AVX512VNNI, IC_OP_GEMM, IC_DT_Q8_0, "gemm_q8_0_p16_avx512vnni"},
        {zen5, IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_p16_avx512bf16"},
        {zen5, IC_OP_GEMV, IC_DT_Q4_0, "gemv_q4_0_p16_avx512vnni"},
        {zen5, IC_OP_GEMM, IC_DT_BF16, "gemm_bf16_p16_avx512bf16"},
        {zen5, IC_OP_ATTENTION, IC_DT_F32, "attention_f32_avx512"},
        {zen5, IC_OP_ATTENTION, IC_DT_Q8_0, "attention_q8_0_avx512"},
        {a2, IC_OP_ATTENTION, IC_DT_F16, "attention_f16_avx2"},
        {a5, IC_OP_ATTENTION, IC_DT_F16, "attention_f16_avx512"},
    };
#elif defined(IC_ARCH_ARM)
    const uint64_t n = IC_F_ASIMD, sve = n | IC_F_SVE, vl = IC_F_SVE_VL256,
                   all = n | IC_F_DOTPROD | IC_F_I8MM | IC_F_BF16 | IC_F_SVE;
    const struct {
        uint64_t mask;
        ic_op op;
        ic_dtype t;
        const char *want;
    } cases[] = {
        {n, IC_OP_GEMV, IC_DT_Q8_0, "gemv_q8_0_neon"},
        {n | IC_F_DOTPROD | IC_F_I8MM | IC_F_BF16, IC_OP_GEMM, IC_DT_Q8_0, "gemm_q8_0_i8mm"},
        {n | IC_F_DOTPROD | IC_F_I8MM | IC_F_BF16, IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_bf16"},
        {sve, IC_OP_GEMM, IC_DT_Q8_0, "gemm_q8_0_sve"},
        {sve | vl, IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_sve"},
        {all | vl, IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_svebf16"},
        {all, IC_OP_GEMM, IC_DT_BF16, "gemm_bf16_svebf16"},
        {all, IC_OP_GEMM, IC_DT_Q8_0, "gemm_q8_0_sve"},
        {all, IC_OP_GEMM, IC_DT_Q4_0, "gemm_q4_0_sve"},
        {sve | IC_F_SVE2 | vl, IC_OP_RMSNORM, IC_DT_F32, "rmsnorm_sve2"},
    };
#else
    const struct {
        uint64_t mask;
        ic_op op;
        ic_dtype t;
        const char *want;
    } cases[] = {{0, IC_OP_GEMV, IC_DT_Q8_0, "gemv_q8_0_ref"}};
#endif
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ic_kernel *k = ic_select_for(cases[i].op, cases[i].t, cases[i].mask, IC_LVL_COUNT);
        CHECK(k && strcmp(k->name, cases[i].want) == 0, "mask %llx: want %s, chose %s",
              (unsigned long long)cases[i].mask, cases[i].want, k ? k->name : "(null)");
    }
}

/* The vector-length-aware choice (kernels/list_arm.inc): with the features of a Neoverse V2
 * (Graviton4), a 128-bit vector keeps the NEON variant wherever SVE executes more instructions
 * there, and the same CPU with a 256-bit vector takes SVE for every op; the passed-over SVE variant
 * says why. On the CPU this runs on, the sve_vl256 bit matches the vector length. */
static void test_vector_length(void) {
#if defined(IC_ARCH_ARM)
    const uint64_t v128 = IC_F_ASIMD | IC_F_DOTPROD | IC_F_I8MM | IC_F_BF16 | IC_F_SVE | IC_F_SVE2,
                   v256 = v128 | IC_F_SVE_VL256;
    const struct {
        ic_op op;
        ic_dtype t;
        const char *at128, *at256;
    } cases[] = {
        {IC_OP_GEMV, IC_DT_F32, "gemv_f32_neon", "gemv_f32_sve"},
        {IC_OP_GEMV, IC_DT_BF16, "gemv_bf16_bf16", "gemv_bf16_svebf16"},
        {IC_OP_GEMV, IC_DT_Q8_0, "gemv_q8_0_sve", "gemv_q8_0_sve"},
        {IC_OP_GEMV, IC_DT_Q4_0, "gemv_q4_0_sve", "gemv_q4_0_sve"},
        {IC_OP_GEMM, IC_DT_F32, "gemm_f32_neon", "gemm_f32_sve"},
        {IC_OP_GEMM, IC_DT_BF16, "gemm_bf16_svebf16", "gemm_bf16_svebf16"},
        {IC_OP_GEMM, IC_DT_Q8_0, "gemm_q8_0_sve", "gemm_q8_0_sve"},
        {IC_OP_GEMM, IC_DT_Q4_0, "gemm_q4_0_sve", "gemm_q4_0_sve"},
        {IC_OP_QUANTIZE, IC_DT_Q8_0, "quantize_q8_0_neon", "quantize_q8_0_sve"},
        {IC_OP_RMSNORM, IC_DT_F32, "rmsnorm_neon", "rmsnorm_sve2"},
        {IC_OP_ROPE, IC_DT_F32, "rope_neon", "rope_sve"},
        {IC_OP_SOFTMAX, IC_DT_F32, "softmax_sve", "softmax_sve"},
        {IC_OP_SWIGLU, IC_DT_F32, "swiglu_sve", "swiglu_sve"},
        {IC_OP_ATTENTION, IC_DT_F32, "attention_f32_neon", "attention_f32_sve"},
        {IC_OP_ATTENTION, IC_DT_Q8_0, "attention_q8_0_neon", "attention_q8_0_sve"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ic_kernel *k128 = ic_select_for(cases[i].op, cases[i].t, v128, IC_LVL_COUNT),
                        *k256 = ic_select_for(cases[i].op, cases[i].t, v256, IC_LVL_COUNT);
        CHECK(k128 && strcmp(k128->name, cases[i].at128) == 0, "128-bit: want %s, chose %s",
              cases[i].at128, k128 ? k128->name : "(null)");
        CHECK(k256 && strcmp(k256->name, cases[i].at256) == 0, "256-bit: want %s, chose %s",
              cases[i].at256, k256 ? k256->name : "(null)");
    }
    char buf[160];
    const char *why = ic_kernel_why_unusable(ic_kernel_by_name("gemv_f32_sve"), v128, IC_LVL_COUNT,
                                             buf, sizeof buf);
    CHECK(why && strcmp(why, "missing sve_vl256") == 0, "gemv_f32_sve at 128 bits: %s",
          why ? why : "(null)");
    CHECK(ic_kernel_why_unusable(ic_kernel_by_name("gemv_f32_sve"), v256, IC_LVL_COUNT, buf,
                                 sizeof buf) == NULL,
          "gemv_f32_sve unusable at 256 bits");
    /* passed over, not broken: every variant runs where SVE is, whatever its length */
    CHECK(ic_features_runnable(v128) == v256, "runnable features at 128 bits");
    CHECK(ic_features_runnable(IC_F_ASIMD) == IC_F_ASIMD, "runnable features without SVE");
    const ic_cpu_info *cpu = ic_cpu();
    if (cpu->features & IC_F_SVE)
        CHECK(((cpu->features & IC_F_SVE_VL256) != 0) == (cpu->sve_vl_bytes >= 32),
              "sve_vl256 %s at %zu-bit SVE", cpu->features & IC_F_SVE_VL256 ? "set" : "unset",
              cpu->sve_vl_bytes * 8);
    else
        CHECK((cpu->features & IC_F_SVE_VL256) == 0, "sve_vl256 without SVE");
#else
    CHECK((ic_cpu()->features & IC_F_SVE_VL_BITS) == 0, "a vector-length bit off Arm");
#endif
}

/* The lowest level of this architecture above ref. */
static ic_level first_native_level(void) {
    for (int l = IC_LVL_REF + 1; l < IC_LVL_COUNT; l++)
        if (ic_level_is_native((ic_level)l)) return (ic_level)l;
    return IC_LVL_REF;
}

/* The reasons, one at a time and together, on made-up records; and on every table entry under
 * random masks and caps, a reason exactly when the variant is unusable. */
static void test_why_unusable(void) {
    char buf[160];
    const ic_level native = first_native_level();
#if defined(IC_ARCH_X86)
    const ic_level foreign = IC_LVL_SVE;
    const uint64_t f1 = IC_F_AVX2, f2 = IC_F_FMA;
    const char *const f2_name = "fma";
#else
    const ic_level foreign = IC_LVL_AVX2;
    const uint64_t f1 = IC_F_ASIMD, f2 = IC_F_DOTPROD;
    const char *const f2_name = "asimddp";
#endif
    ic_kernel k = {.op = IC_OP_GEMV, .name = "gemv_test", .level = native, .features = f1 | f2};
    CHECK(ic_kernel_why_unusable(&k, f1 | f2, native, buf, sizeof buf) == NULL, "usable: NULL");
    const char *why = ic_kernel_why_unusable(&k, f1 | f2, IC_LVL_REF, buf, sizeof buf);
    CHECK(why == buf && strcmp(why, "above the IC_ISA cap ref") == 0, "above the cap: %s",
          why ? why : "(null)");
    char want[64];
    snprintf(want, sizeof want, "missing %s", f2_name);
    why = ic_kernel_why_unusable(&k, f1, native, buf, sizeof buf);
    CHECK(why && strcmp(why, want) == 0, "missing feature: %s, want %s", why ? why : "(null)",
          want);
    snprintf(want, sizeof want, "above the IC_ISA cap ref; missing %s", f2_name);
    why = ic_kernel_why_unusable(&k, f1, IC_LVL_REF, buf, sizeof buf);
    CHECK(why && strcmp(why, want) == 0, "both: %s, want %s", why ? why : "(null)", want);
    k.level = foreign;
    why = ic_kernel_why_unusable(&k, ~0ull, IC_LVL_COUNT, buf, sizeof buf);
    snprintf(want, sizeof want, "other architecture (level %s)", ic_level_name(foreign));
    CHECK(why && strcmp(why, want) == 0, "other architecture: %s, want %s", why ? why : "(null)",
          want);
    char tiny[8];
    why = ic_kernel_why_unusable(&k, 0, IC_LVL_REF, tiny, sizeof tiny);
    CHECK(why == tiny && strlen(tiny) == sizeof tiny - 1, "truncated to fit: '%s'", tiny);

    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    ic_test_rng rng = {5};
    const uint64_t all = (1ull << IC_FEATURE_COUNT) - 1;
    int ok = 1;
    for (int trial = 0; trial < 200 && ok; trial++) {
        const uint64_t mask = ic_test_next(&rng) & all;
        const ic_level cap = (ic_level)(ic_test_next(&rng) % IC_LVL_COUNT);
        for (size_t i = 0; i < count && ok; i++) {
            const int usable = ic_kernel_usable(&table[i], mask, cap);
            why = ic_kernel_why_unusable(&table[i], mask, cap, buf, sizeof buf);
            if (usable != (why == NULL) || (why && why[0] == '\0')) {
                CHECK(0, "%s mask %llx cap %s: usable %d, why '%s'", table[i].name,
                      (unsigned long long)mask, ic_level_name(cap), usable, why ? why : "(null)");
                ok = 0;
            }
        }
    }
    if (ok) PASS();
}

/* What each record says beyond its plain entry: GEMV and GEMM report a row alignment that keeps
 * 4-row steps whole, other ops none; only GEMVs have four-runs or token-batch entries. */
static void test_records(void) {
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    for (size_t i = 0; i < count; i++) {
        const ic_kernel *k = &table[i];
        const int matmul = k->op == IC_OP_GEMV || k->op == IC_OP_GEMM;
        CHECK(matmul ? k->row_align > 0 && k->row_align % 4 == 0 : k->row_align == 0,
              "%s: row_align %zu", k->name, k->row_align);
        CHECK(k->op == IC_OP_GEMV || (k->gemv_runs == NULL && k->gemv_tokens == NULL),
              "%s: GEMV entries on another op", k->name);
    }
}

/* The best level: ref with no features, and with all of them the highest level any variant of
 * this architecture has. */
static void test_best_level(void) {
    CHECK(ic_best_level(0) == IC_LVL_REF, "no features: %s", ic_level_name(ic_best_level(0)));
    size_t count;
    const ic_kernel *table = ic_kernel_table(&count);
    ic_level top = IC_LVL_REF;
    for (size_t i = 0; i < count; i++)
        if (ic_level_is_native(table[i].level) && table[i].level > top) top = table[i].level;
    const ic_level got = ic_best_level((1ull << IC_FEATURE_COUNT) - 1);
    CHECK(got == top, "all features: %s, want %s", ic_level_name(got), ic_level_name(top));
}

static void test_level_parse(void) {
    ic_level l;
    char err[512];
    CHECK(ic_level_parse("ref", &l, err, sizeof err) == 0 && l == IC_LVL_REF, "ref");
    CHECK(ic_level_parse("bogus", &l, err, sizeof err) == -1, "bogus accepted");
    CHECK(strstr(err, "bogus") && strstr(err, "ref"), "message lists valid names: %s", err);
#if defined(IC_ARCH_X86)
    CHECK(ic_level_parse("avx2", &l, err, sizeof err) == 0 && l == IC_LVL_AVX2, "avx2");
    CHECK(ic_level_parse("sve", &l, err, sizeof err) == -1, "an Arm level is refused on x86");
    CHECK(strstr(err, "avx512vnni") && strstr(err, "amx"), "x86 names listed: %s", err);
#elif defined(IC_ARCH_ARM)
    CHECK(ic_level_parse("sve", &l, err, sizeof err) == 0 && l == IC_LVL_SVE, "sve");
    CHECK(ic_level_parse("avx2", &l, err, sizeof err) == -1, "an x86 level is refused on Arm");
#endif
}

/* Run by ctest with IC_ISA=ref: every host selection is a ref kernel. */
static void test_env_ref(void) {
    char err[256];
    CHECK(ic_dispatch_init(err, sizeof err) == 0, "IC_ISA=ref rejected: %s", err);
    for (int op = 0; op < IC_OP_COUNT; op++)
        for (int t = 0; t < IC_DT_COUNT; t++) {
            if (!ic_op_takes_type((ic_op)op, (ic_dtype)t)) continue;
            const ic_kernel *k = ic_select((ic_op)op, (ic_dtype)t);
            CHECK(k && strcmp(k->isa, "ref") == 0, "IC_ISA=ref chose %s", k ? k->name : "(null)");
        }
}

/* Run by ctest with IC_ISA=bogus: init fails with a message and selection returns NULL. */
static void test_env_bogus(void) {
    char err[512] = "";
    CHECK(ic_dispatch_init(err, sizeof err) == -1, "IC_ISA=bogus accepted");
    CHECK(strstr(err, "IC_ISA") && strstr(err, "bogus") && strstr(err, "ref"), "message: %s", err);
    CHECK(ic_select(IC_OP_GEMV, IC_DT_F32) == NULL, "selection went ahead with a bad IC_ISA");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "pure";
    if (strcmp(mode, "env-ref") == 0) {
        test_env_ref();
    } else if (strcmp(mode, "env-bogus") == 0) {
        test_env_bogus();
    } else {
        test_fake_masks();
        test_no_ties();
        test_pinned_choices();
        test_vector_length();
        test_why_unusable();
        test_records();
        test_best_level();
        test_level_parse();
    }
    return ic_test_finish("test_dispatch");
}
