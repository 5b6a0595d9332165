/* infercost prices: show catalog prices, or import the AWS Price List offer file into the catalog.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "pricing.h"

static const char g_usage[] =
    "usage: infercost prices import OFFER.json [--region R] [--catalog DIR]\n"
    "       infercost prices show [TYPE...] [--region R] [--pricing MODE] [--catalog DIR]\n"
    "  import   read an AWS Price List bulk offer file (EC2, JSON) and replace the on-demand "
    "prices\n"
    "           of region R (Linux, Shared tenancy, no pre-installed software, capacity Used) in\n"
    "           the catalog's prices.tsv, written atomically\n"
    "  show     print catalog prices with their source and date (all types of the region if "
    "none)\n" IC_PRICE_USAGE_REGION IC_PRICE_USAGE_PRICING IC_PRICE_USAGE_CATALOG;

int ic_cmd_prices(int argc, char **argv) {
    static const struct option opts[] = {IC_PRICE_OPTION_REGION,
                                         IC_PRICE_OPTION_PRICING,
                                         IC_PRICE_OPTION_CATALOG,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ic_price_opts po;
    ic_price_opts_init(&po);
    char perr[512];
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int pc = ic_price_opts_parse(&po, c, optarg, perr, sizeof perr);
        if (pc < 0) return ic_usage_error("prices", g_usage, "%s", perr);
        if (pc > 0) continue;
        if (c == 'h') {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        }
        return ic_option_error("prices", g_usage, opts, argv, optind);
    }
    const char *region = po.region, *catdir = po.catalog_dir;
    ic_pricing pricing = po.pricing;
    if (optind >= argc)
        return ic_usage_error("prices", g_usage, "no subcommand: want import or show");
    const char *sub = argv[optind++];
    int is_import = strcmp(sub, "import") == 0;
    if (!is_import && strcmp(sub, "show") != 0)
        return ic_usage_error("prices", g_usage, "unknown subcommand '%s': want import or show",
                              sub);
    if (is_import && argc - optind != 1)
        return ic_usage_error("prices", g_usage, "import takes exactly one offer file");

    ic_catalog cat;
    char err[512];
    int rc = ic_catalog_load(&cat, catdir, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    if (is_import) {
        ic_import_report rep;
        rc = ic_prices_import(&cat, argv[optind], region, &rep, err, sizeof err);
        if (rc) {
            ic_error("prices import: %s; the catalog is unchanged", err);
        } else {
            printf("imported %s for %s (publicationDate %s): %zu prices updated, %zu added, into "
                   "%s/prices.tsv\n",
                   argv[optind], region, rep.publication_date[0] ? rep.publication_date : "absent",
                   rep.updated, rep.added, ic_catalog_shown_dir(&cat));
            printf("skipped: %zu products of other OS/tenancy/software/capacity/region or family, "
                   "%zu with missing fields, %zu priced in non-USD only, %zu at $0\n",
                   rep.skipped_not_matching, rep.skipped_missing, rep.skipped_non_usd,
                   rep.skipped_zero);
            if (rep.first_missing[0]) printf("  e.g. missing: %s\n", rep.first_missing);
            if (rep.first_non_usd[0]) printf("  e.g. non-USD: %s\n", rep.first_non_usd);
            if (rep.unknown_types)
                printf(
                    "note: %zu added types are not in instances.tsv (priced, but without vCPU or "
                    "chip facts)\n",
                    rep.unknown_types);
        }
    } else {
        printf("%-22s %-12s %-10s %12s  %-10s %s\n", "instance_type", "region", "pricing", "usd/h",
               "date", "source");
        int shown = 0;
        for (size_t i = 0; i < cat.n_prices && rc == 0; i++) {
            const ic_price_row *p = &cat.prices[i];
            int want = optind == argc;
            for (int a = optind; a < argc && !want; a++) want = strcmp(argv[a], p->type) == 0;
            if (!want || strcmp(p->region, region) != 0) continue;
            ic_price pr;
            if ((rc = ic_price_lookup(&cat, p->type, region, pricing, &pr, err, sizeof err))) break;
            printf("%-22s %-12s %-10s %12.6f  %-10s %s%s%s\n", p->type, region,
                   ic_pricing_name(pricing), pr.usd_per_hour, pr.date, pr.source,
                   pr.discount > 0 ? "; less " : "", pr.discount > 0 ? pr.discount_source : "");
            shown++;
        }
        for (int a = optind; a < argc && rc == 0; a++) {
            ic_price pr;
            if ((rc = ic_price_lookup(&cat, argv[a], region, pricing, &pr, err, sizeof err))) break;
        }
        if (rc)
            ic_error("%s", err);
        else if (!shown) {
            ic_error("no prices for region '%s' in %s/prices.tsv", region,
                     ic_catalog_shown_dir(&cat));
            rc = IC_EXIT_USAGE;
        }
    }
    ic_catalog_free(&cat);
    return rc;
}
