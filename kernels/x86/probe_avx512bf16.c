/* AVX-512 BF16 probe loop: vdpbf16ps on zmm, 32 bf16 pairs multiplied and accumulated into 16
 * floats per instruction. */
#if !defined(__AVX512BF16__)
#error "probe_avx512bf16.c needs -mavx512bf16 (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

double ic_probe_dot_bf16_avx512bf16(uint64_t iters, double *ops_per_iter) {
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
           c8 = c0, c9 = c0, c10 = c0, c11 = c0;
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
    }
    *ops_per_iter = 12.0 * 32 * 2;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    return _mm512_reduce_add_ps(s);
}
