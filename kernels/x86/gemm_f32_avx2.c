/* f32 GEMM at the avx2 level: ic_gemv_f32_avx2 per token over L2-sized blocks of weight rows
 * (gemm_by_gemv.h), so prefill and batched decode have a vector path on every x86-64 instance. */
#ifndef __AVX2__
#error "gemm_f32_avx2.c needs avx2 (see cmake/isa.cmake)"
#endif

#include "gemm_by_gemv.h"

void ic_gemm_f32_avx2(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t row_begin, size_t row_end) {
    ic_x86_gemm_by_gemv(ic_gemv_f32_avx2, IC_DT_F32, IC_DT_F32, w, x, y, k, n, ldy, row_begin,
                        row_end);
}
