/* The result record: host identity, provenance, the JSON writer and reader (results/SCHEMA.md). */
#define _GNU_SOURCE
#include "fail.h"
#include "result.h"
#include "ic_config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ic_cpu.h"
#include "instance.h"
#include "report.h"
#include "tempfiles.h"

/* ---- labels ---- */

static const char *const g_prov_names[] = {[IC_PROV_MEASURED] = "measured",
                                           [IC_PROV_MODELED] = "modeled",
                                           [IC_PROV_IMPORTED] = "imported",
                                           [IC_PROV_EXTRAPOLATED] = "extrapolated"};

const char *ic_provenance_name(ic_provenance p) {
    return (unsigned)p < 4 ? g_prov_names[p] : "?";
}

int ic_provenance_parse(const char *s, ic_provenance *out) {
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, g_prov_names[i]) == 0) {
            *out = (ic_provenance)i;
            return 0;
        }
    return -1;
}

ic_provenance ic_provenance_weakest(ic_provenance a, ic_provenance b) {
    static const int rank[] = {[IC_PROV_MEASURED] = 0,
                               [IC_PROV_IMPORTED] = 1,
                               [IC_PROV_EXTRAPOLATED] = 2,
                               [IC_PROV_MODELED] = 3};
    return rank[a] >= rank[b] ? a : b;
}

static const char *const g_kind_names[] = {[IC_MEAS_DECODE] = "decode",
                                           [IC_MEAS_PREFILL] = "prefill",
                                           [IC_MEAS_BATCH_DECODE] = "batch_decode"};

const char *ic_meas_kind_name(ic_meas_kind k) {
    return (unsigned)k < 3 ? g_kind_names[k] : "?";
}

int ic_meas_kind_parse(const char *s, ic_meas_kind *out) {
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, g_kind_names[i]) == 0) {
            *out = (ic_meas_kind)i;
            return 0;
        }
    return -1;
}

/* ---- the measuring host ---- */

/* The first line of a small regular file (a FIFO or a directory is refused, not waited on). */
static int read_small_file(const char *path, char *out, size_t len) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = read(fd, out, len - 1);
    close(fd);
    if (n <= 0) return -1;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

/* FNV-1a, 64 bits, over a salt and the id: stable per machine, and the raw id (which systemd asks
 * not to publish) never leaves it. An identity, not a secret. */
static void hash_id(const char *id, char *out, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    const char *parts[2] = {"infercost-host:", id};
    for (int p = 0; p < 2; p++)
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++) {
            h ^= *s;
            h *= 0x100000001b3ull;
        }
    snprintf(out, len, "fnv1a64:%016llx", (unsigned long long)h);
}

static void identify(ic_host_id *h) {
    memset(h, 0, sizeof *h);
    if (gethostname(h->host, sizeof h->host - 1) != 0) snprintf(h->host, sizeof h->host, "?");
    char raw[128];
    const char *mid = getenv("IC_MACHINE_ID_FILE");
    const char *sys = getenv("IC_SYSFS_ROOT");
    char uuid_path[512];
    snprintf(uuid_path, sizeof uuid_path, "%s/devices/virtual/dmi/id/product_uuid",
             sys ? sys : "/sys");
    if (read_small_file(mid ? mid : "/etc/machine-id", raw, sizeof raw) == 0) {
        hash_id(raw, h->machine_id, sizeof h->machine_id);
        snprintf(h->machine_id_source, sizeof h->machine_id_source, "machine-id");
    } else if (read_small_file(uuid_path, raw, sizeof raw) == 0) {
        hash_id(raw, h->machine_id, sizeof h->machine_id);
        snprintf(h->machine_id_source, sizeof h->machine_id_source, "dmi-product-uuid");
    }
    char why[256];
    if (!ic_instance_detect(NULL, h->instance_type, sizeof h->instance_type, why, sizeof why))
        h->instance_type[0] = '\0';
    const ic_cpu_info *cpu = ic_cpu();
    snprintf(h->cpu_vendor, sizeof h->cpu_vendor, "%s", cpu->vendor);
    snprintf(h->cpu_model, sizeof h->cpu_model, "%s", cpu->model_name);
    struct utsname un;
    snprintf(h->arch, sizeof h->arch, "%.15s", uname(&un) == 0 ? un.machine : "unknown");
    for (int b = 0; b < IC_FEATURE_COUNT && h->n_features < IC_HOST_MAX_FEATURES; b++)
        if ((cpu->features >> b) & 1)
            snprintf(h->features[h->n_features++], sizeof h->features[0], "%s",
                     ic_feature_name(1ull << b));
}

void ic_host_identify(ic_host_id *out) {
    /* Not cached: tests change IC_SYSFS_ROOT and IC_MACHINE_ID_FILE between calls, and it is
     * called a few times per command. */
    identify(out);
}

int ic_host_same(const ic_host_id *a, const ic_host_id *b) {
    return a->machine_id[0] && b->machine_id[0] && strcmp(a->machine_id, b->machine_id) == 0 &&
           strcmp(a->cpu_model, b->cpu_model) == 0;
}

/* ---- the record ---- */

void ic_result_stamp(ic_result *r) {
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(r->created_utc, sizeof r->created_utc, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    snprintf(r->tool_version, sizeof r->tool_version, "%s", IC_VERSION);
    snprintf(r->git_commit, sizeof r->git_commit, "%s", IC_GIT_COMMIT);
}

ic_measurement *ic_result_add(ic_result *r) {
    ic_measurement *m = realloc(r->meas, (r->n_meas + 1) * sizeof *m);
    if (m == NULL) return NULL;
    r->meas = m;
    m = &r->meas[r->n_meas++];
    memset(m, 0, sizeof *m);
    m->usd_per_mtok = NAN;
    return m;
}

void ic_result_free(ic_result *r) {
    free(r->meas);
    r->meas = NULL;
    r->n_meas = 0;
}

/* ---- writer ---- */

static json_t *str_or_null(const char *s) {
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *ceiling_json(const ic_ceiling *c) {
    if (!c->available) return json_string(c->note[0] ? c->note : "unavailable: not measured");
    return json_pack("{s:f, s:s, s:s}", "value", c->value, "provenance", "measured", "loop",
                     c->loop);
}

/* env.device: the offload device a run measured on, or null for the CPU. */
static json_t *device_json(const ic_result *r) {
    if (!r->device_backend[0]) return json_null();
    return json_pack("{s:s, s:s, s:i, s:s}", "backend", r->device_backend, "name", r->device_name,
                     "count", r->device_count, "runtime", r->device_runtime);
}

static json_t *env_json(const ic_result *r) {
    const ic_host_id *h = &r->host;
    json_t *feats = json_array();
    for (int i = 0; i < h->n_features; i++)
        json_array_append_new(feats, json_string(h->features[i]));
    return json_pack(
        "{s:s, s:o, s:o, s:{s:s, s:s, s:o}, s:s, s:o, s:o, s:{s:i, s:i, s:i}, s:i, s:s, s:o, s:s, "
        "s:{s:o, s:o, s:o, s:o}, s:o}",
        "host", h->host, "machine_id", str_or_null(h->machine_id), "machine_id_source",
        str_or_null(h->machine_id_source), "cpu", "vendor", h->cpu_vendor, "model_name",
        h->cpu_model, "features", feats, "arch", h->arch, "instance_type",
        str_or_null(h->instance_type), "instance_source",
        h->instance_type[0] ? json_string("dmi") : json_null(), "topology", "cores", r->topo_cores,
        "pus", r->topo_pus, "numa_nodes", r->topo_numa_nodes, "threads", r->threads, "bind",
        r->bind, "isa_cap", str_or_null(r->isa_cap), "kernels", r->kernels, "libraries",
        "benchmark", str_or_null(r->lib_benchmark), "hwloc", str_or_null(r->lib_hwloc), "openblas",
        str_or_null(r->lib_openblas), "papi", str_or_null(r->lib_papi), "device", device_json(r));
}

static json_t *model_json(const ic_result *r) {
    const ic_model *m = &r->model;
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:b, "
        "s:i, s:i, s:f, s:f}",
        "name", m->name, "source", m->source, "dtype", ic_dtype_name(m->dtype), "kv_dtype",
        ic_dtype_name(r->kv_dtype), "n_layer", (int)m->n_layer, "n_layer_run", (int)r->n_layer_run,
        "d_model", (int)m->d_model, "n_head", (int)m->n_head, "n_head_kv", (int)m->n_head_kv,
        "head_dim", (int)m->head_dim, "d_ff", (int)m->d_ff, "n_vocab", (int)m->n_vocab,
        "rope_theta", m->rope_theta, "norm_eps", m->norm_eps, "tied_embeddings", m->tied_embeddings,
        "n_expert", (int)m->n_expert, "n_expert_used", (int)m->n_expert_used,
        "weight_bytes_per_token", r->weight_bytes_per_token, "flop_per_token", r->flop_per_token);
}

static json_t *probes_json(const ic_result *r) {
    json_t *peak = json_object();
    json_object_set_new(peak, r->peak_kind[0] ? r->peak_kind : "int8", ceiling_json(&r->peak));
    return json_pack("{s:o, s:o}", "read_bw_gbs", ceiling_json(&r->read_bw), "peak_gflops", peak);
}

static json_t *doubles_json(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *roofline_json(const ic_measurement *m) {
    if (!m->have_bound)
        return json_pack("{s:n, s:s}", "bound_tok_per_s", "note",
                         m->bound_note[0] ? m->bound_note : "unavailable: no measured ceiling");
    json_t *rf = json_pack("{s:f, s:f, s:s, s:s}", "bound_tok_per_s", m->bound_tok_per_s,
                           "efficiency", m->efficiency, "limit", m->limit, "provenance", "modeled");
    if (m->read_bw_gbs > 0) {
        json_object_set_new(rf, "read_bw_gbs", json_real(m->read_bw_gbs));
        json_object_set_new(rf, "read_bw_source", json_string(m->read_bw_source));
        if (m->n_paired > 0)
            json_object_set_new(rf, "paired_read_gbs",
                                doubles_json(m->paired_read_gbs, m->n_paired));
    }
    return rf;
}

static json_t *measurement_json(const ic_measurement *m) {
    json_t *e = json_pack(
        "{s:s, s:s, s:I, s:I, s:o, s:f, s:f, s:s, s:o, s:i, s:o, s:f, s:f, s:o, s:f, s:f}", "kind",
        ic_meas_kind_name(m->kind), "path", m->baseline ? "openblas_sgemm" : "kernels", "context",
        (json_int_t)m->context, "batch", (json_int_t)m->batch, "shortened_from",
        m->shortened_from > 0 ? json_integer(m->shortened_from) : json_null(), "tok_per_s",
        m->tok_per_s, "ms_per_token", m->ms_per_token, "provenance",
        ic_provenance_name(m->provenance), "extrapolated_from_layers",
        m->extrapolated_from_layers > 0 ? json_integer(m->extrapolated_from_layers) : json_null(),
        "repetitions", m->n_samples, "samples_ms", doubles_json(m->samples_ms, m->n_samples),
        "median_ms", m->median_ms, "stddev_ms", m->stddev_ms, "roofline", roofline_json(m),
        "bytes_per_token", m->bytes_per_token, "flop_per_token", m->flop_per_token);
    if (e) json_object_set_new(e, "threads", json_integer(m->threads > 0 ? m->threads : 0));
    if (e && m->kind != IC_MEAS_PREFILL)
        json_object_set_new(e, "latency_ms",
                            m->have_latency ? json_pack("{s:f, s:f, s:f, s:I}", "p50", m->p50_ms,
                                                        "p90", m->p90_ms, "p99", m->p99_ms, "steps",
                                                        (json_int_t)m->latency_steps)
                                            : json_null());
    if (e && m->have_op_share) {
        json_t *os = json_object();
        for (int j = 0; j < IC_FOP_COUNT; j++)
            json_object_set_new(os, ic_fop_name((ic_fop)j), json_real(m->op_share[j]));
        json_object_set_new(e, "op_share", os);
    }
    if (e) json_object_set_new(e, "usd_per_mtok", ic_json_number(m->usd_per_mtok));
    return e;
}

static json_t *pricing_json(const ic_result_pricing *p) {
    if (!p->present) return json_null();
    const ic_price *q = &p->price;
    json_t *j = json_pack(
        "{s:f, s:s, s:s, s:o, s:o, s:o, s:f, s:f}", "usd_per_hour", q->usd_per_hour, "source",
        q->source, "date", q->date, "instance_type", str_or_null(p->given ? "" : q->instance_type),
        "pricing", p->given ? json_null() : json_string(ic_pricing_name(q->pricing)), "region",
        str_or_null(p->given ? "" : q->region), "on_demand_usd_per_hour", q->on_demand_usd_per_hour,
        "discount", q->discount);
    if (j && q->discount > 0) {
        json_object_set_new(j, "discount_source", json_string(q->discount_source));
        json_object_set_new(j, "discount_date", json_string(q->discount_date));
    }
    return j;
}

json_t *ic_result_to_json(const ic_result *r) {
    json_t *ms = json_array();
    for (size_t i = 0; i < r->n_meas; i++) json_array_append_new(ms, measurement_json(&r->meas[i]));
    return json_pack("{s:s, s:i, s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o, s:o}", "schema",
                     IC_RESULT_SCHEMA, "schema_version", IC_RESULT_SCHEMA_VERSION, "created_utc",
                     r->created_utc, "tool", "version", r->tool_version, "git_commit",
                     r->git_commit, "env", env_json(r), "model", model_json(r), "probes",
                     probes_json(r), "measurements", ms, "pricing", pricing_json(&r->pricing));
}

int ic_result_write(const ic_result *r, const char *path, char *err, size_t errlen) {
    json_t *root = ic_result_to_json(r);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (text == NULL) return ic_fail(err, errlen, 1, "%s: out of memory building the result", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room for its NUL; the file ends with a newline */
    int rc = ic_write_file_atomic(path, text, n + 1, err, errlen);
    free(text);
    return rc;
}

int ic_result_check_writable(const char *path, char *err, size_t errlen) {
    return ic_out_check(path, err, errlen);
}

/* ---- reader ---- */

/* The reader's cursor: the file name and the path of the field being read, for messages. */
typedef struct rd {
    const char *where;
    char *err;
    size_t errlen;
} rd;

static int bad(const rd *c, const char *field, const char *want) {
    return ic_fail(c->err, c->errlen, 2, "%s: %s: %s", c->where, field, want);
}

static int get_str(const rd *c, json_t *obj, const char *key, const char *field, int nullable,
                   char *dst, size_t len) {
    json_t *v = json_object_get(obj, key);
    if (nullable && (v == NULL || json_is_null(v))) {
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return bad(c, field, nullable ? "must be a string or null" : "missing or not a string");
    if (json_string_length(v) >= len) return bad(c, field, "too long");
    snprintf(dst, len, "%s", json_string_value(v));
    for (const char *s = dst; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t') return bad(c, field, "has control characters");
    return 0;
}

/* A finite number in [lo, hi]; absent is an error unless *dst may keep a default (optional). */
static int get_num(const rd *c, json_t *obj, const char *key, const char *field, double lo,
                   double hi, int optional, double *dst) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL && optional) return 0;
    if (!json_is_number(v)) return bad(c, field, "missing or not a number");
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi) {
        char want[96];
        snprintf(want, sizeof want, "%.17g is out of range (%g to %g)", x, lo, hi);
        return bad(c, field, want);
    }
    *dst = x;
    return 0;
}

static int get_long(const rd *c, json_t *obj, const char *key, const char *field, long lo, long hi,
                    long *dst) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) return bad(c, field, "missing or not an integer");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        char want[96];
        snprintf(want, sizeof want, "%lld is out of range (%ld to %ld)", (long long)x, lo, hi);
        return bad(c, field, want);
    }
    *dst = (long)x;
    return 0;
}

static int get_u32(const rd *c, json_t *obj, const char *key, const char *field, long hi,
                   uint32_t *dst) {
    long v;
    if (get_long(c, obj, key, field, 0, hi, &v)) return 2;
    *dst = (uint32_t)v;
    return 0;
}

static int get_doubles(const rd *c, json_t *arr, const char *field, double *dst, int *n) {
    if (!json_is_array(arr)) return bad(c, field, "missing or not an array");
    if (json_array_size(arr) > IC_RESULT_MAX_SAMPLES) return bad(c, field, "more than 64 values");
    *n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
            return bad(c, field, "values must be non-negative numbers");
        dst[(*n)++] = json_number_value(v);
    }
    return 0;
}

#define IC_TOK_MAX 1e12 /* tokens per second: far above any machine, far below overflow */

static int read_env(const rd *c, json_t *env, ic_result *r, int version) {
    if (!json_is_object(env)) return bad(c, "env", "missing or not an object");
    ic_host_id *h = &r->host;
    json_t *cpu = json_object_get(env, "cpu");
    if (get_str(c, env, "host", "env.host", 0, h->host, sizeof h->host) ||
        get_str(c, env, "arch", "env.arch", 0, h->arch, sizeof h->arch))
        return 2;
    if (!json_is_object(cpu)) return bad(c, "env.cpu", "missing or not an object");
    if (get_str(c, cpu, "vendor", "env.cpu.vendor", 0, h->cpu_vendor, sizeof h->cpu_vendor) ||
        get_str(c, cpu, "model_name", "env.cpu.model_name", 0, h->cpu_model, sizeof h->cpu_model))
        return 2;
    json_t *feats = json_object_get(cpu, "features"), *f;
    size_t i;
    if (!json_is_array(feats)) return bad(c, "env.cpu.features", "missing or not an array");
    json_array_foreach(feats, i, f) {
        if (!json_is_string(f) || json_string_length(f) >= sizeof h->features[0] ||
            h->n_features >= IC_HOST_MAX_FEATURES)
            return bad(c, "env.cpu.features", "must be short strings (at most 64)");
        snprintf(h->features[h->n_features++], sizeof h->features[0], "%s", json_string_value(f));
    }
    char source[16] = "";
    if (get_str(c, env, "instance_source", "env.instance_source", 1, source, sizeof source) ||
        get_str(c, env, "instance_type", "env.instance_type", 1, h->instance_type,
                sizeof h->instance_type))
        return 2;
    if (h->instance_type[0] && !ic_instance_type_valid(h->instance_type))
        return bad(c, "env.instance_type", "not an instance type name");
    /* Schema 1 wrote a --instance type here too (instance_source "flag"): that was the type the
     * run was priced as, not where it ran. Only a type read from DMI says where it ran. */
    if (strcmp(source, "dmi") != 0) h->instance_type[0] = '\0';
    if (version >= 2 &&
        (get_str(c, env, "machine_id", "env.machine_id", 1, h->machine_id, sizeof h->machine_id) ||
         get_str(c, env, "machine_id_source", "env.machine_id_source", 1, h->machine_id_source,
                 sizeof h->machine_id_source)))
        return 2;
    /* The run's configuration and library versions inform a reader; a hand-made result may leave
     * them out, but a field that is there must have its type. */
    json_t *topo = json_object_get(env, "topology");
    long v;
    if (topo && !json_is_object(topo)) return bad(c, "env.topology", "not an object");
    if (topo) {
        if (get_long(c, topo, "cores", "env.topology.cores", 0, 1 << 20, &v)) return 2;
        r->topo_cores = (int)v;
        if (get_long(c, topo, "pus", "env.topology.pus", 0, 1 << 20, &v)) return 2;
        r->topo_pus = (int)v;
        if (get_long(c, topo, "numa_nodes", "env.topology.numa_nodes", 0, 1 << 16, &v)) return 2;
        r->topo_numa_nodes = (int)v;
    }
    if (get_long(c, env, "threads", "env.threads", 1, 1 << 20, &v)) return 2;
    r->threads = (int)v;
    json_t *libs = json_object_get(env, "libraries");
    if (libs && !json_is_object(libs)) return bad(c, "env.libraries", "not an object");
    if (get_str(c, env, "bind", "env.bind", 1, r->bind, sizeof r->bind) ||
        get_str(c, env, "isa_cap", "env.isa_cap", 1, r->isa_cap, sizeof r->isa_cap) ||
        get_str(c, env, "kernels", "env.kernels", 1, r->kernels, sizeof r->kernels) ||
        get_str(c, libs, "benchmark", "env.libraries.benchmark", 1, r->lib_benchmark,
                sizeof r->lib_benchmark) ||
        get_str(c, libs, "hwloc", "env.libraries.hwloc", 1, r->lib_hwloc, sizeof r->lib_hwloc) ||
        get_str(c, libs, "openblas", "env.libraries.openblas", 1, r->lib_openblas,
                sizeof r->lib_openblas) ||
        get_str(c, libs, "papi", "env.libraries.papi", 1, r->lib_papi, sizeof r->lib_papi))
        return 2;
    json_t *dev = json_object_get(env, "device");
    if (dev == NULL || json_is_null(dev)) return 0;
    if (!json_is_object(dev)) return bad(c, "env.device", "not an object or null");
    if (get_str(c, dev, "backend", "env.device.backend", 0, r->device_backend,
                sizeof r->device_backend) ||
        get_str(c, dev, "name", "env.device.name", 0, r->device_name, sizeof r->device_name) ||
        get_str(c, dev, "runtime", "env.device.runtime", 1, r->device_runtime,
                sizeof r->device_runtime) ||
        get_long(c, dev, "count", "env.device.count", 1, 1 << 16, &v))
        return 2;
    r->device_count = (int)v;
    return 0;
}

static int read_model(const rd *c, json_t *jm, ic_result *r) {
    if (!json_is_object(jm)) return bad(c, "model", "missing or not an object");
    ic_model *m = &r->model;
    char dtype[16];
    if (get_str(c, jm, "name", "model.name", 0, m->name, sizeof m->name) ||
        get_str(c, jm, "source", "model.source", 0, m->source, sizeof m->source) ||
        get_str(c, jm, "dtype", "model.dtype", 0, dtype, sizeof dtype))
        return 2;
    char why[160];
    if (ic_dtype_parse_weight(dtype, &m->dtype, why, sizeof why)) return bad(c, "model.dtype", why);
    /* Records made before the KV type was recorded ran with an f32 cache. */
    r->kv_dtype = IC_DT_F32;
    if (json_object_get(jm, "kv_dtype") != NULL) {
        char kv[16];
        if (get_str(c, jm, "kv_dtype", "model.kv_dtype", 0, kv, sizeof kv)) return 2;
        if (ic_dtype_parse_kv(kv, &r->kv_dtype, why, sizeof why))
            return bad(c, "model.kv_dtype", why);
    }
    if (get_u32(c, jm, "n_layer", "model.n_layer", IC_MODEL_MAX_LAYERS, &m->n_layer) ||
        get_u32(c, jm, "n_layer_run", "model.n_layer_run", IC_MODEL_MAX_LAYERS, &r->n_layer_run) ||
        get_u32(c, jm, "d_model", "model.d_model", IC_MODEL_MAX_DIM, &m->d_model) ||
        get_u32(c, jm, "n_head", "model.n_head", IC_MODEL_MAX_HEADS, &m->n_head) ||
        get_u32(c, jm, "n_head_kv", "model.n_head_kv", IC_MODEL_MAX_HEADS, &m->n_head_kv) ||
        get_u32(c, jm, "head_dim", "model.head_dim", IC_MODEL_MAX_DIM, &m->head_dim) ||
        get_u32(c, jm, "d_ff", "model.d_ff", IC_MODEL_MAX_FF, &m->d_ff) ||
        get_u32(c, jm, "n_vocab", "model.n_vocab", IC_MODEL_MAX_VOCAB, &m->n_vocab) ||
        get_u32(c, jm, "n_expert", "model.n_expert", IC_MODEL_MAX_EXPERTS, &m->n_expert) ||
        get_u32(c, jm, "n_expert_used", "model.n_expert_used", IC_MODEL_MAX_EXPERTS,
                &m->n_expert_used))
        return 2;
    json_t *tied = json_object_get(jm, "tied_embeddings");
    if (!json_is_boolean(tied)) return bad(c, "model.tied_embeddings", "missing or not a boolean");
    m->tied_embeddings = json_is_true(tied);
    m->norm_eps = 1e-5; /* schema 1 did not record it */
    if (get_num(c, jm, "rope_theta", "model.rope_theta", 0, 1e12, 0, &m->rope_theta) ||
        get_num(c, jm, "norm_eps", "model.norm_eps", 0, 1, 1, &m->norm_eps) ||
        get_num(c, jm, "weight_bytes_per_token", "model.weight_bytes_per_token", 0,
                (double)IC_MODEL_MAX_BYTES, 0, &r->weight_bytes_per_token) ||
        get_num(c, jm, "flop_per_token", "model.flop_per_token", 0, 1e18, 0, &r->flop_per_token))
        return 2;
    if (r->n_layer_run > m->n_layer) return bad(c, "model.n_layer_run", "more than n_layer");
    return 0;
}

static int read_ceiling(const rd *c, json_t *v, const char *field, ic_ceiling *out) {
    memset(out, 0, sizeof *out);
    if (json_is_string(v)) {
        snprintf(out->note, sizeof out->note, "%s", json_string_value(v));
        if (strncmp(out->note, "unavailable", 11) != 0)
            return bad(c, field, "a string must say \"unavailable: <why>\"");
        return 0;
    }
    if (!json_is_object(v)) return bad(c, field, "missing, or not an object or a string");
    char f[96];
    snprintf(f, sizeof f, "%s.value", field);
    if (get_num(c, v, "value", f, 0, 1e9, 0, &out->value)) return 2;
    snprintf(f, sizeof f, "%s.loop", field);
    if (get_str(c, v, "loop", f, 1, out->loop, sizeof out->loop)) return 2;
    out->available = 1;
    return 0;
}

static int read_probes(const rd *c, json_t *p, ic_result *r) {
    if (!json_is_object(p)) return bad(c, "probes", "missing or not an object");
    if (read_ceiling(c, json_object_get(p, "read_bw_gbs"), "probes.read_bw_gbs", &r->read_bw))
        return 2;
    json_t *peak = json_object_get(p, "peak_gflops");
    if (peak == NULL) { /* a hand-made result may give only the read bandwidth */
        snprintf(r->peak.note, sizeof r->peak.note, "unavailable: not recorded");
        snprintf(r->peak_kind, sizeof r->peak_kind, "int8");
        return 0;
    }
    if (!json_is_object(peak) || json_object_size(peak) != 1)
        return bad(c, "probes.peak_gflops", "must be an object with one kind (f32, bf16, int8)");
    const char *kind = json_object_iter_key(json_object_iter(peak));
    if (strcmp(kind, "f32") != 0 && strcmp(kind, "bf16") != 0 && strcmp(kind, "int8") != 0)
        return bad(c, "probes.peak_gflops", "the kind must be f32, bf16 or int8");
    snprintf(r->peak_kind, sizeof r->peak_kind, "%s", kind);
    return read_ceiling(c, json_object_get(peak, kind), "probes.peak_gflops", &r->peak);
}

static int read_roofline(const rd *c, json_t *rf, const char *f, ic_measurement *e) {
    char fld[96];
    snprintf(fld, sizeof fld, "%s.roofline", f);
    if (!json_is_object(rf)) return bad(c, fld, "missing or not an object");
    json_t *b = json_object_get(rf, "bound_tok_per_s");
    if (json_is_null(b)) {
        snprintf(fld, sizeof fld, "%s.roofline.note", f);
        return get_str(c, rf, "note", fld, 1, e->bound_note, sizeof e->bound_note);
    }
    e->have_bound = 1;
    snprintf(fld, sizeof fld, "%s.roofline.bound_tok_per_s", f);
    if (get_num(c, rf, "bound_tok_per_s", fld, 0, IC_TOK_MAX, 0, &e->bound_tok_per_s)) return 2;
    snprintf(fld, sizeof fld, "%s.roofline.efficiency", f);
    if (get_num(c, rf, "efficiency", fld, 0, 1e6, 0, &e->efficiency)) return 2;
    snprintf(fld, sizeof fld, "%s.roofline.limit", f);
    if (get_str(c, rf, "limit", fld, 0, e->limit, sizeof e->limit)) return 2;
    if (strcmp(e->limit, "memory") != 0 && strcmp(e->limit, "compute") != 0)
        return bad(c, fld, "must be \"memory\" or \"compute\"");
    snprintf(fld, sizeof fld, "%s.roofline.read_bw_gbs", f);
    if (get_num(c, rf, "read_bw_gbs", fld, 0, 1e9, 1, &e->read_bw_gbs)) return 2;
    snprintf(fld, sizeof fld, "%s.roofline.read_bw_source", f);
    if (get_str(c, rf, "read_bw_source", fld, 1, e->read_bw_source, sizeof e->read_bw_source))
        return 2;
    json_t *pr = json_object_get(rf, "paired_read_gbs");
    snprintf(fld, sizeof fld, "%s.roofline.paired_read_gbs", f);
    if (pr && get_doubles(c, pr, fld, e->paired_read_gbs, &e->n_paired)) return 2;
    return 0;
}

static int read_op_share(const rd *c, json_t *os, const char *f, ic_measurement *e) {
    char fld[96];
    snprintf(fld, sizeof fld, "%s.op_share", f);
    if (!json_is_object(os)) return bad(c, fld, "not an object");
    const char *key;
    json_t *v;
    json_object_foreach(os, key, v) {
        int j = 0;
        while (j < IC_FOP_COUNT && strcmp(ic_fop_name((ic_fop)j), key) != 0) j++;
        if (j == IC_FOP_COUNT) return bad(c, fld, "an unknown op name");
        if (!json_is_number(v) || !(json_number_value(v) >= 0) || json_number_value(v) > 1)
            return bad(c, fld, "shares must be numbers in [0, 1]");
        e->op_share[j] = json_number_value(v);
    }
    e->have_op_share = 1;
    return 0;
}

static int read_measurement(const rd *c, json_t *m, size_t i, ic_measurement *e) {
    char f[48], fld[96];
    snprintf(f, sizeof f, "measurements[%zu]", i);
    if (!json_is_object(m)) return bad(c, f, "not an object");
    char kind[16] = "", path[24] = "", prov[16] = "";
    snprintf(fld, sizeof fld, "%s.kind", f);
    if (get_str(c, m, "kind", fld, 0, kind, sizeof kind)) return 2;
    if (ic_meas_kind_parse(kind, &e->kind))
        return bad(c, fld, "want \"decode\", \"prefill\" or \"batch_decode\"");
    snprintf(fld, sizeof fld, "%s.path", f);
    if (get_str(c, m, "path", fld, 1, path, sizeof path)) return 2;
    if (path[0] && strcmp(path, "kernels") != 0 && strcmp(path, "openblas_sgemm") != 0)
        return bad(c, fld, "want \"kernels\" or \"openblas_sgemm\"");
    e->baseline = strcmp(path, "openblas_sgemm") == 0;
    snprintf(fld, sizeof fld, "%s.context", f);
    if (get_long(c, m, "context", fld, 0, 1L << 24, &e->context)) return 2;
    snprintf(fld, sizeof fld, "%s.batch", f);
    if (get_long(c, m, "batch", fld, 1, 1L << 20, &e->batch)) return 2;
    long thr = 0;
    snprintf(fld, sizeof fld, "%s.threads", f);
    if (json_object_get(m, "threads") && get_long(c, m, "threads", fld, 0, 1 << 20, &thr)) return 2;
    e->threads = (int)thr;
    json_t *sf = json_object_get(m, "shortened_from");
    snprintf(fld, sizeof fld, "%s.shortened_from", f);
    if (sf && !json_is_null(sf) &&
        get_long(c, m, "shortened_from", fld, 1, 1L << 20, &e->shortened_from))
        return 2;
    snprintf(fld, sizeof fld, "%s.tok_per_s", f);
    if (get_num(c, m, "tok_per_s", fld, 0, IC_TOK_MAX, 0, &e->tok_per_s)) return 2;
    if (!(e->tok_per_s > 0)) return bad(c, fld, "must be a positive number");
    snprintf(fld, sizeof fld, "%s.ms_per_token", f);
    if (get_num(c, m, "ms_per_token", fld, 1e-9, 1e12, 1, &e->ms_per_token)) return 2;
    /* Absent (early files): derived as the run computes it, so the writer writes a valid value. */
    if (!json_object_get(m, "ms_per_token")) {
        double per = e->kind == IC_MEAS_PREFILL ? 1.0 : (double)e->batch;
        e->ms_per_token = 1e3 * per / e->tok_per_s;
        if (!(e->ms_per_token >= 1e-9 && e->ms_per_token <= 1e12))
            return bad(c, fld, "missing, and tok_per_s gives none in range (1e-09 to 1e+12)");
    }
    snprintf(fld, sizeof fld, "%s.provenance", f);
    if (get_str(c, m, "provenance", fld, 0, prov, sizeof prov)) return 2;
    if (ic_provenance_parse(prov, &e->provenance))
        return bad(c, fld, "want measured, modeled, imported or extrapolated");
    json_t *ex = json_object_get(m, "extrapolated_from_layers");
    long layers = 0;
    snprintf(fld, sizeof fld, "%s.extrapolated_from_layers", f);
    if (ex && !json_is_null(ex) &&
        get_long(c, m, "extrapolated_from_layers", fld, 1, IC_MODEL_MAX_LAYERS, &layers))
        return 2;
    e->extrapolated_from_layers = (int)layers;
    snprintf(fld, sizeof fld, "%s.samples_ms", f);
    json_t *samples = json_object_get(m, "samples_ms");
    if (samples && get_doubles(c, samples, fld, e->samples_ms, &e->n_samples)) return 2;
    snprintf(fld, sizeof fld, "%s.median_ms", f);
    if (get_num(c, m, "median_ms", fld, 0, 1e12, 1, &e->median_ms)) return 2;
    snprintf(fld, sizeof fld, "%s.stddev_ms", f);
    if (get_num(c, m, "stddev_ms", fld, 0, 1e12, 1, &e->stddev_ms)) return 2;
    json_t *roof = json_object_get(m, "roofline");
    if (roof && read_roofline(c, roof, f, e)) return 2;
    snprintf(fld, sizeof fld, "%s.bytes_per_token", f);
    if (get_num(c, m, "bytes_per_token", fld, 0, 1e18, 1, &e->bytes_per_token)) return 2;
    snprintf(fld, sizeof fld, "%s.flop_per_token", f);
    if (get_num(c, m, "flop_per_token", fld, 0, 1e21, 1, &e->flop_per_token)) return 2;
    json_t *lat = json_object_get(m, "latency_ms");
    if (lat && !json_is_null(lat)) {
        snprintf(fld, sizeof fld, "%s.latency_ms", f);
        if (!json_is_object(lat)) return bad(c, fld, "must be an object or null");
        snprintf(fld, sizeof fld, "%s.latency_ms.p50", f);
        if (get_num(c, lat, "p50", fld, 0, 1e12, 0, &e->p50_ms)) return 2;
        snprintf(fld, sizeof fld, "%s.latency_ms.p90", f);
        if (get_num(c, lat, "p90", fld, 0, 1e12, 0, &e->p90_ms)) return 2;
        snprintf(fld, sizeof fld, "%s.latency_ms.p99", f);
        if (get_num(c, lat, "p99", fld, 0, 1e12, 0, &e->p99_ms)) return 2;
        snprintf(fld, sizeof fld, "%s.latency_ms.steps", f);
        if (get_long(c, lat, "steps", fld, 1, 1L << 40, &e->latency_steps)) return 2;
        e->have_latency = 1;
    }
    json_t *os = json_object_get(m, "op_share");
    if (os && read_op_share(c, os, f, e)) return 2;
    json_t *usd = json_object_get(m, "usd_per_mtok");
    e->usd_per_mtok = NAN;
    snprintf(fld, sizeof fld, "%s.usd_per_mtok", f);
    if (usd && !json_is_null(usd) &&
        get_num(c, m, "usd_per_mtok", fld, 0, 1e12, 0, &e->usd_per_mtok))
        return 2;
    return 0;
}

static int read_pricing(const rd *c, json_t *p, ic_result_pricing *out) {
    memset(out, 0, sizeof *out);
    if (p == NULL || json_is_null(p)) return 0;
    if (!json_is_object(p)) return bad(c, "pricing", "must be an object or null");
    ic_price *q = &out->price;
    char mode[16] = "";
    if (get_num(c, p, "usd_per_hour", "pricing.usd_per_hour", 1e-9, 1e6, 0, &q->usd_per_hour) ||
        get_str(c, p, "source", "pricing.source", 0, q->source, sizeof q->source) ||
        get_str(c, p, "date", "pricing.date", 0, q->date, sizeof q->date) ||
        get_str(c, p, "instance_type", "pricing.instance_type", 1, q->instance_type,
                sizeof q->instance_type) ||
        get_str(c, p, "pricing", "pricing.pricing", 1, mode, sizeof mode) ||
        get_str(c, p, "region", "pricing.region", 1, q->region, sizeof q->region))
        return 2;
    out->present = 1;
    out->given = q->instance_type[0] == '\0';
    if (mode[0] && ic_pricing_parse(mode, &q->pricing))
        return bad(c, "pricing.pricing", "want on-demand, spot, savings-1y or savings-3y");
    q->on_demand_usd_per_hour = q->usd_per_hour;
    if (get_num(c, p, "on_demand_usd_per_hour", "pricing.on_demand_usd_per_hour", 1e-9, 1e6, 1,
                &q->on_demand_usd_per_hour) ||
        get_num(c, p, "discount", "pricing.discount", 0, 0.999999, 1, &q->discount))
        return 2;
    if (q->discount > 0 && (get_str(c, p, "discount_source", "pricing.discount_source", 0,
                                    q->discount_source, sizeof q->discount_source) ||
                            get_str(c, p, "discount_date", "pricing.discount_date", 0,
                                    q->discount_date, sizeof q->discount_date)))
        return 2;
    return 0;
}

int ic_result_from_json(ic_result *r, json_t *root, const char *where, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    rd c = {where, err, errlen};
    if (!json_is_object(root)) return bad(&c, "the file", "not a JSON object");
    const char *schema = json_string_value(json_object_get(root, "schema"));
    if (!schema || strcmp(schema, IC_RESULT_SCHEMA) != 0)
        return bad(&c, "schema", "want \"" IC_RESULT_SCHEMA "\"");
    json_t *ver = json_object_get(root, "schema_version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1)
        return bad(&c, "schema_version", "missing or not a positive integer");
    if (json_integer_value(ver) > IC_RESULT_SCHEMA_VERSION)
        return ic_fail(err, errlen, 2,
                       "%s: schema_version %lld is newer than this build reads (1 to %d): "
                       "update infercost",
                       where, (long long)json_integer_value(ver), IC_RESULT_SCHEMA_VERSION);
    r->schema_version = (int)json_integer_value(ver);
    json_t *tool = json_object_get(root, "tool");
    if (get_str(&c, root, "created_utc", "created_utc", 0, r->created_utc, sizeof r->created_utc))
        return 2;
    if (!json_is_object(tool)) return bad(&c, "tool", "missing or not an object");
    if (get_str(&c, tool, "version", "tool.version", 0, r->tool_version, sizeof r->tool_version) ||
        get_str(&c, tool, "git_commit", "tool.git_commit", 0, r->git_commit, sizeof r->git_commit))
        return 2;
    int rc = read_env(&c, json_object_get(root, "env"), r, r->schema_version);
    if (!rc) rc = read_model(&c, json_object_get(root, "model"), r);
    if (!rc) rc = read_probes(&c, json_object_get(root, "probes"), r);
    if (!rc) rc = read_pricing(&c, json_object_get(root, "pricing"), &r->pricing);
    json_t *ms = json_object_get(root, "measurements");
    if (!rc && !json_is_array(ms)) rc = bad(&c, "measurements", "missing or not an array");
    if (!rc && json_array_size(ms) > 4096) rc = bad(&c, "measurements", "more than 4096");
    for (size_t i = 0; !rc && i < json_array_size(ms); i++) {
        ic_measurement *e = ic_result_add(r);
        rc = e ? read_measurement(&c, json_array_get(ms, i), i, e)
               : ic_fail(err, errlen, 1, "%s: out of memory", where);
    }
    if (rc) ic_result_free(r);
    return rc;
}

int ic_result_read(ic_result *r, const char *path, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(path, &st) != 0)
        return ic_fail(err, errlen, 2, "%s: cannot read (%s)", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return ic_fail(err, errlen, 2, "%s: not a regular file", path);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) return ic_fail_json(err, errlen, 2, path, &jerr);
    int rc = ic_result_from_json(r, root, path, err, errlen);
    json_decref(root);
    if (rc == 0) snprintf(r->path, sizeof r->path, "%s", path);
    return rc;
}

/* ---- queries ---- */

int ic_result_on_host(const ic_result *r, const ic_host_id *here) {
    return ic_host_same(&r->host, here);
}

ic_provenance ic_result_figure_provenance(const ic_result *r, const ic_measurement *m,
                                          const ic_host_id *here) {
    if (m->provenance == IC_PROV_MODELED || m->provenance == IC_PROV_EXTRAPOLATED)
        return m->provenance;
    if (m->provenance == IC_PROV_IMPORTED || !ic_result_on_host(r, here)) return IC_PROV_IMPORTED;
    return IC_PROV_MEASURED;
}

void ic_result_measured_on(const ic_result *r, char *out, size_t len) {
    if (r->host.instance_type[0])
        snprintf(out, len, "%s (EC2, from DMI)", r->host.instance_type);
    else
        snprintf(out, len, "not EC2: %s (%s)", r->host.cpu_model[0] ? r->host.cpu_model : "?",
                 r->host.cpu_vendor[0] ? r->host.cpu_vendor : "?");
}

const ic_measurement *ic_result_pick_decode(const ic_result *r, long context) {
    const ic_measurement *best = NULL;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *m = &r->meas[i];
        if (m->kind != IC_MEAS_DECODE || m->baseline || m->batch != 1) continue;
        if (context >= 0 ? m->context == context : (!best || m->context < best->context)) {
            if (context >= 0) return m;
            best = m;
        }
    }
    return best;
}

const ic_measurement *ic_result_pick_prefill(const ic_result *r, long prompt, int allow_shortened) {
    const ic_measurement *best = NULL;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *m = &r->meas[i];
        if (m->kind != IC_MEAS_PREFILL || m->baseline) continue;
        if (m->shortened_from > 0 && !allow_shortened) continue;
        if (prompt >= 0 ? m->batch == prompt : (!best || m->batch > best->batch)) {
            if (prompt >= 0) return m;
            best = m;
        }
    }
    return best;
}

const ic_measurement *ic_result_pick_latency(const ic_result *r, double tpot_ms) {
    const ic_measurement *best = NULL;
    for (size_t i = 0; i < r->n_meas; i++) {
        const ic_measurement *m = &r->meas[i];
        if (m->kind == IC_MEAS_PREFILL || m->baseline || !(m->ms_per_token > 0) ||
            m->ms_per_token > tpot_ms)
            continue;
        if (!best || m->tok_per_s > best->tok_per_s ||
            (m->tok_per_s == best->tok_per_s && m->batch < best->batch))
            best = m;
    }
    return best;
}
