/* AVX-512 BF16 probe loop: vdpbf16ps on zmm, 32 bf16 pairs multiplied and accumulated into 16
 * floats per instruction. */
#if !defined(__AVX512BF16__)
#error "probe_avx512bf16.c needs -mavx512bf16 (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

double ic_probe_dot_bf16_avx512bf16(uint64_t iters, double *ops_per_iter) {
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);
    /* Sixteen chains that start apart, held in registers by the empty asm: equal chains on equal
     * inputs are merged by the compiler into one (the loop then times one latency-bound chain
     * while counting them all), and without the asm GCC 12 rotates them through copies
     * (tests/probe_chains_test.py). Sixteen, not twelve: twelve fall short of this instruction's
     * latency times its two pipes on Zen 5 (bf16: 383 against 428 GFLOP/s a core). */
    __m512 c0 = _mm512_set1_ps(0.f), c1 = _mm512_set1_ps(1.f), c2 = _mm512_set1_ps(2.f),
           c3 = _mm512_set1_ps(3.f), c4 = _mm512_set1_ps(4.f), c5 = _mm512_set1_ps(5.f),
           c6 = _mm512_set1_ps(6.f), c7 = _mm512_set1_ps(7.f), c8 = _mm512_set1_ps(8.f),
           c9 = _mm512_set1_ps(9.f), c10 = _mm512_set1_ps(10.f), c11 = _mm512_set1_ps(11.f),
           c12 = _mm512_set1_ps(12.f), c13 = _mm512_set1_ps(13.f), c14 = _mm512_set1_ps(14.f),
           c15 = _mm512_set1_ps(15.f);
    for (uint64_t i = 0; i < iters; i++) {
        c0 = _mm512_dpbf16_ps(c0, a, b);
        c1 = _mm512_dpbf16_ps(c1, a, b);
        c2 = _mm512_dpbf16_ps(c2, a, b);
        c3 = _mm512_dpbf16_ps(c3, a, b);
        c4 = _mm512_dpbf16_ps(c4, a, b);
        c5 = _mm512_dpbf16_ps(c5, a, b);
        c6 = _mm512_dpbf16_ps(c6, a, b);
        c7 = _mm512_dpbf16_ps(c7, a, b);
        c8 = _mm512_dpbf16_ps(c8, a, b);
        c9 = _mm512_dpbf16_ps(c9, a, b);
        c10 = _mm512_dpbf16_ps(c10, a, b);
        c11 = _mm512_dpbf16_ps(c11, a, b);
        c12 = _mm512_dpbf16_ps(c12, a, b);
        c13 = _mm512_dpbf16_ps(c13, a, b);
        c14 = _mm512_dpbf16_ps(c14, a, b);
        c15 = _mm512_dpbf16_ps(c15, a, b);
        __asm__(""
                : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7));
        __asm__(""
                : "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11), "+v"(c12), "+v"(c13), "+v"(c14),
                  "+v"(c15));
    }
    *ops_per_iter = 16.0 * 32 * 2;
    __m512 s = _mm512_add_ps(
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                      _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                      _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
    return _mm512_reduce_add_ps(s);
}
