/* The result record: what one `infercost run` measured, where, and what it was priced as. One
 * struct, one writer, one reader, one schema (results/SCHEMA.md); every command that reads or
 * writes a result file goes through here. The module owns the provenance labels and the identity
 * of the measuring host, so that "measured" means measured on the machine that reads it as such. */
#ifndef IC_RESULT_H
#define IC_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catalog.h"
#include "forward.h"
#include "model.h"

#define IC_RESULT_SCHEMA         "infercost-result"
#define IC_RESULT_SCHEMA_VERSION 2
#define IC_RESULT_MAX_SAMPLES    64

/* How a figure was obtained: on the host that made the result, from chip facts, from a result
 * made elsewhere, or measured on a slice of the layers and scaled to the whole model. */
typedef enum ic_provenance {
    IC_PROV_MEASURED,
    IC_PROV_MODELED,
    IC_PROV_IMPORTED,
    IC_PROV_EXTRAPOLATED
} ic_provenance;

const char *ic_provenance_name(ic_provenance p);

/* Parses a provenance name; 0, or -1 when unknown. */
int ic_provenance_parse(const char *s, ic_provenance *out);

/* The weaker of two provenances, for a figure combined from both: modeled, then extrapolated, then
 * imported, then measured. */
ic_provenance ic_provenance_weakest(ic_provenance a, ic_provenance b);

/* What a measurement timed: one decode step of one sequence, a prefill of `batch` tokens, or one
 * decode step of `batch` sequences. */
typedef enum ic_meas_kind { IC_MEAS_DECODE, IC_MEAS_PREFILL, IC_MEAS_BATCH_DECODE } ic_meas_kind;

const char *ic_meas_kind_name(ic_meas_kind k);

/* Parses "decode", "prefill" or "batch_decode"; 0, or -1. */
int ic_meas_kind_parse(const char *s, ic_meas_kind *out);

#define IC_HOST_MAX_FEATURES 64

/* Who measured: the machine's own identity, never its hostname alone. */
typedef struct ic_host_id {
    char host[256];             /* the hostname: shown to people, never compared */
    char machine_id[40];        /* "fnv1a64:<16 hex>" of /etc/machine-id or the DMI product uuid */
    char machine_id_source[24]; /* "machine-id", "dmi-product-uuid"; "" when neither was readable */
    char instance_type[48];     /* the EC2 type DMI reports; "" off EC2 */
    char cpu_vendor[32];
    char cpu_model[128];
    char arch[16];
    char features[IC_HOST_MAX_FEATURES][24];
    int n_features;
} ic_host_id;

/* This machine's identity (computed once, then copied). IC_SYSFS_ROOT redirects the DMI reads and
 * IC_MACHINE_ID_FILE the machine-id file, for tests. */
void ic_host_identify(ic_host_id *out);

/* 1 when a and b are the same machine: both have a machine id and the ids and CPU models agree. A
 * shared hostname proves nothing; a missing id is never a match. */
int ic_host_same(const ic_host_id *a, const ic_host_id *b);

/* A probe's ceiling: the measured value, or "unavailable: <why>" in note. */
typedef struct ic_ceiling {
    int available;
    double value; /* GB/s (read) or G(FL)OP/s (peak) */
    char loop[64];
    char note[400];
} ic_ceiling;

typedef struct ic_measurement {
    ic_meas_kind kind;
    int baseline;        /* path "openblas_sgemm": a reference, not the harness's own kernels */
    long context;        /* decode: KV positions before the token; 0 for prefill */
    long batch;          /* sequences (batch decode), prompt tokens (prefill), 1 (decode) */
    int threads;         /* the workers it ran on (a --threads sweep varies it); 0: env.threads */
    long shortened_from; /* prefill: the prompt asked for when the run shortened it; 0 if not */
    double tok_per_s;    /* aggregate */
    double ms_per_token; /* per sequence (decode), per prompt token (prefill) */
    ic_provenance provenance;
    int extrapolated_from_layers; /* 0: the whole model ran */
    int n_samples;
    double samples_ms[IC_RESULT_MAX_SAMPLES]; /* per repetition, ms per step, as run */
    double median_ms, stddev_ms;              /* of a step: a whole prompt for prefill (TTFT) */
    /* roofline */
    int have_bound;
    double bound_tok_per_s, efficiency;
    char limit[16];      /* "memory" or "compute" */
    char bound_note[96]; /* why there is no bound */
    double read_bw_gbs;  /* decode: the read bandwidth the bound used; 0 for prefill */
    char read_bw_source[128];
    int n_paired;
    double paired_read_gbs[IC_RESULT_MAX_SAMPLES];
    double bytes_per_token, flop_per_token; /* modeled */
    int have_latency; /* decode and batch decode: per-step latency over the timed repetitions */
    double p50_ms, p90_ms, p99_ms; /* of a step (a token per sequence), scaled like the median */
    long latency_steps;            /* how many steps they are taken over */
    int have_op_share;             /* decode only */
    double op_share[IC_FOP_COUNT];
    double usd_per_mtok; /* NAN without a price */
} ic_measurement;

/* The price a run recorded: given on the command line, or looked up in the catalog. */
typedef struct ic_result_pricing {
    int present;
    int given;      /* --usd-per-hour: no instance type, no mode, no region */
    ic_price price; /* instance_type is what it was priced as, never where it ran */
} ic_result_pricing;

typedef struct ic_result {
    int schema_version; /* as read (1 or 2); the writer writes IC_RESULT_SCHEMA_VERSION */
    char created_utc[32];
    char tool_version[32];
    char git_commit[48];
    /* env */
    ic_host_id host;
    int topo_cores, topo_pus, topo_numa_nodes;
    int threads;
    char bind[16];
    char isa_cap[24];
    char kernels[1024];
    char lib_benchmark[32], lib_hwloc[32], lib_openblas[32], lib_papi[32]; /* "" = absent */
    /* the offload device the figures ran on (run --device); backend "" for the CPU */
    char device_backend[16], device_name[128], device_runtime[96];
    int device_count;
    /* model */
    ic_model model;
    ic_dtype kv_dtype; /* the KV cache's type (model.kv_dtype); f32 for a record without it */
    uint32_t n_layer_run;
    double weight_bytes_per_token, flop_per_token;
    /* probes */
    ic_ceiling read_bw;
    ic_ceiling peak;
    char peak_kind[8]; /* "f32", "bf16" or "int8" */
    ic_measurement *meas;
    size_t n_meas;
    ic_result_pricing pricing;
    char path[512]; /* the file it was read from; "" for a record built in memory */
} ic_result;

/* Stamps a record being made now: created_utc, this build's version and git commit. */
void ic_result_stamp(ic_result *r);

/* Appends a zeroed measurement and returns it; NULL when out of memory. */
ic_measurement *ic_result_add(ic_result *r);

void ic_result_free(ic_result *r);

/* The record as JSON (results/SCHEMA.md); the caller owns the reference. NULL when out of memory.
 */
json_t *ic_result_to_json(const ic_result *r);

/* Parses a record from JSON. Checks the schema name and version (a newer version is an error that
 * says so), every field's type and range; errors (2) name `where` and the field, e.g.
 * "r.json: measurements[1].tok_per_s: must be a positive number". */
int ic_result_from_json(ic_result *r, json_t *root, const char *where, char *err, size_t errlen);

/* Reads a result file (a regular file; ic_result_from_json's checks). Free with ic_result_free. */
int ic_result_read(ic_result *r, const char *path, char *err, size_t errlen);

/* Writes the record atomically (temp file in the same directory, fsync, rename). 0, or 1 with a
 * message naming the file. */
int ic_result_write(const ic_result *r, const char *path, char *err, size_t errlen);

/* Checks, before any work, that a result can be written at path (ic_out_check: its directory
 * exists and is writable; path is not a directory, FIFO or other file that cannot be an output).
 * 0, or 2 with a message. */
int ic_result_check_writable(const char *path, char *err, size_t errlen);

/* 1 when the record was measured on `here` (ic_host_same). */
int ic_result_on_host(const ic_result *r, const ic_host_id *here);

/* The provenance to print for a figure read on `here`: modeled and extrapolated stay so; a
 * measured figure from another machine's file is imported. */
ic_provenance ic_result_figure_provenance(const ic_result *r, const ic_measurement *m,
                                          const ic_host_id *here);

/* "c7a.large (EC2, from DMI)" or "not EC2: AMD EPYC 9B45 (AuthenticAMD)": where it was measured. */
void ic_result_measured_on(const ic_result *r, char *out, size_t len);

/* The batch-1 decode at context `context`, or with context < 0 the smallest context. Baseline
 * rows are never picked. NULL when none. */
const ic_measurement *ic_result_pick_decode(const ic_result *r, long context);

/* The prefill of `prompt` tokens, or with prompt < 0 the longest prompt that was not shortened
 * (a shortened one only when allow_shortened). NULL when none. */
const ic_measurement *ic_result_pick_prefill(const ic_result *r, long prompt, int allow_shortened);

/* Cost at a latency target: among decode and batch-decode figures whose per-sequence ms/token is
 * at most tpot_ms, the one with the most aggregate tokens/s (ties: the smaller batch). */
const ic_measurement *ic_result_pick_latency(const ic_result *r, double tpot_ms);

#endif
