/* AVX-512 VNNI probe loop: vpdpbusd on zmm, 64 u8 x s8 products accumulated per instruction. */
#if !defined(__AVX512VNNI__)
#error "probe_avx512vnni.c needs -mavx512vnni (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

double ic_probe_dot_int8_avx512vnni(uint64_t iters, double *ops_per_iter) {
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    /* Sixteen chains that start apart, held in registers by the empty asm: equal chains on equal
     * inputs are merged by the compiler into one (the loop then times one latency-bound chain
     * while counting them all), and without the asm GCC 12 rotates them through copies
     * (tests/probe_chains_test.py). Sixteen, not twelve: twelve fall short of this instruction's
     * latency times its two pipes on Zen 5 (bf16: 383 against 428 GFLOP/s a core). */
    __m512i c0 = _mm512_set1_epi32(0), c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2),
            c3 = _mm512_set1_epi32(3), c4 = _mm512_set1_epi32(4), c5 = _mm512_set1_epi32(5),
            c6 = _mm512_set1_epi32(6), c7 = _mm512_set1_epi32(7), c8 = _mm512_set1_epi32(8),
            c9 = _mm512_set1_epi32(9), c10 = _mm512_set1_epi32(10), c11 = _mm512_set1_epi32(11),
            c12 = _mm512_set1_epi32(12), c13 = _mm512_set1_epi32(13), c14 = _mm512_set1_epi32(14),
            c15 = _mm512_set1_epi32(15);
    for (uint64_t i = 0; i < iters; i++) {
        c0 = _mm512_dpbusd_epi32(c0, a, b);
        c1 = _mm512_dpbusd_epi32(c1, a, b);
        c2 = _mm512_dpbusd_epi32(c2, a, b);
        c3 = _mm512_dpbusd_epi32(c3, a, b);
        c4 = _mm512_dpbusd_epi32(c4, a, b);
        c5 = _mm512_dpbusd_epi32(c5, a, b);
        c6 = _mm512_dpbusd_epi32(c6, a, b);
        c7 = _mm512_dpbusd_epi32(c7, a, b);
        c8 = _mm512_dpbusd_epi32(c8, a, b);
        c9 = _mm512_dpbusd_epi32(c9, a, b);
        c10 = _mm512_dpbusd_epi32(c10, a, b);
        c11 = _mm512_dpbusd_epi32(c11, a, b);
        c12 = _mm512_dpbusd_epi32(c12, a, b);
        c13 = _mm512_dpbusd_epi32(c13, a, b);
        c14 = _mm512_dpbusd_epi32(c14, a, b);
        c15 = _mm512_dpbusd_epi32(c15, a, b);
        __asm__(""
                : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7));
        __asm__(""
                : "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11), "+v"(c12), "+v"(c13), "+v"(c14),
                  "+v"(c15));
    }
    *ops_per_iter = 16.0 * 64 * 2;
    __m512i s = _mm512_add_epi32(
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                         _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7))),
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)),
                         _mm512_add_epi32(_mm512_add_epi32(c12, c13), _mm512_add_epi32(c14, c15))));
    uint32_t lanes[16], t = 0;
    _mm512_storeu_si512(lanes, s);
    for (int j = 0; j < 16; j++) t += lanes[j]; /* unsigned: wraps without undefined behaviour */
    return (double)t;
}
