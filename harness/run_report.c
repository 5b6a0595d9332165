/* `infercost run`, stage 4: report. The record as an aligned table with the lines that say what
 * each figure is (text), the same as Markdown, the table alone as CSV, or the record as JSON. */
#define _GNU_SOURCE
#include "run.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ic_config.h"

/* Lines before or after the table: plain text, Markdown bullets, nothing in CSV. */
typedef struct lines {
    FILE *out;
    ic_format fmt;
} lines;

static void line(const lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(const lines *l, const char *fmt, ...) {
    if (l->fmt == IC_FMT_CSV || l->fmt == IC_FMT_JSON) return;
    char buf[2048], esc[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ic_escape_controls(buf, esc, sizeof esc);
    fprintf(l->out, "%s%s\n", l->fmt == IC_FMT_MD ? "- " : "", esc);
}

static double gib(uint64_t b) {
    return (double)b / 1073741824.0;
}

static void fmt_num(char *out, size_t len, double v, int prec) {
    if (!isfinite(v) || v <= 0)
        snprintf(out, len, "-");
    else
        snprintf(out, len, "%.*f", prec, v);
}

static const char *phase_name(const ic_measurement *e) {
    if (e->kind == IC_MEAS_PREFILL) return e->baseline ? "prefill-sgemm" : "prefill";
    return e->kind == IC_MEAS_DECODE ? "decode" : "batch decode";
}

static void print_header(const ic_run_plan *p, const ic_run_data *d, const ic_result *r,
                         const lines *l) {
    char desc[512], where[256];
    ic_model_describe(&p->m, desc, sizeof desc);
    ic_result_measured_on(r, where, sizeof where);
    if (l->fmt == IC_FMT_MD) {
        char esc[4 * sizeof desc]; /* the name may come from a file */
        ic_escape_controls(desc, esc, sizeof esc);
        fprintf(l->out, "### infercost run: %s\n\n", esc);
    } else
        line(l, "infercost run: %s (%s)", desc, p->m.source);
    line(l, "measured on: this host, %s; machine id %s", where,
         r->host.machine_id[0] ? r->host.machine_id
                               : "unavailable: no /etc/machine-id or DMI uuid");
    line(l, "kernels: %s", r->kernels);
    line(l, "KV cache: %s (--kv-dtype), %.4g bytes a value; every figure below ran with it",
         ic_dtype_name(r->kv_dtype), (double)ic_row_bytes(r->kv_dtype, IC_QK) / (double)IC_QK);
    if (d->read_bw.available)
        line(l, "read bandwidth: %.1f GB/s (measured on this host: %s, %d threads; %s)",
             d->read_bw.value, d->read_bw.loop, p->nthreads, d->read_bw.note);
    else
        line(l, "read bandwidth: %s", d->read_bw.note);
    if (d->peak.available)
        line(l, "peak %s: %.1f G%s/s (measured on this host: %s, %d threads)", d->peak_kind,
             d->peak.value, strcmp(d->peak_kind, "int8") == 0 ? "OP" : "FLOP", d->peak.loop,
             p->nthreads);
    else
        line(l, "peak %s: %s", d->peak_kind, d->peak.note);
    line(l,
         "memory: %.2f GiB planned (weights %.2f, KV cache %.2f, activations %.2f); MemAvailable "
         "%.2f GiB",
         gib(p->fb.total), gib(p->fb.weights), gib(p->fb.kv_cache), gib(p->fb.activations),
         gib(p->avail_bytes));
    if (d->prefill_note[0]) line(l, "note: %s", d->prefill_note);
    if (p->k_run < p->m.n_layer)
        line(l,
             "slice: %s; ran %u of %u layers, every tok/s and ms/tok below is extrapolated "
             "from %u of %u layers",
             p->o.layers > 0 ? "--layers given" : "the full model does not fit", p->k_run,
             p->m.n_layer, p->k_run, p->m.n_layer);
    if (l->fmt != IC_FMT_CSV) fputc('\n', l->out);
}

/* The lowest and highest tok/s over the repetitions, scaled like the median. */
static void tok_range(const ic_measurement *e, char *out, size_t len) {
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < e->n_samples; i++) {
        if (!(e->samples_ms[i] > 0)) continue;
        double t = e->tok_per_s * e->median_ms / e->samples_ms[i];
        if (t < lo) lo = t;
        if (t > hi) hi = t;
    }
    if (e->n_samples < 2 || !(hi > 0)) {
        snprintf(out, len, "-");
        return;
    }
    int prec = hi < 10 ? 2 : 1;
    snprintf(out, len, "%.*f-%.*f", prec, lo, prec, hi);
}

static void add_row(const ic_run_plan *p, const ic_result *r, const ic_measurement *e,
                    ic_table *t) {
    char thr[16], ctx[24], n[24], tps[32], rng[48], mss[32], ttft[32], gb[32], bd[32], ef[16],
        usd[32], lat[48], how[160];
    snprintf(thr, sizeof thr, "%d", p->nthreads);
    snprintf(ctx, sizeof ctx, "%ld", e->context);
    snprintf(n, sizeof n, "%ld", e->batch);
    fmt_num(tps, sizeof tps, e->tok_per_s, e->tok_per_s < 10 ? 2 : 1);
    tok_range(e, rng, sizeof rng);
    fmt_num(mss, sizeof mss, e->ms_per_token, 2);
    if (e->kind == IC_MEAS_PREFILL) {
        /* a small model's prompt takes microseconds: three decimals below 1 ms, not "0.0" */
        double ms = e->ms_per_token * (double)e->batch;
        fmt_num(ttft, sizeof ttft, ms, ms < 1 ? 3 : 1);
    } else {
        snprintf(ttft, sizeof ttft, "-");
    }
    if (e->bytes_per_token > 0)
        snprintf(gb, sizeof gb, "%.4g", e->bytes_per_token / 1e9);
    else
        snprintf(gb, sizeof gb, "-");
    fmt_num(bd, sizeof bd, e->bound_tok_per_s, e->bound_tok_per_s < 10 ? 2 : 1);
    if (e->have_bound && isfinite(e->efficiency))
        snprintf(ef, sizeof ef, "%.0f%%", 100 * e->efficiency);
    else
        snprintf(ef, sizeof ef, "-");
    fmt_num(usd, sizeof usd, e->usd_per_mtok, 3);
    if (e->have_latency)
        snprintf(lat, sizeof lat, "%.2f/%.2f", e->p50_ms, e->p99_ms);
    else
        snprintf(lat, sizeof lat, "-");
    ic_priced_label(e->provenance, r->host.instance_type, &p->price, how, sizeof how);
    const char *cells[] = {p->m.name,
                           ic_dtype_name(p->m.dtype),
                           thr,
                           phase_name(e),
                           ctx,
                           n,
                           tps,
                           rng,
                           mss,
                           ttft,
                           gb,
                           bd,
                           e->have_bound ? e->limit : "-",
                           ef,
                           usd,
                           lat,
                           how};
    ic_table_add(t, cells);
}

static void print_table(const ic_run_plan *p, const ic_run_data *d, const ic_result *r,
                        ic_format fmt, FILE *out) {
    static const char *const heads[] = {"model",      "dtype",       "thr",   "phase",  "ctx",
                                        "n",          "tok/s",       "range", "ms/tok", "TTFT ms",
                                        "GB/tok",     "bound tok/s", "limit", "eff",    "$/Mtok",
                                        "p50/p99 ms", "how"};
    ic_table *t = ic_table_new(17, heads, "lllllrrrrrrrlrrrl");
    if (t == NULL) return;
    size_t k = 0;
    for (int i = 0; i < d->n_ms; i++) {
        const ic_run_meas *x = &d->ms[i];
        if (x->skipped || !x->have_median) {
            char thr[16], ctx[24], n[24];
            snprintf(thr, sizeof thr, "%d", p->nthreads);
            snprintf(ctx, sizeof ctx, "%zu", x->kind == IC_MEAS_PREFILL ? (size_t)0 : x->context);
            snprintf(n, sizeof n, "%zu", x->batch);
            const char *why = x->skipped ? x->skip_message : "unavailable: no measurement";
            const char *cells[] = {
                p->m.name, ic_dtype_name(p->m.dtype),
                thr,       x->baseline ? "prefill-sgemm" : ic_meas_kind_name(x->kind),
                ctx,       n,
                "-",       "-",
                "-",       "-",
                "-",       "-",
                "-",       "-",
                "-",       "-",
                why};
            ic_table_add(t, cells);
            continue;
        }
        add_row(p, r, &r->meas[k++], t);
    }
    ic_table_print(t, fmt, out);
    ic_table_free(t);
}

static void print_pairs(const ic_run_data *d, const ic_result *r, const lines *l) {
    if (d->pair_loop == NULL) {
        if (d->pair_note[0]) line(l, "note: %s", d->pair_note);
        return;
    }
    line(l,
         "decode bound: the best read this run saw (measured on this host), from the standalone "
         "probe or from a read pass (%s over %.2f GiB of the weights) taken just before each "
         "repetition",
         d->pair_loop->name, gib(d->pair_bytes));
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *e = &r->meas[i];
        if (e->n_paired == 0) continue;
        double v[IC_RESULT_MAX_SAMPLES];
        memcpy(v, e->paired_read_gbs, sizeof(double) * (size_t)e->n_paired);
        double lo = v[0], hi = v[0];
        for (int j = 1; j < e->n_paired; j++) {
            if (v[j] < lo) lo = v[j];
            if (v[j] > hi) hi = v[j];
        }
        /* median by insertion sort: at most 64 values */
        for (int a = 1; a < e->n_paired; a++)
            for (int b = a; b > 0 && v[b] < v[b - 1]; b--) {
                double t = v[b];
                v[b] = v[b - 1];
                v[b - 1] = t;
            }
        int n = e->n_paired;
        double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        char what[64];
        if (e->kind == IC_MEAS_BATCH_DECODE)
            snprintf(what, sizeof what, "batch decode n %ld ctx %ld", e->batch, e->context);
        else
            snprintf(what, sizeof what, "decode ctx %ld", e->context);
        line(l,
             "  %s: passes beside the repetitions %.1f GB/s median (%.1f to %.1f, %d passes), "
             "bound from %.1f GB/s%s",
             what, med, lo, hi, n, e->read_bw_gbs,
             med < 0.85 * e->read_bw_gbs
                 ? ": the machine was busy (the median pass is under 85% of the best), so tok/s "
                   "and eff are low; run again on a quiet machine"
                 : "");
    }
}

static void print_op_shares(const ic_run_plan *p, const ic_run_data *d, const ic_result *r,
                            const lines *l) {
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *e = &r->meas[i];
        if (!e->have_op_share) continue;
        int order[IC_FOP_COUNT];
        for (int j = 0; j < IC_FOP_COUNT; j++) order[j] = j;
        for (int a = 1; a < IC_FOP_COUNT; a++)
            for (int b = a; b > 0 && e->op_share[order[b]] > e->op_share[order[b - 1]]; b--) {
                int t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        char buf[1024];
        int n = 0;
        for (int j = 0; j < IC_FOP_COUNT && n < (int)sizeof buf - 64; j++)
            if (e->op_share[order[j]] >= 0.005)
                n += snprintf(buf + n, sizeof buf - (size_t)n, " %s %.1f%%",
                              ic_fop_name((ic_fop)order[j]), 100 * e->op_share[order[j]]);
        const char *part = p->k_run < p->m.n_layer ? "in the layers run" : NULL;
        if (e->kind == IC_MEAS_PREFILL)
            line(l, "prefill op share, %ld tokens (measured, %s):%s", e->batch,
                 part ? part : "whole prompt", buf);
        else
            line(l, "decode op share at ctx %ld (measured, %s):%s", e->context,
                 part ? part : "whole token", buf);
        double step_ns = e->median_ms * 1e6;
        if (e->kind == IC_MEAS_DECODE && step_ns > 0) /* the clock reads are a decode step's */
            line(l, "  timing: %llu clock reads per token at ~%.0f ns each = %.3f%% of the token",
                 (unsigned long long)d->clock_reads_per_step, d->clock_read_ns,
                 100.0 * (double)d->clock_reads_per_step * d->clock_read_ns / step_ns);
    }
}

static void print_notes(const ic_run_plan *p, const ic_run_data *d, const ic_result *r,
                        const lines *l) {
    int slice = p->k_run < p->m.n_layer;
    char price[1200];
    ic_priced_describe(&p->price, price, sizeof price);
    if (l->fmt != IC_FMT_CSV) fputc('\n', l->out);
    line(l,
         "tok/s, ms/tok: %s (Google Benchmark, median of %d repetitions; range: the lowest and "
         "highest repetition; one iteration = one token for decode, one prompt for prefill, one "
         "step of n sequences for batch decode; ms/tok is per token for prefill and per sequence "
         "for decode; TTFT ms: the whole prompt; p50/p99 ms: percentiles of every step's time in "
         "the timed repetitions)",
         slice ? "extrapolated from a slice of the layers" : "measured on this host",
         p->o.repetitions);
    line(l,
         "GB/tok: modeled bytes read per token: the weights once per forward pass, shared by the "
         "tokens it produces (n for prefill and batch decode), plus each sequence's KV cache at "
         "ctx, in its type (%s)",
         ic_dtype_name(r->kv_dtype));
    line(l,
         "bound: modeled = measured read bandwidth / GB/tok for decode; for prefill%s the lower "
         "of that and measured peak %s / FLOP per token (limit: which)",
         p->o.n_batches ? " and batch decode" : "", d->peak_kind);
    print_pairs(d, r, l);
    if (p->o.blas || p->blas_note[0])
        line(l,
             "prefill-sgemm: the same f32 model with its prefill GEMMs through OpenBLAS "
             "cblas_sgemm (%s)%s%s",
             IC_HAVE_OPENBLAS ? "OpenBLAS threads = --threads" : "no OpenBLAS",
             p->blas_note[0] ? "; " : "", p->blas_note);
    line(l, "$/Mtok: %s", price);
    if (ic_priced_elsewhere(r->host.instance_type, &p->price)) {
        char where[256];
        ic_result_measured_on(r, where, sizeof where);
        line(l,
             "  measured on this host (%s), priced as %s: the $/Mtok is what this throughput "
             "would cost at that type's price, not a measurement of a %s",
             where, p->price.price.instance_type, p->price.price.instance_type);
    }
    print_op_shares(p, d, r, l);
}

void ic_run_report(const ic_run_plan *p, const ic_run_data *d, const ic_result *r, ic_format fmt,
                   FILE *out) {
    if (fmt == IC_FMT_JSON) {
        json_t *j = ic_result_to_json(r);
        ic_report_json(j, out);
        json_decref(j);
        return;
    }
    lines l = {out, fmt};
    print_header(p, d, r, &l);
    print_table(p, d, r, fmt, out);
    print_notes(p, d, r, &l);
}
