/* The roofline bounds (see roofline.h). */
#include "roofline.h"

#include <math.h>

double ic_roof_step_weight_bytes(const ic_model *m, long n) {
    double bytes = (double)ic_model_weight_bytes_per_token(m);
    if (m->n_expert && n > 1) {
        double used = (double)n * m->n_expert_used;
        if (used > m->n_expert) used = m->n_expert;
        bytes += m->n_layer * (used - m->n_expert_used) * (double)ic_model_expert_bytes(m);
    }
    return bytes;
}

ic_roof ic_roofline(const ic_model *m, ic_dtype kv_type, ic_meas_kind kind, long context,
                    long batch, double read_gbs, double peak_gops) {
    ic_roof r = {0};
    const long n = batch > 0 ? batch : 1;
    if (kind == IC_MEAS_PREFILL) {
        r.flop_per_token = ic_model_prefill_flop(m, (uint64_t)n) / (double)n;
        r.bytes_per_token = ic_roof_step_weight_bytes(m, n) / (double)n;
    } else {
        const long seqs = kind == IC_MEAS_BATCH_DECODE ? n : 1;
        const double kv = (double)ic_model_kv_bytes(m, kv_type, (uint64_t)context + 1);
        r.bytes_per_token = (ic_roof_step_weight_bytes(m, seqs) + (double)seqs * kv) / (double)seqs;
        r.flop_per_token = ic_model_flop_per_token(m, (uint64_t)context);
    }
    const double mem = read_gbs > 0 ? read_gbs * 1e9 / r.bytes_per_token : 0;
    const double cmp = peak_gops > 0 ? peak_gops * 1e9 / r.flop_per_token : 0;
    r.bound_tok_per_s = mem;
    r.limit = "memory";
    /* the lower of the two; without a read bandwidth a single-sequence decode has no bound (its
     * compute bound alone would be one it is nowhere near) */
    if (cmp > 0 && (mem > 0 ? cmp < mem : kind != IC_MEAS_DECODE)) {
        r.bound_tok_per_s = cmp;
        r.limit = "compute";
    }
    return r;
}

double ic_roof_efficiency(double tok_per_s, double bound_tok_per_s) {
    return bound_tok_per_s > 0 && isfinite(tok_per_s) ? tok_per_s / bound_tok_per_s : NAN;
}

double ic_extrapolate_ns(double step_ns, double layer_fraction, uint32_t k, uint32_t l) {
    if (k == 0 || k >= l) return step_ns;
    if (!(layer_fraction >= 0)) layer_fraction = 1.0;
    if (layer_fraction > 1.0) layer_fraction = 1.0;
    return step_ns * ((1.0 - layer_fraction) + layer_fraction * (double)l / (double)k);
}
