/* AVX2 probe loops: read bandwidth, 256-bit FMA peak, and the int8 dot product without VNNI
 * (vpmaddubsw to int16 pairs, vpmaddwd to int32, vpaddd), as AVX2 int8 GEMV kernels do it. */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "probe_avx2.c needs -mavx2 -mfma (cmake/isa.cmake gives them by the file name)"
#endif
#include <immintrin.h>

#include "ic_probe.h"

/* Four streams at once, one per quarter of the range, as in probe_avx512.c. */
double ic_probe_read_avx2(const void *buf, size_t bytes) {
    const __m256i *p = buf;
    size_t n = bytes / sizeof *p / 4;
    const __m256i *a = p, *b = p + n, *c = p + 2 * n, *d = p + 3 * n;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        s0 = _mm256_add_epi64(s0, _mm256_load_si256(a + i));
        s1 = _mm256_add_epi64(s1, _mm256_load_si256(b + i));
        s2 = _mm256_add_epi64(s2, _mm256_load_si256(c + i));
        s3 = _mm256_add_epi64(s3, _mm256_load_si256(d + i));
        s0 = _mm256_add_epi64(s0, _mm256_load_si256(a + i + 1));
        s1 = _mm256_add_epi64(s1, _mm256_load_si256(b + i + 1));
        s2 = _mm256_add_epi64(s2, _mm256_load_si256(c + i + 1));
        s3 = _mm256_add_epi64(s3, _mm256_load_si256(d + i + 1));
    }
    for (size_t q = 0; q < 4; q++)
        for (size_t j = i; j < n; j++) s0 = _mm256_add_epi64(s0, _mm256_load_si256(p + q * n + j));
    for (size_t j = 4 * n; j < bytes / sizeof *p; j++)
        s0 = _mm256_add_epi64(s0, _mm256_load_si256(p + j));
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, s);
    return (double)(out[0] + out[1] + out[2] + out[3]); /* unsigned: may wrap on huge buffers */
}

double ic_probe_fma_f32_avx2(uint64_t iters, double *ops_per_iter) {
    /* 12 chains: FMA latency (4-5 cycles) times two FMA pipes needs at least 10 in flight. */
    __m256 a = _mm256_set1_ps(1.0000001f), b = _mm256_set1_ps(1e-7f);
    __m256 c0 = _mm256_set1_ps(0.f), c1 = _mm256_set1_ps(1.f), c2 = _mm256_set1_ps(2.f),
           c3 = _mm256_set1_ps(3.f), c4 = _mm256_set1_ps(4.f), c5 = _mm256_set1_ps(5.f),
           c6 = _mm256_set1_ps(6.f), c7 = _mm256_set1_ps(7.f), c8 = _mm256_set1_ps(8.f),
           c9 = _mm256_set1_ps(9.f), c10 = _mm256_set1_ps(10.f), c11 = _mm256_set1_ps(11.f);
    for (uint64_t i = 0; i < iters; i++) {
        c0 = _mm256_fmadd_ps(c0, a, b);
        c1 = _mm256_fmadd_ps(c1, a, b);
        c2 = _mm256_fmadd_ps(c2, a, b);
        c3 = _mm256_fmadd_ps(c3, a, b);
        c4 = _mm256_fmadd_ps(c4, a, b);
        c5 = _mm256_fmadd_ps(c5, a, b);
        c6 = _mm256_fmadd_ps(c6, a, b);
        c7 = _mm256_fmadd_ps(c7, a, b);
        c8 = _mm256_fmadd_ps(c8, a, b);
        c9 = _mm256_fmadd_ps(c9, a, b);
        c10 = _mm256_fmadd_ps(c10, a, b);
        c11 = _mm256_fmadd_ps(c11, a, b);
    }
    *ops_per_iter = 12.0 * 8 * 2;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

double ic_probe_dot_int8_avx2(uint64_t iters, double *ops_per_iter) {
    /* Chains that start apart, held in registers by the empty asm, and a product per step (the
     * input opaque before each), as in an AVX2 int8 kernel: equal chains on equal inputs are
     * merged by the compiler into one, and the loop then times one latency-bound chain while
     * counting eight (tests/probe_chains_test.py). */
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_set1_epi32(0), c1 = _mm256_set1_epi32(1), c2 = _mm256_set1_epi32(2),
            c3 = _mm256_set1_epi32(3), c4 = _mm256_set1_epi32(4), c5 = _mm256_set1_epi32(5),
            c6 = _mm256_set1_epi32(6), c7 = _mm256_set1_epi32(7);
    for (uint64_t i = 0; i < iters; i++) {
#define IC_STEP(c)                                                                                 \
    __asm__ volatile("" : "+x"(a));                                                                \
    c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones))
        IC_STEP(c0);
        IC_STEP(c1);
        IC_STEP(c2);
        IC_STEP(c3);
        IC_STEP(c4);
        IC_STEP(c5);
        IC_STEP(c6);
        IC_STEP(c7);
#undef IC_STEP
        __asm__(""
                : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7));
    }
    *ops_per_iter = 8.0 * 32 * 2;
    __m256i s =
        _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                         _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
    int out[8];
    _mm256_storeu_si256((__m256i *)out, s);
    return (double)out[0];
}
