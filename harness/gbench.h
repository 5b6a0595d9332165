/* A C API over Google Benchmark (libbenchmark). The implementation is the project's one C++ file,
 * harness/gbench.cc; no C++ exception crosses into C: each entry point catches everything and
 * reports it as an error value or a skipped run.
 *
 * Use: register functions with ic_bench_register, add context with ic_bench_add_context, then
 * call ic_bench_run(argc, argv, hook, user). Every --benchmark_* flag works unchanged, the console
 * and JSON output are Google Benchmark's own, and the hook sees each finished run and aggregate. */
#ifndef IC_GBENCH_H
#define IC_GBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The state of one running benchmark (wraps benchmark::State). Valid only inside the callback. */
typedef struct ic_bench_state ic_bench_state;

/* A benchmark body: loop while ic_bench_keep_running(st) returns true; user is the pointer given
 * at registration. */
typedef void ic_bench_fn(ic_bench_state *st, void *user);

#define IC_BENCH_MAX_ARGS 8

/* Registration options; zero means the library's default. */
typedef struct ic_bench_config {
    int n_args;                               /* integer arguments, in order */
    int64_t args[IC_BENCH_MAX_ARGS];          /* their values (read with ic_bench_arg) */
    const char *arg_names[IC_BENCH_MAX_ARGS]; /* "m", "k": the run is named name/m:4096/k:14336 */
    double min_time_s;                        /* minimum measured time per repetition */
    int repetitions;                          /* >1 adds mean, median, stddev and cv aggregates */
    int threads;         /* Google Benchmark threads (the harness pool is separate) */
    int manual_time;     /* time comes from ic_bench_set_iteration_time */
    int aggregates_only; /* report only the aggregates of repetitions */
    int real_time;       /* time and rates from the wall clock, not the calling thread's CPU time:
                          * for work spread over a pool (zero keeps the CPU time) */
} ic_bench_config;

/* Registers fn under name. Returns 0, or -1 with a message (name empty, too many args...). */
int ic_bench_register(const char *name, ic_bench_fn *fn, void *user, const ic_bench_config *cfg,
                      char *err, size_t errlen);

/* The iteration loop: true while the library wants another iteration. Not inline, so C can call
 * it (benchmark::State::KeepRunning is inline-only in the library). */
int ic_bench_keep_running(ic_bench_state *st);

int64_t ic_bench_arg(const ic_bench_state *st, int index);
int64_t ic_bench_iterations(const ic_bench_state *st);
int ic_bench_thread_index(const ic_bench_state *st);

/* Stop and restart the clock around work that must not be timed. */
void ic_bench_pause(ic_bench_state *st);
void ic_bench_resume(ic_bench_state *st);

/* Totals over all iterations, reported as bytes_per_second and items_per_second. */
void ic_bench_set_bytes_processed(ic_bench_state *st, int64_t bytes);
void ic_bench_set_items_processed(ic_bench_state *st, int64_t items);

/* Counter flags, as Google Benchmark's Counter::Flags. */
enum {
    IC_COUNTER_DEFAULT = 0,
    IC_COUNTER_RATE = 1 << 0, /* divided by the run's time: a per-second rate */
    IC_COUNTER_AVG_THREADS = 1 << 1,
    IC_COUNTER_AVG_ITERATIONS = 1 << 2, /* divided by the iterations: a per-iteration figure */
    IC_COUNTER_INVERT = 1 << 3,         /* 1/x after the above: seconds per item from a rate */
};

/* Sets a user counter (value as a total over the run, shaped by the flags). */
void ic_bench_set_counter(ic_bench_state *st, const char *name, double value, int flags);

/* Manual timing (offload devices): the time of the last iteration, in seconds. */
void ic_bench_set_iteration_time(ic_bench_state *st, double seconds);

/* Marks the run skipped with a message, e.g. "skipped: needs avx512_vnni". The caller then
 * returns without iterating. (libbenchmark 1.7 spells this SkipWithError; the run is reported
 * with error set and the message.) */
void ic_bench_skip(ic_bench_state *st, const char *message);

void ic_bench_set_label(ic_bench_state *st, const char *label);

/* Adds a key/value to the "context" object of the JSON output and the console header. */
void ic_bench_add_context(const char *key, const char *value);

/* One finished run or aggregate, handed to the hook. Strings and arrays live for the call only. */
typedef struct ic_bench_report {
    const char *name;      /* the run name with arguments; aggregates carry the suffix (_mean) */
    const char *aggregate; /* NULL for a repetition, else "mean", "median", "stddev", "cv" */
    int repetition_index;
    int repetitions;
    int64_t iterations;
    double real_time_ns; /* per iteration (manual time when the run used it) */
    double cpu_time_ns;  /* per iteration */
    int skipped;         /* set by ic_bench_skip, or an error in the run */
    const char *skip_message;
    int n_counters;
    const char *const *counter_names;
    const double *counter_values; /* finished values: rates per second, averages applied */
} ic_bench_report;

typedef void ic_bench_report_fn(const ic_bench_report *r, void *user);

/* Runs the registered benchmarks that --benchmark_filter selects, printing through the library's
 * own reporters (--benchmark_format, --benchmark_out, --benchmark_out_format), and calls hook
 * for every run and aggregate. argv is scanned for --benchmark_* flags; unknown --benchmark_*
 * flags are an error, and so is any argument that is not a --benchmark_* flag (strip the
 * command's own options first). The hook sees what the display reporter sees, so with
 * --benchmark_display_aggregates_only only the aggregates. A --benchmark_out file is written as
 * every output is (tempfiles.h: a temporary name beside it, renamed when the run ends; a device in
 * place) and only when something ran. Flags do not carry over between calls.
 * For the "cv" aggregate, real_time_ns and cpu_time_ns hold the ratio (stddev / mean) instead.
 * The flags are checked first (ic_bench_check_flags). A --benchmark_out file that cannot be
 * written whole is an error, and the previous file stays. Returns the number of runs reported (0
 * when the filter matched none), IC_BENCH_BAD_FLAGS with a message for bad flags, or -1 with a
 * message for a runtime failure (the --benchmark_out file could not be written). */
int ic_bench_run(int argc, char **argv, ic_bench_report_fn *hook, void *user, char *err,
                 size_t errlen);

/* What ic_bench_run and ic_bench_check_flags return for flags that cannot be run (bad input). */
#define IC_BENCH_BAD_FLAGS (-2)

/* Checks --benchmark_* flags before anything runs: only library flags, known format and time unit
 * names, a --benchmark_filter that compiles as the library compiles it (std::regex, POSIX extended
 * syntax), number flags in range (repetitions 1 to 1e6; min_time and min_warmup_time 0 to
 * 86400 s), and a --benchmark_out that can be an output (ic_out_check). Returns 0, or
 * IC_BENCH_BAD_FLAGS with a message naming the flag. */
int ic_bench_check_flags(int argc, char **argv, char *err, size_t errlen);

/* Where the next ic_bench_run prints Google Benchmark's own display (console, JSON or CSV): stdout
 * (the default), stderr (progress beside a command's own stdout), or nowhere. The choice holds for
 * one run, then returns to stdout. --benchmark_out files are not affected. */
typedef enum ic_bench_display {
    IC_BENCH_DISPLAY_STDOUT,
    IC_BENCH_DISPLAY_STDERR,
    IC_BENCH_DISPLAY_NONE
} ic_bench_display;

void ic_bench_set_display(ic_bench_display where);

/* Drops every registration (between runs of a command, and in tests). */
void ic_bench_clear(void);

/* The libbenchmark version this binary was built against, e.g. "1.7.1". */
const char *ic_bench_library_version(void);

#ifdef __cplusplus
}
#endif

#endif
