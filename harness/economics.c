/* Economics: token blends, instance ceilings from chip facts, the unit-economics model. */
#define _GNU_SOURCE
#include "fail.h"
#include "economics.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hours in an average year (365.25 days), for amortizing capex. */
#define IC_HOURS_PER_YEAR 8766.0

double ic_blend(double in_value, double out_value, double mix_in, double mix_out) {
    if (!(mix_in >= 0) || !(mix_out >= 0) || !(mix_in + mix_out > 0)) return NAN;
    /* A zero weight must not let a missing (NAN) figure poison the blend. */
    double a = mix_in > 0 ? mix_in * in_value : 0, b = mix_out > 0 ? mix_out * out_value : 0;
    return (a + b) / (mix_in + mix_out);
}

double ic_blend_tok_per_s(double in_tok_per_s, double out_tok_per_s, double mix_in,
                          double mix_out) {
    if (!(mix_in >= 0) || !(mix_out >= 0) || !(mix_in + mix_out > 0)) return NAN;
    double t =
        (mix_in > 0 ? mix_in / in_tok_per_s : 0) + (mix_out > 0 ? mix_out / out_tok_per_s : 0);
    return t > 0 ? (mix_in + mix_out) / t : NAN;
}

int ic_mix_parse(const char *s, double *mix_in, double *mix_out) {
    char *end;
    double a = strtod(s, &end);
    if (end == s || *end != ':') return -1;
    const char *p = end + 1;
    double b = strtod(p, &end);
    /* A mix is a ratio: bounded so that every blend stays finite. */
    if (end == p || *end || !isfinite(a) || !isfinite(b) || a < 0 || b < 0 || a + b <= 0 ||
        a > 1e6 || b > 1e6)
        return -1;
    *mix_in = a;
    *mix_out = b;
    return 0;
}

double ic_instance_mem_bw_gbs(const ic_instance_info *inst, const ic_chip_info *chip) {
    if (!inst || !chip || !(chip->peak_mem_bw_gbs > 0)) return 0;
    if (inst->accelerators > 0) return chip->peak_mem_bw_gbs * inst->accelerators;
    if (chip->vcpus_per_socket <= 0) return 0;
    return chip->peak_mem_bw_gbs * inst->vcpus / chip->vcpus_per_socket;
}

ic_projection ic_project_decode(const ic_instance_info *inst, const ic_chip_info *chip,
                                double efficiency, double weight_bytes_per_token,
                                double *tok_per_s) {
    double bw = ic_instance_mem_bw_gbs(inst, chip);
    if (!(bw > 0)) return IC_NO_CHIP_FACTS;
    double mem =
        inst->accelerators > 0 ? chip->device_mem_gib * inst->accelerators : inst->memory_gib;
    if (mem > 0 && weight_bytes_per_token / (1024.0 * 1024 * 1024) > mem) return IC_DOES_NOT_FIT;
    *tok_per_s = efficiency * bw * 1e9 / weight_bytes_per_token;
    return IC_PROJECTED;
}

double ic_instance_peak_tflops(const ic_instance_info *inst, const ic_chip_info *chip) {
    if (!inst || !chip || !(chip->peak_bf16_tflops > 0) || inst->accelerators <= 0) return 0;
    return chip->peak_bf16_tflops * inst->accelerators;
}

/* ---- the unit-economics model ---- */

/* Every input has an upper bound far above any real figure, so that every output stays finite. */
static int bad_num(double v) {
    return !isfinite(v) || fabs(v) > 1e12;
}

int ic_econ_check(const ic_econ_inputs *in, char *err, size_t errlen) {
    if (bad_num(in->price_in_usd_per_mtok) || in->price_in_usd_per_mtok < 0)
        return ic_fail(err, errlen, 2, "selling_price.input_usd_per_mtok: must be in [0, 1e12]");
    if (bad_num(in->price_out_usd_per_mtok) || in->price_out_usd_per_mtok < 0)
        return ic_fail(err, errlen, 2, "selling_price.output_usd_per_mtok: must be in [0, 1e12]");
    if (bad_num(in->cost_in_usd_per_mtok) || in->cost_in_usd_per_mtok < 0)
        return ic_fail(err, errlen, 2, "serving_cost.input_usd_per_mtok: must be in [0, 1e12]");
    if (bad_num(in->cost_out_usd_per_mtok) || in->cost_out_usd_per_mtok < 0)
        return ic_fail(err, errlen, 2, "serving_cost.output_usd_per_mtok: must be in [0, 1e12]");
    if (bad_num(in->mix_in) || bad_num(in->mix_out) || in->mix_in < 0 || in->mix_out < 0 ||
        in->mix_in > 1e6 || in->mix_out > 1e6 || in->mix_in + in->mix_out <= 0)
        return ic_fail(err, errlen, 2, "mix: input and output must be >= 0, not both 0");
    double p =
        ic_blend(in->price_in_usd_per_mtok, in->price_out_usd_per_mtok, in->mix_in, in->mix_out);
    if (!(p > 0))
        return ic_fail(err, errlen, 2, "selling_price: the blended price must be positive");
    if (bad_num(in->utilization) || in->utilization <= 0 || in->utilization > 1)
        return ic_fail(err, errlen, 2, "utilization: must be in (0, 1]");
    if (bad_num(in->revenue_share) || in->revenue_share < 0 || in->revenue_share >= 1)
        return ic_fail(err, errlen, 2, "platform.revenue_share: must be in [0, 1)");
    if (bad_num(in->pass_through) || in->pass_through < 0 || in->pass_through > 1)
        return ic_fail(err, errlen, 2, "price_performance.pass_through: must be in [0, 1]");
    if (in->have_tco) {
        if (bad_num(in->capex_usd_per_server) || in->capex_usd_per_server < 0)
            return ic_fail(err, errlen, 2, "tco.capex_usd_per_server: must be in [0, 1e12]");
        if (bad_num(in->amortization_years) || in->amortization_years <= 0)
            return ic_fail(err, errlen, 2, "tco.amortization_years: must be in (0, 1e12]");
        if (bad_num(in->power_kw) || in->power_kw < 0)
            return ic_fail(err, errlen, 2, "tco.power_kw: must be in [0, 1e12]");
        if (bad_num(in->usd_per_kwh) || in->usd_per_kwh < 0)
            return ic_fail(err, errlen, 2, "tco.usd_per_kwh: must be in [0, 1e12]");
        if (bad_num(in->pue) || in->pue < 1)
            return ic_fail(err, errlen, 2, "tco.pue: must be >= 1");
        if (bad_num(in->server_tok_per_s) || in->server_tok_per_s <= 0)
            return ic_fail(err, errlen, 2, "tco.server_tok_per_s: must be in (0, 1e12]");
    }
    return 0;
}

void ic_econ_compute(const ic_econ_inputs *in, double ratio, ic_econ_outputs *out) {
    memset(out, 0, sizeof *out);
    double p =
        ic_blend(in->price_in_usd_per_mtok, in->price_out_usd_per_mtok, in->mix_in, in->mix_out);
    double c =
        ic_blend(in->cost_in_usd_per_mtok, in->cost_out_usd_per_mtok, in->mix_in, in->mix_out);
    out->price_usd_per_mtok = p;
    out->cost_full_usd_per_mtok = c / ratio;
    /* A chip with `ratio` times the tokens per dollar makes each token 1/ratio as costly; the
     * platform passes pass_through of that saving on to the vendor by lowering the fee. */
    double fee_scale = 1.0 - in->pass_through * (1.0 - 1.0 / ratio);
    out->infra_fee_usd_per_mtok = c / in->utilization * fee_scale;
    out->revenue_share_usd_per_mtok = in->revenue_share * p;
    out->vendor_profit_usd_per_mtok =
        p - out->infra_fee_usd_per_mtok - out->revenue_share_usd_per_mtok;
    out->vendor_gross_margin = out->vendor_profit_usd_per_mtok / p;
    out->platform_revenue_usd_per_mtok =
        out->infra_fee_usd_per_mtok + out->revenue_share_usd_per_mtok;
    if (in->have_tco) {
        out->have_tco = 1;
        out->tco_usd_per_server_hour =
            in->capex_usd_per_server / (in->amortization_years * IC_HOURS_PER_YEAR) +
            in->power_kw * in->pue * in->usd_per_kwh;
        out->platform_cost_usd_per_mtok =
            ic_usd_per_mtok(out->tco_usd_per_server_hour, in->server_tok_per_s * in->utilization) /
            ratio;
        if (out->tco_usd_per_server_hour == 0) out->platform_cost_usd_per_mtok = 0;
        out->platform_profit_usd_per_mtok =
            out->platform_revenue_usd_per_mtok - out->platform_cost_usd_per_mtok;
        out->platform_margin =
            out->platform_revenue_usd_per_mtok > 0
                ? out->platform_profit_usd_per_mtok / out->platform_revenue_usd_per_mtok
                : NAN;
    }
}
