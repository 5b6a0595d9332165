/* Fuzzes the result reader (ic_result_from_json on a buffer parsed with json_loadb). A record it
 * accepts must survive its own writer: ic_result_to_json, then a second read, must succeed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "result.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return 0;
    ic_result r;
    char err[512];
    int rc = ic_result_from_json(&r, root, "result.json", err, sizeof err);
    json_decref(root);
    if (rc) return 0;
    (void)ic_result_pick_decode(&r, -1);
    (void)ic_result_pick_prefill(&r, -1, 1);
    (void)ic_result_pick_latency(&r, 50);
    char where[256];
    ic_result_measured_on(&r, where, sizeof where);
    json_t *again = ic_result_to_json(&r);
    IC_FUZZ_CHECK(again != NULL);
    ic_result r2;
    rc = ic_result_from_json(&r2, again, "result.json (written)", err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    IC_FUZZ_CHECK(rc == 0);
    IC_FUZZ_CHECK(r2.n_meas == r.n_meas);
    json_decref(again);
    ic_result_free(&r2);
    ic_result_free(&r);
    return 0;
}
