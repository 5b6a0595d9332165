/* infercost compare: two runs figure by figure, with a Mann-Whitney U test over the repetitions
 * (as Google Benchmark's compare.py does), and an exit code a CI job can gate on. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "figures.h"
#include "history.h"
#include "report.h"
#include "stats.h"

static const char g_usage[] =
    "usage: infercost compare BASE NEW [options]\n"
    "  BASE, NEW           a result file, a Google Benchmark JSON file from `infercost bench`,\n"
    "                      or a history reference: @latest, @COMMIT\n"
    "  --metric M          tok_per_s (default; time per iteration for bench files) or efficiency\n"
    "                      (tok/s over the bound from the read beside each repetition)\n"
    "  --fail-on-regression P  exit 1 when a figure is significantly worse (p < alpha) and worse\n"
    "                      by more than P percent, e.g. 5%\n"
    "  --alpha A           significance level (default 0.05)\n"
    "  --db PATH           the history for @references and the machine's best read (default\n"
    "                      " IC_HISTORY_DEFAULT_DB ")\n" IC_FORMAT_USAGE
    "Too few repetitions to decide is a warning, never a pass or a fail; so is an efficiency\n"
    "whose bound is memory-limited on one side and compute-limited on the other.\n";

typedef struct cmp_opts {
    ic_metric metric;
    double threshold; /* fraction; < 0: no gate */
    double alpha;
    const char *db;
    ic_format format;
} cmp_opts;

typedef enum verdict {
    V_SAME,
    V_BETTER,
    V_WORSE,
    V_WORSE_UNDER,
    V_REGRESSION,
    V_UNDECIDED,
    V_LOST,
    V_OTHER_BOUND
} verdict;

static const char *const g_verdicts[] = {"no significant change",
                                         "better",
                                         "worse",
                                         "worse, under the threshold",
                                         "REGRESSION",
                                         "too few repetitions to decide",
                                         "LOST: ran in BASE, skipped in NEW",
                                         "not comparable: another bound"};

typedef struct row {
    const ic_fig *base, *new_;
    double change; /* new / base - 1 */
    double p;
    verdict v;
} row;

/* A side: a file, or a document from the history. */
static int load_side(const cmp_opts *o, const char *spec, ic_figset *s, char *err, size_t errlen) {
    if (spec[0] != '@') return ic_figset_load(spec, o->metric, s, err, errlen);
    ic_history *h;
    int rc = ic_history_open(&h, o->db, 0, err, errlen);
    if (rc) return rc;
    char *text = NULL, label[700];
    rc = ic_history_document(h, spec, &text, label, sizeof label, err, errlen);
    ic_history_close(h);
    if (rc) return rc;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL) return ic_fail_json(err, errlen, 2, label, &jerr);
    rc = ic_figset_from_json(root, label, o->metric, s, err, errlen);
    json_decref(root);
    return rc;
}

/* Whether a row enters the geometric mean: it has a change that means something. */
static int judged(verdict v) {
    return v != V_LOST && v != V_OTHER_BOUND;
}

static verdict judge(const cmp_opts *o, const ic_fig *b, const ic_fig *n, double change, double p) {
    if (ic_mann_whitney_min_p((size_t)b->n, (size_t)n->n) >= o->alpha) return V_UNDECIDED;
    if (!(p < o->alpha)) return V_SAME;
    int worse = b->higher_is_better ? change < 0 : change > 0;
    if (!worse) return V_BETTER;
    if (o->threshold < 0) return V_WORSE;
    return fabs(change) > o->threshold ? V_REGRESSION : V_WORSE_UNDER;
}

static size_t compare_sets(const cmp_opts *o, const ic_figset *base, const ic_figset *nw,
                           row *rows) {
    size_t n = 0;
    for (size_t i = 0; i < base->n; i++) {
        const ic_fig *b = &base->f[i], *f = ic_figset_find(nw, b->name);
        if (f == NULL || b->skipped || strcmp(b->unit, f->unit) != 0) continue;
        row *r = &rows[n++];
        r->base = b;
        r->new_ = f;
        if (f->skipped) {
            r->change = r->p = NAN;
            r->v = V_LOST;
            continue;
        }
        r->change = f->median / b->median - 1;
        /* efficiencies against a memory bound and a compute bound measure different things */
        if (b->limit[0] && f->limit[0] && strcmp(b->limit, f->limit) != 0) {
            r->p = NAN;
            r->v = V_OTHER_BOUND;
            continue;
        }
        r->p = ic_mann_whitney_p(b->samples, (size_t)b->n, f->samples, (size_t)f->n, NULL);
        r->v = judge(o, b, f, r->change, r->p);
    }
    return n;
}

/* A busy machine: NEW's read passes beside its repetitions far under the best this machine has
 * shown (in the history, or NEW's own probe). */
static void busy_note(const cmp_opts *o, const ic_figset *nw, char *out, size_t len) {
    out[0] = '\0';
    double best = nw->read_bw_gbs, pass = 0;
    ic_history *h;
    char err[256];
    if (nw->machine_id[0] && ic_history_open(&h, o->db, 0, err, sizeof err) == 0) {
        double hb = ic_history_best_read(h, nw->machine_id);
        if (hb > best) best = hb;
        ic_history_close(h);
    }
    for (size_t i = 0; i < nw->n; i++)
        if (nw->f[i].paired_gbs > pass) pass = nw->f[i].paired_gbs;
    if (best > 0 && pass > 0 && pass < 0.85 * best)
        snprintf(out, len,
                 "NEW ran on a busy machine: its read passes reached %.1f GB/s, under 85%% of the "
                 "%.1f GB/s this machine has shown; --metric efficiency cancels part of it",
                 pass, best);
}

static void report_table(const cmp_opts *o, const ic_figset *base, const ic_figset *nw,
                         const row *rows, size_t n, double gm, const char *busy) {
    const char *b = o->format == IC_FMT_MD ? "- " : "";
    if (o->format != IC_FMT_CSV) {
        if (o->format == IC_FMT_MD) printf("### infercost compare\n\n");
        printf("%sbase: %s\n%snew:  %s\n", b, base->label, b, nw->label);
        printf("%smetric: %s; Mann-Whitney U, two-sided, alpha %g%s\n", b,
               o->metric == IC_METRIC_EFFICIENCY ? "efficiency" : "tok/s (bench files: time)",
               o->alpha, o->threshold >= 0 ? "" : "; no regression gate");
        if (base->note[0]) printf("%snote (base): %s\n", b, base->note);
        if (nw->note[0]) printf("%snote (new): %s\n", b, nw->note);
        if (o->format == IC_FMT_MD) putchar('\n');
    }
    static const char *const heads[] = {"figure", "unit", "base", "new",
                                        "change", "p",    "reps", "verdict"};
    ic_table *t = ic_table_new(8, heads, "llrrrrrl");
    for (size_t i = 0; t && i < n; i++) {
        const row *r = &rows[i];
        char bm[32], nm[32], ch[32], p[32], reps[32];
        snprintf(bm, sizeof bm, "%.4g", r->base->median);
        snprintf(nm, sizeof nm, "%.4g", r->new_->median);
        snprintf(ch, sizeof ch, "%+.1f%%", 100 * r->change);
        snprintf(p, sizeof p, "%.4f", r->p);
        if (r->v == V_OTHER_BOUND) snprintf(p, sizeof p, "-");
        if (r->v == V_LOST) {
            snprintf(nm, sizeof nm, "skipped");
            snprintf(ch, sizeof ch, "-");
            snprintf(p, sizeof p, "-");
        }
        snprintf(reps, sizeof reps, "%d/%d", r->base->n, r->new_->n);
        const char *cells[] = {r->base->name, r->base->unit, bm, nm, ch, p, reps, g_verdicts[r->v]};
        ic_table_add(t, cells);
    }
    if (t) ic_table_print(t, o->format, stdout);
    ic_table_free(t);
    if (o->format == IC_FMT_CSV) return;
    size_t n_judged = 0;
    for (size_t i = 0; i < n; i++) n_judged += judged(rows[i].v);
    printf("\n%sgeometric mean of new/base over %zu figures: %.4f (%+.1f%%)\n", b, n_judged, gm,
           100 * (gm - 1));
    size_t und = 0;
    for (size_t i = 0; i < n; i++) und += rows[i].v == V_UNDECIDED;
    if (und)
        printf("%swarning: %zu figure(s) have too few repetitions to decide: with so few, no "
               "p-value can fall under alpha %g (use --repetitions 5 or more; 9 as compare.py "
               "advises)\n",
               b, und, o->alpha);
    if (busy[0]) printf("%swarning: %s\n", b, busy);
    for (size_t i = 0; i < n; i++)
        if (rows[i].v == V_LOST)
            printf("%s%s: skipped in NEW: %s\n", b, rows[i].base->name, rows[i].new_->skip_message);
    for (size_t i = 0; i < n; i++)
        if (rows[i].v == V_OTHER_BOUND)
            printf(
                "%s%s: not judged: its bound is %s-limited in BASE and %s-limited in NEW, so the "
                "efficiencies are against different ceilings (prefill's bound became the lower "
                "of the peak and the weight read on 2026-12-07); compare its tok/s\n",
                b, rows[i].base->name, rows[i].base->limit, rows[i].new_->limit);
}

static void report_json(const cmp_opts *o, const ic_figset *base, const ic_figset *nw,
                        const row *rows, size_t n, double gm, const char *busy) {
    json_t *figs = json_array();
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        json_array_append_new(
            figs,
            json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:i, s:s}", "figure", r->base->name,
                      "unit", r->base->unit, "base_median", ic_json_number(r->base->median),
                      "new_median", ic_json_number(r->new_->median), "change",
                      ic_json_number(r->change), "p", ic_json_number(r->p), "base_repetitions",
                      r->base->n, "new_repetitions", r->new_->n, "verdict", g_verdicts[r->v]));
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:s, s:f, s:o, s:o, s:o}", "base", base->label, "new", nw->label, "metric",
        o->metric == IC_METRIC_EFFICIENCY ? "efficiency" : "tok_per_s", "test",
        "mann-whitney-u two-sided", "alpha", o->alpha, "geomean_new_over_base", ic_json_number(gm),
        "busy", busy[0] ? json_string(busy) : json_null(), "figures", figs);
    ic_report_json(root, stdout);
    json_decref(root);
}

static int parse(int argc, char **argv, cmp_opts *o) {
    static const struct option opts[] = {{"metric", required_argument, 0, 'm'},
                                         {"fail-on-regression", required_argument, 0, 'F'},
                                         {"alpha", required_argument, 0, 'a'},
                                         {"db", required_argument, 0, 'b'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    char *end;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (ic_metric_parse(optarg, &o->metric))
                return ic_usage_error("compare", g_usage,
                                      "--metric '%s': expected tok_per_s or efficiency", optarg);
            break;
        case 'F':
            errno = 0;
            o->threshold = strtod(optarg, &end) / 100;
            if (end == optarg || (*end && strcmp(end, "%") != 0) || errno || !(o->threshold >= 0) ||
                o->threshold > 10)
                return ic_usage_error("compare", g_usage,
                                      "--fail-on-regression '%s': expected a percentage, e.g. 5%%",
                                      optarg);
            break;
        case 'a':
            errno = 0;
            o->alpha = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(o->alpha > 0) || o->alpha >= 1)
                return ic_usage_error("compare", g_usage, "--alpha '%s': expected 0 < A < 1",
                                      optarg);
            break;
        case 'b':
            o->db = optarg;
            break;
        case 'f':
            if (ic_format_parse(optarg, &o->format))
                return ic_usage_error("compare", g_usage,
                                      "--format '%s': expected table, md, csv or json", optarg);
            break;
        case 'h':
            fputs(g_usage, stdout);
            return -1;
        default:
            return ic_option_error("compare", g_usage, opts, argv, optind);
        }
    }
    if (argc - optind != 2)
        return ic_usage_error("compare", g_usage, "want BASE and NEW (got %d)", argc - optind);
    return 0;
}

int ic_cmd_compare(int argc, char **argv) {
    cmp_opts o = {.threshold = -1, .alpha = 0.05, .db = IC_HISTORY_DEFAULT_DB};
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? IC_EXIT_OK : rc;
    ic_figset base = {0}, nw = {0};
    char err[1024];
    rc = load_side(&o, argv[optind], &base, err, sizeof err);
    if (rc == 0) rc = load_side(&o, argv[optind + 1], &nw, err, sizeof err);
    row *rows = rc == 0 ? calloc(base.n ? base.n : 1, sizeof *rows) : NULL;
    if (rc == 0 && rows == NULL) rc = ic_fail(err, sizeof err, 1, "out of memory");
    size_t n = rc == 0 ? compare_sets(&o, &base, &nw, rows) : 0;
    if (rc == 0 && n == 0)
        rc = ic_fail(err, sizeof err, 2, "nothing to compare: no figure of %s is in %s", base.label,
                     nw.label);
    if (rc) {
        ic_error("%s", err);
    } else {
        double ratios[4096];
        size_t k = 0;
        for (size_t i = 0; i < n && k < 4096; i++)
            if (judged(rows[i].v)) ratios[k++] = rows[i].new_->median / rows[i].base->median;
        double gm = ic_geomean(ratios, k);
        char busy[300];
        busy_note(&o, &nw, busy, sizeof busy);
        if (o.format == IC_FMT_JSON)
            report_json(&o, &base, &nw, rows, n, gm, busy);
        else
            report_table(&o, &base, &nw, rows, n, gm, busy);
        for (size_t i = 0; i < n; i++)
            if (o.threshold >= 0 && (rows[i].v == V_REGRESSION || rows[i].v == V_LOST))
                rc = IC_EXIT_FAIL;
    }
    free(rows);
    ic_figset_free(&base);
    ic_figset_free(&nw);
    return rc;
}
