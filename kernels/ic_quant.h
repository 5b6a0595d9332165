/* Quantize and dequantize one row: f32 <-> f32, bf16, q8_0 or q4_0. */
#ifndef IC_QUANT_H
#define IC_QUANT_H

#include "ic_types.h"

/* Converts k floats into one row of the variant's type (ic_row_bytes(type, k) bytes at y).
 * k is a multiple of the type's block; ic_check_row reports when it is not. */
typedef void ic_quantize_fn(const float *x, void *y, size_t k);

/* Expands one row of k elements of the variant's type into k floats. */
typedef void ic_dequantize_fn(const void *x, float *y, size_t k);

/* Returns 0 when a row of k elements of type t is representable, otherwise -1 with a message
 * naming the type, k and the block size. */
int ic_check_row(ic_dtype t, size_t k, char *err, size_t errlen);

#endif
