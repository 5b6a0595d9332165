/* Selection: never a variant whose features are missing (faked masks), always the best usable
 * one, capped by level; IC_ISA parsing; and, when run with IC_ISA=ref, only ref variants. */
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
                            ic_kernel_usable(o, mask, (ic_level)cap) && o->level > k->level)
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
        test_level_parse();
    }
    return ic_test_finish("test_dispatch");
}
