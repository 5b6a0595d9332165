/* infercost run: the main job. Parses the command line, then runs the four stages of run.h:
 * plan, measure, analyze, report; --json writes the result file (results/SCHEMA.md). */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "ic_offload.h"
#include "run.h"

static const char g_usage[] =
    "usage: infercost run [options] [--benchmark_* flags]\n"
    "  --model NAME|FILE.json|FILE.gguf  the model shape (default llama-3.2-1b); presets:\n"
    "                      llama-3.2-1b llama-3.2-3b llama-3.1-8b llama-3.1-70b mistral-7b\n"
    "                      qwen2.5-0.5b qwen2.5-7b mixtral-8x7b\n"
    "  --dtype T           weight type: f32, bf16, q8_0, q4_0 (default q8_0, or the GGUF's;\n"
    "                      bf16 with --model-only)\n"
    "  --kv-dtype T        the KV cache's type: f16 (default), bf16, f32, q8_0 (q8_0 needs a\n"
    "                      head_dim that is a multiple of 32); the roofline's bytes follow it\n"
    "  --device D          cpu (default), cuda or neuron: an offload backend (see `list`)\n"
    "  --model-only        with --device cuda|neuron: model the class's instance types from\n"
    "                      chips.tsv instead of running (every row says modeled)\n"
    "  --threads LIST      worker threads, or a sweep, e.g. 1,2 (default: one per physical core)\n"
    "  --bind MODE         pin workers: none, core, numa (default core with hwloc, else none)\n"
    "  --context LIST      decode context positions, e.g. 128,4096,32768 (default 128,4096)\n"
    "  --prefill N         prefill tokens (default 64; 0 skips prefill)\n"
    "  --prompt LIST       prefill sweep: one figure per prompt length, e.g. 64,512,2048\n"
    "  --batch LIST        batched decode sweep at every context (a batch x context grid),\n"
    "                      e.g. 1,4,16,64\n"
    "  --layers K          run K of the model's layers and extrapolate to full depth\n"
    "                      (chosen automatically when the model does not fit in memory)\n"
    "  --blas              also run the f32 prefill GEMMs through OpenBLAS cblas_sgemm\n"
    "  --repetitions N     Google Benchmark repetitions per figure (default 5; median "
    "reported)\n" IC_PRICE_USAGE_USD_PER_HOUR IC_PRICE_USAGE_INSTANCE IC_PRICE_USAGE_REGION
        IC_PRICE_USAGE_PRICING IC_PRICE_USAGE_CATALOG IC_ACCEL_USAGE
    "  --json FILE         write the result file (results/SCHEMA.md), atomically; the directory\n"
    "                      is checked before anything is measured\n" IC_FORMAT_USAGE
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

static int parse_list(const char *s, size_t *out, int *n, size_t lo, size_t hi) {
    *n = 0;
    const char *p = s;
    while (*p) {
        if (*n >= IC_RUN_MAX_LIST) return -1;
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

/* --threads LIST: a pass per count, the later passes' measurements appended to the first record
 * (each measurement says its thread count). */
static int merge(ic_result *all, const ic_result *r) {
    for (size_t i = 0; i < r->n_meas; i++) {
        ic_measurement *m = ic_result_add(all);
        if (m == NULL) return IC_EXIT_FAIL;
        *m = r->meas[i];
    }
    return 0;
}

/* After a pass: a figure that was neither measured nor skipped fails the run. After the last, the
 * result file (every pass merged into `all` when there were several), unless nothing was
 * measured: a run whose every figure was skipped (a filter that matched nothing, say) leaves an
 * earlier file as it was. */
static int write_result(const ic_run_plan *p, const ic_run_data *d, ic_result *r, ic_result *all,
                        int last) {
    char err[1024];
    int rc = 0;
    for (int i = 0; i < d->n_ms; i++)
        if (!d->ms[i].skipped && !d->ms[i].have_median) rc = IC_EXIT_FAIL;
    if (all) {
        if (merge(all, r)) return IC_EXIT_FAIL;
        r = all;
    }
    if (!last || p->o.json_path == NULL) return rc;
    if (r->n_meas == 0) {
        ic_error("--json %s: nothing was measured (every figure was skipped); the file was not "
                 "written",
                 p->o.json_path);
        return IC_EXIT_FAIL;
    }
    if (ic_result_write(r, p->o.json_path, err, sizeof err)) {
        ic_error("%s", err);
        return IC_EXIT_FAIL;
    }
    return rc;
}

/* One pass: plan -> measure -> analyze -> report, with the record in *r. */
static int run_pass(const ic_run_opts *o, ic_run_data *d, ic_run_plan *p, ic_result *r) {
    int rc = ic_run_plan_make(o, p);
    if (rc == 0) rc = ic_run_measure(p, d);
    if (rc == 0 && ic_run_analyze(p, d, r)) {
        ic_error("out of memory");
        rc = IC_EXIT_FAIL;
    }
    if (rc == 0) {
        ic_run_report(p, d, r, p->o.format, stdout);
        if (fflush(stdout) != 0) rc = IC_EXIT_FAIL;
    }
    return rc;
}

/* plan -> measure -> analyze -> report (once per thread count), then the result file. */
static int run(const ic_run_opts *o_in) {
    ic_run_opts o = *o_in;
    int passes = o.n_thread_list > 1 ? o.n_thread_list : 1;
    ic_result all;
    memset(&all, 0, sizeof all);
    int rc = 0;
    for (int i = 0; i < passes && rc == 0; i++) {
        ic_run_plan p;
        ic_result r;
        memset(&r, 0, sizeof r);
        ic_run_data *d = calloc(1, sizeof *d); /* a figure per context x batch: not on a stack */
        if (d == NULL) {
            ic_error("out of memory");
            return IC_EXIT_FAIL;
        }
        if (o.n_thread_list > 1) o.threads = (int)o.thread_list[i];
        rc = run_pass(&o, d, &p, &r);
        if (rc == 0) rc = write_result(&p, d, &r, i == 0 ? NULL : &all, i == passes - 1);
        if (rc == 0 && i == 0)
            all = r;
        else
            ic_result_free(&r);
        ic_run_data_free(d);
        ic_run_plan_free(&p);
        free(d);
    }
    ic_result_free(&all);
    return rc;
}

/* --device cuda|neuron: modeled rows (--model-only), or the backend when it is usable here. */
static int run_device(ic_run_opts *o) {
    const ic_offload_ops *b = ic_offload_find(o->device);
    if (o->model_only) {
        ic_accel_class cls;
        if (ic_accel_class_parse(o->device, &cls)) return IC_EXIT_USAGE; /* parse_option checked */
        if (o->json_path)
            return ic_usage_error("run", g_usage,
                                  "--json writes measured results; --model-only prints modeled "
                                  "rows (--format json prints them as JSON)");
        if (o->price.usd_per_hour > 0 && !o->price.instance)
            return ic_usage_error("run", g_usage,
                                  "--usd-per-hour with --model-only prices one type: give "
                                  "--instance T");
        if (o->n_contexts == 0) {
            o->contexts[0] = 128;
            o->contexts[1] = 4096;
            o->n_contexts = 2;
        }
        if (o->n_batches == 0) {
            o->batches[0] = 1;
            o->n_batches = 1;
        }
        return ic_run_model_only(o, cls);
    }
    ic_offload_info info;
    b->probe(&info);
    if (info.state != IC_OFFLOAD_USABLE) {
        ic_error("run --device %s: %s: %s (--model-only models it from chips.tsv instead)",
                 o->device, ic_offload_state_name(info.state), info.why);
        return IC_EXIT_USAGE;
    }
    return ic_run_device(o, b);
}

/* The options of run's own; the price options are pricing.h's. */
static int parse_option(ic_run_opts *o, int c, const char *arg) {
    long v;
    char err[512];
    int pc = ic_price_opts_parse(&o->price, c, arg, err, sizeof err);
    if (pc == 0) pc = ic_accel_opts_parse(&o->accel, c, arg, err, sizeof err);
    if (pc < 0) return ic_usage_error("run", g_usage, "%s", err);
    if (pc > 0) return 0;
    switch (c) {
    case 'D':
        if (strcmp(arg, "cpu") && !ic_offload_find(arg))
            return ic_usage_error("run", g_usage, "--device '%s': expected cpu, cuda or neuron",
                                  arg);
        o->device = arg;
        return 0;
    case 'M':
        o->model_only = 1;
        return 0;
    case 'm':
        o->model_spec = arg;
        return 0;
    case 'd': {
        ic_dtype t;
        char why[160];
        if (ic_dtype_parse_weight(arg, &t, why, sizeof why))
            return ic_usage_error("run", g_usage, "--dtype '%s': %s", arg, why);
        o->dtype = (int)t;
        return 0;
    }
    case 'K': {
        ic_dtype t;
        char why[160];
        if (ic_dtype_parse_kv(arg, &t, why, sizeof why))
            return ic_usage_error("run", g_usage, "--kv-dtype '%s': %s", arg, why);
        o->kv_dtype = t;
        return 0;
    }
    case 't':
        if (parse_list(arg, o->thread_list, &o->n_thread_list, 1, 4096))
            return ic_usage_error("run", g_usage,
                                  "--threads '%s': expected up to %d counts from 1 to 4096, "
                                  "comma-separated",
                                  arg, IC_RUN_MAX_LIST);
        o->threads = (int)o->thread_list[0];
        return 0;
    case 'B':
        if (ic_bind_parse(arg, &o->bind))
            return ic_usage_error("run", g_usage, "--bind '%s': expected none, core or numa", arg);
        return 0;
    case 'c':
        if (parse_list(arg, o->contexts, &o->n_contexts, 0, 1u << 20))
            return ic_usage_error("run", g_usage,
                                  "--context '%s': expected up to %d positions from 0 to 1048576, "
                                  "comma-separated",
                                  arg, IC_RUN_MAX_LIST);
        return 0;
    case 'b':
        if (parse_list(arg, o->batches, &o->n_batches, 1, 4096))
            return ic_usage_error("run", g_usage,
                                  "--batch '%s': expected up to %d sizes from 1 to 4096, "
                                  "comma-separated",
                                  arg, IC_RUN_MAX_LIST);
        return 0;
    case 'p':
        if (parse_long(arg, 0, 65536, &o->prefill))
            return ic_usage_error("run", g_usage, "--prefill '%s': expected 0 to 65536", arg);
        o->prefill_given = 1;
        o->n_prompts = o->prefill > 0;
        o->prompts[0] = (size_t)o->prefill;
        return 0;
    case 'P':
        if (parse_list(arg, o->prompts, &o->n_prompts, 1, 65536))
            return ic_usage_error(
                "run", g_usage,
                "--prompt '%s': expected up to %d prompt lengths from 1 to 65536, "
                "comma-separated",
                arg, IC_RUN_MAX_LIST);
        o->prefill_given = 1;
        o->prefill = 0;
        for (int i = 0; i < o->n_prompts; i++)
            if ((long)o->prompts[i] > o->prefill) o->prefill = (long)o->prompts[i];
        return 0;
    case 'L':
        if (parse_long(arg, 1, IC_MODEL_MAX_LAYERS, &o->layers))
            return ic_usage_error("run", g_usage, "--layers '%s': expected 1 to %d", arg,
                                  IC_MODEL_MAX_LAYERS);
        return 0;
    case 'O':
        o->blas = 1;
        return 0;
    case 'r':
        if (parse_long(arg, 1, 64, &v))
            return ic_usage_error("run", g_usage, "--repetitions '%s': expected 1 to 64", arg);
        o->repetitions = (int)v;
        return 0;
    case 'j':
        o->json_path = arg;
        return 0;
    case 'f':
        if (ic_format_parse(arg, &o->format))
            return ic_usage_error("run", g_usage, "--format '%s': expected table, md, csv or json",
                                  arg);
        return 0;
    case 'q':
        o->quick = 1;
        return 0;
    case 's':
        if (parse_long(arg, 0, 0x7fffffffL, &v))
            return ic_usage_error("run", g_usage, "--seed '%s': expected 0 to 2147483647", arg);
        o->seed = (uint64_t)v;
        return 0;
    }
    return ic_usage_error("run", g_usage, "unknown option");
}

int ic_cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"dtype", required_argument, 0, 'd'},
                                         {"kv-dtype", required_argument, 0, 'K'},
                                         {"threads", required_argument, 0, 't'},
                                         {"bind", required_argument, 0, 'B'},
                                         {"context", required_argument, 0, 'c'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"prefill", required_argument, 0, 'p'},
                                         {"prompt", required_argument, 0, 'P'},
                                         {"layers", required_argument, 0, 'L'},
                                         {"blas", no_argument, 0, 'O'},
                                         {"repetitions", required_argument, 0, 'r'},
                                         IC_PRICE_OPTION_USD_PER_HOUR,
                                         IC_PRICE_OPTION_INSTANCE,
                                         IC_PRICE_OPTION_REGION,
                                         IC_PRICE_OPTION_PRICING,
                                         IC_PRICE_OPTION_CATALOG,
                                         {"json", required_argument, 0, 'j'},
                                         {"format", required_argument, 0, 'f'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"seed", required_argument, 0, 's'},
                                         {"device", required_argument, 0, 'D'},
                                         {"model-only", no_argument, 0, 'M'},
                                         IC_ACCEL_OPTION_EFFICIENCY,
                                         IC_ACCEL_OPTION_TP_SCALING,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ic_run_opts o = {.model_spec = "llama-3.2-1b",
                     .dtype = -1,
                     .kv_dtype = IC_DT_F16,
                     .bind = IC_HAVE_HWLOC ? IC_BIND_CORE : IC_BIND_NONE,
                     .prefill = -1,
                     .seed = 1};
    ic_price_opts_init(&o.price);
    ic_accel_params_default(&o.accel);
    o.bench_argv[o.bench_argc++] = "infercost-run";
    /* --benchmark_* flags pass through to Google Benchmark; pull them out before getopt. */
    char *args[256];
    int nargs = 0;
    for (int i = 0; i < argc && nargs < 255; i++) {
        if (i > 0 && strncmp(argv[i], "--benchmark_", 12) == 0) {
            if (o.bench_argc >= IC_RUN_MAX_BENCH_ARGS - 1)
                return ic_usage_error("run", g_usage, "too many --benchmark_ flags");
            o.bench_argv[o.bench_argc++] = argv[i];
        } else {
            args[nargs++] = argv[i];
        }
    }
    args[nargs] = NULL;
    char berr[512]; /* bad --benchmark_* flags are refused before anything is measured */
    if (ic_bench_check_flags(o.bench_argc, o.bench_argv, berr, sizeof berr) != 0)
        return ic_usage_error("run", g_usage, "%s", berr);
    int c, rc;
    char err[512];
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nargs, args, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        }
        if (c == ':')
            return ic_usage_error("run", g_usage, "option '%s' needs a value", args[optind - 1]);
        if (c == '?')
            return ic_usage_error("run", g_usage, "unknown option '%s'", args[optind - 1]);
        if ((rc = parse_option(&o, c, optarg))) return rc;
    }
    if (optind < nargs)
        return ic_usage_error("run", g_usage, "unexpected argument '%s'", args[optind]);
    if (ic_price_opts_check(&o.price, err, sizeof err))
        return ic_usage_error("run", g_usage, "%s", err);
    if (o.device && strcmp(o.device, "cpu") != 0) return run_device(&o);
    if (o.model_only)
        return ic_usage_error("run", g_usage,
                              "--model-only models accelerators: give --device cuda or neuron");
    return run(&o);
}

#endif /* IC_HAVE_BENCHMARK */
