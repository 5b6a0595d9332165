/* The result record, pricing, roofline and report modules: a write -> read round trip of every
 * field, schema versions, host identity, the provenance rules, price resolution and labels, the
 * roofline on hand-computed shapes, and the table formats.
 * Usage: test_result DATA_DIR PLATFORMS_DIR [FULL_RECORD_OUT.json] */
#define _GNU_SOURCE
#include "ic_test.h"
#include "pricing.h"
#include "report.h"
#include "result.h"
#include "roofline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_data, *g_platforms;
static char g_tmp[] = "/tmp/ic_test_resultXXXXXX";

static int near(double a, double b, double rel) {
    return fabs(a - b) <= rel * fabs(b);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A record with every field set to something other than its zero value. */
static void full_record(ic_result *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->created_utc, sizeof r->created_utc, "2026-12-05T10:11:12Z");
    snprintf(r->tool_version, sizeof r->tool_version, "9.8.7");
    snprintf(r->git_commit, sizeof r->git_commit, "abc1234");
    ic_host_id *h = &r->host;
    snprintf(h->host, sizeof h->host, "box-1");
    snprintf(h->machine_id, sizeof h->machine_id, "fnv1a64:0123456789abcdef");
    snprintf(h->machine_id_source, sizeof h->machine_id_source, "machine-id");
    snprintf(h->instance_type, sizeof h->instance_type, "c7a.large");
    snprintf(h->cpu_vendor, sizeof h->cpu_vendor, "AuthenticAMD");
    snprintf(h->cpu_model, sizeof h->cpu_model, "AMD EPYC 9R14");
    snprintf(h->arch, sizeof h->arch, "x86_64");
    snprintf(h->features[0], sizeof h->features[0], "avx2");
    snprintf(h->features[1], sizeof h->features[1], "avx512f");
    h->n_features = 2;
    r->topo_cores = 2;
    r->topo_pus = 4;
    r->topo_numa_nodes = 1;
    r->threads = 2;
    snprintf(r->bind, sizeof r->bind, "core");
    snprintf(r->isa_cap, sizeof r->isa_cap, "avx2");
    snprintf(r->kernels, sizeof r->kernels, "gemv_q8_0_avx2, gemm_q8_0_avx2");
    snprintf(r->lib_benchmark, sizeof r->lib_benchmark, "1.7.1");
    snprintf(r->lib_hwloc, sizeof r->lib_hwloc, "2.9.0");
    snprintf(r->lib_openblas, sizeof r->lib_openblas, "0.3.21");
    snprintf(r->lib_papi, sizeof r->lib_papi, "7.0.0");
    snprintf(r->device_backend, sizeof r->device_backend, "cuda");
    snprintf(r->device_name, sizeof r->device_name, "NVIDIA H100 80GB HBM3");
    snprintf(r->device_runtime, sizeof r->device_runtime, "driver 13.0, runtime 13.0");
    r->device_count = 1;
    ic_model *m = &r->model;
    snprintf(m->name, sizeof m->name, "llama-3.2-1b");
    snprintf(m->source, sizeof m->source, "preset");
    m->dtype = IC_DT_Q4_0;
    r->kv_dtype = IC_DT_BF16;
    m->n_layer = 16;
    m->d_model = 2048;
    m->n_head = 32;
    m->n_head_kv = 8;
    m->head_dim = 64;
    m->d_ff = 8192;
    m->n_vocab = 128256;
    m->rope_theta = 500000;
    m->norm_eps = 1e-6;
    m->tied_embeddings = 1;
    m->n_expert = 8;
    m->n_expert_used = 2;
    r->n_layer_run = 8;
    r->weight_bytes_per_token = 1.25e9;
    r->flop_per_token = 2.5e9;
    r->read_bw = (ic_ceiling){.available = 1, .value = 77.5};
    snprintf(r->read_bw.loop, sizeof r->read_bw.loop, "read_avx512");
    r->peak = (ic_ceiling){.available = 0};
    snprintf(r->peak.note, sizeof r->peak.note, "unavailable: test");
    snprintf(r->peak_kind, sizeof r->peak_kind, "bf16");
    for (int k = 0; k < 3; k++) {
        ic_measurement *e = ic_result_add(r);
        e->kind = k == 0 ? IC_MEAS_PREFILL : k == 1 ? IC_MEAS_DECODE : IC_MEAS_BATCH_DECODE;
        e->baseline = k == 0;
        e->context = k == 0 ? 0 : 128;
        e->batch = k == 0 ? 64 : k == 1 ? 1 : 4;
        e->threads = 1 + k;
        e->shortened_from = k == 0 ? 512 : 0;
        e->tok_per_s = 10.5 + k;
        e->ms_per_token = 95.25 - k;
        e->provenance = IC_PROV_EXTRAPOLATED;
        e->extrapolated_from_layers = 8;
        e->n_samples = 3;
        for (int j = 0; j < 3; j++) e->samples_ms[j] = 90.0 + j;
        e->median_ms = 91.0;
        e->stddev_ms = 0.5;
        e->have_bound = k != 2;
        e->bound_tok_per_s = e->have_bound ? 20.0 + k : 0;
        e->efficiency = e->have_bound ? e->tok_per_s / e->bound_tok_per_s : 0;
        snprintf(e->limit, sizeof e->limit, "%s", e->have_bound ? "memory" : "");
        if (!e->have_bound) snprintf(e->bound_note, sizeof e->bound_note, "unavailable: why");
        if (k == 1) {
            e->have_latency = 1;
            e->p50_ms = 94.5;
            e->p90_ms = 97.25;
            e->p99_ms = 120.0;
            e->latency_steps = 321;
            e->read_bw_gbs = 78.25;
            snprintf(e->read_bw_source, sizeof e->read_bw_source, "the best of both");
            e->n_paired = 2;
            e->paired_read_gbs[0] = 70.5;
            e->paired_read_gbs[1] = 78.25;
            e->have_op_share = 1;
            e->op_share[0] = 0.75;
            e->op_share[IC_FOP_COUNT - 1] = 0.25;
        }
        e->bytes_per_token = 1.3e9 + k;
        e->flop_per_token = 2.6e9 + k;
        e->usd_per_mtok = k == 2 ? NAN : 1.5 + k;
    }
    r->pricing.present = 1;
    ic_price *q = &r->pricing.price;
    snprintf(q->instance_type, sizeof q->instance_type, "c7i.large");
    snprintf(q->region, sizeof q->region, "us-east-1");
    q->pricing = IC_PRICING_SPOT;
    q->usd_per_hour = 0.03;
    q->on_demand_usd_per_hour = 0.09;
    q->discount = 2.0 / 3.0;
    snprintf(q->source, sizeof q->source, "catalog source");
    snprintf(q->date, sizeof q->date, "2026-07-20");
    snprintf(q->discount_source, sizeof q->discount_source, "assumption");
    snprintf(q->discount_date, sizeof q->discount_date, "2026-11-26");
}

#define SAME_STR(field)                                                                            \
    CHECK(strcmp(a->field, b->field) == 0, #field ": '%s' vs '%s'", a->field, b->field)
#define SAME_NUM(field)                                                                            \
    CHECK(a->field == b->field, #field ": %g vs %g", (double)a->field, (double)b->field)

static void compare_records(const ic_result *a, const ic_result *b) {
    SAME_STR(created_utc);
    SAME_STR(tool_version);
    SAME_STR(git_commit);
    SAME_STR(host.host);
    SAME_STR(host.machine_id);
    SAME_STR(host.machine_id_source);
    SAME_STR(host.instance_type);
    SAME_STR(host.cpu_vendor);
    SAME_STR(host.cpu_model);
    SAME_STR(host.arch);
    SAME_NUM(host.n_features);
    SAME_STR(host.features[1]);
    SAME_NUM(topo_cores);
    SAME_NUM(topo_pus);
    SAME_NUM(topo_numa_nodes);
    SAME_NUM(threads);
    SAME_STR(bind);
    SAME_STR(isa_cap);
    SAME_STR(kernels);
    SAME_STR(lib_benchmark);
    SAME_STR(lib_hwloc);
    SAME_STR(lib_openblas);
    SAME_STR(lib_papi);
    SAME_STR(device_backend);
    SAME_STR(device_name);
    SAME_STR(device_runtime);
    CHECK(a->device_count == b->device_count, "device_count");
    SAME_STR(model.name);
    SAME_STR(model.source);
    SAME_NUM(model.dtype);
    SAME_NUM(kv_dtype);
    SAME_NUM(model.n_layer);
    SAME_NUM(model.d_model);
    SAME_NUM(model.n_head);
    SAME_NUM(model.n_head_kv);
    SAME_NUM(model.head_dim);
    SAME_NUM(model.d_ff);
    SAME_NUM(model.n_vocab);
    SAME_NUM(model.rope_theta);
    SAME_NUM(model.norm_eps);
    SAME_NUM(model.tied_embeddings);
    SAME_NUM(model.n_expert);
    SAME_NUM(model.n_expert_used);
    SAME_NUM(n_layer_run);
    SAME_NUM(weight_bytes_per_token);
    SAME_NUM(flop_per_token);
    SAME_NUM(read_bw.available);
    SAME_NUM(read_bw.value);
    SAME_STR(read_bw.loop);
    SAME_NUM(peak.available);
    SAME_STR(peak.note);
    SAME_STR(peak_kind);
    SAME_NUM(n_meas);
    for (size_t i = 0; i < a->n_meas && i < b->n_meas; i++) {
        const ic_measurement *x = &a->meas[i], *y = &b->meas[i];
        int same =
            x->kind == y->kind && x->baseline == y->baseline && x->context == y->context &&
            x->batch == y->batch && x->threads == y->threads &&
            x->shortened_from == y->shortened_from && x->tok_per_s == y->tok_per_s &&
            x->ms_per_token == y->ms_per_token && x->provenance == y->provenance &&
            x->extrapolated_from_layers == y->extrapolated_from_layers &&
            x->n_samples == y->n_samples &&
            memcmp(x->samples_ms, y->samples_ms, sizeof(double) * (size_t)x->n_samples) == 0 &&
            x->median_ms == y->median_ms && x->stddev_ms == y->stddev_ms &&
            x->have_bound == y->have_bound && x->bound_tok_per_s == y->bound_tok_per_s &&
            x->efficiency == y->efficiency && strcmp(x->limit, y->limit) == 0 &&
            strcmp(x->bound_note, y->bound_note) == 0 && x->read_bw_gbs == y->read_bw_gbs &&
            strcmp(x->read_bw_source, y->read_bw_source) == 0 && x->n_paired == y->n_paired &&
            memcmp(x->paired_read_gbs, y->paired_read_gbs, sizeof(double) * (size_t)x->n_paired) ==
                0 &&
            x->bytes_per_token == y->bytes_per_token && x->flop_per_token == y->flop_per_token &&
            x->have_op_share == y->have_op_share && x->have_latency == y->have_latency &&
            x->p50_ms == y->p50_ms && x->p90_ms == y->p90_ms && x->p99_ms == y->p99_ms &&
            x->latency_steps == y->latency_steps &&
            memcmp(x->op_share, y->op_share, sizeof x->op_share) == 0 &&
            (x->usd_per_mtok == y->usd_per_mtok ||
             (isnan(x->usd_per_mtok) && isnan(y->usd_per_mtok)));
        CHECK(same, "measurement %zu differs after the round trip", i);
    }
    SAME_NUM(pricing.present);
    SAME_NUM(pricing.given);
    SAME_NUM(pricing.price.usd_per_hour);
    SAME_NUM(pricing.price.on_demand_usd_per_hour);
    SAME_NUM(pricing.price.discount);
    SAME_NUM(pricing.price.pricing);
    SAME_STR(pricing.price.instance_type);
    SAME_STR(pricing.price.region);
    SAME_STR(pricing.price.source);
    SAME_STR(pricing.price.date);
    SAME_STR(pricing.price.discount_source);
    SAME_STR(pricing.price.discount_date);
}

static void test_round_trip(const char *keep) {
    char path[256], err[512];
    ic_result a, b;
    full_record(&a);
    snprintf(path, sizeof path, "%s/full.json", g_tmp);
    CHECK(ic_result_write(&a, path, err, sizeof err) == 0, "write: %s", err);
    int rc = ic_result_read(&b, path, err, sizeof err);
    CHECK(rc == 0, "read back: %s", err);
    if (rc == 0) {
        CHECK(b.schema_version == IC_RESULT_SCHEMA_VERSION, "version %d", b.schema_version);
        compare_records(&a, &b);
        ic_result_free(&b);
    }
    if (keep) CHECK(ic_result_write(&a, keep, err, sizeof err) == 0, "keep %s: %s", keep, err);
    /* A given price: no type, mode or region, and it reads back as given. */
    a.pricing.given = 1;
    a.pricing.price.instance_type[0] = '\0';
    a.pricing.price.discount = 0;
    a.pricing.price.on_demand_usd_per_hour = a.pricing.price.usd_per_hour;
    CHECK(ic_result_write(&a, path, err, sizeof err) == 0, "write given: %s", err);
    rc = ic_result_read(&b, path, err, sizeof err);
    CHECK(rc == 0 && b.pricing.present && b.pricing.given && !b.pricing.price.instance_type[0],
          "given price round trip: %s", err);
    if (rc == 0) ic_result_free(&b);
    ic_result_free(&a);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) != 0, "written");
}

/* Schema versions, types and inputs that are not files. */
static void test_read_errors(void) {
    char path[256], err[512];
    ic_result r, full;
    full_record(&full);
    json_t *j = ic_result_to_json(&full);
    ic_result_free(&full);
    snprintf(path, sizeof path, "%s/v.json", g_tmp);
    json_object_set_new(j, "schema_version", json_integer(IC_RESULT_SCHEMA_VERSION + 1));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 &&
              strstr(err, "is newer than this build") && strstr(err, "v.json"),
          "newer schema: %s", err);
    json_object_set_new(j, "schema_version", json_integer(IC_RESULT_SCHEMA_VERSION));
    json_t *m0 = json_array_get(json_object_get(j, "measurements"), 0);
    json_object_set_new(m0, "provenance", json_integer(5));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 &&
              strstr(err, "measurements[0].provenance: missing or not a string"),
          "a wrongly typed provenance is an error, not a default: %s", err);
    json_object_set_new(m0, "provenance", json_string("guessed"));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "provenance: want"),
          "unknown provenance: %s", err);
    json_object_set_new(m0, "provenance", json_string("measured"));
    json_object_set_new(m0, "tok_per_s", json_real(1e300));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "tok_per_s") &&
              strstr(err, "out of range"),
          "an absurd rate is refused: %s", err);
    json_object_set_new(m0, "tok_per_s", json_real(5));
    json_object_set_new(json_object_get(j, "env"), "host", json_string("bad\033[2Jhost"));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "control characters"),
          "control characters refused: %s", err);
    /* The KV type: a KV type only; a weight type that is no KV type, or f16 as weights, is
     * refused with the field named. */
    json_object_set_new(json_object_get(j, "env"), "host", json_string("host"));
    json_t *jm = json_object_get(j, "model");
    json_object_set_new(jm, "kv_dtype", json_string("q4_0"));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "model.kv_dtype") &&
              strstr(err, "f16, bf16, f32 or q8_0"),
          "a q4_0 KV cache is refused: %s", err);
    json_object_set_new(jm, "kv_dtype", json_string("f16"));
    json_object_set_new(jm, "dtype", json_string("f16"));
    json_dump_file(j, path, 0);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "model.dtype") &&
              strstr(err, "not a weight type"),
          "f16 weights are refused: %s", err);
    json_decref(j);
    CHECK(ic_result_read(&r, g_tmp, err, sizeof err) == 2 && strstr(err, "not a regular file"),
          "a directory: %s", err);
    snprintf(path, sizeof path, "%s/fifo", g_tmp);
    if (mkfifo(path, 0600) == 0) {
        CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "not a regular file"),
              "a FIFO is refused, not waited on: %s", err);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/bad-result-version.json", g_data);
    CHECK(ic_result_read(&r, path, err, sizeof err) == 2 && strstr(err, "bad-result-version.json"),
          "bad version fixture: %s", err);
    /* Writable checks before a run. */
    snprintf(path, sizeof path, "%s/no/such/x.json", g_tmp);
    CHECK(ic_result_check_writable(path, err, sizeof err) == 2 && strstr(err, "does not exist"),
          "missing directory: %s", err);
    CHECK(ic_result_check_writable(g_tmp, err, sizeof err) == 2 && strstr(err, "is a directory"),
          "a directory as the output: %s", err);
    snprintf(path, sizeof path, "%s/ok.json", g_tmp);
    CHECK(ic_result_check_writable(path, err, sizeof err) == 0, "writable: %s", err);
}

/* Schema 1: a type written from --instance ("flag") was what the run was priced as. */
static void test_schema1(void) {
    char path[700], err[512];
    ic_result r;
    snprintf(path, sizeof path, "%s/result-c7i.json", g_data);
    int rc = ic_result_read(&r, path, err, sizeof err);
    CHECK(rc == 0 && r.schema_version == 1 && strcmp(r.host.instance_type, "c7i.large") == 0,
          "schema 1 with a DMI type: %s", err);
    if (rc == 0) ic_result_free(&r);
    snprintf(path, sizeof path, "%s/flag.json", g_tmp);
    char src[700];
    snprintf(src, sizeof src, "%s/result-c7i.json", g_data);
    json_error_t jerr;
    json_t *j = json_load_file(src, 0, &jerr);
    json_object_set_new(json_object_get(j, "env"), "instance_source", json_string("flag"));
    json_dump_file(j, path, 0);
    json_decref(j);
    rc = ic_result_read(&r, path, err, sizeof err);
    CHECK(rc == 0 && r.host.instance_type[0] == '\0',
          "a schema-1 --instance type is not where it was measured: '%s' %s", r.host.instance_type,
          err);
    if (rc == 0) ic_result_free(&r);
    /* A record made before the KV cache type was recorded (the committed example record until
     * 2026-12-07, kept in tests/data) reads as an f32 cache; the committed one names f16. */
    snprintf(path, sizeof path, "%s/result-turin-before-kv-dtype.json", g_data);
    rc = ic_result_read(&r, path, err, sizeof err);
    CHECK(rc == 0 && r.n_meas >= 3 && r.read_bw.available && r.kv_dtype == IC_DT_F32,
          "a record without model.kv_dtype reads as an f32 cache: %s", err);
    if (rc == 0) ic_result_free(&r);
    snprintf(path, sizeof path, "%s/../../results/llama-3.2-1b-q8_0-epyc-turin-vm-2t.json", g_data);
    rc = ic_result_read(&r, path, err, sizeof err);
    CHECK(rc == 0 && r.n_meas >= 3 && r.read_bw.available && r.kv_dtype == IC_DT_F16,
          "the committed example record reads, with its f16 cache: %s", err);
    if (rc == 0) ic_result_free(&r);
}

/* A measurement without ms_per_token (found by fuzz_result): read, it gets the run's value, so
 * that its written record reads back; one whose tok_per_s gives none in range is refused. */
static void test_missing_ms_per_token(void) {
    char src[700], err[512];
    snprintf(src, sizeof src, "%s/result-c7i.json", g_data);
    json_error_t jerr;
    json_t *j = json_load_file(src, 0, &jerr);
    json_t *ms = json_object_get(j, "measurements");
    size_t i;
    json_t *m;
    json_array_foreach(ms, i, m) json_object_del(m, "ms_per_token");
    ic_result r, back;
    int rc = ic_result_from_json(&r, j, "no-ms.json", err, sizeof err);
    CHECK(rc == 0 && r.n_meas > 0, "a record without ms_per_token reads: %s", err);
    for (size_t k = 0; rc == 0 && k < r.n_meas; k++) {
        const ic_measurement *e = &r.meas[k];
        double want = 1e3 * (e->kind == IC_MEAS_PREFILL ? 1.0 : (double)e->batch) / e->tok_per_s;
        CHECK(near(e->ms_per_token, want, 1e-12), "measurement %zu: ms_per_token %g, want %g", k,
              e->ms_per_token, want);
    }
    json_t *w = rc == 0 ? ic_result_to_json(&r) : NULL;
    int rc2 = w ? ic_result_from_json(&back, w, "written", err, sizeof err) : -1;
    CHECK(rc2 == 0, "its written record reads back: %s", err);
    if (rc2 == 0) ic_result_free(&back);
    json_decref(w);
    if (rc == 0) ic_result_free(&r);
    json_object_set_new(json_array_get(ms, 0), "tok_per_s", json_real(1e-300));
    rc = ic_result_from_json(&r, j, "no-ms.json", err, sizeof err);
    CHECK(rc == 2 && strstr(err, "ms_per_token"), "no ms_per_token in range is refused: %s", err);
    if (rc == 0) ic_result_free(&r);
    json_decref(j);
}

/* Who measured: machine id and CPU, never the hostname. */
static void test_host_identity(void) {
    ic_host_id a, b;
    char idfile[256];
    snprintf(idfile, sizeof idfile, "%s/machine-id", g_tmp);
    write_text(idfile, "0123456789abcdef0123456789abcdef\n");
    setenv("IC_MACHINE_ID_FILE", idfile, 1);
    ic_host_identify(&a);
    ic_host_identify(&b);
    CHECK(strncmp(a.machine_id, "fnv1a64:", 8) == 0 &&
              strcmp(a.machine_id_source, "machine-id") == 0,
          "id from the file: %s (%s)", a.machine_id, a.machine_id_source);
    CHECK(strstr(a.machine_id, "0123456789abcdef0123") == NULL, "the raw id is not published");
    CHECK(ic_host_same(&a, &b), "the same machine twice");
    write_text(idfile, "another-machine\n");
    ic_host_identify(&b);
    CHECK(strcmp(a.host, b.host) == 0 && !ic_host_same(&a, &b),
          "same hostname, other machine id: not the same host");
    b = a;
    snprintf(b.cpu_model, sizeof b.cpu_model, "another CPU");
    CHECK(!ic_host_same(&a, &b), "a cloned machine id with another CPU is another machine");
    b = a;
    a.machine_id[0] = b.machine_id[0] = '\0';
    CHECK(!ic_host_same(&a, &b), "no machine id is never a match, even with equal hostnames");
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", g_tmp);
    setenv("IC_MACHINE_ID_FILE", missing, 1);
    setenv("IC_SYSFS_ROOT", g_tmp, 1);
    ic_host_identify(&a);
    CHECK(a.machine_id[0] == '\0' && a.machine_id_source[0] == '\0', "no id anywhere: empty");
    unsetenv("IC_SYSFS_ROOT");
    unsetenv("IC_MACHINE_ID_FILE");
}

static void test_picks(void) {
    char path[700], err[512];
    ic_result r;
    ic_host_id here;
    ic_host_identify(&here);
    snprintf(path, sizeof path, "%s/result-c7i.json", g_data);
    int rc = ic_result_read(&r, path, err, sizeof err);
    CHECK(rc == 0, "load c7i: %s", err);
    if (rc) return;
    const ic_measurement *d = ic_result_pick_decode(&r, -1);
    const ic_measurement *pf = ic_result_pick_prefill(&r, -1, 0);
    CHECK(d && d->tok_per_s == 20 && d->context == 128, "decode pick: smallest context");
    CHECK(ic_result_pick_decode(&r, 2048) && ic_result_pick_decode(&r, 2048)->context == 2048,
          "decode at a named context");
    CHECK(ic_result_pick_decode(&r, 7) == NULL, "no decode at context 7");
    CHECK(pf && pf->tok_per_s == 200 && pf->batch == 512, "prefill pick: longest prompt");
    CHECK(d && ic_result_figure_provenance(&r, d, &here) == IC_PROV_IMPORTED,
          "another host's figure is imported");
    /* Latency target: decode b1 50 ms 20 tok/s; b2 55.5 ms 36; b4 62.5 ms 64; b8 83.3 ms 96; b16
     * 125 ms. */
    const ic_measurement *m = ic_result_pick_latency(&r, 100);
    CHECK(m && m->batch == 8 && m->tok_per_s == 96, "tpot 100 ms picks batch 8");
    m = ic_result_pick_latency(&r, 125);
    CHECK(m && m->batch == 16, "tpot 125 ms (inclusive) picks batch 16");
    m = ic_result_pick_latency(&r, 50);
    CHECK(m && m->batch == 1 && m->kind == IC_MEAS_DECODE, "tpot 50 ms: batch 1 only");
    CHECK(ic_result_pick_latency(&r, 40) == NULL, "tpot 40 ms: none");
    /* A shortened prefill is not the input cost unless named; a baseline never is. */
    for (size_t i = 0; i < r.n_meas; i++)
        if (r.meas[i].kind == IC_MEAS_PREFILL) r.meas[i].shortened_from = 1024;
    CHECK(ic_result_pick_prefill(&r, -1, 0) == NULL, "shortened prefills are not picked");
    CHECK(ic_result_pick_prefill(&r, 512, 1) != NULL, "a shortened prefill named by length");
    for (size_t i = 0; i < r.n_meas; i++) r.meas[i].baseline = 1;
    CHECK(ic_result_pick_prefill(&r, -1, 1) == NULL && ic_result_pick_decode(&r, -1) == NULL,
          "baselines are never picked");
    ic_result_free(&r);
    CHECK(ic_provenance_weakest(IC_PROV_MEASURED, IC_PROV_EXTRAPOLATED) == IC_PROV_EXTRAPOLATED &&
              ic_provenance_weakest(IC_PROV_MODELED, IC_PROV_IMPORTED) == IC_PROV_MODELED &&
              ic_provenance_weakest(IC_PROV_MEASURED, IC_PROV_IMPORTED) == IC_PROV_IMPORTED,
          "weakest provenance");
}

static void test_price_options(void) {
    ic_price_opts o;
    char err[512];
    ic_price_opts_init(&o);
    const struct {
        int opt;
        const char *arg, *want;
    } bad[] = {
        {IC_OPT_USD_PER_HOUR, "0", "--usd-per-hour '0'"},
        {IC_OPT_USD_PER_HOUR, "-1", "--usd-per-hour '-1'"},
        {IC_OPT_USD_PER_HOUR, "nan", "--usd-per-hour 'nan'"},
        {IC_OPT_USD_PER_HOUR, "1e7", "at most 1e6"},
        {IC_OPT_USD_PER_HOUR, "3x", "--usd-per-hour '3x'"},
        {IC_OPT_TPOT_MS, "0", "--tpot-ms '0'"},
        {IC_OPT_TPOT_MS, "inf", "--tpot-ms 'inf'"},
        {IC_OPT_PRICING, "reserved", "expected on-demand, spot, savings-1y or savings-3y"},
        {IC_OPT_INSTANCE, "c7i large", "not an instance type name"},
        {IC_OPT_REGION, "US East", "not a region name"},
        {IC_OPT_CATALOG, "", "expected a directory"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = ic_price_opts_parse(&o, bad[i].opt, bad[i].arg, err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad[i].want), "%s: %d '%s'", bad[i].arg, rc, err);
    }
    CHECK(ic_price_opts_parse(&o, 'x', "1", err, sizeof err) == 0, "not a price option");
    CHECK(ic_price_opts_parse(&o, IC_OPT_USD_PER_HOUR, "2.5", err, sizeof err) == 1 &&
              o.usd_per_hour == 2.5,
          "a price");
    CHECK(ic_price_opts_parse(&o, IC_OPT_PRICING, "spot", err, sizeof err) == 1 &&
              ic_price_opts_check(&o, err, sizeof err) == -1 && strstr(err, "cannot be combined"),
          "a given price has no mode: %s", err);
    CHECK(isnan(ic_usd_per_mtok(0, 10)) && isnan(ic_usd_per_mtok(-1, 10)) &&
              isnan(ic_usd_per_mtok(1, 0)) && isnan(ic_tok_per_usd(0, 10)),
          "a price or rate <= 0 gives no figure");
    CHECK(near(ic_usd_per_mtok(55.04, 8000), 1.911111, 1e-6) &&
              near(ic_tok_per_usd(55.04, 8000), 523255.8, 1e-6),
          "$/Mtok and tok/$");
}

static void test_price_resolve(void) {
    ic_catalog cat;
    char err[512];
    int rc = ic_catalog_load(&cat, g_platforms, err, sizeof err);
    CHECK(rc == 0, "catalog: %s", err);
    if (rc) return;
    ic_price_opts o;
    ic_priced p;
    char label[256];
    ic_result_pricing rec = {.present = 1, .given = 1};
    rec.price.usd_per_hour = 0.5;
    snprintf(rec.price.source, sizeof rec.price.source, "price given on the command line");
    /* 1. --usd-per-hour wins over everything. */
    ic_price_opts_init(&o);
    o.usd_per_hour = 2;
    o.instance = "c7i.large";
    CHECK(ic_price_resolve(&o, &cat, "c7a.large", &rec, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_GIVEN && p.price.usd_per_hour == 2 &&
              strcmp(p.price.instance_type, "c7i.large") == 0,
          "given price, priced as --instance");
    /* 2. --instance at the catalog, over the measured-on type. */
    ic_price_opts_init(&o);
    o.instance = "c7i.large";
    CHECK(ic_price_resolve(&o, &cat, "c7a.large", &rec, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_CATALOG && strcmp(p.price.instance_type, "c7i.large") == 0,
          "--instance");
    ic_priced_label(IC_PROV_MEASURED, "c7a.large", &p, label, sizeof label);
    CHECK(strcmp(label, "measured on c7a.large, priced as c7i.large") == 0, "label '%s'", label);
    ic_priced_label(IC_PROV_MEASURED, "", &p, label, sizeof label);
    CHECK(strcmp(label, "measured on a non-EC2 host, priced as c7i.large") == 0,
          "a non-EC2 result priced as a type is never plain 'measured': '%s'", label);
    ic_priced_label(IC_PROV_IMPORTED, "", &p, label, sizeof label);
    CHECK(strcmp(label, "imported: measured on a non-EC2 host, priced as c7i.large") == 0,
          "imported label '%s'", label);
    /* 3. the type it was measured on. */
    ic_price_opts_init(&o);
    CHECK(ic_price_resolve(&o, &cat, "c7a.large", &rec, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_CATALOG && strcmp(p.price.instance_type, "c7a.large") == 0,
          "measured-on type");
    ic_priced_label(IC_PROV_MEASURED, "c7a.large", &p, label, sizeof label);
    CHECK(strcmp(label, "measured") == 0, "priced as itself: '%s'", label);
    /* 4. the recorded price; 5. none. */
    CHECK(ic_price_resolve(&o, &cat, "", &rec, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_RECORDED && p.price.usd_per_hour == 0.5,
          "recorded price");
    CHECK(ic_price_resolve(&o, &cat, "", NULL, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_NONE && strstr(p.note, "add --instance TYPE"),
          "no price: %s", p.note);
    /* An --instance the catalog cannot price is an error; a measured-on one only loses the price.
     */
    o.instance = "z9.huge";
    CHECK(ic_price_resolve(&o, &cat, "", NULL, &p, err, sizeof err) == 2 &&
              strstr(err, "unknown instance type 'z9.huge'"),
          "unknown --instance: %s", err);
    o.instance = NULL;
    CHECK(ic_price_resolve(&o, &cat, "z9.huge", NULL, &p, err, sizeof err) == 0 &&
              p.origin == IC_PRICE_NONE && strstr(p.note, "z9.huge"),
          "unknown measured-on type: %s", p.note);
    /* A CPU that contradicts the type's chip is flagged. */
    ic_host_id h = {0};
    snprintf(h.arch, sizeof h.arch, "x86_64");
    snprintf(h.cpu_vendor, sizeof h.cpu_vendor, "AuthenticAMD");
    snprintf(h.cpu_model, sizeof h.cpu_model, "AMD EPYC");
    char why[256];
    const ic_chip_info *spr = ic_catalog_chip(&cat, "xeon-sapphire-rapids");
    CHECK(spr && ic_chip_contradicts(spr, &h, why, sizeof why) && strstr(why, "GenuineIntel"),
          "an AMD CPU on a Xeon type: %s", why);
    CHECK(!ic_chip_contradicts(ic_catalog_chip(&cat, "epyc-genoa"), &h, why, sizeof why),
          "an AMD CPU on an EPYC type");
    CHECK(ic_chip_contradicts(ic_catalog_chip(&cat, "graviton3"), &h, why, sizeof why) &&
              strstr(why, "aarch64"),
          "an x86 CPU on a Graviton type: %s", why);
    CHECK(!ic_chip_contradicts(ic_catalog_chip(&cat, "h100-sxm"), &h, why, sizeof why),
          "a GPU type's host CPU is not its chip");
    ic_catalog_free(&cat);
}

/* A shape small enough to count by hand: 1 layer, d 64, 2 heads of 32, 1 KV head, d_ff 128,
 * vocabulary 100, f32, untied.
 *   QKV (64 + 2 x 32) x 64 x 4 = 32768 B, O 64 x 64 x 4 = 16384, gate+up 256 x 64 x 4 = 65536,
 *   down 64 x 128 x 4 = 32768, norms 2 x 64 x 4 = 512: layer 147968 B
 *   LM head 100 x 64 x 4 = 25600, embedding row 256, final norm 256: 174080 B per token
 *   KV cache at ctx 0 (one position): 2 x 32 x 4 = 256 B
 *   multiply-adds: (64 + 64) x 64 + 64 x 64 + 3 x 128 x 64 = 36864 per layer, LM head 6400 */
static void test_roofline(void) {
    ic_model m = {.n_layer = 1,
                  .d_model = 64,
                  .n_head = 2,
                  .n_head_kv = 1,
                  .head_dim = 32,
                  .d_ff = 128,
                  .n_vocab = 100,
                  .rope_theta = 1e4,
                  .norm_eps = 1e-5,
                  .dtype = IC_DT_F32};
    snprintf(m.name, sizeof m.name, "hand");
    char err[256];
    CHECK(ic_model_validate(&m, err, sizeof err) == 0, "hand shape: %s", err);
    CHECK(ic_model_weight_bytes_per_token(&m) == 174080, "weights per token %llu",
          (unsigned long long)ic_model_weight_bytes_per_token(&m));
    ic_roof r = ic_roofline(&m, IC_DT_F32, IC_MEAS_DECODE, 0, 1, 100, 1000);
    CHECK(r.bytes_per_token == 174336 && strcmp(r.limit, "memory") == 0, "decode bytes %g",
          r.bytes_per_token);
    CHECK(near(r.bound_tok_per_s, 100e9 / 174336.0, 1e-12), "decode bound %g", r.bound_tok_per_s);
    /* 2 x 36864 + attention 2 x 2 x 64 x 1 + LM head 2 x 6400 = 86784 FLOP */
    CHECK(r.flop_per_token == 86784, "decode flop %g", r.flop_per_token);
    /* Prefill of 4: 2 x 36864 x 4 + 4 x 64 x (1 + 2 + 3 + 4) + 12800 = 310272 FLOP, / 4 tokens.
     * The prompt reads the weights once, 174080 / 4 = 43520 bytes a token: at 100 GB/s that
     * bound (2.3M tok/s) is below the peak's (12.9M), so the prompt is memory-bound. */
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_PREFILL, 0, 4, 100, 1000);
    CHECK(r.flop_per_token == 77568 && r.bytes_per_token == 43520 && strcmp(r.limit, "memory") == 0,
          "prefill flop %g bytes %g limit %s", r.flop_per_token, r.bytes_per_token, r.limit);
    CHECK(near(r.bound_tok_per_s, 100e9 / 43520.0, 1e-12), "prefill bound %g", r.bound_tok_per_s);
    /* With a slower peak, or no read bandwidth, the peak's bound. */
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_PREFILL, 0, 4, 100, 100);
    CHECK(strcmp(r.limit, "compute") == 0 && near(r.bound_tok_per_s, 1e11 / 77568.0, 1e-12),
          "compute-bound prefill %g", r.bound_tok_per_s);
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_PREFILL, 0, 4, 0, 1000);
    CHECK(strcmp(r.limit, "compute") == 0 && near(r.bound_tok_per_s, 1e12 / 77568.0, 1e-12),
          "prefill without a read bandwidth %g", r.bound_tok_per_s);
    /* Batch of 2: the weights once, two KV caches; memory-bound at these ceilings. */
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_BATCH_DECODE, 0, 2, 100, 1000);
    CHECK(r.bytes_per_token == (174080 + 2 * 256) / 2.0 && strcmp(r.limit, "memory") == 0,
          "batch bytes %g", r.bytes_per_token);
    /* With a slow peak the batch is compute-bound. */
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_BATCH_DECODE, 0, 2, 100, 0.001);
    CHECK(strcmp(r.limit, "compute") == 0 && near(r.bound_tok_per_s, 1e6 / 86784.0, 1e-12),
          "compute-bound batch %g", r.bound_tok_per_s);
    /* The KV cache in its type, at context 3 (4 positions, 1 layer, K and V, one KV head of 32):
     * f32 4 x 2 x 32 x 4 = 1024 bytes, f16 and bf16 512, q8_0 4 x 2 x 34 = 272. */
    const struct {
        ic_dtype kv;
        double bytes;
    } kvs[] = {{IC_DT_F32, 174080 + 1024},
               {IC_DT_F16, 174080 + 512},
               {IC_DT_BF16, 174080 + 512},
               {IC_DT_Q8_0, 174080 + 272}};
    for (size_t i = 0; i < sizeof kvs / sizeof kvs[0]; i++) {
        r = ic_roofline(&m, kvs[i].kv, IC_MEAS_DECODE, 3, 1, 100, 0);
        CHECK(r.bytes_per_token == kvs[i].bytes &&
                  near(r.bound_tok_per_s, 100e9 / kvs[i].bytes, 1e-12),
              "decode at ctx 3 with a %s cache: %g bytes, want %g", ic_dtype_name(kvs[i].kv),
              r.bytes_per_token, kvs[i].bytes);
        /* a batch of 2 reads two caches */
        r = ic_roofline(&m, kvs[i].kv, IC_MEAS_BATCH_DECODE, 3, 2, 100, 0);
        CHECK(r.bytes_per_token == (174080 + 2 * (kvs[i].bytes - 174080)) / 2,
              "batch of 2 with a %s cache: %g bytes", ic_dtype_name(kvs[i].kv), r.bytes_per_token);
    }
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_DECODE, 0, 1, 0, 0);
    CHECK(r.bound_tok_per_s == 0 && isnan(ic_roof_efficiency(10, 0)), "no ceiling, no bound");
    r = ic_roofline(&m, IC_DT_F32, IC_MEAS_DECODE, 0, 1, 0, 1000);
    CHECK(r.bound_tok_per_s == 0, "a decode without a read bandwidth has no bound: %g",
          r.bound_tok_per_s);
    CHECK(ic_roof_efficiency(50, 100) == 0.5, "efficiency");
    /* MoE: a batch's sequences read at most n_expert experts between them. */
    m.n_expert = 4;
    m.n_expert_used = 2;
    double one = ic_roofline(&m, IC_DT_F32, IC_MEAS_DECODE, 0, 1, 100, 0).bytes_per_token;
    double b8 = ic_roofline(&m, IC_DT_F32, IC_MEAS_BATCH_DECODE, 0, 8, 100, 0).bytes_per_token * 8;
    double all = (double)ic_model_weight_bytes_per_token(&m) +
                 2.0 * (double)ic_model_expert_bytes(&m) + 8 * 256.0;
    CHECK(near(b8, all, 1e-12) && one < b8, "MoE batch reads every expert once: %g vs %g", b8, all);
    /* A prompt of 8 tokens too; a batch of 1 and a prompt of 1 read the experts one token uses. */
    double p8 = ic_roofline(&m, IC_DT_F32, IC_MEAS_PREFILL, 0, 8, 100, 0).bytes_per_token * 8;
    CHECK(near(p8, all - 8 * 256.0, 1e-12), "MoE prompt reads every expert once: %g", p8);
    CHECK(ic_roof_step_weight_bytes(&m, 1) == (double)ic_model_weight_bytes_per_token(&m) &&
              ic_roof_step_weight_bytes(&m, 0) == ic_roof_step_weight_bytes(&m, 1),
          "one token's experts");
    CHECK(near(ic_extrapolate_ns(100, 0.8, 2, 8), 340, 1e-12) &&
              ic_extrapolate_ns(100, 0.8, 8, 8) == 100 && ic_extrapolate_ns(100, 7, 2, 8) == 400,
          "extrapolation");
}

static void test_tables(void) {
    const char *heads[] = {"name", "value"};
    ic_table *t = ic_table_new(2, heads, "lr");
    const char *r1[] = {"a,b \"q\"", "1"}, *r2[] = {"pipe|x", "22"}, *r3[] = {"esc\033[2J", "3"};
    ic_table_add(t, r1);
    ic_table_add(t, r2);
    ic_table_add(t, r3);
    char path[256], buf[1024];
    snprintf(path, sizeof path, "%s/t.out", g_tmp);
    const ic_format fmts[] = {IC_FMT_CSV, IC_FMT_MD, IC_FMT_TABLE};
    const char *want[] = {"name,value\r\n\"a,b \"\"q\"\"\",1\r\npipe|x,22\r\nesc\\x1b[2J,3\r\n",
                          "| name | value |\n| --- | ---: |\n| a,b \"q\" | 1 |\n| pipe\\|x | 22 |\n"
                          "| esc\\x1b[2J | 3 |\n",
                          "name        value\na,b \"q\"         1\npipe|x         22\n"
                          "esc\\x1b[2J      3\n"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(path, "w");
        ic_table_print(t, fmts[i], f);
        fclose(f);
        f = fopen(path, "r");
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        CHECK(strcmp(buf, want[i]) == 0, "format %d:\n%s\nwant:\n%s", i, buf, want[i]);
    }
    ic_table_free(t);
    ic_format f;
    CHECK(ic_format_parse("md", &f) == 0 && f == IC_FMT_MD && ic_format_parse("xml", &f) == -1,
          "format names");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_result DATA_DIR PLATFORMS_DIR [FULL_RECORD_OUT]\n");
        return 2;
    }
    g_data = argv[1];
    g_platforms = argv[2];
    if (mkdtemp(g_tmp) == NULL) return 2;
    test_round_trip(argc > 3 ? argv[3] : NULL);
    test_read_errors();
    test_schema1();
    test_missing_ms_per_token();
    test_host_identity();
    test_picks();
    test_price_options();
    test_price_resolve();
    test_roofline();
    test_tables();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ic_test_finish("test_result");
}
