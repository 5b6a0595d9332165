/* AVX-512 probe loops: read bandwidth with 64-byte loads, and the 512-bit FMA peak. */
#if !defined(__AVX512F__)
#error "probe_avx512.c needs -mavx512f (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

/* Four streams at once, one per quarter of the range: DRAM serves several open streams faster
 * than one (measured on Zen 5: about 1.3-1.6x a single stream), as OpenBLAS's sgemv does when it
 * walks four rows together. */
double ic_probe_read_avx512(const void *buf, size_t bytes) {
    const __m512i *p = buf;
    size_t n = bytes / sizeof *p / 4;
    const __m512i *a = p, *b = p + n, *c = p + 2 * n, *d = p + 3 * n;
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(a + i));
        s1 = _mm512_add_epi64(s1, _mm512_load_si512(b + i));
        s2 = _mm512_add_epi64(s2, _mm512_load_si512(c + i));
        s3 = _mm512_add_epi64(s3, _mm512_load_si512(d + i));
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(a + i + 1));
        s1 = _mm512_add_epi64(s1, _mm512_load_si512(b + i + 1));
        s2 = _mm512_add_epi64(s2, _mm512_load_si512(c + i + 1));
        s3 = _mm512_add_epi64(s3, _mm512_load_si512(d + i + 1));
    }
    /* What the pairs left: the odd last vector of each quarter, and the vectors past 4n. */
    for (size_t q = 0; q < 4; q++)
        for (size_t j = i; j < n; j++) s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + q * n + j));
    for (size_t j = 4 * n; j < bytes / sizeof *p; j++)
        s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + j));
    __m512i s = _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3));
    /* Unsigned: the lanes wrap on huge buffers, which is fine for a sink but not for signed C. */
    uint64_t lanes[8], t = 0;
    _mm512_storeu_si512(lanes, s);
    for (int j = 0; j < 8; j++) t += lanes[j];
    return (double)t;
}

double ic_probe_fma_f32_avx512(uint64_t iters, double *ops_per_iter) {
    __m512 a = _mm512_set1_ps(1.0000001f), b = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(0.f), c1 = _mm512_set1_ps(1.f), c2 = _mm512_set1_ps(2.f),
           c3 = _mm512_set1_ps(3.f), c4 = _mm512_set1_ps(4.f), c5 = _mm512_set1_ps(5.f),
           c6 = _mm512_set1_ps(6.f), c7 = _mm512_set1_ps(7.f), c8 = _mm512_set1_ps(8.f),
           c9 = _mm512_set1_ps(9.f), c10 = _mm512_set1_ps(10.f), c11 = _mm512_set1_ps(11.f),
           c12 = _mm512_set1_ps(12.f), c13 = _mm512_set1_ps(13.f), c14 = _mm512_set1_ps(14.f),
           c15 = _mm512_set1_ps(15.f);
    for (uint64_t i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b);
        c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b);
        c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b);
        c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b);
        c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b);
        c9 = _mm512_fmadd_ps(c9, a, b);
        c10 = _mm512_fmadd_ps(c10, a, b);
        c11 = _mm512_fmadd_ps(c11, a, b);
        c12 = _mm512_fmadd_ps(c12, a, b);
        c13 = _mm512_fmadd_ps(c13, a, b);
        c14 = _mm512_fmadd_ps(c14, a, b);
        c15 = _mm512_fmadd_ps(c15, a, b);
    }
    *ops_per_iter = 16.0 * 16 * 2;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(
        s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                         _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
    return _mm512_reduce_add_ps(s);
}
