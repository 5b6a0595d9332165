/* Fuzzes the catalog's table-driven TSV reader on a buffer (ic_catalog_check_tsv). The first byte
 * picks the table; the rest is the file's text. */
#include <stdio.h>

#include "catalog.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const files[] = {"instances.tsv", "chips.tsv", "prices.tsv", "discounts.tsv",
                                        "token-prices.tsv"};
    if (size < 1) return 0;
    const char *file = files[data[0] % (sizeof files / sizeof files[0])];
    char err[512];
    (void)ic_catalog_check_tsv(file, (const char *)data + 1, size - 1, err, sizeof err);
    return 0;
}
