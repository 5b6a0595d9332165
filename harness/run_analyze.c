/* `infercost run`, stage 3: analyze. The measurements become a result record: figures scaled to
 * the whole model when a slice ran, their roofline bounds from this run's own ceilings, and
 * their price. */
#define _GNU_SOURCE
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "gbench.h"
#include "ic_config.h"
#include "roofline.h"
#include "stats.h"
#include "topology.h"

/* The read passes taken beside the timed repetitions, in order: those of the calls that ran the
 * final iteration count (Google Benchmark's first calls only size the loop). */
static int timed_passes(const ic_run_meas *x, double *out) {
    int64_t top = 0;
    for (int i = 0; i < x->n_pairs; i++)
        if (x->pair_iters[i] > top) top = x->pair_iters[i];
    int n = 0;
    for (int i = 0; i < x->n_pairs; i++)
        if (x->pair_iters[i] == top) out[n++] = x->pair_gbs[i];
    return n;
}

static double best_of(const double *v, int n) {
    double b = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > b) b = v[i];
    return b;
}

static void fill_env(const ic_run_plan *p, ic_result *r) {
    ic_result_stamp(r);
    r->host = p->host;
    const ic_topology *topo = ic_topology_get();
    r->topo_cores = topo->cores;
    r->topo_pus = topo->pus;
    r->topo_numa_nodes = topo->numa_nodes;
    r->threads = p->nthreads;
    snprintf(r->bind, sizeof r->bind, "%s", ic_bind_name(p->o.bind));
    if (p->cap_set) snprintf(r->isa_cap, sizeof r->isa_cap, "%s", ic_level_name(p->cap));
    ic_kset_describe(&p->ks, r->kernels, sizeof r->kernels);
    snprintf(r->lib_benchmark, sizeof r->lib_benchmark, "%s", ic_bench_library_version());
    snprintf(r->lib_hwloc, sizeof r->lib_hwloc, "%s", ic_topology_hwloc_version());
#if IC_HAVE_OPENBLAS
    snprintf(r->lib_openblas, sizeof r->lib_openblas, "%s", IC_OPENBLAS_PC_VERSION);
#endif
    const char *papi = ic_counters_library_version();
    snprintf(r->lib_papi, sizeof r->lib_papi, "%s", papi ? papi : "");
    r->model = p->m;
    r->kv_dtype = p->cfg.kv_dtype;
    r->n_layer_run = p->k_run;
    r->weight_bytes_per_token = (double)ic_model_weight_bytes_per_token(&p->m);
    r->flop_per_token = ic_model_flop_per_token(&p->m, 0);
}

/* The decode figures' bound uses the best read this run saw: the standalone probe or a pass
 * beside the repetitions, whichever was higher, so a machine that got faster after the probe
 * does not show more than 100%. Prefill (no passes beside it) uses the probe: a prompt reads the
 * weights once, so a short one can be bound by the read (roofline.h). */
static void fill_bound(const ic_run_data *d, const ic_run_meas *x, const ic_model *m, ic_dtype kv,
                       ic_measurement *e) {
    double probe = d->read_bw.available ? d->read_bw.value : 0;
    double peak = d->peak.available ? d->peak.value : 0;
    e->n_paired = timed_passes(x, e->paired_read_gbs);
    const double best = best_of(e->paired_read_gbs, e->n_paired);
    const double read = best > probe ? best : probe;
    e->read_bw_gbs = read;
    snprintf(e->read_bw_source, sizeof e->read_bw_source, "%s",
             e->n_paired ? "the best of the standalone probe and the read passes beside the "
                           "repetitions"
                         : "standalone probe (probes.read_bw_gbs)");
    ic_roof roof = ic_roofline(m, kv, e->kind, e->context, e->batch, read, peak);
    e->bytes_per_token = roof.bytes_per_token;
    e->flop_per_token = roof.flop_per_token;
    e->have_bound = roof.bound_tok_per_s > 0;
    if (e->have_bound) {
        e->bound_tok_per_s = roof.bound_tok_per_s;
        e->efficiency = ic_roof_efficiency(e->tok_per_s, roof.bound_tok_per_s);
        snprintf(e->limit, sizeof e->limit, "%s", roof.limit);
    } else {
        snprintf(e->bound_note, sizeof e->bound_note, "unavailable: no measured ceiling");
    }
}

static void fill_measurement(const ic_run_plan *p, const ic_run_data *d, const ic_run_meas *x,
                             ic_measurement *e) {
    const int slice = p->k_run < p->m.n_layer;
    e->kind = x->kind;
    e->baseline = x->baseline;
    e->context = (long)x->context;
    e->batch = (long)x->batch;
    e->threads = p->nthreads;
    if (x->kind == IC_MEAS_PREFILL && d->prefill_asked > 0) e->shortened_from = d->prefill_asked;
    double total = 0;
    for (int j = 0; j < IC_FOP_COUNT; j++) total += x->op_ns[j];
    double step_ns = ic_extrapolate_ns(x->median_ns, total > 0 ? x->layers_ns / total : 1.0,
                                       p->k_run, p->m.n_layer);
    double tokens = x->kind == IC_MEAS_DECODE ? 1.0 : (double)x->batch;
    e->tok_per_s = step_ns > 0 ? tokens * 1e9 / step_ns : 0;
    e->ms_per_token = x->kind == IC_MEAS_PREFILL ? step_ns / 1e6 / tokens : step_ns / 1e6;
    e->provenance = slice ? IC_PROV_EXTRAPOLATED : IC_PROV_MEASURED;
    e->extrapolated_from_layers = slice ? (int)p->k_run : 0;
    e->n_samples = x->n_samples;
    for (int j = 0; j < x->n_samples; j++) e->samples_ms[j] = x->samples_ns[j] / 1e6;
    e->median_ms = x->median_ns / 1e6;
    e->stddev_ms = x->stddev_ns / 1e6;
    fill_bound(d, x, &p->m, p->cfg.kv_dtype, e);
    if (x->kind != IC_MEAS_PREFILL && x->n_steps > 0 && x->median_ns > 0) {
        /* Per-step latencies of the timed repetitions, scaled like the median for a slice. */
        double scale = step_ns / x->median_ns / 1e6;
        e->have_latency = 1;
        e->p50_ms = ic_percentile(x->step_ns, x->n_steps, 0.50) * scale;
        e->p90_ms = ic_percentile(x->step_ns, x->n_steps, 0.90) * scale;
        e->p99_ms = ic_percentile(x->step_ns, x->n_steps, 0.99) * scale;
        e->latency_steps = (long)x->n_steps;
    }
    if ((x->kind == IC_MEAS_DECODE || (x->kind == IC_MEAS_PREFILL && !x->baseline)) && total > 0) {
        e->have_op_share = 1;
        for (int j = 0; j < IC_FOP_COUNT; j++) e->op_share[j] = x->op_ns[j] / total;
    }
    e->usd_per_mtok = p->price.origin != IC_PRICE_NONE
                          ? ic_usd_per_mtok(p->price.price.usd_per_hour, e->tok_per_s)
                          : NAN;
}

int ic_run_analyze(const ic_run_plan *p, const ic_run_data *d, ic_result *r) {
    memset(r, 0, sizeof *r);
    r->schema_version = IC_RESULT_SCHEMA_VERSION;
    fill_env(p, r);
    r->read_bw = d->read_bw;
    r->peak = d->peak;
    snprintf(r->peak_kind, sizeof r->peak_kind, "%s", d->peak_kind);
    for (int i = 0; i < d->n_ms; i++) {
        const ic_run_meas *x = &d->ms[i];
        if (x->skipped || !x->have_median) continue;
        ic_measurement *e = ic_result_add(r);
        if (e == NULL) return 1;
        fill_measurement(p, d, x, e);
    }
    ic_priced_to_record(&p->price, NULL, &r->pricing);
    return 0;
}
