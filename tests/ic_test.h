/* A tiny test harness: CHECK counts, a seeded RNG, and the closing "N passed, N failed" line. */
#ifndef IC_TEST_H
#define IC_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int ic_test_passed, ic_test_failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            ic_test_passed++;                                                                      \
        } else {                                                                                   \
            ic_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Counts one passed check, for loops that report only their first failure. */
#define PASS() (ic_test_passed++)

/* Prints the summary line and returns the exit status: non-zero when any check failed or none ran.
 */
static inline int ic_test_finish(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, ic_test_passed, ic_test_failed);
    return ic_test_failed != 0 || ic_test_passed == 0;
}

/* splitmix64: reproducible across platforms. */
typedef struct {
    uint64_t s;
} ic_test_rng;

static inline uint64_t ic_test_next(ic_test_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static inline float ic_test_uniform(ic_test_rng *r) {
    return (float)((double)(ic_test_next(r) >> 11) * 0x1.0p-52 - 1.0);
}

#endif
