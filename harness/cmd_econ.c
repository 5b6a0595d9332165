/* infercost econ: the unit economics of selling tokens (docs/economics.md) from a scenario file. */
#define _GNU_SOURCE
#include "input.h"
#include "fail.h"
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "economics.h"
#include "pricing.h"
#include "report.h"

static const char g_usage[] =
    "usage: infercost econ SCENARIO.json [--json] [--catalog DIR]\n"
    "  vendor gross margin, the platform's revenue (fee + revenue share) and margin over its TCO,\n"
    "  their change at a better price-performance ratio, and a utilization x ratio table.\n"
    "  --json              print the inputs and every output as one JSON "
    "object\n" IC_PRICE_USAGE_CATALOG
    "  The scenario format and every formula: docs/economics.md.\n";

#define MAX_GRID 12

typedef struct scenario {
    char name[128];
    ic_econ_inputs in;
    char price_source[256], price_date[40];
    char cost_source[4096], cost_date[40];
    double ratio;
    char ratio_source[256];
    double grid_u[MAX_GRID], grid_r[MAX_GRID];
    size_t n_u, n_r;
    json_t *claims; /* borrowed from the scenario document */
} scenario;

/* Rejects keys outside allowed, so that a misspelt field is an error, not a silent default. */
static int check_keys(json_t *obj, const char *where, const char *const *allowed, char *err,
                      size_t errlen) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
        if (!ok)
            return ic_fail(err, errlen, IC_EXIT_USAGE, "%s%s%s: unknown field", where,
                           where[0] ? "." : "", key);
    }
    return 0;
}

/* A number field: required (def ignored) or optional with default def. */
static int num(json_t *obj, const char *where, const char *key, int required, double def,
               double *out, char *err, size_t errlen) {
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) return ic_fail(err, errlen, IC_EXIT_USAGE, "%s.%s: missing", where, key);
        *out = def;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "%s.%s: must be a number", where, key);
    *out = json_number_value(v);
    return 0;
}

static int obj_field(json_t *root, const char *key, int required, json_t **out, char *err,
                     size_t errlen) {
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v) return required ? ic_fail(err, errlen, IC_EXIT_USAGE, "%s: missing", key) : 0;
    if (!json_is_object(v))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "%s: must be an object", key);
    *out = v;
    return 0;
}

static int grid(json_t *s, const char *key, double lo, double hi, double *vals, size_t *n,
                char *err, size_t errlen) {
    json_t *a = json_object_get(s, key);
    if (!a) return 0;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_GRID)
        return ic_fail(err, errlen, IC_EXIT_USAGE,
                       "sensitivity.%s: must be an array of 1 to %d numbers", key, MAX_GRID);
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(a, i);
        double x = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(x > lo && x <= hi))
            return ic_fail(err, errlen, IC_EXIT_USAGE,
                           "sensitivity.%s[%zu]: must be a number in (%g, %g]", key, i, lo, hi);
        vals[i] = x;
    }
    return 0;
}

/* serving_cost from a result file priced at an instance: $/Mtok of its prefill and decode. */
static int cost_from_result(scenario *sc, json_t *sv, const char *scen_path, const ic_catalog *cat,
                            char *err, size_t errlen) {
    static const char *const keys[] = {"result", "instance", "region", "pricing", "tpot_ms", NULL};
    int rc = check_keys(sv, "serving_cost", keys, err, errlen);
    if (rc) return rc;
    const char *rel = json_string_value(json_object_get(sv, "result"));
    if (!rel || !rel[0])
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.result: must be a file name");
    char path[2048], dirbuf[1024];
    snprintf(dirbuf, sizeof dirbuf, "%s", scen_path);
    if (rel[0] == '/')
        snprintf(path, sizeof path, "%s", rel);
    else
        snprintf(path, sizeof path, "%s/%s", dirname(dirbuf), rel);
    json_t *jv;
    const char *region = "us-east-1", *inst = NULL;
    ic_pricing pricing = IC_PRICING_ON_DEMAND;
    if ((jv = json_object_get(sv, "region")) && !(region = json_string_value(jv)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.region: must be a string");
    if ((jv = json_object_get(sv, "instance")) && !(inst = json_string_value(jv)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.instance: must be a string");
    if ((jv = json_object_get(sv, "pricing")) &&
        (!json_is_string(jv) || ic_pricing_parse(json_string_value(jv), &pricing) != 0))
        return ic_fail(err, errlen, IC_EXIT_USAGE,
                       "serving_cost.pricing: want on-demand, spot, savings-1y or savings-3y");
    double tpot = 0;
    if ((rc = num(sv, "serving_cost", "tpot_ms", 0, 0, &tpot, err, errlen))) return rc;
    if (tpot < 0)
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.tpot_ms: must be positive");

    ic_result r;
    char rerr[512];
    if ((rc = ic_result_read(&r, path, rerr, sizeof rerr)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.result: %s", rerr), rc;
    /* The scenario's instance, else the one the result was measured on: pricing.h's rule. */
    ic_price_opts po;
    ic_price_opts_init(&po);
    po.instance = inst;
    po.region = region;
    po.pricing = pricing;
    ic_priced priced;
    rc = ic_price_resolve(&po, cat, r.host.instance_type, NULL, &priced, rerr, sizeof rerr);
    if (rc || priced.origin != IC_PRICE_CATALOG) {
        ic_result_free(&r);
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.instance: %s",
                       rc ? rerr : "missing, and the result was not measured on an EC2 instance"),
               2;
    }
    const ic_price pr = priced.price;
    const ic_measurement *pf = ic_result_pick_prefill(&r, -1, 0);
    const ic_measurement *dc =
        tpot > 0 ? ic_result_pick_latency(&r, tpot) : ic_result_pick_decode(&r, -1);
    if (!pf || !dc) {
        ic_result_free(&r);
        return ic_fail(err, errlen, IC_EXIT_USAGE, "serving_cost.result: %s has no %s", path,
                       !pf        ? "prefill measurement (that was not shortened)"
                       : tpot > 0 ? "decode configuration meeting tpot_ms"
                                  : "batch-1 decode measurement");
    }
    sc->in.cost_in_usd_per_mtok = ic_usd_per_mtok(pr.usd_per_hour, pf->tok_per_s);
    sc->in.cost_out_usd_per_mtok = ic_usd_per_mtok(pr.usd_per_hour, dc->tok_per_s);
    /* The platform's server is this instance: its blended tokens/s feeds the TCO per token. */
    sc->in.server_tok_per_s =
        ic_blend_tok_per_s(pf->tok_per_s, dc->tok_per_s, sc->in.mix_in, sc->in.mix_out);
    ic_host_id here;
    ic_host_identify(&here);
    char lpf[160], ldc[160];
    ic_priced_label(ic_result_figure_provenance(&r, pf, &here), r.host.instance_type, &priced, lpf,
                    sizeof lpf);
    ic_priced_label(ic_result_figure_provenance(&r, dc, &here), r.host.instance_type, &priced, ldc,
                    sizeof ldc);
    snprintf(sc->cost_source, sizeof sc->cost_source,
             "%s (prefill %.1f tok/s %s, decode batch %ld %.1f tok/s %s) on %s %s %s at $%.4f/h "
             "(%s%s%s)",
             path, pf->tok_per_s, lpf, dc->batch, dc->tok_per_s, ldc, pr.instance_type, pr.region,
             ic_pricing_name(pr.pricing), pr.usd_per_hour, pr.source,
             pr.discount > 0 ? "; less " : "", pr.discount > 0 ? pr.discount_source : "");
    snprintf(sc->cost_date, sizeof sc->cost_date, "%s", pr.date);
    ic_result_free(&r);
    return 0;
}

/* Reads the scenario in root (path names it and anchors a relative result file). The catalog is
 * cat when given, else loaded from catdir when the scenario needs one. */
static int parse_scenario(scenario *sc, json_t *root, const char *path, const char *catdir,
                          const ic_catalog *given, char *err, size_t errlen) {
    static const char *const top[] = {"schema",
                                      "schema_version",
                                      "name",
                                      "description",
                                      "claims",
                                      "selling_price",
                                      "serving_cost",
                                      "mix",
                                      "utilization",
                                      "platform",
                                      "price_performance",
                                      "tco",
                                      "sensitivity",
                                      NULL};
    memset(sc, 0, sizeof *sc);
    if (!json_is_object(root)) return ic_fail(err, errlen, IC_EXIT_USAGE, "not a JSON object");
    int rc = check_keys(root, "", top, err, errlen);
    if (rc) return rc;
    char where[256] = "";
    if (ic_json_find_control(root, where, sizeof where))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "%s: has control characters", where);
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (!schema || strcmp(schema, "infercost-scenario") != 0)
        return ic_fail(err, errlen, IC_EXIT_USAGE, "schema: want \"infercost-scenario\"");
    json_t *ver = json_object_get(root, "schema_version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        return ic_fail(err, errlen, IC_EXIT_USAGE, "schema_version: want 1");
    const char *name = json_string_value(json_object_get(root, "name"));
    snprintf(sc->name, sizeof sc->name, "%s", name ? name : path);
    sc->claims = json_object_get(root, "claims");
    if (sc->claims && !json_is_array(sc->claims))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "claims: must be an array");

    /* mix first: the serving cost from a result blends with it. */
    json_t *mix = json_object_get(root, "mix");
    if (!mix) return ic_fail(err, errlen, IC_EXIT_USAGE, "mix: missing");
    if (json_is_string(mix)) {
        if (ic_mix_parse(json_string_value(mix), &sc->in.mix_in, &sc->in.mix_out) != 0)
            return ic_fail(err, errlen, IC_EXIT_USAGE,
                           "mix: want \"INPUT:OUTPUT\" such as \"3:1\"");
    } else if (json_is_object(mix)) {
        static const char *const keys[] = {"input", "output", NULL};
        if ((rc = check_keys(mix, "mix", keys, err, errlen)) ||
            (rc = num(mix, "mix", "input", 1, 0, &sc->in.mix_in, err, errlen)) ||
            (rc = num(mix, "mix", "output", 1, 0, &sc->in.mix_out, err, errlen)))
            return rc;
    } else {
        return ic_fail(err, errlen, IC_EXIT_USAGE,
                       "mix: must be \"I:O\" or {\"input\": I, \"output\": O}");
    }
    if ((rc = num(root, "", "utilization", 1, 0, &sc->in.utilization, err, errlen)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "utilization: %s",
                       json_object_get(root, "utilization") ? "must be a number" : "missing");

    ic_catalog own;
    const ic_catalog *cat = given;
    char cerr[512];
    json_t *sp, *sv, *pl, *pp, *tco, *sens;
    if ((rc = obj_field(root, "selling_price", 1, &sp, err, errlen)) ||
        (rc = obj_field(root, "serving_cost", 1, &sv, err, errlen)) ||
        (rc = obj_field(root, "platform", 1, &pl, err, errlen)) ||
        (rc = obj_field(root, "price_performance", 0, &pp, err, errlen)) ||
        (rc = obj_field(root, "tco", 0, &tco, err, errlen)) ||
        (rc = obj_field(root, "sensitivity", 0, &sens, err, errlen)))
        return rc;
    int load_cat = !given && (json_object_get(sp, "model") || json_object_get(sv, "result"));
    if (load_cat && (rc = ic_catalog_load(&own, catdir, cerr, sizeof cerr)))
        return ic_fail(err, errlen, IC_EXIT_USAGE, "%s", cerr), rc;
    if (load_cat) cat = &own;

    /* selling price: a model's list price from token-prices.tsv, or given. */
    if (json_object_get(sp, "model")) {
        static const char *const keys[] = {"model", NULL};
        const char *m = json_string_value(json_object_get(sp, "model"));
        const ic_token_price *tp = m ? ic_catalog_token_price(cat, m) : NULL;
        if ((rc = check_keys(sp, "selling_price", keys, err, errlen))) goto out;
        if (!tp) {
            rc = ic_fail(err, errlen, IC_EXIT_USAGE,
                         "selling_price.model: %s%s%s not in %s/token-prices.tsv",
                         m ? "'" : "must be a string;", m ? m : "", m ? "'" : "",
                         ic_catalog_shown_dir(cat));
            goto out;
        }
        sc->in.price_in_usd_per_mtok = tp->input_usd_per_mtok;
        sc->in.price_out_usd_per_mtok = tp->output_usd_per_mtok;
        snprintf(sc->price_source, sizeof sc->price_source, "%s list price: %s", m, tp->source);
        snprintf(sc->price_date, sizeof sc->price_date, "%s", tp->date);
    } else {
        static const char *const keys[] = {"input_usd_per_mtok", "output_usd_per_mtok", "source",
                                           "date", NULL};
        const char *src = json_string_value(json_object_get(sp, "source"));
        const char *date = json_string_value(json_object_get(sp, "date"));
        if ((rc = check_keys(sp, "selling_price", keys, err, errlen)) ||
            (rc = num(sp, "selling_price", "input_usd_per_mtok", 1, 0,
                      &sc->in.price_in_usd_per_mtok, err, errlen)) ||
            (rc = num(sp, "selling_price", "output_usd_per_mtok", 1, 0,
                      &sc->in.price_out_usd_per_mtok, err, errlen)))
            goto out;
        if (!src || !date) {
            rc = ic_fail(err, errlen, IC_EXIT_USAGE,
                         "selling_price.%s: a given price needs its source and date",
                         !src ? "source" : "date");
            goto out;
        }
        snprintf(sc->price_source, sizeof sc->price_source, "%s", src);
        snprintf(sc->price_date, sizeof sc->price_date, "%s", date);
    }

    /* serving cost: from a result priced at an instance, or given. */
    if (json_object_get(sv, "result")) {
        if ((rc = cost_from_result(sc, sv, path, cat, err, errlen))) goto out;
    } else {
        static const char *const keys[] = {"input_usd_per_mtok", "output_usd_per_mtok", "source",
                                           "date", NULL};
        const char *src = json_string_value(json_object_get(sv, "source"));
        const char *date = json_string_value(json_object_get(sv, "date"));
        if ((rc = check_keys(sv, "serving_cost", keys, err, errlen)) ||
            (rc = num(sv, "serving_cost", "input_usd_per_mtok", 1, 0, &sc->in.cost_in_usd_per_mtok,
                      err, errlen)) ||
            (rc = num(sv, "serving_cost", "output_usd_per_mtok", 1, 0,
                      &sc->in.cost_out_usd_per_mtok, err, errlen)))
            goto out;
        if (!src || !date) {
            rc = ic_fail(err, errlen, IC_EXIT_USAGE,
                         "serving_cost.%s: a given cost needs its source and date",
                         !src ? "source" : "date");
            goto out;
        }
        snprintf(sc->cost_source, sizeof sc->cost_source, "%s", src);
        snprintf(sc->cost_date, sizeof sc->cost_date, "%s", date);
    }

    {
        static const char *const keys[] = {"revenue_share", "source", NULL};
        if ((rc = check_keys(pl, "platform", keys, err, errlen)) ||
            (rc = num(pl, "platform", "revenue_share", 1, 0, &sc->in.revenue_share, err, errlen)))
            goto out;
    }
    sc->ratio = 1.30;
    snprintf(sc->ratio_source, sizeof sc->ratio_source,
             "default 1.30 (seed-economics.tsv "
             "trainium_price_performance_vs_gpu, a claim)");
    sc->in.pass_through = 1.0;
    if (pp) {
        static const char *const keys[] = {"ratio", "pass_through", "source", NULL};
        if ((rc = check_keys(pp, "price_performance", keys, err, errlen)) ||
            (rc = num(pp, "price_performance", "ratio", 0, 1.30, &sc->ratio, err, errlen)) ||
            (rc = num(pp, "price_performance", "pass_through", 0, 1.0, &sc->in.pass_through, err,
                      errlen)))
            goto out;
        const char *src = json_string_value(json_object_get(pp, "source"));
        if (json_object_get(pp, "ratio"))
            snprintf(sc->ratio_source, sizeof sc->ratio_source, "%s",
                     src ? src : "given in the scenario");
        if (!(sc->ratio > 0)) {
            rc = ic_fail(err, errlen, IC_EXIT_USAGE, "price_performance.ratio: must be > 0");
            goto out;
        }
    }
    if (tco) {
        static const char *const keys[] = {"capex_usd_per_server",
                                           "amortization_years",
                                           "power_kw",
                                           "usd_per_kwh",
                                           "pue",
                                           "server_tok_per_s",
                                           "source",
                                           NULL};
        double derived = sc->in.server_tok_per_s;
        sc->in.have_tco = 1;
        if ((rc = check_keys(tco, "tco", keys, err, errlen)) ||
            (rc = num(tco, "tco", "capex_usd_per_server", 1, 0, &sc->in.capex_usd_per_server, err,
                      errlen)) ||
            (rc = num(tco, "tco", "amortization_years", 1, 0, &sc->in.amortization_years, err,
                      errlen)) ||
            (rc = num(tco, "tco", "power_kw", 1, 0, &sc->in.power_kw, err, errlen)) ||
            (rc = num(tco, "tco", "usd_per_kwh", 1, 0, &sc->in.usd_per_kwh, err, errlen)) ||
            (rc = num(tco, "tco", "pue", 0, 1.0, &sc->in.pue, err, errlen)) ||
            (rc = num(tco, "tco", "server_tok_per_s", derived > 0 ? 0 : 1, derived,
                      &sc->in.server_tok_per_s, err, errlen)))
            goto out;
    }
    static const double def_u[] = {0.3, 0.5, 0.7, 0.9}, def_r[] = {1.0, 1.15, 1.3, 1.5};
    memcpy(sc->grid_u, def_u, sizeof def_u);
    memcpy(sc->grid_r, def_r, sizeof def_r);
    sc->n_u = 4;
    sc->n_r = 4;
    if (sens) {
        static const char *const keys[] = {"utilization", "price_performance", NULL};
        if ((rc = check_keys(sens, "sensitivity", keys, err, errlen)) ||
            (rc = grid(sens, "utilization", 0, 1, sc->grid_u, &sc->n_u, err, errlen)) ||
            (rc = grid(sens, "price_performance", 0, 100, sc->grid_r, &sc->n_r, err, errlen)))
            goto out;
    }
    rc = ic_econ_check(&sc->in, err, errlen);
out:
    if (load_cat) ic_catalog_free(&own);
    return rc;
}

static json_t *outputs_json(const ic_econ_outputs *o) {
    json_t *j = json_object();
    json_object_set_new(j, "price_usd_per_mtok", ic_json_number(o->price_usd_per_mtok));
    json_object_set_new(j, "serving_cost_full_use_usd_per_mtok",
                        ic_json_number(o->cost_full_usd_per_mtok));
    json_object_set_new(j, "infrastructure_fee_usd_per_mtok",
                        ic_json_number(o->infra_fee_usd_per_mtok));
    json_object_set_new(j, "revenue_share_usd_per_mtok",
                        ic_json_number(o->revenue_share_usd_per_mtok));
    json_object_set_new(j, "vendor_profit_usd_per_mtok",
                        ic_json_number(o->vendor_profit_usd_per_mtok));
    json_object_set_new(j, "vendor_gross_margin", ic_json_number(o->vendor_gross_margin));
    json_object_set_new(j, "platform_revenue_usd_per_mtok",
                        ic_json_number(o->platform_revenue_usd_per_mtok));
    if (o->have_tco) {
        json_object_set_new(j, "tco_usd_per_server_hour",
                            ic_json_number(o->tco_usd_per_server_hour));
        json_object_set_new(j, "platform_cost_usd_per_mtok",
                            ic_json_number(o->platform_cost_usd_per_mtok));
        json_object_set_new(j, "platform_profit_usd_per_mtok",
                            ic_json_number(o->platform_profit_usd_per_mtok));
        json_object_set_new(j, "platform_margin", ic_json_number(o->platform_margin));
    }
    return j;
}

static void print_json(const scenario *sc, const ic_econ_outputs *base,
                       const ic_econ_outputs *imp) {
    const ic_econ_inputs *in = &sc->in;
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(sc->name));
    json_t *ji = json_object();
    json_object_set_new(ji, "selling_input_usd_per_mtok",
                        ic_json_number(in->price_in_usd_per_mtok));
    json_object_set_new(ji, "selling_output_usd_per_mtok",
                        ic_json_number(in->price_out_usd_per_mtok));
    json_object_set_new(ji, "selling_source", json_string(sc->price_source));
    json_object_set_new(ji, "selling_date", json_string(sc->price_date));
    json_object_set_new(ji, "serving_input_usd_per_mtok", ic_json_number(in->cost_in_usd_per_mtok));
    json_object_set_new(ji, "serving_output_usd_per_mtok",
                        ic_json_number(in->cost_out_usd_per_mtok));
    json_object_set_new(ji, "serving_source", json_string(sc->cost_source));
    json_object_set_new(ji, "serving_date", json_string(sc->cost_date));
    json_object_set_new(ji, "mix_input", ic_json_number(in->mix_in));
    json_object_set_new(ji, "mix_output", ic_json_number(in->mix_out));
    json_object_set_new(ji, "utilization", ic_json_number(in->utilization));
    json_object_set_new(ji, "revenue_share", ic_json_number(in->revenue_share));
    json_object_set_new(ji, "price_performance_ratio", ic_json_number(sc->ratio));
    json_object_set_new(ji, "pass_through", ic_json_number(in->pass_through));
    if (in->have_tco)
        json_object_set_new(ji, "server_tok_per_s", ic_json_number(in->server_tok_per_s));
    json_object_set_new(root, "inputs", ji);
    json_object_set_new(root, "base", outputs_json(base));
    json_object_set_new(root, "improved", outputs_json(imp));
    json_t *ch = json_object();
    json_object_set_new(
        ch, "vendor_gross_margin_points",
        ic_json_number((imp->vendor_gross_margin - base->vendor_gross_margin) * 100));
    json_object_set_new(
        ch, "platform_revenue_usd_per_mtok",
        ic_json_number(imp->platform_revenue_usd_per_mtok - base->platform_revenue_usd_per_mtok));
    if (in->have_tco)
        json_object_set_new(ch, "platform_margin_points",
                            ic_json_number((imp->platform_margin - base->platform_margin) * 100));
    json_object_set_new(root, "change", ch);
    json_t *sens = json_array();
    for (size_t i = 0; i < sc->n_u; i++)
        for (size_t k = 0; k < sc->n_r; k++) {
            ic_econ_inputs v = *in;
            v.utilization = sc->grid_u[i];
            ic_econ_outputs o;
            ic_econ_compute(&v, sc->grid_r[k], &o);
            json_t *cell = json_object();
            json_object_set_new(cell, "utilization", ic_json_number(sc->grid_u[i]));
            json_object_set_new(cell, "ratio", ic_json_number(sc->grid_r[k]));
            json_object_set_new(cell, "vendor_gross_margin", ic_json_number(o.vendor_gross_margin));
            if (o.have_tco)
                json_object_set_new(cell, "platform_margin", ic_json_number(o.platform_margin));
            json_array_append_new(sens, cell);
        }
    json_object_set_new(root, "sensitivity", sens);
    if (sc->claims) json_object_set(root, "claims", sc->claims);
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(root);
}

static void line3(const char *what, const char *unit, double a, double b, int pct) {
    if (pct)
        printf("  %-38s %10.1f%% %10.1f%% %+9.1f pts\n", what, a * 100, b * 100, (b - a) * 100);
    else
        printf("  %-38s %10.4f%s %10.4f%s %+10.4f\n", what, a, unit, b, unit, b - a);
}

static void print_text(const scenario *sc, const ic_econ_outputs *b, const ic_econ_outputs *m) {
    const ic_econ_inputs *in = &sc->in;
    printf("scenario   %s\n", sc->name);
    printf(
        "inputs     (every figure below is an input or derived from these; none is measured here "
        "unless the serving cost says so)\n");
    printf("  selling price  input $%g/Mtok, output $%g/Mtok; source: %s; date %s\n",
           in->price_in_usd_per_mtok, in->price_out_usd_per_mtok, sc->price_source, sc->price_date);
    printf(
        "  serving cost   input $%.4f/Mtok, output $%.4f/Mtok at full use; source: %s; date %s\n",
        in->cost_in_usd_per_mtok, in->cost_out_usd_per_mtok, sc->cost_source, sc->cost_date);
    printf(
        "  mix %g:%g (input:output), utilization %g, platform revenue share %g, pass-through %g\n",
        in->mix_in, in->mix_out, in->utilization, in->revenue_share, in->pass_through);
    printf("  price-performance ratio %g: %s\n", sc->ratio, sc->ratio_source);
    if (in->have_tco)
        printf("  TCO: capex $%g per server over %g years, %g kW x PUE %g at $%g/kWh, %g tok/s per "
               "server (blended)\n",
               in->capex_usd_per_server, in->amortization_years, in->power_kw, in->pue,
               in->usd_per_kwh, in->server_tok_per_s);
    printf("\noutputs    USD per million tokens blended %g:%g (prices dated %s and %s)\n",
           in->mix_in, in->mix_out, sc->price_date, sc->cost_date);
    char at[32];
    snprintf(at, sizeof at, "at %gx", sc->ratio);
    printf("  %-38s %11s %11s %10s\n", "", "as given", at, "change");
    line3("selling price P", " ", b->price_usd_per_mtok, m->price_usd_per_mtok, 0);
    line3("serving cost at full use C", " ", b->cost_full_usd_per_mtok, m->cost_full_usd_per_mtok,
          0);
    line3("infrastructure fee F = C/u", " ", b->infra_fee_usd_per_mtok, m->infra_fee_usd_per_mtok,
          0);
    line3("revenue share S = r x P", " ", b->revenue_share_usd_per_mtok,
          m->revenue_share_usd_per_mtok, 0);
    line3("vendor profit P - F - S", " ", b->vendor_profit_usd_per_mtok,
          m->vendor_profit_usd_per_mtok, 0);
    line3("vendor gross margin (P-F-S)/P", "", b->vendor_gross_margin, m->vendor_gross_margin, 1);
    line3("platform revenue F + S", " ", b->platform_revenue_usd_per_mtok,
          m->platform_revenue_usd_per_mtok, 0);
    if (in->have_tco) {
        line3("platform TCO, $ per server-hour", " ", b->tco_usd_per_server_hour,
              m->tco_usd_per_server_hour, 0);
        line3("platform cost T (TCO per Mtok)", " ", b->platform_cost_usd_per_mtok,
              m->platform_cost_usd_per_mtok, 0);
        line3("platform profit F + S - T", " ", b->platform_profit_usd_per_mtok,
              m->platform_profit_usd_per_mtok, 0);
        line3("platform margin (F+S-T)/(F+S)", "", b->platform_margin, m->platform_margin, 1);
    } else {
        printf("  platform margin over TCO               unavailable: the scenario has no tco\n");
    }
    printf(
        "\nsensitivity: vendor gross margin%s, by utilization (rows) and price-performance ratio "
        "(columns)\n",
        in->have_tco ? " / platform margin" : "");
    printf("  %6s", "u");
    for (size_t k = 0; k < sc->n_r; k++) printf(" %15.2fx", sc->grid_r[k]);
    printf("\n");
    for (size_t i = 0; i < sc->n_u; i++) {
        printf("  %6.2f", sc->grid_u[i]);
        for (size_t k = 0; k < sc->n_r; k++) {
            ic_econ_inputs v = *in;
            v.utilization = sc->grid_u[i];
            ic_econ_outputs o;
            ic_econ_compute(&v, sc->grid_r[k], &o);
            if (o.have_tco)
                printf("   %6.1f%%/%6.1f%%", o.vendor_gross_margin * 100, o.platform_margin * 100);
            else
                printf(" %15.1f%%", o.vendor_gross_margin * 100);
        }
        printf("\n");
    }
    if (sc->claims && json_array_size(sc->claims)) {
        printf("\nclaims cited by this scenario (stated by their source, not measured or checked "
               "here)\n");
        size_t i;
        json_t *c;
        json_array_foreach(sc->claims, i, c) {
            const char *fig = json_string_value(json_object_get(c, "figure"));
            json_t *val = json_object_get(c, "value");
            const char *unit = json_string_value(json_object_get(c, "unit"));
            const char *src = json_string_value(json_object_get(c, "source"));
            char vbuf[64] = "?";
            if (json_is_number(val))
                snprintf(vbuf, sizeof vbuf, "%g", json_number_value(val));
            else if (json_is_string(val))
                snprintf(vbuf, sizeof vbuf, "%s", json_string_value(val));
            printf("  %-40s %-10s %-30s %s\n", fig ? fig : "?", vbuf, unit ? unit : "",
                   src ? src : "no source given");
        }
    }
}

int ic_econ_report(json_t *root, const char *path, const char *catdir, const ic_catalog *cat,
                   int as_json, char *err, size_t errlen) {
    scenario sc;
    int rc = parse_scenario(&sc, root, path, catdir, cat, err, errlen);
    if (rc) return rc;
    ic_econ_outputs base, imp;
    ic_econ_compute(&sc.in, 1.0, &base);
    ic_econ_compute(&sc.in, sc.ratio, &imp);
    if (as_json)
        print_json(&sc, &base, &imp);
    else
        print_text(&sc, &base, &imp);
    return 0;
}

int ic_cmd_econ(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         IC_PRICE_OPTION_CATALOG,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int as_json = 0, c;
    ic_price_opts po;
    ic_price_opts_init(&po);
    char perr[512];
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int pc = ic_price_opts_parse(&po, c, optarg, perr, sizeof perr);
        if (pc < 0) return ic_usage_error("econ", g_usage, "%s", perr);
        if (pc > 0) continue;
        switch (c) {
        case 'j':
            as_json = 1;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("econ", g_usage, opts, argv, optind);
        }
    }
    if (argc - optind != 1)
        return ic_usage_error("econ", g_usage, "want exactly one scenario file");
    const char *path = argv[optind], *catdir = po.catalog_dir;
    json_error_t jerr;
    char err[1024];
    if (ic_input_check(path, NULL, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ic_fail_json(err, sizeof err, IC_EXIT_USAGE, path, &jerr);
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    int rc = ic_econ_report(root, path, catdir, NULL, as_json, err, sizeof err);
    if (rc) ic_error("%s: %s", path, err);
    json_decref(root);
    return rc;
}
