/* Figure sets from result records and Google Benchmark JSON (see figures.h). */
#define _GNU_SOURCE
#include "figures.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fail.h"
#include "stats.h"

int ic_metric_parse(const char *s, ic_metric *out) {
    if (strcmp(s, "tok_per_s") == 0)
        *out = IC_METRIC_TOK_PER_S;
    else if (strcmp(s, "efficiency") == 0)
        *out = IC_METRIC_EFFICIENCY;
    else
        return -1;
    return 0;
}

void ic_fig_name(const ic_measurement *m, int env_threads, ic_dtype kv, char *out, size_t len) {
    int n = snprintf(out, len, "%s/ctx:%ld/n:%ld%s", ic_meas_kind_name(m->kind), m->context,
                     m->batch, m->baseline ? "/openblas" : "");
    /* A --threads sweep has a figure per thread count: name them apart. */
    if (m->threads > 0 && m->threads != env_threads && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "/threads:%d", m->threads);
    if (kv != IC_DT_F32 && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "/kv:%s", ic_dtype_name(kv));
}

static ic_fig *add_fig(ic_figset *s) {
    ic_fig *f = realloc(s->f, (s->n + 1) * sizeof *f);
    if (f == NULL) return NULL;
    s->f = f;
    f = &s->f[s->n++];
    memset(f, 0, sizeof *f);
    return f;
}

/* Per-repetition tok/s, scaled like the median (a slice's extrapolation is a constant factor). */
static void tok_samples(const ic_measurement *m, ic_fig *f) {
    if (m->n_samples == 0 || !(m->median_ms > 0)) {
        f->samples[f->n++] = m->tok_per_s;
        return;
    }
    for (int i = 0; i < m->n_samples; i++)
        if (m->samples_ms[i] > 0)
            f->samples[f->n++] = m->tok_per_s * m->median_ms / m->samples_ms[i];
}

/* Per-repetition efficiency: each repetition against the bound from the read pass taken just
 * before it when there is one per repetition, else against the record's bound. 0 when the
 * measurement has no bound. */
static int eff_samples(const ic_measurement *m, ic_fig *f) {
    if (!m->have_bound || !(m->bound_tok_per_s > 0)) return 0;
    ic_fig tok = {0};
    tok_samples(m, &tok);
    int paired = m->kind != IC_MEAS_PREFILL && m->n_paired == tok.n && m->bytes_per_token > 0;
    for (int i = 0; i < tok.n; i++) {
        double bound =
            paired ? m->paired_read_gbs[i] * 1e9 / m->bytes_per_token : m->bound_tok_per_s;
        if (bound > 0) f->samples[f->n++] = tok.samples[i] / bound;
    }
    return f->n > 0;
}

static int from_result(const ic_result *r, ic_metric metric, ic_figset *s, char *err,
                       size_t errlen) {
    snprintf(s->kind, sizeof s->kind, "result");
    snprintf(s->machine_id, sizeof s->machine_id, "%s", r->host.machine_id);
    snprintf(s->git_commit, sizeof s->git_commit, "%s", r->git_commit);
    snprintf(s->created, sizeof s->created, "%s", r->created_utc);
    s->read_bw_gbs = r->read_bw.available ? r->read_bw.value : 0;
    size_t no_bound = 0;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *m = &r->meas[i];
        ic_fig *f = add_fig(s);
        if (f == NULL) return ic_fail(err, errlen, 1, "out of memory");
        ic_fig_name(m, r->threads, r->kv_dtype, f->name, sizeof f->name);
        f->higher_is_better = 1;
        f->paired_gbs = ic_median(m->paired_read_gbs, (size_t)m->n_paired);
        if (!(f->paired_gbs > 0)) f->paired_gbs = 0;
        if (metric == IC_METRIC_EFFICIENCY) {
            f->unit = "efficiency";
            snprintf(f->limit, sizeof f->limit, "%s", m->limit);
            if (!eff_samples(m, f)) {
                s->n--;
                no_bound++;
                continue;
            }
        } else {
            f->unit = "tok/s";
            tok_samples(m, f);
        }
        f->median = ic_median(f->samples, (size_t)f->n);
    }
    if (no_bound)
        snprintf(s->note, sizeof s->note,
                 "%zu figure(s) without a roofline bound left out of "
                 "--metric efficiency",
                 no_bound);
    return 0;
}

static double unit_ns(const char *unit) {
    if (unit == NULL || strcmp(unit, "ns") == 0) return 1;
    if (strcmp(unit, "us") == 0) return 1e3;
    if (strcmp(unit, "ms") == 0) return 1e6;
    if (strcmp(unit, "s") == 0) return 1e9;
    return 0;
}

/* Google Benchmark's JSON: every repetition of a benchmark ("run_type": "iteration") is a sample
 * of its real time per iteration, in ns. Aggregates are recomputed, not read. */
static int from_bench(json_t *root, ic_metric metric, ic_figset *s, char *err, size_t errlen) {
    snprintf(s->kind, sizeof s->kind, "bench");
    const char *commit = json_string_value(
        json_object_get(json_object_get(root, "context"), "infercost_git_commit"));
    snprintf(s->git_commit, sizeof s->git_commit, "%s", commit ? commit : "");
    const char *date = json_string_value(json_object_get(json_object_get(root, "context"), "date"));
    snprintf(s->created, sizeof s->created, "%s", date ? date : "");
    if (metric == IC_METRIC_EFFICIENCY) {
        snprintf(s->note, sizeof s->note,
                 "--metric efficiency: a bench file has no roofline; compared by time instead");
    }
    json_t *bs = json_object_get(root, "benchmarks"), *b;
    size_t i;
    json_array_foreach(bs, i, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        const char *name = json_string_value(json_object_get(b, "run_name"));
        if (!name) name = json_string_value(json_object_get(b, "name"));
        json_t *t = json_object_get(b, "real_time");
        if (!name || (type && strcmp(type, "iteration") != 0)) continue;
        if (json_is_true(json_object_get(b, "error_occurred"))) {
            /* Kept, without samples: a figure BASE had and NEW skipped is a lost kernel. */
            if (ic_figset_find(s, name)) continue;
            ic_fig *f = add_fig(s);
            if (f == NULL) return ic_fail(err, errlen, 1, "out of memory");
            snprintf(f->name, sizeof f->name, "%s", name);
            f->unit = "ns";
            f->skipped = 1;
            const char *msg = json_string_value(json_object_get(b, "error_message"));
            snprintf(f->skip_message, sizeof f->skip_message, "%s", msg ? msg : "skipped");
            continue;
        }
        if (!json_is_number(t)) continue;
        double scale = unit_ns(json_string_value(json_object_get(b, "time_unit")));
        double v = json_number_value(t) * scale;
        if (!(scale > 0) || !isfinite(v) || v <= 0)
            return ic_fail(err, errlen, 2,
                           "benchmarks[%zu] (%.100s): real_time or time_unit is "
                           "not a positive time",
                           i, name);
        ic_fig *f = NULL;
        for (size_t k = 0; k < s->n; k++)
            if (strcmp(s->f[k].name, name) == 0) f = &s->f[k];
        if (f == NULL) {
            if ((f = add_fig(s)) == NULL) return ic_fail(err, errlen, 1, "out of memory");
            snprintf(f->name, sizeof f->name, "%s", name);
            f->unit = "ns";
        }
        if (f->n < IC_RESULT_MAX_SAMPLES) f->samples[f->n++] = v;
    }
    for (size_t k = 0; k < s->n; k++)
        s->f[k].median = ic_median(s->f[k].samples, (size_t)s->f[k].n);
    return 0;
}

int ic_figset_from_json(json_t *root, const char *label, ic_metric metric, ic_figset *s, char *err,
                        size_t errlen) {
    memset(s, 0, sizeof *s);
    snprintf(s->label, sizeof s->label, "%s", label);
    int rc;
    char why[1024];
    if (json_is_object(root) && json_object_get(root, "schema")) {
        ic_result r;
        if ((rc = ic_result_from_json(&r, root, label, why, sizeof why)))
            return ic_fail(err, errlen, rc, "%s", why);
        rc = from_result(&r, metric, s, err, errlen);
        ic_result_free(&r);
    } else if (json_is_object(root) && json_is_array(json_object_get(root, "benchmarks"))) {
        rc = from_bench(root, metric, s, why, sizeof why);
        if (rc) ic_fail(err, errlen, rc, "%s: %s", label, why);
    } else {
        rc = ic_fail(err, errlen, 2,
                     "%s: neither a result file (\"schema\": \"infercost-result\") nor Google "
                     "Benchmark JSON (\"benchmarks\": [...])",
                     label);
    }
    if (rc == 0 && s->n == 0) rc = ic_fail(err, errlen, 2, "%s: no figures in it", label);
    if (rc) ic_figset_free(s);
    return rc;
}

int ic_figset_load(const char *path, ic_metric metric, ic_figset *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    struct stat st;
    if (stat(path, &st) != 0)
        return ic_fail(err, errlen, 2, "%s: cannot read (%s)", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return ic_fail(err, errlen, 2, "%s: not a regular file", path);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) return ic_fail_json(err, errlen, 2, path, &jerr);
    int rc = ic_figset_from_json(root, path, metric, s, err, errlen);
    json_decref(root);
    return rc;
}

const ic_fig *ic_figset_find(const ic_figset *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i].name, name) == 0) return &s->f[i];
    return NULL;
}

void ic_figset_free(ic_figset *s) {
    free(s->f);
    s->f = NULL;
    s->n = 0;
}
