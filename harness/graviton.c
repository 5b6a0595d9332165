/* Graviton generation from features: what each generation's cores report to Linux.
 *   Graviton1 (Cortex-A72): Advanced SIMD, no dotprod.
 *   Graviton2 (Neoverse N1): dotprod, no SVE, no i8mm or bf16.
 *   Graviton3 (Neoverse V1): SVE at 256 bits, no SVE2, with bf16 and i8mm.
 *   Graviton4 (Neoverse V2): SVE2 at 128 bits, with bf16 and i8mm.
 * Anything else (qemu's "max" at 512 bits, A64FX, a phone) matches none. */
#include "graviton.h"

#include <stdio.h>

#include "ic_cpu.h"

const char *ic_graviton_infer(uint64_t features, size_t sve_vl_bytes, char *basis,
                              size_t basis_len) {
    const int simd = (features & IC_F_ASIMD) != 0, dot = (features & IC_F_DOTPROD) != 0;
    const int sve = (features & IC_F_SVE) != 0, sve2 = (features & IC_F_SVE2) != 0;
    const int mm = (features & IC_F_I8MM) && (features & IC_F_BF16);
    const int any_mm = (features & (IC_F_I8MM | IC_F_BF16)) != 0;
    const size_t bits = sve_vl_bytes * 8;
    if (sve2 && bits == 128 && mm && dot) {
        snprintf(basis, basis_len, "sve2 at 128 bits, i8mm, bf16");
        return "Graviton4";
    }
    if (sve && !sve2 && bits == 256 && mm && dot) {
        snprintf(basis, basis_len, "sve at 256 bits without sve2, i8mm, bf16");
        return "Graviton3";
    }
    if (simd && dot && !sve && !any_mm) {
        snprintf(basis, basis_len, "asimddp without sve, i8mm or bf16");
        return "Graviton2";
    }
    if (simd && !dot && !sve && !any_mm) {
        snprintf(basis, basis_len, "asimd without asimddp");
        return "Graviton1";
    }
    if (sve)
        snprintf(basis, basis_len, "%s at %zu bits, %s i8mm, %s bf16: no generation has this",
                 sve2 ? "sve2" : "sve", bits, (features & IC_F_I8MM) ? "with" : "without",
                 (features & IC_F_BF16) ? "with" : "without");
    else
        snprintf(basis, basis_len, "%s%s%s%s without sve: no generation has this feature set",
                 simd ? "asimd" : "no asimd", dot ? ", asimddp" : "",
                 (features & IC_F_I8MM) ? ", i8mm" : "", (features & IC_F_BF16) ? ", bf16" : "");
    return "none";
}

void ic_graviton_add_json(json_t *cpu, uint64_t features, size_t sve_vl_bytes) {
#if defined(IC_ARCH_ARM)
    char basis[160];
    const char *gen = ic_graviton_infer(features, sve_vl_bytes, basis, sizeof basis);
    json_object_set_new(cpu, "graviton_inferred",
                        json_pack("{s:s, s:s}", "generation", gen, "basis", basis));
#else
    (void)cpu, (void)features, (void)sve_vl_bytes;
#endif
}

void ic_graviton_print(FILE *out, uint64_t features, size_t sve_vl_bytes) {
#if defined(IC_ARCH_ARM)
    char basis[160];
    const char *gen = ic_graviton_infer(features, sve_vl_bytes, basis, sizeof basis);
    fprintf(out, "Graviton   %s (inferred from features and SVE vector length: %s)\n", gen, basis);
#else
    (void)out, (void)features, (void)sve_vl_bytes;
#endif
}
