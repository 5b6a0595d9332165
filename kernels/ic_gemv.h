/* GEMV: the decode-time matrix-vector product, y = W x, over a range of W's rows. */
#ifndef IC_GEMV_H
#define IC_GEMV_H

#include "ic_types.h"

/* y[r] = sum_j W[r][j] * x[j] for r in [row_begin, row_end).
 * w: the whole matrix, row-major; row r starts at r * ic_row_bytes(wtype, k) bytes.
 * x: one activation row of k elements in the variant's activation type (f32, or q8_0 blocks for
 *    the integer paths). y: indexed by absolute row. k is a multiple of the weight type's block.
 * The caller owns all memory; the kernel allocates nothing. */
typedef void ic_gemv_fn(const void *w, const void *x, float *y, size_t k, size_t row_begin,
                        size_t row_end);

#endif
