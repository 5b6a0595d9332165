/* q4_0 GEMV and GEMM over 16-row panels (IC_LAYOUT_PANEL16) with AVX-512 VNNI: see
 * p16_q_avx512vnni_body.h. One function serves decode (one token), batched decode and prefill. */
#ifndef __AVX512VNNI__
#error "gemm_q4_0_p16_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif

#define IC_P16_Q4      1
#define IC_P16_GEMV_FN ic_gemv_q4_0_p16_avx512vnni
#define IC_P16_GEMM_FN ic_gemm_q4_0_p16_avx512vnni
#include "p16_q_avx512vnni_body.h"
