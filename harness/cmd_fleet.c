/* infercost fleet: many instance types measured in one go on Slurm (one partition per type, as
 * AWS ParallelCluster sets up one queue per instance type). plan writes an sbatch script, submit
 * queues it once per partition, status asks Slurm, collect checks each result against the type
 * its partition promised, adds the results to the history and prints compare-chips' ranking.
 * infercost schedules nothing itself. The files and Slurm's answers are fleet.h's. */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail.h"
#include "fleet.h"
#include "history.h"
#include "input.h"
#include "instance.h"
#include "model.h"
#include "report.h"
#include "result.h"
#include "tempfiles.h"

static const char g_usage[] =
    "usage: infercost fleet plan --partitions P=TYPE[,P=TYPE...] --results DIR --out SCRIPT\n"
    "                            [--model M[,M...]] [--dtype D[,D...]] [--context LIST]\n"
    "                            [--batch LIST] [--repetitions N] [--quick]\n"
    "                            [--infercost PATH] [-- RUN OPTIONS...]\n"
    "       infercost fleet submit SCRIPT...\n"
    "       infercost fleet status DIR [--format table|md|csv]\n"
    "       infercost fleet collect DIR [--db PATH] [--catalog DIR]\n"
    "plan: one sbatch script; for each partition a job array with one task per spec (each\n"
    "  model x dtype), each task `infercost run --json` on a whole node (--exclusive), writing\n"
    "  DIR/<type>-<partition>-<job>_<task>.json, a .meta beside it and DIR/logs/*.log\n"
    "  --partitions        Slurm partitions and the EC2 instance type each promises\n"
    "  --results DIR       shared results directory (created, with DIR/logs)\n"
    "  --out SCRIPT        the sbatch script, written atomically\n"
    "  --model, --dtype    comma-separated; default llama-3.2-1b, q8_0\n"
    "  --context, --batch, --repetitions, --quick, and RUN OPTIONS after --: passed to run\n"
    "  --infercost PATH    the binary each node runs (default: this one; a bare name is found\n"
    "                      in the node's PATH); %m in it becomes the node's `uname -m`\n"
    "                      (x86_64, aarch64) when the task starts\n"
    "submit: sbatch --parsable once per partition of each script; records the job ids in\n"
    "  DIR/" IC_FLEET_JOBS_FILE "\n"
    "status: every task with its Slurm state (squeue -t all, then sacct, then the task's .meta)\n"
    "  and its log\n"
    "collect: checks every result (measured on the type its partition promised, by DMI; a\n"
    "  mismatch is flagged, never relabelled), adds the results to the history (--db, default\n"
    "  DIR/history.sqlite), prints compare-chips' ranking per model and dtype, and lists failed\n"
    "  or missing tasks with their state and log; exit 1 when any task failed, is missing or\n"
    "  measured another type than promised\n";

#define usage_error(...) ic_usage_error("fleet", g_usage, __VA_ARGS__)

/* ---- plan ---- */

typedef struct fleet_part {
    char name[IC_FLEET_PART_MAX];
    char type[48];
} fleet_part;

typedef struct plan_opts {
    fleet_part parts[IC_FLEET_MAX_PARTS];
    int n_parts;
    const char *models, *dtypes, *context, *batch, *repetitions;
    int quick;
    const char *results, *out, *infercost;
    char **run_args; /* after "--" */
    int n_run_args;
} plan_opts;

/* One spec: a model (preset name, or an absolute path to its file) and a dtype. */
typedef struct fleet_spec {
    char model[PATH_MAX];
    char dtype[8];
} fleet_spec;

static int has_controls(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

/* --partitions c7a-large=c7a.large,c7g-large=c7g.large */
static int parse_partitions(const char *arg, plan_opts *o) {
    char buf[4096];
    if (strlen(arg) >= sizeof buf) return usage_error("--partitions: too long (%.40s...)", arg);
    snprintf(buf, sizeof buf, "%s", arg);
    o->n_parts = 0;
    for (char *save, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        char esc[1024];
        ic_escape_controls(item, esc, sizeof esc);
        if (!eq)
            return usage_error("--partitions '%s': expected PARTITION=TYPE, e.g. "
                               "c7g-large=c7g.large",
                               esc);
        *eq = '\0';
        if (!ic_fleet_partition_valid(item))
            return usage_error("--partitions: partition '%s' is not a Slurm partition name "
                               "here (1 to 63 of A-Z a-z 0-9 . _ -)",
                               esc);
        if (!ic_instance_type_valid(eq + 1))
            return usage_error("--partitions: '%s' is not an instance type (e.g. c7g.large)", esc);
        if (o->n_parts == IC_FLEET_MAX_PARTS)
            return usage_error("--partitions: more than %d partitions", IC_FLEET_MAX_PARTS);
        char var[128];
        ic_fleet_sysfs_var(item, var, sizeof var);
        for (int i = 0; i < o->n_parts; i++) {
            char other[128];
            ic_fleet_sysfs_var(o->parts[i].name, other, sizeof other);
            if (strcmp(o->parts[i].name, item) == 0)
                return usage_error("--partitions: partition '%s' given twice", item);
            if (strcmp(var, other) == 0)
                return usage_error("--partitions: '%s' and '%s' share the variable %s",
                                   o->parts[i].name, item, var);
        }
        snprintf(o->parts[o->n_parts].name, sizeof o->parts[0].name, "%s", item);
        snprintf(o->parts[o->n_parts].type, sizeof o->parts[0].type, "%s", eq + 1);
        o->n_parts++;
    }
    if (o->n_parts == 0) return usage_error("--partitions '%s': no partition given", arg);
    return 0;
}

/* "128,4096": positive (or zero) decimal integers, comma-separated; run checks their ranges. */
static int list_valid(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++) {
        if (*p == ',' && (p == s || p[1] == '\0' || p[1] == ',')) return 0;
        if (*p != ',' && (*p < '0' || *p > '9')) return 0;
    }
    return strlen(s) < 256;
}

/* Every model x dtype, each checked as run would load it; a model file becomes an absolute path
 * (the task reads it on the node, from the shared filesystem). */
static int make_specs(const plan_opts *o, fleet_spec *specs, int *n) {
    char models[4096], dtypes[256];
    if (strlen(o->models) >= sizeof models || strlen(o->dtypes) >= sizeof dtypes)
        return usage_error("--model/--dtype: too long (%.40s...)", o->models);
    snprintf(models, sizeof models, "%s", o->models);
    *n = 0;
    for (char *sm, *m = strtok_r(models, ",", &sm); m; m = strtok_r(NULL, ",", &sm)) {
        snprintf(dtypes, sizeof dtypes, "%s", o->dtypes);
        for (char *sd, *d = strtok_r(dtypes, ",", &sd); d; d = strtok_r(NULL, ",", &sd)) {
            ic_dtype dt;
            char esc[512], err[1024];
            ic_escape_controls(d, esc, sizeof esc);
            if (ic_dtype_parse_weight(d, &dt, err, sizeof err))
                return usage_error("--dtype '%s': %s", esc, err);
            ic_model mdl;
            if (ic_model_load(m, (int)dt, &mdl, err, sizeof err))
                return usage_error("--model: %s", err);
            if (*n == IC_FLEET_MAX_SPECS)
                return usage_error("more than %d model x dtype specs", IC_FLEET_MAX_SPECS);
            fleet_spec *s = &specs[(*n)++];
            int is_file = strcmp(mdl.source, "preset") != 0;
            if (is_file && !realpath(m, s->model))
                return usage_error("--model %s: %s", m, strerror(errno));
            if (!is_file) snprintf(s->model, sizeof s->model, "%s", m);
            snprintf(s->dtype, sizeof s->dtype, "%s", ic_dtype_name(dt));
        }
    }
    if (*n == 0) return usage_error("--model '%s' / --dtype: no spec", o->models);
    return 0;
}

/* s in single quotes, each ' as '\'' (no control characters reach here). */
static void shq(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static void write_script(FILE *f, const plan_opts *o, const char *results, const char *infercost,
                         const fleet_spec *specs, int n_specs) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(f,
            "#!/bin/bash\n"
            "# Written by `infercost fleet plan` (infercost %s, %s). For each partition below, a\n"
            "# job array: task i runs spec i with `infercost run --json` on a whole node, writing\n"
            "# RESULTS/<type>-<partition>-<array job>_<task>.json, a .meta beside it (partition,\n"
            "# promised type, node, exit) and its log in RESULTS/logs/. Submit it with\n"
            "#   infercost fleet submit THIS_SCRIPT\n"
            "# which runs, per partition P promising type T,\n"
            "#   sbatch --parsable --partition=P --job-name=T-P THIS_SCRIPT\n"
            "# and records the job ids in RESULTS/" IC_FLEET_JOBS_FILE
            " for fleet status and collect.\n"
            "#IC-FLEET 1\n"
            "#IC-FLEET results %s\n",
            IC_VERSION, when, results);
    for (int i = 0; i < o->n_parts; i++)
        fprintf(f, "#IC-FLEET partition %s %s\n", o->parts[i].name, o->parts[i].type);
    fprintf(f,
            "#IC-FLEET tasks %d\n"
            "#SBATCH --array=0-%d\n"
            "#SBATCH --nodes=1\n"
            "#SBATCH --exclusive\n"
            "#SBATCH --output=%s/logs/%%x-%%A_%%a.log\n"
            "set -u\n"
            "results=",
            n_specs, n_specs - 1, results);
    shq(f, results);
    fputs("\ninfercost=", f);
    shq(f, infercost);
    fputs("\ninfercost=${infercost//%m/$(uname -m)}\n"
          "part=${SLURM_JOB_PARTITION:-}\n"
          "case \"$part\" in\n",
          f);
    for (int i = 0; i < o->n_parts; i++) {
        char var[128];
        ic_fleet_sysfs_var(o->parts[i].name, var, sizeof var);
        fputs("  ", f);
        shq(f, o->parts[i].name);
        fputs(") type=", f);
        shq(f, o->parts[i].type);
        fprintf(f, "; sysfs_var=%s ;;\n", var);
    }
    fputs("  *) echo \"infercost fleet: partition '$part' is not one of this plan's:", f);
    for (int i = 0; i < o->n_parts; i++) fprintf(f, " %s", o->parts[i].name);
    fputs("\" >&2; exit 2 ;;\nesac\ncase \"${SLURM_ARRAY_TASK_ID:-}\" in\n", f);
    for (int i = 0; i < n_specs; i++) {
        fprintf(f, "  %d) spec=(--model ", i);
        shq(f, specs[i].model);
        fputs(" --dtype ", f);
        shq(f, specs[i].dtype);
        fputs(") ;;\n", f);
    }
    fprintf(f,
            "  *) echo \"infercost fleet: array task '${SLURM_ARRAY_TASK_ID:-}' is not one of "
            "this plan's (0-%d)\" >&2; exit 2 ;;\nesac\nrun=(",
            n_specs - 1);
    const char *sep = "";
    if (o->context) {
        fputs("--context ", f);
        shq(f, o->context);
        sep = " ";
    }
    if (o->batch) {
        fprintf(f, "%s--batch ", sep);
        shq(f, o->batch);
        sep = " ";
    }
    if (o->repetitions) {
        fprintf(f, "%s--repetitions ", sep);
        shq(f, o->repetitions);
        sep = " ";
    }
    if (o->quick) {
        fprintf(f, "%s--quick", sep);
        sep = " ";
    }
    for (int i = 0; i < o->n_run_args; i++) {
        fputs(sep, f);
        shq(f, o->run_args[i]);
        sep = " ";
    }
    fputs(")\n"
          "name=$type-$part-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\n"
          "out=$results/$name\n"
          "log=$results/logs/${SLURM_JOB_NAME}-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.log\n"
          "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)\n"
          "# A stand-in for the node's DMI, for tests: IC_FLEET_SYSFS_ROOT_<PARTITION> in the\n"
          "# submitter's environment (sbatch passes it on) becomes IC_SYSFS_ROOT.\n"
          "if [ -n \"${!sysfs_var:-}\" ]; then export IC_SYSFS_ROOT=\"${!sysfs_var}\"; fi\n"
          "# The task's .meta, written whole: at the start, and with $1 (its exit) at the end.\n"
          "meta() {\n"
          "  {\n"
          "    printf 'partition\\t%s\\ntype\\t%s\\n' \"$part\" \"$type\"\n"
          "    printf 'array_job_id\\t%s\\ntask_id\\t%s\\n' \"$SLURM_ARRAY_JOB_ID\" "
          "\"$SLURM_ARRAY_TASK_ID\"\n"
          "    printf 'job_id\\t%s\\njob_name\\t%s\\n' \"$SLURM_JOB_ID\" \"$SLURM_JOB_NAME\"\n"
          "    printf 'node\\t%s\\nlog\\t%s\\nresult\\t%s\\n' \"$(hostname)\" \"$log\" "
          "\"$out.json\"\n"
          "    printf 'started_utc\\t%s\\n' \"$started\"\n"
          "    if [ $# -gt 0 ]; then\n"
          "      printf 'ended_utc\\t%s\\nexit\\t%s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$1\"\n"
          "    fi\n"
          "  } >\"$out.meta.tmp.$$\" && mv -f \"$out.meta.tmp.$$\" \"$out.meta\"\n"
          "}\n"
          "meta\n"
          "if ! command -v \"$infercost\" >/dev/null; then\n"
          "  echo \"infercost fleet: $infercost: not an executable on $(hostname)\" >&2\n"
          "  meta \"exit 127\"\n"
          "  exit 127\n"
          "fi\n"
          "echo \"infercost fleet: $name on $(hostname): $infercost run ${spec[*]} ${run[*]} "
          "--json $out.json\"\n"
          "\"$infercost\" run \"${spec[@]}\" \"${run[@]}\" --json \"$out.json\" &\n"
          "pid=$!\n"
          "# scancel (or the time limit) sends SIGTERM: the run removes its temporary file, and\n"
          "# the .meta says how the task ended.\n"
          "trap 'kill -TERM \"$pid\" 2>/dev/null; wait \"$pid\"; meta \"signal TERM\"; exit 143' "
          "TERM\n"
          "trap 'kill -TERM \"$pid\" 2>/dev/null; wait \"$pid\"; meta \"signal INT\"; exit 130' "
          "INT\n"
          "wait \"$pid\"\n"
          "rc=$?\n"
          "meta \"exit $rc\"\n"
          "exit \"$rc\"\n",
          f);
}

/* The results directory: created when absent (its parent must exist), with logs/ in it; its
 * absolute path in abs. */
static int make_results_dir(const char *dir, char *abs, char *err, size_t errlen) {
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return ic_fail(err, errlen, 2, "--results %s: not a directory", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return ic_fail(err, errlen, errno == ENOENT ? 2 : 1, "--results %s: cannot create it (%s)",
                       dir, strerror(errno));
    if (!realpath(dir, abs))
        return ic_fail(err, errlen, 1, "--results %s: %s", dir, strerror(errno));
    if (strlen(abs) >= IC_FLEET_DIR_MAX)
        return ic_fail(err, errlen, 2, "--results %s: the path is longer than %d bytes", dir,
                       IC_FLEET_DIR_MAX - 1);
    /* sbatch reads #SBATCH --output=PATH without a shell, and % starts a pattern there. */
    if (strpbrk(abs, " \t'\"\\%"))
        return ic_fail(err, errlen, 2,
                       "--results %s: the path holds a space, quote, backslash or %%, which "
                       "sbatch's --output cannot take",
                       abs);
    if (access(abs, W_OK) != 0) return ic_fail(err, errlen, 2, "--results %s: not writable", abs);
    char logs[PATH_MAX + 8];
    snprintf(logs, sizeof logs, "%s/logs", abs);
    if (mkdir(logs, 0755) != 0 && errno != EEXIST)
        return ic_fail(err, errlen, 1, "%s: cannot create it (%s)", logs, strerror(errno));
    if (stat(logs, &st) != 0 || !S_ISDIR(st.st_mode))
        return ic_fail(err, errlen, 2, "%s: not a directory", logs);
    return 0;
}

static int cmd_plan(int argc, char **argv) {
    static const struct option opts[] = {{"partitions", required_argument, 0, 'p'},
                                         {"model", required_argument, 0, 'm'},
                                         {"dtype", required_argument, 0, 'd'},
                                         {"context", required_argument, 0, 'c'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"repetitions", required_argument, 0, 'r'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"results", required_argument, 0, 'R'},
                                         {"out", required_argument, 0, 'o'},
                                         {"infercost", required_argument, 0, 'i'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static plan_opts o; /* large (the partition table); one plan per process */
    memset(&o, 0, sizeof o);
    o.models = "llama-3.2-1b";
    o.dtypes = "q8_0";
    int c, rc;
    opterr = 0;
    optind = 1;
    /* "+": stop at the first argument that is not an option, so that only what follows "--"
     * reaches run. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if ((rc = parse_partitions(optarg, &o))) return rc;
            break;
        case 'm':
            o.models = optarg;
            break;
        case 'd':
            o.dtypes = optarg;
            break;
        case 'c':
        case 'b':
        case 'r':
            if (!list_valid(optarg) || (c == 'r' && strchr(optarg, ',')))
                return usage_error("--%s '%s': expected %s",
                                   c == 'c'   ? "context"
                                   : c == 'b' ? "batch"
                                              : "repetitions",
                                   optarg, c == 'r' ? "a count" : "numbers, comma-separated");
            *(c == 'c' ? &o.context : c == 'b' ? &o.batch : &o.repetitions) = optarg;
            break;
        case 'q':
            o.quick = 1;
            break;
        case 'R':
            o.results = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'i':
            o.infercost = optarg;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("fleet", g_usage, opts, argv, optind);
        }
    }
    /* "--" ends plan's options; what follows goes to run. Anything else is a stray argument. */
    int dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
    if (optind < argc && !dashdash)
        return usage_error("plan: unexpected argument '%s' (options for run go after --)",
                           argv[optind]);
    o.run_args = argv + optind;
    o.n_run_args = argc - optind;
    for (int i = 0; i < o.n_run_args; i++) {
        const char *a = o.run_args[i];
        if (has_controls(a)) return usage_error("plan: a run option holds a control character");
        if (strcmp(a, "--json") == 0 || strncmp(a, "--json=", 7) == 0 ||
            strcmp(a, "--model") == 0 || strcmp(a, "--dtype") == 0 ||
            strncmp(a, "--model=", 8) == 0 || strncmp(a, "--dtype=", 8) == 0)
            return usage_error("plan: '%s' after --: the plan sets it (--model/--dtype go before "
                               "--; the result file is the plan's)",
                               a);
    }
    if (o.n_parts == 0) return usage_error("plan: --partitions is required");
    if (!o.results) return usage_error("plan: --results is required");
    if (!o.out) return usage_error("plan: --out is required");
    char err[PATH_MAX + 512];
    if (has_controls(o.results) || has_controls(o.out) ||
        (o.infercost && has_controls(o.infercost)))
        return usage_error("plan: a path holds a control character");
    if ((rc = ic_out_check(o.out, err, sizeof err))) {
        ic_error("%s", err);
        return rc;
    }
    static fleet_spec specs[IC_FLEET_MAX_SPECS];
    int n_specs = 0;
    if ((rc = make_specs(&o, specs, &n_specs))) return rc;
    char infercost[PATH_MAX];
    if (o.infercost) {
        /* A relative path is made absolute (the task starts elsewhere); a bare name is looked up
         * in the node's PATH. */
        if (o.infercost[0] == '/' || !strchr(o.infercost, '/') || !realpath(o.infercost, infercost))
            snprintf(infercost, sizeof infercost, "%s", o.infercost);
    } else {
        ssize_t n = readlink("/proc/self/exe", infercost, sizeof infercost - 1);
        if (n <= 0) {
            ic_error("fleet plan: cannot find this binary's path (/proc/self/exe: %s); give "
                     "--infercost PATH",
                     strerror(errno));
            return IC_EXIT_FAIL;
        }
        infercost[n] = '\0';
    }
    char results[PATH_MAX];
    if ((rc = make_results_dir(o.results, results, err, sizeof err))) {
        ic_error("fleet plan: %s", err);
        return rc;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *ms = open_memstream(&text, &len);
    if (!ms) {
        ic_error("fleet plan: out of memory");
        return IC_EXIT_FAIL;
    }
    write_script(ms, &o, results, infercost, specs, n_specs);
    if (fclose(ms) != 0 || !text) {
        free(text);
        ic_error("fleet plan: out of memory");
        return IC_EXIT_FAIL;
    }
    rc = ic_write_file_atomic(o.out, text, len, err, sizeof err);
    free(text);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    printf("%s: %d partition%s x %d spec%s = %d tasks, results in %s\n", o.out, o.n_parts,
           o.n_parts == 1 ? "" : "s", n_specs, n_specs == 1 ? "" : "s", o.n_parts * n_specs,
           results);
    for (int i = 0; i < o.n_parts; i++)
        printf("  partition %s promises %s\n", o.parts[i].name, o.parts[i].type);
    for (int i = 0; i < n_specs; i++)
        printf("  task %d: --model %s --dtype %s\n", i, specs[i].model, specs[i].dtype);
    printf("submit: infercost fleet submit %s\n", o.out);
    return IC_EXIT_OK;
}

/* ---- submit ---- */

typedef struct script_header {
    char results[IC_FLEET_DIR_MAX];
    fleet_part parts[IC_FLEET_MAX_PARTS];
    int n_parts;
    long tasks;
} script_header;

/* The #IC-FLEET lines plan wrote. 0, or 2 naming the script and line. */
static int read_header(const char *path, script_header *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    int rc = ic_input_check(path, NULL, err, errlen);
    if (rc) return rc;
    FILE *in = fopen(path, "r");
    if (!in) return ic_fail(err, errlen, 2, "%s: %s", path, strerror(errno));
    char line[IC_FLEET_PATH_MAX + 64];
    int version = 0;
    long lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "#IC-FLEET ", 10) != 0) continue;
        const char *v = line + 10;
        char a[IC_FLEET_PART_MAX], b[48];
        if (strcmp(v, "1") == 0) {
            version = 1;
        } else if (strncmp(v, "results ", 8) == 0 && v[8] == '/' && !has_controls(v + 8) &&
                   strlen(v + 8) < IC_FLEET_DIR_MAX) {
            memcpy(h->results, v + 8, strlen(v + 8) + 1); /* shorter than IC_FLEET_DIR_MAX */
        } else if (strncmp(v, "tasks ", 6) == 0) {
            char *end;
            h->tasks = strtol(v + 6, &end, 10);
            if (*end || h->tasks < 1 || h->tasks > IC_FLEET_MAX_SPECS)
                rc = ic_fail(err, errlen, 2, "%s:%ld: a task count from 1 to %d", path, lineno,
                             IC_FLEET_MAX_SPECS);
        } else if (sscanf(v, "partition %63s %47s", a, b) == 2 && ic_fleet_partition_valid(a) &&
                   ic_instance_type_valid(b) && h->n_parts < IC_FLEET_MAX_PARTS) {
            snprintf(h->parts[h->n_parts].name, sizeof h->parts[0].name, "%s", a);
            snprintf(h->parts[h->n_parts].type, sizeof h->parts[0].type, "%s", b);
            h->n_parts++;
        } else {
            rc = ic_fail(err, errlen, 2, "%s:%ld: not an #IC-FLEET line plan writes", path, lineno);
        }
    }
    fclose(in);
    if (rc == 0 && (version != 1 || !h->results[0] || !h->n_parts || !h->tasks))
        rc = ic_fail(err, errlen, 2,
                     "%s: not a script of infercost fleet plan (no #IC-FLEET 1, results, "
                     "partition and tasks lines)",
                     path);
    return rc;
}

static int cmd_submit(int argc, char **argv) {
    if (argc < 2) return usage_error("submit: no script given");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        } else if (argv[i][0] == '-') {
            return usage_error("submit: unknown option '%s'", argv[i]);
        }
    /* Every script and its jobs.tsv checked before anything is queued. */
    int n = argc - 1;
    script_header *hs = calloc((size_t)n, sizeof *hs);
    if (!hs) return IC_EXIT_FAIL;
    char err[IC_FLEET_PATH_MAX + 512];
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = read_header(argv[i + 1], &hs[i], err, sizeof err);
        char jobs[IC_FLEET_PATH_MAX + 16];
        snprintf(jobs, sizeof jobs, "%s/%s", hs[i].results, IC_FLEET_JOBS_FILE);
        if (rc == 0) rc = ic_out_check(jobs, err, sizeof err);
        if (rc) ic_error("fleet submit: %s", err);
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        const script_header *h = &hs[i];
        char script[PATH_MAX];
        if (!realpath(argv[i + 1], script)) snprintf(script, sizeof script, "%s", argv[i + 1]);
        for (int p = 0; rc == 0 && p < h->n_parts; p++) {
            char part_opt[IC_FLEET_PART_MAX + 16], name[IC_FLEET_JOBNAME_MAX],
                name_opt[IC_FLEET_JOBNAME_MAX + 16];
            snprintf(part_opt, sizeof part_opt, "--partition=%s", h->parts[p].name);
            snprintf(name, sizeof name, "%s-%s", h->parts[p].type, h->parts[p].name);
            snprintf(name_opt, sizeof name_opt, "--job-name=%s", name);
            char *sargv[] = {"sbatch", "--parsable", part_opt, name_opt, script, NULL};
            char *out = NULL, errline[512];
            int status;
            if (ic_fleet_spawn(sargv, &out, &status, errline, sizeof errline) != 0) {
                ic_error("fleet submit: %s", errline);
                rc = IC_EXIT_FAIL;
                break;
            }
            char job[24] = "";
            size_t k = out ? strspn(out, "0123456789") : 0;
            if (k > 0 && k < sizeof job) memcpy(job, out, k), job[k] = '\0';
            free(out);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !job[0]) {
                ic_error("fleet submit: %s: sbatch --partition=%s failed: %s", script,
                         h->parts[p].name, errline[0] ? errline : "no job id printed");
                rc = IC_EXIT_FAIL;
                break;
            }
            rc = ic_fleet_record_job(h->results, job, h->parts[p].name, h->parts[p].type, h->tasks,
                                     name, script, err, sizeof err);
            if (rc) {
                ic_error("fleet submit: job %s was queued but not recorded: %s", job, err);
                rc = IC_EXIT_FAIL;
            }
            printf("%s\n", job);
            fprintf(stderr,
                    "infercost fleet: %s: partition %s (%s): job %s, tasks 0-%ld; logs "
                    "%s/logs/%s-%s_<task>.log\n",
                    script, h->parts[p].name, h->parts[p].type, job, h->tasks - 1, h->results, name,
                    job);
        }
    }
    free(hs);
    return rc;
}

/* ---- status ---- */

static int result_present(const ic_fleet_task *t) {
    struct stat st;
    return stat(t->result, &st) == 0 && S_ISREG(st.st_mode);
}

static void print_tasks(const ic_fleet *f, ic_format fmt) {
    static const char *const heads[] = {"task", "partition", "type",   "state", "from",
                                        "node", "exit",      "result", "log"};
    ic_table *t = ic_table_new(9, heads, "lllllllll");
    for (size_t i = 0; t && i < f->n; i++) {
        const ic_fleet_task *k = &f->tasks[i];
        const char *cells[] = {k->name,
                               k->partition,
                               k->type,
                               k->state,
                               k->state_from[0] ? k->state_from : "-",
                               k->node[0] ? k->node : "-",
                               k->exit[0] ? k->exit : "-",
                               result_present(k) ? "yes" : "no",
                               k->log[0] ? k->log : "-"};
        ic_table_add(t, cells);
    }
    if (t) ic_table_print(t, fmt, stdout);
    ic_table_free(t);
}

/* A results directory's tasks with their Slurm states, for status and collect. 0, or an exit code
 * with the message printed. */
static int load_with_states(ic_fleet *f, const char *dir, const char *sub) {
    char err[IC_FLEET_PATH_MAX + 512];
    int rc = ic_fleet_load(f, dir, err, sizeof err);
    if (rc) {
        ic_error("fleet %s: %s", sub, err);
        return rc;
    }
    ic_fleet_states(f);
    return 0;
}

static int cmd_status(int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    ic_format fmt = IC_FMT_TABLE;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        }
        if (c != 'f') return ic_option_error("fleet", g_usage, opts, argv, optind);
        if (ic_format_parse(optarg, &fmt) || fmt == IC_FMT_JSON)
            return usage_error("status: --format '%s': expected table, md or csv", optarg);
    }
    if (argc - optind != 1) return usage_error("status: want one results directory");
    ic_fleet f;
    int rc = load_with_states(&f, argv[optind], "status");
    if (rc) return rc;
    print_tasks(&f, fmt);
    if (f.slurm_note[0] && fmt != IC_FMT_CSV)
        printf("\nSlurm: %s (states not from squeue come from sacct or the task's .meta)\n",
               f.slurm_note);
    ic_fleet_free(&f);
    return IC_EXIT_OK;
}

/* ---- collect ---- */

/* A task's verdict in collect. */
typedef struct verdict {
    int ok;         /* the result counts: read, and the task did not fail */
    int mismatch;   /* measured on another type than its partition promised */
    char why[1200]; /* for a failed or mismatched task */
    char model[96], dtype[8];
} verdict;

static void judge(const ic_fleet_task *t, verdict *v) {
    memset(v, 0, sizeof *v);
    int cls = ic_fleet_state_class(t->state);
    int unknown = strcmp(t->state, "UNKNOWN") == 0;
    if (cls == 2) {
        snprintf(v->why, sizeof v->why, "not finished");
        return;
    }
    if (cls == 0 && !unknown) {
        snprintf(v->why, sizeof v->why, "the task failed%s%s",
                 result_present(t) ? "" : "; no result",
                 result_present(t) ? " (its result is not collected)" : "");
        return;
    }
    if (!result_present(t)) {
        snprintf(v->why, sizeof v->why, "%s",
                 unknown ? (t->has_meta ? "no result: it started, and neither Slurm nor its .meta "
                                          "says how it ended"
                                        : "missing: it never started (no .meta), and Slurm no "
                                          "longer knows it (cancelled while pending, or purged)")
                         : "completed without a result file");
        return;
    }
    ic_result r;
    char err[1024];
    if (ic_result_read(&r, t->result, err, sizeof err)) {
        snprintf(v->why, sizeof v->why, "unreadable result: %s", err);
        return;
    }
    v->ok = 1;
    snprintf(v->model, sizeof v->model, "%s", r.model.name);
    snprintf(v->dtype, sizeof v->dtype, "%s", ic_dtype_name(r.model.dtype));
    if (strcmp(r.host.instance_type, t->type) != 0) {
        char where[256];
        ic_result_measured_on(&r, where, sizeof where);
        v->mismatch = 1;
        snprintf(v->why, sizeof v->why,
                 "partition %s promised %s, but the result was measured on %s: ranked as what it "
                 "measured, never relabelled",
                 t->partition, t->type, where);
    }
    ic_result_free(&r);
}

/* infercost history add --db DB FILES... over the collected results: one rule for adding. */
static int add_to_history(const char *db, const ic_fleet *f, const verdict *v) {
    char **av = calloc(f->n + 5, sizeof *av);
    if (!av) return IC_EXIT_FAIL;
    int n = 0;
    av[n++] = "history";
    av[n++] = "add";
    av[n++] = "--db";
    av[n++] = (char *)db;
    int files = 0;
    for (size_t i = 0; i < f->n; i++)
        if (v[i].ok) av[n++] = (char *)f->tasks[i].result, files++;
    av[n] = NULL;
    int rc = 0;
    if (files) {
        fflush(stdout);
        rc = ic_cmd_history(n, av);
        fflush(stdout);
    }
    free(av);
    return rc;
}

/* infercost compare-chips --model M --dtype D over the collected results of each (model, dtype):
 * the ranking is compare-chips' own, never recomputed here. */
static int rank(const char *catalog, const ic_fleet *f, const verdict *v) {
    char **av = calloc(f->n + 8, sizeof *av);
    char *done = calloc(f->n + 1, 1);
    int worst = 0;
    if (!av || !done) {
        free(av);
        free(done);
        return IC_EXIT_FAIL;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (!v[i].ok || done[i]) continue;
        int n = 0;
        av[n++] = "compare-chips";
        av[n++] = "--model";
        av[n++] = (char *)v[i].model;
        av[n++] = "--dtype";
        av[n++] = (char *)v[i].dtype;
        if (catalog) {
            av[n++] = "--catalog";
            av[n++] = (char *)catalog;
        }
        for (size_t j = i; j < f->n; j++)
            if (v[j].ok && !done[j] && strcmp(v[j].model, v[i].model) == 0 &&
                strcmp(v[j].dtype, v[i].dtype) == 0) {
                av[n++] = (char *)f->tasks[j].result;
                done[j] = 1;
            }
        av[n] = NULL;
        printf("\nranking (infercost compare-chips), %s %s:\n", v[i].model, v[i].dtype);
        fflush(stdout);
        int rc = ic_cmd_compare_chips(n, av);
        fflush(stdout);
        if (rc > worst) worst = rc;
    }
    free(av);
    free(done);
    return worst;
}

/* The report of every collected result (infercost report: Markdown and charts) in DIR/report;
 * report's own code, called with an argv. */
static int write_report(const char *catalog, const ic_fleet *f, const verdict *v) {
    char **av = calloc(f->n + 8, sizeof *av);
    char out[IC_FLEET_PATH_MAX + 16];
    if (!av) return IC_EXIT_FAIL;
    int n = 0;
    av[n++] = "report";
    for (size_t i = 0; i < f->n; i++)
        if (v[i].ok) av[n++] = (char *)f->tasks[i].result;
    snprintf(out, sizeof out, "%s/report", f->dir);
    av[n++] = "--out";
    av[n++] = out;
    if (catalog) {
        av[n++] = "--catalog";
        av[n++] = (char *)catalog;
    }
    av[n] = NULL;
    printf("\nreport (infercost report): %s\n", out);
    fflush(stdout);
    int rc = ic_cmd_report(n, av);
    fflush(stdout);
    free(av);
    return rc;
}

static int cmd_collect(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'b'},
                                         {"catalog", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *catalog = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            db = optarg;
            break;
        case 'C':
            catalog = optarg;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("fleet", g_usage, opts, argv, optind);
        }
    }
    if (argc - optind != 1) return usage_error("collect: want one results directory");
    ic_fleet f;
    int rc = load_with_states(&f, argv[optind], "collect");
    if (rc) return rc;
    char dbpath[IC_FLEET_PATH_MAX + 32];
    snprintf(dbpath, sizeof dbpath, "%s/history.sqlite", f.dir);
    if (!db) db = dbpath;
    verdict *v = calloc(f.n, sizeof *v);
    if (!v) {
        ic_fleet_free(&f);
        return IC_EXIT_FAIL;
    }
    size_t n_ok = 0, n_bad = 0, n_mismatch = 0;
    for (size_t i = 0; i < f.n; i++) {
        judge(&f.tasks[i], &v[i]);
        n_ok += v[i].ok;
        n_bad += !v[i].ok;
        n_mismatch += v[i].mismatch;
    }
    printf("fleet %s: %zu tasks\n", f.dir, f.n);
    print_tasks(&f, IC_FMT_TABLE);
    if (f.slurm_note[0]) printf("Slurm: %s\n", f.slurm_note);
    int hist_rc = 0, rank_rc = 0;
    if (n_ok) {
        printf("\nhistory %s:\n", db);
        hist_rc = add_to_history(db, &f, v);
        rank_rc = rank(catalog, &f, v);
        if (write_report(catalog, &f, v)) rank_rc = IC_EXIT_FAIL;
    }
    if (n_bad || n_mismatch) printf("\nproblems:\n");
    for (size_t i = 0; i < f.n; i++) {
        const ic_fleet_task *t = &f.tasks[i];
        if (!v[i].ok)
            printf("  %-10s %s: %s; Slurm state %s%s%s%s%s%s; log %s\n",
                   ic_fleet_state_class(t->state) == 2 ? "UNFINISHED" : "FAILED", t->name, v[i].why,
                   t->state, t->state_from[0] ? " (from " : "", t->state_from,
                   t->state_from[0] ? ")" : "", t->exit[0] ? ", the task's exit: " : "", t->exit,
                   t->log[0] ? t->log : "-");
        else if (v[i].mismatch)
            printf("  %-10s %s: %s; log %s\n", "MISMATCH", t->name, v[i].why,
                   t->log[0] ? t->log : "-");
    }
    printf("\ncollected %zu of %zu tasks; %zu failed or missing; %zu measured another type than "
           "promised\n",
           n_ok, f.n, n_bad, n_mismatch);
    if (hist_rc) ic_error("fleet collect: the results were not all added to the history %s", db);
    if (rank_rc)
        ic_error("fleet collect: the ranking or the report failed (compare-chips or report said "
                 "why above)");
    free(v);
    ic_fleet_free(&f);
    return n_bad || n_mismatch || hist_rc || rank_rc ? IC_EXIT_FAIL : IC_EXIT_OK;
}

int ic_cmd_fleet(int argc, char **argv) {
    if (argc < 2) return usage_error("want plan, submit, status or collect");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(g_usage, stdout);
        return IC_EXIT_OK;
    }
    if (strcmp(sub, "plan") == 0) return cmd_plan(argc - 1, argv + 1);
    if (strcmp(sub, "submit") == 0) return cmd_submit(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0) return cmd_status(argc - 1, argv + 1);
    if (strcmp(sub, "collect") == 0) return cmd_collect(argc - 1, argv + 1);
    char esc[256];
    ic_escape_controls(sub, esc, sizeof esc);
    return usage_error("unknown subcommand '%s': want plan, submit, status or collect", esc);
}
