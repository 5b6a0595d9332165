/* GGUF header reader. Layout (little-endian): "GGUF", u32 version, u64 tensor count, u64 metadata
 * count; metadata pairs (string key, u32 type, value); tensor infos (string name, u32 n_dims,
 * u64 dims[n_dims], u32 ggml type, u64 offset). A string is a u64 length and its bytes. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include "input.h"
#include "gguf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    GT_U8 = 0,
    GT_I8,
    GT_U16,
    GT_I16,
    GT_U32,
    GT_I32,
    GT_F32,
    GT_BOOL,
    GT_STRING,
    GT_ARRAY,
    GT_U64,
    GT_I64,
    GT_F64,
    GT_COUNT
};

typedef struct {
    FILE *f;
    const char *path;
    uint64_t pos, size;
    char *err;
    size_t errlen;
    int failed;
} reader;

/* A metadata value kept for lookup after the whole header is read (the architecture name, which
 * prefixes the keys, may come after them): its type, and the number when it is a scalar. */
typedef struct {
    char key[128];
    uint32_t type;
    int is_float;
    int negative;
    uint64_t u;
    double d;
} kv_num;

#define MAX_KEPT 4096

/* Every metadata key or tensor name read so far, to refuse one given twice: the shape would
 * depend on which copy a reader believes. Open addressing over FNV-1a hashes; cap is a power of
 * two above twice the names the header declares. */
typedef struct {
    struct name_slot {
        uint64_t hash; /* 0: empty */
        char *name;
    } * slot;
    size_t cap;
} name_set;

typedef struct {
    reader r;
    kv_num *nums;
    size_t n_nums;
    char arch[64];
    uint64_t tokens_count; /* tokenizer.ggml.tokens length, 0 if absent */
    uint64_t embd_vocab;   /* token_embd.weight's second dimension, 0 if absent */
    int have_output;
    uint64_t type_count[64]; /* layer matrices per ggml type (types >= 64 are counted as 63) */
    name_set keys, tensors;
} gguf_state;

const char *ic_ggml_type_name(uint32_t type) {
    static const char *const names[] = {
        "f32",     "f16",    "q4_0",    "q4_1",  "4 (removed)", "5 (removed)", "q5_0",  "q5_1",
        "q8_0",    "q8_1",   "q2_K",    "q3_K",  "q4_K",        "q5_K",        "q6_K",  "q8_K",
        "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl",      "iq3_s",       "iq2_s", "iq4_xs",
        "i8",      "i16",    "i32",     "i64",   "f64",         "iq1_m",       "bf16"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

/* The GGUF name of a metadata value type, for messages. */
static const char *value_type_name(uint32_t t) {
    static const char *const names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                        "bool", "string", "array", "u64", "i64", "f64"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown type";
}

static int name_set_init(name_set *ns, uint64_t n) {
    ns->cap = 16;
    while (ns->cap < 2 * n + 1) ns->cap *= 2;
    ns->slot = calloc(ns->cap, sizeof *ns->slot);
    return ns->slot ? 0 : -1;
}

static void name_set_free(name_set *ns) {
    for (size_t i = 0; ns->slot && i < ns->cap; i++) free(ns->slot[i].name);
    free(ns->slot);
    ns->slot = NULL;
}

/* Adds name: 0 when it is new, 1 when it was there already, -1 when out of memory. */
static int name_set_add(name_set *ns, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    h += h == 0;
    size_t i = (size_t)h & (ns->cap - 1);
    for (; ns->slot[i].hash; i = (i + 1) & (ns->cap - 1))
        if (ns->slot[i].hash == h && strcmp(ns->slot[i].name, name) == 0) return 1;
    if ((ns->slot[i].name = strdup(name)) == NULL) return -1;
    ns->slot[i].hash = h;
    return 0;
}

/* "FILE: truncated at byte N reading the version": what went wrong, where, and in what. */
static int fail(reader *r, const char *problem, const char *what) {
    if (!r->failed)
        snprintf(r->err, r->errlen, "%s: %s at byte %llu (%s)", r->path, problem,
                 (unsigned long long)r->pos, what);
    r->failed = 1;
    return -1;
}

static int read_bytes(reader *r, void *dst, uint64_t n, const char *what) {
    if (r->failed) return -1;
    if (n > r->size - r->pos) return fail(r, "truncated", what);
    if (n && fread(dst, 1, (size_t)n, r->f) != n) return fail(r, "read error", what);
    r->pos += n;
    return 0;
}

static int skip_bytes(reader *r, uint64_t n, const char *what) {
    if (r->failed) return -1;
    if (n > r->size - r->pos) return fail(r, "truncated", what);
    if (fseeko(r->f, (off_t)(r->pos + n), SEEK_SET) != 0) return fail(r, "seek failed", what);
    r->pos += n;
    return 0;
}

/* Little-endian loads, independent of the host's byte order. */
static int read_u32(reader *r, uint32_t *v, const char *what) {
    unsigned char b[4];
    if (read_bytes(r, b, 4, what)) return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int read_u64(reader *r, uint64_t *v, const char *what) {
    uint32_t lo, hi;
    if (read_u32(r, &lo, what) || read_u32(r, &hi, what)) return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* Reads a string into buf (NUL-terminated) when it fits in cap - 1 bytes; longer strings are
 * refused when over limit, otherwise skipped with *truncated set. */
static int read_string(reader *r, char *buf, size_t cap, uint64_t limit, int *truncated,
                       const char *what) {
    uint64_t len;
    if (read_u64(r, &len, what)) return -1;
    if (len > limit) {
        if (!r->failed)
            snprintf(r->err, r->errlen,
                     "%s: %s at byte %llu has length %llu, above the cap of %llu", r->path, what,
                     (unsigned long long)r->pos, (unsigned long long)len,
                     (unsigned long long)limit);
        r->failed = 1;
        return -1;
    }
    if (truncated) *truncated = 0;
    if (buf && len < cap) {
        if (read_bytes(r, buf, len, what)) return -1;
        buf[len] = '\0';
        return 0;
    }
    if (buf && cap) buf[0] = '\0';
    if (truncated) *truncated = 1;
    return skip_bytes(r, len, what);
}

static uint64_t type_size(uint32_t t) {
    switch (t) {
    case GT_U8:
    case GT_I8:
    case GT_BOOL:
        return 1;
    case GT_U16:
    case GT_I16:
        return 2;
    case GT_U32:
    case GT_I32:
    case GT_F32:
        return 4;
    case GT_U64:
    case GT_I64:
    case GT_F64:
        return 8;
    default:
        return 0;
    }
}

/* Reads one value of type t; scalar numbers go to *num when num is not NULL. */
static int read_value(gguf_state *s, uint32_t t, kv_num *num, uint64_t *array_len, int depth) {
    reader *r = &s->r;
    if (t >= GT_COUNT) {
        snprintf(r->err, r->errlen, "%s: unknown metadata value type %u at byte %llu", r->path, t,
                 (unsigned long long)r->pos);
        r->failed = 1;
        return -1;
    }
    if (t == GT_STRING) return read_string(r, NULL, 0, IC_GGUF_MAX_STRING, NULL, "a string value");
    if (t == GT_ARRAY) {
        uint32_t et;
        uint64_t n;
        if (read_u32(r, &et, "an array's element type") || read_u64(r, &n, "an array's length"))
            return -1;
        if (depth >= 2 || et >= GT_COUNT || n > IC_GGUF_MAX_ARRAY) {
            snprintf(r->err, r->errlen,
                     "%s: array at byte %llu is refused (element type %u, %llu elements; caps: "
                     "%u elements, arrays nested at most twice)",
                     r->path, (unsigned long long)r->pos, et, (unsigned long long)n,
                     IC_GGUF_MAX_ARRAY);
            r->failed = 1;
            return -1;
        }
        if (array_len) *array_len = n;
        uint64_t es = type_size(et);
        if (es) {
            if (n > (r->size - r->pos) / es)
                return fail(r, "truncated: an array runs past the end of the file", "an array");
            return skip_bytes(r, n * es, "an array");
        }
        /* Strings and arrays take at least 8 bytes each: a cheap bound before the loop. */
        if (n > (r->size - r->pos) / 8)
            return fail(r, "truncated: an array runs past the end of the file", "an array");
        for (uint64_t i = 0; i < n; i++)
            if (read_value(s, et, NULL, NULL, depth + 1)) return -1;
        return 0;
    }
    unsigned char b[8] = {0};
    uint64_t sz = type_size(t);
    if (read_bytes(r, b, sz, "a metadata value")) return -1;
    uint64_t u = 0;
    for (uint64_t i = 0; i < sz; i++) u |= (uint64_t)b[i] << (8 * i);
    if (num == NULL) return 0;
    num->is_float = (t == GT_F32 || t == GT_F64);
    num->negative = 0;
    if (t == GT_F32) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, sizeof f);
        num->d = f;
    } else if (t == GT_F64) {
        memcpy(&num->d, &u, sizeof num->d);
    } else {
        int64_t sv = 0;
        int is_signed = (t == GT_I8 || t == GT_I16 || t == GT_I32 || t == GT_I64);
        if (is_signed) {
            int shift = 64 - 8 * (int)sz;
            sv = (int64_t)(u << shift) >> shift;
            num->negative = sv < 0;
        }
        num->u = num->negative ? 0 : u;
        num->d = num->negative ? (double)sv : (double)u;
    }
    return 0;
}

/* Refuses a metadata key or tensor name (what) that the header gives twice. */
static int once(gguf_state *s, name_set *ns, const char *name, const char *what) {
    int rc = name_set_add(ns, name);
    if (rc == 0) return 0;
    if (rc < 0)
        snprintf(s->r.err, s->r.errlen, "%s: out of memory reading the GGUF header", s->r.path);
    else
        snprintf(s->r.err, s->r.errlen, "%s: %s '%.200s' appears twice (each may appear once)",
                 s->r.path, what, name);
    s->r.failed = 1;
    return -1;
}

static const kv_num *find_num(const gguf_state *s, const char *suffix) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", s->arch, suffix);
    for (size_t i = 0; i < s->n_nums; i++)
        if (strcmp(s->nums[i].key, key) == 0) return &s->nums[i];
    return NULL;
}

/* An integer field of the shape: required or not, within [lo, hi]. Absent optional fields keep
 * *out. */
static int get_u32(gguf_state *s, const char *suffix, int required, uint64_t lo, uint64_t hi,
                   uint32_t *out) {
    const kv_num *v = find_num(s, suffix);
    if (v == NULL) {
        if (!required) return 0;
        snprintf(s->r.err, s->r.errlen, "%s: missing metadata key '%s.%s'", s->r.path, s->arch,
                 suffix);
        return -1;
    }
    if (v->type == GT_STRING || v->type == GT_ARRAY || v->type == GT_BOOL) {
        snprintf(s->r.err, s->r.errlen,
                 "%s: metadata '%s.%s' is a %s (expected an integer from %llu to %llu)", s->r.path,
                 s->arch, suffix, value_type_name(v->type), (unsigned long long)lo,
                 (unsigned long long)hi);
        return -1;
    }
    if (v->is_float || v->negative || v->u < lo || v->u > hi) {
        snprintf(s->r.err, s->r.errlen,
                 "%s: metadata '%s.%s' = %.17g is absurd (expected an integer "
                 "from %llu to %llu)",
                 s->r.path, s->arch, suffix, v->d, (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = (uint32_t)v->u;
    return 0;
}

/* A float field (GGUF stores them as float32): absent keeps *out; a value of another type is an
 * error, not a silent default. */
static int get_float(gguf_state *s, const char *suffix, double *out) {
    const kv_num *v = find_num(s, suffix);
    if (v == NULL) return 0;
    if (v->type != GT_F32 && v->type != GT_F64) {
        snprintf(s->r.err, s->r.errlen,
                 "%s: metadata '%s.%s' is a %s; it must be a float32 (or float64)", s->r.path,
                 s->arch, suffix, value_type_name(v->type));
        return -1;
    }
    *out = v->d;
    return 0;
}

static int starts_with(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

static int ends_with(const char *s, const char *p) {
    size_t n = strlen(s), k = strlen(p);
    return n >= k && strcmp(s + n - k, p) == 0;
}

/* The fixed header: magic, version, and the two counts, checked against the caps and against
 * what the rest of the file can hold. */
static int read_header(gguf_state *s, uint64_t *n_tensors, uint64_t *n_kv) {
    reader *r = &s->r;
    unsigned char magic[4];
    if (read_bytes(r, magic, 4, "the magic")) return -1;
    if (memcmp(magic, "GGUF", 4) != 0) {
        snprintf(r->err, r->errlen,
                 "%s: not a GGUF file (magic %02x %02x %02x %02x, want \"GGUF\")", r->path,
                 magic[0], magic[1], magic[2], magic[3]);
        return -1;
    }
    uint32_t version;
    if (read_u32(r, &version, "the version")) return -1;
    if (version != 2 && version != 3) {
        snprintf(r->err, r->errlen, "%s: GGUF version %u is not supported (2 or 3)", r->path,
                 version);
        return -1;
    }
    if (read_u64(r, n_tensors, "the tensor count") || read_u64(r, n_kv, "the metadata count"))
        return -1;
    /* A pair takes at least 13 bytes, a tensor info at least 24. */
    if (*n_kv > IC_GGUF_MAX_KV || *n_tensors > IC_GGUF_MAX_TENSORS ||
        *n_kv * 13 + *n_tensors * 24 > r->size - r->pos) {
        snprintf(r->err, r->errlen,
                 "%s: header declares %llu metadata pairs and %llu tensors, more than the file's "
                 "%llu bytes can hold (or above the caps of %u and %u)",
                 r->path, (unsigned long long)*n_kv, (unsigned long long)*n_tensors,
                 (unsigned long long)r->size, IC_GGUF_MAX_KV, IC_GGUF_MAX_TENSORS);
        return -1;
    }
    return 0;
}

/* The metadata pairs: the architecture name, the tokenizer's token count, and every scalar
 * number (kept for lookup once the architecture is known). */
static int read_metadata(gguf_state *s, uint64_t n_kv) {
    reader *r = &s->r;
    char key[IC_GGUF_MAX_KEY + 1];
    if (name_set_init(&s->keys, n_kv) != 0) return fail(r, "out of memory", "the metadata");
    for (uint64_t i = 0; i < n_kv; i++) {
        uint32_t t;
        if (read_string(r, key, sizeof key, IC_GGUF_MAX_KEY, NULL, "a metadata key") ||
            once(s, &s->keys, key, "metadata key") || read_u32(r, &t, "a metadata type"))
            return -1;
        if (strcmp(key, "general.architecture") == 0 && t != GT_STRING) {
            snprintf(r->err, r->errlen, "%s: general.architecture is a %s, not a string", r->path,
                     value_type_name(t));
            return -1;
        }
        if (strcmp(key, "general.architecture") == 0) {
            int trunc;
            if (read_string(r, s->arch, sizeof s->arch, IC_GGUF_MAX_STRING, &trunc,
                            "general.architecture"))
                return -1;
            if (trunc || s->arch[0] == '\0') {
                snprintf(r->err, r->errlen, "%s: general.architecture is empty or over %zu bytes",
                         r->path, sizeof s->arch - 1);
                return -1;
            }
            continue;
        }
        kv_num num = {.type = t};
        uint64_t alen = 0;
        int keep = strlen(key) < sizeof num.key;
        if (read_value(s, t, keep ? &num : NULL, &alen, 0)) return -1;
        if (t == GT_ARRAY && strcmp(key, "tokenizer.ggml.tokens") == 0) s->tokens_count = alen;
        if (keep && s->n_nums < MAX_KEPT) {
            memcpy(num.key, key, strlen(key) + 1); /* keep: it fits */
            s->nums[s->n_nums++] = num;
        }
    }
    return 0;
}

/* The tensor infos: the embedding's vocabulary, whether an output matrix exists, and the count
 * of layer matrices per ggml type. */
static int read_tensor_infos(gguf_state *s, uint64_t n_tensors) {
    reader *r = &s->r;
    char key[IC_GGUF_MAX_KEY + 1];
    if (name_set_init(&s->tensors, n_tensors) != 0) return fail(r, "out of memory", "the tensors");
    for (uint64_t i = 0; i < n_tensors; i++) {
        uint32_t nd, type;
        uint64_t dims[IC_GGUF_MAX_DIMS], offset;
        if (read_string(r, key, sizeof key, IC_GGUF_MAX_KEY, NULL, "a tensor name") ||
            once(s, &s->tensors, key, "tensor") || read_u32(r, &nd, "a tensor's dimension count"))
            return -1;
        if (nd == 0 || nd > IC_GGUF_MAX_DIMS) {
            snprintf(r->err, r->errlen, "%s: tensor '%.80s' has %u dimensions (1 to %d allowed)",
                     r->path, key, nd, IC_GGUF_MAX_DIMS);
            return -1;
        }
        for (uint32_t d = 0; d < nd; d++) {
            if (read_u64(r, &dims[d], "a tensor dimension")) return -1;
            if (dims[d] == 0 || dims[d] > (1ull << 32)) {
                snprintf(r->err, r->errlen, "%s: tensor '%.80s' dimension %u is %llu (absurd)",
                         r->path, key, d, (unsigned long long)dims[d]);
                return -1;
            }
        }
        if (read_u32(r, &type, "a tensor type") || read_u64(r, &offset, "a tensor offset"))
            return -1;
        if (strcmp(key, "token_embd.weight") == 0 && nd >= 2) s->embd_vocab = dims[1];
        if (strcmp(key, "output.weight") == 0) s->have_output = 1;
        if (starts_with(key, "blk.") && ends_with(key, ".weight") && nd >= 2 &&
            (strstr(key, ".attn_") || strstr(key, ".ffn_")) && !strstr(key, "ffn_gate_inp"))
            s->type_count[type < 64 ? type : 63]++;
    }
    return 0;
}

/* The model's shape from the <arch>.* keys and the tensors; *m is cleared first. */
static int assemble_shape(gguf_state *s, ic_model *m) {
    reader *r = &s->r;
    if (s->arch[0] == '\0') {
        snprintf(r->err, r->errlen, "%s: missing metadata key 'general.architecture'", r->path);
        return -1;
    }
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", s->arch);
    if (get_u32(s, "block_count", 1, 1, IC_MODEL_MAX_LAYERS, &m->n_layer) ||
        get_u32(s, "embedding_length", 1, 1, IC_MODEL_MAX_DIM, &m->d_model) ||
        get_u32(s, "attention.head_count", 1, 1, IC_MODEL_MAX_HEADS, &m->n_head) ||
        get_u32(s, "feed_forward_length", 1, 1, IC_MODEL_MAX_FF, &m->d_ff))
        return -1;
    m->n_head_kv = m->n_head;
    m->head_dim = m->d_model / m->n_head;
    if (get_u32(s, "attention.head_count_kv", 0, 1, IC_MODEL_MAX_HEADS, &m->n_head_kv) ||
        get_u32(s, "attention.key_length", 0, 2, IC_MODEL_MAX_DIM, &m->head_dim) ||
        get_u32(s, "expert_count", 0, 0, IC_MODEL_MAX_EXPERTS, &m->n_expert) ||
        get_u32(s, "expert_used_count", 0, 0, IC_MODEL_MAX_EXPERTS, &m->n_expert_used))
        return -1;
    m->rope_theta = 10000.0; /* ggml's default when the key is absent */
    m->norm_eps = 1e-5;
    if (get_float(s, "rope.freq_base", &m->rope_theta) ||
        get_float(s, "attention.layer_norm_rms_epsilon", &m->norm_eps))
        return -1;
    uint64_t vocab = s->embd_vocab;
    const kv_num *vs = find_num(s, "vocab_size");
    if (vocab == 0 && vs && !vs->is_float && !vs->negative) vocab = vs->u;
    if (vocab == 0) vocab = s->tokens_count;
    if (vocab == 0 || vocab > IC_MODEL_MAX_VOCAB) {
        snprintf(r->err, r->errlen,
                 "%s: vocabulary size %llu is %s (from token_embd.weight, else "
                 "<arch>.vocab_size, else tokenizer.ggml.tokens)",
                 r->path, (unsigned long long)vocab, vocab ? "absurd" : "missing");
        return -1;
    }
    m->n_vocab = (uint32_t)vocab;
    m->tied_embeddings = !s->have_output;
    return 0;
}

/* The weight type: the most common type among the layers' matrices. A type infercost has no
 * kernels for is an error unless --dtype chose one. */
static int pick_weight_type(gguf_state *s, ic_model *m, int dtype_given) {
    reader *r = &s->r;
    uint32_t best = 64;
    for (uint32_t t = 0; t < 64; t++)
        if (s->type_count[t] && (best == 64 || s->type_count[t] > s->type_count[best])) best = t;
    int known = 1;
    switch (best) {
    case IC_GGML_F32:
        m->dtype = IC_DT_F32;
        break;
    case IC_GGML_BF16:
        m->dtype = IC_DT_BF16;
        break;
    case IC_GGML_Q8_0:
        m->dtype = IC_DT_Q8_0;
        break;
    case IC_GGML_Q4_0:
        m->dtype = IC_DT_Q4_0;
        break;
    default:
        known = 0;
        m->dtype = IC_DT_Q8_0;
        break;
    }
    m->dtype_from_file = known;
    if (!known && !dtype_given) {
        if (best == 64)
            snprintf(r->err, r->errlen,
                     "%s: no layer weight tensors (blk.N.attn_*/ffn_*) to take "
                     "the weight type from; pass --dtype f32|bf16|q8_0|q4_0",
                     r->path);
        else
            snprintf(r->err, r->errlen,
                     "%s: layer weights are %s (ggml type %u), which infercost "
                     "has no kernels for; pass --dtype f32|bf16|q8_0|q4_0 to run this shape at "
                     "another type",
                     r->path, ic_ggml_type_name(best), best);
        return -1;
    }
    return 0;
}

static int parse(gguf_state *s, ic_model *m, int dtype_given) {
    uint64_t n_tensors, n_kv;
    if (read_header(s, &n_tensors, &n_kv) || read_metadata(s, n_kv) ||
        read_tensor_infos(s, n_tensors) || assemble_shape(s, m) ||
        pick_weight_type(s, m, dtype_given))
        return -1;
    snprintf(m->source, sizeof m->source, "gguf:%s", s->r.path);
    return 0;
}

/* Reads the header from f (size bytes in all; path names it) into m. */
static int model_from_stream(FILE *f, uint64_t size, const char *path, ic_model *m, int dtype_given,
                             char *err, size_t errlen) {
    gguf_state *s = calloc(1, sizeof *s);
    if (s) s->nums = calloc(MAX_KEPT, sizeof *s->nums);
    if (s == NULL || s->nums == NULL) {
        if (s) free(s);
        snprintf(err, errlen, "%s: out of memory reading the GGUF header", path);
        return -1;
    }
    s->r.f = f;
    s->r.size = size;
    s->r.path = path;
    s->r.err = err;
    s->r.errlen = errlen;
    int rc = parse(s, m, dtype_given);
    name_set_free(&s->keys);
    name_set_free(&s->tensors);
    free(s->nums);
    free(s);
    return rc;
}

int ic_gguf_model(const char *path, ic_model *m, int dtype_given, char *err, size_t errlen) {
    if (ic_input_check(path, NULL, err, errlen)) return -1;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    off_t size = fseeko(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
    if (size < 0 || fseeko(f, 0, SEEK_SET) != 0)
        snprintf(err, errlen, "%s: cannot find the file's size (not a regular file?)", path);
    else
        rc = model_from_stream(f, (uint64_t)size, path, m, dtype_given, err, errlen);
    fclose(f);
    return rc;
}

int ic_gguf_model_mem(const void *buf, size_t len, const char *label, ic_model *m, int dtype_given,
                      char *err, size_t errlen) {
    if (len == 0) {
        snprintf(err, errlen, "%s: empty: not a GGUF file", label);
        return -1;
    }
    /* A read-only stream over the buffer: the reader is the file reader, byte for byte. */
    FILE *f = fmemopen((void *)buf, len, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", label, strerror(errno));
        return -1;
    }
    int rc = model_from_stream(f, len, label, m, dtype_given, err, errlen);
    fclose(f);
    return rc;
}
