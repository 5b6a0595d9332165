/* q8_0 GEMM (prefill, batched decode) with AVX-512 VNNI: see gemm_q_avx512vnni_body.h. */
#ifndef __AVX512VNNI__
#error "gemm_q8_0_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif

#define IC_GEMM_Q4 0
#define IC_GEMM_FN ic_gemm_q8_0_avx512vnni
#define IC_GEMV_FN ic_gemv_q8_0_avx512vnni
#include "gemm_q_avx512vnni_body.h"
