/* Model shapes: presets of published open models, custom JSON shapes, GGUF headers, and the
 * FLOP and bytes one decoded token costs. A shape is data only; nothing here allocates weights. */
#ifndef IC_MODEL_H
#define IC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ic_types.h"

/* Upper bounds a shape must respect (absurd values are refused with the field's name). They are
 * far above any published model, so that the memory planner, not the parser, decides what fits. */
#define IC_MODEL_MAX_LAYERS  4096
#define IC_MODEL_MAX_DIM     (1u << 20) /* d_model, head_dim * n_head */
#define IC_MODEL_MAX_FF      (1u << 22)
#define IC_MODEL_MAX_VOCAB   (1u << 24)
#define IC_MODEL_MAX_HEADS   4096
#define IC_MODEL_MAX_EXPERTS 1024
/* Experts a token may use: the forward pass keeps their router weights in a fixed array. */
#define IC_MODEL_MAX_EXPERTS_USED 64
/* Cap on a shape's stored weight bytes: 1 PiB, hundreds of times the largest published model in
 * f32, and low enough that every size derived from a valid shape fits in 64 bits with room. */
#define IC_MODEL_MAX_BYTES (1ull << 50)

typedef struct ic_model {
    char name[64];
    char source[288];    /* "preset", "json:FILE" or "gguf:FILE" */
    ic_dtype dtype;      /* weight type of every matrix (embedding and LM head included) */
    int dtype_from_file; /* 1 when dtype came from a GGUF file's tensor types */
    uint32_t n_layer;
    uint32_t d_model;   /* hidden size */
    uint32_t n_head;    /* query heads */
    uint32_t n_head_kv; /* key/value heads (GQA) */
    uint32_t head_dim;
    uint32_t d_ff; /* FFN inner size (per expert for MoE) */
    uint32_t n_vocab;
    double rope_theta;
    double norm_eps;
    int tied_embeddings; /* LM head shares the token embedding matrix */
    uint32_t n_expert;   /* 0 for a dense FFN */
    uint32_t n_expert_used;
} ic_model;

/* Number of presets, and preset i (NULL past the end). */
size_t ic_model_preset_count(void);
const ic_model *ic_model_preset(size_t i);

/* Fills *m from a preset name, a path ending in .json, or a path ending in .gguf. dtype is the
 * requested weight type, or -1 to keep the file's (GGUF) or use q8_0. Returns 0, or -1 with a
 * message naming the preset, file or field at fault. */
int ic_model_load(const char *spec, int dtype, ic_model *m, char *err, size_t errlen);

/* Parses a custom shape from a JSON file (see README: every field named, unknown keys refused). */
int ic_model_from_json(const char *path, ic_model *m, char *err, size_t errlen);

/* The same from JSON text in memory (len bytes, need not be terminated); where names it in
 * messages and in m->source ("json:<where>"). */
int ic_model_from_json_text(const char *text, size_t len, const char *where, ic_model *m, char *err,
                            size_t errlen);

/* Checks ranges and divisibility (heads, head_dim even, rows of the weight type's block size) and
 * that the weights' total stays under IC_MODEL_MAX_BYTES. Returns 0, or -1 naming the fields. */
int ic_model_validate(const ic_model *m, char *err, size_t errlen);

/* Elements of the weight matrices of one layer (all experts for MoE, router included). */
uint64_t ic_model_layer_params(const ic_model *m);

/* Bytes of one layer's weights as stored (matrices in dtype, RMSNorm weights in f32). */
uint64_t ic_model_layer_bytes(const ic_model *m);

/* Bytes of the weights outside the layers: embedding, final norm, and the LM head unless tied. */
uint64_t ic_model_nonlayer_bytes(const ic_model *m);

/* Bytes of every weight as stored: n_layer layers plus the weights outside them. Like every size
 * here it saturates at UINT64_MAX (harness/checked.h) instead of wrapping. */
uint64_t ic_model_total_bytes(const ic_model *m);

/* Weight bytes read per decoded token: every layer's matrices (for MoE: attention, router and
 * n_expert_used experts), the norm weights, the LM head, and one embedding row. */
uint64_t ic_model_weight_bytes_per_token(const ic_model *m);

/* Bytes of one expert's FFN (gate, up, down) as stored; the dense FFN for a dense model. */
uint64_t ic_model_expert_bytes(const ic_model *m);

/* Bytes of a KV cache of type kv (f32, f16, bf16: 4, 2, 2 bytes a value; q8_0: 34 bytes a block of
 * 32) read by one decode step over ctx cached positions (all layers). 0 when kv cannot hold a
 * head of m (q8_0 and a head_dim that is not a multiple of 32). */
uint64_t ic_model_kv_bytes(const ic_model *m, ic_dtype kv, uint64_t ctx);

/* FLOP of one decode step at context position ctx (attending over ctx + 1 positions): 2 per
 * multiply-add of every matrix the token uses, plus QK^T and AV. Elementwise ops are not counted.
 */
double ic_model_flop_per_token(const ic_model *m, uint64_t ctx);

/* FLOP of a prefill of n tokens from position 0, with the LM head for the last token only. */
double ic_model_prefill_flop(const ic_model *m, uint64_t n);

/* A one-line description: "llama-3.2-1b q8_0: 16 layers, d 2048, 32/8 heads x 64, ff 8192, ...". */
void ic_model_describe(const ic_model *m, char *out, size_t len);

#endif
