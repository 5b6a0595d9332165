/* Softmax over one row, in place, numerically stable. */
#ifndef IC_SOFTMAX_H
#define IC_SOFTMAX_H

#include <stddef.h>

/* x[i] = exp(x[i] - max) / sum. Never produces NaN from non-NaN input: +inf entries share the
 * mass equally, and a row of only -inf becomes uniform. n >= 1. Returns the row's log-sum-exp,
 * log sum_i e^x[i] (as max + log sum), or the infinite max itself in those two cases. */
typedef float ic_softmax_fn(float *x, size_t n);

#endif
