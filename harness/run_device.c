/* `infercost run --device cuda`: the decode and prefill of the CPU path on an offload backend
 * (kernels/offload/ic_offload.h), in the same stages:
 *   plan     the model, the lists, the device's memory checked against the backend's plan
 *   measure  the device's own ceilings (a read of device memory, a large bf16 GEMM), then one
 *            Google Benchmark figure per decode (context x batch) and prompt, each iteration
 *            timed by the device (events on its stream) and reported as manual time
 *   analyze  a result record (result.h) whose env.device names the device, against the measured
 *            ceilings; chips.tsv's figures beside them
 *   report   the table, or the record as JSON; --json writes it
 * Prices: a device is priced as its share of the instance (--instance, else the DMI type): the
 * instance's hourly price over its device count, stated as such. */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "gbench.h"
#include "ic_offload.h"
#include "report.h"
#include "roofline.h"
#include "run.h"

#define DEV_MAX_FIG (IC_RUN_MAX_LIST * IC_RUN_MAX_LIST + IC_RUN_MAX_LIST)

typedef struct dev_run dev_run;

typedef struct dev_fig {
    dev_run *owner;
    ic_meas_kind kind;
    size_t context, batch; /* batch: sequences, or prompt tokens for prefill */
    char name[96];
    double samples_ns[IC_RESULT_MAX_SAMPLES];
    int n_samples;
    double median_ns, stddev_ns;
    int have_median, skipped;
    char skip_message[200];
} dev_fig;

struct dev_run {
    ic_run_opts o;
    const ic_offload_ops *b;
    ic_offload_info info;
    ic_offload_ctx *ctx;
    ic_model m;
    ic_offload_shape shape;
    double read_gbs, peak_tflops;
    dev_fig figs[DEV_MAX_FIG];
    int n_figs;
    char err[512]; /* the first device error inside a benchmark body */
};

/* ---- plan ---- */

static size_t list_max(const size_t *v, int n) {
    size_t m = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

static int plan(dev_run *d) {
    ic_run_opts *o = &d->o;
    char err[1024];
    int dtype = o->dtype >= 0 ? o->dtype : (int)IC_DT_BF16;
    if (o->kv_dtype != IC_DT_F16) {
        ic_error("run --device %s keeps its KV cache in f16 (kernels/offload/%s); --kv-dtype %s "
                 "is for the CPU forward pass",
                 d->b->name, d->b->name, ic_dtype_name(o->kv_dtype));
        return IC_EXIT_USAGE;
    }
    if (ic_model_load(o->model_spec, dtype, &d->m, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    if (o->n_contexts == 0) {
        o->contexts[0] = 128;
        o->contexts[1] = o->quick ? 512 : 4096;
        o->n_contexts = 2;
    }
    if (o->n_batches == 0) {
        o->batches[0] = 1;
        o->n_batches = 1;
    }
    if (!o->prefill_given) {
        o->prompts[0] = o->quick ? 16 : 64;
        o->n_prompts = 1;
    }
    if (o->repetitions == 0) o->repetitions = o->quick ? 3 : 5;
    const ic_model *m = &d->m;
    d->shape = (ic_offload_shape){.n_layer = m->n_layer,
                                  .d_model = m->d_model,
                                  .n_head = m->n_head,
                                  .n_head_kv = m->n_head_kv,
                                  .head_dim = m->head_dim,
                                  .d_ff = m->d_ff,
                                  .n_vocab = m->n_vocab,
                                  .n_expert = m->n_expert,
                                  .n_expert_used = m->n_expert_used,
                                  .rope_theta = m->rope_theta,
                                  .norm_eps = m->norm_eps,
                                  .tied_embeddings = m->tied_embeddings,
                                  .dtype = m->dtype,
                                  .max_ctx = (uint32_t)list_max(o->contexts, o->n_contexts) + 1,
                                  .max_batch = (uint32_t)list_max(o->batches, o->n_batches),
                                  .max_prompt = (uint32_t)list_max(o->prompts, o->n_prompts),
                                  .seed = o->seed};
    uint64_t need = d->b->plan_bytes ? d->b->plan_bytes(&d->shape) : 0;
    if (d->info.mem_bytes && need > d->info.mem_bytes) {
        ic_error("run --device %s: %s %s needs %.2f GiB of device memory (weights, KV cache of %u "
                 "sequences x %u positions, activations); %s has %.2f GiB",
                 d->b->name, m->name, ic_dtype_name(m->dtype), need / 1073741824.0,
                 d->shape.max_batch, d->shape.max_ctx, d->info.device,
                 d->info.mem_bytes / 1073741824.0);
        return IC_EXIT_USAGE;
    }
    if (o->json_path && ic_result_check_writable(o->json_path, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    return 0;
}

/* ---- measure ---- */

/* One figure: each iteration enqueues one decode step (or one prefill) between the device's
 * timer marks; the device's time is the iteration's manual time. */
static void body(ic_bench_state *st, void *user) {
    dev_fig *f = user;
    dev_run *d = f->owner;
    char err[400];
    int rc = 0;
    while (rc == 0 && ic_bench_keep_running(st)) {
        double s = 0;
        rc = d->b->timer_begin(d->ctx, err, sizeof err);
        if (rc == 0)
            rc = f->kind == IC_MEAS_PREFILL
                     ? d->b->prefill(d->ctx, (uint32_t)f->batch, err, sizeof err)
                     : d->b->decode(d->ctx, (uint32_t)f->batch, (uint32_t)f->context, err,
                                    sizeof err);
        if (rc == 0) rc = d->b->timer_end(d->ctx, &s, err, sizeof err);
        if (rc == 0) ic_bench_set_iteration_time(st, s);
    }
    if (rc) {
        if (!d->err[0]) snprintf(d->err, sizeof d->err, "%s: %s", f->name, err);
        ic_bench_skip(st, err);
    }
}

static void hook(const ic_bench_report *r, void *user) {
    dev_run *d = user;
    for (int i = 0; i < d->n_figs; i++) {
        dev_fig *f = &d->figs[i];
        size_t len = strlen(f->name);
        const char *rest = r->name + len;
        if (strncmp(r->name, f->name, len) != 0 || (*rest && *rest != '/' && *rest != '_'))
            continue;
        if (r->skipped) {
            f->skipped = 1;
            snprintf(f->skip_message, sizeof f->skip_message, "%s",
                     r->skip_message ? r->skip_message : "skipped");
        } else if (r->aggregate == NULL) {
            if (f->n_samples < IC_RESULT_MAX_SAMPLES)
                f->samples_ns[f->n_samples++] = r->real_time_ns;
        } else if (strcmp(r->aggregate, "median") == 0) {
            f->median_ns = r->real_time_ns;
            f->have_median = 1;
        } else if (strcmp(r->aggregate, "stddev") == 0) {
            f->stddev_ns = r->real_time_ns;
        }
        return;
    }
}

static dev_fig *add_fig(dev_run *d, ic_meas_kind kind, size_t context, size_t batch) {
    dev_fig *f = &d->figs[d->n_figs++];
    memset(f, 0, sizeof *f);
    f->owner = d;
    f->kind = kind;
    f->context = context;
    f->batch = batch;
    if (kind == IC_MEAS_PREFILL)
        snprintf(f->name, sizeof f->name, "device/%s/prefill/n:%zu", d->b->name, batch);
    else
        snprintf(f->name, sizeof f->name, "device/%s/decode/ctx:%zu/n:%zu", d->b->name, context,
                 batch);
    return f;
}

static int measure(dev_run *d) {
    char err[512];
    ic_run_opts *o = &d->o;
    uint64_t probe_bytes = d->info.mem_bytes ? d->info.mem_bytes / 16 : (1ull << 30);
    if (probe_bytes > (2ull << 30)) probe_bytes = 2ull << 30;
    if (d->b->read_probe(d->ctx, probe_bytes, 20, &d->read_gbs, err, sizeof err) ||
        d->b->gemm_probe(d->ctx, 8192, 10, &d->peak_tflops, err, sizeof err)) {
        ic_error("run --device %s: a ceiling probe failed: %s", d->b->name, err);
        return IC_EXIT_FAIL;
    }
    for (int c = 0; c < o->n_contexts; c++)
        for (int b = 0; b < o->n_batches; b++)
            add_fig(d, o->batches[b] > 1 ? IC_MEAS_BATCH_DECODE : IC_MEAS_DECODE, o->contexts[c],
                    o->batches[b]);
    for (int p = 0; p < o->n_prompts; p++) add_fig(d, IC_MEAS_PREFILL, 0, o->prompts[p]);
    ic_bench_config bc = {.repetitions = o->repetitions, .manual_time = 1, .min_time_s = 0.2};
    for (int i = 0; i < d->n_figs; i++)
        if (ic_bench_register(d->figs[i].name, body, &d->figs[i], &bc, err, sizeof err)) {
            ic_error("%s", err);
            ic_bench_clear();
            return IC_EXIT_FAIL;
        }
    ic_bench_set_display(IC_BENCH_DISPLAY_NONE);
    int n = ic_bench_run(o->bench_argc, o->bench_argv, hook, d, err, sizeof err);
    ic_bench_clear();
    if (n < 0) {
        ic_error("%s", err);
        return n == IC_BENCH_BAD_FLAGS ? IC_EXIT_USAGE : IC_EXIT_FAIL;
    }
    if (d->err[0]) {
        ic_error("run --device %s: %s", d->b->name, d->err);
        return IC_EXIT_FAIL;
    }
    return 0;
}

/* ---- analyze ---- */

static void fill_measurement(const dev_run *d, const dev_fig *f, ic_measurement *x) {
    const ic_model *m = &d->m;
    double step_s = f->median_ns * 1e-9;
    x->kind = f->kind;
    x->context = (long)f->context;
    x->batch = (long)f->batch;
    x->provenance = IC_PROV_MEASURED;
    x->tok_per_s = (double)f->batch / step_s;
    x->ms_per_token = f->kind == IC_MEAS_PREFILL ? step_s * 1e3 / f->batch : step_s * 1e3;
    x->median_ms = f->median_ns * 1e-6;
    x->stddev_ms = f->stddev_ns * 1e-6;
    x->n_samples = f->n_samples;
    for (int i = 0; i < f->n_samples; i++) x->samples_ms[i] = f->samples_ns[i] * 1e-6;
    x->usd_per_mtok = NAN;
    /* the device's ceilings through the one roofline; its KV cache is f16 */
    const ic_roof roof = ic_roofline(m, IC_DT_F16, f->kind, (long)f->context, (long)f->batch,
                                     d->read_gbs, d->peak_tflops * 1e3);
    x->bytes_per_token = roof.bytes_per_token;
    x->flop_per_token = roof.flop_per_token;
    x->bound_tok_per_s = roof.bound_tok_per_s;
    snprintf(x->limit, sizeof x->limit, "%s", roof.limit);
    x->read_bw_gbs = d->read_gbs;
    snprintf(x->read_bw_source, sizeof x->read_bw_source, "device read probe (%s)", d->b->name);
    x->have_bound = x->bound_tok_per_s > 0;
    x->efficiency = x->have_bound ? x->tok_per_s / x->bound_tok_per_s : 0;
}

static int analyze(const dev_run *d, ic_result *r) {
    memset(r, 0, sizeof *r);
    ic_result_stamp(r);
    snprintf(r->lib_benchmark, sizeof r->lib_benchmark, "%s", ic_bench_library_version());
    snprintf(r->bind, sizeof r->bind, "none");
    ic_host_identify(&r->host);
    r->model = d->m;
    r->kv_dtype = IC_DT_F16; /* the device's cache (fill_measurement counts it so) */
    r->n_layer_run = d->m.n_layer;
    r->weight_bytes_per_token = (double)ic_model_weight_bytes_per_token(&d->m);
    r->flop_per_token = ic_model_flop_per_token(&d->m, 0);
    r->threads = 1;
    snprintf(r->device_backend, sizeof r->device_backend, "%s", d->b->name);
    snprintf(r->device_name, sizeof r->device_name, "%s", d->info.device);
    snprintf(r->device_runtime, sizeof r->device_runtime, "%s", d->info.runtime);
    r->device_count = 1;
    snprintf(r->kernels, sizeof r->kernels, "%s backend (kernels/offload/%s)", d->b->name,
             d->b->name);
    r->read_bw = (ic_ceiling){.available = 1, .value = d->read_gbs};
    snprintf(r->read_bw.loop, sizeof r->read_bw.loop, "device_read_%s", d->b->name);
    r->peak = (ic_ceiling){.available = 1, .value = d->peak_tflops * 1e3};
    snprintf(r->peak.loop, sizeof r->peak.loop, "gemm_bf16_%s", d->b->name);
    snprintf(r->peak_kind, sizeof r->peak_kind, "bf16");
    for (int i = 0; i < d->n_figs; i++) {
        if (!d->figs[i].have_median) continue;
        ic_measurement *x = ic_result_add(r);
        if (!x) return IC_EXIT_FAIL;
        fill_measurement(d, &d->figs[i], x);
    }
    return 0;
}

/* The device's share of an instance's price: --instance, else the DMI type; 0 when neither. */
static double device_price(const dev_run *d, const ic_catalog *cat, char *what, size_t len) {
    const char *type = d->o.price.instance;
    ic_host_id here;
    ic_host_identify(&here);
    if (!type && here.instance_type[0]) type = here.instance_type;
    const ic_instance_info *ii = type ? ic_catalog_instance(cat, type) : NULL;
    ic_price pr;
    char err[512];
    if (!ii || ii->accelerators <= 0 ||
        ic_price_lookup(cat, type, d->o.price.region, d->o.price.pricing, &pr, err, sizeof err)) {
        snprintf(what, len, "no price: give --instance T (an accelerator instance type)");
        return 0;
    }
    snprintf(what, len, "%s %s %.4f usd/h / %d devices = %.4f usd/h per device (%s, %s)", type,
             d->o.price.region, pr.usd_per_hour, ii->accelerators,
             pr.usd_per_hour / ii->accelerators, pr.source, pr.date);
    return pr.usd_per_hour / ii->accelerators;
}

/* chips.tsv's figures for the device, by its name ("H100" -> h100-sxm, "H200" -> h200). */
static const ic_chip_info *device_chip(const ic_catalog *cat, const char *device) {
    if (strstr(device, "H200")) return ic_catalog_chip(cat, "h200");
    if (strstr(device, "H100")) return ic_catalog_chip(cat, "h100-sxm");
    return NULL;
}

/* ---- report ---- */

static void report(const dev_run *d, ic_result *r, const ic_catalog *cat) {
    char what[400] = "no catalog";
    /* The device's share of the price is printed, never recorded: the record's pricing block is
     * an instance's, and a reader would price one device's figures as the whole instance. */
    double usd_h = cat ? device_price(d, cat, what, sizeof what) : 0;
    if (d->o.format == IC_FMT_JSON) {
        json_t *j = ic_result_to_json(r);
        if (j) ic_report_json(j, stdout);
        json_decref(j);
        return;
    }
    const ic_chip_info *ch = cat ? device_chip(cat, d->info.device) : NULL;
    const char *b = d->o.format == IC_FMT_MD ? "- " : "";
    char desc[400];
    ic_model_describe(&d->m, desc, sizeof desc);
    if (d->o.format != IC_FMT_CSV) {
        printf("%smeasured on %s (%s, %s); %s; KV cache f16\n", b, d->info.device, d->b->label,
               d->info.runtime, desc);
        printf("%sceilings, measured here: device read %.0f GB/s, bf16 GEMM %.0f TFLOP/s\n", b,
               d->read_gbs, d->peak_tflops);
        if (ch)
            printf("%schips.tsv %s: %.0f GB/s, %.0f TFLOP/s dense bf16 (cited, not measured)\n", b,
                   ch->name, ch->peak_mem_bw_gbs, ch->peak_bf16_tflops);
        else
            printf("%schips.tsv has no row for this device\n", b);
        printf("%sprice: %s\n", b, what);
        if (d->o.format == IC_FMT_MD) putchar('\n');
    }
    static const char *const heads[] = {"kind",  "context", "batch", "tok/s",    "ms/token",
                                        "bound", "eff",     "limit", "usd/Mtok", "how"};
    ic_table *t = ic_table_new(10, heads, "lrrrrrrlrl");
    for (size_t i = 0; t && i < r->n_meas; i++) {
        const ic_measurement *x = &r->meas[i];
        char ctx[24], bat[24], tps[32], ms[32], bound[32], eff[16], usd[32];
        snprintf(ctx, sizeof ctx, "%ld", x->context);
        snprintf(bat, sizeof bat, "%ld", x->batch);
        snprintf(tps, sizeof tps, "%.1f", x->tok_per_s);
        snprintf(ms, sizeof ms, "%.3f", x->ms_per_token);
        snprintf(bound, sizeof bound, "%.1f", x->bound_tok_per_s);
        snprintf(eff, sizeof eff, "%.2f", x->efficiency);
        if (usd_h > 0)
            snprintf(usd, sizeof usd, "%.4f", ic_usd_per_mtok(usd_h, x->tok_per_s));
        else
            snprintf(usd, sizeof usd, "-");
        const char *cells[] = {
            ic_meas_kind_name(x->kind),       ctx, bat, tps, ms, bound, eff, x->limit, usd,
            ic_provenance_name(x->provenance)};
        ic_table_add(t, cells);
    }
    if (t) ic_table_print(t, d->o.format, stdout);
    ic_table_free(t);
    for (int i = 0; i < d->n_figs; i++)
        if (d->figs[i].skipped)
            printf("%s%s: skipped: %s\n", b, d->figs[i].name, d->figs[i].skip_message);
}

int ic_run_device(ic_run_opts *o, const ic_offload_ops *b) {
    char err[1024];
    dev_run *d = calloc(1, sizeof *d);
    if (!d) {
        ic_error("out of memory");
        return IC_EXIT_FAIL;
    }
    d->o = *o;
    d->b = b;
    b->probe(&d->info);
    int rc = plan(d);
    if (rc == 0 && b->init(0, &d->ctx, err, sizeof err)) {
        ic_error("run --device %s: %s", b->name, err);
        rc = IC_EXIT_FAIL;
    }
    if (rc == 0 && b->load(d->ctx, &d->shape, err, sizeof err)) {
        ic_error("run --device %s: %s", b->name, err);
        rc = IC_EXIT_FAIL;
    }
    if (rc == 0) rc = measure(d);
    ic_result r;
    memset(&r, 0, sizeof r);
    if (rc == 0) rc = analyze(d, &r);
    ic_catalog cat;
    int have_cat = rc == 0 && ic_catalog_load(&cat, o->price.catalog_dir, err, sizeof err) == 0;
    if (rc == 0) report(d, &r, have_cat ? &cat : NULL);
    if (rc == 0 && o->json_path) {
        if (r.n_meas == 0) {
            ic_error("--json %s: nothing was measured; the file was not written", o->json_path);
            rc = IC_EXIT_FAIL;
        } else if (ic_result_write(&r, o->json_path, err, sizeof err)) {
            ic_error("%s", err);
            rc = IC_EXIT_FAIL;
        }
    }
    if (have_cat) ic_catalog_free(&cat);
    ic_result_free(&r);
    if (d->ctx) b->fini(d->ctx);
    free(d);
    return rc;
}
