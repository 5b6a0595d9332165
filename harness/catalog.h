/* The platform catalog: EC2 instance types, chip facts, prices by region, pricing-mode discounts
 * and token list prices, read from the TSV files under platforms/. Every price keeps its source and
 * date. */
#ifndef IC_CATALOG_H
#define IC_CATALOG_H

#include <stddef.h>

/* Return values of the functions below are exit codes: 0 ok, 1 runtime failure (I/O), 2 bad input
 * (a malformed file, an unknown name); err then holds one line naming the file, line and field. */

typedef struct ic_instance_info {
    char type[48];   /* "c7i.large" */
    char family[24]; /* "c7i" */
    int vcpus;
    double memory_gib;
    char chip[32];    /* a name in chips.tsv where we have the chip's facts */
    int accelerators; /* GPUs or Neuron devices; 0 for CPU-only types */
    char basis[16];   /* "naming" (derived from the type name) or "published" */
} ic_instance_info;

typedef struct ic_chip_info {
    char name[32];
    char arch[16];           /* "x86_64", "aarch64", "cuda", "neuron" */
    int vcpus_per_socket;    /* CPUs: vCPUs one socket exposes; 0 for accelerators */
    double peak_mem_bw_gbs;  /* per socket (CPU) or per device (accelerator); 0 = no figure */
    double peak_bf16_tflops; /* per device; 0 = no figure */
    double device_mem_gib;   /* accelerators: memory per device; 0 = not applicable */
} ic_chip_info;

typedef struct ic_price_row {
    char type[48];
    char region[32];
    double usd_per_hour; /* on-demand */
    char source[200];
    char date[32];
} ic_price_row;

/* Pricing modes: the on-demand price, less the mode's discount from discounts.tsv. */
typedef enum ic_pricing {
    IC_PRICING_ON_DEMAND = 0,
    IC_PRICING_SPOT,
    IC_PRICING_SAVINGS_1Y,
    IC_PRICING_SAVINGS_3Y,
    IC_PRICING_COUNT
} ic_pricing;

typedef struct ic_discount {
    int present;
    double fraction; /* off on-demand, in [0, 1) */
    char source[200];
    char date[32];
} ic_discount;

typedef struct ic_token_price {
    char model[48];
    double input_usd_per_mtok, output_usd_per_mtok;
    char source[200];
    char date[32];
} ic_token_price;

/* Where the catalog directory came from (ic_catalog_find), in the order it is looked for. */
typedef enum ic_catalog_origin {
    IC_CATALOG_GIVEN,     /* --catalog DIR */
    IC_CATALOG_ENV,       /* $IC_PLATFORMS_DIR */
    IC_CATALOG_INSTALLED, /* <prefix>/share/infercost/platforms beside <prefix>/bin/infercost */
    IC_CATALOG_SOURCE,    /* platforms/ of the source tree the binary was built from */
} ic_catalog_origin;

typedef struct ic_catalog {
    char dir[1024];
    ic_catalog_origin origin;
    ic_instance_info *instances;
    size_t n_instances;
    ic_chip_info *chips;
    size_t n_chips;
    ic_price_row *prices;
    size_t n_prices;
    ic_discount discounts[IC_PRICING_COUNT];
    ic_token_price *token_prices;
    size_t n_token_prices;
} ic_catalog;

/* A priced instance-hour: the mode's price and where each part of it came from. */
typedef struct ic_price {
    char instance_type[48];
    char region[32];
    ic_pricing pricing;
    double usd_per_hour;           /* after the discount */
    double on_demand_usd_per_hour; /* before it */
    double discount;               /* fraction off on-demand */
    char source[200];              /* of the on-demand price */
    char date[32];
    char discount_source[200]; /* "" for on-demand */
    char discount_date[32];
} ic_price;

/* Finds the catalog directory, the one rule every command uses: given (--catalog DIR; NULL when
 * absent), else $IC_PLATFORMS_DIR when set and not empty, else share/infercost/platforms installed
 * beside the running binary (/proc/self/exe, <prefix>/bin/../share/infercost/platforms), else the
 * source tree's platforms/ compiled in by CMake. A directory named by --catalog or the variable
 * must exist: it is never silently replaced by another. Writes the directory into dir (dirlen
 * bytes) and where it came from into *origin; returns 0, or 2 with a message that names every
 * place tried. */
int ic_catalog_find(const char *given, char *dir, size_t dirlen, ic_catalog_origin *origin,
                    char *err, size_t errlen);

/* "--catalog", "IC_PLATFORMS_DIR", "installed" or "source tree": how a catalog was found. */
const char *ic_catalog_origin_name(ic_catalog_origin origin);

/* How messages name the catalog's directory: "platforms" for the source tree's catalog found as the
 * default (its absolute path is the build machine's), else the directory. Points into cat or at a
 * static string. */
const char *ic_catalog_shown_dir(const ic_catalog *cat);

/* Loads every file of the catalog that ic_catalog_find finds from dir (--catalog's directory, or
 * NULL). The catalog owns its arrays; free them with ic_catalog_free. On failure nothing needs
 * freeing. Each file is checked against its columns: the header names each of them once (any
 * order), every row has the header's width, no control bytes, numbers in range, names without
 * spaces, and no repeated key (instance type; type and region; chip; pricing mode; model); an error
 * names the file, line and column. */
int ic_catalog_load(ic_catalog *cat, const char *dir, char *err, size_t errlen);

void ic_catalog_free(ic_catalog *cat);

/* Checks text (len bytes, need not be terminated) as the catalog file named file ("chips.tsv",
 * "instances.tsv", "prices.tsv", "discounts.tsv" or "token-prices.tsv") with ic_catalog_load's
 * checks, and keeps nothing. Returns 0, or 2 with a message naming file, line and column. */
int ic_catalog_check_tsv(const char *file, const char *text, size_t len, char *err, size_t errlen);

/* The instance type's facts, or NULL if the catalog does not list it. */
const ic_instance_info *ic_catalog_instance(const ic_catalog *cat, const char *type);

/* The chip's facts, or NULL when chips.tsv has no row for it. */
const ic_chip_info *ic_catalog_chip(const ic_catalog *cat, const char *name);

/* The token list price of a model, or NULL. */
const ic_token_price *ic_catalog_token_price(const ic_catalog *cat, const char *model);

/* "on-demand", "spot", "savings-1y", "savings-3y". */
const char *ic_pricing_name(ic_pricing p);

/* Parses a pricing mode name; returns 0 and sets *out, or -1 when unknown. */
int ic_pricing_parse(const char *name, ic_pricing *out);

/* Prices one hour of instance in region under a pricing mode, with the sources and dates of the
 * on-demand price and the discount. Returns 2 with a message naming what is missing (an instance
 * type with no price in that region, a mode without a discount row). This is the call `infercost
 * run` makes to price its own result. */
int ic_price_lookup(const ic_catalog *cat, const char *instance, const char *region,
                    ic_pricing pricing, ic_price *out, char *err, size_t errlen);

/* What an import did, for the command to report. */
typedef struct ic_import_report {
    size_t updated, added;       /* price rows replaced / added for the region */
    size_t skipped_not_matching; /* other OS, tenancy, software, capacity status or region */
    size_t skipped_missing;      /* products lacking a needed attribute or term */
    size_t skipped_non_usd;      /* on-demand terms priced in another currency only */
    size_t skipped_zero;         /* terms priced at $0 (AWS lists some placeholders at 0) */
    size_t unknown_types;        /* priced types that instances.tsv does not describe */
    char first_missing[160];     /* an example of each kind of skip, for the message */
    char first_non_usd[160];
    char publication_date[40];
} ic_import_report;

/* Reads an AWS Price List bulk offer file (EC2, JSON) and updates the catalog's prices for region:
 * Linux, Shared tenancy, preInstalledSw NA, capacitystatus Used, hourly USD on-demand terms. Rows
 * of other regions and of types absent from the file are kept. Writes prices.tsv atomically; on any
 * error neither the file nor cat changes. Products missing a field, non-USD and $0 terms are
 * skipped and counted; a malformed file, an unparsable or negative USD price, or a row that
 * prices.tsv would not read back (a price below $0.000001, an empty instance type, or one starting
 * with '#' or holding whitespace or a control byte) is an error (2) naming the sku. */
int ic_prices_import(ic_catalog *cat, const char *offer_path, const char *region,
                     ic_import_report *rep, char *err, size_t errlen);

/* The same import from offer text in memory (len bytes, need not be terminated), named label in
 * messages and sources: it updates cat's prices only and writes no file. */
int ic_prices_import_mem(ic_catalog *cat, const char *text, size_t len, const char *label,
                         const char *region, ic_import_report *rep, char *err, size_t errlen);

#endif
