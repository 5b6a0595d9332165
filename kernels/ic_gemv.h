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

/* The same product over four runs of rows: y[first[j] + i] for j < 4 and i < n. A kernel that
 * walks its rows as four streams (the x86 VNNI q8_0 and q4_0 variants) offers this entry too, so
 * that a caller handing one worker's rows out piece by piece can keep the four streams running
 * from one piece into the next instead of starting four new ones each time (harness/forward.c).
 * A variant's record holds it (ic_kernel.gemv_runs, ic_dispatch.h), or NULL. */
typedef void ic_gemv_runs_fn(const void *w, const void *x, float *y, size_t k,
                             const size_t first[4], size_t n);

/* The product for n tokens, as ic_gemm_fn (ic_gemm.h) computes it: Y[t][r] for t < n and r in
 * [row_begin, row_end), x holding n contiguous activation rows and y rows of ldy floats. Each
 * weight row is read once per 4 tokens, with no repack, which beats the repacking GEMM only for a
 * few tokens: the GEMM of the same level calls it for those. A variant's record holds it
 * (ic_kernel.gemv_tokens), or NULL. */
typedef void ic_gemv_tokens_fn(const void *w, const void *x, float *y, size_t k, size_t n,
                               size_t ldy, size_t row_begin, size_t row_end);

#endif
