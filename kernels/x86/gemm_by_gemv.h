/* GEMM as a GEMV per token over blocks of weight rows sized to half the L2, so each block is read
 * from memory once for all n tokens and then served from cache. The AVX2 / AVX-VNNI GEMM floor:
 * it reuses those levels' tested GEMV kernels and adds no arithmetic of its own. Internal to
 * kernels/x86/. */
#ifndef IC_X86_GEMM_BY_GEMV_H
#define IC_X86_GEMM_BY_GEMV_H

#include <assert.h>

#include "../ic_dispatch.h"
#include "x86_util.h"

static inline void ic_x86_gemm_by_gemv(ic_gemv_fn *gemv, ic_dtype wtype, ic_dtype atype,
                                       const void *w, const void *x, float *y, size_t k, size_t n,
                                       size_t ldy, size_t row_begin, size_t row_end) {
    const size_t wrow = ic_row_bytes(wtype, k), xrow = ic_row_bytes(atype, k);
    assert(wrow > 0 && xrow > 0 && row_begin <= row_end);
    size_t rows = ic_x86_l2_bytes() / 2 / wrow;
    if (rows < 4) rows = 4;
    for (size_t b = row_begin; b < row_end; b += rows) {
        size_t e = row_end - b > rows ? b + rows : row_end;
        for (size_t t = 0; t < n; t++)
            gemv(w, (const unsigned char *)x + t * xrow, y + t * ldy, k, b, e);
    }
}

#endif
