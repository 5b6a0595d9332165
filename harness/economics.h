/* Economics: $ per million tokens from throughput and an hourly price, the reading of result files
 * (results/SCHEMA.md), the latency-target pick, modeled projections to other chips, and the
 * unit-economics model of docs/economics.md. It never runs a kernel. */
#ifndef IC_ECONOMICS_H
#define IC_ECONOMICS_H

#include <stddef.h>

#include <jansson.h>

#include "catalog.h"

/* How a figure was obtained: on this host, from chip facts, from a result made elsewhere, or
 * measured on a slice of the layers and scaled to the whole model (`infercost run` on a model too
 * big for memory writes "extrapolated"). */
typedef enum ic_provenance {
    IC_PROV_MEASURED,
    IC_PROV_MODELED,
    IC_PROV_IMPORTED,
    IC_PROV_EXTRAPOLATED
} ic_provenance;

const char *ic_provenance_name(ic_provenance p);

/* The weaker of two provenances, for a figure combined from both: modeled, then extrapolated, then
 * imported, then measured. */
ic_provenance ic_provenance_weakest(ic_provenance a, ic_provenance b);

/* usd_per_hour / (tok_per_s * 3600) * 1e6: dollars per million tokens. NAN unless both are > 0. */
double ic_usd_per_mtok(double usd_per_hour, double tok_per_s);

/* Tokens one dollar buys: tok_per_s * 3600 / usd_per_hour. NAN unless both are > 0. */
double ic_tok_per_usd(double usd_per_hour, double tok_per_s);

/* The cost per token of a workload of mix_in input tokens per mix_out output tokens: the weighted
 * mean (mix_in * in + mix_out * out) / (mix_in + mix_out). Valid for $/Mtok because an input and an
 * output token each occupy the machine for their own time. NAN for a bad mix. */
double ic_blend(double in_value, double out_value, double mix_in, double mix_out);

/* The throughput of that mix: tokens over the summed time, (a + b) / (a / in + b / out). */
double ic_blend_tok_per_s(double in_tok_per_s, double out_tok_per_s, double mix_in, double mix_out);

/* Parses "3:1" into two positive numbers; returns 0, or -1. */
int ic_mix_parse(const char *s, double *mix_in, double *mix_out);

typedef enum ic_meas_kind { IC_MEAS_DECODE, IC_MEAS_PREFILL, IC_MEAS_BATCH_DECODE } ic_meas_kind;

const char *ic_meas_kind_name(ic_meas_kind k);

/* One entry of a result's "measurements" array, as much of it as economics uses. */
typedef struct ic_econ_measurement {
    ic_meas_kind kind;
    long context, batch;
    double tok_per_s;         /* aggregate */
    double ms_per_token;      /* per sequence (TPOT); 0 when absent */
    ic_provenance provenance; /* as written; "measured" becomes imported for another host's file */
    double efficiency;        /* roofline.efficiency, 0 when absent */
    double bound_tok_per_s;   /* roofline.bound_tok_per_s, 0 when absent */
    int baseline;             /* path "openblas_sgemm": a reference, not the harness's own figure */
} ic_econ_measurement;

/* A result file, reduced to what pricing needs. */
typedef struct ic_econ_result {
    char path[512];
    char host[256];
    int on_this_host;       /* env.host equals this machine's hostname */
    char instance_type[48]; /* "" when env.instance_type is null */
    char created_utc[40];
    char model[64];
    char dtype[16];
    double weight_bytes_per_token; /* 0 when absent */
    double flop_per_token;         /* 0 when absent */
    double read_bw_gbs;            /* probes.read_bw_gbs.value, 0 when absent */
    double run_usd_per_hour;       /* pricing.usd_per_hour given at run time, 0 when absent */
    char run_price_source[200];
    char run_price_date[32];
    ic_econ_measurement *meas;
    size_t n_meas;
} ic_econ_result;

/* Reads a result file. Checks the schema name and version, and that each measurement has a known
 * kind and a positive tok_per_s; errors (2) name the file and the field, e.g.
 * "r.json: measurements[1].tok_per_s: must be a positive number". Free with ic_econ_result_free. */
int ic_econ_result_load(ic_econ_result *r, const char *path, char *err, size_t errlen);

void ic_econ_result_free(ic_econ_result *r);

/* The provenance to print for a measurement: modeled and extrapolated stay so; a measured figure
 * from another host's file is imported. */
ic_provenance ic_econ_figure_provenance(const ic_econ_result *r, const ic_econ_measurement *m);

/* The representative figure of a kind: decode = batch 1 at the smallest context; prefill = the
 * longest prompt (largest batch). OpenBLAS baseline rows are never picked. NULL when none. */
const ic_econ_measurement *ic_econ_pick(const ic_econ_result *r, ic_meas_kind kind);

/* Cost at a latency target: among decode and batch_decode measurements whose per-sequence
 * ms_per_token is at most tpot_ms, the one with the most aggregate tokens/s (the cheapest per token
 * on one instance; ties go to the smaller batch). NULL when none meets the target. */
const ic_econ_measurement *ic_econ_latency_pick(const ic_econ_result *r, double tpot_ms);

/* Memory bandwidth of an instance in GB/s from chip facts: accelerators x per-device bandwidth, or
 * for CPUs the socket bandwidth x vcpus / vcpus_per_socket. 0 when the facts are missing. */
double ic_instance_mem_bw_gbs(const ic_instance_info *inst, const ic_chip_info *chip);

/* Peak bf16 FLOP/s of an instance in TFLOP/s (accelerators x per-device peak), 0 when unknown. */
double ic_instance_peak_tflops(const ic_instance_info *inst, const ic_chip_info *chip);

/* The result file's "pricing" object (results/SCHEMA.md) for a looked-up price: usd_per_hour,
 * source, date, instance_type, pricing, region, plus the discount and its source and date. The
 * caller owns the returned reference (json_decref). For `infercost run` to record its price. */
json_t *ic_price_json(const ic_price *p);

/* The unit-economics model's inputs (docs/economics.md defines each). */
typedef struct ic_econ_inputs {
    double price_in_usd_per_mtok, price_out_usd_per_mtok; /* selling (list) price */
    double cost_in_usd_per_mtok, cost_out_usd_per_mtok;   /* serving cost at full utilization */
    double mix_in, mix_out;                               /* input:output tokens */
    double utilization;                                   /* (0, 1] of paid capacity doing work */
    double revenue_share;                                 /* [0, 1) of the selling price */
    double
        pass_through; /* [0, 1] of a price-performance gain passed to the vendor as a lower fee */
    int have_tco;
    double capex_usd_per_server, amortization_years, power_kw, usd_per_kwh, pue;
    double server_tok_per_s; /* blended tokens/s one server delivers at full use */
} ic_econ_inputs;

typedef struct ic_econ_outputs {
    double price_usd_per_mtok;            /* blended selling price P */
    double cost_full_usd_per_mtok;        /* blended serving cost at full use C, / ratio */
    double infra_fee_usd_per_mtok;        /* F = C / utilization, / the ratio's pass-through */
    double revenue_share_usd_per_mtok;    /* S = revenue_share x P */
    double vendor_profit_usd_per_mtok;    /* P - F - S */
    double vendor_gross_margin;           /* (P - F - S) / P */
    double platform_revenue_usd_per_mtok; /* F + S */
    int have_tco;
    double tco_usd_per_server_hour;      /* capex / (years x 8766 h) + kW x PUE x $/kWh */
    double platform_cost_usd_per_mtok;   /* T = TCO/h / (server tok/s x 3600 x utilization) x 1e6 */
    double platform_profit_usd_per_mtok; /* F + S - T */
    double platform_margin;              /* (F + S - T) / (F + S) */
} ic_econ_outputs;

/* Validates the inputs; returns 0 or 2 with a message naming the field ("utilization: must be in
 * (0, 1]"). */
int ic_econ_check(const ic_econ_inputs *in, char *err, size_t errlen);

/* Evaluates the model with the chip's price-performance multiplied by ratio (1 = as given): the
 * serving cost per token and the platform's TCO per token divide by ratio, and the fee falls by
 * pass_through of that saving. Inputs must have passed ic_econ_check; ratio must be > 0. */
void ic_econ_compute(const ic_econ_inputs *in, double ratio, ic_econ_outputs *out);

#endif
