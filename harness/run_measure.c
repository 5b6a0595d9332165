/* `infercost run`, stage 2: measure. This host's ceilings, then the forward pass on synthetic
 * weights, one Google Benchmark figure per phase, context and batch. Nothing here computes a
 * derived figure: analyze does. */
#define _GNU_SOURCE
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "gbench.h"
#include "topology.h"

static double gib(uint64_t b) {
    return (double)b / 1073741824.0;
}

/* ---- ceilings ---- */

/* Fills c from one probe: the measured value, or "unavailable: <why>". */
static void probe_one(ic_pool *pool, ic_probe_kind kind, double min_s, ic_ceiling *c) {
    char err[256];
    ic_probe_result r;
    memset(c, 0, sizeof *c);
    memset(&r, 0, sizeof r);
    if (ic_probe_measure(pool, kind, 0, min_s, &r, err, sizeof err) != 0) {
        snprintf(c->note, sizeof c->note, "unavailable: %s", err);
    } else if (!r.available) {
        snprintf(c->note, sizeof c->note, "%s%s",
                 strncmp(r.note, "unavailable", 11) == 0 ? "" : "unavailable: ", r.note);
    } else {
        c->available = 1;
        c->value = r.value;
        snprintf(c->loop, sizeof c->loop, "%s", r.loop ? r.loop : "?");
        snprintf(c->note, sizeof c->note, "%s", r.note);
    }
}

/* The read bandwidth, and the peak of the arithmetic the prefill GEMM does: int8 dot products
 * for q8_0/q4_0 (activations in q8_0), bf16 for a bf16-activation GEMM, else f32 FMA. Run first,
 * so that their buffers are gone before the model is allocated. */
static void measure_ceilings(ic_run_plan *p, ic_run_data *d) {
    ic_dtype atype = p->ks.gemm->atype;
    double min_s = p->o.quick ? 0.05 : 0.3;
    d->peak_kind = atype == IC_DT_F32 ? "f32" : atype == IC_DT_BF16 ? "bf16" : "int8";
    if (p->progress)
        fprintf(stderr, "infercost run: measuring this host's read bandwidth and peak\n");
    probe_one(p->pool, IC_PROBE_READ, min_s, &d->read_bw);
    probe_one(p->pool,
              atype == IC_DT_F32    ? IC_PROBE_F32
              : atype == IC_DT_BF16 ? IC_PROBE_BF16
                                    : IC_PROBE_INT8,
              min_s, &d->peak);
}

/* Read passes paired with the decode repetitions, over the weights themselves, when there are
 * enough of them not to sit in the last-level cache; at most 2 GiB a pass. */
static void plan_pairs(ic_run_data *d) {
    d->pair_loop = d->read_bw.available ? ic_probe_best_loop(IC_PROBE_READ) : NULL;
    size_t wbytes = 0;
    ic_forward_weights(d->f, &wbytes);
    size_t llc = ic_topology_llc_bytes(ic_topology_get());
    size_t floor_b = llc;
    if (floor_b < ((size_t)256 << 20)) floor_b = (size_t)256 << 20;
    if (floor_b > ((size_t)2 << 30)) floor_b = (size_t)2 << 30;
    if (d->pair_loop && wbytes < floor_b) {
        snprintf(d->pair_note, sizeof d->pair_note,
                 "no read passes beside the repetitions: %zu MiB of weights could sit in the %zu "
                 "MiB cache; the bound uses the standalone probe",
                 wbytes >> 20, llc >> 20);
        d->pair_loop = NULL;
    }
    d->pair_bytes = wbytes > ((size_t)2 << 30) ? (size_t)2 << 30 : wbytes;
}

long ic_run_prefill_fit(long asked, double step_s, int reps, double budget_s) {
    if (asked <= 4 || !(step_s > 0) || reps < 1 || step_s * (double)asked * reps <= budget_s)
        return asked;
    const double fit = budget_s / (step_s * reps);
    long n = (long)fit; /* below asked: the product above exceeds the budget */
    n = n >= 16 ? n / 16 * 16 : n / 4 * 4;
    return n < 4 ? 4 : n;
}

/* A token before the figures, at position 0 (every cache holds it), touches the pages and warms
 * the caches. Where the prefill is the default, a second one tells how slow these kernels are,
 * and the prefill is shortened to stay near a time budget (the reference kernels are slow).
 * Timing the first instead counted its page faults: a bf16 run's first token took 157 ms against
 * 81 for the next, and a default prefill of 64 tokens came out at 36. */
static void warm_up(ic_run_plan *p, ic_run_data *d) {
    ic_forward_decode(d->f, 1, 0);
    ic_run_opts *o = &p->o;
    if (o->prefill_given || o->prefill <= 4) return; /* nothing to shorten */
    const double t0 = ic_now_s();
    ic_forward_decode(d->f, 1, 0);
    const double t1 = ic_now_s() - t0;
    const long n = ic_run_prefill_fit(o->prefill, t1, o->repetitions, o->quick ? 6.0 : 30.0);
    if (n >= o->prefill) return;
    snprintf(d->prefill_note, sizeof d->prefill_note,
             "prefill shortened from %ld to %ld tokens: one decode step takes %.0f ms with these "
             "kernels (--prefill N sets it)",
             o->prefill, n, t1 * 1e3);
    d->prefill_asked = o->prefill;
    o->prefill = n;
    o->prompts[0] = (size_t)n; /* a default run has one prompt */
}

/* ---- the figures ---- */

static void add_meas(ic_run_data *d, ic_meas_kind kind, int baseline, size_t context,
                     size_t batch) {
    ic_run_meas *x = &d->ms[d->n_ms++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->baseline = baseline;
    x->context = context;
    x->batch = batch;
    if (kind == IC_MEAS_PREFILL)
        snprintf(x->bench_name, sizeof x->bench_name, "%s/n:%zu",
                 baseline ? "prefill_openblas" : "prefill", batch);
    else if (kind == IC_MEAS_DECODE)
        snprintf(x->bench_name, sizeof x->bench_name, "decode/ctx:%zu", context);
    else
        snprintf(x->bench_name, sizeof x->bench_name, "batch_decode/b:%zu/ctx:%zu", batch, context);
}

static void list_figures(const ic_run_plan *p, ic_run_data *d) {
    const ic_run_opts *o = &p->o;
    for (int i = 0; i < o->n_prompts; i++) {
        add_meas(d, IC_MEAS_PREFILL, 0, 0, o->prompts[i]);
        if (o->blas) add_meas(d, IC_MEAS_PREFILL, 1, 0, o->prompts[i]);
    }
    for (int i = 0; i < o->n_contexts; i++) add_meas(d, IC_MEAS_DECODE, 0, o->contexts[i], 1);
    for (int c = 0; c < o->n_contexts; c++)
        for (int i = 0; i < o->n_batches; i++)
            add_meas(d, IC_MEAS_BATCH_DECODE, 0, o->contexts[c], o->batches[i]);
}

/* What a benchmark body needs: the forward pass it drives and where its figure goes. */
typedef struct body_arg {
    ic_forward *f;
    ic_run_meas *m;
    ic_run_data *d;
    ic_pool *pool;
} body_arg;

static void accumulate_ops(const body_arg *a, double steps) {
    double ns[IC_FOP_COUNT];
    ic_forward_op_ns(a->f, ns);
    for (int i = 0; i < IC_FOP_COUNT; i++) a->m->op_ns[i] += ns[i];
    a->m->layers_ns += ic_forward_layers_ns(a->f);
    a->m->timed_steps += steps;
}

/* A read pass over the weights just before a timed loop: the bandwidth the machine gives now. */
static double pair_begin(const body_arg *a) {
    const ic_run_data *d = a->d;
    if (d->pair_loop == NULL) return 0;
    const void *buf = ic_forward_weights(a->f, &(size_t){0});
    return ic_probe_read_pass(a->pool, d->pair_loop, buf, d->pair_bytes);
}

static void pair_end(const body_arg *a, double gbs, int64_t n) {
    ic_run_meas *m = a->m;
    if (gbs <= 0 || n <= 0 || m->n_pairs >= IC_RESULT_MAX_SAMPLES) return;
    m->pair_gbs[m->n_pairs] = gbs;
    m->pair_iters[m->n_pairs] = n;
    m->n_pairs++;
}

/* Each step's time, for latency percentiles: kept only for the calls that ran the final iteration
 * count (Google Benchmark's first calls size the loop). A full buffer stops recording. */
static void step_record(ic_run_meas *m, double ns) {
    if (m->n_steps == m->cap_steps) {
        size_t cap = m->cap_steps ? m->cap_steps * 2 : 4096;
        double *n = cap <= ((size_t)1 << 22) ? realloc(m->step_ns, cap * sizeof *n) : NULL;
        if (n == NULL) return;
        m->step_ns = n;
        m->cap_steps = cap;
    }
    m->step_ns[m->n_steps++] = ns;
}

static void steps_end(ic_run_meas *m, size_t start, int64_t iters) {
    if (iters < m->steps_iters) {
        m->n_steps = start; /* a sizing call: not a timed repetition */
    } else if (iters > m->steps_iters) {
        memmove(m->step_ns, m->step_ns + start, (m->n_steps - start) * sizeof *m->step_ns);
        m->n_steps -= start;
        m->steps_iters = iters;
    }
}

/* One iteration is one token of one sequence. */
static void body_decode(ic_bench_state *st, void *user) {
    body_arg *a = user;
    ic_forward_reset_op_ns(a->f);
    uint32_t token = 1;
    int64_t n = 0;
    const size_t start = a->m->n_steps;
    const double gbs = pair_begin(a);
    while (ic_bench_keep_running(st)) {
        double t0 = ic_now_ns();
        if (ic_forward_decode(a->f, token, a->m->context) == NULL) {
            ic_bench_skip(st, "decode position past the KV cache");
            return;
        }
        step_record(a->m, ic_now_ns() - t0);
        token = token * 1103515245u + 12345u;
        n++;
    }
    steps_end(a->m, start, n);
    pair_end(a, gbs, n);
    ic_bench_set_items_processed(st, n);
    accumulate_ops(a, (double)n);
}

/* One iteration is one prompt. */
static void body_prefill(ic_bench_state *st, void *user) {
    body_arg *a = user;
    static uint32_t tokens[65536];
    for (size_t i = 0; i < a->m->batch && i < 65536; i++) tokens[i] = (uint32_t)(i * 7919u + 3);
    ic_forward_reset_op_ns(a->f);
    int64_t n = 0;
    while (ic_bench_keep_running(st)) {
        if (ic_forward_prefill(a->f, tokens, a->m->batch) == NULL) {
            ic_bench_skip(st, "prefill longer than the KV cache");
            return;
        }
        n++;
    }
    ic_bench_set_items_processed(st, n * (int64_t)a->m->batch);
    accumulate_ops(a, (double)n);
}

/* One iteration is one step of `batch` sequences. */
static void body_batch(ic_bench_state *st, void *user) {
    body_arg *a = user;
    uint32_t tokens[4096];
    for (size_t i = 0; i < a->m->batch && i < 4096; i++) tokens[i] = (uint32_t)(i * 31u + 5);
    ic_forward_reset_op_ns(a->f);
    int64_t n = 0;
    const size_t start = a->m->n_steps;
    const double gbs = pair_begin(a);
    while (ic_bench_keep_running(st)) {
        double t0 = ic_now_ns();
        if (ic_forward_decode_batch(a->f, tokens, a->m->batch, a->m->context) == NULL) {
            ic_bench_skip(st, "batch larger than planned");
            return;
        }
        step_record(a->m, ic_now_ns() - t0);
        n++;
    }
    steps_end(a->m, start, n);
    pair_end(a, gbs, n);
    ic_bench_set_items_processed(st, n * (int64_t)a->m->batch);
    accumulate_ops(a, (double)n);
}

typedef struct hook_ctx {
    ic_run_data *d;
    int progress;
} hook_ctx;

/* Each repetition and aggregate Google Benchmark reports, into its figure. */
static void hook(const ic_bench_report *r, void *user) {
    hook_ctx *h = user;
    for (int i = 0; i < h->d->n_ms; i++) {
        ic_run_meas *m = &h->d->ms[i];
        size_t len = strlen(m->bench_name);
        if (strncmp(r->name, m->bench_name, len) != 0) continue;
        /* Names are "<bench_name>" plus "_median" etc. for aggregates, or "/repeats:N"... */
        const char *rest = r->name + len;
        if (*rest != '\0' && *rest != '/' && *rest != '_') continue;
        if (r->skipped) {
            m->skipped = 1;
            snprintf(m->skip_message, sizeof m->skip_message, "%s",
                     r->skip_message ? r->skip_message : "skipped");
            return;
        }
        if (r->aggregate == NULL) {
            if (m->n_samples < IC_RESULT_MAX_SAMPLES)
                m->samples_ns[m->n_samples++] = r->real_time_ns;
        } else if (strcmp(r->aggregate, "median") == 0) {
            m->median_ns = r->real_time_ns;
            m->have_median = 1;
        } else if (strcmp(r->aggregate, "stddev") == 0) {
            m->stddev_ns = r->real_time_ns;
        }
        if (h->progress && r->aggregate == NULL)
            fprintf(stderr, "infercost run: %s repetition %d/%d: %.2f ms\n", m->bench_name,
                    r->repetition_index + 1, r->repetitions, r->real_time_ns / 1e6);
        return;
    }
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of the samples when the library gave none (a single repetition). */
static void finish_meas(ic_run_meas *m) {
    if (m->have_median || m->n_samples == 0) return;
    double s[IC_RESULT_MAX_SAMPLES];
    memcpy(s, m->samples_ns, sizeof(double) * (size_t)m->n_samples);
    qsort(s, (size_t)m->n_samples, sizeof s[0], cmp_double);
    int n = m->n_samples;
    m->median_ns = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    m->have_median = 1;
}

/* The same weights (same seed) on a second forward pass whose f32 GEMMs go to OpenBLAS, when a
 * second copy fits. 0, or -1 with the figure marked skipped and the reason in the plan. */
static int make_blas_forward(ic_run_plan *p, ic_run_data *d, ic_run_meas *x) {
    char err[512];
    ic_fwd_config bcfg = p->cfg;
    bcfg.use_blas = 1;
    bcfg.batch_seqs = 1;
    bcfg.max_rows = (size_t)p->o.prefill;
    bcfg.ctx_cap = (size_t)p->o.prefill;
    ic_fwd_bytes bb;
    ic_forward_bytes(&bcfg, p->nthreads, &bb, err, sizeof err);
    if (p->fb.total + bb.total <= p->usable_bytes &&
        ic_forward_create(&d->f_blas, &bcfg, &p->ks, p->pool, err, sizeof err) == 0)
        return 0;
    snprintf(p->blas_note, sizeof p->blas_note,
             "unavailable: a second f32 copy of the weights does not fit (%.2f GiB)",
             gib(bb.total));
    x->skipped = 1;
    snprintf(x->skip_message, sizeof x->skip_message, "%s", p->blas_note);
    return -1;
}

static void add_context(const ic_run_plan *p) {
    char desc[512], kdesc[512], nthr[16], slice[96];
    ic_model_describe(&p->m, desc, sizeof desc);
    ic_kset_describe(&p->ks, kdesc, sizeof kdesc);
    snprintf(nthr, sizeof nthr, "%d", p->nthreads);
    ic_bench_add_context("infercost_model", desc);
    ic_bench_add_context("infercost_threads", nthr);
    ic_bench_add_context("infercost_kernels", kdesc);
    if (p->k_run < p->m.n_layer) {
        snprintf(slice, sizeof slice, "extrapolated from %u of %u layers", p->k_run, p->m.n_layer);
        ic_bench_add_context("infercost_slice", slice);
    }
}

/* Registers one benchmark per figure and runs them. Google Benchmark's own display goes to stderr
 * on a terminal (progress) and nowhere otherwise: stdout carries infercost's report, and
 * --benchmark_out=FILE keeps the library's JSON. */
static int run_figures(ic_run_plan *p, ic_run_data *d) {
    char err[1024];
    static body_arg args[IC_RUN_MAX_MEAS];
    ic_bench_clear();
    for (int i = 0; i < d->n_ms; i++) {
        ic_run_meas *x = &d->ms[i];
        args[i] = (body_arg){d->f, x, d, p->pool};
        if (x->baseline) {
            if (make_blas_forward(p, d, x)) continue;
            args[i].f = d->f_blas;
        }
        ic_bench_config bc = {.repetitions = p->user_reps ? 0 : p->o.repetitions,
                              .min_time_s = p->user_min_time ? 0 : (p->o.quick ? 0.01 : 0.2)};
        ic_bench_fn *fn = x->kind == IC_MEAS_DECODE    ? body_decode
                          : x->kind == IC_MEAS_PREFILL ? body_prefill
                                                       : body_batch;
        if (ic_bench_register(x->bench_name, fn, &args[i], &bc, err, sizeof err)) {
            ic_error("%s", err);
            return IC_EXIT_FAIL;
        }
    }
    add_context(p);
    hook_ctx h = {d, p->progress};
    ic_bench_set_display(p->progress ? IC_BENCH_DISPLAY_STDERR : IC_BENCH_DISPLAY_NONE);
    int nrep = ic_bench_run(p->o.bench_argc, p->o.bench_argv, hook, &h, err, sizeof err);
    ic_bench_clear();
    if (nrep < 0) {
        ic_error("%s", err);
        return nrep == IC_BENCH_BAD_FLAGS ? IC_EXIT_USAGE : IC_EXIT_FAIL;
    }
    for (int i = 0; i < d->n_ms; i++) finish_meas(&d->ms[i]);
    return 0;
}

/* Nanoseconds one clock read costs, to state the op-timing overhead. */
static double clock_read_ns(void) {
    volatile double sink = 0;
    double t0 = ic_now_ns();
    for (int i = 0; i < 10000; i++) sink += ic_now_ns();
    (void)sink;
    return (ic_now_ns() - t0) / 10000.0;
}

int ic_run_measure(ic_run_plan *p, ic_run_data *d) {
    char err[1024];
    memset(d, 0, sizeof *d);
    measure_ceilings(p, d);
    if (p->progress)
        fprintf(stderr,
                "infercost run: allocating %.2f GiB (%u of %u layers) and filling synthetic "
                "weights\n",
                gib(p->fb.total), p->k_run, p->m.n_layer);
    if (ic_forward_create(&d->f, &p->cfg, &p->ks, p->pool, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    ic_forward_fill_kv(d->f, p->max_ctx);
    plan_pairs(d);
    warm_up(p, d);
    list_figures(p, d);
    int rc = run_figures(p, d);
    d->clock_read_ns = clock_read_ns();
    d->clock_reads_per_step = ic_forward_clock_reads_per_step(d->f);
    return rc;
}

void ic_run_data_free(ic_run_data *d) {
    for (int i = 0; i < d->n_ms; i++) free(d->ms[i].step_ns);
    ic_forward_destroy(d->f_blas);
    ic_forward_destroy(d->f);
    d->f = d->f_blas = NULL;
}
