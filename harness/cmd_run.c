/* infercost run: the main job. Runs a model's real forward pass on synthetic weights, measures
 * prefill, decode at a short and a long context and (optionally) batched decode through Google
 * Benchmark, states the roofline bounds from this host's measured ceilings, and prints one
 * table; --json writes the result file (results/SCHEMA.md). */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "economics.h"
#include "forward.h"
#include "instance.h"
#include "gbench.h"
#include "model.h"
#include "pool.h"
#include "topology.h"
#include "probes.h"

static const char g_usage[] =
    "usage: infercost run [options] [--benchmark_* flags]\n"
    "  --model NAME|FILE.json|FILE.gguf  the model shape (default llama-3.2-1b); presets:\n"
    "                      llama-3.2-1b llama-3.2-3b llama-3.1-8b llama-3.1-70b mistral-7b\n"
    "                      qwen2.5-0.5b qwen2.5-7b mixtral-8x7b\n"
    "  --dtype T           weight type: f32, bf16, q8_0, q4_0 (default q8_0, or the GGUF's)\n"
    "  --threads N         worker threads (default: one per physical core)\n"
    "  --bind MODE         pin workers: none, core, numa (default core with hwloc, else none)\n"
    "  --context LIST      decode context positions, e.g. 128,4096,32768 (default 128,4096)\n"
    "  --prefill N         prefill tokens (default 64; 0 skips prefill)\n"
    "  --batch LIST        batched decode sweep at the first context, e.g. 1,4,16,64\n"
    "  --layers K          run K of the model's layers and extrapolate to full depth\n"
    "                      (chosen automatically when the model does not fit in memory)\n"
    "  --blas              also run the f32 prefill GEMMs through OpenBLAS cblas_sgemm\n"
    "  --repetitions N     Google Benchmark repetitions per figure (default 5; median reported)\n"
    "  --usd-per-hour X    price of this machine, for the $/Mtok column\n"
    "  --instance TYPE     price this run as an EC2 instance type from the catalog (default:\n"
    "                      the type DMI reports on EC2; none off EC2)\n"
    "  --region R          catalog price region (default us-east-1)\n"
    "  --pricing MODE      on-demand (default), spot, savings-1y, savings-3y\n"
    "  --catalog DIR       platform catalog (default $IC_PLATFORMS_DIR or the source tree's)\n"
    "  --json FILE         write the result file (results/SCHEMA.md), atomically\n"
    "  --quick             short run for CI: 3 repetitions, contexts 128,512, prefill 16\n"
    "  --seed N            seed of the synthetic weights (default 1)\n"
    "Figures are labelled measured (on this host), modeled (from the shape and measured\n"
    "ceilings) or extrapolated (from K of L layers).\n";

#if !IC_HAVE_BENCHMARK

/* Without libbenchmark there is no measurement engine: say so rather than time it another way. */
int ic_cmd_run(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        }
    ic_error("run: unavailable: built without libbenchmark (%s)", IC_WHY_NO_BENCHMARK);
    return IC_EXIT_FAIL;
}

#else

#define MAX_LIST 16

typedef struct {
    const char *model_spec;
    int dtype; /* -1: default */
    int threads;
    ic_bind bind;
    size_t contexts[MAX_LIST];
    int n_contexts;
    size_t batches[MAX_LIST];
    int n_batches;
    long prefill; /* -1: default */
    int prefill_given;
    long layers; /* 0: all, or chosen automatically */
    int blas;
    int repetitions;
    double usd_per_hour;  /* < 0: none given */
    const char *instance; /* --instance, or NULL */
    const char *region;
    ic_pricing pricing;
    const char *catalog_dir;
    const char *json_path;
    int quick;
    uint64_t seed;
    int bench_argc;
    char *bench_argv[32];
} run_opts;

/* One measured figure, filled from the benchmark hook. */
typedef enum { K_PREFILL, K_PREFILL_BLAS, K_DECODE, K_BATCH } meas_kind;

typedef struct {
    meas_kind kind;
    char bench_name[96];
    size_t context, batch; /* batch: sequences, or prefill tokens */
    double samples_ns[64]; /* per iteration, one per repetition */
    int n_samples;
    double median_ns, stddev_ns;
    int have_median;
    int skipped;
    char skip_message[160];
    /* op timing inside the measured loop */
    double op_ns[IC_FOP_COUNT];
    double layers_ns;
    double timed_steps;
    /* Decode and batch decode: before every call of the body, one pass of the read probe over
     * the weights (GB/s), with the iteration count of that call. */
    double pair_gbs[64];
    int64_t pair_iters[64];
    int n_pairs;
} meas;

typedef struct {
    ic_forward *f;
    const ic_model *m;
    meas *ms;
    int n_ms;
    int progress;
    /* the read pass taken before each decode repetition; loop NULL: none */
    ic_pool *pool;
    const ic_probe_loop *pair_loop;
    const void *pair_buf;
    size_t pair_bytes;
} run_ctx;

static int parse_list(const char *s, size_t *out, int *n, size_t lo, size_t hi) {
    *n = 0;
    const char *p = s;
    while (*p) {
        if (*n >= MAX_LIST) return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || v < lo || v > hi || (*end != ',' && *end != '\0') || *p == '-')
            return -1;
        out[(*n)++] = (size_t)v;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && *p == '\0') return -1;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* ---- benchmark bodies: one iteration is one token (decode), one prefill, or one batch step ----
 */

typedef struct {
    run_ctx *rc;
    meas *m;
} body_arg;

static void accumulate_ops(run_ctx *rc, meas *m, double steps) {
    double ns[IC_FOP_COUNT];
    ic_forward_op_ns(rc->f, ns);
    for (int i = 0; i < IC_FOP_COUNT; i++) m->op_ns[i] += ns[i];
    m->layers_ns += ic_forward_layers_ns(rc->f);
    m->timed_steps += steps;
}

/* A read pass over the weights just before a timed loop: the bandwidth the machine gives now. */
static double pair_begin(const body_arg *a) {
    const run_ctx *rc = a->rc;
    if (rc->pair_loop == NULL) return 0;
    return ic_probe_read_pass(rc->pool, rc->pair_loop, rc->pair_buf, rc->pair_bytes);
}

static void pair_end(const body_arg *a, double gbs, int64_t n) {
    meas *m = a->m;
    if (gbs <= 0 || n <= 0 || m->n_pairs >= 64) return;
    m->pair_gbs[m->n_pairs] = gbs;
    m->pair_iters[m->n_pairs] = n;
    m->n_pairs++;
}

static void body_decode(ic_bench_state *st, void *user) {
    body_arg *a = user;
    ic_forward_reset_op_ns(a->rc->f);
    uint32_t token = 1;
    int64_t n = 0;
    const double gbs = pair_begin(a);
    while (ic_bench_keep_running(st)) {
        if (ic_forward_decode(a->rc->f, token, a->m->context) == NULL) {
            ic_bench_skip(st, "decode position past the KV cache");
            return;
        }
        token = token * 1103515245u + 12345u;
        n++;
    }
    pair_end(a, gbs, n);
    ic_bench_set_items_processed(st, n);
    accumulate_ops(a->rc, a->m, (double)n);
}

static void body_prefill(ic_bench_state *st, void *user) {
    body_arg *a = user;
    static uint32_t tokens[65536];
    for (size_t i = 0; i < a->m->batch && i < 65536; i++) tokens[i] = (uint32_t)(i * 7919u + 3);
    ic_forward_reset_op_ns(a->rc->f);
    int64_t n = 0;
    while (ic_bench_keep_running(st)) {
        if (ic_forward_prefill(a->rc->f, tokens, a->m->batch) == NULL) {
            ic_bench_skip(st, "prefill longer than the KV cache");
            return;
        }
        n++;
    }
    ic_bench_set_items_processed(st, n * (int64_t)a->m->batch);
    accumulate_ops(a->rc, a->m, (double)n);
}

static void body_batch(ic_bench_state *st, void *user) {
    body_arg *a = user;
    uint32_t tokens[4096];
    for (size_t i = 0; i < a->m->batch && i < 4096; i++) tokens[i] = (uint32_t)(i * 31u + 5);
    ic_forward_reset_op_ns(a->rc->f);
    int64_t n = 0;
    const double gbs = pair_begin(a);
    while (ic_bench_keep_running(st)) {
        if (ic_forward_decode_batch(a->rc->f, tokens, a->m->batch, a->m->context) == NULL) {
            ic_bench_skip(st, "batch larger than planned");
            return;
        }
        n++;
    }
    pair_end(a, gbs, n);
    ic_bench_set_items_processed(st, n * (int64_t)a->m->batch);
    accumulate_ops(a->rc, a->m, (double)n);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void hook(const ic_bench_report *r, void *user) {
    run_ctx *rc = user;
    for (int i = 0; i < rc->n_ms; i++) {
        meas *m = &rc->ms[i];
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
            if (m->n_samples < 64) m->samples_ns[m->n_samples++] = r->real_time_ns;
        } else if (strcmp(r->aggregate, "median") == 0) {
            m->median_ns = r->real_time_ns;
            m->have_median = 1;
        } else if (strcmp(r->aggregate, "stddev") == 0) {
            m->stddev_ns = r->real_time_ns;
        }
        if (rc->progress && r->aggregate == NULL)
            fprintf(stderr, "infercost run: %s repetition %d/%d: %.2f ms\n", m->bench_name,
                    r->repetition_index + 1, r->repetitions, r->real_time_ns / 1e6);
        return;
    }
}

/* The median of the samples when the library gave none (a single repetition). */
static void finish_meas(meas *m) {
    if (m->have_median || m->n_samples == 0) return;
    double s[64];
    memcpy(s, m->samples_ns, sizeof(double) * (size_t)m->n_samples);
    qsort(s, (size_t)m->n_samples, sizeof s[0], cmp_double);
    int n = m->n_samples;
    m->median_ns = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    m->have_median = 1;
}

/* ---- figures ---- */

/* $ per million tokens from a price per hour: the one place this is computed (economics will
 * bring catalog prices to it). NAN without a price or a rate. */
static double usd_per_mtok(double usd_per_hour, double tok_per_s) {
    if (!(usd_per_hour >= 0) || !(tok_per_s > 0)) return NAN;
    return usd_per_hour / (tok_per_s * 3600.0) * 1e6;
}

/* Per-step time scaled from K run layers to L: the layer part grows by L / K, the rest (embedding,
 * final norm, LM head) stays. */
static double extrapolate_ns(const meas *m, uint32_t k, uint32_t l) {
    if (k >= l) return m->median_ns;
    double total = 0;
    for (int i = 0; i < IC_FOP_COUNT; i++) total += m->op_ns[i];
    double layer_frac = total > 0 ? m->layers_ns / total : 1.0;
    if (layer_frac > 1.0) layer_frac = 1.0;
    return m->median_ns * ((1.0 - layer_frac) + layer_frac * (double)l / (double)k);
}

typedef struct {
    double tok_per_s, ms_per_token, bound_tok_per_s, efficiency, usd_per_mtok;
    double bytes_per_token, flop_per_token;
    const char *limit;
    /* decode: the read passes beside the repetitions (median, range) and the read bandwidth the
     * bound used (the best of those and the standalone probe) */
    int n_pairs;
    double pair_gbs, pair_lo, pair_hi, read_used;
} figures;

static figures compute(const meas *m, const ic_model *model, uint32_t k, double read_gbs,
                       double peak_gops, double usd_per_hour) {
    figures g = {0};
    double step_ns = extrapolate_ns(m, k, model->n_layer);
    double per_step_tokens = (double)m->batch;
    if (m->kind == K_DECODE) per_step_tokens = 1;
    g.tok_per_s = step_ns > 0 ? per_step_tokens * 1e9 / step_ns : 0;
    /* ms per token as a user sees it: decode and batch steps give every sequence one token. */
    g.ms_per_token = (m->kind == K_PREFILL || m->kind == K_PREFILL_BLAS)
                         ? step_ns / 1e6 / per_step_tokens
                         : step_ns / 1e6;
    if (m->kind == K_DECODE || m->kind == K_BATCH) {
        double seqs = m->kind == K_BATCH ? (double)m->batch : 1.0;
        /* A batch step reads the weights once and every sequence's KV cache. With experts,
         * the sequences may pick different ones: at most min(n_expert, seqs x n_used). */
        double wbytes = (double)ic_model_weight_bytes_per_token(model);
        if (model->n_expert && m->kind == K_BATCH) {
            double used = seqs * model->n_expert_used;
            if (used > model->n_expert) used = model->n_expert;
            wbytes += model->n_layer * (used - model->n_expert_used) *
                      (double)ic_model_expert_bytes(model);
        }
        g.bytes_per_token =
            (wbytes + seqs * (double)ic_model_kv_bytes(model, m->context + 1)) / seqs;
        g.flop_per_token = ic_model_flop_per_token(model, m->context);
        double mem_bound = read_gbs > 0 ? read_gbs * 1e9 / g.bytes_per_token : 0;
        double cmp_bound = peak_gops > 0 ? peak_gops * 1e9 / g.flop_per_token : 0;
        g.bound_tok_per_s = mem_bound;
        g.limit = "memory";
        if (m->kind == K_BATCH && cmp_bound > 0 && (mem_bound == 0 || cmp_bound < mem_bound)) {
            g.bound_tok_per_s = cmp_bound;
            g.limit = "compute";
        }
    } else {
        g.flop_per_token = ic_model_prefill_flop(model, m->batch) / (double)m->batch;
        g.bytes_per_token = (double)ic_model_weight_bytes_per_token(model) / (double)m->batch;
        g.bound_tok_per_s = peak_gops > 0 ? peak_gops * 1e9 / g.flop_per_token : 0;
        g.limit = "compute";
    }
    g.efficiency = g.bound_tok_per_s > 0 ? g.tok_per_s / g.bound_tok_per_s : NAN;
    g.usd_per_mtok = usd_per_mtok(usd_per_hour, g.tok_per_s);
    return g;
}

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The read passes taken beside the timed repetitions, in order, into out: those of the calls that
 * ran the final iteration count (Google Benchmark's first calls only size the loop). */
static int timed_passes(const meas *x, double out[64]) {
    int64_t top = 0;
    for (int i = 0; i < x->n_pairs; i++)
        if (x->pair_iters[i] > top) top = x->pair_iters[i];
    int n = 0;
    for (int i = 0; i < x->n_pairs; i++)
        if (x->pair_iters[i] == top) out[n++] = x->pair_gbs[i];
    return n;
}

/* Their median, lowest and highest GB/s; returns how many (0: none, outputs untouched). */
static int pair_stats(const meas *x, double *med, double *lo, double *hi) {
    double b[64];
    int n = timed_passes(x, b);
    if (n == 0) return 0;
    *med = median_of(b, n);
    *lo = b[0];
    *hi = b[n - 1];
    return n;
}

/* ---- result file ---- */

static json_t *prov(double v, const char *p) {
    json_t *o = json_object();
    json_object_set_new(o, "value", json_real(v));
    json_object_set_new(o, "provenance", json_string(p));
    return o;
}

static int write_json_atomic(json_t *root, const char *path, char *err, size_t errlen) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        snprintf(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename the finished file into place (%s)", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- the command ---- */

static int is_tty_err(void) {
    return isatty(STDERR_FILENO);
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

static double gib(uint64_t b) {
    return (double)b / 1073741824.0;
}

/* Chooses how many layers to run. Returns 0 with *k set, or an exit code with the message
 * printed. */
static int plan_layers(const run_opts *o, const ic_model *m, ic_fwd_config *cfg, int nthreads,
                       uint32_t *k, uint64_t *avail_out, uint64_t *usable_out) {
    char err[512];
    uint64_t avail = mem_available_bytes();
    /* Keep a margin for the OS, the page cache of a busy machine, and other processes. */
    uint64_t margin = avail / 10 > (1ull << 30) ? avail / 10 : (1ull << 30);
    uint64_t usable = avail > margin ? avail - margin : 0;
    *avail_out = avail;
    *usable_out = usable;
    ic_fwd_bytes one, all;
    cfg->n_layer_run = 1;
    if (ic_forward_bytes(cfg, nthreads, &one, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    cfg->n_layer_run = m->n_layer;
    if (ic_forward_bytes(cfg, nthreads, &all, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    if (avail == 0) {
        ic_error("unavailable: MemAvailable in /proc/meminfo could not be read; planning "
                 "without a memory check");
        usable = all.total;
    }
    if (o->layers > 0) {
        if ((uint64_t)o->layers > m->n_layer) {
            ic_error("--layers %ld: %s has only %u layers", o->layers, m->name, m->n_layer);
            return IC_EXIT_USAGE;
        }
        ic_fwd_bytes b;
        cfg->n_layer_run = (uint32_t)o->layers;
        ic_forward_bytes(cfg, nthreads, &b, err, sizeof err);
        if (b.total > usable) {
            ic_error("--layers %ld of %s needs %.2f GiB (weights %.2f, KV cache %.2f, activations "
                     "%.2f); %.2f GiB is available here (MemAvailable %.2f GiB less a margin)",
                     o->layers, m->name, gib(b.total), gib(b.weights), gib(b.kv_cache),
                     gib(b.activations), gib(usable), gib(avail));
            return IC_EXIT_USAGE;
        }
        *k = (uint32_t)o->layers;
        return 0;
    }
    if (all.total <= usable) {
        *k = m->n_layer;
        return 0;
    }
    if (one.total > usable) {
        ic_error("%s %s does not fit even one layer: one layer needs %.2f GiB (weights %.2f, "
                 "KV cache %.2f, activations %.2f) but %.2f GiB is available (MemAvailable %.2f "
                 "GiB less a margin of %.2f GiB)",
                 m->name, ic_dtype_name(m->dtype), gib(one.total), gib(one.weights),
                 gib(one.kv_cache), gib(one.activations), gib(usable), gib(avail), gib(margin));
        return IC_EXIT_USAGE;
    }
    uint64_t per_layer = m->n_layer > 1 ? (all.total - one.total) / (m->n_layer - 1) : one.total;
    uint64_t extra = per_layer ? (usable - one.total) / per_layer : 0;
    *k = (uint32_t)(1 + (extra < m->n_layer - 1 ? extra : m->n_layer - 1));
    /* --quick keeps slices small: the figures are extrapolated anyway. */
    if (o->quick && *k > 2) *k = 2;
    return 0;
}

/* Nanoseconds one clock read costs, to state the op-timing overhead. */
static double clock_read_ns(void) {
    struct timespec a, b, t;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 10000; i++) clock_gettime(CLOCK_MONOTONIC, &t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 10000.0;
}

typedef struct {
    int available;
    double value;
    char loop[64];
    char note[400];
} ceiling;

/* Fills c from one probe: the measured value, or "unavailable: <why>". */
static void probe_one(ic_pool *pool, ic_probe_kind kind, double min_s, ceiling *c) {
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
 * for q8_0/q4_0 (activations in q8_0), bf16 for a bf16-activation GEMM, else f32 FMA. */
static void measure_ceilings(ic_pool *pool, ic_dtype atype, double min_s, ceiling *read,
                             ceiling *peak, const char **peak_kind) {
    *peak_kind = atype == IC_DT_F32 ? "f32" : atype == IC_DT_BF16 ? "bf16" : "int8";
    probe_one(pool, IC_PROBE_READ, min_s, read);
    probe_one(pool,
              atype == IC_DT_F32    ? IC_PROBE_F32
              : atype == IC_DT_BF16 ? IC_PROBE_BF16
                                    : IC_PROBE_INT8,
              min_s, peak);
}

static const char *kind_name(meas_kind k) {
    switch (k) {
    case K_PREFILL:
        return "prefill";
    case K_PREFILL_BLAS:
        return "prefill";
    case K_DECODE:
        return "decode";
    case K_BATCH:
        return "batch_decode";
    }
    return "?";
}

static void fmt_num(char *out, size_t len, double v, int prec) {
    if (!isfinite(v) || v <= 0)
        snprintf(out, len, "-");
    else
        snprintf(out, len, "%.*f", prec, v);
}

/* Where this run's $/hour comes from: the command line, or the catalog price of the instance type
 * given with --instance or read from DMI. A type given with --instance must be priced (exit 2
 * otherwise); a detected one that the catalog lacks only loses the $/Mtok column, with the reason.
 */
typedef struct {
    double usd_per_hour; /* < 0: no price */
    int from_catalog;
    ic_price price;              /* when from_catalog */
    char instance[48];           /* "" when unknown */
    const char *instance_source; /* "flag", "dmi" or NULL */
    char note[1024];             /* the footer's sentence about the price */
} run_price;

static int resolve_price(const run_opts *o, run_price *rp) {
    memset(rp, 0, sizeof *rp);
    rp->usd_per_hour = -1;
    char why[256] = "";
    if (o->instance) {
        snprintf(rp->instance, sizeof rp->instance, "%s", o->instance);
        rp->instance_source = "flag";
    } else if (ic_instance_detect(NULL, rp->instance, sizeof rp->instance, why, sizeof why)) {
        rp->instance_source = "dmi";
    } else {
        rp->instance[0] = '\0';
    }
    if (o->usd_per_hour >= 0) {
        rp->usd_per_hour = o->usd_per_hour;
        snprintf(rp->note, sizeof rp->note,
                 "price given on the command line, $%.4f/h (--usd-per-hour), divided by the "
                 "tok/s column",
                 o->usd_per_hour);
        return 0;
    }
    if (!rp->instance[0]) {
        snprintf(rp->note, sizeof rp->note,
                 "no price: %s; add --instance TYPE (catalog price) or --usd-per-hour X", why);
        return 0;
    }
    ic_catalog cat;
    char err[512];
    int rc = ic_catalog_load(&cat, o->catalog_dir, err, sizeof err);
    if (rc == 0) {
        rc =
            ic_price_lookup(&cat, rp->instance, o->region, o->pricing, &rp->price, err, sizeof err);
        ic_catalog_free(&cat);
    }
    if (rc != 0) {
        if (o->instance) {
            ic_error("run: --instance %s: %s", o->instance, err);
            return rc;
        }
        snprintf(rp->note, sizeof rp->note, "no price for %s (detected from DMI): %s", rp->instance,
                 err);
        return 0;
    }
    rp->from_catalog = 1;
    rp->usd_per_hour = rp->price.usd_per_hour;
    int n = snprintf(rp->note, sizeof rp->note, "%s %s %s at $%.4f/h (catalog: %s, %s)",
                     rp->price.instance_type, ic_pricing_name(rp->price.pricing), rp->price.region,
                     rp->price.usd_per_hour, rp->price.source, rp->price.date);
    if (rp->price.discount > 0 && n > 0 && (size_t)n < sizeof rp->note)
        n += snprintf(rp->note + n, sizeof rp->note - (size_t)n, "; %.0f%% off on-demand (%s, %s)",
                      100 * rp->price.discount, rp->price.discount_source, rp->price.discount_date);
    /* A price for another machine than this one: the throughput is still this host's. */
    char here[48];
    if (o->instance && n > 0 && (size_t)n < sizeof rp->note &&
        !(ic_instance_detect(NULL, here, sizeof here, why, sizeof why) &&
          strcmp(here, o->instance) == 0))
        snprintf(rp->note + n, sizeof rp->note - (size_t)n,
                 ". The tok/s were measured on this host, which is not a %s (%s): the $/Mtok is "
                 "what this throughput would cost at that type's price",
                 o->instance, why[0] ? why : here);
    return 0;
}

static int run(const run_opts *o_in) {
    run_opts o = *o_in;
    char err[1024];
    if (o.n_contexts == 0) {
        o.contexts[0] = 128;
        o.contexts[1] = o.quick ? 512 : 4096;
        o.n_contexts = 2;
    }
    if (o.prefill < 0) o.prefill = o.quick ? 16 : 64;
    if (o.repetitions == 0) o.repetitions = o.quick ? 3 : 5;
    int user_min_time = 0, user_reps = 0;
    for (int i = 1; i < o.bench_argc; i++) {
        if (strncmp(o.bench_argv[i], "--benchmark_min_time", 20) == 0) user_min_time = 1;
        if (strncmp(o.bench_argv[i], "--benchmark_repetitions", 23) == 0) user_reps = 1;
    }

    int rc = ic_cli_check_isa();
    if (rc) return rc;
    run_price price;
    if ((rc = resolve_price(&o, &price))) return rc;
    o.usd_per_hour = price.usd_per_hour;
    ic_model m;
    if (ic_model_load(o.model_spec, o.dtype, &m, err, sizeof err)) {
        ic_error("--model %s: %s", o.model_spec, err);
        return IC_EXIT_USAGE;
    }
    char blas_note[160] = "";
    if (o.blas) {
        if (m.dtype != IC_DT_F32) {
            ic_error("--blas runs the f32 prefill through cblas_sgemm: add --dtype f32");
            return IC_EXIT_USAGE;
        }
        if (!IC_HAVE_OPENBLAS) {
            snprintf(blas_note, sizeof blas_note, "unavailable: %s", IC_WHY_NO_OPENBLAS);
            o.blas = 0;
        }
    }
    ic_level cap;
    ic_level_cap(&cap, err, sizeof err);
    ic_kset ks;
    if (ic_kset_select(&ks, m.dtype, ic_cpu()->features, cap, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    int nthreads = o.threads ? o.threads : ic_default_threads();
    ic_pool *pool = NULL;
    if (ic_pool_create(&pool, nthreads, o.bind, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    int progress = is_tty_err();

    size_t max_ctx = 0, max_batch = 1;
    for (int i = 0; i < o.n_contexts; i++)
        if (o.contexts[i] > max_ctx) max_ctx = o.contexts[i];
    for (int i = 0; i < o.n_batches; i++)
        if (o.batches[i] > max_batch) max_batch = o.batches[i];
    ic_fwd_config cfg = {.model = &m,
                         .ctx_cap =
                             max_ctx + 1 > (size_t)o.prefill ? max_ctx + 1 : (size_t)o.prefill,
                         .max_rows = (size_t)o.prefill > max_batch ? (size_t)o.prefill : max_batch,
                         .batch_seqs = max_batch,
                         .batch_ctx_cap = o.n_batches ? o.contexts[0] + 1 : 1,
                         .seed = o.seed};
    uint32_t k_run;
    uint64_t avail, usable;
    rc = plan_layers(&o, &m, &cfg, nthreads, &k_run, &avail, &usable);
    if (rc) {
        ic_pool_destroy(pool);
        return rc;
    }
    cfg.n_layer_run = k_run;
    int slice = k_run < m.n_layer;
    char slice_note[96] = "";
    if (slice)
        snprintf(slice_note, sizeof slice_note, "extrapolated from %u of %u layers", k_run,
                 m.n_layer);

    /* Ceilings first, so their buffers are gone before the model is allocated. */
    if (progress) fprintf(stderr, "infercost run: measuring this host's read bandwidth and peak\n");
    ceiling read_bw, peak;
    const char *peak_kind;
    measure_ceilings(pool, ks.gemm->atype, o.quick ? 0.05 : 0.3, &read_bw, &peak, &peak_kind);

    ic_fwd_bytes fb;
    ic_forward_bytes(&cfg, nthreads, &fb, err, sizeof err);
    if (progress)
        fprintf(stderr,
                "infercost run: allocating %.2f GiB (%u of %u layers) and filling "
                "synthetic weights\n",
                gib(fb.total), k_run, m.n_layer);
    ic_forward *f = NULL;
    if (ic_forward_create(&f, &cfg, &ks, pool, err, sizeof err)) {
        ic_error("%s", err);
        ic_pool_destroy(pool);
        return IC_EXIT_FAIL;
    }
    ic_forward_fill_kv(f, max_ctx);

    /* Read passes paired with the decode repetitions, over the weights themselves, when there
     * are enough of them not to sit in the last-level cache; at most 2 GiB a pass. */
    char pair_note[200] = "";
    const ic_probe_loop *pair_loop = read_bw.available ? ic_probe_best_loop(IC_PROBE_READ) : NULL;
    size_t wbytes = 0;
    const void *wbuf = ic_forward_weights(f, &wbytes);
    {
        size_t floor_b = ic_topology_llc_bytes(ic_topology_get());
        if (floor_b < ((size_t)256 << 20)) floor_b = (size_t)256 << 20;
        if (floor_b > ((size_t)2 << 30)) floor_b = (size_t)2 << 30;
        if (pair_loop && wbytes < floor_b) {
            snprintf(pair_note, sizeof pair_note,
                     "no read passes beside the repetitions: %zu MiB of weights could sit in the "
                     "%zu MiB cache; the bound uses the standalone probe",
                     wbytes >> 20, ic_topology_llc_bytes(ic_topology_get()) >> 20);
            pair_loop = NULL;
        }
        if (wbytes > ((size_t)2 << 30)) wbytes = (size_t)2 << 30;
    }

    /* One untimed token warms the pages and caches and tells how slow these kernels are: a
     * default prefill is shortened to stay near a time budget (ref kernels are slow). */
    char prefill_note[200] = "";
    {
        double t0 = ic_now_s();
        ic_forward_decode(f, 1, 0);
        double t1 = ic_now_s() - t0;
        double budget_s = o.quick ? 6.0 : 30.0;
        if (!o.prefill_given && o.prefill > 4 && t1 > 0 &&
            t1 * (double)o.prefill * o.repetitions > budget_s) {
            long n = (long)(budget_s / (t1 * o.repetitions)) / 4 * 4;
            if (n < 4) n = 4;
            if (n < o.prefill) {
                snprintf(prefill_note, sizeof prefill_note,
                         "prefill shortened from %ld to %ld tokens: one decode step takes %.0f ms "
                         "with these kernels (--prefill N sets it)",
                         o.prefill, n, t1 * 1e3);
                o.prefill = n;
            }
        }
    }

    /* One measurement per figure. */
    meas ms[2 + MAX_LIST * 2];
    int n_ms = 0;
    memset(ms, 0, sizeof ms);
    if (o.prefill > 0) {
        ms[n_ms] = (meas){.kind = K_PREFILL, .batch = (size_t)o.prefill};
        snprintf(ms[n_ms].bench_name, sizeof ms[n_ms].bench_name, "prefill/n:%ld", o.prefill);
        n_ms++;
        if (o.blas) {
            ms[n_ms] = (meas){.kind = K_PREFILL_BLAS, .batch = (size_t)o.prefill};
            snprintf(ms[n_ms].bench_name, sizeof ms[n_ms].bench_name, "prefill_openblas/n:%ld",
                     o.prefill);
            n_ms++;
        }
    }
    for (int i = 0; i < o.n_contexts; i++) {
        ms[n_ms] = (meas){.kind = K_DECODE, .context = o.contexts[i], .batch = 1};
        snprintf(ms[n_ms].bench_name, sizeof ms[n_ms].bench_name, "decode/ctx:%zu", o.contexts[i]);
        n_ms++;
    }
    for (int i = 0; i < o.n_batches; i++) {
        ms[n_ms] = (meas){.kind = K_BATCH, .context = o.contexts[0], .batch = o.batches[i]};
        snprintf(ms[n_ms].bench_name, sizeof ms[n_ms].bench_name, "batch_decode/b:%zu/ctx:%zu",
                 o.batches[i], o.contexts[0]);
        n_ms++;
    }
    run_ctx rctx = {f, &m, ms, n_ms, progress, pool, pair_loop, wbuf, wbytes};
    body_arg bargs[2 + MAX_LIST * 2];
    ic_forward *f_blas = NULL;
    ic_bench_clear();
    for (int i = 0; i < n_ms; i++) {
        bargs[i] = (body_arg){&rctx, &ms[i]};
        ic_bench_config bc = {.repetitions = user_reps ? 0 : o.repetitions,
                              .min_time_s = user_min_time ? 0 : (o.quick ? 0.01 : 0.2)};
        ic_bench_fn *fn = ms[i].kind == K_DECODE  ? body_decode
                          : ms[i].kind == K_BATCH ? body_batch
                                                  : body_prefill;
        if (ms[i].kind == K_PREFILL_BLAS) {
            /* The same weights (same seed) on a second pass whose f32 GEMMs go to OpenBLAS. */
            static run_ctx blas_ctx;
            ic_fwd_config bcfg = cfg;
            bcfg.use_blas = 1;
            bcfg.batch_seqs = 1;
            bcfg.max_rows = (size_t)o.prefill;
            bcfg.ctx_cap = (size_t)o.prefill;
            ic_fwd_bytes bb;
            ic_forward_bytes(&bcfg, nthreads, &bb, err, sizeof err);
            if (fb.total + bb.total > usable ||
                ic_forward_create(&f_blas, &bcfg, &ks, pool, err, sizeof err)) {
                snprintf(blas_note, sizeof blas_note,
                         "unavailable: a second f32 copy of the weights does not fit (%.2f GiB)",
                         gib(bb.total));
                ms[i].skipped = 1;
                snprintf(ms[i].skip_message, sizeof ms[i].skip_message, "%s", blas_note);
                continue;
            }
            blas_ctx = rctx;
            blas_ctx.f = f_blas;
            bargs[i].rc = &blas_ctx;
        }
        if (ic_bench_register(ms[i].bench_name, fn, &bargs[i], &bc, err, sizeof err)) {
            ic_error("%s", err);
            rc = IC_EXIT_FAIL;
            goto done;
        }
    }
    char desc[512], kdesc[512];
    ic_model_describe(&m, desc, sizeof desc);
    ic_kset_describe(&ks, kdesc, sizeof kdesc);
    ic_bench_add_context("infercost_model", desc);
    char nthr[16];
    snprintf(nthr, sizeof nthr, "%d", nthreads);
    ic_bench_add_context("infercost_threads", nthr);
    ic_bench_add_context("infercost_kernels", kdesc);
    if (slice) ic_bench_add_context("infercost_slice", slice_note);
    /* Google Benchmark's own table goes to stderr as progress on a terminal, else nowhere:
     * stdout carries infercost's table. --benchmark_out=FILE keeps its JSON. */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    int devnull = progress ? -1 : open("/dev/null", O_WRONLY);
    if (saved_out >= 0 && saved_err >= 0) {
        dup2(progress ? STDERR_FILENO : devnull, STDOUT_FILENO);
        if (!progress) dup2(devnull, STDERR_FILENO);
    }
    int nrep = ic_bench_run(o.bench_argc, o.bench_argv, hook, &rctx, err, sizeof err);
    fflush(stdout);
    fflush(stderr);
    if (saved_out >= 0 && saved_err >= 0) {
        dup2(saved_out, STDOUT_FILENO);
        dup2(saved_err, STDERR_FILENO);
    }
    if (saved_out >= 0) close(saved_out);
    if (saved_err >= 0) close(saved_err);
    if (devnull >= 0) close(devnull);
    if (nrep < 0) {
        ic_error("%s", err);
        rc = IC_EXIT_USAGE;
        goto done;
    }
    for (int i = 0; i < n_ms; i++) finish_meas(&ms[i]);

    /* ---- the table ---- */
    double read_gbs = read_bw.available ? read_bw.value : 0;
    double peak_g = peak.available ? peak.value : 0;
    printf("infercost run: %s (%s)\n", desc, m.source);
    printf("kernels: %s\n", kdesc);
    if (read_bw.available)
        printf("read bandwidth: %.1f GB/s (measured on this host: %s, %d threads; %s)\n",
               read_bw.value, read_bw.loop, nthreads, read_bw.note);
    else
        printf("read bandwidth: %s\n", read_bw.note);
    if (peak.available)
        printf("peak %s: %.1f G%s/s (measured on this host: %s, %d threads)\n", peak_kind,
               peak.value, strcmp(peak_kind, "int8") == 0 ? "OP" : "FLOP", peak.loop, nthreads);
    else
        printf("peak %s: %s\n", peak_kind, peak.note);
    printf("memory: %.2f GiB planned (weights %.2f, KV cache %.2f, activations %.2f); "
           "MemAvailable %.2f GiB\n",
           gib(fb.total), gib(fb.weights), gib(fb.kv_cache), gib(fb.activations), gib(avail));
    if (prefill_note[0]) printf("note: %s\n", prefill_note);
    if (slice)
        printf("slice: %s; ran %u of %u layers, every tok/s and ms/tok below is %s\n",
               o.layers > 0 ? "--layers given" : "the full model does not fit", k_run, m.n_layer,
               slice_note);
    printf("\n%-14s %-5s %3s  %-13s %6s %5s %10s %9s %9s %11s %-8s %5s %9s\n", "model", "dtype",
           "thr", "phase", "ctx", "n", "tok/s", "ms/tok", "wGB/tok", "bound tok/s", "limit", "eff",
           "$/Mtok");
    const char *tp = slice ? "extrap." : "measured";
    printf("%-14s %-5s %3s  %-13s %6s %5s %10s %9s %9s %11s %-8s %5s %9s\n", "(source)", "", "", "",
           "", "", tp, tp, "modeled", "modeled", "", "ratio",
           price.from_catalog    ? "catalog"
           : o.usd_per_hour >= 0 ? "given"
                                 : "-");
    figures figs[2 + MAX_LIST * 2];
    for (int i = 0; i < n_ms; i++) {
        meas *x = &ms[i];
        const char *phase = x->kind == K_PREFILL_BLAS ? "prefill-sgemm"
                            : x->kind == K_PREFILL    ? "prefill"
                            : x->kind == K_DECODE     ? "decode"
                                                      : "batch decode";
        char ctxs[16], ns[16];
        snprintf(ctxs, sizeof ctxs, "%zu",
                 x->kind == K_DECODE || x->kind == K_BATCH ? x->context : (size_t)0);
        snprintf(ns, sizeof ns, "%zu", x->batch);
        if (x->skipped || !x->have_median) {
            printf("%-14s %-5s %3d  %-13s %6s %5s  %s\n", m.name, ic_dtype_name(m.dtype), nthreads,
                   phase, ctxs, ns,
                   x->skipped ? x->skip_message : "unavailable: no measurement was reported");
            continue;
        }
        figs[i] = compute(x, &m, k_run, read_gbs, peak_g, o.usd_per_hour);
        figures *g = &figs[i];
        double pmed, plo, phi;
        int np = pair_stats(x, &pmed, &plo, &phi);
        if (np > 0) {
            /* The ceiling is the best read this run saw: the standalone probe or a pass beside
             * the repetitions, whichever was higher. */
            if (phi > read_gbs) *g = compute(x, &m, k_run, phi, peak_g, o.usd_per_hour);
            g->n_pairs = np;
            g->pair_gbs = pmed;
            g->pair_lo = plo;
            g->pair_hi = phi;
            g->read_used = phi > read_gbs ? phi : read_gbs;
        }
        char tps[24], mss[24], wb[24], bd[24], ef[24], usd[24];
        fmt_num(tps, sizeof tps, g->tok_per_s, g->tok_per_s < 10 ? 2 : 1);
        fmt_num(mss, sizeof mss, g->ms_per_token, 2);
        fmt_num(wb, sizeof wb, (double)ic_model_weight_bytes_per_token(&m) / 1e9, 3);
        fmt_num(bd, sizeof bd, g->bound_tok_per_s, g->bound_tok_per_s < 10 ? 2 : 1);
        if (isfinite(g->efficiency))
            snprintf(ef, sizeof ef, "%.0f%%", 100 * g->efficiency);
        else
            snprintf(ef, sizeof ef, "-");
        fmt_num(usd, sizeof usd, g->usd_per_mtok, 3);
        printf("%-14s %-5s %3d  %-13s %6s %5s %10s %9s %9s %11s %-8s %5s %9s\n", m.name,
               ic_dtype_name(m.dtype), nthreads, phase, ctxs, ns, tps, mss, wb, bd,
               g->bound_tok_per_s > 0 ? g->limit : "-", ef, usd);
    }
    printf("\ntok/s, ms/tok: %s (Google Benchmark, median of %d repetitions; one iteration = one "
           "token for decode, one prompt for prefill, one step of n sequences for batch decode; "
           "ms/tok is per token for prefill and per sequence for decode)\n",
           slice ? slice_note : "measured on this host", o.repetitions);
    printf("bound: modeled = measured read bandwidth / bytes per token (weights + KV cache at "
           "ctx) for decode, measured peak %s / FLOP per token for prefill%s\n",
           peak_kind, o.n_batches ? " (batch decode: the lower of the two)" : "");
    if (pair_loop) {
        printf("decode bound: the best read this run saw (measured on this host), from the "
               "standalone probe or from a "
               "read pass (%s over %.2f GiB of the weights) taken just before each repetition\n",
               pair_loop->name, gib(wbytes));
        for (int i = 0; i < n_ms; i++) {
            const figures *g = &figs[i];
            if (ms[i].skipped || !ms[i].have_median || g->n_pairs == 0) continue;
            int busy = g->pair_gbs < 0.85 * g->read_used;
            char what[64];
            if (ms[i].kind == K_BATCH)
                snprintf(what, sizeof what, "batch decode n %zu ctx %zu", ms[i].batch,
                         ms[i].context);
            else
                snprintf(what, sizeof what, "decode ctx %zu", ms[i].context);
            printf("  %s: passes beside the repetitions %.1f GB/s median (%.1f to %.1f, %d "
                   "passes), bound from %.1f GB/s%s\n",
                   what, g->pair_gbs, g->pair_lo, g->pair_hi, g->n_pairs, g->read_used,
                   busy ? ": the machine was busy (the median pass is under 85% of the best), so "
                          "tok/s and eff are low; run again on a quiet machine"
                        : "");
        }
    } else if (pair_note[0]) {
        printf("note: %s\n", pair_note);
    }
    if (o.blas || blas_note[0])
        printf("prefill-sgemm: the same f32 model with its prefill GEMMs through OpenBLAS "
               "cblas_sgemm (%s)%s%s\n",
               IC_HAVE_OPENBLAS ? "OpenBLAS threads = --threads" : "no OpenBLAS",
               blas_note[0] ? "; " : "", blas_note);
    printf("$/Mtok: %s\n", price.note);

    /* Op share of decode time, from clock reads around each op inside the measured loop. */
    double clk = clock_read_ns();
    for (int i = 0; i < n_ms; i++) {
        meas *x = &ms[i];
        if (x->kind != K_DECODE || x->skipped || x->timed_steps <= 0) continue;
        double total = 0;
        for (int j = 0; j < IC_FOP_COUNT; j++) total += x->op_ns[j];
        if (total <= 0) continue;
        printf("decode op share at ctx %zu (measured, %s):", x->context,
               slice ? "in the layers run" : "whole token");
        int order[IC_FOP_COUNT];
        for (int j = 0; j < IC_FOP_COUNT; j++) order[j] = j;
        for (int a = 0; a < IC_FOP_COUNT; a++)
            for (int b = a + 1; b < IC_FOP_COUNT; b++)
                if (x->op_ns[order[b]] > x->op_ns[order[a]]) {
                    int t = order[a];
                    order[a] = order[b];
                    order[b] = t;
                }
        for (int j = 0; j < IC_FOP_COUNT; j++) {
            double sh = x->op_ns[order[j]] / total;
            if (sh >= 0.005) printf(" %s %.1f%%", ic_fop_name((ic_fop)order[j]), 100 * sh);
        }
        double per_tok = total / x->timed_steps;
        printf("\n  timing: %llu clock reads per token at ~%.0f ns each = %.3f%% of the token; "
               "timed ops cover %.1f%% of the measured token time\n",
               (unsigned long long)ic_forward_clock_reads_per_step(f), clk,
               100.0 * (double)ic_forward_clock_reads_per_step(f) * clk / x->median_ns,
               100.0 * per_tok / x->median_ns);
    }

    /* ---- the result file ---- */
    if (o.json_path) {
        json_t *root = json_object();
        json_object_set_new(root, "schema", json_string("infercost-result"));
        json_object_set_new(root, "schema_version", json_integer(1));
        char now[32];
        time_t tnow = time(NULL);
        struct tm tmv;
        gmtime_r(&tnow, &tmv);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tmv);
        json_object_set_new(root, "created_utc", json_string(now));
        json_t *tool = json_object();
        json_object_set_new(tool, "version", json_string(IC_VERSION));
        json_object_set_new(tool, "git_commit", json_string(IC_GIT_COMMIT));
        json_object_set_new(root, "tool", tool);
        json_t *env = json_object();
        char host[256] = "unknown";
        gethostname(host, sizeof host - 1);
        json_object_set_new(env, "host", json_string(host));
        const ic_cpu_info *cpu = ic_cpu();
        json_t *jcpu = json_object(), *feats = json_array();
        json_object_set_new(jcpu, "vendor", json_string(cpu->vendor));
        json_object_set_new(jcpu, "model_name", json_string(cpu->model_name));
        for (int b = 0; b < IC_FEATURE_COUNT; b++)
            if ((cpu->features >> b) & 1)
                json_array_append_new(feats, json_string(ic_feature_name(1ull << b)));
        json_object_set_new(jcpu, "features", feats);
        json_object_set_new(env, "cpu", jcpu);
        struct utsname un;
        json_object_set_new(env, "arch", json_string(uname(&un) == 0 ? un.machine : "unknown"));
        json_object_set_new(env, "instance_type",
                            price.instance[0] ? json_string(price.instance) : json_null());
        json_object_set_new(env, "instance_source",
                            price.instance_source ? json_string(price.instance_source)
                                                  : json_null());
        const ic_topology *topo = ic_topology_get();
        json_t *jt = json_object();
        json_object_set_new(jt, "cores", json_integer(topo->cores));
        json_object_set_new(jt, "pus", json_integer(topo->pus));
        json_object_set_new(jt, "numa_nodes", json_integer(topo->numa_nodes));
        json_object_set_new(env, "topology", jt);
        json_object_set_new(env, "threads", json_integer(nthreads));
        json_object_set_new(env, "bind", json_string(ic_bind_name(o.bind)));
        json_object_set_new(env, "isa_cap", json_string(ic_level_name(cap)));
        json_object_set_new(env, "kernels", json_string(kdesc));
        json_t *libs = json_object();
        json_object_set_new(libs, "benchmark", json_string(ic_bench_library_version()));
        json_object_set_new(libs, "hwloc", json_string(ic_topology_hwloc_version()));
#if IC_HAVE_OPENBLAS
        json_object_set_new(libs, "openblas", json_string(IC_OPENBLAS_PC_VERSION));
#else
        json_object_set_new(libs, "openblas", json_null());
#endif
        json_object_set_new(env, "libraries", libs);
        json_object_set_new(root, "env", env);

        json_t *jm = json_object();
        json_object_set_new(jm, "name", json_string(m.name));
        json_object_set_new(jm, "source", json_string(m.source));
        json_object_set_new(jm, "dtype", json_string(ic_dtype_name(m.dtype)));
        json_object_set_new(jm, "n_layer", json_integer(m.n_layer));
        json_object_set_new(jm, "n_layer_run", json_integer(k_run));
        json_object_set_new(jm, "d_model", json_integer(m.d_model));
        json_object_set_new(jm, "n_head", json_integer(m.n_head));
        json_object_set_new(jm, "n_head_kv", json_integer(m.n_head_kv));
        json_object_set_new(jm, "head_dim", json_integer(m.head_dim));
        json_object_set_new(jm, "d_ff", json_integer(m.d_ff));
        json_object_set_new(jm, "n_vocab", json_integer(m.n_vocab));
        json_object_set_new(jm, "rope_theta", json_real(m.rope_theta));
        json_object_set_new(jm, "tied_embeddings", json_boolean(m.tied_embeddings));
        json_object_set_new(jm, "n_expert", json_integer(m.n_expert));
        json_object_set_new(jm, "n_expert_used", json_integer(m.n_expert_used));
        json_object_set_new(jm, "weight_bytes_per_token",
                            json_integer((json_int_t)ic_model_weight_bytes_per_token(&m)));
        json_object_set_new(jm, "flop_per_token", json_real(ic_model_flop_per_token(&m, 0)));
        json_object_set_new(root, "model", jm);

        json_t *jp = json_object();
        if (read_bw.available) {
            json_t *r = prov(read_bw.value, "measured");
            json_object_set_new(r, "loop", json_string(read_bw.loop));
            json_object_set_new(jp, "read_bw_gbs", r);
        } else {
            json_object_set_new(jp, "read_bw_gbs", json_string(read_bw.note));
        }
        json_t *pk = json_object();
        if (peak.available) {
            json_t *r = prov(peak.value, "measured");
            json_object_set_new(r, "loop", json_string(peak.loop));
            json_object_set_new(pk, peak_kind, r);
        } else {
            json_object_set_new(pk, peak_kind, json_string(peak.note));
        }
        json_object_set_new(jp, "peak_gflops", pk);
        json_object_set_new(root, "probes", jp);

        json_t *jms = json_array();
        for (int i = 0; i < n_ms; i++) {
            meas *x = &ms[i];
            if (x->skipped || !x->have_median) continue;
            figures *g = &figs[i];
            json_t *e = json_object();
            json_object_set_new(e, "kind", json_string(kind_name(x->kind)));
            json_object_set_new(
                e, "path", json_string(x->kind == K_PREFILL_BLAS ? "openblas_sgemm" : "kernels"));
            json_object_set_new(e, "context", json_integer((json_int_t)x->context));
            json_object_set_new(e, "batch", json_integer((json_int_t)x->batch));
            json_object_set_new(e, "tok_per_s", json_real(g->tok_per_s));
            json_object_set_new(e, "ms_per_token", json_real(g->ms_per_token));
            json_object_set_new(e, "provenance", json_string(slice ? "extrapolated" : "measured"));
            json_object_set_new(e, "extrapolated_from_layers",
                                slice ? json_integer(k_run) : json_null());
            json_object_set_new(e, "repetitions", json_integer(x->n_samples));
            json_t *sm = json_array();
            for (int j = 0; j < x->n_samples; j++)
                json_array_append_new(sm, json_real(x->samples_ns[j] / 1e6));
            json_object_set_new(e, "samples_ms", sm);
            json_object_set_new(e, "median_ms", json_real(x->median_ns / 1e6));
            json_object_set_new(e, "stddev_ms", json_real(x->stddev_ns / 1e6));
            json_t *rf = json_object();
            if (g->bound_tok_per_s > 0) {
                json_object_set_new(rf, "bound_tok_per_s", json_real(g->bound_tok_per_s));
                json_object_set_new(rf, "efficiency", json_real(g->efficiency));
                json_object_set_new(rf, "limit", json_string(g->limit));
                json_object_set_new(rf, "provenance", json_string("modeled"));
                if (g->n_pairs > 0) {
                    json_object_set_new(rf, "read_bw_gbs", json_real(g->read_used));
                    json_object_set_new(rf, "read_bw_source",
                                        json_string("the best of the standalone probe and the "
                                                    "read passes beside the repetitions"));
                    json_t *pl = json_array();
                    double passes[64];
                    int npass = timed_passes(x, passes);
                    for (int j = 0; j < npass; j++) json_array_append_new(pl, json_real(passes[j]));
                    json_object_set_new(rf, "paired_read_gbs", pl);
                } else if (x->kind == K_DECODE || x->kind == K_BATCH) {
                    json_object_set_new(rf, "read_bw_gbs", json_real(read_gbs));
                    json_object_set_new(rf, "read_bw_source",
                                        json_string("standalone probe (probes.read_bw_gbs)"));
                }
            } else {
                json_object_set_new(rf, "bound_tok_per_s", json_null());
                json_object_set_new(rf, "note", json_string("unavailable: no measured ceiling"));
            }
            json_object_set_new(e, "roofline", rf);
            json_object_set_new(e, "bytes_per_token", json_real(g->bytes_per_token));
            json_object_set_new(e, "flop_per_token", json_real(g->flop_per_token));
            if (x->kind == K_DECODE) {
                json_t *os = json_object();
                double total = 0;
                for (int j = 0; j < IC_FOP_COUNT; j++) total += x->op_ns[j];
                for (int j = 0; j < IC_FOP_COUNT; j++)
                    json_object_set_new(os, ic_fop_name((ic_fop)j),
                                        json_real(total > 0 ? x->op_ns[j] / total : 0));
                json_object_set_new(e, "op_share", os);
            }
            json_object_set_new(e, "usd_per_mtok",
                                isfinite(g->usd_per_mtok) ? json_real(g->usd_per_mtok)
                                                          : json_null());
            json_array_append_new(jms, e);
        }
        json_object_set_new(root, "measurements", jms);
        if (price.from_catalog) {
            json_object_set_new(root, "pricing", ic_price_json(&price.price));
        } else if (o.usd_per_hour >= 0) {
            json_t *pr = json_object();
            char today[16];
            strftime(today, sizeof today, "%Y-%m-%d", &tmv);
            json_object_set_new(pr, "usd_per_hour", json_real(o.usd_per_hour));
            json_object_set_new(pr, "source",
                                json_string("price given on the command line "
                                            "(--usd-per-hour)"));
            json_object_set_new(pr, "date", json_string(today));
            json_object_set_new(pr, "instance_type", json_null());
            json_object_set_new(pr, "pricing", json_null());
            json_object_set_new(pr, "region", json_null());
            json_object_set_new(root, "pricing", pr);
        } else {
            json_object_set_new(root, "pricing", json_null());
        }
        if (write_json_atomic(root, o.json_path, err, sizeof err)) {
            ic_error("%s", err);
            rc = IC_EXIT_FAIL;
        }
        json_decref(root);
    }
    for (int i = 0; i < n_ms; i++)
        if (!ms[i].skipped && !ms[i].have_median && rc == 0) rc = IC_EXIT_FAIL;
done:
    ic_bench_clear();
    ic_forward_destroy(f_blas);
    ic_forward_destroy(f);
    ic_pool_destroy(pool);
    return rc;
}

int ic_cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"dtype", required_argument, 0, 'd'},
                                         {"threads", required_argument, 0, 't'},
                                         {"bind", required_argument, 0, 'B'},
                                         {"context", required_argument, 0, 'c'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"prefill", required_argument, 0, 'p'},
                                         {"layers", required_argument, 0, 'L'},
                                         {"blas", no_argument, 0, 'O'},
                                         {"repetitions", required_argument, 0, 'r'},
                                         {"usd-per-hour", required_argument, 0, 'u'},
                                         {"instance", required_argument, 0, 'I'},
                                         {"region", required_argument, 0, 'R'},
                                         {"pricing", required_argument, 0, 'P'},
                                         {"catalog", required_argument, 0, 'C'},
                                         {"json", required_argument, 0, 'j'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"seed", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    run_opts o = {.model_spec = "llama-3.2-1b",
                  .dtype = -1,
                  .threads = 0,
                  .bind = IC_HAVE_HWLOC ? IC_BIND_CORE : IC_BIND_NONE,
                  .prefill = -1,
                  .repetitions = 0,
                  .usd_per_hour = -1,
                  .region = "us-east-1",
                  .pricing = IC_PRICING_ON_DEMAND,
                  .seed = 1};
    o.bench_argv[o.bench_argc++] = "infercost-run";
    /* --benchmark_* flags pass through to Google Benchmark; pull them out before getopt. */
    char *args[256];
    int nargs = 0;
    for (int i = 0; i < argc && nargs < 255; i++) {
        if (i > 0 && strncmp(argv[i], "--benchmark_", 12) == 0) {
            if (o.bench_argc >= 31)
                return ic_usage_error("run", g_usage, "too many --benchmark_ flags");
            o.bench_argv[o.bench_argc++] = argv[i];
        } else {
            args[nargs++] = argv[i];
        }
    }
    args[nargs] = NULL;
    int c;
    long v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nargs, args, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o.model_spec = optarg;
            break;
        case 'd': {
            ic_dtype t;
            if (ic_dtype_parse(optarg, &t))
                return ic_usage_error("run", g_usage,
                                      "--dtype '%s': expected f32, bf16, q8_0 or q4_0", optarg);
            o.dtype = (int)t;
            break;
        }
        case 't':
            if (parse_long(optarg, 1, 4096, &v))
                return ic_usage_error("run", g_usage, "--threads '%s': expected 1 to 4096", optarg);
            o.threads = (int)v;
            break;
        case 'B':
            if (ic_bind_parse(optarg, &o.bind))
                return ic_usage_error("run", g_usage, "--bind '%s': expected none, core or numa",
                                      optarg);
            break;
        case 'c':
            if (parse_list(optarg, o.contexts, &o.n_contexts, 0, 1u << 20))
                return ic_usage_error("run", g_usage,
                                      "--context '%s': expected up to %d positions from 0 to "
                                      "1048576, comma-separated",
                                      optarg, MAX_LIST);
            break;
        case 'b':
            if (parse_list(optarg, o.batches, &o.n_batches, 1, 4096))
                return ic_usage_error("run", g_usage,
                                      "--batch '%s': expected up to %d sizes from 1 to 4096, "
                                      "comma-separated",
                                      optarg, MAX_LIST);
            break;
        case 'p':
            if (parse_long(optarg, 0, 65536, &o.prefill))
                return ic_usage_error("run", g_usage, "--prefill '%s': expected 0 to 65536",
                                      optarg);
            o.prefill_given = 1;
            break;
        case 'L':
            if (parse_long(optarg, 1, IC_MODEL_MAX_LAYERS, &o.layers))
                return ic_usage_error("run", g_usage, "--layers '%s': expected a positive count",
                                      optarg);
            break;
        case 'O':
            o.blas = 1;
            break;
        case 'r':
            if (parse_long(optarg, 1, 64, &v))
                return ic_usage_error("run", g_usage, "--repetitions '%s': expected 1 to 64",
                                      optarg);
            o.repetitions = (int)v;
            break;
        case 'u': {
            char *end;
            errno = 0;
            double x = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(x >= 0) || !isfinite(x) || x > 1e6)
                return ic_usage_error("run", g_usage,
                                      "--usd-per-hour '%s': expected a price in USD per hour",
                                      optarg);
            o.usd_per_hour = x;
            break;
        }
        case 'j':
            o.json_path = optarg;
            break;
        case 'I':
            if (!ic_instance_type_valid(optarg))
                return ic_usage_error("run", g_usage,
                                      "--instance '%s': not an instance type name (e.g. c7i.large)",
                                      optarg);
            o.instance = optarg;
            break;
        case 'R':
            o.region = optarg;
            break;
        case 'P':
            if (ic_pricing_parse(optarg, &o.pricing))
                return ic_usage_error("run", g_usage,
                                      "--pricing '%s': expected on-demand, spot, savings-1y or "
                                      "savings-3y",
                                      optarg);
            break;
        case 'C':
            o.catalog_dir = optarg;
            break;
        case 'q':
            o.quick = 1;
            break;
        case 's':
            if (parse_long(optarg, 0, 0x7fffffffL, &v))
                return ic_usage_error("run", g_usage, "--seed '%s': expected a number", optarg);
            o.seed = (uint64_t)v;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        case ':':
            return ic_usage_error("run", g_usage, "option '%s' needs a value", args[optind - 1]);
        default:
            return ic_usage_error("run", g_usage, "unknown option '%s'", args[optind - 1]);
        }
    }
    if (optind < nargs)
        return ic_usage_error("run", g_usage, "unexpected argument '%s'", args[optind]);
    return run(&o);
}

#endif /* IC_HAVE_BENCHMARK */
