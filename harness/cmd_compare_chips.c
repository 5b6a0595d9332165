/* infercost compare-chips: instance types ranked by $ per million decoded tokens for one model. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "catalog.h"
#include "economics.h"
#include "pricing.h"
#include "report.h"
#include "result.h"

static const char g_usage[] =
    "usage: infercost compare-chips RESULT.json... --model M --dtype D [options]\n"
    "  --model M, --dtype D  compare results of this model and weight type only (required)\n"
    "  --kv-dtype T        rank results whose KV cache was T only (a result without one ran an\n"
    "                      f32 cache); default: the first matching result's, the others skipped\n"
    "  --project           add modeled rows for catalog instances without a result: CPUs from\n"
    "                      the results' decode efficiency, accelerators from accel.h's model\n"
    "                      (never the CPU's efficiency); ranked apart from measured rows\n"
    "  --rank-together     one ranking for measured and modeled rows (each still marked)\n"
    "  --every-type        every modeled instance type (default: the cheapest per family)\n"
    "  --top N             at most N modeled rows\n" IC_ACCEL_USAGE IC_PRICE_USAGE_REGION
        IC_PRICE_USAGE_PRICING IC_PRICE_USAGE_TPOT_MS IC_PRICE_USAGE_CATALOG IC_FORMAT_USAGE
    "Each result is ranked as the instance type it was measured on (DMI), never as a type it\n"
    "was priced as; results made off EC2 are listed as skipped.\n";

typedef struct row {
    char instance[48];
    char family[24];
    char chip[32];
    double tok_per_s;
    long batch;
    double usd_per_mtok;
    ic_price price;
    ic_provenance prov;
    char from[600];    /* result file, or "model" */
    char warning[200]; /* the result's CPU contradicts the type's chip */
} row;

/* Cheapest first; a row without a finite cost (never expected) sorts last, so that the order is
 * total and qsort's contract holds. */
static int by_cost(const void *a, const void *b) {
    const row *x = a, *y = b;
    int xf = isfinite(x->usd_per_mtok), yf = isfinite(y->usd_per_mtok);
    if (xf != yf) return xf ? -1 : 1;
    if (xf && x->usd_per_mtok != y->usd_per_mtok) return x->usd_per_mtok < y->usd_per_mtok ? -1 : 1;
    return strcmp(x->instance, y->instance);
}

static row *find_row(row *rows, size_t n, const char *instance) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].instance, instance) == 0) return &rows[i];
    return NULL;
}

/* The decode efficiency of a result: roofline.efficiency, or measured tok/s over the bandwidth
 * bound from this result's own probed read bandwidth. 0 when neither is known. */
static double decode_efficiency(const ic_result *r, const ic_measurement *m) {
    if (m->have_bound && m->efficiency > 0) return m->efficiency;
    if (r->read_bw.available && r->read_bw.value > 0 && r->weight_bytes_per_token > 0)
        return m->tok_per_s / (r->read_bw.value * 1e9 / r->weight_bytes_per_token);
    return 0;
}

typedef struct cc_opts {
    const char *model, *dtype;
    int kv_given;
    ic_dtype kv; /* --kv-dtype */
    int project;
    int together, every_type;
    long top; /* 0: no cap */
    ic_accel_params accel;
    ic_price_opts price;
    ic_format format;
} cc_opts;

/* The ranking being built: rows, and the result whose decode efficiency a projection scales. */
typedef struct ranking {
    row *rows;
    size_t n, cap;
    size_t matched, modeled, no_fit, no_facts, accel_modeled, folded, over_top;
    int accel_class_seen[IC_ACCEL_CLASS_COUNT];
    int kv_set; /* kv is the one KV-cache type ranked: --kv-dtype, or the first match's */
    ic_dtype kv;
    size_t kv_skipped;
    const ic_result *ref;
    const ic_measurement *ref_m;
    double eff;
    int eff_refused; /* the reference's efficiency is above IC_MAX_PROJECTED_EFFICIENCY */
} ranking;

/* A measured decode can sit a little above its bound (the bound's bandwidth is a sample too), but
 * not far: past this, a projection from it is refused. */
#define IC_MAX_PROJECTED_EFFICIENCY 1.2

static row *new_row(ranking *k) {
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        row *nr = realloc(k->rows, cap * sizeof *nr);
        if (!nr) return NULL;
        k->rows = nr;
        k->cap = cap;
    }
    row *w = &k->rows[k->n++];
    memset(w, 0, sizeof *w);
    return w;
}

static void skipped(const char *path, const char *why) {
    fprintf(stderr, "infercost compare-chips: %s: skipped: %s\n", path, why);
}

/* One result's row: the instance type it was measured on, at the catalog's price. A result made
 * off EC2 has no type to rank as (pricing it as another type would rank a chip that did not run).
 * 0, skipped or added; else an exit code with err set. */
static int add_result(const cc_opts *o, const ic_catalog *cat, const ic_host_id *here,
                      const ic_result *r, ranking *k, char *err, size_t errlen) {
    if (strcmp(r->model.name, o->model) != 0 || strcmp(ic_dtype_name(r->model.dtype), o->dtype)) {
        char why[200];
        snprintf(why, sizeof why, "model %s %s, not %s %s", r->model.name,
                 ic_dtype_name(r->model.dtype), o->model, o->dtype);
        skipped(r->path, why);
        return 0;
    }
    if (!k->kv_set) {
        k->kv = r->kv_dtype;
        k->kv_set = 1;
    }
    if (r->kv_dtype != k->kv) {
        /* The KV type changes what decode reads: figures of two types are not one ranking. */
        char why[200];
        snprintf(why, sizeof why, "KV cache %s, not %s (%s)", ic_dtype_name(r->kv_dtype),
                 ic_dtype_name(k->kv),
                 o->kv_given ? "--kv-dtype" : "the first matching result's; --kv-dtype picks");
        skipped(r->path, why);
        k->kv_skipped++;
        return 0;
    }
    k->matched++;
    if (r->device_backend[0]) {
        skipped(r->path, "measured on one offload device: an instance price covers all of its "
                         "devices, and a device's share is not ranked yet");
        return 0;
    }
    const ic_measurement *d1 = ic_result_pick_decode(r, -1);
    /* The projection scales one result's efficiency: this host's if given, else the first. */
    if (d1 && (!k->ref || (ic_result_on_host(r, here) && !ic_result_on_host(k->ref, here)))) {
        k->ref = r;
        k->ref_m = d1;
    }
    const ic_measurement *m =
        o->price.tpot_ms > 0 ? ic_result_pick_latency(r, o->price.tpot_ms) : d1;
    if (!m) {
        skipped(r->path, o->price.tpot_ms > 0 ? "no decode configuration meets --tpot-ms"
                                              : "no batch-1 decode measurement");
        return 0;
    }
    const char *type = r->host.instance_type;
    if (!type[0]) {
        skipped(r->path, "measured off EC2: no instance type to rank it as (infercost cost "
                         "--instance T prices it as T)");
        return 0;
    }
    ic_price pr;
    int rc = ic_price_lookup(cat, type, o->price.region, o->price.pricing, &pr, err, errlen);
    if (rc) return rc;
    double cost = ic_usd_per_mtok(pr.usd_per_hour, m->tok_per_s);
    row *old = find_row(k->rows, k->n, type);
    if (old && cost >= old->usd_per_mtok) return 0; /* keep the instance's cheapest result */
    if (!old && (old = new_row(k)) == NULL) return 1;
    memset(old, 0, sizeof *old);
    snprintf(old->instance, sizeof old->instance, "%s", type);
    const ic_instance_info *ii = ic_catalog_instance(cat, type);
    snprintf(old->chip, sizeof old->chip, "%s", ii ? ii->chip : "?");
    snprintf(old->family, sizeof old->family, "%s", ii ? ii->family : "");
    if (ii)
        ic_chip_contradicts(ic_catalog_chip(cat, ii->chip), &r->host, old->warning,
                            sizeof old->warning);
    old->tok_per_s = m->tok_per_s;
    old->batch = m->batch;
    old->usd_per_mtok = cost;
    old->price = pr;
    old->prov = ic_result_figure_provenance(r, m, here);
    snprintf(old->from, sizeof old->from, "%s", r->path);
    return 0;
}

/* A modeled row for instance ii: priced from the catalog, dropped by --tpot-ms when too slow.
 * 0, or 1 when out of memory. */
static int add_modeled(const cc_opts *o, const ic_catalog *cat, const ic_instance_info *ii,
                       double tok, const char *from, ranking *k) {
    char err[512];
    ic_price pr;
    if (ic_price_lookup(cat, ii->type, o->price.region, o->price.pricing, &pr, err, sizeof err))
        return 0;
    if (o->price.tpot_ms > 0 && 1000.0 / tok > o->price.tpot_ms) return 0;
    row *w = new_row(k);
    if (w == NULL) return 1;
    snprintf(w->instance, sizeof w->instance, "%s", ii->type);
    snprintf(w->family, sizeof w->family, "%s", ii->family);
    snprintf(w->chip, sizeof w->chip, "%s", ii->chip);
    w->tok_per_s = tok;
    w->batch = 1;
    w->usd_per_mtok = ic_usd_per_mtok(pr.usd_per_hour, tok);
    w->price = pr;
    w->prov = IC_PROV_MODELED;
    snprintf(w->from, sizeof w->from, "%s", from);
    k->modeled++;
    return 0;
}

/* An accelerator instance, from the accelerator model (accel.h) at batch 1 and the reference
 * figure's context: never from a CPU's efficiency. */
static int project_accel(const cc_opts *o, const ic_catalog *cat, const ic_instance_info *ii,
                         const ic_chip_info *ch, ranking *k) {
    ic_accel_estimate e;
    long ctx = k->ref_m->context > 0 ? k->ref_m->context : 128;
    ic_accel_estimate_for(ii, ch, &k->ref->model, 1, (uint64_t)ctx, 64, &o->accel, &e);
    if (e.status == IC_ACCEL_NO_FACTS) {
        k->no_facts++;
        return 0;
    }
    if (e.status != IC_ACCEL_OK) {
        k->no_fit++;
        return 0;
    }
    char from[300];
    snprintf(from, sizeof from, "modeled: %s, decode efficiency %.2f (%s)%s", e.placement,
             e.decode_eff, ic_accel_class_name(e.cls),
             e.tp > 1 ? ", tensor-parallel scaling applied" : "");
    size_t before = k->modeled;
    if (add_modeled(o, cat, ii, e.decode_tok_s, from, k)) return 1;
    if (k->modeled > before) {
        k->accel_modeled++;
        k->accel_class_seen[e.cls] = 1;
    }
    return 0;
}

/* Modeled rows for catalog instances without a result: CPUs scale the reference result's decode
 * efficiency by the instance's memory bandwidth from chips.tsv; accelerators use accel.h. */
static int project(const cc_opts *o, const ic_catalog *cat, ranking *k) {
    if (!k->ref) return 0;
    k->eff = decode_efficiency(k->ref, k->ref_m);
    int cpu_ok = k->eff > 0 && k->ref->weight_bytes_per_token > 0;
    /* Above the roofline the reference's bound is wrong, and scaling it would rank fiction. */
    if (cpu_ok && k->eff > IC_MAX_PROJECTED_EFFICIENCY) {
        k->eff_refused = 1;
        cpu_ok = 0;
    }
    for (size_t i = 0; i < cat->n_instances; i++) {
        const ic_instance_info *ii = &cat->instances[i];
        if (find_row(k->rows, k->n, ii->type)) continue;
        const ic_chip_info *ch = ic_catalog_chip(cat, ii->chip);
        if (ii->accelerators > 0) {
            if (!ch) {
                k->no_facts++;
                continue;
            }
            if (project_accel(o, cat, ii, ch, k)) return 1;
            continue;
        }
        if (!cpu_ok) continue;
        double tok = 0, bw = ic_instance_mem_bw_gbs(ii, ch);
        ic_projection pj = ic_project_decode(ii, ch, k->eff, k->ref->weight_bytes_per_token, &tok);
        if (pj == IC_NO_CHIP_FACTS) {
            k->no_facts++;
            continue;
        }
        if (pj == IC_DOES_NOT_FIT) {
            k->no_fit++;
            continue;
        }
        char from[200];
        snprintf(from, sizeof from, "modeled: %.0f GB/s x efficiency %.3f", bw, k->eff);
        if (add_modeled(o, cat, ii, tok, from, k)) return 1;
    }
    return 0;
}

/* Cheapest first; measured rows before modeled ones unless --rank-together; then the modeled rows
 * folded to the cheapest per family (unless --every-type) and cut to --top N. */
static void order(const cc_opts *o, ranking *k) {
    qsort(k->rows, k->n, sizeof *k->rows, by_cost);
    size_t m = 0;
    if (!o->together) { /* a stable partition: measured rows keep their order, then modeled */
        row *tmp = malloc(k->n * sizeof *tmp);
        if (tmp) {
            size_t t = 0;
            for (size_t i = 0; i < k->n; i++)
                if (k->rows[i].prov != IC_PROV_MODELED) tmp[t++] = k->rows[i];
            for (size_t i = 0; i < k->n; i++)
                if (k->rows[i].prov == IC_PROV_MODELED) tmp[t++] = k->rows[i];
            memcpy(k->rows, tmp, k->n * sizeof *tmp);
            free(tmp);
        }
    }
    long kept_modeled = 0;
    for (size_t i = 0; i < k->n; i++) {
        row *w = &k->rows[i];
        if (w->prov == IC_PROV_MODELED) {
            int dup = 0;
            for (size_t j = 0; !o->every_type && j < m && !dup; j++)
                dup = k->rows[j].prov == IC_PROV_MODELED && w->family[0] &&
                      strcmp(k->rows[j].family, w->family) == 0;
            if (dup) {
                k->folded++;
                continue;
            }
            if (o->top > 0 && kept_modeled >= o->top) {
                k->over_top++;
                continue;
            }
            kept_modeled++;
        }
        k->rows[m++] = *w;
    }
    k->n = m;
}

/* The row a row's ratio and rank count from: the cheapest of its group (measured or modeled), or
 * of all rows with --rank-together. */
static size_t group_start(const cc_opts *o, const ranking *k, size_t i) {
    if (o->together) return 0;
    size_t s = i;
    while (s > 0 &&
           (k->rows[s - 1].prov == IC_PROV_MODELED) == (k->rows[i].prov == IC_PROV_MODELED))
        s--;
    return s;
}

static json_t *ranking_json(const cc_opts *o, const ranking *k) {
    json_t *rows = json_array();
    for (size_t i = 0; i < k->n; i++) {
        const row *w = &k->rows[i];
        size_t g = group_start(o, k, i);
        json_array_append_new(
            rows,
            json_pack("{s:I, s:s, s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:s, s:s, s:s, s:s, s:o}",
                      "rank", (json_int_t)(i - g + 1), "group",
                      o->together                  ? "all"
                      : w->prov == IC_PROV_MODELED ? "modeled"
                                                   : "measured",
                      "instance", w->instance, "chip", w->chip, "batch", (json_int_t)w->batch,
                      "tok_per_s", w->tok_per_s, "usd_per_hour", w->price.usd_per_hour,
                      "usd_per_mtok", w->usd_per_mtok, "ratio",
                      w->usd_per_mtok / k->rows[g].usd_per_mtok, "provenance",
                      ic_provenance_name(w->prov), "price_source", w->price.source, "price_date",
                      w->price.date, "from", w->from, "warning",
                      w->warning[0] ? json_string(w->warning) : json_null()));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "command", "compare-chips",
                          "model", o->model, "dtype", o->dtype, "kv_dtype", ic_dtype_name(k->kv),
                          "region", o->price.region, "pricing", ic_pricing_name(o->price.pricing),
                          "ranked_together", o->together, "rows", rows);
    if (o->project) {
        json_t *a = json_object();
        for (int c = 0; c < IC_ACCEL_CLASS_COUNT; c++)
            if (k->accel_class_seen[c])
                json_object_set_new(a, ic_accel_class_name((ic_accel_class)c),
                                    json_pack("{s:f, s:s, s:f, s:s}", "decode_efficiency",
                                              o->accel.decode_eff[c], "decode_efficiency_source",
                                              ic_accel_decode_source(&o->accel, (ic_accel_class)c),
                                              "tp_scaling_per_doubling", o->accel.tp_per_doubling,
                                              "tp_scaling_source", ic_accel_tp_source(&o->accel)));
        json_object_set_new(j, "accelerator_model", a);
        json_object_set_new(j, "modeled_folded_by_family", json_integer((json_int_t)k->folded));
        json_object_set_new(j, "modeled_over_top", json_integer((json_int_t)k->over_top));
    }
    return j;
}

/* Rows [from, to) as one table, ranked and with ratios inside the range. */
static void print_rows(const cc_opts *o, const ranking *k, size_t from, size_t to) {
    static const char *const heads[] = {"rank",  "instance",   "chip",     "batch",
                                        "tok/s", "usd/h",      "usd/Mtok", "ratio",
                                        "how",   "price date", "from"};
    ic_table *t = ic_table_new(11, heads, "rllrrrrrlll");
    for (size_t i = from; t && i < to; i++) {
        const row *w = &k->rows[i];
        char rank[24], batch[24], tps[32], uph[32], usd[32], ratio[32], from_cell[900];
        snprintf(rank, sizeof rank, "%zu", i - from + 1);
        snprintf(batch, sizeof batch, "%ld", w->batch);
        snprintf(tps, sizeof tps, "%.2f", w->tok_per_s);
        snprintf(uph, sizeof uph, "%.6f", w->price.usd_per_hour);
        snprintf(usd, sizeof usd, "%.4f", w->usd_per_mtok);
        snprintf(ratio, sizeof ratio, "%.2fx", w->usd_per_mtok / k->rows[from].usd_per_mtok);
        snprintf(from_cell, sizeof from_cell, "%s%s%s", w->from, w->warning[0] ? "; WARNING: " : "",
                 w->warning);
        const char *cells[] = {rank,          w->instance, w->chip,
                               batch,         tps,         uph,
                               usd,           ratio,       ic_provenance_name(w->prov),
                               w->price.date, from_cell};
        ic_table_add(t, cells);
    }
    if (t) ic_table_print(t, o->format, stdout);
    ic_table_free(t);
}

static void print_tables(const cc_opts *o, const ranking *k, const char *b) {
    size_t split = k->n;
    for (size_t i = 0; !o->together && i < k->n; i++)
        if (k->rows[i].prov == IC_PROV_MODELED) {
            split = i;
            break;
        }
    if (o->together || split == k->n || o->format == IC_FMT_CSV) {
        print_rows(o, k, 0, k->n);
        return;
    }
    if (split > 0) {
        printf("%smeasured\n", b);
        if (o->format == IC_FMT_MD) putchar('\n');
        print_rows(o, k, 0, split);
        putchar('\n');
    }
    printf("%smodeled, not measured (ranked apart; --rank-together ranks all rows as one)\n", b);
    if (o->format == IC_FMT_MD) putchar('\n');
    print_rows(o, k, split, k->n);
}

static void print_projection_notes(const cc_opts *o, const ranking *k, const char *b) {
    if (!o->project) return;
    if (k->modeled > k->accel_modeled)
        printf("%smodeled CPU rows: decode tok/s = efficiency %.3f (from %s, %s) x the instance's "
               "memory bandwidth from chips.tsv / %.3g bytes per token; an estimate, not a "
               "measurement.\n",
               b, k->eff, k->ref->path,
               k->ref_m->provenance == IC_PROV_MEASURED ? "measured" : "imported",
               k->ref->weight_bytes_per_token);
    for (int c = 0; c < IC_ACCEL_CLASS_COUNT; c++)
        if (k->accel_class_seen[c])
            printf("%smodeled %s rows (accel.h): batch 1, bandwidth-bound at efficiency %.2f: %s; "
                   "tensor-parallel scaling %.2f per doubling: %s\n",
                   b, ic_accel_class_name((ic_accel_class)c), o->accel.decode_eff[c],
                   ic_accel_decode_source(&o->accel, (ic_accel_class)c), o->accel.tp_per_doubling,
                   ic_accel_tp_source(&o->accel));
    if (k->modeled)
        printf("%s%zu modeled, %zu folded into their family's cheapest row (--every-type shows "
               "them), %zu past --top, %zu skipped for missing chip facts, %zu whose memory "
               "cannot hold the weights.\n",
               b, k->modeled, k->folded, k->over_top, k->no_facts, k->no_fit);
    if (k->eff_refused)
        printf("%sCPU projection unavailable: %s's decode efficiency %.3g is above %.1f: its "
               "roofline bound is wrong, and a projection from it would not be an estimate\n",
               b, k->ref->path, k->eff, IC_MAX_PROJECTED_EFFICIENCY);
    else if (!k->ref)
        printf("%sprojection unavailable: no result has a batch-1 decode measurement\n", b);
    else if (!(k->eff > 0))
        printf("%sCPU projection unavailable: %s\n", b,
               !(k->ref->weight_bytes_per_token > 0)
                   ? "the result has no model.weight_bytes_per_token"
                   : "the result has no roofline.efficiency and no probes.read_bw_gbs");
}

static void report(const cc_opts *o, const ic_catalog *cat, const ranking *k) {
    if (o->format == IC_FMT_JSON) {
        json_t *j = ranking_json(o, k);
        ic_report_json(j, stdout);
        json_decref(j);
        return;
    }
    const char *b = o->format == IC_FMT_MD ? "- " : "";
    if (o->format != IC_FMT_CSV) {
        printf("%smodel %s, dtype %s, KV cache %s; decode %s; region %s, pricing %s\n", b, o->model,
               o->dtype, ic_dtype_name(k->kv),
               o->price.tpot_ms > 0 ? "at the cheapest batch meeting the latency target"
                                    : "at batch 1",
               o->price.region, ic_pricing_name(o->price.pricing));
        if (o->price.tpot_ms > 0)
            printf("%slatency target: %g ms per token per sequence\n", b, o->price.tpot_ms);
        if (o->format == IC_FMT_MD) putchar('\n');
    }
    print_tables(o, k, b);
    if (o->format == IC_FMT_CSV) return;
    printf(
        "\n%sratio: $/Mtok over the cheapest row's%s. Prices: the catalog's prices.tsv (each row's "
        "source and date there)%s.\n",
        b, o->together ? "" : " in the same table",
        o->price.pricing != IC_PRICING_ON_DEMAND ? ", less the discounts.tsv assumption" : "");
    if (o->price.pricing != IC_PRICING_ON_DEMAND)
        printf("%sdiscount %s: %.0f%%, %s; date %s\n", b, ic_pricing_name(o->price.pricing),
               cat->discounts[o->price.pricing].fraction * 100,
               cat->discounts[o->price.pricing].source, cat->discounts[o->price.pricing].date);
    print_projection_notes(o, k, b);
}

static int parse_args(int argc, char **argv, cc_opts *o) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"dtype", required_argument, 0, 'd'},
                                         {"kv-dtype", required_argument, 0, 'K'},
                                         {"project", no_argument, 0, 'P'},
                                         {"rank-together", no_argument, 0, 'T'},
                                         {"every-type", no_argument, 0, 'E'},
                                         {"top", required_argument, 0, 'N'},
                                         IC_ACCEL_OPTION_EFFICIENCY,
                                         IC_ACCEL_OPTION_TP_SCALING,
                                         {"format", required_argument, 0, 'f'},
                                         IC_PRICE_OPTION_REGION,
                                         IC_PRICE_OPTION_PRICING,
                                         IC_PRICE_OPTION_TPOT_MS,
                                         IC_PRICE_OPTION_CATALOG,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    char err[512];
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int pc = ic_price_opts_parse(&o->price, c, optarg, err, sizeof err);
        if (pc == 0) pc = ic_accel_opts_parse(&o->accel, c, optarg, err, sizeof err);
        if (pc < 0) return ic_usage_error("compare-chips", g_usage, "%s", err);
        if (pc > 0) continue;
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case 'd':
            o->dtype = optarg;
            break;
        case 'K':
            if (ic_dtype_parse_kv(optarg, &o->kv, err, sizeof err))
                return ic_usage_error("compare-chips", g_usage, "--kv-dtype '%s': %s", optarg, err);
            o->kv_given = 1;
            break;
        case 'P':
            o->project = 1;
            break;
        case 'T':
            o->together = 1;
            break;
        case 'E':
            o->every_type = 1;
            break;
        case 'N': {
            char *end;
            errno = 0;
            o->top = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || o->top < 1 || o->top > 100000)
                return ic_usage_error("compare-chips", g_usage,
                                      "--top '%s': expected a count from 1 to 100000", optarg);
            break;
        }
        case 'f':
            if (ic_format_parse(optarg, &o->format))
                return ic_usage_error("compare-chips", g_usage,
                                      "--format '%s': expected table, md, csv or json", optarg);
            break;
        case 'h':
            fputs(g_usage, stdout);
            return -1;
        default:
            return ic_option_error("compare-chips", g_usage, opts, argv, optind);
        }
    }
    if (!o->model || !o->dtype)
        return ic_usage_error("compare-chips", g_usage, "--model and --dtype are required");
    if (!o->project && (o->together || o->every_type || o->top))
        return ic_usage_error("compare-chips", g_usage,
                              "--rank-together, --every-type and --top shape modeled rows: they "
                              "need --project");
    if (optind >= argc) return ic_usage_error("compare-chips", g_usage, "no result file given");
    return 0;
}

int ic_cmd_compare_chips(int argc, char **argv) {
    cc_opts o = {0};
    ic_price_opts_init(&o.price);
    ic_accel_params_default(&o.accel);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? IC_EXIT_OK : rc;
    ic_catalog cat;
    char err[1024];
    if ((rc = ic_catalog_load(&cat, o.price.catalog_dir, err, sizeof err))) {
        ic_error("%s", err);
        return rc;
    }
    ic_host_id here;
    ic_host_identify(&here);
    int nres = argc - optind, loaded = 0;
    ic_result *res = calloc((size_t)nres, sizeof *res);
    ranking k = {.kv_set = o.kv_given, .kv = o.kv};
    if (!res) rc = IC_EXIT_FAIL;
    for (int i = 0; res && rc == 0 && i < nres; i++) {
        rc = ic_result_read(&res[i], argv[optind + i], err, sizeof err);
        if (rc == 0) {
            loaded++;
            err[0] = '\0';
            rc = add_result(&o, &cat, &here, &res[i], &k, err, sizeof err);
            if (rc) {
                ic_error("%s: %s", res[i].path, err[0] ? err : "out of memory");
                continue;
            }
        }
        if (rc) ic_error("%s", err);
    }
    if (rc == 0 && k.matched == 0) {
        ic_error("no result file is for model %s dtype %s%s%s", o.model, o.dtype,
                 k.kv_skipped ? " with a KV cache of " : "",
                 k.kv_skipped ? ic_dtype_name(k.kv) : "");
        rc = IC_EXIT_USAGE;
    }
    if (rc == 0 && o.project) rc = project(&o, &cat, &k);
    if (rc == 0 && k.n == 0) {
        ic_error("nothing to rank: no result for %s %s was measured on an EC2 instance with a "
                 "decode figure%s",
                 o.model, o.dtype, o.project ? ", and no instance could be projected" : "");
        rc = IC_EXIT_USAGE;
    }
    if (rc == 0) {
        order(&o, &k);
        report(&o, &cat, &k);
    }
    free(k.rows);
    for (int i = 0; i < loaded; i++) ic_result_free(&res[i]);
    free(res);
    ic_catalog_free(&cat);
    return rc;
}
