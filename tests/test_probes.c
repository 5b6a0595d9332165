/* The probes: every usable loop gives a finite positive figure marked "measured", unusable ones
 * are refused, and the read probe comes within 10% of the best of a STREAM-style sum and triad
 * and cblas_sgemv measured in the same run (up to three tries: the machine is shared). */
#include <math.h>
#include <string.h>

#include "ic_cpu.h"
#include "ic_probe.h"
#include "ic_test.h"
#include "probes.h"
#include "topology.h"

/* Every read loop reads every word, for sizes that leave tails in each of its streams. */
static void check_read_loops(void) {
    size_t n;
    const ic_probe_loop *loops = ic_probe_loops(&n);
    const size_t sizes[] = {64, 256, 64 * 7, 64 * 13, 4096 + 192, (1u << 20) + 64 * 5};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t bytes = sizes[si], words = bytes / 8;
        uint64_t *buf = aligned_alloc(64, bytes);
        double want = 0;
        for (size_t i = 0; i < words; i++) {
            buf[i] = i % 1000 + 1;
            want += (double)buf[i];
        }
        for (size_t l = 0; l < n; l++) {
            if (loops[l].kind != IC_PROBE_READ || !ic_probe_loop_usable(&loops[l])) continue;
            double got = loops[l].read(buf, bytes);
            CHECK(got == want, "%s over %zu bytes: sum %.0f, want %.0f", loops[l].name, bytes, got,
                  want);
        }
        free(buf);
    }
}

/* The AMX loops multiply for real: int8, four tiles of 3 x -2 over 64 bytes, 10 times, add up to
 * 4 x 10 x -384 (a loop that skipped its tile multiplies would return 0); bf16 likewise. */
static void check_amx_loop(void) {
#if defined(__x86_64__)
    if ((ic_cpu()->features & (IC_F_AMX_TILE | IC_F_AMX_INT8)) != (IC_F_AMX_TILE | IC_F_AMX_INT8)) {
        printf("  dot_int8_amx: unavailable: %s\n",
               ic_cpu()->amx_note[0] ? ic_cpu()->amx_note : "this CPU has no AMX-INT8");
        return;
    }
    double ops = 0;
    const double got = ic_probe_dot_int8_amx(10, &ops);
    CHECK(got == 4 * 10 * -384.0 && ops == 4.0 * 16 * 16 * 64 * 2, "amx loop: %g, %g ops", got,
          ops);
    if (!(ic_cpu()->features & IC_F_AMX_BF16)) {
        printf("  dot_bf16_amx: unavailable: this CPU has no AMX-BF16\n");
        return;
    }
    /* bf16: 1.0 x -2^-7 over 32 columns, 10 times, in four tiles: 4 x 10 x -0.25 (exact) */
    const double bf = ic_probe_dot_bf16_amx(10, &ops);
    CHECK(bf == 4 * 10 * -0.25 && ops == 4.0 * 16 * 16 * 32 * 2, "amx bf16 loop: %g, %g ops", bf,
          ops);
#endif
}

int main(void) {
    char err[256];
    check_read_loops();
    check_amx_loop();
    ic_pool *pool = NULL;
    int nt = ic_default_threads();
    CHECK(ic_pool_create(&pool, nt, IC_BIND_NONE, err, sizeof err) == 0, "%s", err);
    if (pool == NULL) return ic_test_finish("test_probes");
    size_t n;
    const ic_probe_loop *loops = ic_probe_loops(&n);
    for (size_t i = 0; i < n; i++) {
        ic_probe_result r;
        int usable = ic_probe_loop_usable(&loops[i]);
        int rc = ic_probe_run_loop(pool, &loops[i], (size_t)64 << 20, 0.05, &r, err, sizeof err);
        if (!usable) {
            CHECK(rc == -1 && strstr(err, loops[i].name), "%s should be refused", loops[i].name);
            continue;
        }
        CHECK(rc == 0 && r.available && isfinite(r.value) && r.value > 0 &&
                  strcmp(r.provenance, "measured") == 0,
              "%s: rc %d value %g (%s)", loops[i].name, rc, r.value, err);
        printf("  %-22s %10.1f %-8s %s\n", loops[i].name, r.value, r.unit, r.note);
    }
    /* The best loop per kind; bf16 exists exactly when the CPU has avx512_bf16. */
    for (int k = 0; k < IC_PROBE_KIND_COUNT; k++) {
        ic_probe_result r;
        CHECK(ic_probe_measure(pool, (ic_probe_kind)k, (size_t)64 << 20, 0.05, &r, err,
                               sizeof err) == 0,
              "kind %d: %s", k, err);
        if (k == IC_PROBE_BF16 && !ic_probe_best_loop(IC_PROBE_BF16))
            CHECK(!r.available && strstr(r.note, "unavailable: "), "bf16 note %s", r.note);
        else
            CHECK(r.available && r.value > 0, "kind %d unavailable: %s", k, r.note);
    }
    ic_read_check rc;
    double best_ratio = 0;
    for (int attempt = 0; attempt < 3 && best_ratio < 0.9; attempt++) {
        CHECK(ic_probe_read_check(pool, (size_t)512 << 20, 0.15, &rc, err, sizeof err) == 0, "%s",
              err);
        printf("  read check: probe %.1f GB/s, stream sum %.1f, triad %.1f, sgemv %.1f: ratio "
               "%.3f (%s)\n",
               rc.probe_gbs, rc.stream_sum_gbs, rc.stream_triad_gbs, rc.sgemv_gbs, rc.ratio,
               rc.note);
        if (rc.ratio > best_ratio) best_ratio = rc.ratio;
    }
#if defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang's spelling of GCC's __SANITIZE_ADDRESS__ */
#define IC_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(IC_TEST_ASAN)
    /* AddressSanitizer checks every load of the probe loop, not OpenBLAS's: no fair race. */
    printf("  read check ratio %.3f not asserted: built with AddressSanitizer\n", best_ratio);
    PASS();
#else
    CHECK(best_ratio >= 0.9, "read probe reaches only %.3f of the best other read", best_ratio);
#endif
    ic_pool_destroy(pool);
    return ic_test_finish("test_probes");
}
