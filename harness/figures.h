/* Figure sets: the comparable figures of one side of a comparison, each with its repetitions. A
 * side is a result record (results/SCHEMA.md, read through result.h) or a Google Benchmark JSON
 * file from `infercost bench`; compare, history and report read both through here. */
#ifndef IC_FIGURES_H
#define IC_FIGURES_H

#include <stddef.h>

#include <jansson.h>

#include "result.h"

typedef enum ic_metric {
    IC_METRIC_TOK_PER_S,  /* tokens per second (results) or time per iteration (bench files) */
    IC_METRIC_EFFICIENCY, /* tok/s over the roofline bound from the read measured beside each
                           * repetition: cancels a machine that reads slower today */
} ic_metric;

/* Parses "tok_per_s" or "efficiency"; 0, or -1. */
int ic_metric_parse(const char *s, ic_metric *out);

typedef struct ic_fig {
    char name[160];   /* "decode/ctx:128/n:1", or a benchmark's run name */
    const char *unit; /* "tok/s", "efficiency" or "ns" */
    int higher_is_better;
    int n;
    double samples[IC_RESULT_MAX_SAMPLES]; /* one per repetition */
    double median;
    double paired_gbs; /* median read pass beside the repetitions (GB/s); 0 when none */
    char limit[16];    /* --metric efficiency: the bound's limit ("memory", "compute") */
    int skipped;       /* bench files: the benchmark was reported skipped (no samples) */
    char skip_message[160];
} ic_fig;

typedef struct ic_figset {
    char label[600];     /* the file, or the history reference and what it resolved to */
    char kind[8];        /* "result" or "bench" */
    char machine_id[40]; /* results: the measuring machine; "" for bench files */
    char git_commit[48]; /* results: tool.git_commit; bench: the context's, when present */
    char created[40];
    double read_bw_gbs; /* results: the probe's read bandwidth; 0 when unknown */
    ic_fig *f;
    size_t n;
    char note[256]; /* what the metric could not cover */
} ic_figset;

/* Fills s from a parsed document: a result record or a Google Benchmark JSON object. Figures that
 * the metric does not apply to are left out, and note says so. 0, or 2 with a message. */
int ic_figset_from_json(json_t *root, const char *label, ic_metric metric, ic_figset *s, char *err,
                        size_t errlen);

/* The same from a file (a regular file; JSON). */
int ic_figset_load(const char *path, ic_metric metric, ic_figset *s, char *err, size_t errlen);

/* The figure of that name, or NULL. */
const ic_fig *ic_figset_find(const ic_figset *s, const char *name);

void ic_figset_free(ic_figset *s);

/* A result measurement's name in a figure set: "<kind>/ctx:<C>/n:<B>", "/openblas" for the
 * OpenBLAS baseline, "/threads:<T>" when it ran on other than the record's env.threads, "/kv:<T>"
 * when the record's KV cache (kv) was not f32. The KV type is part of the name so that a figure
 * never matches one measured with another cache type; f32 adds nothing, so records made before
 * the type was recorded (all f32) keep their names and still match f32 ones. */
void ic_fig_name(const ic_measurement *m, int env_threads, ic_dtype kv, char *out, size_t len);

#endif
