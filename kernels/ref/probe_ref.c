/* Portable probe loops: the fallback where no ISA loop applies, and the plain-C yardstick. */
#include "ic_probe.h"

#include <string.h>

double ic_probe_read_ref(const void *buf, size_t bytes) {
    const uint64_t *p = buf;
    size_t n = bytes / sizeof *p, i = 0;
    /* Eight independent sums, so the loop is bound by loads, not by one add chain. */
    uint64_t s[8] = {0};
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += p[i + j];
    for (; i < n; i++) s[0] += p[i];
    uint64_t t = 0;
    for (int j = 0; j < 8; j++) t += s[j];
    return (double)t;
}

double ic_probe_fma_f32_ref(uint64_t iters, double *ops_per_iter) {
    enum { N = 32 };
    float acc[N], a = 1.0000001f, b = 1e-7f;
    for (int j = 0; j < N; j++) acc[j] = (float)j;
    for (uint64_t i = 0; i < iters; i++) {
        /* The empty asm makes a and b opaque, so the compiler cannot fold the chains. */
        __asm__ volatile("" : "+m"(a), "+m"(b));
        for (int j = 0; j < N; j++) acc[j] = acc[j] * a + b;
    }
    *ops_per_iter = 2.0 * N;
    float t = 0;
    for (int j = 0; j < N; j++) t += acc[j];
    return t;
}
