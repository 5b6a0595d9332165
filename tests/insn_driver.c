/* Runs one kernel variant once at a fixed, realistic shape, for counting the instructions it
 * executes (ci/arm_insn_count.py runs this under qemu-aarch64 with the exec log filtered to the
 * variant's own code; ci/x86_insn_count.py under valgrind's callgrind, collecting only inside the
 * variant's function). Prints "outputs=<n> shape=<text>" so the count can be divided by the number
 * of output elements. Not a ctest: it checks nothing. Exit 2 for an unknown variant.
 * "insn_driver --list" prints every variant of this binary's table as "<name> <op> <isa>", usable
 * here or not, so a counter can choose what its emulator runs without running anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ic_dispatch.h"
#include "ic_test.h"

enum { M = 16, K = 1024, N = 8, ELEMS = 4096 };

static void *filled(ic_dtype t, size_t rows, size_t k, ic_test_rng *rng) {
    float *f = malloc(k * sizeof *f);
    unsigned char *out = malloc(rows * ic_row_bytes(t, k) + 64);
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < k; j++) f[j] = ic_test_uniform(rng);
        ic_select_for(IC_OP_QUANTIZE, t, 0, IC_LVL_REF)
            ->fn.quantize(f, out + r * ic_row_bytes(t, k), k);
    }
    free(f);
    return out;
}

static float *floats(size_t n, ic_test_rng *rng) {
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = ic_test_uniform(rng);
    return f;
}

static int list_variants(void) {
    size_t n = 0;
    const ic_kernel *table = ic_kernel_table(&n);
    for (size_t i = 0; i < n; i++)
        printf("%s %s %s\n", table[i].name, ic_op_name(table[i].op), table[i].isa);
    return 0;
}

/* The M x K weights in the variant's layout (a panel variant reads them packed, as the forward
 * pass hands them over); the packing is not counted. */
static void *weights(const ic_kernel *kern, ic_test_rng *rng) {
    void *w = filled(kern->wtype, M, K, rng);
    if (kern->layout == IC_LAYOUT_ROWS) return w;
    void *packed = malloc(ic_layout_bytes(kern->layout, kern->wtype, M, K));
    ic_layout_pack_all(kern->layout, kern->wtype, w, packed, M, K);
    free(w);
    return packed;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--list") == 0) return list_variants();
    if (argc != 2) {
        fprintf(stderr, "usage: insn_driver <variant> | --list   e.g. gemv_q8_0_sve\n");
        return 2;
    }
    const ic_kernel *kern = ic_kernel_by_name(argv[1]);
    if (kern == NULL) {
        fprintf(stderr, "insn_driver: no variant '%s' in this binary\n", argv[1]);
        return 2;
    }
    /* Runnable, not chosen: the SVE variants dispatch passes over at 128 bits are counted there
     * too, since those counts are what decided it. */
    if (!ic_kernel_usable(kern, ic_features_runnable(ic_cpu()->features), IC_LVL_COUNT)) {
        fprintf(stderr, "insn_driver: %s is not usable on this CPU\n", kern->name);
        return 1;
    }
    ic_test_rng rng = {5};
    float *y = malloc(M * N * sizeof *y + ELEMS * sizeof(float));
    switch (kern->op) {
    case IC_OP_GEMV: {
        void *w = weights(kern, &rng), *x = filled(kern->atype, 1, K, &rng);
        kern->fn.gemv(w, x, y, K, 0, M);
        printf("outputs=%d shape=m%d_k%d\n", M, M, K);
        break;
    }
    case IC_OP_GEMM: {
        void *w = weights(kern, &rng), *x = filled(kern->atype, N, K, &rng);
        kern->fn.gemm(w, x, y, K, N, M, 0, M);
        printf("outputs=%d shape=m%d_k%d_n%d\n", M * N, M, K, N);
        break;
    }
    case IC_OP_QUANTIZE:
    case IC_OP_DEQUANTIZE: {
        /* Inputs made without the quantize references, which are themselves counted. */
        float *x = floats(ELEMS, &rng);
        unsigned char *q = malloc(ic_row_bytes(kern->wtype, ELEMS));
        for (size_t i = 0; i < ic_row_bytes(kern->wtype, ELEMS); i++)
            q[i] = (unsigned char)ic_test_next(&rng);
        if (kern->op == IC_OP_QUANTIZE)
            kern->fn.quantize(x, q, ELEMS);
        else
            kern->fn.dequantize(q, x, ELEMS);
        printf("outputs=%d shape=k%d\n", ELEMS, ELEMS);
        break;
    }
    case IC_OP_RMSNORM: {
        float *x = floats(ELEMS, &rng), *w = floats(ELEMS, &rng);
        kern->fn.rmsnorm(x, w, y, ELEMS, 1e-5f);
        printf("outputs=%d shape=n%d\n", ELEMS, ELEMS);
        break;
    }
    case IC_OP_ROPE: {
        float *x = floats(32 * 128, &rng);
        kern->fn.rope(x, 32, 128, 1000, 500000.0f);
        printf("outputs=%d shape=h32_d128\n", 32 * 128);
        break;
    }
    case IC_OP_SOFTMAX: {
        float *x = floats(ELEMS, &rng);
        kern->fn.softmax(x, ELEMS);
        printf("outputs=%d shape=n%d\n", ELEMS, ELEMS);
        break;
    }
    case IC_OP_SWIGLU: {
        float *g = floats(ELEMS, &rng), *u = floats(ELEMS, &rng);
        kern->fn.swiglu(g, u, y, ELEMS);
        printf("outputs=%d shape=n%d\n", ELEMS, ELEMS);
        break;
    }
    case IC_OP_ATTENTION: {
        /* the caches in the variant's KV type, 256 positions of 2 KV heads */
        ic_attn_shape s = {8, 2, 128, 256, 2 * 128};
        float *q = floats(8 * 128, &rng), *out = floats(8 * 128, &rng);
        void *kc = filled(kern->wtype, 256, 256, &rng), *vc = filled(kern->wtype, 256, 256, &rng);
        float *scratch = floats(ic_attn_scratch_floats(8, 256), &rng);
        kern->fn.attention(q, kc, vc, out, NULL, scratch, &s, 0, 8);
        printf("outputs=%d shape=h8_kv2_d128_pos256\n", 8 * 128);
        break;
    }
    default:
        return 2;
    }
    return 0;
}
