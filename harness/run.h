/* `infercost run` in four stages, each in a file of its own:
 *   plan    (run_plan.c)    options with their defaults, the model, the kernels, the thread pool,
 *                           the price, and how many layers fit in memory; outputs checked first
 *   measure (run_measure.c) this host's ceilings, the forward pass on synthetic weights, and one
 *                           Google Benchmark figure per phase, context and batch
 *   analyze (run_analyze.c) the measurements as a result record (result.h) with their roofline
 *                           bounds (roofline.h) and prices (pricing.h)
 *   report  (run_report.c)  the record as a table, Markdown, CSV or JSON (report.h)
 * cmd_run.c parses the command line and calls them in order. */
#ifndef IC_RUN_H
#define IC_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "accel.h"
#include "forward.h"
#include "model.h"
#include "pool.h"
#include "pricing.h"
#include "probes.h"
#include "report.h"
#include "result.h"

#define IC_RUN_MAX_LIST 16
/* prefill and its OpenBLAS twin per prompt, decode per context, batch decode per context x batch */
#define IC_RUN_MAX_MEAS       (2 * IC_RUN_MAX_LIST + IC_RUN_MAX_LIST + IC_RUN_MAX_LIST * IC_RUN_MAX_LIST)
#define IC_RUN_MAX_BENCH_ARGS 32

typedef struct ic_run_opts {
    const char *model_spec;
    int dtype;                           /* -1: the default (q8_0, or the GGUF's) */
    ic_dtype kv_dtype;                   /* --kv-dtype: the KV cache's type (default f16) */
    int threads;                         /* 0: one per physical core */
    size_t thread_list[IC_RUN_MAX_LIST]; /* --threads LIST: one pass per count */
    int n_thread_list;
    ic_bind bind;
    size_t contexts[IC_RUN_MAX_LIST];
    int n_contexts;
    size_t batches[IC_RUN_MAX_LIST];
    int n_batches;
    long prefill; /* the longest prompt (capacities); -1: the default */
    int prefill_given;
    size_t prompts[IC_RUN_MAX_LIST]; /* the prefill figures: --prompt LIST or --prefill N */
    int n_prompts;
    long layers; /* 0: all, or chosen to fit */
    int blas;
    int repetitions; /* 0: the default */
    ic_price_opts price;
    const char *json_path;
    ic_format format;
    int quick;
    uint64_t seed;
    const char *device; /* --device: NULL or "cpu", "cuda", "neuron" */
    int model_only;     /* --model-only: modeled accelerator rows, nothing runs */
    ic_accel_params accel;
    int bench_argc;
    char *bench_argv[IC_RUN_MAX_BENCH_ARGS];
} ic_run_opts;

typedef struct ic_run_plan {
    ic_run_opts o;                /* with every default filled in */
    int user_min_time, user_reps; /* --benchmark_min_time / _repetitions given */
    ic_model m;
    ic_level cap;
    int cap_set; /* IC_ISA was given */
    ic_kset ks;
    int nthreads;
    ic_pool *pool;
    ic_fwd_config cfg;
    size_t max_ctx;
    uint32_t k_run; /* layers run; < m.n_layer: a slice, figures extrapolated */
    uint64_t avail_bytes, usable_bytes;
    ic_fwd_bytes fb;
    ic_host_id host;
    ic_priced price;
    char blas_note[160];
    int progress; /* progress lines on stderr (a terminal) */
} ic_run_plan;

/* One figure as measured, filled from the benchmark hook. */
typedef struct ic_run_meas {
    ic_meas_kind kind;
    int baseline; /* the f32 prefill through OpenBLAS cblas_sgemm */
    char bench_name[96];
    size_t context, batch;                    /* batch: sequences, or prefill tokens */
    double samples_ns[IC_RESULT_MAX_SAMPLES]; /* per iteration, one per repetition */
    int n_samples;
    double median_ns, stddev_ns;
    int have_median;
    int skipped;
    char skip_message[160];
    double op_ns[IC_FOP_COUNT]; /* op timing inside the measured loop */
    double layers_ns;
    double timed_steps;
    /* decode and batch decode: a read pass over the weights before each call of the body (GB/s),
     * with that call's iteration count */
    double pair_gbs[IC_RESULT_MAX_SAMPLES];
    int64_t pair_iters[IC_RESULT_MAX_SAMPLES];
    int n_pairs;
    /* decode and batch decode: each step's time (ns) in the calls that ran the final iteration
     * count (the timed repetitions), for latency percentiles */
    double *step_ns;
    size_t n_steps, cap_steps;
    int64_t steps_iters;
} ic_run_meas;

typedef struct ic_run_data {
    ic_ceiling read_bw, peak;
    const char *peak_kind; /* "f32", "bf16" or "int8": what the prefill GEMM computes in */
    ic_forward *f, *f_blas;
    ic_run_meas ms[IC_RUN_MAX_MEAS];
    int n_ms;
    const ic_probe_loop *pair_loop; /* NULL: no read passes beside the repetitions */
    size_t pair_bytes;
    char pair_note[200];
    long prefill_asked; /* > 0 when the prefill was shortened from this many tokens */
    char prefill_note[200];
    double clock_read_ns;
    uint64_t clock_reads_per_step;
} ic_run_data;

/* `run --device cuda|neuron --model-only` (run_model_only.c): modeled rows for the class's
 * instance types. Returns 0 or an exit code with the message printed. */
int ic_run_model_only(const ic_run_opts *o, ic_accel_class cls);

/* `run --device D` on a usable offload backend (run_device.c): the same figures measured on the
 * device. Returns 0 or an exit code with the message printed. */
struct ic_offload_ops;
int ic_run_device(ic_run_opts *o, const struct ic_offload_ops *b);

/* The prefill length a run without --prefill measures: `asked` tokens when asked x reps decode
 * steps of step_s seconds fit in budget_s; else as many as fit, in whole 16-token groups (the
 * AMX GEMMs' tile: a prompt of 60 would send 12 tokens to the vector kernels), in fours under 16,
 * 4 at fewest. */
long ic_run_prefill_fit(long asked, double step_s, int reps, double budget_s);

/* Plan: fills p from o. Returns 0, or an exit code with the message printed. */
int ic_run_plan_make(const ic_run_opts *o, ic_run_plan *p);
void ic_run_plan_free(ic_run_plan *p);

/* Measure: runs the ceilings and the figures. Returns 0, or an exit code with the message printed.
 */
int ic_run_measure(ic_run_plan *p, ic_run_data *d);
void ic_run_data_free(ic_run_data *d);

/* Analyze: the measurements as a result record. Returns 0, or 1 when out of memory. */
int ic_run_analyze(const ic_run_plan *p, const ic_run_data *d, ic_result *r);

/* Report: the record as the chosen format on out (JSON: the record itself). */
void ic_run_report(const ic_run_plan *p, const ic_run_data *d, const ic_result *r, ic_format fmt,
                   FILE *out);

#endif
