/* Rotary position embedding, in place, Llama convention. */
#ifndef IC_ROPE_H
#define IC_ROPE_H

#include <stddef.h>

/* Rotates n_heads heads of head_dim floats (contiguous) for position pos. Pairs are adjacent
 * elements (x[2i], x[2i+1]) rotated by pos * theta^(-2i / head_dim), as in Meta's Llama code and
 * ggml's "norm" RoPE mode. head_dim is even. No frequency scaling (Llama 3.1's long-context
 * rescaling changes the angles, not the cost). */
typedef void ic_rope_fn(float *x, size_t n_heads, size_t head_dim, size_t pos, float theta);

#endif
