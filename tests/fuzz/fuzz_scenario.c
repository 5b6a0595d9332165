/* Fuzzes econ's scenario reader and its report (ic_econ_report, text and JSON, to /dev/null)
 * with the source tree's catalog, loaded once. A relative serving_cost.result names a file under
 * tests/data/, as the seed scenarios do. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "cli.h"
#include "fuzz.h"

static ic_catalog g_cat;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char err[512];
    if (ic_catalog_load(&g_cat, IC_SOURCE_DIR "/platforms", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_scenario: %s\n", err);
        exit(1);
    }
    if (!freopen("/dev/null", "w", stdout)) exit(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return 0;
    char err[1024];
    const char *path = IC_SOURCE_DIR "/tests/data/scenario.json";
    if (ic_econ_report(root, path, NULL, &g_cat, 0, err, sizeof err) == 0)
        (void)ic_econ_report(root, path, NULL, &g_cat, 1, err, sizeof err);
    json_decref(root);
    return 0;
}
