/* Fuzzes the GGUF header reader on a buffer (ic_gguf_model_mem), with and without a weight type
 * given, and the checks of a shape it accepts. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "gguf.h"
#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ic_model m;
    char err[512];
    for (int given = 0; given < 2; given++) {
        if (ic_gguf_model_mem(data, size, "model.gguf", &m, given, err, sizeof err) != 0) continue;
        if (given) m.dtype = IC_DT_Q8_0;
        if (ic_model_validate(&m, err, sizeof err) == 0)
            IC_FUZZ_CHECK(ic_model_total_bytes(&m) <= IC_MODEL_MAX_BYTES);
    }
    return 0;
}
