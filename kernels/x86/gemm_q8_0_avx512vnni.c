/* q8_0 GEMM (prefill, batched decode) with AVX-512 VNNI: see gemm_q_avx512vnni_body.h. Up to
 * IC_GEMM_SMALL_MAX tokens take the streaming token path of gemv_q8_0_avx512vnni.c instead, which
 * reads each weight row whole, once per 4 tokens, with no repack. Measured on the Zen 5 VM (1
 * thread, weights from DRAM, 65536x2048 and 16384x8192): 1.7-2.4x the previous small-n paths
 * at n = 2-4, 1.06-1.5x the repacking GEMM at n = 8, a tie or a loss from n = 12; in the model
 * (llama-3.2-1b, 2 threads) batch 4 went from ~40 to 73-87 tok/s. */
#ifndef __AVX512VNNI__
#error "gemm_q8_0_avx512vnni.c needs AVX-512 VNNI (-mavx512vnni)"
#endif

#define IC_GEMM_Q4 0
#define IC_GEMM_FN ic_gemm_q8_0_avx512vnni
#define IC_GEMV_FN ic_gemv_q8_0_avx512vnni
#ifndef IC_GEMM_SMALL_MAX
#define IC_GEMM_SMALL_MAX 8
#endif
#define IC_GEMM_SMALL_FN ic_gemv_tokens_q8_0_avx512vnni
#include "gemm_q_avx512vnni_body.h"
