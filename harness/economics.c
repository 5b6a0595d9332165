/* Economics: pricing formulas, result-file reading, latency-target pick, the unit-economics model.
 */
#define _GNU_SOURCE
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

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

const char *ic_provenance_name(ic_provenance p) {
    switch (p) {
    case IC_PROV_MEASURED:
        return "measured";
    case IC_PROV_MODELED:
        return "modeled";
    case IC_PROV_IMPORTED:
        return "imported";
    case IC_PROV_EXTRAPOLATED:
        return "extrapolated";
    }
    return "?";
}

ic_provenance ic_provenance_weakest(ic_provenance a, ic_provenance b) {
    static const int rank[] = {[IC_PROV_MEASURED] = 0,
                               [IC_PROV_IMPORTED] = 1,
                               [IC_PROV_EXTRAPOLATED] = 2,
                               [IC_PROV_MODELED] = 3};
    return rank[a] >= rank[b] ? a : b;
}

const char *ic_meas_kind_name(ic_meas_kind k) {
    switch (k) {
    case IC_MEAS_DECODE:
        return "decode";
    case IC_MEAS_PREFILL:
        return "prefill";
    case IC_MEAS_BATCH_DECODE:
        return "batch_decode";
    }
    return "?";
}

double ic_usd_per_mtok(double usd_per_hour, double tok_per_s) {
    if (!(usd_per_hour > 0) || !(tok_per_s > 0) || !isfinite(usd_per_hour) || !isfinite(tok_per_s))
        return NAN;
    return usd_per_hour / (tok_per_s * 3600.0) * 1e6;
}

double ic_tok_per_usd(double usd_per_hour, double tok_per_s) {
    if (!(usd_per_hour > 0) || !(tok_per_s > 0)) return NAN;
    return tok_per_s * 3600.0 / usd_per_hour;
}

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
    if (end == p || *end || !isfinite(a) || !isfinite(b) || a < 0 || b < 0 || a + b <= 0) return -1;
    *mix_in = a;
    *mix_out = b;
    return 0;
}

/* ---- result files ---- */

static int get_num(json_t *obj, const char *key, double *out) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

static void get_str(json_t *obj, const char *key, char *dst, size_t len) {
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(dst, len, "%s", s ? s : "");
}

void ic_econ_result_free(ic_econ_result *r) {
    free(r->meas);
    memset(r, 0, sizeof *r);
}

int ic_econ_result_load(ic_econ_result *r, const char *path, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(err, errlen, 2, "%s:%d: %s", path, jerr.line, jerr.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = fail(err, errlen, 2, "%s: not a JSON object", path);
        goto out;
    }
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (!schema || strcmp(schema, "infercost-result") != 0) {
        rc = fail(err, errlen, 2, "%s: schema: want \"infercost-result\"", path);
        goto out;
    }
    json_t *ver = json_object_get(root, "schema_version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        rc = fail(err, errlen, 2, "%s: schema_version: want 1 (this build reads schema 1)", path);
        goto out;
    }
    get_str(root, "created_utc", r->created_utc, sizeof r->created_utc);
    json_t *env = json_object_get(root, "env");
    if (!json_is_object(env)) {
        rc = fail(err, errlen, 2, "%s: env: missing or not an object", path);
        goto out;
    }
    get_str(env, "host", r->host, sizeof r->host);
    json_t *it = json_object_get(env, "instance_type");
    if (json_is_string(it)) {
        if (strlen(json_string_value(it)) >= sizeof r->instance_type || !json_string_value(it)[0]) {
            rc = fail(err, errlen, 2, "%s: env.instance_type: empty or too long", path);
            goto out;
        }
        snprintf(r->instance_type, sizeof r->instance_type, "%s", json_string_value(it));
    } else if (it && !json_is_null(it)) {
        rc = fail(err, errlen, 2, "%s: env.instance_type: must be a string or null", path);
        goto out;
    }
    char self[256] = "";
    if (gethostname(self, sizeof self - 1) == 0)
        r->on_this_host = r->host[0] && strcmp(self, r->host) == 0;

    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) {
        rc = fail(err, errlen, 2, "%s: model: missing or not an object", path);
        goto out;
    }
    get_str(model, "name", r->model, sizeof r->model);
    get_str(model, "dtype", r->dtype, sizeof r->dtype);
    if (get_num(model, "weight_bytes_per_token", &r->weight_bytes_per_token) != 0)
        r->weight_bytes_per_token = 0;
    if (get_num(model, "flop_per_token", &r->flop_per_token) != 0) r->flop_per_token = 0;
    if (r->weight_bytes_per_token < 0 || r->flop_per_token < 0) {
        rc =
            fail(err, errlen, 2, "%s: model.weight_bytes_per_token/flop_per_token: negative", path);
        goto out;
    }
    json_t *bw = json_object_get(json_object_get(root, "probes"), "read_bw_gbs");
    if (get_num(bw, "value", &r->read_bw_gbs) != 0 || r->read_bw_gbs < 0) r->read_bw_gbs = 0;

    json_t *pricing = json_object_get(root, "pricing");
    if (json_is_object(pricing) && get_num(pricing, "usd_per_hour", &r->run_usd_per_hour) == 0 &&
        r->run_usd_per_hour > 0) {
        get_str(pricing, "source", r->run_price_source, sizeof r->run_price_source);
        get_str(pricing, "date", r->run_price_date, sizeof r->run_price_date);
    } else {
        r->run_usd_per_hour = 0;
    }

    json_t *ms = json_object_get(root, "measurements");
    if (!json_is_array(ms)) {
        rc = fail(err, errlen, 2, "%s: measurements: missing or not an array", path);
        goto out;
    }
    size_t n = json_array_size(ms);
    r->meas = calloc(n ? n : 1, sizeof *r->meas);
    if (!r->meas) {
        rc = fail(err, errlen, 1, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(ms, i);
        ic_econ_measurement *e = &r->meas[i];
        if (!json_is_object(m)) {
            rc = fail(err, errlen, 2, "%s: measurements[%zu]: not an object", path, i);
            goto out;
        }
        const char *kind = json_string_value(json_object_get(m, "kind"));
        if (kind && strcmp(kind, "decode") == 0)
            e->kind = IC_MEAS_DECODE;
        else if (kind && strcmp(kind, "prefill") == 0)
            e->kind = IC_MEAS_PREFILL;
        else if (kind && strcmp(kind, "batch_decode") == 0)
            e->kind = IC_MEAS_BATCH_DECODE;
        else {
            rc =
                fail(err, errlen, 2,
                     "%s: measurements[%zu].kind: want \"decode\", \"prefill\" or \"batch_decode\"",
                     path, i);
            goto out;
        }
        if (get_num(m, "tok_per_s", &e->tok_per_s) != 0 || !(e->tok_per_s > 0)) {
            rc = fail(err, errlen, 2, "%s: measurements[%zu].tok_per_s: must be a positive number",
                      path, i);
            goto out;
        }
        double v;
        e->batch = get_num(m, "batch", &v) == 0 ? (long)v : 1;
        e->context = get_num(m, "context", &v) == 0 ? (long)v : 0;
        if (e->batch < 1 || e->context < 0) {
            rc = fail(err, errlen, 2, "%s: measurements[%zu].batch/context: out of range", path, i);
            goto out;
        }
        if (json_object_get(m, "ms_per_token") &&
            (get_num(m, "ms_per_token", &e->ms_per_token) != 0 || !(e->ms_per_token > 0))) {
            rc = fail(err, errlen, 2,
                      "%s: measurements[%zu].ms_per_token: must be a positive number", path, i);
            goto out;
        }
        const char *prov = json_string_value(json_object_get(m, "provenance"));
        if (!prov || strcmp(prov, "measured") == 0)
            e->provenance = IC_PROV_MEASURED;
        else if (strcmp(prov, "modeled") == 0)
            e->provenance = IC_PROV_MODELED;
        else if (strcmp(prov, "imported") == 0)
            e->provenance = IC_PROV_IMPORTED;
        else if (strcmp(prov, "extrapolated") == 0)
            e->provenance = IC_PROV_EXTRAPOLATED;
        else {
            rc = fail(err, errlen, 2, "%s: measurements[%zu].provenance: unknown '%s'", path, i,
                      prov);
            goto out;
        }
        const char *mpath = json_string_value(json_object_get(m, "path"));
        e->baseline = mpath && strcmp(mpath, "openblas_sgemm") == 0;
        json_t *roof = json_object_get(m, "roofline");
        if (get_num(roof, "efficiency", &e->efficiency) != 0 || e->efficiency < 0)
            e->efficiency = 0;
        if (get_num(roof, "bound_tok_per_s", &e->bound_tok_per_s) != 0 || e->bound_tok_per_s < 0)
            e->bound_tok_per_s = 0;
        r->n_meas++;
    }
out:
    json_decref(root);
    if (rc) ic_econ_result_free(r);
    return rc;
}

ic_provenance ic_econ_figure_provenance(const ic_econ_result *r, const ic_econ_measurement *m) {
    if (m->provenance == IC_PROV_MODELED || m->provenance == IC_PROV_EXTRAPOLATED)
        return m->provenance;
    if (m->provenance == IC_PROV_IMPORTED || !r->on_this_host) return IC_PROV_IMPORTED;
    return IC_PROV_MEASURED;
}

const ic_econ_measurement *ic_econ_pick(const ic_econ_result *r, ic_meas_kind kind) {
    const ic_econ_measurement *best = NULL;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_econ_measurement *m = &r->meas[i];
        if (m->kind != kind || m->baseline) continue;
        if (kind == IC_MEAS_DECODE) {
            if (m->batch != 1) continue;
            if (!best || m->context < best->context) best = m;
        } else if (!best || m->batch > best->batch) {
            best = m;
        }
    }
    return best;
}

const ic_econ_measurement *ic_econ_latency_pick(const ic_econ_result *r, double tpot_ms) {
    const ic_econ_measurement *best = NULL;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_econ_measurement *m = &r->meas[i];
        if (m->kind == IC_MEAS_PREFILL || m->baseline || !(m->ms_per_token > 0) ||
            m->ms_per_token > tpot_ms)
            continue;
        if (!best || m->tok_per_s > best->tok_per_s ||
            (m->tok_per_s == best->tok_per_s && m->batch < best->batch))
            best = m;
    }
    return best;
}

double ic_instance_mem_bw_gbs(const ic_instance_info *inst, const ic_chip_info *chip) {
    if (!inst || !chip || !(chip->peak_mem_bw_gbs > 0)) return 0;
    if (inst->accelerators > 0) return chip->peak_mem_bw_gbs * inst->accelerators;
    if (chip->vcpus_per_socket <= 0) return 0;
    return chip->peak_mem_bw_gbs * inst->vcpus / chip->vcpus_per_socket;
}

double ic_instance_peak_tflops(const ic_instance_info *inst, const ic_chip_info *chip) {
    if (!inst || !chip || !(chip->peak_bf16_tflops > 0) || inst->accelerators <= 0) return 0;
    return chip->peak_bf16_tflops * inst->accelerators;
}

json_t *ic_price_json(const ic_price *p) {
    json_t *j = json_object();
    json_object_set_new(j, "usd_per_hour", json_real(p->usd_per_hour));
    json_object_set_new(j, "source", json_string(p->source));
    json_object_set_new(j, "date", json_string(p->date));
    json_object_set_new(j, "instance_type", json_string(p->instance_type));
    json_object_set_new(j, "pricing", json_string(ic_pricing_name(p->pricing)));
    json_object_set_new(j, "region", json_string(p->region));
    json_object_set_new(j, "on_demand_usd_per_hour", json_real(p->on_demand_usd_per_hour));
    json_object_set_new(j, "discount", json_real(p->discount));
    if (p->discount > 0) {
        json_object_set_new(j, "discount_source", json_string(p->discount_source));
        json_object_set_new(j, "discount_date", json_string(p->discount_date));
    }
    return j;
}

/* ---- the unit-economics model ---- */

static int bad_num(double v) {
    return !isfinite(v);
}

int ic_econ_check(const ic_econ_inputs *in, char *err, size_t errlen) {
    if (bad_num(in->price_in_usd_per_mtok) || in->price_in_usd_per_mtok < 0)
        return fail(err, errlen, 2, "selling_price.input_usd_per_mtok: must be >= 0");
    if (bad_num(in->price_out_usd_per_mtok) || in->price_out_usd_per_mtok < 0)
        return fail(err, errlen, 2, "selling_price.output_usd_per_mtok: must be >= 0");
    if (bad_num(in->cost_in_usd_per_mtok) || in->cost_in_usd_per_mtok < 0)
        return fail(err, errlen, 2, "serving_cost.input_usd_per_mtok: must be >= 0");
    if (bad_num(in->cost_out_usd_per_mtok) || in->cost_out_usd_per_mtok < 0)
        return fail(err, errlen, 2, "serving_cost.output_usd_per_mtok: must be >= 0");
    if (bad_num(in->mix_in) || bad_num(in->mix_out) || in->mix_in < 0 || in->mix_out < 0 ||
        in->mix_in + in->mix_out <= 0)
        return fail(err, errlen, 2, "mix: input and output must be >= 0, not both 0");
    double p =
        ic_blend(in->price_in_usd_per_mtok, in->price_out_usd_per_mtok, in->mix_in, in->mix_out);
    if (!(p > 0)) return fail(err, errlen, 2, "selling_price: the blended price must be positive");
    if (bad_num(in->utilization) || in->utilization <= 0 || in->utilization > 1)
        return fail(err, errlen, 2, "utilization: must be in (0, 1]");
    if (bad_num(in->revenue_share) || in->revenue_share < 0 || in->revenue_share >= 1)
        return fail(err, errlen, 2, "platform.revenue_share: must be in [0, 1)");
    if (bad_num(in->pass_through) || in->pass_through < 0 || in->pass_through > 1)
        return fail(err, errlen, 2, "price_performance.pass_through: must be in [0, 1]");
    if (in->have_tco) {
        if (bad_num(in->capex_usd_per_server) || in->capex_usd_per_server < 0)
            return fail(err, errlen, 2, "tco.capex_usd_per_server: must be >= 0");
        if (bad_num(in->amortization_years) || in->amortization_years <= 0)
            return fail(err, errlen, 2, "tco.amortization_years: must be > 0");
        if (bad_num(in->power_kw) || in->power_kw < 0)
            return fail(err, errlen, 2, "tco.power_kw: must be >= 0");
        if (bad_num(in->usd_per_kwh) || in->usd_per_kwh < 0)
            return fail(err, errlen, 2, "tco.usd_per_kwh: must be >= 0");
        if (bad_num(in->pue) || in->pue < 1) return fail(err, errlen, 2, "tco.pue: must be >= 1");
        if (bad_num(in->server_tok_per_s) || in->server_tok_per_s <= 0)
            return fail(err, errlen, 2, "tco.server_tok_per_s: must be > 0");
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
