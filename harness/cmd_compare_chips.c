/* infercost compare-chips: instance types ranked by $ per million decoded tokens for one model. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "economics.h"

static const char g_usage[] =
    "usage: infercost compare-chips RESULT.json... --model M --dtype D [--project] [--region R]\n"
    "                               [--pricing MODE] [--tpot-ms MS] [--catalog DIR]\n"
    "  --model M, --dtype D  compare results of this model and weight type only (required)\n"
    "  --project             add modeled rows for catalog instances without a result\n"
    "  --region R            price region (default us-east-1)\n"
    "  --pricing MODE        on-demand (default), spot, savings-1y, savings-3y\n"
    "  --tpot-ms MS          rank the cheapest decode configuration with ms/token <= MS\n"
    "  --catalog DIR         platform catalog (default $IC_PLATFORMS_DIR or the source tree's)\n";

typedef struct row {
    char instance[48];
    char chip[32];
    double tok_per_s;
    long batch;
    double usd_per_mtok;
    ic_price price;
    ic_provenance prov;
    char from[96]; /* result file, or "model" */
} row;

static int by_cost(const void *a, const void *b) {
    const row *x = a, *y = b;
    if (x->usd_per_mtok != y->usd_per_mtok) return x->usd_per_mtok < y->usd_per_mtok ? -1 : 1;
    return strcmp(x->instance, y->instance);
}

static row *find_row(row *rows, size_t n, const char *instance) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].instance, instance) == 0) return &rows[i];
    return NULL;
}

/* The decode efficiency of a result: roofline.efficiency, or measured tok/s over the bandwidth
 * bound from this result's own probed read bandwidth. 0 when neither is known. */
static double decode_efficiency(const ic_econ_result *r, const ic_econ_measurement *m) {
    if (m->efficiency > 0) return m->efficiency;
    if (r->read_bw_gbs > 0 && r->weight_bytes_per_token > 0)
        return m->tok_per_s / (r->read_bw_gbs * 1e9 / r->weight_bytes_per_token);
    return 0;
}

int ic_cmd_compare_chips(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"dtype", required_argument, 0, 'd'},
                                         {"project", no_argument, 0, 'P'},
                                         {"region", required_argument, 0, 'r'},
                                         {"pricing", required_argument, 0, 'p'},
                                         {"tpot-ms", required_argument, 0, 't'},
                                         {"catalog", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *dtype = NULL, *region = "us-east-1", *catdir = NULL;
    ic_pricing pricing = IC_PRICING_ON_DEMAND;
    int project = 0, c;
    double tpot_ms = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'd':
            dtype = optarg;
            break;
        case 'P':
            project = 1;
            break;
        case 'r':
            region = optarg;
            break;
        case 'p':
            if (ic_pricing_parse(optarg, &pricing) != 0)
                return ic_usage_error(
                    "compare-chips", g_usage,
                    "--pricing '%s': want on-demand, spot, savings-1y or savings-3y", optarg);
            break;
        case 't': {
            char *end;
            tpot_ms = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(tpot_ms) || tpot_ms <= 0)
                return ic_usage_error("compare-chips", g_usage,
                                      "--tpot-ms '%s': want a positive number", optarg);
            break;
        }
        case 'c':
            catdir = optarg;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("compare-chips", g_usage, opts, argv, optind);
        }
    }
    if (!model || !dtype)
        return ic_usage_error("compare-chips", g_usage, "--model and --dtype are required");
    if (optind >= argc) return ic_usage_error("compare-chips", g_usage, "no result file given");

    ic_catalog cat;
    char err[512];
    int rc = ic_catalog_load(&cat, catdir, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    row *rows = NULL;
    size_t n = 0, cap = 0, matched = 0;
    int nres = argc - optind;
    ic_econ_result *res = calloc((size_t)nres, sizeof *res);
    const ic_econ_result *refp = NULL; /* whose decode efficiency the projection scales */
    const ic_econ_measurement *ref_m = NULL;
    if (!res) {
        ic_error("out of memory");
        ic_catalog_free(&cat);
        return IC_EXIT_FAIL;
    }
    for (int i = 0; i < nres; i++) {
        ic_econ_result *r = &res[i];
        const char *path = argv[optind + i];
        if ((rc = ic_econ_result_load(r, path, err, sizeof err))) {
            ic_error("%s", err);
            goto out;
        }
        if (strcmp(r->model, model) != 0 || strcmp(r->dtype, dtype) != 0) {
            fprintf(stderr, "infercost compare-chips: %s: skipped: model %s %s, not %s %s\n", path,
                    r->model, r->dtype, model, dtype);
            continue;
        }
        matched++;
        const ic_econ_measurement *d1 = ic_econ_pick(r, IC_MEAS_DECODE);
        /* The projection scales one result's efficiency: this host's if given, else the first. */
        if (d1 && (!refp || (r->on_this_host && !refp->on_this_host))) {
            refp = r;
            ref_m = d1;
        }
        const ic_econ_measurement *m = tpot_ms > 0 ? ic_econ_latency_pick(r, tpot_ms) : d1;
        if (!m) {
            fprintf(stderr, "infercost compare-chips: %s: skipped: %s\n", path,
                    tpot_ms > 0 ? "no decode configuration meets --tpot-ms"
                                : "no batch-1 decode measurement");
            continue;
        }
        if (!r->instance_type[0]) {
            fprintf(stderr,
                    "infercost compare-chips: %s: skipped: no instance type (made off EC2)\n",
                    path);
            continue;
        }
        ic_price pr;
        if ((rc = ic_price_lookup(&cat, r->instance_type, region, pricing, &pr, err, sizeof err))) {
            ic_error("%s: %s", path, err);
            goto out;
        }
        double cost = ic_usd_per_mtok(pr.usd_per_hour, m->tok_per_s);
        row *old = find_row(rows, n, r->instance_type);
        if (old && cost >= old->usd_per_mtok) continue; /* keep the instance's cheapest result */
        if (!old) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                row *nr = realloc(rows, cap * sizeof *rows);
                if (!nr) {
                    ic_error("out of memory");
                    rc = IC_EXIT_FAIL;
                    goto out;
                }
                rows = nr;
            }
            old = &rows[n++];
        }
        memset(old, 0, sizeof *old);
        snprintf(old->instance, sizeof old->instance, "%s", r->instance_type);
        const ic_instance_info *ii = ic_catalog_instance(&cat, r->instance_type);
        snprintf(old->chip, sizeof old->chip, "%s", ii ? ii->chip : "?");
        old->tok_per_s = m->tok_per_s;
        old->batch = m->batch;
        old->usd_per_mtok = cost;
        old->price = pr;
        old->prov = ic_econ_figure_provenance(r, m);
        snprintf(old->from, sizeof old->from, "%s", path);
    }
    if (matched == 0) {
        ic_error("no result file is for model %s dtype %s", model, dtype);
        rc = IC_EXIT_USAGE;
        goto out;
    }

    double eff = 0;
    size_t modeled = 0, no_fit = 0, no_facts = 0;
    if (project) {
        eff = refp ? decode_efficiency(refp, ref_m) : 0;
        if (!(eff > 0) || !(refp->weight_bytes_per_token > 0)) {
            printf("projection unavailable: %s\n",
                   !refp ? "no result has a batch-1 decode measurement"
                   : !(refp->weight_bytes_per_token > 0)
                       ? "the result has no model.weight_bytes_per_token"
                       : "the result has no roofline.efficiency and no probes.read_bw_gbs");
        } else {
            double model_gib = refp->weight_bytes_per_token / (1024.0 * 1024 * 1024);
            for (size_t i = 0; i < cat.n_instances; i++) {
                const ic_instance_info *ii = &cat.instances[i];
                if (find_row(rows, n, ii->type)) continue;
                const ic_chip_info *ch = ic_catalog_chip(&cat, ii->chip);
                double bw = ic_instance_mem_bw_gbs(ii, ch);
                ic_price pr;
                if (!(bw > 0)) {
                    no_facts++;
                    continue;
                }
                if (ic_price_lookup(&cat, ii->type, region, pricing, &pr, err, sizeof err) != 0)
                    continue;
                double mem =
                    ii->accelerators > 0 ? ch->device_mem_gib * ii->accelerators : ii->memory_gib;
                if (mem > 0 && model_gib > mem) {
                    no_fit++;
                    continue;
                }
                double tok = eff * bw * 1e9 / refp->weight_bytes_per_token;
                if (tpot_ms > 0 && 1000.0 / tok > tpot_ms) continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    row *nr = realloc(rows, cap * sizeof *rows);
                    if (!nr) {
                        ic_error("out of memory");
                        rc = IC_EXIT_FAIL;
                        goto out;
                    }
                    rows = nr;
                }
                row *w = &rows[n++];
                memset(w, 0, sizeof *w);
                snprintf(w->instance, sizeof w->instance, "%s", ii->type);
                snprintf(w->chip, sizeof w->chip, "%s", ii->chip);
                w->tok_per_s = tok;
                w->batch = 1;
                w->usd_per_mtok = ic_usd_per_mtok(pr.usd_per_hour, tok);
                w->price = pr;
                w->prov = IC_PROV_MODELED;
                snprintf(w->from, sizeof w->from, "modeled: %.0f GB/s x efficiency %.3f", bw, eff);
                modeled++;
            }
        }
    }
    if (n == 0) {
        ic_error("nothing to rank: no result for %s %s has an instance type and a decode figure%s",
                 model, dtype, project ? ", and no instance could be projected" : "");
        rc = IC_EXIT_USAGE;
        goto out;
    }
    qsort(rows, n, sizeof *rows, by_cost);
    printf("model %s, dtype %s; decode %s; region %s, pricing %s\n", model, dtype,
           tpot_ms > 0 ? "at the cheapest batch meeting the latency target" : "at batch 1", region,
           ic_pricing_name(pricing));
    if (tpot_ms > 0) printf("latency target: %g ms per token per sequence\n", tpot_ms);
    printf("%4s  %-20s %-22s %5s %11s %11s %11s %7s  %-9s %-10s %s\n", "rank", "instance", "chip",
           "batch", "tok/s", "usd/h", "usd/Mtok", "ratio", "how", "price date", "from");
    for (size_t i = 0; i < n; i++)
        printf("%4zu  %-20s %-22s %5ld %11.2f %11.6f %11.4f %7.2fx  %-9s %-10s %s\n", i + 1,
               rows[i].instance, rows[i].chip, rows[i].batch, rows[i].tok_per_s,
               rows[i].price.usd_per_hour, rows[i].usd_per_mtok,
               rows[i].usd_per_mtok / rows[0].usd_per_mtok, ic_provenance_name(rows[i].prov),
               rows[i].price.date, rows[i].from);
    printf("\nratio: $/Mtok over the cheapest row's. Prices: %s/prices.tsv (each row's source and "
           "date "
           "there)%s.\n",
           cat.dir, pricing != IC_PRICING_ON_DEMAND ? ", less the discounts.tsv assumption" : "");
    if (pricing != IC_PRICING_ON_DEMAND)
        printf("discount %s: %.0f%%, %s; date %s\n", ic_pricing_name(pricing),
               cat.discounts[pricing].fraction * 100, cat.discounts[pricing].source,
               cat.discounts[pricing].date);
    if (project && modeled)
        printf(
            "modeled rows: decode tok/s = efficiency %.3f (from %s, %s) x the instance's memory "
            "bandwidth from chips.tsv / %.3g bytes per token; an estimate, not a measurement. %zu "
            "modeled, %zu skipped for missing chip facts, %zu whose memory cannot hold the "
            "weights.\n",
            eff, refp->path, refp->on_this_host ? "measured on this host" : "imported",
            refp->weight_bytes_per_token, modeled, no_facts, no_fit);
    rc = IC_EXIT_OK;
out:
    free(rows);
    for (int i = 0; i < nres; i++) ic_econ_result_free(&res[i]);
    free(res);
    ic_catalog_free(&cat);
    return rc;
}
