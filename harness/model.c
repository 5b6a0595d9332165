/* Model shapes: presets, JSON shapes, validation, and per-token FLOP and byte counts. */
#include "model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checked.h"
#include "input.h"
#include "fail.h"
#include "gguf.h"

/* Published hyper-parameters, from each model's config.json on its Hugging Face model card
 * (hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim,
 * intermediate_size, vocab_size, rope_theta, rms_norm_eps, tie_word_embeddings). Qwen2.5's Q/K/V
 * biases are left out: a few thousand floats per layer do not change the cost. Mistral-7B is
 * v0.1 (32000-token vocabulary, theta 10000). */
static const ic_model g_presets[] = {
    {.name = "llama-3.2-1b",
     .n_layer = 16,
     .d_model = 2048,
     .n_head = 32,
     .n_head_kv = 8,
     .head_dim = 64,
     .d_ff = 8192,
     .n_vocab = 128256,
     .rope_theta = 500000,
     .norm_eps = 1e-5,
     .tied_embeddings = 1},
    {.name = "llama-3.2-3b",
     .n_layer = 28,
     .d_model = 3072,
     .n_head = 24,
     .n_head_kv = 8,
     .head_dim = 128,
     .d_ff = 8192,
     .n_vocab = 128256,
     .rope_theta = 500000,
     .norm_eps = 1e-5,
     .tied_embeddings = 1},
    {.name = "llama-3.1-8b",
     .n_layer = 32,
     .d_model = 4096,
     .n_head = 32,
     .n_head_kv = 8,
     .head_dim = 128,
     .d_ff = 14336,
     .n_vocab = 128256,
     .rope_theta = 500000,
     .norm_eps = 1e-5},
    {.name = "llama-3.1-70b",
     .n_layer = 80,
     .d_model = 8192,
     .n_head = 64,
     .n_head_kv = 8,
     .head_dim = 128,
     .d_ff = 28672,
     .n_vocab = 128256,
     .rope_theta = 500000,
     .norm_eps = 1e-5},
    {.name = "mistral-7b",
     .n_layer = 32,
     .d_model = 4096,
     .n_head = 32,
     .n_head_kv = 8,
     .head_dim = 128,
     .d_ff = 14336,
     .n_vocab = 32000,
     .rope_theta = 10000,
     .norm_eps = 1e-5},
    {.name = "qwen2.5-0.5b",
     .n_layer = 24,
     .d_model = 896,
     .n_head = 14,
     .n_head_kv = 2,
     .head_dim = 64,
     .d_ff = 4864,
     .n_vocab = 151936,
     .rope_theta = 1000000,
     .norm_eps = 1e-6,
     .tied_embeddings = 1},
    {.name = "qwen2.5-7b",
     .n_layer = 28,
     .d_model = 3584,
     .n_head = 28,
     .n_head_kv = 4,
     .head_dim = 128,
     .d_ff = 18944,
     .n_vocab = 152064,
     .rope_theta = 1000000,
     .norm_eps = 1e-6},
    {.name = "mixtral-8x7b",
     .n_layer = 32,
     .d_model = 4096,
     .n_head = 32,
     .n_head_kv = 8,
     .head_dim = 128,
     .d_ff = 14336,
     .n_vocab = 32000,
     .rope_theta = 1000000,
     .norm_eps = 1e-5,
     .n_expert = 8,
     .n_expert_used = 2},
};

size_t ic_model_preset_count(void) {
    return sizeof g_presets / sizeof g_presets[0];
}

const ic_model *ic_model_preset(size_t i) {
    return i < ic_model_preset_count() ? &g_presets[i] : NULL;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int ic_model_validate(const ic_model *m, char *err, size_t errlen) {
#define IC_RANGE(field, lo, hi)                                                                    \
    if ((uint64_t)m->field < (lo) || (uint64_t)m->field > (hi)) {                                  \
        snprintf(err, errlen, "%s: %s = %llu is out of range (%llu to %llu)", m->name, #field,     \
                 (unsigned long long)m->field, (unsigned long long)(lo),                           \
                 (unsigned long long)(hi));                                                        \
        return -1;                                                                                 \
    }
    IC_RANGE(n_layer, 1, IC_MODEL_MAX_LAYERS)
    IC_RANGE(d_model, 1, IC_MODEL_MAX_DIM)
    IC_RANGE(n_head, 1, IC_MODEL_MAX_HEADS)
    IC_RANGE(n_head_kv, 1, IC_MODEL_MAX_HEADS)
    /* A shape without head_dim gets d_model / n_head (JSON and GGUF alike): with more heads than
     * that can split, the fault is n_head or the missing head_dim, not the derived value. */
    if (m->head_dim < 2 && m->n_head > m->d_model / 2) {
        snprintf(err, errlen,
                 "%s: n_head = %u %s d_model = %u, so head_dim (d_model / n_head unless given) "
                 "is %u: give head_dim (at least 2) or fewer heads",
                 m->name, m->n_head, m->n_head > m->d_model ? "exceeds" : "is more than half of",
                 m->d_model, m->head_dim);
        return -1;
    }
    IC_RANGE(head_dim, 2, IC_MODEL_MAX_DIM)
    IC_RANGE(d_ff, 1, IC_MODEL_MAX_FF)
    IC_RANGE(n_vocab, 1, IC_MODEL_MAX_VOCAB)
    IC_RANGE(n_expert, 0, IC_MODEL_MAX_EXPERTS)
#undef IC_RANGE
    if ((uint64_t)m->n_head * m->head_dim > IC_MODEL_MAX_DIM) {
        snprintf(err, errlen, "%s: n_head * head_dim = %llu exceeds %u", m->name,
                 (unsigned long long)m->n_head * m->head_dim, IC_MODEL_MAX_DIM);
        return -1;
    }
    if (m->n_head % m->n_head_kv != 0) {
        snprintf(err, errlen, "%s: n_head_kv = %u does not divide n_head = %u", m->name,
                 m->n_head_kv, m->n_head);
        return -1;
    }
    if (m->head_dim % 2 != 0) {
        snprintf(err, errlen, "%s: head_dim = %u must be even (RoPE rotates pairs)", m->name,
                 m->head_dim);
        return -1;
    }
    if (!(m->rope_theta > 1.0) || !isfinite(m->rope_theta)) {
        snprintf(err, errlen, "%s: rope_theta = %g must be a finite number above 1", m->name,
                 m->rope_theta);
        return -1;
    }
    if (!(m->norm_eps > 0.0) || m->norm_eps > 1.0) {
        snprintf(err, errlen, "%s: norm_eps = %g must be in (0, 1]", m->name, m->norm_eps);
        return -1;
    }
    if ((m->n_expert == 0) != (m->n_expert_used == 0) || m->n_expert_used > m->n_expert) {
        snprintf(err, errlen,
                 "%s: n_expert_used = %u must be 0 for a dense model, else 1 to n_expert = %u",
                 m->name, m->n_expert_used, m->n_expert);
        return -1;
    }
    if (m->n_expert_used > IC_MODEL_MAX_EXPERTS_USED) {
        snprintf(err, errlen,
                 "%s: n_expert_used = %u: the forward pass runs at most %d active "
                 "experts per token",
                 m->name, m->n_expert_used, IC_MODEL_MAX_EXPERTS_USED);
        return -1;
    }
    if (!ic_dtype_is_weight(m->dtype)) {
        snprintf(err, errlen, "%s: invalid weight type", m->name);
        return -1;
    }
    /* Every matrix's reduction length must hold whole blocks of the weight type. */
    const struct {
        const char *what;
        uint64_t k;
    } ks[] = {{"d_model", m->d_model},
              {"n_head * head_dim", (uint64_t)m->n_head * m->head_dim},
              {"d_ff", m->d_ff}};
    size_t blk = ic_dtype_block(m->dtype);
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        if (ks[i].k % blk != 0) {
            snprintf(err, errlen, "%s: %s = %llu is not a multiple of %s's block of %zu values",
                     m->name, ks[i].what, (unsigned long long)ks[i].k, ic_dtype_name(m->dtype),
                     blk);
            return -1;
        }
    /* Each field is in range, but their products need not be: the total is computed saturating
     * and capped, so that no size derived later (planner, arena, KV cache) can wrap. */
    uint64_t total = ic_model_total_bytes(m);
    if (total > IC_MODEL_MAX_BYTES) {
        char amount[64];
        if (total == IC_SIZE_SATURATED)
            snprintf(amount, sizeof amount, "more than 2^64 bytes");
        else
            snprintf(amount, sizeof amount, "%.3g bytes", (double)total);
        snprintf(err, errlen,
                 "%s: weights of %s in %s exceed the cap of %llu bytes (1 PiB): n_layer %u x "
                 "(attention of d_model %u, n_head %u x head_dim %u, n_head_kv %u + n_expert %u "
                 "x FFN of d_ff %u) + embeddings of n_vocab %u",
                 m->name, amount, ic_dtype_name(m->dtype), (unsigned long long)IC_MODEL_MAX_BYTES,
                 m->n_layer, m->d_model, m->n_head, m->head_dim, m->n_head_kv, m->n_expert, m->d_ff,
                 m->n_vocab);
        return -1;
    }
    return 0;
}

/* One JSON field: its key, where it goes, and whether it must be present. */
typedef enum { F_U32, F_F64, F_BOOL, F_STR } field_kind;

/* The shape in a parsed JSON document; path names it in messages and in m->source. */
static int model_from_root(json_t *root, const char *path, ic_model *m, char *err, size_t errlen) {
    int rc = -1;
    memset(m, 0, sizeof *m);
    m->norm_eps = 1e-5;
    m->dtype = IC_DT_Q8_0;
    snprintf(m->source, sizeof m->source, "json:%s", path);
    const struct {
        const char *key;
        field_kind kind;
        void *dst;
        int required;
    } fields[] = {
        {"name", F_STR, m->name, 0},
        {"n_layer", F_U32, &m->n_layer, 1},
        {"d_model", F_U32, &m->d_model, 1},
        {"n_head", F_U32, &m->n_head, 1},
        {"n_head_kv", F_U32, &m->n_head_kv, 0},
        {"head_dim", F_U32, &m->head_dim, 0},
        {"d_ff", F_U32, &m->d_ff, 1},
        {"n_vocab", F_U32, &m->n_vocab, 1},
        {"rope_theta", F_F64, &m->rope_theta, 1},
        {"norm_eps", F_F64, &m->norm_eps, 0},
        {"tied_embeddings", F_BOOL, &m->tied_embeddings, 0},
        {"n_expert", F_U32, &m->n_expert, 0},
        {"n_expert_used", F_U32, &m->n_expert_used, 0},
    };
    const size_t nf = sizeof fields / sizeof fields[0];
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: expected a JSON object with the model's shape", path);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        size_t i;
        for (i = 0; i < nf && strcmp(fields[i].key, key) != 0; i++) {
        }
        if (i == nf) {
            snprintf(err, errlen,
                     "%s: unknown field '%.64s' (fields: name, n_layer, d_model, "
                     "n_head, n_head_kv, head_dim, d_ff, n_vocab, rope_theta, norm_eps, "
                     "tied_embeddings, n_expert, n_expert_used)",
                     path, key);
            goto out;
        }
        switch (fields[i].kind) {
        case F_U32: {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > (json_int_t)UINT32_MAX) {
                snprintf(err, errlen, "%s: field '%s' must be a non-negative integer below 2^32",
                         path, key);
                goto out;
            }
            *(uint32_t *)fields[i].dst = (uint32_t)json_integer_value(v);
            break;
        }
        case F_F64:
            if (!json_is_number(v)) {
                snprintf(err, errlen, "%s: field '%s' must be a number", path, key);
                goto out;
            }
            *(double *)fields[i].dst = json_number_value(v);
            break;
        case F_BOOL:
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "%s: field '%s' must be true or false", path, key);
                goto out;
            }
            *(int *)fields[i].dst = json_is_true(v);
            break;
        case F_STR:
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) >= sizeof m->name) {
                snprintf(err, errlen, "%s: field '%s' must be a string of 1 to %zu characters",
                         path, key, sizeof m->name - 1);
                goto out;
            }
            snprintf(m->name, sizeof m->name, "%s", json_string_value(v));
            break;
        }
    }
    for (size_t i = 0; i < nf; i++)
        if (fields[i].required && json_object_get(root, fields[i].key) == NULL) {
            snprintf(err, errlen, "%s: missing field '%s'", path, fields[i].key);
            goto out;
        }
    if (m->name[0] == '\0') snprintf(m->name, sizeof m->name, "custom");
    if (m->n_head_kv == 0 && json_object_get(root, "n_head_kv") == NULL) m->n_head_kv = m->n_head;
    if (m->head_dim == 0 && json_object_get(root, "head_dim") == NULL && m->n_head)
        m->head_dim = m->d_model / m->n_head;
    rc = 0;
out:
    return rc;
}

int ic_model_from_json(const char *path, ic_model *m, char *err, size_t errlen) {
    if (ic_input_check(path, NULL, err, errlen)) return -1;
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) return ic_fail_json(err, errlen, -1, path, &jerr);
    int rc = model_from_root(root, path, m, err, errlen);
    json_decref(root);
    return rc;
}

int ic_model_from_json_text(const char *text, size_t len, const char *where, ic_model *m, char *err,
                            size_t errlen) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) return ic_fail_json(err, errlen, -1, where, &jerr);
    int rc = model_from_root(root, where, m, err, errlen);
    json_decref(root);
    return rc;
}

int ic_model_load(const char *spec, int dtype, ic_model *m, char *err, size_t errlen) {
    int rc;
    if (ends_with(spec, ".json")) {
        rc = ic_model_from_json(spec, m, err, errlen);
    } else if (ends_with(spec, ".gguf")) {
        rc = ic_gguf_model(spec, m, dtype >= 0, err, errlen);
    } else {
        rc = -1;
        for (size_t i = 0; i < ic_model_preset_count(); i++)
            if (strcmp(spec, g_presets[i].name) == 0) {
                *m = g_presets[i];
                m->dtype = IC_DT_Q8_0;
                snprintf(m->source, sizeof m->source, "preset");
                rc = 0;
            }
        if (rc != 0) {
            size_t used =
                (size_t)snprintf(err, errlen, "unknown model '%s': give a preset (", spec);
            for (size_t i = 0; i < ic_model_preset_count() && used < errlen; i++)
                used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? ", " : "",
                                         g_presets[i].name);
            if (used < errlen)
                snprintf(err + used, errlen - used, "), a FILE.json shape or a FILE.gguf model");
        }
    }
    if (rc != 0) return -1;
    if (dtype >= 0) {
        m->dtype = (ic_dtype)dtype;
        m->dtype_from_file = 0;
    }
    return ic_model_validate(m, err, errlen);
}

/* Sizes below saturate (harness/checked.h): a shape's fields are each in range, but their
 * products are only bounded once ic_model_validate has capped the total. */

/* Bytes of a rows x k matrix in type t. */
static uint64_t mat_bytes(ic_dtype t, uint64_t rows, uint64_t k) {
    return ic_size_mul(rows, (uint64_t)ic_row_bytes(t, (size_t)k));
}

static uint64_t q_dim(const ic_model *m) {
    return (uint64_t)m->n_head * m->head_dim;
}

static uint64_t kv_dim(const ic_model *m) {
    return (uint64_t)m->n_head_kv * m->head_dim;
}

/* The attention block's matrices (Q, K, V, O) in dtype. */
static uint64_t attn_bytes(const ic_model *m) {
    uint64_t qd = q_dim(m), kvd = kv_dim(m);
    return ic_size_add(mat_bytes(m->dtype, qd + 2 * kvd, m->d_model),
                       mat_bytes(m->dtype, m->d_model, qd));
}

/* One expert's (or the dense) FFN: gate and up (d_ff x d), down (d x d_ff). */
static uint64_t ffn_bytes(const ic_model *m) {
    return ic_size_add(mat_bytes(m->dtype, 2ull * m->d_ff, m->d_model),
                       mat_bytes(m->dtype, m->d_model, m->d_ff));
}

/* The MoE router is kept in f32, as GGUF files store ffn_gate_inp. */
static uint64_t router_bytes(const ic_model *m) {
    return ic_size_mul3(m->n_expert, m->d_model, sizeof(float));
}

static uint64_t norm_bytes(const ic_model *m) {
    return 2ull * m->d_model * sizeof(float);
}

/* A layer's bytes with `experts` FFNs: all of them as stored, or the ones a token reads. */
static uint64_t layer_bytes_with(const ic_model *m, uint64_t experts) {
    uint64_t b = ic_size_add(attn_bytes(m), ic_size_mul(experts, ffn_bytes(m)));
    return ic_size_add(b, router_bytes(m) + norm_bytes(m));
}

uint64_t ic_model_layer_params(const ic_model *m) {
    uint64_t qd = q_dim(m), kvd = kv_dim(m);
    uint64_t attn = ic_size_add(ic_size_mul(qd + 2 * kvd, m->d_model), ic_size_mul(m->d_model, qd));
    uint64_t ffn = ic_size_mul3(3, m->d_ff, m->d_model);
    uint64_t experts = m->n_expert ? m->n_expert : 1;
    return ic_size_add(ic_size_add(attn, ic_size_mul(experts, ffn)),
                       ic_size_mul(m->n_expert, m->d_model));
}

uint64_t ic_model_layer_bytes(const ic_model *m) {
    return layer_bytes_with(m, m->n_expert ? m->n_expert : 1);
}

uint64_t ic_model_nonlayer_bytes(const ic_model *m) {
    uint64_t table = mat_bytes(m->dtype, m->n_vocab, m->d_model);
    return ic_size_add(ic_size_mul(table, m->tied_embeddings ? 1 : 2),
                       (uint64_t)m->d_model * sizeof(float));
}

uint64_t ic_model_total_bytes(const ic_model *m) {
    return ic_size_add(ic_size_mul(m->n_layer, ic_model_layer_bytes(m)),
                       ic_model_nonlayer_bytes(m));
}

uint64_t ic_model_weight_bytes_per_token(const ic_model *m) {
    uint64_t layer = layer_bytes_with(m, m->n_expert ? m->n_expert_used : 1);
    uint64_t lm_head = mat_bytes(m->dtype, m->n_vocab, m->d_model);
    uint64_t embed_row = ic_row_bytes(m->dtype, m->d_model);
    uint64_t rest = ic_size_add(lm_head, embed_row + (uint64_t)m->d_model * sizeof(float));
    return ic_size_add(ic_size_mul(m->n_layer, layer), rest);
}

uint64_t ic_model_expert_bytes(const ic_model *m) {
    return ffn_bytes(m);
}

uint64_t ic_model_kv_bytes(const ic_model *m, ic_dtype kv, uint64_t ctx) {
    if (m->head_dim == 0 || ic_row_bytes(kv, m->head_dim) == 0) return 0;
    /* a position's row: n_head_kv heads of head_dim values, each head whole blocks */
    const uint64_t row = ic_size_mul(m->n_head_kv, ic_row_bytes(kv, m->head_dim));
    return ic_size_mul3(ic_size_mul(m->n_layer, 2), ctx, row);
}

/* Matrix multiply-adds of one token through one layer, excluding attention over the cache. */
static double layer_macs(const ic_model *m) {
    double qd = (double)m->n_head * m->head_dim, kvd = (double)m->n_head_kv * m->head_dim;
    double used = m->n_expert ? m->n_expert_used : 1;
    return (qd + 2 * kvd) * m->d_model + m->d_model * qd + used * 3.0 * m->d_ff * m->d_model +
           (double)m->n_expert * m->d_model;
}

double ic_model_flop_per_token(const ic_model *m, uint64_t ctx) {
    double attn = 2.0 * 2.0 * (double)m->n_head * m->head_dim * (double)(ctx + 1);
    return m->n_layer * (2.0 * layer_macs(m) + attn) + 2.0 * (double)m->n_vocab * m->d_model;
}

double ic_model_prefill_flop(const ic_model *m, uint64_t n) {
    /* Token t attends over t + 1 positions: sum over t < n of (t + 1) = n (n + 1) / 2. */
    double positions = (double)n * (double)(n + 1) / 2.0;
    double attn = 2.0 * 2.0 * (double)m->n_head * m->head_dim * positions;
    return m->n_layer * (2.0 * layer_macs(m) * (double)n + attn) +
           2.0 * (double)m->n_vocab * m->d_model;
}

void ic_model_describe(const ic_model *m, char *out, size_t len) {
    int n = snprintf(out, len,
                     "%s %s: %u layers, d_model %u, %u/%u heads x %u, d_ff %u, vocab %u, "
                     "rope theta %g%s",
                     m->name, ic_dtype_name(m->dtype), m->n_layer, m->d_model, m->n_head,
                     m->n_head_kv, m->head_dim, m->d_ff, m->n_vocab, m->rope_theta,
                     m->tied_embeddings ? ", tied embeddings" : "");
    if (m->n_expert && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ", MoE %u experts (%u active)", m->n_expert,
                 m->n_expert_used);
}
