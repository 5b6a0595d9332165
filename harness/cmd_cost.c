/* infercost cost: $ per million tokens of result files, at an instance's price. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "economics.h"
#include "instance.h"

static const char g_usage[] =
    "usage: infercost cost RESULT.json... [--instance T] [--region R] [--pricing MODE] [--mix "
    "I:O]\n"
    "                      [--tpot-ms MS] [--usd-per-hour X] [--catalog DIR]\n"
    "  --instance T      price as instance type T (default: the result's env.instance_type)\n"
    "  --region R        price region (default us-east-1)\n"
    "  --pricing MODE    on-demand (default), spot, savings-1y, savings-3y (discounts.tsv)\n"
    "  --mix I:O         input:output tokens for the blended figure (default 3:1)\n"
    "  --tpot-ms MS      also the cheapest decode configuration with ms/token <= MS\n"
    "  --usd-per-hour X  use this hourly price instead of the catalog's (source: given)\n"
    "  --catalog DIR     platform catalog (default $IC_PLATFORMS_DIR or the source tree's)\n";

/* Parses a positive finite number for option name; 0 ok, -1 bad. */
static int parse_pos(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v <= 0) return -1;
    *out = v;
    return 0;
}

static void today_utc(char *buf, size_t len) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

/* Prints one figure row: kind, tok/s, $/Mtok, tok/$, provenance, price date. */
static void row(const char *what, double tok_per_s, const ic_price *pr, ic_provenance prov) {
    printf("  %-22s %12.2f %12.4f %14.0f  %-9s %s\n", what, tok_per_s,
           ic_usd_per_mtok(pr->usd_per_hour, tok_per_s),
           ic_tok_per_usd(pr->usd_per_hour, tok_per_s), ic_provenance_name(prov), pr->date);
}

static int price_one(const ic_catalog *cat, const char *path, const char *flag_instance,
                     const char *detected, const char *region, ic_pricing pricing, double given_usd,
                     double mix_in, double mix_out, double tpot_ms) {
    char err[512];
    ic_econ_result r;
    int rc = ic_econ_result_load(&r, path, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    const char *inst = flag_instance ? flag_instance : r.instance_type[0] ? r.instance_type : NULL;
    const char *inst_from = flag_instance ? "from --instance" : "from the result";
    /* A result made on this host without a type (e.g. by a run before detection) is priced as the
     * type DMI reports here, when there is one. */
    if (!inst && r.on_this_host && detected && detected[0]) {
        inst = detected;
        inst_from = "this host, from DMI";
    }
    ic_price pr;
    memset(&pr, 0, sizeof pr);
    if (given_usd <= 0 && !inst && r.run_usd_per_hour > 0) {
        /* No type, but the run was given a price: use it, with the source and date it recorded. */
        snprintf(pr.instance_type, sizeof pr.instance_type, "(unspecified)");
        snprintf(pr.region, sizeof pr.region, "%s", region);
        pr.pricing = IC_PRICING_ON_DEMAND;
        pr.usd_per_hour = pr.on_demand_usd_per_hour = r.run_usd_per_hour;
        snprintf(pr.source, sizeof pr.source, "the result's pricing: %.150s",
                 r.run_price_source[0] ? r.run_price_source : "no source recorded");
        snprintf(pr.date, sizeof pr.date, "%s", r.run_price_date[0] ? r.run_price_date : "undated");
        inst_from = "no type; priced as the run was";
        if (pricing != IC_PRICING_ON_DEMAND) {
            ic_error("%s: --pricing %s needs an instance type; give --instance", path,
                     ic_pricing_name(pricing));
            ic_econ_result_free(&r);
            return IC_EXIT_USAGE;
        }
    } else if (given_usd > 0) {
        snprintf(pr.instance_type, sizeof pr.instance_type, "%s", inst ? inst : "(unspecified)");
        snprintf(pr.region, sizeof pr.region, "%s", region);
        pr.pricing = pricing;
        pr.usd_per_hour = pr.on_demand_usd_per_hour = given_usd;
        snprintf(pr.source, sizeof pr.source, "given on the command line (--usd-per-hour)");
        today_utc(pr.date, sizeof pr.date);
    } else {
        if (!inst) {
            ic_error("%s: no instance type (env.instance_type is null: the run was not on EC2) "
                     "and no price in the result; give --instance T or --usd-per-hour X",
                     path);
            ic_econ_result_free(&r);
            return IC_EXIT_USAGE;
        }
        if ((rc = ic_price_lookup(cat, inst, region, pricing, &pr, err, sizeof err))) {
            ic_error("%s: %s", path, err);
            ic_econ_result_free(&r);
            return rc;
        }
    }
    printf("result     %s\n", path);
    printf("model      %s %s; host %s%s; created %s\n", r.model[0] ? r.model : "?",
           r.dtype[0] ? r.dtype : "?", r.host[0] ? r.host : "?",
           r.on_this_host ? " (this host)" : " (another host: figures imported)",
           r.created_utc[0] ? r.created_utc : "?");
    printf("instance   %s (%s), region %s, pricing %s\n", pr.instance_type,
           given_usd > 0 && !inst ? "no type" : inst_from, pr.region, ic_pricing_name(pr.pricing));
    if (flag_instance && r.instance_type[0] && strcmp(flag_instance, r.instance_type) != 0)
        printf("           note: measured on %s, priced as %s\n", r.instance_type, flag_instance);
    printf("price      $%.6f/h; source: %s; date %s\n", pr.usd_per_hour, pr.source, pr.date);
    if (pr.discount > 0)
        printf("           = on-demand $%.6f/h less %.0f%% (%s): %s; date %s\n",
               pr.on_demand_usd_per_hour, pr.discount * 100, ic_pricing_name(pr.pricing),
               pr.discount_source, pr.discount_date);
    printf("  %-22s %12s %12s %14s  %-9s %s\n", "figure", "tok/s", "usd/Mtok", "tok/usd", "how",
           "price date");
    const ic_econ_measurement *pf = ic_econ_pick(&r, IC_MEAS_PREFILL);
    const ic_econ_measurement *dc = ic_econ_pick(&r, IC_MEAS_DECODE);
    char what[64];
    if (pf) {
        snprintf(what, sizeof what, "prefill (%ld tok)", pf->batch);
        row(what, pf->tok_per_s, &pr, ic_econ_figure_provenance(&r, pf));
    } else {
        printf("  %-22s unavailable: the result has no prefill measurement\n", "prefill");
    }
    if (dc) {
        snprintf(what, sizeof what, "decode (ctx %ld)", dc->context);
        row(what, dc->tok_per_s, &pr, ic_econ_figure_provenance(&r, dc));
    } else {
        printf("  %-22s unavailable: the result has no batch-1 decode measurement\n", "decode");
    }
    if (pf && dc) {
        double t = ic_blend_tok_per_s(pf->tok_per_s, dc->tok_per_s, mix_in, mix_out);
        ic_provenance p = ic_provenance_weakest(ic_econ_figure_provenance(&r, pf),
                                                ic_econ_figure_provenance(&r, dc));
        snprintf(what, sizeof what, "blended %g:%g", mix_in, mix_out);
        row(what, t, &pr, p);
    } else {
        printf("  %-22s unavailable: needs both prefill and decode\n", "blended");
    }
    if (tpot_ms > 0) {
        const ic_econ_measurement *m = ic_econ_latency_pick(&r, tpot_ms);
        if (m) {
            snprintf(what, sizeof what, "tpot<=%g b%ld %.0fms", tpot_ms, m->batch, m->ms_per_token);
            row(what, m->tok_per_s, &pr, ic_econ_figure_provenance(&r, m));
        } else {
            printf("  tpot<=%-16g none: no decode configuration meets the target\n", tpot_ms);
        }
    }
    printf("\n");
    ic_econ_result_free(&r);
    return IC_EXIT_OK;
}

int ic_cmd_cost(int argc, char **argv) {
    static const struct option opts[] = {{"instance", required_argument, 0, 'i'},
                                         {"region", required_argument, 0, 'r'},
                                         {"pricing", required_argument, 0, 'p'},
                                         {"mix", required_argument, 0, 'm'},
                                         {"tpot-ms", required_argument, 0, 't'},
                                         {"usd-per-hour", required_argument, 0, 'u'},
                                         {"catalog", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *instance = NULL, *region = "us-east-1", *catdir = NULL;
    ic_pricing pricing = IC_PRICING_ON_DEMAND;
    double mix_in = 3, mix_out = 1, tpot_ms = 0, given_usd = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!ic_instance_type_valid(optarg))
                return ic_usage_error("cost", g_usage,
                                      "--instance '%s' is not an instance type name", optarg);
            instance = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'p':
            if (ic_pricing_parse(optarg, &pricing) != 0)
                return ic_usage_error(
                    "cost", g_usage,
                    "--pricing '%s': want on-demand, spot, savings-1y or savings-3y", optarg);
            break;
        case 'm':
            if (ic_mix_parse(optarg, &mix_in, &mix_out) != 0)
                return ic_usage_error("cost", g_usage, "--mix '%s': want INPUT:OUTPUT, e.g. 3:1",
                                      optarg);
            break;
        case 't':
            if (parse_pos(optarg, &tpot_ms) != 0)
                return ic_usage_error("cost", g_usage, "--tpot-ms '%s': want a positive number",
                                      optarg);
            break;
        case 'u':
            if (parse_pos(optarg, &given_usd) != 0)
                return ic_usage_error("cost", g_usage,
                                      "--usd-per-hour '%s': want a positive number", optarg);
            break;
        case 'c':
            catdir = optarg;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("cost", g_usage, opts, argv, optind);
        }
    }
    if (optind >= argc) return ic_usage_error("cost", g_usage, "no result file given");
    if (given_usd > 0 && pricing != IC_PRICING_ON_DEMAND)
        return ic_usage_error("cost", g_usage, "--usd-per-hour and --pricing cannot be combined");
    ic_catalog cat;
    char err[512];
    int rc = 0;
    memset(&cat, 0, sizeof cat);
    if (given_usd <= 0 && (rc = ic_catalog_load(&cat, catdir, err, sizeof err))) {
        ic_error("%s", err);
        return rc;
    }
    char detected[48] = "", why[256];
    if (!instance && given_usd <= 0) {
        if (ic_instance_detect(NULL, detected, sizeof detected, why, sizeof why))
            printf("this host  EC2 %s (from DMI; prices results made here that name no type)\n\n",
                   detected);
        else
            printf("this host  %s\n\n", why);
    }
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int r = price_one(&cat, argv[i], instance, detected, region, pricing, given_usd, mix_in,
                          mix_out, tpot_ms);
        if (r > worst) worst = r;
    }
    ic_catalog_free(&cat);
    return worst;
}
