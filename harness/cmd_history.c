/* infercost history: add result and benchmark files to the SQLite history, list them, and show a
 * figure's trend across commits and machines. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.h"
#include "report.h"

static const char g_usage[] =
    "usage: infercost history add RESULT.json|BENCH.json... [--db PATH]\n"
    "       infercost history list [--db PATH] [--format F]\n"
    "       infercost history show [--model M] [--dtype D] [--kind K] [--context C] [--host ID]\n"
    "                              [--since DATE] [--db PATH] [--format F]\n"
    "  --db PATH           the history file (default " IC_HISTORY_DEFAULT_DB ", created by add)\n"
    "  --kind K            decode, prefill, batch_decode or bench\n"
    "  --host ID           a machine id prefix, an instance type or a hostname\n"
    "  --since DATE        runs made on or after DATE (YYYY-MM-DD)\n" IC_FORMAT_USAGE
    "Adding the same file twice is a no-op (runs are keyed by their content).\n";

typedef struct hist_opts {
    const char *db;
    ic_history_filter filter;
    ic_format format;
} hist_opts;

/* Reads a whole regular file (at most 64 MiB). */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read (%s)", path, strerror(errno));
        return 2;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
        snprintf(err, errlen, "%s: %s", path,
                 S_ISREG(st.st_mode) ? "larger than 64 MiB" : "not a regular file");
        return 2;
    }
    FILE *f = fopen(path, "rb");
    *text = malloc((size_t)st.st_size + 1);
    size_t n = f && *text ? fread(*text, 1, (size_t)st.st_size, f) : 0;
    if (f) fclose(f);
    if (*text == NULL || n != (size_t)st.st_size) {
        free(*text);
        *text = NULL;
        snprintf(err, errlen, "%s: read failed", path);
        return 1;
    }
    (*text)[n] = '\0';
    *len = n;
    return 0;
}

static int cmd_add(const hist_opts *o, int argc, char **argv) {
    char err[1024];
    ic_history *h;
    int rc = ic_history_open(&h, o->db, 1, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    int worst = 0;
    for (int i = 0; i < argc; i++) {
        char *text = NULL;
        size_t len;
        int added;
        long long id;
        rc = read_file(argv[i], &text, &len, err, sizeof err);
        if (rc == 0) rc = ic_history_add(h, argv[i], text, len, &added, &id, err, sizeof err);
        if (rc == 0)
            printf("%s: %s run %lld\n", argv[i], added ? "added as" : "already in the history as",
                   id);
        else
            ic_error("%s", err);
        free(text); /* read, then refused by the history: freed all the same */
        if (rc > worst) worst = rc;
    }
    ic_history_close(h);
    return worst;
}

static void short_id(const char *mid, char *out, size_t len) {
    const char *p = strchr(mid, ':');
    snprintf(out, len, "%.8s", p ? p + 1 : mid);
}

static void list_row(const ic_history_run *r, void *user) {
    char id[24], figs[16], mid[16], who[128];
    snprintf(id, sizeof id, "%lld", r->id);
    snprintf(figs, sizeof figs, "%d", r->n_figures);
    short_id(r->machine_id, mid, sizeof mid);
    snprintf(who, sizeof who, "%s%s%s", mid[0] ? mid : "-", r->host[0] ? " " : "", r->host);
    char what[96];
    snprintf(what, sizeof what, "%s%s%s", r->model[0] ? r->model : r->kind, r->dtype[0] ? " " : "",
             r->dtype);
    const char *cells[] = {id,
                           r->created_utc[0] ? r->created_utc : "-",
                           r->git_commit[0] ? r->git_commit : "-",
                           who,
                           r->instance_type[0] ? r->instance_type : "-",
                           what,
                           figs,
                           r->path};
    ic_table_add(user, cells);
}

static void point_row(const ic_history_point *p, void *user) {
    char med[32], range[64], eff[16], mid[16], who[128];
    snprintf(med, sizeof med, "%.4g", p->median);
    if (isfinite(p->lo) && isfinite(p->hi))
        snprintf(range, sizeof range, "%.4g-%.4g", p->lo, p->hi);
    else
        snprintf(range, sizeof range, "-");
    if (isfinite(p->efficiency))
        snprintf(eff, sizeof eff, "%.0f%%", 100 * p->efficiency);
    else
        snprintf(eff, sizeof eff, "-");
    short_id(p->machine_id, mid, sizeof mid);
    snprintf(who, sizeof who, "%s%s%s", mid[0] ? mid : "-", p->host[0] ? " " : "", p->host);
    const char *cells[] = {p->name,
                           p->created_utc[0] ? p->created_utc : "-",
                           p->git_commit[0] ? p->git_commit : "-",
                           who,
                           p->instance_type[0] ? p->instance_type : "-",
                           med,
                           p->unit,
                           range,
                           eff};
    ic_table_add(user, cells);
}

static int cmd_query(const hist_opts *o, int show) {
    char err[1024];
    ic_history *h;
    int rc = ic_history_open(&h, o->db, 0, err, sizeof err);
    if (rc) {
        ic_error("%s", err);
        return rc;
    }
    static const char *const run_heads[] = {"run",      "created", "commit",  "machine",
                                            "instance", "what",    "figures", "file"};
    static const char *const point_heads[] = {"figure", "created", "commit", "machine", "instance",
                                              "median", "unit",    "range",  "eff"};
    ic_table *t =
        show ? ic_table_new(9, point_heads, "lllllrlrr") : ic_table_new(8, run_heads, "rllllllrl");
    if (t == NULL) rc = 1;
    if (t && show)
        rc = ic_history_points(h, &o->filter, point_row, t, err, sizeof err);
    else if (t)
        rc = ic_history_list(h, list_row, t, err, sizeof err);
    if (rc == 0 && ic_table_rows(t) == 0) {
        printf("%s\n", show ? "no figure matches" : "the history is empty");
    } else if (rc == 0 && o->format == IC_FMT_JSON) {
        ic_error("--format json: use table, md or csv for history (the documents are JSON)");
        rc = 2;
    } else if (rc == 0) {
        ic_table_print(t, o->format, stdout);
    } else {
        ic_error("%s", err);
    }
    ic_table_free(t);
    ic_history_close(h);
    return rc;
}

static int parse(int argc, char **argv, hist_opts *o) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'b'},      {"model", required_argument, 0, 'm'},
        {"dtype", required_argument, 0, 'd'},   {"kind", required_argument, 0, 'k'},
        {"context", required_argument, 0, 'c'}, {"host", required_argument, 0, 'H'},
        {"since", required_argument, 0, 's'},   {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int c;
    char *end;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->db = optarg;
            break;
        case 'm':
            o->filter.model = optarg;
            break;
        case 'd':
            o->filter.dtype = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "decode") && strcmp(optarg, "prefill") &&
                strcmp(optarg, "batch_decode") && strcmp(optarg, "bench"))
                return ic_usage_error(
                    "history", g_usage,
                    "--kind '%s': expected decode, prefill, batch_decode or bench", optarg);
            o->filter.kind = optarg;
            break;
        case 'c':
            errno = 0;
            o->filter.context = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || o->filter.context < 0)
                return ic_usage_error("history", g_usage, "--context '%s': expected a position",
                                      optarg);
            break;
        case 'H':
            o->filter.host = optarg;
            break;
        case 's':
            if (strlen(optarg) < 4 || strspn(optarg, "0123456789-T:Z") != strlen(optarg))
                return ic_usage_error("history", g_usage,
                                      "--since '%s': expected a date, e.g. "
                                      "2026-12-01",
                                      optarg);
            o->filter.since = optarg;
            break;
        case 'f':
            if (ic_format_parse(optarg, &o->format))
                return ic_usage_error("history", g_usage,
                                      "--format '%s': expected table, md or csv", optarg);
            break;
        case 'h':
            fputs(g_usage, stdout);
            return -1;
        default:
            return ic_option_error("history", g_usage, opts, argv, optind);
        }
    }
    return 0;
}

int ic_cmd_history(int argc, char **argv) {
    hist_opts o = {.db = IC_HISTORY_DEFAULT_DB, .filter = {.context = -1}};
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? IC_EXIT_OK : rc;
    if (optind >= argc) return ic_usage_error("history", g_usage, "want add, list or show");
    const char *sub = argv[optind++];
    if (strcmp(sub, "add") == 0) {
        if (optind >= argc) return ic_usage_error("history", g_usage, "add: no file given");
        return cmd_add(&o, argc - optind, argv + optind);
    }
    if (optind < argc)
        return ic_usage_error("history", g_usage, "unexpected argument '%s'", argv[optind]);
    if (strcmp(sub, "list") == 0) return cmd_query(&o, 0);
    if (strcmp(sub, "show") == 0) return cmd_query(&o, 1);
    return ic_usage_error("history", g_usage, "unknown subcommand '%s': want add, list or show",
                          sub);
}
