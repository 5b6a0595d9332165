/* AVX-512 VNNI probe loop: vpdpbusd on zmm, 64 u8 x s8 products accumulated per instruction. */
#if !defined(__AVX512VNNI__)
#error "probe_avx512vnni.c needs -mavx512vnni (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

double ic_probe_dot_int8_avx512vnni(uint64_t iters, double *ops_per_iter) {
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
            c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
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
    }
    *ops_per_iter = 12.0 * 64 * 2;
    __m512i s =
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                         _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
    uint32_t lanes[16], t = 0;
    _mm512_storeu_si512(lanes, s);
    for (int j = 0; j < 16; j++) t += lanes[j]; /* unsigned: wraps without undefined behaviour */
    return (double)t;
}
