/* Modeled accelerator figures (accel.h): placement, decode and prefill from chips.tsv. */
#define _GNU_SOURCE
#include "accel.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "roofline.h"

/* ---- the defaults and their sources ---- */

static const char *const g_class_name[IC_ACCEL_CLASS_COUNT] = {"cuda", "neuron"};

static const double g_decode_default[IC_ACCEL_CLASS_COUNT] = {0.60, 0.35};
static const char *const g_decode_source[IC_ACCEL_CLASS_COUNT] = {
    "Databricks, 'LLM Inference Performance Engineering: Best Practices' (2023-10-12): "
    "model bandwidth utilization 60% at batch 1, MPT-7B on 2x H100-80GB, TensorRT-LLM",
    "derived from AWS Neuron's published decoder latencies (aws-neuron-sdk "
    "general/benchmarks/trn1/latency_data_decoder.csv, Transformers NeuronX 2.18.1, 2024): "
    "Llama-3-70B bf16 on trn1.32xlarge, TP 32, batch 4, 28.4 ms per token: 141 GB / 28.4 ms / "
    "(16 x 880.5 GB/s) = 0.35",
};
static const double g_prefill_default[IC_ACCEL_CLASS_COUNT] = {0.40, 0.40};
static const char *const g_prefill_source[IC_ACCEL_CLASS_COUNT] = {
    "Meta, 'The Llama 3 Herd of Models' (arXiv 2407.21783, 2024), table 4: bf16 MFU 38-43% on "
    "H100 (training; no published H100 inference-prefill figure was found)",
    "no published Neuron prefill figure was found: the CUDA default (Llama 3's H100 MFU) is "
    "assumed",
};
#define TP_DEFAULT 0.85
static const char g_tp_source[] =
    "gpt-fast (PyTorch, 2023-11-30): Llama-2-70B decode at batch 1 on A100s, 21.3 tok/s on 2 "
    "GPUs, 62.5 on 8: 73% of linear over two doublings, 0.85 per doubling";
static const char g_user[] = "set by the user";

void ic_accel_params_default(ic_accel_params *p) {
    memset(p, 0, sizeof *p);
    for (int c = 0; c < IC_ACCEL_CLASS_COUNT; c++) {
        p->decode_eff[c] = g_decode_default[c];
        p->prefill_eff[c] = g_prefill_default[c];
    }
    p->tp_per_doubling = TP_DEFAULT;
}

const char *ic_accel_decode_source(const ic_accel_params *p, ic_accel_class c) {
    return p->decode_set[c] ? g_user : g_decode_source[c];
}
const char *ic_accel_prefill_source(const ic_accel_params *p, ic_accel_class c) {
    return p->prefill_set[c] ? g_user : g_prefill_source[c];
}
const char *ic_accel_tp_source(const ic_accel_params *p) {
    return p->tp_set ? g_user : g_tp_source;
}

const char *ic_accel_class_name(ic_accel_class c) {
    return (unsigned)c < IC_ACCEL_CLASS_COUNT ? g_class_name[c] : "?";
}

int ic_accel_class_parse(const char *name, ic_accel_class *out) {
    for (int c = 0; c < IC_ACCEL_CLASS_COUNT; c++)
        if (strcmp(name, g_class_name[c]) == 0) {
            *out = (ic_accel_class)c;
            return 0;
        }
    return -1;
}

int ic_accel_class_of(const ic_chip_info *chip) {
    ic_accel_class c;
    return chip && ic_accel_class_parse(chip->arch, &c) == 0 ? (int)c : -1;
}

/* ---- option values ---- */

/* A fraction in (0, 1] from text that is all number. */
static int parse_fraction(const char *s, const char *end, double *out) {
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    errno = 0;
    double v = strtod(buf, &e);
    if (errno || *e || !isfinite(v) || !(v > 0) || v > 1) return -1;
    *out = v;
    return 0;
}

int ic_accel_parse_efficiency(ic_accel_params *p, const char *value, char *err, size_t errlen) {
    const char *eq = strchr(value, '=');
    char cls[16];
    ic_accel_class c;
    if (!eq || (size_t)(eq - value) >= sizeof cls)
        return ic_fail(err, errlen, -1, "'%s': expected CLASS=DECODE[,PREFILL], e.g. cuda=0.6,0.4",
                       value);
    memcpy(cls, value, (size_t)(eq - value));
    cls[eq - value] = '\0';
    if (ic_accel_class_parse(cls, &c))
        return ic_fail(err, errlen, -1, "'%s': unknown device class '%s' (cuda or neuron)", value,
                       cls);
    const char *comma = strchr(eq + 1, ',');
    const char *dend = comma ? comma : eq + 1 + strlen(eq + 1);
    double d, f = 0;
    if (parse_fraction(eq + 1, dend, &d) ||
        (comma && parse_fraction(comma + 1, comma + 1 + strlen(comma + 1), &f)))
        return ic_fail(err, errlen, -1, "'%s': each efficiency must be a number in (0, 1]", value);
    p->decode_eff[c] = d;
    p->decode_set[c] = 1;
    if (comma) {
        p->prefill_eff[c] = f;
        p->prefill_set[c] = 1;
    }
    return 0;
}

int ic_accel_parse_tp_scaling(ic_accel_params *p, const char *value, char *err, size_t errlen) {
    double v;
    if (parse_fraction(value, value + strlen(value), &v))
        return ic_fail(err, errlen, -1, "'%s': the scaling per doubling must be a number in (0, 1]",
                       value);
    p->tp_per_doubling = v;
    p->tp_set = 1;
    return 0;
}

/* ---- the model ---- */

/* The fewest devices (a power of two dividing n) whose memory holds need_bytes, or 0. */
static int tp_degree(double need_bytes, double usable_bytes, int n) {
    for (int t = 1; t <= n; t *= 2)
        if (n % t == 0 && need_bytes / t <= usable_bytes) return t;
    return 0;
}

void ic_accel_estimate_for(const ic_instance_info *ii, const ic_chip_info *ch, const ic_model *m,
                           uint64_t batch, uint64_t context, uint64_t prompt,
                           const ic_accel_params *p, ic_accel_estimate *e) {
    memset(e, 0, sizeof *e);
    int cls = ic_accel_class_of(ch);
    if (cls < 0 || ii->accelerators <= 0) {
        e->status = IC_ACCEL_NOT_ACCELERATOR;
        return;
    }
    e->cls = (ic_accel_class)cls;
    e->devices = ii->accelerators;
    e->decode_eff = p->decode_eff[cls];
    e->prefill_eff = p->prefill_eff[cls];
    if (!(ch->peak_mem_bw_gbs > 0) || !(ch->peak_bf16_tflops > 0) || !(ch->device_mem_gib > 0)) {
        e->status = IC_ACCEL_NO_FACTS;
        return;
    }
    const double gib = 1024.0 * 1024 * 1024;
    double weights = (double)ic_model_total_bytes(m);
    double kv = (double)batch * (double)ic_model_kv_bytes(m, IC_ACCEL_KV, context);
    double usable = IC_ACCEL_MEM_USABLE * ch->device_mem_gib * gib;
    e->usable_gib = usable / gib;
    int t = tp_degree(weights + kv, usable, e->devices);
    if (t == 0) {
        e->status = IC_ACCEL_DOES_NOT_FIT;
        e->need_gib = (weights + kv) / e->devices / gib;
        return;
    }
    e->tp = t;
    e->replicas = e->devices / t;
    e->need_gib = (weights + kv) / t / gib;
    e->scaling = pow(p->tp_per_doubling, log2((double)t));
    if (t == 1)
        snprintf(e->placement, sizeof e->placement, "1 replica per device x %d", e->devices);
    else
        snprintf(e->placement, sizeof e->placement, "tensor parallel over %d devices x %d", t,
                 e->replicas);

    /* a replica's ceilings, its devices counted in whole devices' worth, at the efficiencies;
     * the bounds are the roofline's, as for a measured figure */
    const double devs = t * e->scaling;
    const double read_gbs = devs * ch->peak_mem_bw_gbs * e->decode_eff;
    const double peak_gops = devs * ch->peak_bf16_tflops * 1e3 * e->prefill_eff;
    const ic_roof dec =
        ic_roofline(m, IC_ACCEL_KV, batch > 1 ? IC_MEAS_BATCH_DECODE : IC_MEAS_DECODE,
                    (long)context, (long)batch, read_gbs, peak_gops);
    e->bytes_per_step = dec.bytes_per_token * (double)batch;
    e->decode_limit = dec.limit;
    e->decode_tok_s = e->replicas * dec.bound_tok_per_s;
    const ic_roof pre = ic_roofline(m, IC_ACCEL_KV, IC_MEAS_PREFILL, 0, (long)(prompt ? prompt : 1),
                                    read_gbs, peak_gops);
    e->prefill_limit = pre.limit;
    e->prefill_tok_s = e->replicas * pre.bound_tok_per_s;
    e->status = IC_ACCEL_OK;
}

int ic_accel_opts_parse(ic_accel_params *p, int c, const char *arg, char *err, size_t errlen) {
    char why[256];
    if (c == IC_OPT_ACCEL_EFFICIENCY) {
        if (ic_accel_parse_efficiency(p, arg, why, sizeof why))
            return ic_fail(err, errlen, -1, "--accel-efficiency %s", why);
        return 1;
    }
    if (c == IC_OPT_TP_SCALING) {
        if (ic_accel_parse_tp_scaling(p, arg, why, sizeof why))
            return ic_fail(err, errlen, -1, "--tp-scaling %s", why);
        return 1;
    }
    return 0;
}
