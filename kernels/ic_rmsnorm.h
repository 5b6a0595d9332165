/* RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight. */
#ifndef IC_RMSNORM_H
#define IC_RMSNORM_H

#include <stddef.h>

/* Normalizes one row of n floats. x and y may alias. */
typedef void ic_rmsnorm_fn(const float *x, const float *weight, float *y, size_t n, float eps);

#endif
