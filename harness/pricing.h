/* Pricing: the one parser of the price options that run, cost, compare-chips and econ share, the
 * one price resolution (flag, DMI, catalog, region, mode), the one $/Mtok rule, and the one label
 * that says where a figure was measured and what it is priced as. */
#ifndef IC_PRICING_H
#define IC_PRICING_H

#include <stddef.h>

#include "catalog.h"
#include "result.h"

/* getopt_long values of the shared options; a command lists the entries it accepts. */
enum {
    IC_OPT_INSTANCE = 0x1000,
    IC_OPT_REGION,
    IC_OPT_PRICING,
    IC_OPT_CATALOG,
    IC_OPT_USD_PER_HOUR,
    IC_OPT_TPOT_MS,
};

#define IC_PRICE_OPTION_INSTANCE                                                                   \
    { "instance", required_argument, 0, IC_OPT_INSTANCE }
#define IC_PRICE_OPTION_REGION                                                                     \
    { "region", required_argument, 0, IC_OPT_REGION }
#define IC_PRICE_OPTION_PRICING                                                                    \
    { "pricing", required_argument, 0, IC_OPT_PRICING }
#define IC_PRICE_OPTION_CATALOG                                                                    \
    { "catalog", required_argument, 0, IC_OPT_CATALOG }
#define IC_PRICE_OPTION_USD_PER_HOUR                                                               \
    { "usd-per-hour", required_argument, 0, IC_OPT_USD_PER_HOUR }
#define IC_PRICE_OPTION_TPOT_MS                                                                    \
    { "tpot-ms", required_argument, 0, IC_OPT_TPOT_MS }

/* The usage lines of the shared options, in one wording for every command. */
#define IC_PRICE_USAGE_INSTANCE                                                                    \
    "  --instance T        price as EC2 instance type T from the catalog (default: the type the\n" \
    "                      figures were measured on, from DMI)\n"
#define IC_PRICE_USAGE_REGION "  --region R          catalog price region (default us-east-1)\n"
#define IC_PRICE_USAGE_PRICING                                                                     \
    "  --pricing MODE      on-demand (default), spot, savings-1y, savings-3y\n"
#define IC_PRICE_USAGE_CATALOG                                                                     \
    "  --catalog DIR       platform catalog (default $IC_PLATFORMS_DIR, else the one installed\n"  \
    "                      with the binary or the source tree's platforms/)\n"
#define IC_PRICE_USAGE_USD_PER_HOUR                                                                \
    "  --usd-per-hour X    an hourly price instead of the catalog's (0 < X <= 1e6)\n"
#define IC_PRICE_USAGE_TPOT_MS                                                                     \
    "  --tpot-ms MS        also the cheapest decode batch with ms/token <= MS per sequence\n"

#define IC_MAX_USD_PER_HOUR 1e6
#define IC_MAX_TPOT_MS      1e7

typedef struct ic_price_opts {
    const char *instance; /* --instance, or NULL */
    const char *region;   /* "us-east-1" unless given */
    ic_pricing pricing;
    int pricing_given;
    const char *catalog_dir; /* NULL: the default */
    double usd_per_hour;     /* > 0 when given */
    double tpot_ms;          /* > 0 when given */
} ic_price_opts;

void ic_price_opts_init(ic_price_opts *o);

/* Parses one of the shared options (c is its IC_OPT_* value). Returns 1 when c is one of them and
 * arg is valid, 0 when c is not one of them, -1 with a message naming the option and value. */
int ic_price_opts_parse(ic_price_opts *o, int c, const char *arg, char *err, size_t errlen);

/* Checks the options together (a given price has no pricing mode). 0, or -1 with a message. */
int ic_price_opts_check(const ic_price_opts *o, char *err, size_t errlen);

/* usd_per_hour / (tok_per_s * 3600) * 1e6: dollars per million tokens. NAN unless both are finite
 * and > 0: a price of 0 or less is an input error, refused where it is read. */
double ic_usd_per_mtok(double usd_per_hour, double tok_per_s);

/* Tokens one dollar buys: tok_per_s * 3600 / usd_per_hour, under the same rule. */
double ic_tok_per_usd(double usd_per_hour, double tok_per_s);

typedef enum ic_price_origin {
    IC_PRICE_NONE,     /* no price: note says why */
    IC_PRICE_GIVEN,    /* --usd-per-hour */
    IC_PRICE_CATALOG,  /* the catalog's price of price.instance_type */
    IC_PRICE_RECORDED, /* the price the result recorded at run time */
} ic_price_origin;

typedef struct ic_priced {
    ic_price_origin origin;
    ic_price price; /* price.instance_type: what it is priced as; "" for a price without a type */
    char basis[96]; /* how that type was chosen: "--instance", "measured on it (DMI)", ... */
    char note[512]; /* IC_PRICE_NONE: why there is no price */
} ic_priced;

/* The one precedence, for every command: (1) --usd-per-hour, priced as --instance when given;
 * (2) --instance T at the catalog; (3) the type the figures were measured on (from DMI) at the
 * catalog; (4) the price the result recorded (recorded may be NULL); (5) none. cat may be NULL
 * when no catalog is needed (a given price). Returns 0, or 2 when --instance names a type the
 * catalog cannot price; a measured-on type the catalog lacks gives IC_PRICE_NONE with the reason.
 */
int ic_price_resolve(const ic_price_opts *o, const ic_catalog *cat, const char *measured_on,
                     const ic_result_pricing *recorded, ic_priced *out, char *err, size_t errlen);

/* The price as a result records it. */
void ic_priced_to_record(const ic_priced *p, const char *today, ic_result_pricing *out);

/* How a priced figure was obtained, in one wording: the provenance, and when the price is for
 * another type than the one the figure was measured on, where it was measured and what it is
 * priced as: "measured", "measured on c7a.large, priced as c7i.large", "imported: measured on a
 * non-EC2 host, priced as c7i.large". */
void ic_priced_label(ic_provenance prov, const char *measured_on, const ic_priced *p, char *out,
                     size_t len);

/* One sentence for a price: "c7i.large on-demand us-east-1 at $0.0892/h (catalog: SOURCE, DATE);
 * 30% off on-demand (SOURCE, DATE)", "$2.5000/h given on the command line (--usd-per-hour)", or
 * the reason there is none. */
void ic_priced_describe(const ic_priced *p, char *out, size_t len);

/* 1 when the price is for another type than measured_on ("" = not EC2). */
int ic_priced_elsewhere(const char *measured_on, const ic_priced *p);

/* Whether the host's CPU contradicts the chip the catalog names for an instance type: another
 * architecture, or an x86 vendor other than the chip's. 1 with a sentence in why, else 0. */
int ic_chip_contradicts(const ic_chip_info *chip, const ic_host_id *host, char *why, size_t len);

#endif
