/* Fuzzes the custom shape reader (ic_model_from_json_text) and, for a shape it accepts, the
 * checks and every size derived from a valid shape. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ic_model m;
    char err[512];
    if (ic_model_from_json_text((const char *)data, size, "shape.json", &m, err, sizeof err) != 0)
        return 0;
    if (ic_model_validate(&m, err, sizeof err) != 0) return 0;
    IC_FUZZ_CHECK(ic_model_total_bytes(&m) <= IC_MODEL_MAX_BYTES);
    (void)ic_model_kv_bytes(&m, IC_DT_F16, 1 << 20);
    (void)ic_model_flop_per_token(&m, 4096);
    (void)ic_model_prefill_flop(&m, 4096);
    char desc[512];
    ic_model_describe(&m, desc, sizeof desc);
    return 0;
}
