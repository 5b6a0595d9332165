/* AVX-VNNI probe loop: the VEX-encoded vpdpbusd on ymm (Alder Lake and later, Zen 5), 32 u8 x s8
 * products accumulated per instruction. */
#if !defined(__AVXVNNI__)
#error "probe_avxvnni.c needs -mavxvnni (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

double ic_probe_dot_int8_avxvnni(uint64_t iters, double *ops_per_iter) {
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
    /* Chains that start apart, held in registers by the empty asm: equal chains on equal inputs
     * are merged by the compiler into one, and the loop then times one latency-bound chain while
     * counting twelve; without the asm GCC 12 rotates them through copies and spills
     * (tests/probe_chains_test.py). */
    __m256i c0 = _mm256_set1_epi32(0), c1 = _mm256_set1_epi32(1), c2 = _mm256_set1_epi32(2),
            c3 = _mm256_set1_epi32(3), c4 = _mm256_set1_epi32(4), c5 = _mm256_set1_epi32(5),
            c6 = _mm256_set1_epi32(6), c7 = _mm256_set1_epi32(7), c8 = _mm256_set1_epi32(8),
            c9 = _mm256_set1_epi32(9), c10 = _mm256_set1_epi32(10), c11 = _mm256_set1_epi32(11);
    for (uint64_t i = 0; i < iters; i++) {
        c0 = _mm256_dpbusd_avx_epi32(c0, a, b);
        c1 = _mm256_dpbusd_avx_epi32(c1, a, b);
        c2 = _mm256_dpbusd_avx_epi32(c2, a, b);
        c3 = _mm256_dpbusd_avx_epi32(c3, a, b);
        c4 = _mm256_dpbusd_avx_epi32(c4, a, b);
        c5 = _mm256_dpbusd_avx_epi32(c5, a, b);
        c6 = _mm256_dpbusd_avx_epi32(c6, a, b);
        c7 = _mm256_dpbusd_avx_epi32(c7, a, b);
        c8 = _mm256_dpbusd_avx_epi32(c8, a, b);
        c9 = _mm256_dpbusd_avx_epi32(c9, a, b);
        c10 = _mm256_dpbusd_avx_epi32(c10, a, b);
        c11 = _mm256_dpbusd_avx_epi32(c11, a, b);
        __asm__(""
                : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7),
                  "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
    }
    *ops_per_iter = 12.0 * 32 * 2;
    __m256i s =
        _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                         _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
    s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c8, c9), _mm256_add_epi32(c10, c11)));
    int out[8];
    _mm256_storeu_si256((__m256i *)out, s);
    return (double)out[0];
}
