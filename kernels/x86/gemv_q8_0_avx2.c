/* q8_0 and q4_0 GEMV with AVX2: the integer dot product of a block is vpmaddubsw (unsigned |x| by
 * the sign-adjusted weight, pairs summed to int16 without overflow: 2 * 127 * 127 < 32767; for
 * q4_0, 2 * 15 * 127) and vpmaddwd by ones. The floor for any x86-64 instance. Both kernels live
 * in gemv_q_avx2_body.h, shared with the AVX-VNNI file. The q4_0 entry point is defined here too,
 * under its own name, ic_gemv_q4_0_avx2. */
#ifndef __AVX2__
#error "gemv_q8_0_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif

#define IC_Q_DOT(a, s) _mm256_madd_epi16(_mm256_maddubs_epi16((a), (s)), _mm256_set1_epi16(1))
#define IC_Q8_FN ic_gemv_q8_0_avx2
#define IC_Q4_FN ic_gemv_q4_0_avx2
#include "gemv_q_avx2_body.h"
