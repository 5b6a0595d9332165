#define _GNU_SOURCE
/* The GGUF header reader: a valid file is read; truncated, wrong-magic, hostile and absurd ones
 * give a clear error (and never crash: every prefix of the valid file is tried). */
#include "gguf.h"
#include "ic_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A growable byte buffer that writes GGUF's little-endian fields. */
typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) abort();
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void u32(buf *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, x, 4);
}
static void u64(buf *b, uint64_t v) {
    u32(b, (uint32_t)v);
    u32(b, (uint32_t)(v >> 32));
}
static void str(buf *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void kv_u32(buf *b, const char *k, uint32_t v) {
    str(b, k);
    u32(b, 4);
    u32(b, v);
}
static void kv_u64(buf *b, const char *k, uint64_t v) {
    str(b, k);
    u32(b, 10);
    u64(b, v);
}
static void kv_f32(buf *b, const char *k, float v) {
    uint32_t x;
    memcpy(&x, &v, 4);
    str(b, k);
    u32(b, 6);
    u32(b, x);
}
static void tensor(buf *b, const char *name, uint64_t d0, uint64_t d1, uint32_t type) {
    str(b, name);
    u32(b, 2);
    u64(b, d0);
    u64(b, d1);
    u32(b, type);
    u64(b, 0);
}

/* Options for the generated file. */
typedef struct {
    const char *magic;
    uint32_t version;
    uint64_t d_model;       /* written as u64 */
    uint32_t weight_type;   /* ggml type of the layer matrices */
    int with_output;        /* untied LM head */
    uint64_t n_kv_override; /* 0: the true count */
    uint64_t tokens_len;    /* declared length of tokenizer.ggml.tokens */
} spec;

static buf make(spec s) {
    buf b = {0};
    put(&b, s.magic, 4);
    u32(&b, s.version);
    uint32_t n_tensors = 3 + (s.with_output ? 1 : 0);
    u64(&b, n_tensors);
    u64(&b, s.n_kv_override ? s.n_kv_override : 10);
    str(&b, "general.architecture");
    u32(&b, 8);
    str(&b, "llama");
    kv_u32(&b, "llama.block_count", 2);
    kv_u64(&b, "llama.embedding_length", s.d_model);
    kv_u32(&b, "llama.attention.head_count", 4);
    kv_u32(&b, "llama.attention.head_count_kv", 2);
    kv_u32(&b, "llama.feed_forward_length", 128);
    kv_f32(&b, "llama.rope.freq_base", 500000.0f);
    kv_f32(&b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    str(&b, "general.name"); /* a string value the reader skips */
    u32(&b, 8);
    str(&b, "tiny test model");
    str(&b, "tokenizer.ggml.tokens"); /* an array of strings */
    u32(&b, 9);
    u32(&b, 8);
    u64(&b, s.tokens_len);
    for (uint64_t i = 0; i < 3 && i < s.tokens_len; i++) str(&b, i == 0 ? "<s>" : "tok");
    tensor(&b, "token_embd.weight", 64, 100, 8);
    tensor(&b, "blk.0.attn_q.weight", 64, 64, s.weight_type);
    tensor(&b, "blk.0.ffn_down.weight", 128, 64, s.weight_type);
    if (s.with_output) tensor(&b, "output.weight", 64, 100, s.weight_type);
    return b;
}

/* A header with a full shape (MoE keys included) and no tensors but the embedding. */
static buf make_shape(uint32_t n_layer, uint32_t d_model, uint32_t n_head, uint32_t n_head_kv,
                      uint32_t key_length, uint32_t d_ff, uint64_t n_vocab, uint32_t n_expert,
                      uint32_t n_expert_used) {
    buf b = {0};
    put(&b, "GGUF", 4);
    u32(&b, 3);
    u64(&b, 1);
    u64(&b, 10);
    str(&b, "general.architecture");
    u32(&b, 8);
    str(&b, "llama");
    kv_u32(&b, "llama.block_count", n_layer);
    kv_u32(&b, "llama.embedding_length", d_model);
    kv_u32(&b, "llama.attention.head_count", n_head);
    kv_u32(&b, "llama.attention.head_count_kv", n_head_kv);
    kv_u32(&b, "llama.attention.key_length", key_length);
    kv_u32(&b, "llama.feed_forward_length", d_ff);
    kv_u32(&b, "llama.expert_count", n_expert);
    kv_u32(&b, "llama.expert_used_count", n_expert_used);
    kv_f32(&b, "llama.rope.freq_base", 10000.0f);
    tensor(&b, "token_embd.weight", d_model, n_vocab, 0);
    return b;
}

static char g_dir[] = "/tmp/ic_test_ggufXXXXXX";

static int load(const buf *b, size_t len, int dtype_given, ic_model *m, char *err, size_t errlen) {
    char path[256];
    snprintf(path, sizeof path, "%s/t.gguf", g_dir);
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -2;
    fwrite(b->p, 1, len, f);
    fclose(f);
    int rc = ic_gguf_model(path, m, dtype_given, err, errlen);
    unlink(path);
    return rc;
}

static const spec good = {"GGUF", 3, 64, 8, 0, 0, 3};

static void expect_error(spec s, int dtype_given, const char *want, const char *what) {
    buf b = make(s);
    ic_model m;
    char err[512] = "";
    int rc = load(&b, b.n, dtype_given, &m, err, sizeof err);
    CHECK(rc == -1 && strstr(err, want) != NULL, "%s: want '%s', got rc %d '%s'", what, want, rc,
          err);
    free(b.p);
}

int main(void) {
    if (mkdtemp(g_dir) == NULL) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    char err[512];
    ic_model m;
    buf b = make(good);
    int rc = load(&b, b.n, 0, &m, err, sizeof err);
    CHECK(rc == 0, "valid file: %s", err);
    if (rc == 0) {
        CHECK(m.n_layer == 2 && m.d_model == 64 && m.n_head == 4 && m.n_head_kv == 2 &&
                  m.head_dim == 16 && m.d_ff == 128 && m.n_vocab == 100,
              "shape %u %u %u %u %u %u %u", m.n_layer, m.d_model, m.n_head, m.n_head_kv, m.head_dim,
              m.d_ff, m.n_vocab);
        CHECK(m.rope_theta == 500000.0 && m.tied_embeddings && m.dtype == IC_DT_Q8_0 &&
                  m.dtype_from_file,
              "theta %g tied %d dtype %d", m.rope_theta, m.tied_embeddings, m.dtype);
        CHECK(strncmp(m.source, "gguf:", 5) == 0, "source %s", m.source);
        CHECK(ic_model_validate(&m, err, sizeof err) == 0, "validates: %s", err);
    }
    /* The same header from memory reads the same shape, named by its label. */
    ic_model mm;
    rc = ic_gguf_model_mem(b.p, b.n, "mem.gguf", &mm, 0, err, sizeof err);
    CHECK(rc == 0 && mm.n_layer == m.n_layer && mm.d_model == m.d_model &&
              mm.n_vocab == m.n_vocab && mm.dtype == m.dtype &&
              strcmp(mm.source, "gguf:mem.gguf") == 0,
          "from memory: %s", err);
    CHECK(ic_gguf_model_mem(b.p, b.n / 2, "half.gguf", &mm, 0, err, sizeof err) == -1 &&
              strstr(err, "half.gguf") != NULL,
          "a truncated header from memory: %s", err);
    CHECK(ic_gguf_model_mem(b.p, 0, "empty.gguf", &mm, 0, err, sizeof err) == -1,
          "an empty buffer");
    /* Version 2 reads the same. An untied q4_0 model. */
    spec s = good;
    s.version = 2;
    s.with_output = 1;
    s.weight_type = 2;
    buf b2 = make(s);
    CHECK(load(&b2, b2.n, 0, &m, err, sizeof err) == 0 && !m.tied_embeddings &&
              m.dtype == IC_DT_Q4_0,
          "v2 untied q4_0: %s", err);
    free(b2.p);

    /* Every proper prefix of the valid file is truncated: an error that says so, no crash. */
    int all_ok = 1;
    for (size_t len = 0; len < b.n; len++) {
        err[0] = '\0';
        rc = load(&b, len, 0, &m, err, sizeof err);
        if (rc != -1 ||
            (strstr(err, "truncated") == NULL && strstr(err, "more than the file") == NULL &&
             strstr(err, "magic") == NULL)) {
            CHECK(0, "prefix of %zu bytes: rc %d '%s'", len, rc, err);
            all_ok = 0;
            break;
        }
    }
    if (all_ok) PASS();
    free(b.p);

    s = good;
    s.magic = "GGML";
    expect_error(s, 0, "not a GGUF file", "wrong magic");
    s = good;
    s.version = 1;
    expect_error(s, 0, "GGUF version 1 is not supported", "version 1");
    s = good;
    s.d_model = 1ull << 40;
    expect_error(s, 0, "'llama.embedding_length' = 1099511627776 is absurd", "absurd d_model");
    s = good;
    s.n_kv_override = 1ull << 60;
    expect_error(s, 0, "metadata pairs", "absurd metadata count");
    s = good;
    s.tokens_len = 1ull << 40;
    expect_error(s, 0, "array at byte", "absurd array length");
    s = good;
    s.tokens_len = 1000; /* declared longer than the file holds */
    expect_error(s, 0, "truncated", "array past the end");
    s = good;
    s.weight_type = 12; /* q4_K: no kernels; fine when --dtype is given */
    expect_error(s, 0, "q4_K (ggml type 12)", "unsupported weight type");
    buf b3 = make(s);
    CHECK(load(&b3, b3.n, 1, &m, err, sizeof err) == 0, "q4_K with --dtype: %s", err);
    free(b3.p);

    /* Random corruption: flip bytes of the valid file; every result is a clean accept or a
     * clean error (run under the sanitizer build, this is a small fuzzer). */
    ic_test_rng rng = {2024};
    buf fz = make(good);
    int fuzz_ok = 1;
    for (int i = 0; i < 3000 && fuzz_ok; i++) {
        buf c = {0};
        put(&c, fz.p, fz.n);
        int flips = 1 + (int)(ic_test_next(&rng) % 4);
        for (int j = 0; j < flips; j++)
            c.p[ic_test_next(&rng) % c.n] = (unsigned char)ic_test_next(&rng);
        err[0] = '\0';
        rc = load(&c, c.n, 0, &m, err, sizeof err);
        if (!(rc == 0 || (rc == -1 && err[0] != '\0'))) {
            CHECK(0, "fuzz case %d: rc %d with no message", i, rc);
            fuzz_ok = 0;
        }
        free(c.p);
    }
    if (fuzz_ok) PASS();
    free(fz.p);

    /* A string whose length is absurd. */
    buf h = {0};
    put(&h, "GGUF", 4);
    u32(&h, 3);
    u64(&h, 0);
    u64(&h, 1);
    u64(&h, 1ull << 62);
    CHECK(load(&h, h.n, 0, &m, err, sizeof err) == -1 && strstr(err, "above the cap"),
          "absurd key length: %s", err);
    free(h.p);

    /* A header whose weights wrap past 2^64 (every field in range) is refused by the loader
     * with the fields named, before anything is sized or mapped. */
    buf w = make_shape(1142, 524289, 4, 1, 2, 3541307, 1, 725, 1);
    char wpath[256];
    snprintf(wpath, sizeof wpath, "%s/wrap.gguf", g_dir);
    FILE *wf = fopen(wpath, "wb");
    if (wf) {
        fwrite(w.p, 1, w.n, wf);
        fclose(wf);
    }
    err[0] = '\0';
    CHECK(ic_model_load(wpath, IC_DT_F32, &m, err, sizeof err) == -1 && strstr(err, "weights of") &&
              strstr(err, "n_expert"),
          "wrapping GGUF shape refused: %s", err);
    unlink(wpath);
    free(w.p);

    CHECK(ic_gguf_model("/nonexistent/x.gguf", &m, 0, err, sizeof err) == -1 &&
              strstr(err, "/nonexistent/x.gguf"),
          "missing file: %s", err);
    rmdir(g_dir);
    return ic_test_finish("test_gguf");
}
