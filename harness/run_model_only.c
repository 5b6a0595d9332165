/* `infercost run --device cuda|neuron --model-only`: modeled figures for the accelerator instance
 * types of one device class, from chips.tsv and the accelerator model (accel.h). Nothing runs;
 * every row says modeled, and the efficiencies it used are printed with their sources. */
#define _GNU_SOURCE
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "catalog.h"
#include "pricing.h"
#include "report.h"
#include "run.h"

typedef struct mo_row {
    const ic_instance_info *ii;
    const ic_chip_info *ch;
    size_t context, batch;
    ic_accel_estimate e;
    ic_price price;
    double usd_per_mtok_out, usd_per_mtok_in;
} mo_row;

typedef struct mo_set {
    mo_row *rows;
    size_t n, cap;
    size_t no_price, no_fit, no_facts;
    char no_facts_chips[160];
} mo_set;

static mo_row *mo_add(mo_set *s) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        mo_row *r = realloc(s->rows, cap * sizeof *r);
        if (!r) return NULL;
        s->rows = r;
        s->cap = cap;
    }
    memset(&s->rows[s->n], 0, sizeof *s->rows);
    return &s->rows[s->n++];
}

/* Remembers a chip without facts once, for the closing note. */
static void note_chip(mo_set *s, const char *chip) {
    if (strstr(s->no_facts_chips, chip)) return;
    size_t len = strlen(s->no_facts_chips);
    snprintf(s->no_facts_chips + len, sizeof s->no_facts_chips - len, "%s%s", len ? ", " : "",
             chip);
}

/* The instance types to model: --instance T alone (it must be of the class), or every type whose
 * chip is of the class. Returns 0 or an exit code with the message printed. */
static int pick_instances(const ic_run_opts *o, const ic_catalog *cat, ic_accel_class cls,
                          const ic_instance_info **out, size_t *n, mo_set *s) {
    *n = 0;
    if (o->price.instance) {
        const ic_instance_info *ii = ic_catalog_instance(cat, o->price.instance);
        const ic_chip_info *ch = ii ? ic_catalog_chip(cat, ii->chip) : NULL;
        if (!ii) {
            ic_error("--instance %s: not in %s/instances.tsv", o->price.instance, cat->dir);
            return IC_EXIT_USAGE;
        }
        if (ic_accel_class_of(ch) != (int)cls) {
            ic_error("--instance %s: its chip %s is not a %s device: --device %s models %s "
                     "instance types only",
                     ii->type, ii->chip, ic_accel_class_name(cls), ic_accel_class_name(cls),
                     ic_accel_class_name(cls));
            return IC_EXIT_USAGE;
        }
        out[(*n)++] = ii;
        return 0;
    }
    for (size_t i = 0; i < cat->n_instances; i++) {
        const ic_instance_info *ii = &cat->instances[i];
        const ic_chip_info *ch = ic_catalog_chip(cat, ii->chip);
        if (ii->accelerators > 0 && !ch) {
            s->no_facts++;
            note_chip(s, ii->chip);
        }
        if (ic_accel_class_of(ch) == (int)cls) out[(*n)++] = ii;
    }
    return 0;
}

/* Every (instance, context, batch) row with its estimate and price. */
static int build_rows(const ic_run_opts *o, const ic_catalog *cat, const ic_model *m,
                      const ic_instance_info *const *types, size_t n_types, size_t prompt,
                      mo_set *s) {
    char err[512];
    for (size_t i = 0; i < n_types; i++) {
        const ic_instance_info *ii = types[i];
        const ic_chip_info *ch = ic_catalog_chip(cat, ii->chip);
        ic_price pr;
        memset(&pr, 0, sizeof pr);
        if (o->price.usd_per_hour > 0) {
            pr.usd_per_hour = o->price.usd_per_hour;
            snprintf(pr.source, sizeof pr.source, "--usd-per-hour");
            snprintf(pr.date, sizeof pr.date, "given");
        } else if (ic_price_lookup(cat, ii->type, o->price.region, o->price.pricing, &pr, err,
                                   sizeof err)) {
            s->no_price++;
            continue;
        }
        for (int c = 0; c < o->n_contexts; c++)
            for (int b = 0; b < o->n_batches; b++) {
                ic_accel_estimate e;
                ic_accel_estimate_for(ii, ch, m, o->batches[b], o->contexts[c], prompt, &o->accel,
                                      &e);
                if (e.status == IC_ACCEL_NO_FACTS) {
                    s->no_facts++;
                    note_chip(s, ii->chip);
                    goto next_type;
                }
                if (e.status != IC_ACCEL_OK) {
                    s->no_fit++;
                    continue;
                }
                mo_row *r = mo_add(s);
                if (!r) return IC_EXIT_FAIL;
                r->ii = ii;
                r->ch = ch;
                r->context = o->contexts[c];
                r->batch = o->batches[b];
                r->e = e;
                r->price = pr;
                r->usd_per_mtok_out = ic_usd_per_mtok(pr.usd_per_hour, e.decode_tok_s);
                r->usd_per_mtok_in = ic_usd_per_mtok(pr.usd_per_hour, e.prefill_tok_s);
            }
    next_type:;
    }
    return 0;
}

static void print_assumptions(const ic_run_opts *o, ic_accel_class cls, const char *b) {
    printf("%sdecode efficiency %.2f of peak HBM bandwidth: %s\n", b, o->accel.decode_eff[cls],
           ic_accel_decode_source(&o->accel, cls));
    printf("%sprefill efficiency %.2f of peak bf16 compute: %s\n", b, o->accel.prefill_eff[cls],
           ic_accel_prefill_source(&o->accel, cls));
    printf("%stensor-parallel scaling %.2f per doubling: %s\n", b, o->accel.tp_per_doubling,
           ic_accel_tp_source(&o->accel));
    printf("%splacement: weights + f16 KV cache in %.0f%% of each device's memory; one replica per "
           "device when the model fits one\n",
           b, IC_ACCEL_MEM_USABLE * 100);
}

static void print_table(const mo_set *s, ic_format fmt) {
    static const char *const heads[] = {
        "instance",    "chip",         "devices",       "placement", "context",
        "batch",       "decode tok/s", "prefill tok/s", "usd/h",     "usd/Mtok out",
        "usd/Mtok in", "decode bound", "prefill bound", "how",       "price date"};
    ic_table *t = ic_table_new(15, heads, "llrlrrrrrrrllll");
    for (size_t i = 0; t && i < s->n; i++) {
        const mo_row *r = &s->rows[i];
        char dev[16], ctx[24], bat[24], dec[32], pre[32], uph[32], out[32], in[32];
        snprintf(dev, sizeof dev, "%d", r->e.devices);
        snprintf(ctx, sizeof ctx, "%zu", r->context);
        snprintf(bat, sizeof bat, "%zu", r->batch);
        snprintf(dec, sizeof dec, "%.1f", r->e.decode_tok_s);
        snprintf(pre, sizeof pre, "%.0f", r->e.prefill_tok_s);
        snprintf(uph, sizeof uph, "%.4f", r->price.usd_per_hour);
        snprintf(out, sizeof out, "%.4f", r->usd_per_mtok_out);
        snprintf(in, sizeof in, "%.4f", r->usd_per_mtok_in);
        const char *cells[] = {r->ii->type,
                               r->ch->name,
                               dev,
                               r->e.placement,
                               ctx,
                               bat,
                               dec,
                               pre,
                               uph,
                               out,
                               in,
                               r->e.decode_limit,
                               r->e.prefill_limit,
                               "modeled",
                               r->price.date};
        ic_table_add(t, cells);
    }
    if (t) ic_table_print(t, fmt, stdout);
    ic_table_free(t);
}

static json_t *rows_json(const ic_run_opts *o, const ic_model *m, ic_accel_class cls,
                         const mo_set *s) {
    json_t *rows = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const mo_row *r = &s->rows[i];
        json_array_append_new(
            rows,
            json_pack("{s:s, s:s, s:i, s:i, s:i, s:f, s:s, s:I, s:I, s:f, s:f, s:s, s:s, s:f, "
                      "s:s, s:s, s:o, s:o, s:s}",
                      "instance", r->ii->type, "chip", r->ch->name, "devices", r->e.devices,
                      "tensor_parallel", r->e.tp, "replicas", r->e.replicas, "scaling",
                      r->e.scaling, "placement", r->e.placement, "context", (json_int_t)r->context,
                      "batch", (json_int_t)r->batch, "decode_tok_per_s", r->e.decode_tok_s,
                      "prefill_tok_per_s", r->e.prefill_tok_s, "decode_bound", r->e.decode_limit,
                      "prefill_bound", r->e.prefill_limit, "usd_per_hour", r->price.usd_per_hour,
                      "price_source", r->price.source, "price_date", r->price.date,
                      "usd_per_mtok_out", ic_json_number(r->usd_per_mtok_out), "usd_per_mtok_in",
                      ic_json_number(r->usd_per_mtok_in), "provenance", "modeled"));
    }
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:f, s:s, s:f, s:s, s:f, s:s, s:f}, s:o, s:I, s:I}",
        "command", "run --model-only", "device", ic_accel_class_name(cls), "provenance", "modeled",
        "model", m->name, "dtype", ic_dtype_name(m->dtype), "assumptions", "decode_efficiency",
        o->accel.decode_eff[cls], "decode_efficiency_source",
        ic_accel_decode_source(&o->accel, cls), "prefill_efficiency", o->accel.prefill_eff[cls],
        "prefill_efficiency_source", ic_accel_prefill_source(&o->accel, cls),
        "tp_scaling_per_doubling", o->accel.tp_per_doubling, "tp_scaling_source",
        ic_accel_tp_source(&o->accel), "memory_usable", IC_ACCEL_MEM_USABLE, "rows", rows,
        "skipped_does_not_fit", (json_int_t)s->no_fit, "skipped_no_price", (json_int_t)s->no_price);
}

static void report(const ic_run_opts *o, const ic_model *m, ic_accel_class cls, size_t prompt,
                   const mo_set *s) {
    if (o->format == IC_FMT_JSON) {
        json_t *j = rows_json(o, m, cls, s);
        ic_report_json(j, stdout);
        json_decref(j);
        return;
    }
    const char *b = o->format == IC_FMT_MD ? "- " : "";
    if (o->format != IC_FMT_CSV) {
        char desc[400];
        ic_model_describe(m, desc, sizeof desc);
        printf("%sMODELED, not measured: no %s device ran. %s\n", b, ic_accel_class_name(cls),
               desc);
        printf("%sdecode at each context and batch; prefill of %zu-token prompts; region %s, "
               "pricing %s\n",
               b, prompt, o->price.region, ic_pricing_name(o->price.pricing));
        print_assumptions(o, cls, b);
        if (o->format == IC_FMT_MD) putchar('\n');
    }
    print_table(s, o->format);
    if (o->format == IC_FMT_CSV) return;
    /* Each row's price date is in the table; the sources, once each. */
    for (size_t i = 0; i < s->n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(s->rows[j].price.source, s->rows[i].price.source) == 0;
        if (!seen)
            printf("%s%sprice source: %s%s\n", i == 0 ? "\n" : "", b, s->rows[i].price.source,
                   o->price.pricing != IC_PRICING_ON_DEMAND ? ", less the discounts.tsv assumption"
                                                            : "");
    }
    if (s->no_fit)
        printf("\n%s%zu instance/context/batch cases left out: the weights and KV cache do not fit "
               "the instance's devices\n",
               b, s->no_fit);
    if (s->no_price)
        printf("%s%zu instance types left out: no price in %s\n", b, s->no_price, o->price.region);
    if (s->no_facts)
        printf("%saccelerator types without chip facts in chips.tsv, not modeled: %s\n", b,
               s->no_facts_chips);
}

int ic_run_model_only(const ic_run_opts *o, ic_accel_class cls) {
    char err[1024];
    ic_model m;
    int dtype = o->dtype >= 0 ? o->dtype : (int)IC_DT_BF16;
    if (ic_model_load(o->model_spec, dtype, &m, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    ic_catalog cat;
    int rc = ic_catalog_load(&cat, o->price.catalog_dir, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    const ic_instance_info **types = calloc(cat.n_instances + 1, sizeof *types);
    mo_set s = {0};
    size_t n_types = 0, prompt = o->n_prompts ? o->prompts[0] : 64;
    for (int i = 1; i < o->n_prompts; i++)
        if (o->prompts[i] > prompt) prompt = o->prompts[i];
    if (!types) rc = IC_EXIT_FAIL;
    if (rc == 0) rc = pick_instances(o, &cat, cls, types, &n_types, &s);
    if (rc == 0) rc = build_rows(o, &cat, &m, types, n_types, prompt, &s);
    if (rc == 0 && s.n == 0) {
        ic_error("run --device %s --model-only: nothing to model for %s %s (%zu types of the "
                 "class; %zu cases do not fit, %zu without a price in %s)",
                 ic_accel_class_name(cls), m.name, ic_dtype_name(m.dtype), n_types, s.no_fit,
                 s.no_price, o->price.region);
        rc = IC_EXIT_USAGE;
    }
    if (rc == 0) report(o, &m, cls, prompt, &s);
    if (rc == IC_EXIT_FAIL) ic_error("out of memory");
    free(s.rows);
    free(types);
    ic_catalog_free(&cat);
    return rc;
}
