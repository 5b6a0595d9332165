/* SiLU-gated multiply, the SwiGLU FFN's elementwise step: y = silu(gate) * up. */
#ifndef IC_SWIGLU_H
#define IC_SWIGLU_H

#include <stddef.h>

/* y[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for i < n. y may alias gate or up. */
typedef void ic_swiglu_fn(const float *gate, const float *up, float *y, size_t n);

#endif
