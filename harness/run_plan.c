/* `infercost run`, stage 1: the plan. Defaults, the model, the kernels, the pool, the price and
 * the memory plan, all settled (and the output checked) before anything is measured. */
#define _GNU_SOURCE
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ic_config.h"
#include "topology.h"

static double gib(uint64_t b) {
    return (double)b / 1073741824.0;
}

/* MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read. */
static uint64_t mem_available_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

static void fill_defaults(ic_run_plan *p) {
    ic_run_opts *o = &p->o;
    if (o->n_contexts == 0) {
        o->contexts[0] = 128;
        o->contexts[1] = o->quick ? 512 : 4096;
        o->n_contexts = 2;
    }
    if (o->prefill < 0) {
        o->prefill = o->quick ? 16 : 64;
        o->prompts[0] = (size_t)o->prefill;
        o->n_prompts = 1;
    }
    if (o->repetitions == 0) o->repetitions = o->quick ? 3 : 5;
    for (int i = 1; i < o->bench_argc; i++) {
        if (strncmp(o->bench_argv[i], "--benchmark_min_time", 20) == 0) p->user_min_time = 1;
        if (strncmp(o->bench_argv[i], "--benchmark_repetitions", 23) == 0) p->user_reps = 1;
    }
}

/* The model, the BLAS baseline's preconditions, and the kernels dispatch picks for it. */
static int plan_model(ic_run_plan *p) {
    char err[1024];
    if (ic_model_load(p->o.model_spec, p->o.dtype, &p->m, err, sizeof err)) {
        ic_error("--model %s: %s", p->o.model_spec, err);
        return IC_EXIT_USAGE;
    }
    if (p->o.blas) {
        if (p->m.dtype != IC_DT_F32) {
            ic_error("--blas runs the f32 prefill through cblas_sgemm: add --dtype f32");
            return IC_EXIT_USAGE;
        }
        if (!IC_HAVE_OPENBLAS) {
            snprintf(p->blas_note, sizeof p->blas_note, "unavailable: %s", IC_WHY_NO_OPENBLAS);
            p->o.blas = 0;
        }
    }
    ic_level_cap(&p->cap, err, sizeof err);
    p->cap_set = ic_isa_env() != NULL;
    if (ic_attn_check_kv(p->o.kv_dtype, p->m.head_dim, err, sizeof err)) {
        ic_error("--kv-dtype %s with --model %s: %s", ic_dtype_name(p->o.kv_dtype), p->o.model_spec,
                 err);
        return IC_EXIT_USAGE;
    }
    if (ic_kset_select(&p->ks, p->m.dtype, p->o.kv_dtype, ic_cpu()->features, p->cap, err,
                       sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    return 0;
}

/* The forward pass's capacities: the longest context, prompt and batch any figure needs. */
static void plan_config(ic_run_plan *p) {
    const ic_run_opts *o = &p->o;
    size_t max_ctx = 0, max_batch = 1;
    for (int i = 0; i < o->n_contexts; i++)
        if (o->contexts[i] > max_ctx) max_ctx = o->contexts[i];
    for (int i = 0; i < o->n_batches; i++)
        if (o->batches[i] > max_batch) max_batch = o->batches[i];
    p->max_ctx = max_ctx;
    size_t prefill = (size_t)o->prefill;
    p->cfg = (ic_fwd_config){.model = &p->m,
                             .ctx_cap = max_ctx + 1 > prefill ? max_ctx + 1 : prefill,
                             .max_rows = prefill > max_batch ? prefill : max_batch,
                             .batch_seqs = max_batch,
                             .batch_ctx_cap = o->n_batches ? max_ctx + 1 : 1,
                             .seed = o->seed,
                             .kv_dtype = o->kv_dtype};
}

static int plan_given_layers(ic_run_plan *p, ic_fwd_config *cfg) {
    char err[512];
    const ic_model *m = &p->m;
    if ((uint64_t)p->o.layers > m->n_layer) {
        ic_error("--layers %ld: %s has only %u layers", p->o.layers, m->name, m->n_layer);
        return IC_EXIT_USAGE;
    }
    ic_fwd_bytes b;
    cfg->n_layer_run = (uint32_t)p->o.layers;
    ic_forward_bytes(cfg, p->nthreads, &b, err, sizeof err);
    if (b.total > p->usable_bytes) {
        ic_error("--layers %ld of %s needs %.2f GiB (weights %.2f, KV cache %.2f, activations "
                 "%.2f); %.2f GiB is available here (MemAvailable %.2f GiB less a margin)",
                 p->o.layers, m->name, gib(b.total), gib(b.weights), gib(b.kv_cache),
                 gib(b.activations), gib(p->usable_bytes), gib(p->avail_bytes));
        return IC_EXIT_USAGE;
    }
    p->k_run = (uint32_t)p->o.layers;
    return 0;
}

/* How many layers to run: all when they fit in MemAvailable less a margin (10%, at least 1 GiB),
 * else as many as fit (at least one; --quick keeps slices at two), or --layers. */
static int plan_layers(ic_run_plan *p) {
    char err[512];
    ic_fwd_config *cfg = &p->cfg;
    const ic_model *m = &p->m;
    uint64_t avail = mem_available_bytes();
    uint64_t margin = avail / 10 > (1ull << 30) ? avail / 10 : (1ull << 30);
    p->avail_bytes = avail;
    p->usable_bytes = avail > margin ? avail - margin : 0;
    ic_fwd_bytes one, all;
    cfg->n_layer_run = 1;
    int rc = ic_forward_bytes(cfg, p->nthreads, &one, err, sizeof err);
    cfg->n_layer_run = m->n_layer;
    if (rc == 0) rc = ic_forward_bytes(cfg, p->nthreads, &all, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    if (avail == 0) {
        ic_error("unavailable: MemAvailable in /proc/meminfo could not be read; planning "
                 "without a memory check");
        p->usable_bytes = all.total;
    }
    if (p->o.layers > 0) return plan_given_layers(p, cfg);
    if (all.total <= p->usable_bytes) {
        p->k_run = m->n_layer;
        return 0;
    }
    if (one.total > p->usable_bytes) {
        ic_error("%s %s does not fit even one layer: one layer needs %.2f GiB (weights %.2f, "
                 "KV cache %.2f, activations %.2f) but %.2f GiB is available (MemAvailable %.2f "
                 "GiB less a margin of %.2f GiB)",
                 m->name, ic_dtype_name(m->dtype), gib(one.total), gib(one.weights),
                 gib(one.kv_cache), gib(one.activations), gib(p->usable_bytes), gib(avail),
                 gib(margin));
        return IC_EXIT_USAGE;
    }
    uint64_t per_layer = m->n_layer > 1 ? (all.total - one.total) / (m->n_layer - 1) : one.total;
    uint64_t extra = per_layer ? (p->usable_bytes - one.total) / per_layer : 0;
    p->k_run = (uint32_t)(1 + (extra < m->n_layer - 1 ? extra : m->n_layer - 1));
    if (p->o.quick && p->k_run > 2) p->k_run = 2; /* the figures are extrapolated anyway */
    return 0;
}

/* The price: --usd-per-hour, --instance, or the type DMI reports here (pricing.h's precedence). A
 * detected type the catalog lacks only loses the $/Mtok column, with the reason. */
static int plan_price(ic_run_plan *p) {
    char err[512];
    const ic_price_opts *po = &p->o.price;
    ic_catalog cat;
    int have_cat = 0;
    if (po->usd_per_hour <= 0 && (po->instance || p->host.instance_type[0])) {
        int rc = ic_catalog_load(&cat, po->catalog_dir, err, sizeof err);
        if (rc && po->instance) {
            ic_error("--instance %s: %s", po->instance, err);
            return rc;
        }
        have_cat = rc == 0;
    }
    int rc = ic_price_resolve(po, have_cat ? &cat : NULL, p->host.instance_type, NULL, &p->price,
                              err, sizeof err);
    if (have_cat) ic_catalog_free(&cat);
    if (rc) ic_error("--instance %s: %s", po->instance, err);
    return rc;
}

int ic_run_plan_make(const ic_run_opts *o, ic_run_plan *p) {
    char err[1024];
    memset(p, 0, sizeof *p);
    p->o = *o;
    fill_defaults(p);
    int rc = ic_cli_check_isa();
    if (rc) return rc;
    if (p->o.json_path && (rc = ic_result_check_writable(p->o.json_path, err, sizeof err))) {
        ic_error("--json %s", err);
        return rc;
    }
    ic_host_identify(&p->host);
    if ((rc = plan_price(p)) || (rc = plan_model(p))) return rc;
    p->nthreads = o->threads ? o->threads : ic_default_threads();
    plan_config(p);
    if ((rc = plan_layers(p))) return rc;
    p->cfg.n_layer_run = p->k_run;
    ic_forward_bytes(&p->cfg, p->nthreads, &p->fb, err, sizeof err);
    if (ic_pool_create(&p->pool, p->nthreads, o->bind, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    p->progress = isatty(STDERR_FILENO);
    return 0;
}

void ic_run_plan_free(ic_run_plan *p) {
    ic_pool_destroy(p->pool);
    p->pool = NULL;
}
