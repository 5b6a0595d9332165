/* q8_0 GEMV with AVX2: the integer dot product of a block is vpmaddubsw (unsigned |x| by the
 * sign-adjusted weight, pairs summed to int16 without overflow: 2 * 127 * 127 < 32767) and
 * vpmaddwd by ones. The floor for any x86-64 instance. Body: gemv_q_avx2_body.h. */
#ifndef __AVX2__
#error "gemv_q8_0_avx2.c needs AVX2 (-mavx2 -mfma -mf16c)"
#endif

#define IC_Q_DOT(a, s) _mm256_madd_epi16(_mm256_maddubs_epi16((a), (s)), _mm256_set1_epi16(1))
#define IC_Q8_FN       ic_gemv_q8_0_avx2
#include "gemv_q_avx2_body.h"
