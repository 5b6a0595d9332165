/* infercost cost: $ per million tokens and tokens per $ of result files, each figure labelled
 * with where it was measured and what it is priced as. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "economics.h"
#include "fail.h"
#include "pricing.h"
#include "report.h"
#include "result.h"

static const char g_usage[] =
    "usage: infercost cost RESULT.json... [options]\n"
    "  --context C         price decode at context C (default: the smallest in the result)\n"
    "  --prompt N          price prefill of N tokens (default: the longest prompt that was not\n"
    "                      shortened; a shortened prefill is priced only when named here)\n"
    "  --mix I:O           input:output tokens for the blended figure (default "
    "3:1)\n" IC_PRICE_USAGE_INSTANCE IC_PRICE_USAGE_REGION IC_PRICE_USAGE_PRICING
        IC_PRICE_USAGE_USD_PER_HOUR IC_PRICE_USAGE_TPOT_MS IC_PRICE_USAGE_CATALOG IC_FORMAT_USAGE
    "A price: --usd-per-hour, else --instance at the catalog, else the type the result was\n"
    "measured on (DMI), else the price the run recorded.\n";

typedef struct cost_opts {
    ic_price_opts price;
    long context, prompt; /* -1: the default pick */
    double mix_in, mix_out;
    ic_format format;
} cost_opts;

/* One priced result: what was picked and why, for the report. */
typedef struct priced_result {
    ic_result r;
    ic_priced priced;
    const ic_measurement *pf, *dc, *lat;
    char pick_note[400];
} priced_result;

/* ---- choosing the figures ---- */

static void list_contexts(const ic_result *r, char *out, size_t len) {
    int n = snprintf(out, len, "contexts in the result:");
    for (size_t i = 0; i < r->n_meas && n > 0 && (size_t)n < len; i++)
        if (r->meas[i].kind == IC_MEAS_DECODE && r->meas[i].batch == 1)
            n += snprintf(out + n, len - (size_t)n, " %ld", r->meas[i].context);
}

static void list_prompts(const ic_result *r, char *out, size_t len) {
    int n = snprintf(out, len, "prompts in the result:");
    for (size_t i = 0; i < r->n_meas && n > 0 && (size_t)n < len; i++)
        if (r->meas[i].kind == IC_MEAS_PREFILL && !r->meas[i].baseline)
            n += snprintf(out + n, len - (size_t)n, " %ld", r->meas[i].batch);
}

/* The figures the user asked for, or the stated defaults. 0, or 2 when a named one is missing. */
static int pick(const cost_opts *o, priced_result *pr, char *err, size_t errlen) {
    const ic_result *r = &pr->r;
    char avail[256];
    pr->dc = ic_result_pick_decode(r, o->context);
    if (o->context >= 0 && pr->dc == NULL) {
        list_contexts(r, avail, sizeof avail);
        snprintf(err, errlen, "%s: --context %ld: no batch-1 decode at that context (%s)", r->path,
                 o->context, avail);
        return 2;
    }
    pr->pf = ic_result_pick_prefill(r, o->prompt, o->prompt >= 0);
    if (o->prompt >= 0 && pr->pf == NULL) {
        list_prompts(r, avail, sizeof avail);
        snprintf(err, errlen, "%s: --prompt %ld: no prefill of that length (%s)", r->path,
                 o->prompt, avail);
        return 2;
    }
    int n = snprintf(pr->pick_note, sizeof pr->pick_note, "%s%s",
                     o->context < 0 && pr->dc ? "decode at the smallest context in the result "
                                                "(--context C picks another)"
                                              : "",
                     o->prompt < 0 && pr->pf ? "; prefill of the longest prompt (--prompt N picks "
                                               "another)"
                                             : "");
    const ic_measurement *shortened = ic_result_pick_prefill(r, -1, 1);
    if (o->prompt < 0 && pr->pf == NULL && shortened && n >= 0 && (size_t)n < sizeof pr->pick_note)
        snprintf(pr->pick_note + n, sizeof pr->pick_note - (size_t)n,
                 "; the prefill of %ld tokens was shortened from %ld by the run: not used as the "
                 "input cost (--prompt %ld uses it)",
                 shortened->batch, shortened->shortened_from, shortened->batch);
    if (o->price.tpot_ms > 0) pr->lat = ic_result_pick_latency(r, o->price.tpot_ms);
    return 0;
}

/* ---- the report ---- */

static const char *const g_heads[] = {"result", "figure", "tok/s",      "usd/Mtok", "tok/usd",
                                      "usd/h",  "how",    "price date", "ctx",      "n"};

static void add_row(ic_table *t, const priced_result *pr, const char *figure,
                    const ic_measurement *m, double tok_per_s, ic_provenance prov) {
    char ctx[24], n[24], tps[32], usd[32], tpu[32], how[200], uph[32];
    snprintf(ctx, sizeof ctx, "%ld", m ? m->context : 0L);
    snprintf(n, sizeof n, "%ld", m ? m->batch : 0L);
    snprintf(tps, sizeof tps, "%.2f", tok_per_s);
    snprintf(usd, sizeof usd, "%.4f", ic_usd_per_mtok(pr->priced.price.usd_per_hour, tok_per_s));
    snprintf(tpu, sizeof tpu, "%.0f", ic_tok_per_usd(pr->priced.price.usd_per_hour, tok_per_s));
    snprintf(uph, sizeof uph, "%.6f", pr->priced.price.usd_per_hour);
    ic_priced_label(prov, pr->r.host.instance_type, &pr->priced, how, sizeof how);
    const char *cells[] = {pr->r.path, figure, tps, usd, tpu, uph, how, pr->priced.price.date,
                           ctx,        n};
    ic_table_add(t, cells);
}

static void add_rows(ic_table *t, const cost_opts *o, const priced_result *pr,
                     const ic_host_id *here) {
    const ic_result *r = &pr->r;
    char what[96];
    if (pr->pf) {
        if (pr->pf->shortened_from > 0)
            snprintf(what, sizeof what, "prefill (%ld tok, shortened from %ld)", pr->pf->batch,
                     pr->pf->shortened_from);
        else
            snprintf(what, sizeof what, "prefill (%ld tok)", pr->pf->batch);
        add_row(t, pr, what, pr->pf, pr->pf->tok_per_s,
                ic_result_figure_provenance(r, pr->pf, here));
    }
    if (pr->dc) {
        snprintf(what, sizeof what, "decode (ctx %ld)", pr->dc->context);
        add_row(t, pr, what, pr->dc, pr->dc->tok_per_s,
                ic_result_figure_provenance(r, pr->dc, here));
    }
    if (pr->pf && pr->dc) {
        snprintf(what, sizeof what, "blended %g:%g", o->mix_in, o->mix_out);
        add_row(t, pr, what, NULL,
                ic_blend_tok_per_s(pr->pf->tok_per_s, pr->dc->tok_per_s, o->mix_in, o->mix_out),
                ic_provenance_weakest(ic_result_figure_provenance(r, pr->pf, here),
                                      ic_result_figure_provenance(r, pr->dc, here)));
    }
    if (pr->lat) {
        snprintf(what, sizeof what, "tpot<=%g b%ld %.0fms", o->price.tpot_ms, pr->lat->batch,
                 pr->lat->ms_per_token);
        add_row(t, pr, what, pr->lat, pr->lat->tok_per_s,
                ic_result_figure_provenance(r, pr->lat, here));
    }
}

static void print_result_lines(const cost_opts *o, const priced_result *pr, const ic_host_id *here,
                               FILE *out) {
    const ic_result *r = &pr->r;
    const char *b = o->format == IC_FMT_MD ? "- " : "";
    char where[256], price[1200], why[256];
    ic_result_measured_on(r, where, sizeof where);
    ic_priced_describe(&pr->priced, price, sizeof price);
    fprintf(out, "%sresult     %s\n", b, r->path);
    fprintf(out, "%smodel      %s %s, KV cache %s; created %s\n", b, r->model.name,
            ic_dtype_name(r->model.dtype), ic_dtype_name(r->kv_dtype), r->created_utc);
    fprintf(out, "%smeasured   on %s; %s\n", b, where,
            ic_result_on_host(r, here) ? "this host"
                                       : "another machine (or no machine id): figures imported");
    const ic_price *q = &pr->priced.price;
    fprintf(out, "%sinstance   %s (%s), region %s, pricing %s\n", b,
            q->instance_type[0] ? q->instance_type : "(no type)", pr->priced.basis,
            q->region[0] ? q->region : "-", ic_pricing_name(q->pricing));
    fprintf(out, "%sprice      $%.6f/h; source: %s; date %s\n", b, q->usd_per_hour, q->source,
            q->date);
    if (q->discount > 0)
        fprintf(out, "%s           = on-demand $%.6f/h less %.0f%% (%s): %s; date %s\n", b,
                q->on_demand_usd_per_hour, q->discount * 100, ic_pricing_name(q->pricing),
                q->discount_source, q->discount_date);
    (void)price;
    if (ic_priced_elsewhere(r->host.instance_type, &pr->priced))
        fprintf(out,
                "%s           measured on %s, priced as %s (%s): what this throughput would "
                "cost at that type's price\n",
                b, r->host.instance_type[0] ? r->host.instance_type : "a non-EC2 host",
                pr->priced.price.instance_type, pr->priced.basis);
    if (pr->pick_note[0]) fprintf(out, "%spicked     %s\n", b, pr->pick_note);
    if (!pr->pf) fprintf(out, "%s           prefill: unavailable: no prefill to price\n", b);
    if (!pr->dc) fprintf(out, "%s           decode: unavailable: no batch-1 decode\n", b);
    if (o->price.tpot_ms > 0 && !pr->lat)
        fprintf(out, "%s           tpot<=%g: none: no decode configuration meets the target\n", b,
                o->price.tpot_ms);
    ic_catalog cat;
    char err[256];
    if (r->host.instance_type[0] &&
        ic_catalog_load(&cat, o->price.catalog_dir, err, sizeof err) == 0) {
        const ic_instance_info *ii = ic_catalog_instance(&cat, r->host.instance_type);
        if (ii && ic_chip_contradicts(ic_catalog_chip(&cat, ii->chip), &r->host, why, sizeof why))
            fprintf(out, "%swarning    %s: %s\n", b, r->host.instance_type, why);
        ic_catalog_free(&cat);
    }
    fputc('\n', out);
}

static json_t *result_json(const priced_result *pr, const ic_host_id *here) {
    const ic_result *r = &pr->r;
    char where[256], price[1200];
    ic_result_measured_on(r, where, sizeof where);
    ic_priced_describe(&pr->priced, price, sizeof price);
    json_t *figs = json_array();
    const ic_measurement *ms[] = {pr->pf, pr->dc, pr->lat};
    const char *names[] = {"prefill", "decode", "tpot"};
    for (int i = 0; i < 3; i++) {
        const ic_measurement *m = ms[i];
        if (!m) continue;
        char how[200];
        ic_provenance pv = ic_result_figure_provenance(r, m, here);
        ic_priced_label(pv, r->host.instance_type, &pr->priced, how, sizeof how);
        double usd = ic_usd_per_mtok(pr->priced.price.usd_per_hour, m->tok_per_s);
        json_array_append_new(
            figs, json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:s, s:s, s:o}", "figure", names[i],
                            "context", (json_int_t)m->context, "batch", (json_int_t)m->batch,
                            "tok_per_s", m->tok_per_s, "usd_per_mtok", usd, "tok_per_usd",
                            ic_tok_per_usd(pr->priced.price.usd_per_hour, m->tok_per_s),
                            "provenance", ic_provenance_name(pv), "label", how, "shortened_from",
                            m->shortened_from > 0 ? json_integer(m->shortened_from) : json_null()));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:f, s:s, s:s, s:s, s:s, s:s}, s:s, s:o}",
                     "result", r->path, "model", r->model.name, "dtype",
                     ic_dtype_name(r->model.dtype), "kv_dtype", ic_dtype_name(r->kv_dtype),
                     "measured_on", where, "on_this_host", ic_result_on_host(r, here), "price",
                     "usd_per_hour", pr->priced.price.usd_per_hour, "priced_as",
                     pr->priced.price.instance_type, "description", price, "source",
                     pr->priced.price.source, "date", pr->priced.price.date, "basis",
                     pr->priced.basis, "picked", pr->pick_note, "figures", figs);
}

/* ---- the command ---- */

static int price_one(const cost_opts *o, const ic_catalog *cat, const char *path, priced_result *pr,
                     char *err, size_t errlen) {
    int rc = ic_result_read(&pr->r, path, err, errlen);
    if (rc) return rc;
    if (pr->r.device_backend[0])
        return ic_fail(err, errlen, 2,
                       "%s: measured on one %s device (%s): an instance price covers all of its "
                       "devices, and cost does not price a device's share yet (run --device "
                       "--instance T prints it)",
                       path, pr->r.device_backend, pr->r.device_name);
    char why[512];
    rc = ic_price_resolve(&o->price, cat, pr->r.host.instance_type, &pr->r.pricing, &pr->priced,
                          why, sizeof why);
    if (rc) snprintf(err, errlen, "%s: --instance %s: %s", path, o->price.instance, why);
    if (rc == 0 && pr->priced.origin == IC_PRICE_NONE) {
        snprintf(err, errlen, "%s: %s", path, pr->priced.note);
        rc = 2;
    }
    if (rc == 0) rc = pick(o, pr, err, errlen);
    return rc;
}

static int parse_args(int argc, char **argv, cost_opts *o) {
    static const struct option opts[] = {{"context", required_argument, 0, 'c'},
                                         {"prompt", required_argument, 0, 'n'},
                                         {"mix", required_argument, 0, 'm'},
                                         {"format", required_argument, 0, 'f'},
                                         IC_PRICE_OPTION_INSTANCE,
                                         IC_PRICE_OPTION_REGION,
                                         IC_PRICE_OPTION_PRICING,
                                         IC_PRICE_OPTION_USD_PER_HOUR,
                                         IC_PRICE_OPTION_TPOT_MS,
                                         IC_PRICE_OPTION_CATALOG,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    char err[512], *end;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int pc = ic_price_opts_parse(&o->price, c, optarg, err, sizeof err);
        if (pc < 0) return ic_usage_error("cost", g_usage, "%s", err);
        if (pc > 0) continue;
        switch (c) {
        case 'c':
        case 'n': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < 0 || v > (1L << 24))
                return ic_usage_error("cost", g_usage, "--%s '%s': expected 0 to 16777216",
                                      c == 'c' ? "context" : "prompt", optarg);
            *(c == 'c' ? &o->context : &o->prompt) = v;
            break;
        }
        case 'm':
            if (ic_mix_parse(optarg, &o->mix_in, &o->mix_out) != 0)
                return ic_usage_error("cost", g_usage,
                                      "--mix '%s': expected INPUT:OUTPUT, e.g. 3:1", optarg);
            break;
        case 'f':
            if (ic_format_parse(optarg, &o->format))
                return ic_usage_error("cost", g_usage,
                                      "--format '%s': expected table, md, csv or json", optarg);
            break;
        case 'h':
            fputs(g_usage, stdout);
            return -1;
        default:
            return ic_option_error("cost", g_usage, opts, argv, optind);
        }
    }
    if (optind >= argc) return ic_usage_error("cost", g_usage, "no result file given");
    if (ic_price_opts_check(&o->price, err, sizeof err))
        return ic_usage_error("cost", g_usage, "%s", err);
    return 0;
}

static void report(const cost_opts *o, priced_result *prs, int n, const ic_host_id *here) {
    if (o->format == IC_FMT_JSON) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(arr, result_json(&prs[i], here));
        json_t *root =
            json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:o}", "command", "cost", "this_host",
                      "machine_id", here->machine_id, "cpu_model", here->cpu_model, "cpu_vendor",
                      here->cpu_vendor, "instance_type", here->instance_type, "results", arr);
        ic_report_json(root, stdout);
        json_decref(root);
        return;
    }
    ic_table *t = ic_table_new(10, g_heads, "llrrrrllrr");
    if (t == NULL) return;
    if (o->format != IC_FMT_CSV) {
        char where[256];
        snprintf(where, sizeof where, "%s", here->instance_type[0] ? here->instance_type : "");
        fprintf(
            stdout, "%sthis host  %s%s%s; machine id %s\n\n", o->format == IC_FMT_MD ? "- " : "",
            where[0] ? "EC2 " : "not EC2: ", where[0] ? where : here->cpu_model,
            where[0] ? " (from DMI)" : "", here->machine_id[0] ? here->machine_id : "unavailable");
        for (int i = 0; i < n; i++) print_result_lines(o, &prs[i], here, stdout);
    }
    for (int i = 0; i < n; i++) add_rows(t, o, &prs[i], here);
    ic_table_print(t, o->format, stdout);
    ic_table_free(t);
}

int ic_cmd_cost(int argc, char **argv) {
    cost_opts o = {.context = -1, .prompt = -1, .mix_in = 3, .mix_out = 1};
    ic_price_opts_init(&o.price);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? IC_EXIT_OK : rc;
    ic_catalog cat;
    char err[1024];
    memset(&cat, 0, sizeof cat);
    if (o.price.usd_per_hour <= 0 &&
        (rc = ic_catalog_load(&cat, o.price.catalog_dir, err, sizeof err))) {
        ic_error("%s", err);
        return rc;
    }
    ic_host_id here;
    ic_host_identify(&here);
    int n = argc - optind, done = 0;
    priced_result *prs = calloc((size_t)n, sizeof *prs);
    if (prs == NULL) {
        ic_error("out of memory");
        rc = IC_EXIT_FAIL;
    }
    for (int i = 0; prs && i < n && rc == 0; i++, done++) {
        rc = price_one(&o, o.price.usd_per_hour > 0 ? NULL : &cat, argv[optind + i], &prs[i], err,
                       sizeof err);
        if (rc) ic_error("%s", err);
    }
    if (rc == 0) report(&o, prs, n, &here);
    for (int i = 0; prs && i < done + (rc ? 1 : 0) && i < n; i++) ic_result_free(&prs[i].r);
    free(prs);
    ic_catalog_free(&cat);
    return rc;
}
