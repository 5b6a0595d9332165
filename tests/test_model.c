/* Model shapes: presets, FLOP and bytes per token against hand-computed figures, JSON shapes. */
#define _GNU_SOURCE
#include "ic_test.h"
#include "model.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_presets(void) {
    char err[512];
    CHECK(ic_model_preset_count() == 8, "%zu presets", ic_model_preset_count());
    for (size_t i = 0; i < ic_model_preset_count(); i++) {
        ic_model m;
        const ic_model *p = ic_model_preset(i);
        for (int t = 0; t < IC_DT_COUNT; t++) {
            int rc = ic_model_load(p->name, t, &m, err, sizeof err);
            if (ic_dtype_is_weight((ic_dtype)t))
                CHECK(rc == 0, "%s %s: %s", p->name, ic_dtype_name((ic_dtype)t), err);
            else /* f16 is a KV-cache type: no weights are stored in it */
                CHECK(rc == -1 && strstr(err, "weight type"), "%s %s accepted as weights: %s",
                      p->name, ic_dtype_name((ic_dtype)t), err);
        }
    }
    ic_model m;
    CHECK(ic_model_load("llama-9", -1, &m, err, sizeof err) == -1 && strstr(err, "llama-3.2-1b"),
          "unknown preset lists the presets: %s", err);
    CHECK(ic_model_load("mixtral-8x7b", -1, &m, err, sizeof err) == 0 && m.n_expert == 8 &&
              m.n_expert_used == 2,
          "mixtral has 8 experts, 2 active");
    /* A token reads 2 of the 8 experts: per-token bytes are well under the stored bytes. */
    uint64_t stored = m.n_layer * ic_model_layer_bytes(&m) + ic_model_nonlayer_bytes(&m);
    CHECK(ic_model_weight_bytes_per_token(&m) < stored / 3, "MoE reads a fraction of weights");
}

static void test_llama_8b_counts(void) {
    char err[512];
    ic_model m;
    CHECK(ic_model_load("llama-3.1-8b", IC_DT_Q8_0, &m, err, sizeof err) == 0, "%s", err);
    /* Llama-3.1-8B: d = 4096, 32 query heads and 8 KV heads of 128, d_ff = 14336, vocab 128256,
     * 32 layers, untied embeddings.
     *   Q  4096 x 4096   = 16,777,216      K, V 1024 x 4096 = 4,194,304 each
     *   O  4096 x 4096   = 16,777,216      gate, up, down 14336 x 4096 = 58,720,256 each
     *   per layer: 2 * 16,777,216 + 2 * 4,194,304 + 3 * 58,720,256 = 218,103,808 weights
     *   LM head: 128256 x 4096 = 525,336,576 weights */
    const uint64_t layer = 2ull * 16777216 + 2ull * 4194304 + 3ull * 58720256;
    CHECK(layer == 218103808ull, "arithmetic");
    CHECK(ic_model_layer_params(&m) == layer, "layer params %llu",
          (unsigned long long)ic_model_layer_params(&m));
    /* FLOP at context 0 (the token attends to itself only):
     *   2 * (32 * 218,103,808 + 525,336,576) = 2 * 7,504,658,432 = 15,009,316,864 matrix FLOP
     *   attention: 32 layers * 2 (QK and AV) * 2 * 32 heads * 128 = 524,288 per attended position
     *   at ctx 0: 15,009,841,152; at ctx 4095 (4096 positions): + 524,288 * 4096 */
    double f0 = ic_model_flop_per_token(&m, 0);
    CHECK(f0 == 15009841152.0, "flop at ctx 0: %.0f", f0);
    double f4k = ic_model_flop_per_token(&m, 4095);
    CHECK(f4k == 15009316864.0 + 524288.0 * 4096, "flop at ctx 4095: %.0f", f4k);
    /* Prefill of 4 tokens: 4 * matrix FLOP of the layers + attention over 1+2+3+4 = 10 positions
     * + one LM head: 4 * 2 * 6,979,321,856 + 524,288 * 10 + 2 * 525,336,576. */
    double pf = ic_model_prefill_flop(&m, 4);
    CHECK(pf == 4.0 * 2 * 6979321856.0 + 524288.0 * 10 + 2.0 * 525336576, "prefill %.0f", pf);
    /* Bytes per decoded token at q8_0 (34 bytes per 32 weights):
     *   layers: 218,103,808 * 34 / 32 = 231,735,296 + two f32 norms 2 * 4096 * 4 = 32,768
     *           -> 231,768,064 * 32 = 7,416,578,048
     *   final norm 4096 * 4 = 16,384; LM head 525,336,576 * 34 / 32 = 558,170,112;
     *   one embedding row 4096 * 34 / 32 = 4,352
     *   total 7,416,578,048 + 16,384 + 558,170,112 + 4,352 = 7,974,768,896 */
    uint64_t b = ic_model_weight_bytes_per_token(&m);
    CHECK(b == 7974768896ull, "q8_0 bytes/token %llu", (unsigned long long)b);
    /* f32: 4 bytes per weight: 32 * (218,103,808 * 4 + 32,768) + 16,384 + 525,336,576 * 4
     *   + 4096 * 4 = 27,918,336,000 + 16,384 + 2,101,346,304 + 16,384 = 30,019,715,072 */
    ic_model f = m;
    f.dtype = IC_DT_F32;
    CHECK(ic_model_weight_bytes_per_token(&f) == 30019715072ull, "f32 bytes/token %llu",
          (unsigned long long)ic_model_weight_bytes_per_token(&f));
    /* q4_0 (18 bytes per 32): 218,103,808 * 18 / 32 = 122,683,392 + 32,768 = 122,716,160 * 32
     *   = 3,926,917,120; + 16,384 + 525,336,576 * 18 / 32 (= 295,501,824) + 4096 * 18 / 32 (2,304)
     *   = 4,222,437,632 */
    f.dtype = IC_DT_Q4_0;
    CHECK(ic_model_weight_bytes_per_token(&f) == 4222437632ull, "q4_0 bytes/token %llu",
          (unsigned long long)ic_model_weight_bytes_per_token(&f));
    /* KV cache read at context 4096: 32 layers * 2 (K, V) * 4096 * 8 heads * 128 * 4 bytes
     *   = 2^5 * 2 * 2^12 * 2^12 = 1,073,741,824 */
    CHECK(ic_model_kv_bytes(&m, IC_DT_F32, 4096) == 1073741824ull, "kv bytes");
    /* f16 and bf16: half of that; q8_0: each head's 128 values are 4 blocks of 34 bytes, so
     *   2^5 * 2 * 2^12 * 8 * 136 = 285,212,672 */
    CHECK(ic_model_kv_bytes(&m, IC_DT_F16, 4096) == 536870912ull, "f16 kv bytes");
    CHECK(ic_model_kv_bytes(&m, IC_DT_BF16, 4096) == 536870912ull, "bf16 kv bytes");
    CHECK(ic_model_kv_bytes(&m, IC_DT_Q8_0, 4096) == 285212672ull, "q8_0 kv bytes %llu",
          (unsigned long long)ic_model_kv_bytes(&m, IC_DT_Q8_0, 4096));
    /* Stored weights: untied, so embedding + LM head are two 558,170,112-byte tables. */
    CHECK(ic_model_nonlayer_bytes(&m) == 2ull * 558170112 + 16384, "non-layer bytes");
}

static void test_json(void) {
    char dir[] = "/tmp/ic_test_modelXXXXXX", path[256], err[512];
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp");
        return;
    }
    snprintf(path, sizeof path, "%s/m.json", dir);
    ic_model m;
    write_file(path, "{\"name\": \"tiny\", \"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, "
                     "\"n_head_kv\": 2, \"d_ff\": 96, \"n_vocab\": 100, \"rope_theta\": 10000}");
    CHECK(ic_model_load(path, -1, &m, err, sizeof err) == 0, "valid json: %s", err);
    CHECK(m.head_dim == 16 && m.dtype == IC_DT_Q8_0 && !m.tied_embeddings && m.n_head_kv == 2,
          "defaults: head_dim %u", m.head_dim);
    const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100}",
         "missing field 'rope_theta'"},
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4, \"n_layers\": 3}",
         "unknown field 'n_layers'"},
        {"{\"n_layer\": \"2\", \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4}",
         "field 'n_layer' must be a non-negative integer"},
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": -1, "
         "\"rope_theta\": 1e4}",
         "field 'n_vocab'"},
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"n_head_kv\": 3, \"d_ff\": 96, "
         "\"n_vocab\": 100, \"rope_theta\": 1e4}",
         "n_head_kv = 3 does not divide"},
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 100, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4}",
         "d_ff = 100 is not a multiple of q8_0"},
        {"{\"n_layer\": 2, \"d_model\": 4000000000, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4}",
         "d_model = 4000000000 is out of range"},
        {"{\"n_layer\": 0, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4}",
         "n_layer = 0 is out of range"},
        {"{\"n_layer\": 2, \"d_model\": 64, \"n_head\": 4, \"d_ff\": 96, \"n_vocab\": 100, "
         "\"rope_theta\": 1e4, \"n_expert\": 8, \"n_expert_used\": 9}",
         "n_expert_used = 9"},
        {"[1, 2]", "expected a JSON object"},
        {"{\"n_layer\": 2,", "m.json:1:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        err[0] = '\0';
        int rc = ic_model_load(path, -1, &m, err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad[i].want) != NULL, "bad json %zu: want '%s', got '%s'", i,
              bad[i].want, err);
    }
    /* Weight bytes past 2^64 in f32: every field is in range, the sum of products is not. */
    write_file(path, "{\"n_layer\":1142,\"d_model\":524289,\"n_head\":4,\"n_head_kv\":1,"
                     "\"head_dim\":2,\"d_ff\":3541307,\"n_vocab\":1,\"rope_theta\":10000,"
                     "\"n_expert\":725,\"n_expert_used\":1,\"tied_embeddings\":true}");
    err[0] = '\0';
    CHECK(ic_model_load(path, IC_DT_F32, &m, err, sizeof err) == -1 && strstr(err, "weights of") &&
              strstr(err, "n_layer") && strstr(err, "n_expert"),
          "wrapping shape refused with its fields named: %s", err);
    /* Every field at its own maximum is refused too: 2^58 bytes, over the cap on total bytes. */
    write_file(path, "{\"n_layer\":4096,\"d_model\":1048576,\"n_head\":4096,\"d_ff\":4194304,"
                     "\"n_vocab\":16777216,\"rope_theta\":10000}");
    err[0] = '\0';
    CHECK(ic_model_load(path, IC_DT_F32, &m, err, sizeof err) == -1 && strstr(err, "weights of"),
          "largest fields at once refused: %s", err);
    snprintf(path, sizeof path, "%s/none.json", dir);
    CHECK(ic_model_load(path, -1, &m, err, sizeof err) == -1 && strstr(err, "none.json"),
          "missing file named: %s", err);
    snprintf(path, sizeof path, "%s/m.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    test_presets();
    test_llama_8b_counts();
    test_json();
    return ic_test_finish("test_model");
}
