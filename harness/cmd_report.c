/* infercost report: a Markdown report of result files (or every result in the history) with
 * charts drawn by gnuplot, PNG and SVG: the roofline, throughput against interactivity across the
 * batch sweep, $/Mtok against interactivity, $/Mtok bars across instance types (measured and
 * modeled drawn apart), and the trend from the history. Without gnuplot it writes the tables and
 * says the charts were skipped. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "economics.h"
#include "fail.h"
#include "history.h"
#include "pricing.h"
#include "report.h"
#include "result.h"

static const char g_usage[] =
    "usage: infercost report RESULT.json...|@history --out DIR [options]\n"
    "  --out DIR           where report.md and the charts (PNG and SVG) go (created)\n"
    "  --db PATH           the history: @history reads every result in it, and the trend chart\n"
    "                      comes from it (default " IC_HISTORY_DEFAULT_DB ")\n"
    "  --project           add modeled $/Mtok bars for catalog instances without a "
    "result\n" IC_PRICE_USAGE_INSTANCE IC_PRICE_USAGE_REGION IC_PRICE_USAGE_PRICING
        IC_PRICE_USAGE_USD_PER_HOUR IC_PRICE_USAGE_CATALOG
    "Charts need gnuplot (Debian's gnuplot-nox); without it the "
    "report has the tables only.\n";

#define MAX_SOURCES 64

typedef struct source {
    ic_result r;
    ic_priced priced;
    char label[256]; /* a short name for legends */
} source;

typedef struct report {
    const char *out, *db;
    int project;
    ic_price_opts price;
    source src[MAX_SOURCES];
    int n;
    ic_catalog cat;
    int have_cat;
    ic_host_id here;
    FILE *md;
    int gnuplot; /* gnuplot is on PATH */
    int charts, chart_failures;
} report;

/* ---- sources ---- */

static void legend(source *s) {
    const ic_result *r = &s->r;
    const char *where = r->host.instance_type[0] ? r->host.instance_type : "non-EC2";
    char as[48];
    snprintf(as, sizeof as, "%s", s->priced.price.instance_type);
    if (ic_priced_elsewhere(r->host.instance_type, &s->priced))
        snprintf(s->label, sizeof s->label, "%.63s %s kv %s (%.47s as %.47s)", r->model.name,
                 ic_dtype_name(r->model.dtype), ic_dtype_name(r->kv_dtype), where, as);
    else
        snprintf(s->label, sizeof s->label, "%.63s %s kv %s (%.47s)", r->model.name,
                 ic_dtype_name(r->model.dtype), ic_dtype_name(r->kv_dtype), where);
    /* gnuplot strings are single-quoted in the scripts: no quote may end them early */
    for (char *c = s->label; *c; c++)
        if (*c == '\'' || *c == '\\' || (unsigned char)*c < 0x20) *c = '_';
}

static int add_source(report *rp, ic_result *r, char *err, size_t errlen) {
    if (rp->n == MAX_SOURCES) return ic_fail(err, errlen, 2, "at most %d results", MAX_SOURCES);
    source *s = &rp->src[rp->n];
    s->r = *r;
    char why[512];
    if (ic_price_resolve(&rp->price, rp->have_cat ? &rp->cat : NULL, r->host.instance_type,
                         &r->pricing, &s->priced, why, sizeof why))
        return ic_fail(err, errlen, 2, "%s: --instance %s: %s", r->path, rp->price.instance, why);
    legend(s);
    rp->n++;
    return 0;
}

typedef struct doc_ctx {
    report *rp;
    int rc;
    char *err;
    size_t errlen;
} doc_ctx;

static void add_document(const char *text, const char *label, void *user) {
    doc_ctx *c = user;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    ic_result r;
    if (c->rc || root == NULL) return;
    if (ic_result_from_json(&r, root, label, c->err, c->errlen) == 0) {
        snprintf(r.path, sizeof r.path, "%s", label);
        if ((c->rc = add_source(c->rp, &r, c->err, c->errlen))) ic_result_free(&r);
    }
    json_decref(root);
}

static int load_sources(report *rp, int argc, char **argv, char *err, size_t errlen) {
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "@history") == 0) {
            ic_history *h;
            int rc = ic_history_open(&h, rp->db, 0, err, errlen);
            if (rc) return rc;
            doc_ctx c = {rp, 0, err, errlen};
            rc = ic_history_each_document(h, "result", add_document, &c, err, errlen);
            ic_history_close(h);
            if (rc || c.rc) return rc ? rc : c.rc;
            continue;
        }
        ic_result r;
        int rc = ic_result_read(&r, argv[i], err, errlen);
        if (rc) return rc;
        if ((rc = add_source(rp, &r, err, errlen))) {
            ic_result_free(&r);
            return rc;
        }
    }
    return rp->n ? 0 : ic_fail(err, errlen, 2, "no result to report (the history has none)");
}

/* ---- gnuplot ---- */

static int on_path(const char *prog) {
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    for (char *save, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char full[4200];
        snprintf(full, sizeof full, "%s/%s", dir, prog);
        if (access(full, X_OK) == 0) return 1;
    }
    return 0;
}

static FILE *open_in(const report *rp, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", rp->out, name);
    return fopen(path, "w");
}

/* Runs gnuplot on NAME.gp in the output directory (no shell: the names are ours, the directory
 * the user's), which draws NAME.png and NAME.svg; links them in the report. */
static void draw(report *rp, const char *name, const char *title) {
    rp->charts++;
    pid_t pid = rp->gnuplot ? fork() : -1;
    if (pid == 0) {
        char script[64];
        snprintf(script, sizeof script, "%s.gp", name);
        if (chdir(rp->out) != 0) _exit(127);
        if (freopen("/dev/null", "w", stdout) == NULL) _exit(127);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fprintf(rp->md,
                "### %s\n\n![%s](%s.png)\n\n([SVG](%s.svg); data and script: %s.dat, "
                "%s.gp)\n\n",
                title, title, name, name, name, name);
    } else {
        if (rp->gnuplot) rp->chart_failures++;
        fprintf(rp->md, "### %s\n\nchart skipped: %s (its data and script are %s.dat, %s.gp)\n\n",
                title,
                rp->gnuplot ? "gnuplot failed on it"
                            : "gnuplot is not installed "
                              "(Debian: gnuplot-nox)",
                name, name);
    }
}

/* The head of every script: PNG first, then the same plot again as SVG. */
static void script_head(FILE *g, const char *name, const char *title, const char *x,
                        const char *y) {
    fprintf(g,
            "set terminal pngcairo size 960,600 noenhanced font ',10'\nset output '%s.png'\n"
            "set title '%s' noenhanced\nset xlabel '%s' noenhanced\nset ylabel '%s' noenhanced\n"
            "set grid\nset key below noenhanced\n",
            name, title, x, y);
}

static void script_tail(FILE *g, const char *name) {
    fprintf(g, "set terminal svg size 960,600 noenhanced\nset output '%s.svg'\nreplot\n", name);
}

/* ---- charts ---- */

static void chart_roofline(report *rp) {
    const ic_result *r0 = &rp->src[0].r;
    FILE *d = open_in(rp, "roofline.dat"), *g = open_in(rp, "roofline.gp");
    int points = 0;
    if (!d || !g) goto out;
    for (int i = 0; i < rp->n; i++) {
        fprintf(d, "# %s\n", rp->src[i].label);
        for (size_t k = 0; k < rp->src[i].r.n_meas; k++) {
            const ic_measurement *m = &rp->src[i].r.meas[k];
            if (m->baseline || !(m->bytes_per_token > 0) || !(m->flop_per_token > 0)) continue;
            fprintf(d, "%g %g\n", m->flop_per_token / m->bytes_per_token,
                    m->tok_per_s * m->flop_per_token / 1e9);
            points++;
        }
        fprintf(d, "\n\n");
    }
    double bw = r0->read_bw.available ? r0->read_bw.value : 0;
    double peak = r0->peak.available ? r0->peak.value : 0;
    script_head(g, "roofline",
                "Roofline: measured points under the roofs measured by the first result",
                "arithmetic intensity (FLOP per byte read)", "G(FL)OP/s");
    fprintf(g, "set logscale xy\nset xrange [0.1:10000]\n");
    /* The roofs the first result measured: bandwidth x intensity, capped by the peak. */
    if (bw > 0 && peak > 0)
        fprintf(g, "roof(x) = %g * x < %g ? %g * x : %g\n", bw, peak, bw, peak);
    else if (bw > 0)
        fprintf(g, "roof(x) = %g * x\n", bw);
    else if (peak > 0)
        fprintf(g, "roof(x) = %g\n", peak);
    else
        fprintf(g, "roof(x) = 1/0\n");
    fprintf(g,
            "plot roof(x) with lines lw 2 lc rgb 'black' title 'roofs measured on %s: %.1f GB/s "
            "read, %.0f G%s/s %s peak (0: not measured)'",
            rp->src[0].label, bw, peak, strcmp(r0->peak_kind, "int8") == 0 ? "OP" : "FLOP",
            r0->peak_kind);
    for (int i = 0; i < rp->n; i++)
        fprintf(g, ", 'roofline.dat' index %d using 1:2 with points pt 7 ps 1.5 title '%s'", i,
                rp->src[i].label);
    fprintf(g, "\n");
    script_tail(g, "roofline");
out:
    if (d) fclose(d);
    if (g) fclose(g);
    if (points == 0) {
        fprintf(rp->md, "### Roofline\n\nno roofline: no figure records its bytes and FLOP per "
                        "token\n\n");
        return;
    }
    draw(rp, "roofline", "Roofline");
}

/* Decode and batch decode at each result's smallest context, by batch: x = tok/s one sequence
 * sees, y = aggregate tok/s (throughput_interactivity), or y = $/Mtok (cost_interactivity). */
static void sweep_points(const source *s, FILE *d, int cost) {
    long ctx = -1;
    for (size_t k = 0; k < s->r.n_meas; k++) {
        const ic_measurement *m = &s->r.meas[k];
        if (m->kind != IC_MEAS_PREFILL && (ctx < 0 || m->context < ctx)) ctx = m->context;
    }
    for (long b = 1; b <= 4096; b++)
        for (size_t k = 0; k < s->r.n_meas; k++) {
            const ic_measurement *m = &s->r.meas[k];
            if (m->kind == IC_MEAS_PREFILL || m->context != ctx || m->batch != b ||
                !(m->ms_per_token > 0) || (b > 1 && m->kind == IC_MEAS_DECODE))
                continue;
            double y =
                cost ? ic_usd_per_mtok(s->priced.price.usd_per_hour, m->tok_per_s) : m->tok_per_s;
            if (isfinite(y)) fprintf(d, "%g %g %ld\n", 1000.0 / m->ms_per_token, y, b);
            break;
        }
}

static void chart_sweep(report *rp, int cost) {
    const char *name = cost ? "cost_interactivity" : "throughput_interactivity";
    char f[96];
    snprintf(f, sizeof f, "%s.dat", name);
    FILE *d = open_in(rp, f);
    snprintf(f, sizeof f, "%s.gp", name);
    FILE *g = open_in(rp, f);
    if (!d || !g) goto out;
    int drawn = 0;
    for (int i = 0; i < rp->n; i++) {
        fprintf(d, "# %s\n", rp->src[i].label);
        if (!cost || rp->src[i].priced.origin != IC_PRICE_NONE) sweep_points(&rp->src[i], d, cost);
        fprintf(d, "\n\n");
    }
    script_head(g, name,
                cost ? "$/Mtok against interactivity, per instance type (decode batch sweep)"
                     : "Throughput against interactivity (decode batch sweep)",
                "tok/s each sequence sees (1000 / ms per token)",
                cost ? "$ per million output tokens" : "aggregate tok/s");
    fprintf(g, "plot ");
    for (int i = 0; i < rp->n; i++) {
        if (cost && rp->src[i].priced.origin == IC_PRICE_NONE) continue;
        fprintf(g,
                "%s'%s.dat' index %d using 1:2 with linespoints pt 7 title '%s', "
                "'' index %d using 1:2:(sprintf('b%%d', $3)) with labels offset 1,1 notitle",
                drawn++ ? ", " : "", name, i, rp->src[i].label, i);
    }
    if (!drawn) fprintf(g, "1/0 title 'no priced result'");
    fprintf(g, "\n");
    script_tail(g, name);
out:
    if (d) fclose(d);
    if (g) fclose(g);
    draw(rp, name, cost ? "$/Mtok against interactivity" : "Throughput against interactivity");
}

/* Decode $/Mtok at batch 1: each result as measured (solid), and with --project modeled bars
 * for the catalog's instances from the first result's efficiency (hatched). */
static void chart_bars(report *rp) {
    FILE *d = open_in(rp, "cost_bars.dat"), *g = open_in(rp, "cost_bars.gp");
    if (!d || !g) goto out;
    int row = 0;
    const ic_measurement *ref = NULL;
    for (int i = 0; i < rp->n; i++) {
        const ic_measurement *m = ic_result_pick_decode(&rp->src[i].r, -1);
        if (m && !ref) ref = m;
        double usd = m ? ic_usd_per_mtok(rp->src[i].priced.price.usd_per_hour, m->tok_per_s) : NAN;
        if (isfinite(usd)) fprintf(d, "%d \"%s\" %g 0\n", row++, rp->src[i].label, usd);
    }
    if (rp->project && rp->have_cat && ref && ref->have_bound && ref->efficiency > 0 &&
        ref->efficiency <= 1.2) {
        for (size_t i = 0; i < rp->cat.n_instances && row < 40; i++) {
            const ic_instance_info *ii = &rp->cat.instances[i];
            double tok;
            ic_price pr;
            char why[256];
            /* A CPU's efficiency says nothing about a GPU or a Neuron device: no bars for them. */
            if (ii->accelerators > 0 || strcmp(ii->type, rp->src[0].r.host.instance_type) == 0 ||
                ic_project_decode(ii, ic_catalog_chip(&rp->cat, ii->chip), ref->efficiency,
                                  rp->src[0].r.weight_bytes_per_token, &tok) != IC_PROJECTED ||
                ic_price_lookup(&rp->cat, ii->type, rp->price.region, rp->price.pricing, &pr, why,
                                sizeof why) != 0)
                continue;
            /* one per family: the first size the catalog lists */
            int seen = 0;
            for (size_t j = 0; j < i; j++)
                seen |= strcmp(rp->cat.instances[j].family, ii->family) == 0;
            if (!seen)
                fprintf(d, "%d \"%s (modeled)\" %g 1\n", row++, ii->type,
                        ic_usd_per_mtok(pr.usd_per_hour, tok));
        }
    }
    script_head(g, "cost_bars",
                "Decode $/Mtok at batch 1: measured (solid), modeled CPU instances (hatched)", "",
                "$ per million output tokens");
    fprintf(g, "set style fill solid 0.8 border -1\nset boxwidth 0.7\nset xtics rotate by -60 "
               "noenhanced font ',8'\nset bmargin 14\nset logscale y\nunset key\n");
    fprintf(g, "plot 'cost_bars.dat' using 1:($4 == 0 ? $3 : 1/0):xtic(2) with boxes lc rgb "
               "'#1f77b4' title 'measured', '' using 1:($4 == 1 ? $3 : 1/0) with boxes fs pattern "
               "4 lc rgb '#ff7f0e' title 'modeled'\n");
    script_tail(g, "cost_bars");
out:
    if (d) fclose(d);
    if (g) fclose(g);
    draw(rp, "cost_bars", "$/Mtok across instance types");
}

typedef struct trend_ctx {
    FILE *d;
    int n;
    char name[160];
} trend_ctx;

static void trend_point(const ic_history_point *p, void *user) {
    trend_ctx *t = user;
    if (strcmp(p->name, t->name) != 0) return;
    fprintf(t->d, "%d %g %g %g \"%.7s\"\n", t->n++, p->median, isfinite(p->lo) ? p->lo : p->median,
            isfinite(p->hi) ? p->hi : p->median, p->git_commit);
}

static void chart_trend(report *rp) {
    ic_history *h;
    char err[512];
    const ic_result *r0 = &rp->src[0].r;
    const ic_measurement *m = ic_result_pick_decode(r0, -1);
    if (m == NULL || ic_history_open(&h, rp->db, 0, err, sizeof err) != 0) {
        fprintf(rp->md, "### Trend\n\nno trend: %s\n\n",
                m ? err : "the first result has no batch-1 decode");
        return;
    }
    trend_ctx t = {open_in(rp, "trend.dat"), 0, ""};
    snprintf(t.name, sizeof t.name, "decode/ctx:%ld/n:1", m->context);
    ic_history_filter f = {.model = r0->model.name,
                           .dtype = ic_dtype_name(r0->model.dtype),
                           .kind = "decode",
                           .context = m->context};
    if (t.d) ic_history_points(h, &f, trend_point, &t, err, sizeof err);
    ic_history_close(h);
    if (t.d) fclose(t.d);
    FILE *g = open_in(rp, "trend.gp");
    if (g) {
        char title[256];
        snprintf(title, sizeof title, "Trend: %s %s decode at ctx %ld (history %s)", r0->model.name,
                 ic_dtype_name(r0->model.dtype), m->context, rp->db);
        script_head(g, "trend", title, "run (oldest first; commit)", "tok/s (median, range)");
        fprintf(g,
                "unset key\nset xtics rotate by -45\nset offsets 0.5,0.5,0,0\n"
                "plot %s\n",
                t.n ? "'trend.dat' using 1:2:3:4:xtic(5) with yerrorlines pt 7"
                    : "1/0 title 'no history points'");
        script_tail(g, "trend");
        fclose(g);
    }
    if (t.n == 0) {
        fprintf(rp->md, "### Trend\n\nno trend: the history has no %s for %s %s\n\n", t.name,
                r0->model.name, ic_dtype_name(r0->model.dtype));
        return;
    }
    draw(rp, "trend", "Trend from the history");
}

/* ---- the Markdown ---- */

static void write_tables(report *rp) {
    fprintf(rp->md, "# infercost report\n\n");
    for (int i = 0; i < rp->n; i++) {
        const source *s = &rp->src[i];
        char where[256], price[1200];
        ic_result_measured_on(&s->r, where, sizeof where);
        ic_priced_describe(&s->priced, price, sizeof price);
        fprintf(rp->md,
                "## %s\n\n- file: %s\n- measured on %s, %s; created %s, commit %s\n- price: "
                "%s\n\n",
                s->label, s->r.path, where,
                ic_result_on_host(&s->r, &rp->here) ? "this host" : "another machine (imported)",
                s->r.created_utc, s->r.git_commit, price);
        static const char *const heads[] = {"phase",  "ctx", "n",      "tok/s",
                                            "ms/tok", "eff", "$/Mtok", "how"};
        ic_table *t = ic_table_new(8, heads, "lrrrrrrl");
        for (size_t k = 0; t && k < s->r.n_meas; k++) {
            const ic_measurement *m = &s->r.meas[k];
            char ctx[24], n[24], tps[32], ms[32], eff[16], usd[32], how[200];
            snprintf(ctx, sizeof ctx, "%ld", m->context);
            snprintf(n, sizeof n, "%ld", m->batch);
            snprintf(tps, sizeof tps, "%.2f", m->tok_per_s);
            snprintf(ms, sizeof ms, "%.2f", m->ms_per_token);
            snprintf(eff, sizeof eff, m->have_bound ? "%.0f%%" : "-", 100 * m->efficiency);
            double u = ic_usd_per_mtok(s->priced.price.usd_per_hour, m->tok_per_s);
            snprintf(usd, sizeof usd, isfinite(u) ? "%.4f" : "-", u);
            ic_priced_label(ic_result_figure_provenance(&s->r, m, &rp->here),
                            s->r.host.instance_type, &s->priced, how, sizeof how);
            const char *cells[] = {m->baseline ? "prefill-sgemm" : ic_meas_kind_name(m->kind),
                                   ctx,
                                   n,
                                   tps,
                                   ms,
                                   eff,
                                   usd,
                                   how};
            ic_table_add(t, cells);
        }
        if (t) ic_table_print(t, IC_FMT_MD, rp->md);
        ic_table_free(t);
        fputc('\n', rp->md);
    }
    fprintf(rp->md, "## Charts\n\n");
}

static int parse(int argc, char **argv, report *rp) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'b'},
                                         {"project", no_argument, 0, 'P'},
                                         IC_PRICE_OPTION_INSTANCE,
                                         IC_PRICE_OPTION_REGION,
                                         IC_PRICE_OPTION_PRICING,
                                         IC_PRICE_OPTION_USD_PER_HOUR,
                                         IC_PRICE_OPTION_CATALOG,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    char err[512];
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int pc = ic_price_opts_parse(&rp->price, c, optarg, err, sizeof err);
        if (pc < 0) return ic_usage_error("report", g_usage, "%s", err);
        if (pc > 0) continue;
        switch (c) {
        case 'o':
            rp->out = optarg;
            break;
        case 'b':
            rp->db = optarg;
            break;
        case 'P':
            rp->project = 1;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return -1;
        default:
            return ic_option_error("report", g_usage, opts, argv, optind);
        }
    }
    if (rp->out == NULL) return ic_usage_error("report", g_usage, "--out DIR is required");
    if (optind >= argc) return ic_usage_error("report", g_usage, "no result given");
    if (ic_price_opts_check(&rp->price, err, sizeof err))
        return ic_usage_error("report", g_usage, "%s", err);
    return 0;
}

static int make_out_dir(const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ic_fail(err, errlen, 1, "--out %s: cannot create it (%s)", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ic_fail(err, errlen, 2, "--out %s: not a directory", dir);
    return 0;
}

int ic_cmd_report(int argc, char **argv) {
    static report rp;
    memset(&rp, 0, sizeof rp);
    rp.db = IC_HISTORY_DEFAULT_DB;
    ic_price_opts_init(&rp.price);
    int rc = parse(argc, argv, &rp);
    if (rc) return rc < 0 ? IC_EXIT_OK : rc;
    char err[1024];
    rp.have_cat = ic_catalog_load(&rp.cat, rp.price.catalog_dir, err, sizeof err) == 0;
    ic_host_identify(&rp.here);
    rc = load_sources(&rp, argc - optind, argv + optind, err, sizeof err);
    if (rc == 0) rc = make_out_dir(rp.out, err, sizeof err);
    if (rc == 0 && (rp.md = open_in(&rp, "report.md")) == NULL)
        rc =
            ic_fail(err, sizeof err, 1, "%s/report.md: cannot write (%s)", rp.out, strerror(errno));
    if (rc == 0) {
        rp.gnuplot = on_path("gnuplot");
        write_tables(&rp);
        chart_roofline(&rp);
        chart_sweep(&rp, 0);
        chart_sweep(&rp, 1);
        chart_bars(&rp);
        chart_trend(&rp);
        if (fclose(rp.md) != 0)
            rc = ic_fail(err, sizeof err, 1, "%s/report.md: write failed", rp.out);
        printf("report: %s/report.md, %d charts%s\n", rp.out, rp.charts - rp.chart_failures,
               rp.gnuplot ? "" : " skipped: gnuplot is not installed (Debian: gnuplot-nox)");
        if (rp.chart_failures)
            rc = ic_fail(err, sizeof err, 1, "gnuplot failed on %d chart(s)", rp.chart_failures);
    }
    if (rc) ic_error("%s", err);
    for (int i = 0; i < rp.n; i++) ic_result_free(&rp.src[i].r);
    if (rp.have_cat) ic_catalog_free(&rp.cat);
    return rc;
}
