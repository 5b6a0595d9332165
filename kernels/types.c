/* dtype names and row sizes. */
#include "ic_quant.h"

#include <stdio.h>
#include <string.h>

static const char *const g_names[IC_DT_COUNT] = {"f32", "bf16", "q8_0", "q4_0", "f16", "q8_0s"};

const char *ic_dtype_name(ic_dtype t) {
    return (t >= 0 && t < IC_DT_COUNT) ? g_names[t] : NULL;
}

int ic_dtype_parse(const char *name, ic_dtype *out) {
    for (int t = 0; t < IC_DT_COUNT; t++) {
        if (strcmp(name, g_names[t]) == 0) {
            *out = (ic_dtype)t;
            return 0;
        }
    }
    return -1;
}

int ic_dtype_parse_weight(const char *name, ic_dtype *out, char *err, size_t errlen) {
    ic_dtype t;
    if (ic_dtype_parse(name, &t) != 0) {
        snprintf(err, errlen, "expected f32, bf16, q8_0 or q4_0");
        return -1;
    }
    if (!ic_dtype_is_weight(t)) {
        snprintf(err, errlen,
                 "%s is a KV-cache type (--kv-dtype), not a weight type; expected f32, bf16, q8_0 "
                 "or q4_0",
                 g_names[t]);
        return -1;
    }
    *out = t;
    return 0;
}

int ic_dtype_parse_kv(const char *name, ic_dtype *out, char *err, size_t errlen) {
    ic_dtype t;
    if (ic_dtype_parse(name, &t) != 0 || !ic_dtype_is_kv(t)) {
        snprintf(err, errlen, "expected a KV-cache type: f16, bf16, f32 or q8_0");
        return -1;
    }
    *out = t;
    return 0;
}

int ic_dtype_is_weight(ic_dtype t) {
    return t == IC_DT_F32 || t == IC_DT_BF16 || t == IC_DT_Q8_0 || t == IC_DT_Q4_0;
}

int ic_dtype_is_kv(ic_dtype t) {
    return t == IC_DT_F32 || t == IC_DT_F16 || t == IC_DT_BF16 || t == IC_DT_Q8_0;
}

size_t ic_dtype_block(ic_dtype t) {
    return (t == IC_DT_Q8_0 || t == IC_DT_Q4_0 || t == IC_DT_Q8_0S) ? IC_QK : 1;
}

size_t ic_row_bytes(ic_dtype t, size_t k) {
    switch (t) {
    case IC_DT_F32:
        return k * sizeof(float);
    case IC_DT_BF16:
    case IC_DT_F16:
        return k * sizeof(uint16_t);
    case IC_DT_Q8_0:
        return k % IC_QK ? 0 : k / IC_QK * sizeof(ic_block_q8_0);
    case IC_DT_Q4_0:
        return k % IC_QK ? 0 : k / IC_QK * sizeof(ic_block_q4_0);
    case IC_DT_Q8_0S:
        return k % IC_QK ? 0 : k / IC_QK * sizeof(ic_block_q8_0s);
    default:
        return 0;
    }
}

int ic_check_row(ic_dtype t, size_t k, char *err, size_t errlen) {
    if (t < 0 || t >= IC_DT_COUNT) {
        snprintf(err, errlen, "invalid dtype %d", (int)t);
        return -1;
    }
    if (k == 0) {
        snprintf(err, errlen, "%s row of 0 elements", g_names[t]);
        return -1;
    }
    if (k % ic_dtype_block(t) != 0) {
        snprintf(err, errlen, "%s rows hold whole blocks of %zu values; k = %zu is not a multiple",
                 g_names[t], ic_dtype_block(t), k);
        return -1;
    }
    return 0;
}
