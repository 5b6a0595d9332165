/* What every fuzz target shares: the libFuzzer entry points, and the source tree's data (the
 * catalog, the test results) compiled in by CMake so that a target runs from any directory. */
#ifndef IC_FUZZ_H
#define IC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifndef IC_SOURCE_DIR
#define IC_SOURCE_DIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run with a message: an invariant of the module under test does not hold. */
#define IC_FUZZ_CHECK(cond)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
