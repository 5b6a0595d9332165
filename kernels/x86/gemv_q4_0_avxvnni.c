/* q4_0 GEMV with AVX-VNNI (VEX-encoded vpdpbusd on 256-bit vectors, as on Alder Lake and Zen 5
 * without AVX-512): one instruction per block instead of vpmaddubsw + vpmaddwd. Body:
 * gemv_q_avx2_body.h. */
#ifndef __AVXVNNI__
#error "gemv_q4_0_avxvnni.c needs AVX-VNNI (-mavxvnni)"
#endif

#define IC_Q_DOT(a, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), (a), (s))
#define IC_Q4_FN       ic_gemv_q4_0_avxvnni
#include "gemv_q_avx2_body.h"
