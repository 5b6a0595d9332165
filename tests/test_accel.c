/* The accelerator model (harness/accel.h) against cases computed by hand: p5.48xlarge (8 H100),
 * trn1.32xlarge (16 Trainium), inf2.xlarge (1 Inferentia2) with llama-3.1-8b and llama-3.1-70b in
 * bf16; the catalog's rows for those types; option parsing.
 * Usage: test_accel PLATFORMS_DIR */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accel.h"
#include "catalog.h"
#include "ic_test.h"
#include "model.h"

static int rel_near(double got, double want, double rel) {
    return fabs(got - want) <= rel * fabs(want);
}

/* Hand-computed figures. llama-3.1-8b bf16 (32 layers, d 4096, 32/8 heads x 128, d_ff 14336,
 * vocab 128256, untied):
 *   per layer: q 4096x4096 + k,v 2 x 4096x1024 + o 4096x4096 + FFN 3 x 4096x14336
 *              = 218,103,808 parameters, 436,207,616 bytes + 2 norms x 4096 x 4 = 436,240,384
 *   stored:    32 x 436,240,384 + 2 x 128256x4096x2 (embedding, LM head) + 4096x4 = 16,061,054,976
 *   per token: 32 x 436,240,384 + 128256x4096x2 + one embedding row 8,192 + 16,384 = 15,010,390,016
 *   KV at ctx 128, f16: 2 x 2 x 32 layers x 8 x 128 x 128 = 16,777,216 bytes per sequence
 * p5.48xlarge, batch 1, ctx 128: the weights (15.0 GiB) fit one H100 (0.9 x 80 GiB): 8 replicas;
 *   tok/s = 8 x 3350e9 x 0.60 / (15,010,390,016 + 16,777,216) = 1070.06
 * llama-3.1-70b bf16 stored: 141,110,050,816 bytes (131.4 GiB), per token 139,008,720,896:
 *   p5.48xlarge: 2 H100 per replica (65.7 GiB each <= 72), 4 replicas, scaling 0.85:
 *     tok/s = 4 x 2 x 0.85 x 3350e9 x 0.60 / (139,008,720,896 + 41,943,040) = 98.295
 *   trn1.32xlarge: 4 chips need 32.9 GiB each > 28.8: 8 chips per replica, 2 replicas, scaling
 *     0.85^3 = 0.614125: tok/s = 2 x 8 x 0.614125 x 880.5e9 x 0.35 / 139,050,663,936 = 21.777
 *   inf2.xlarge: one 32 GiB chip cannot hold 131 GiB: does not fit.
 * inf2.xlarge, llama-3.1-8b, batch 1: 880.5e9 x 0.35 / 15,027,167,232 = 20.508 tok/s; batch 64:
 *   64 / ((15,010,390,016 + 64 x 16,777,216) / (880.5e9 x 0.35)) = 1226.25 tok/s.
 * Prefill of 512 tokens, p5.48xlarge, 8b: 8 x 989e12 x 0.40 / (prefill FLOP / 512) = 224,530.7,
 *   compute-bound: the prompt's FLOP take 18.2 ms on an H100 at 0.40, its weights 7.47 ms at
 *   3350e9 x 0.60. A prompt of 64 tokens takes 2.3 ms of FLOP and the same 7.47 ms of reading:
 *   8 x 64 / (15,010,390,016 / (3350e9 x 0.60)) = 68,560.51 tok/s, memory-bound. */
static void hand_cases(void) {
    ic_model m8, m70;
    char err[256];
    CHECK(ic_model_load("llama-3.1-8b", IC_DT_BF16, &m8, err, sizeof err) == 0, "%s", err);
    CHECK(ic_model_load("llama-3.1-70b", IC_DT_BF16, &m70, err, sizeof err) == 0, "%s", err);
    CHECK(ic_model_total_bytes(&m8) == 16061054976ull, "8b stored %llu",
          (unsigned long long)ic_model_total_bytes(&m8));
    CHECK(ic_model_total_bytes(&m70) == 141110050816ull, "70b stored");
    CHECK(ic_model_kv_bytes(&m8, IC_ACCEL_KV, 128) == 16777216ull, "kv %llu",
          (unsigned long long)ic_model_kv_bytes(&m8, IC_ACCEL_KV, 128));

    ic_chip_info h100 = {.name = "h100-sxm",
                         .arch = "cuda",
                         .peak_mem_bw_gbs = 3350,
                         .peak_bf16_tflops = 989,
                         .device_mem_gib = 80};
    ic_chip_info trn1 = {.name = "trainium1",
                         .arch = "neuron",
                         .peak_mem_bw_gbs = 880.5,
                         .peak_bf16_tflops = 190,
                         .device_mem_gib = 32};
    ic_chip_info inf2 = {.name = "inferentia2",
                         .arch = "neuron",
                         .peak_mem_bw_gbs = 880.5,
                         .peak_bf16_tflops = 190,
                         .device_mem_gib = 32};
    ic_instance_info p5 = {.type = "p5.48xlarge", .accelerators = 8};
    ic_instance_info trn = {.type = "trn1.32xlarge", .accelerators = 16};
    ic_instance_info inf = {.type = "inf2.xlarge", .accelerators = 1};
    ic_accel_params p;
    ic_accel_params_default(&p);
    ic_accel_estimate e;

    ic_accel_estimate_for(&p5, &h100, &m8, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_OK && e.tp == 1 && e.replicas == 8, "p5 8b placement %d %d", e.tp,
          e.replicas);
    CHECK(rel_near(e.decode_tok_s, 1070.06, 1e-5), "p5 8b decode %.4f", e.decode_tok_s);
    CHECK(rel_near(e.prefill_tok_s, 224530.7, 1e-5) && strcmp(e.prefill_limit, "compute") == 0,
          "p5 8b prefill %.2f", e.prefill_tok_s);
    CHECK(strcmp(e.decode_limit, "memory") == 0, "batch-1 decode is bandwidth-bound");
    ic_accel_estimate e64;
    ic_accel_estimate_for(&p5, &h100, &m8, 1, 128, 64, &p, &e64);
    CHECK(rel_near(e64.prefill_tok_s, 68560.51, 1e-6) && strcmp(e64.prefill_limit, "memory") == 0,
          "p5 8b prefill of 64 tokens reads the weights once: %.2f", e64.prefill_tok_s);
    CHECK(strcmp(e.placement, "1 replica per device x 8") == 0, "%s", e.placement);

    ic_accel_estimate_for(&p5, &h100, &m70, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_OK && e.tp == 2 && e.replicas == 4, "p5 70b placement %d %d", e.tp,
          e.replicas);
    CHECK(rel_near(e.scaling, 0.85, 1e-12), "scaling %g", e.scaling);
    CHECK(rel_near(e.decode_tok_s, 98.2951, 1e-5), "p5 70b decode %.4f", e.decode_tok_s);
    CHECK(strcmp(e.placement, "tensor parallel over 2 devices x 4") == 0, "%s", e.placement);

    ic_accel_estimate_for(&trn, &trn1, &m70, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_OK && e.tp == 8 && e.replicas == 2, "trn1 70b placement %d %d", e.tp,
          e.replicas);
    CHECK(rel_near(e.scaling, 0.614125, 1e-9), "scaling %g", e.scaling);
    CHECK(rel_near(e.decode_tok_s, 21.7772, 1e-5), "trn1 70b decode %.4f", e.decode_tok_s);
    CHECK(rel_near(e.prefill_tok_s, 5427.996, 1e-5), "trn1 70b prefill %.3f", e.prefill_tok_s);

    ic_accel_estimate_for(&trn, &trn1, &m8, 1, 128, 512, &p, &e);
    CHECK(e.tp == 1 && e.replicas == 16 && rel_near(e.decode_tok_s, 328.1257, 1e-5),
          "trn1 8b %d %d %.4f", e.tp, e.replicas, e.decode_tok_s);

    ic_accel_estimate_for(&inf, &inf2, &m70, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_DOES_NOT_FIT, "inf2.xlarge cannot hold 70b (status %d)", e.status);
    CHECK(rel_near(e.need_gib, 131.458, 1e-4) && rel_near(e.usable_gib, 28.8, 1e-9),
          "need %.3f usable %.3f", e.need_gib, e.usable_gib);

    /* 15.01 GB of weights a step and 128 KiB a cached position: a token at context 128 reads 129
     * positions of its cache, its own included, as ic_roofline counts them (20.5079 and 1226.252
     * at 128 positions, before the estimate went through ic_roofline) */
    ic_accel_estimate_for(&inf, &inf2, &m8, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_OK && rel_near(e.decode_tok_s, 20.5077, 1e-5), "inf2 8b %.4f",
          e.decode_tok_s);
    ic_accel_estimate_for(&inf, &inf2, &m8, 64, 128, 512, &p, &e);
    CHECK(rel_near(e.decode_tok_s, 1225.613, 1e-5), "inf2 8b batch 64 %.3f", e.decode_tok_s);

    /* MoE: a batch's sequences read the experts they pick between them, at most all 8 (batch 8 x
     * 2 used = 16): the dense weights and all 32 x 8 experts once, and 8 KV caches, each of the
     * 129 positions that a token at context 128 reads, its own included (ic_roofline's count).
     * Mixtral's 93 GB take 2 H100s per replica: 4 replicas at scaling 0.85, memory-bound. */
    ic_model mx;
    CHECK(ic_model_load("mixtral-8x7b", IC_DT_BF16, &mx, err, sizeof err) == 0, "%s", err);
    ic_accel_estimate_for(&p5, &h100, &mx, 8, 128, 512, &p, &e);
    const double mx_bytes = (double)ic_model_weight_bytes_per_token(&mx) +
                            32.0 * 6 * (double)ic_model_expert_bytes(&mx) +
                            8 * (double)ic_model_kv_bytes(&mx, IC_ACCEL_KV, 129);
    CHECK(e.status == IC_ACCEL_OK && e.tp == 2 && e.replicas == 4 &&
              rel_near(e.bytes_per_step, mx_bytes, 1e-12),
          "mixtral batch 8 reads every expert: %.6g bytes, want %.6g", e.bytes_per_step, mx_bytes);
    CHECK(rel_near(e.decode_tok_s, 4 * 8 * 2 * 0.85 * 3350e9 * 0.60 / mx_bytes, 1e-9) &&
              strcmp(e.decode_limit, "memory") == 0,
          "mixtral batch 8 decode %.3f", e.decode_tok_s);

    /* A user's efficiency replaces the default in proportion; the source says so. */
    CHECK(ic_accel_parse_efficiency(&p, "cuda=0.3", err, sizeof err) == 0, "%s", err);
    ic_accel_estimate_for(&p5, &h100, &m8, 1, 128, 512, &p, &e);
    CHECK(rel_near(e.decode_tok_s, 1070.06 / 2, 1e-5), "half the efficiency %.3f", e.decode_tok_s);
    CHECK(strcmp(ic_accel_decode_source(&p, IC_ACCEL_CUDA), "set by the user") == 0, "source");
    CHECK(strstr(ic_accel_prefill_source(&p, IC_ACCEL_CUDA), "Llama 3") != NULL,
          "the prefill default keeps its source");

    /* A CPU type is not modeled here; a chip without facts is said so. */
    ic_chip_info cpu = {.name = "epyc-genoa", .arch = "x86_64", .peak_mem_bw_gbs = 460.8};
    ic_instance_info c7a = {.type = "c7a.large", .vcpus = 2};
    ic_accel_estimate_for(&c7a, &cpu, &m8, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_NOT_ACCELERATOR, "CPU type");
    ic_chip_info bare = {.name = "x", .arch = "neuron", .peak_mem_bw_gbs = 100};
    ic_accel_estimate_for(&inf, &bare, &m8, 1, 128, 512, &p, &e);
    CHECK(e.status == IC_ACCEL_NO_FACTS, "no compute or memory figure");
}

static void options(void) {
    ic_accel_params p;
    char err[256];
    ic_accel_params_default(&p);
    CHECK(ic_accel_parse_efficiency(&p, "neuron=0.5,0.25", err, sizeof err) == 0, "%s", err);
    CHECK(p.decode_eff[IC_ACCEL_NEURON] == 0.5 && p.prefill_eff[IC_ACCEL_NEURON] == 0.25,
          "both figures");
    static const char *const bad[] = {"cuda",     "cuda=",     "cuda=0",    "cuda=1.5",
                                      "cuda=nan", "tpu=0.5",   "cuda=0.5,", "cuda=0.5x",
                                      "=0.5",     "cuda=-0.1", "cuda=1e300"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        CHECK(ic_accel_parse_efficiency(&p, bad[i], err, sizeof err) == -1 && err[0],
              "'%s' refused", bad[i]);
    }
    CHECK(strstr((ic_accel_parse_efficiency(&p, "tpu=0.5", err, sizeof err), err),
                 "unknown device class 'tpu'") != NULL,
          "%s", err);
    CHECK(ic_accel_parse_tp_scaling(&p, "0.9", err, sizeof err) == 0 && p.tp_per_doubling == 0.9,
          "tp scaling");
    CHECK(ic_accel_parse_tp_scaling(&p, "2", err, sizeof err) == -1, "tp scaling above 1");
}

/* The catalog's facts for the three types are the ones the hand cases use. */
static void catalog_rows(const char *dir) {
    ic_catalog cat;
    char err[1024];
    if (ic_catalog_load(&cat, dir, err, sizeof err)) {
        CHECK(0, "catalog: %s", err);
        return;
    }
    static const struct {
        const char *type, *chip;
        int n;
        double bw, tf, mem;
    } want[] = {{"p5.48xlarge", "h100-sxm", 8, 3350, 989, 80},
                {"trn1.32xlarge", "trainium1", 16, 880.5, 190, 32},
                {"inf2.xlarge", "inferentia2", 1, 880.5, 190, 32}};
    for (size_t i = 0; i < 3; i++) {
        const ic_instance_info *ii = ic_catalog_instance(&cat, want[i].type);
        const ic_chip_info *ch = ii ? ic_catalog_chip(&cat, ii->chip) : NULL;
        CHECK(ii && ch && strcmp(ii->chip, want[i].chip) == 0 && ii->accelerators == want[i].n &&
                  ch->peak_mem_bw_gbs == want[i].bw && ch->peak_bf16_tflops == want[i].tf &&
                  ch->device_mem_gib == want[i].mem,
              "catalog row of %s", want[i].type);
    }
    ic_catalog_free(&cat);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_accel PLATFORMS_DIR\n");
        return 2;
    }
    hand_cases();
    options();
    catalog_rows(argv[1]);
    return ic_test_finish("test_accel");
}
