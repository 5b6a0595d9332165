/* Graviton inference from feature masks: each generation's real feature set, the near misses that
 * must not match (wrong vector length, SVE2 at 256 bits, A64FX), and the basis text. Pure, so it
 * runs on any host. */
#include <string.h>

#include "graviton.h"
#include "ic_cpu.h"
#include "ic_test.h"

static void expect(uint64_t f, size_t vl_bytes, const char *want, const char *basis_has) {
    char basis[160] = "";
    const char *got = ic_graviton_infer(f, vl_bytes, basis, sizeof basis);
    CHECK(strcmp(got, want) == 0, "features %#llx vl %zu: got %s want %s (%s)",
          (unsigned long long)f, vl_bytes, got, want, basis);
    CHECK(strstr(basis, basis_has) != NULL, "basis '%s' lacks '%s'", basis, basis_has);
}

int main(void) {
    const uint64_t neon = IC_F_ASIMD, n1 = neon | IC_F_DOTPROD;
    const uint64_t v1 = n1 | IC_F_SVE | IC_F_I8MM | IC_F_BF16, v2 = v1 | IC_F_SVE2;
    expect(neon, 0, "Graviton1", "asimd");
    expect(n1, 0, "Graviton2", "asimddp");
    expect(v1, 32, "Graviton3", "256 bits");
    expect(v2, 16, "Graviton4", "128 bits");
    /* near misses */
    expect(v1, 16, "none", "128 bits");                  /* SVE without SVE2 at 128 bits */
    expect(v2, 32, "none", "sve2 at 256");               /* qemu max at 256 bits */
    expect(v2, 64, "none", "512");                       /* qemu max at 512 bits */
    expect(neon | IC_F_SVE, 64, "none", "without i8mm"); /* A64FX */
    expect(n1 | IC_F_I8MM, 0, "none", "no generation");  /* a newer core without SVE */
    expect(0, 0, "none", "no asimd");
    return ic_test_finish("test_graviton");
}
