/* A GGUF (v2/v3) header reader: metadata key/values and tensor infos, never tensor data. Every
 * length and count read from the file is checked against the bytes left and against fixed caps,
 * so a truncated or hostile file gives an error message, not a crash or a huge allocation. */
#ifndef IC_GGUF_H
#define IC_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Caps on what one header may declare. */
#define IC_GGUF_MAX_STRING  (1u << 20) /* bytes in one string value */
#define IC_GGUF_MAX_KEY     65535u     /* bytes in one key or tensor name */
#define IC_GGUF_MAX_KV      (1u << 20) /* metadata pairs */
#define IC_GGUF_MAX_TENSORS (1u << 20)
#define IC_GGUF_MAX_ARRAY   (1u << 26) /* elements in one array value */
#define IC_GGUF_MAX_DIMS    4

/* ggml tensor types this reader names (the numbering of ggml.h). */
enum {
    IC_GGML_F32 = 0,
    IC_GGML_F16 = 1,
    IC_GGML_Q4_0 = 2,
    IC_GGML_Q8_0 = 8,
    IC_GGML_BF16 = 30,
};

/* ggml's name for a tensor type ("q4_K"), or "unknown". */
const char *ic_ggml_type_name(uint32_t type);

/* Reads the shape of the model in a GGUF file: general.architecture, then <arch>.block_count,
 * .embedding_length, .attention.head_count(_kv), .attention.key_length (else d / heads),
 * .feed_forward_length, .rope.freq_base, .attention.layer_norm_rms_epsilon, .expert_count,
 * .expert_used_count; the vocabulary from token_embd.weight (else <arch>.vocab_size, else
 * tokenizer.ggml.tokens); tied
 * embeddings when there is no output.weight; the weight type from the attention and FFN
 * matrices. When dtype_given is 0 the weight type must be one infercost has kernels for.
 * Returns 0, or -1 with a message naming the file, the byte offset or the key at fault. */
int ic_gguf_model(const char *path, ic_model *m, int dtype_given, char *err, size_t errlen);

/* The same from a header in memory (len bytes; label names it in messages and in m->source). */
int ic_gguf_model_mem(const void *buf, size_t len, const char *label, ic_model *m, int dtype_given,
                      char *err, size_t errlen);

#endif
