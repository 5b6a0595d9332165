/* GEMM: prefill and batched decode, Y = X W^T for n activation rows, over a range of W's rows. */
#ifndef IC_GEMM_H
#define IC_GEMM_H

#include "ic_types.h"

/* Y[t][r] = sum_j W[r][j] * X[t][j] for t < n and r in [row_begin, row_end).
 * w: row-major as for GEMV. x: n activation rows of k elements in the variant's activation type,
 * contiguous (row t at t * ic_row_bytes(atype, k) bytes). y: n rows of ldy floats, indexed by
 * absolute weight row, so threads splitting the weight rows write disjoint columns. */
typedef void ic_gemm_fn(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                        size_t row_begin, size_t row_end);

#endif
