/* q8_0 and q4_0 GEMV with AVX-VNNI (VEX-encoded vpdpbusd on 256-bit vectors, as on Alder Lake and
 * Zen 5 without using AVX-512): one instruction per block instead of vpmaddubsw + vpmaddwd. The
 * body is gemv_q_avx2_body.h; the q4_0 entry point ic_gemv_q4_0_avxvnni is defined here too. */
#ifndef __AVXVNNI__
#error "gemv_q8_0_avxvnni.c needs AVX-VNNI (-mavxvnni)"
#endif

#define IC_Q_DOT(a, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), (a), (s))
#define IC_Q8_FN ic_gemv_q8_0_avxvnni
#define IC_Q4_FN ic_gemv_q4_0_avxvnni
#include "gemv_q_avx2_body.h"
