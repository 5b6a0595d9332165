/* The roofline: the bound each measured figure is compared with, the lower of the read bandwidth
 * over the bytes a token reads and the arithmetic peak over the FLOP a token costs (in practice
 * always the first for single-sequence decode). A prompt reads the weights once, as a decode step
 * does, so a short prompt on a machine with a high peak is bound by memory: llama-3.2-1b q8_0, 64
 * tokens, 34 GB/s and an AMX int8 peak of 14 TOP/s give 1.7k tok/s from the read and 6.9k from
 * the peak. Pure functions of the shape and the ceilings. */
#ifndef IC_ROOFLINE_H
#define IC_ROOFLINE_H

#include <stdint.h>

#include "model.h"
#include "result.h"

typedef struct ic_roof {
    double bytes_per_token; /* read per token: the weights once per step, shared by the tokens it
                             * produces, plus the KV cache each decoded sequence reads */
    double flop_per_token;
    double bound_tok_per_s; /* 0 when the ceiling it needs is unknown (<= 0) */
    const char *limit;      /* "memory" or "compute" */
} ic_roof;

/* The bound of one figure: kind, the context before the token (decode), the batch (sequences for
 * batch decode, prompt tokens for prefill), the read bandwidth in GB/s and the arithmetic peak in
 * G(FL)OP/s. A step reads the weights once (ic_roof_step_weight_bytes); a decode step also reads
 * every sequence's KV cache, counted in the cache's type kv (ic_model_kv_bytes). A prompt's KV
 * writes are not counted. */
ic_roof ic_roofline(const ic_model *m, ic_dtype kv, ic_meas_kind kind, long context, long batch,
                    double read_gbs, double peak_gops);

/* The weight bytes one step over n tokens reads (a prompt of n tokens, or a batch of n
 * sequences): the dense weights once, and of each MoE layer the experts the tokens pick, counted
 * as min(n x n_expert_used, n_expert) experts. */
double ic_roof_step_weight_bytes(const ic_model *m, long n);

/* tok_per_s / bound, or NAN without a bound. */
double ic_roof_efficiency(double tok_per_s, double bound_tok_per_s);

/* A step's time measured on k of l layers, scaled to all l: the layers' share of the step grows
 * by l / k, the rest (embedding, final norm, LM head) stays. layer_fraction is clamped to [0, 1].
 */
double ic_extrapolate_ns(double step_ns, double layer_fraction, uint32_t k, uint32_t l);

#endif
