/* Economics: blends of input and output tokens, instance ceilings from chip facts for modeled
 * projections, and the unit-economics model of docs/economics.md. It never runs a kernel: it reads
 * result records (result.h) and prices them (pricing.h). */
#ifndef IC_ECONOMICS_H
#define IC_ECONOMICS_H

#include <stddef.h>

#include <jansson.h>

#include "catalog.h"
#include "pricing.h"
#include "result.h"

/* The cost per token of a workload of mix_in input tokens per mix_out output tokens: the weighted
 * mean (mix_in * in + mix_out * out) / (mix_in + mix_out). Valid for $/Mtok because an input and an
 * output token each occupy the machine for their own time. NAN for a bad mix. */
double ic_blend(double in_value, double out_value, double mix_in, double mix_out);

/* The throughput of that mix: tokens over the summed time, (a + b) / (a / in + b / out). */
double ic_blend_tok_per_s(double in_tok_per_s, double out_tok_per_s, double mix_in, double mix_out);

/* Parses "3:1" into two numbers in [0, 1e6], not both 0; returns 0, or -1. */
int ic_mix_parse(const char *s, double *mix_in, double *mix_out);

/* Memory bandwidth of an instance in GB/s from chip facts: accelerators x per-device bandwidth, or
 * for CPUs the socket bandwidth x vcpus / vcpus_per_socket. 0 when the facts are missing. */
double ic_instance_mem_bw_gbs(const ic_instance_info *inst, const ic_chip_info *chip);

/* Why a projection cannot be made for an instance. */
typedef enum ic_projection {
    IC_PROJECTED,     /* *tok_per_s holds the modeled decode rate */
    IC_NO_CHIP_FACTS, /* chips.tsv has no memory bandwidth for the instance's chip */
    IC_DOES_NOT_FIT   /* the weights exceed the instance's (or its devices') memory */
} ic_projection;

/* The modeled batch-1 decode rate of an instance: a measured decode efficiency times the
 * instance's memory bandwidth from chip facts, over the weight bytes a token reads. The one
 * projection rule, used by compare-chips --project and report. */
ic_projection ic_project_decode(const ic_instance_info *inst, const ic_chip_info *chip,
                                double efficiency, double weight_bytes_per_token,
                                double *tok_per_s);

/* Peak bf16 FLOP/s of an instance in TFLOP/s (accelerators x per-device peak), 0 when unknown. */
double ic_instance_peak_tflops(const ic_instance_info *inst, const ic_chip_info *chip);

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
