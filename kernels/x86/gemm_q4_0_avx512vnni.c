/* q4_0 GEMM (prefill, batched decode) with AVX-512 VNNI: see gemm_q_avx512vnni_body.h. Up to
 * IC_GEMM_SMALL_MAX tokens take the streaming token path of gemv_q4_0_avx512vnni.c instead.
 * Measured on the Zen 5 VM (1 thread, 65536x2048 from DRAM): 1.9x the per-token GEMVs at n = 2,
 * 1.5-1.8x the repacking GEMM at n = 4-6, a tie at n = 8 and 12. */
#ifndef __AVX512VNNI__
#error "gemm_q4_0_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif

#define IC_GEMM_Q4 1
#define IC_GEMM_FN ic_gemm_q4_0_avx512vnni
#define IC_GEMV_FN ic_gemv_q4_0_avx512vnni
#ifndef IC_GEMM_SMALL_MAX
#define IC_GEMM_SMALL_MAX 8
#endif
#define IC_GEMM_SMALL_FN ic_gemv_tokens_q4_0_avx512vnni
#include "gemm_q_avx512vnni_body.h"
