/* Fuzzes the AWS Price List offer import on a buffer (ic_prices_import_mem: it writes no file)
 * into a copy of the source tree's catalog, loaded once. An import keeps every row it had. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "fuzz.h"

static ic_catalog g_cat;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char err[512];
    if (ic_catalog_load(&g_cat, IC_SOURCE_DIR "/platforms", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_offer: %s\n", err);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ic_catalog cat = g_cat;
    cat.prices = malloc(g_cat.n_prices * sizeof *cat.prices);
    if (!cat.prices) return 0;
    memcpy(cat.prices, g_cat.prices, g_cat.n_prices * sizeof *cat.prices);
    ic_import_report rep;
    char err[512];
    int rc = ic_prices_import_mem(&cat, (const char *)data, size, "offer.json", "us-east-1", &rep,
                                  err, sizeof err);
    IC_FUZZ_CHECK(rc != 0 || cat.n_prices == g_cat.n_prices + rep.added);
    IC_FUZZ_CHECK(rc == 0 || cat.n_prices == g_cat.n_prices);
    free(cat.prices);
    return 0;
}
