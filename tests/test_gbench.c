/* The Google Benchmark shim, driven from C: registration with named arguments, counters with
 * their flags arriving finished in the hook, skip, manual time, repetitions with aggregates,
 * --benchmark_filter, bad flags, and --benchmark_out written whole. */
#define _GNU_SOURCE
#include <math.h>
#include <glob.h>
#include <string.h>
#include <unistd.h>

#include "gbench.h"
#include "ic_test.h"

#define MAX_REPORTS 64

typedef struct {
    char name[160];
    char aggregate[16];
    int64_t iterations;
    double real_time_ns;
    int skipped;
    char skip_message[160];
    int n_counters;
    char counter_names[16][32];
    double counter_values[16];
} saved_report;

static saved_report g_reports[MAX_REPORTS];
static int g_nreports;

static void hook(const ic_bench_report *r, void *user) {
    (void)user;
    if (g_nreports >= MAX_REPORTS) return;
    saved_report *s = &g_reports[g_nreports++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", r->name);
    if (r->aggregate) snprintf(s->aggregate, sizeof s->aggregate, "%s", r->aggregate);
    s->iterations = r->iterations;
    s->real_time_ns = r->real_time_ns;
    s->skipped = r->skipped;
    if (r->skip_message) snprintf(s->skip_message, sizeof s->skip_message, "%s", r->skip_message);
    s->n_counters = r->n_counters < 16 ? r->n_counters : 16;
    for (int i = 0; i < s->n_counters; i++) {
        snprintf(s->counter_names[i], sizeof s->counter_names[i], "%s", r->counter_names[i]);
        s->counter_values[i] = r->counter_values[i];
    }
}

static const saved_report *find(const char *name, const char *aggregate) {
    for (int i = 0; i < g_nreports; i++)
        if (strcmp(g_reports[i].name, name) == 0 &&
            strcmp(g_reports[i].aggregate, aggregate ? aggregate : "") == 0)
            return &g_reports[i];
    return NULL;
}

static double counter(const saved_report *r, const char *name) {
    for (int i = 0; i < r->n_counters; i++)
        if (strcmp(r->counter_names[i], name) == 0) return r->counter_values[i];
    return NAN;
}

static int run(const char *filter, const char *extra1, const char *extra2, char *err) {
    char f[200];
    snprintf(f, sizeof f, "--benchmark_filter=%s", filter);
    char *argv[8] = {"test_gbench", f, "--benchmark_min_time=0.01", NULL, NULL, NULL};
    int argc = 3;
    if (extra1) argv[argc++] = (char *)extra1;
    if (extra2) argv[argc++] = (char *)extra2;
    g_nreports = 0;
    return ic_bench_run(argc, argv, hook, NULL, err, 256);
}

static int64_t g_seen_args[2];
static volatile double g_sink;

static void body_args(ic_bench_state *st, void *user) {
    int *calls = user;
    (*calls)++;
    g_seen_args[0] = ic_bench_arg(st, 0);
    g_seen_args[1] = ic_bench_arg(st, 1);
    double acc = 0;
    while (ic_bench_keep_running(st)) {
        ic_bench_pause(st);
        acc += 1.0; /* untimed setup */
        ic_bench_resume(st);
        for (int i = 0; i < 100; i++) acc += i * 0.5;
    }
    g_sink = acc;
}

/* Manual time of exactly 1 ms per iteration makes every rate exact: counters divide by it. */
static void body_counters(ic_bench_state *st, void *user) {
    (void)user;
    while (ic_bench_keep_running(st)) ic_bench_set_iteration_time(st, 1e-3);
    double it = (double)ic_bench_iterations(st);
    ic_bench_set_counter(st, "rate", 5.0 * it, IC_COUNTER_RATE);
    ic_bench_set_counter(st, "per_iter", 7.0 * it, IC_COUNTER_AVG_ITERATIONS);
    ic_bench_set_counter(st, "inv_rate", 5.0 * it, IC_COUNTER_RATE | IC_COUNTER_INVERT);
    ic_bench_set_counter(st, "plain", 42.0, IC_COUNTER_DEFAULT);
    ic_bench_set_bytes_processed(st, (int64_t)(it * 1000));
    ic_bench_set_items_processed(st, (int64_t)(it * 3));
}

static void body_skip(ic_bench_state *st, void *user) {
    (void)user;
    ic_bench_skip(st, "skipped: needs avx512_vnni");
}

static void body_early(ic_bench_state *st, void *user) {
    (void)st;
    (void)user;
}

static void body_reps(ic_bench_state *st, void *user) {
    (void)user;
    while (ic_bench_keep_running(st)) ic_bench_set_iteration_time(st, 2e-3);
}

int main(void) {
    char err[256];
    int calls = 0;
    ic_bench_config cfg = {.n_args = 2, .args = {3, 5}, .arg_names = {"m", "k"}};
    CHECK(ic_bench_register("t/args", body_args, &calls, &cfg, err, sizeof err) == 0, "%s", err);
    ic_bench_config mc = {.manual_time = 1};
    CHECK(ic_bench_register("t/counters", body_counters, NULL, &mc, err, sizeof err) == 0, "%s",
          err);
    CHECK(ic_bench_register("t/skip", body_skip, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(ic_bench_register("t/early", body_early, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ic_bench_config rc = {.manual_time = 1, .repetitions = 3};
    CHECK(ic_bench_register("t/reps", body_reps, NULL, &rc, err, sizeof err) == 0, "%s", err);

    /* Bad registrations are errors, not crashes. */
    CHECK(ic_bench_register("", body_skip, NULL, NULL, err, sizeof err) == -1 &&
              strstr(err, "empty"),
          "empty name: %s", err);
    ic_bench_config bad = {.n_args = IC_BENCH_MAX_ARGS + 1};
    CHECK(ic_bench_register("t/bad", body_skip, NULL, &bad, err, sizeof err) == -1 &&
              strstr(err, "arguments"),
          "too many args: %s", err);

    /* A registered function runs, under its argument names, and sees its arguments. */
    int n = run("t/args", NULL, NULL, err);
    CHECK(n == 1, "t/args: %d reports (%s)", n, err);
    const saved_report *r = find("t/args/m:3/k:5", NULL);
    CHECK(r != NULL, "no report named t/args/m:3/k:5 (first: %s)", g_reports[0].name);
    CHECK(calls >= 1 && g_seen_args[0] == 3 && g_seen_args[1] == 5, "args %lld %lld calls %d",
          (long long)g_seen_args[0], (long long)g_seen_args[1], calls);
    CHECK(r && r->iterations > 0 && r->real_time_ns > 0 && !r->skipped, "t/args ran");

    /* Counters arrive finished: rate divides by (manual) time, avg-iterations by iterations. */
    n = run("t/counters", NULL, NULL, err);
    r = find("t/counters/manual_time", NULL);
    CHECK(n == 1 && r != NULL, "t/counters: %d reports (%s), first %s", n, err, g_reports[0].name);
    if (r) {
        CHECK(fabs(r->real_time_ns - 1e6) < 1, "manual time per iteration %g ns", r->real_time_ns);
        CHECK(fabs(counter(r, "rate") - 5000.0) < 1e-6, "rate %g", counter(r, "rate"));
        CHECK(fabs(counter(r, "per_iter") - 7.0) < 1e-9, "per_iter %g", counter(r, "per_iter"));
        CHECK(fabs(counter(r, "inv_rate") - 2e-4) < 1e-12, "inv_rate %g", counter(r, "inv_rate"));
        CHECK(counter(r, "plain") == 42.0, "plain %g", counter(r, "plain"));
        CHECK(fabs(counter(r, "bytes_per_second") - 1e6) < 1e-3, "bytes/s %g",
              counter(r, "bytes_per_second"));
        CHECK(fabs(counter(r, "items_per_second") - 3000.0) < 1e-6, "items/s %g",
              counter(r, "items_per_second"));
    }

    /* Skip: reported with the message; a body that returns early is an error run, not an abort. */
    n = run("t/skip", NULL, NULL, err);
    r = find("t/skip", NULL);
    CHECK(n == 1 && r && r->skipped && strcmp(r->skip_message, "skipped: needs avx512_vnni") == 0,
          "skip: n=%d msg '%s'", n, r ? r->skip_message : "");
    n = run("t/early", NULL, NULL, err);
    r = find("t/early", NULL);
    CHECK(n == 1 && r && r->skipped && strstr(r->skip_message, "returned before"), "early: '%s'",
          r ? r->skip_message : "");

    /* Repetitions: three runs, then mean, median, stddev and cv. */
    n = run("t/reps", NULL, NULL, err);
    CHECK(n == 7, "t/reps: %d reports, want 3 + 4 aggregates", n);
    const saved_report *mean = find("t/reps/repeats:3/manual_time_mean", "mean");
    CHECK(mean && fabs(mean->real_time_ns - 2e6) < 1, "mean %g", mean ? mean->real_time_ns : -1);
    CHECK(find("t/reps/repeats:3/manual_time_median", "median") != NULL, "median aggregate");
    CHECK(find("t/reps/repeats:3/manual_time_stddev", "stddev") != NULL, "stddev aggregate");
    const saved_report *cv = find("t/reps/repeats:3/manual_time_cv", "cv");
    CHECK(cv && cv->real_time_ns < 1e-6, "cv is a ratio near 0: %g", cv ? cv->real_time_ns : -1);

    /* The filter is a regex over the names; a later run without one sees every benchmark. */
    n = run("t/(args|skip)", NULL, NULL, err);
    CHECK(n == 2 && find("t/skip", NULL) && find("t/args/m:3/k:5", NULL), "filter: %d", n);
    n = run(".", NULL, NULL, err);
    CHECK(n == 1 + 1 + 1 + 1 + 7, "all: %d", n);
    n = run("nothing-matches-this", NULL, NULL, err);
    CHECK(n == 0, "no match: %d", n);

    /* Flags the library does not know, or values it would exit on, are bad input. */
    const int badf = IC_BENCH_BAD_FLAGS;
    CHECK(run("t/args", "--frob", NULL, err) == badf && strstr(err, "--frob"), "--frob: %s", err);
    CHECK(run("t/args", "--benchmark_bogus=1", NULL, err) == badf && strstr(err, "benchmark_bogus"),
          "bogus flag: %s", err);
    CHECK(run("t/args", "--benchmark_format=xml", NULL, err) == badf && strstr(err, "xml"),
          "bad format: %s", err);
    CHECK(run("t/args", "--benchmark_repetitions=many", NULL, err) == badf, "bad int: %s", err);
    CHECK(run("t/args", "--benchmark_repetitions=-1", NULL, err) == badf, "negative: %s", err);
    CHECK(run("t/args", "--benchmark_min_time=nan", NULL, err) == badf, "nan: %s", err);
    CHECK(run("(", NULL, NULL, err) == badf && strstr(err, "not a regular expression"),
          "bad filter: %s", err);

    /* --benchmark_out: JSON written whole, with the custom context; a bad path is an error. */
    ic_bench_add_context("ic_test_key", "ic_test_value");
    char path[] = "/tmp/ic_gbench_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    char outflag[64];
    snprintf(outflag, sizeof outflag, "--benchmark_out=%s", path);
    n = run("t/args", outflag, "--benchmark_out_format=json", err);
    CHECK(n == 1, "out run: %d %s", n, err);
    FILE *f = fopen(path, "r");
    char buf[8192] = "";
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[got] = '\0';
    if (f) fclose(f);
    CHECK(strstr(buf, "\"context\"") && strstr(buf, "\"ic_test_key\": \"ic_test_value\"") &&
              strstr(buf, "\"name\": \"t/args/m:3/k:5\""),
          "out file: %.300s", buf);
    char pattern[128];
    snprintf(pattern, sizeof pattern, "%s.tmp.*", path);
    glob_t g;
    CHECK(glob(pattern, 0, NULL, &g) == GLOB_NOMATCH, "temporary %s left behind", pattern);
    unlink(path);
    n = run("t/args", "--benchmark_out=/nonexistent-dir/x.json", NULL, err);
    CHECK(n == badf && strstr(err, "/nonexistent-dir/x.json"), "bad out path: %d %s", n, err);
    /* A device is written in place, and a failed write is an error (exit 1), not a quiet 0. */
    n = run("t/args", "--benchmark_out=/dev/full", NULL, err);
    CHECK(n == -1 && strstr(err, "No space left on device"), "/dev/full: %d %s", n, err);

    CHECK(strcmp(ic_bench_library_version(), "unknown") != 0, "version %s",
          ic_bench_library_version());
    ic_bench_clear();
    CHECK(run(".", NULL, NULL, err) == 0, "cleared registry still runs something");
    return ic_test_finish("test_gbench");
}
