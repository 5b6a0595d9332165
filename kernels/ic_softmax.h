/* Softmax over one row, in place, numerically stable. */
#ifndef IC_SOFTMAX_H
#define IC_SOFTMAX_H

#include <stddef.h>

/* x[i] = exp(x[i] - max) / sum. Never produces NaN from non-NaN input: +inf entries share the
 * mass equally, and a row of only -inf becomes uniform. n >= 1. */
typedef void ic_softmax_fn(float *x, size_t n);

#endif
