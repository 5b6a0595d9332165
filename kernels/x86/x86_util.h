/* Small inline helpers shared by the x86 kernel files. Each kernel file includes this under its own
 * ISA flags, so only the helpers its ISA allows are compiled in it. Internal to kernels/x86/. */
#ifndef IC_X86_UTIL_H
#define IC_X86_UTIL_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "../ic_types.h"

/* Rows handled together by the GEMV kernels: the activation loads are shared between them, and 4
 * streams of weights keep the hardware prefetchers busy without running out of registers. */
#define IC_X86_GEMV_ROWS 4

/* prefetcht0 of the line holding p, issued where it is written. GCC treats _mm_prefetch as free to
 * move and, in a fully unrolled loop body, hoisted all of it to the top: the q8_0 GEMV issued a
 * 16-block group's 64 prefetches in one burst ahead of the group's loads. GCC does not reorder
 * volatile asm statements among themselves or drop them, and GCC 12 leaves these among the loads
 * around them (checked in the disassembly). Where a burst is the design (the q4_0 GEMV's loop at a
 * group's start), keep _mm_prefetch: moving its prefetches next to the loads made the q4_0
 * decode 24% slower on the Zen 5 VM. */
static inline void ic_x86_prefetch(const void *p) {
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
}

/* The four sums of one step of a GEMV that walks rows [r0, r1) as four far-apart streams (row r
 * of the first quarter, and r + q, r + 2 q, r + 3 q of the others) into y at those rows. */
static inline void ic_x86_store_quarters(float *y, size_t r, size_t q, __m128 sums) {
    float v[4];
    _mm_storeu_ps(v, sums);
    for (int j = 0; j < 4; j++) y[r + (size_t)j * q] = v[j];
}

/* The fp16 scale of a block, widened with F16C (exact, as ic_fp16_to_f32). Not _cvtsh_ss: GCC 12
 * at -O2 miscompiled it in these kernels (it returned the raw bits), seen in gemv_q8_0_avx2. */
static inline float ic_x86_fp16(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h)));
}

/* L2 size in bytes from the C library (sysconf, which reads CPUID on x86), 1 MiB if unknown. Read
 * at run time so that the GEMM blocking follows the machine, not a constant. */
size_t ic_x86_l2_bytes(void);

/* A k range for GEMM cache blocking: n activation rows of it, elem bytes each, take at most half
 * of L2; a multiple of align, at least 256 elements. */
static inline size_t ic_x86_k_chunk(size_t n, size_t elem, size_t align) {
    size_t kc = ic_x86_l2_bytes() / 2 / (n * elem + 1);
    kc = kc / align * align;
    return kc < 256 ? 256 : kc;
}

#if defined(__AVX2__)
static inline float ic_x86_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Four 8-lane sums at once: lane i of the result is the sum of a[i]'s lanes. */
static inline __m128 ic_x86_hsum256_x4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s01 = _mm256_hadd_ps(a0, a1); /* a0 01 a0 23 a1 01 a1 23 | upper halves */
    __m256 s23 = _mm256_hadd_ps(a2, a3);
    __m256 s = _mm256_hadd_ps(s01, s23); /* a0 a1 a2 a3 | a0 a1 a2 a3 (upper halves) */
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}
#endif

/* Four fp16 values `stride` bytes apart, packed little-end first into one 64-bit word: the scales
 * of four consecutive blocks. Written out without a loop, so that the word never leaves a
 * register (see ic_x86_fp16x16). */
static inline uint64_t ic_x86_pack4_u16(const unsigned char *p, size_t stride) {
    uint16_t a, b, c, d;
    __builtin_memcpy(&a, p, 2);
    __builtin_memcpy(&b, p + stride, 2);
    __builtin_memcpy(&c, p + 2 * stride, 2);
    __builtin_memcpy(&d, p + 3 * stride, 2);
    return (uint64_t)a | (uint64_t)b << 16 | (uint64_t)c << 32 | (uint64_t)d << 48;
}

#if defined(__AVX512F__)
/* Sixteen fp16 values `stride` bytes apart (the scales of 16 consecutive blocks) as f32: packed
 * four to a general register and widened with one vcvtph2ps. The earlier form packed into a
 * uint64_t[4] in a loop, which GCC 12 at -O2 left rolled, storing the words to the stack and
 * reloading them as a vector: a store-forwarding round trip per row and group that, with the
 * product spilled as well, took about half of the q8_0 GEMV's time in cache (perf annotate,
 * Zen 5). */
static inline __m512 ic_x86_fp16x16(const void *first, size_t stride) {
    const unsigned char *p = first;
    const __m128i lo = _mm_insert_epi64(_mm_cvtsi64_si128((long long)ic_x86_pack4_u16(p, stride)),
                                        (long long)ic_x86_pack4_u16(p + 4 * stride, stride), 1);
    const __m128i hi =
        _mm_insert_epi64(_mm_cvtsi64_si128((long long)ic_x86_pack4_u16(p + 8 * stride, stride)),
                         (long long)ic_x86_pack4_u16(p + 12 * stride, stride), 1);
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

/* The upper 8 lanes (AVX-512F only: the variants do not require AVX-512DQ). */
static inline __m256 ic_x86_hi256(__m512 a) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
}

/* Four 16-lane sums at once: lane i of the result is the sum of a[i]'s lanes. */
static inline __m128 ic_x86_hsum512_x4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
    __m256 b0 = _mm256_add_ps(_mm512_castps512_ps256(a0), ic_x86_hi256(a0));
    __m256 b1 = _mm256_add_ps(_mm512_castps512_ps256(a1), ic_x86_hi256(a1));
    __m256 b2 = _mm256_add_ps(_mm512_castps512_ps256(a2), ic_x86_hi256(a2));
    __m256 b3 = _mm256_add_ps(_mm512_castps512_ps256(a3), ic_x86_hi256(a3));
    return ic_x86_hsum256_x4(b0, b1, b2, b3);
}
/* a + b, or max(a, b) when max (a constant wherever the trees below are inlined). */
static inline __attribute__((always_inline)) __m512 ic_x86_sum_or_max(__m512 a, __m512 b, int max) {
    return max ? _mm512_max_ps(a, b) : _mm512_add_ps(a, b);
}

/* Sixteen 16-lane sums (max = 0) or maxima (max = 1) at once, a[4 * i + c] for i, c < 4: lane
 * 4 i + c of the result (its 128-bit lane i) reduces a[4 * i + c]'s lanes. A tree of 15 adds (or
 * maxima) and 30 in-register shuffles; four ic_x86_hsum512_x4 take 32 adds and about 44
 * shuffles. A maximum involving a NaN is not defined here (vmaxps's operand order decides). */
static inline __attribute__((always_inline)) __m512 ic_x86_reduce512_x16(const __m512 *a, int max) {
    __m512 u[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        const __m512 *r = a + 4 * i;
        /* per 128-bit lane: [r0 r1 r0 r1] and [r2 r3 r2 r3], partial results */
        const __m512 t0 =
            ic_x86_sum_or_max(_mm512_unpacklo_ps(r[0], r[1]), _mm512_unpackhi_ps(r[0], r[1]), max);
        const __m512 t1 =
            ic_x86_sum_or_max(_mm512_unpacklo_ps(r[2], r[3]), _mm512_unpackhi_ps(r[2], r[3]), max);
        /* per 128-bit lane: [r0 r1 r2 r3], each that lane's result */
        u[i] = ic_x86_sum_or_max(_mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)),
                                 _mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)), max);
    }
    /* 128-bit lanes [u0 02, u0 13, u1 02, u1 13] and the same of u2, u3 */
    const __m512 v01 =
        ic_x86_sum_or_max(_mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(3, 2, 3, 2)), max);
    const __m512 v23 =
        ic_x86_sum_or_max(_mm512_shuffle_f32x4(u[2], u[3], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_f32x4(u[2], u[3], _MM_SHUFFLE(3, 2, 3, 2)), max);
    return ic_x86_sum_or_max(_mm512_shuffle_f32x4(v01, v23, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(v01, v23, _MM_SHUFFLE(3, 1, 3, 1)), max);
}

static inline __attribute__((always_inline)) __m512 ic_x86_hsum512_x16(const __m512 *a) {
    return ic_x86_reduce512_x16(a, 0);
}
/* roundf: truncate, then step away from zero when the dropped fraction is at least one half. */
static inline __m512i ic_x86_round_away(__m512 v) {
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
    __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __m512 step = _mm512_or_ps(_mm512_set1_ps(1.0f),
                               _mm512_and_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN))));
    return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, step));
}

/* One q8_0 block of 32 floats at x, as the reference quantizes it: the 32 quants into qs, the
 * block's scale returned before its fp16 rounding, and (sum not NULL) the quants' sum, exact in
 * int32 since each is in [-127, 127]. The q8_0 and q8_0s quantizers share it. */
static inline float ic_x86_q8_block(const float *x, int8_t *qs, int32_t *sum) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m512 s = _mm512_set1_ps(id);
    __m512i i0 = ic_x86_round_away(_mm512_mul_ps(v0, s));
    __m512i i1 = ic_x86_round_away(_mm512_mul_ps(v1, s));
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128((__m128i *)(qs + 16), _mm512_cvtsepi32_epi8(i1));
    if (sum != NULL) *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    return d;
}

/* Sixteen q8_0 blocks (512 floats at x) at once, as ic_x86_q8_block quantizes each: block j's 32
 * quants to qs + j * stride; returns the 16 scales as q8_0 stores them, in fp16 (lane j: block
 * j's; vcvtps2ph rounds to nearest even, as ic_f32_to_fp16) and, when sums is not NULL, the quants'
 * sums as floats (exact: |sum| <= 4064). The per-block horizontal max and sum are two trees over
 * all 16 blocks (ic_x86_reduce512_x16), the scale's division one vector division. On the Zen 5 VM:
 * one thread, rows in L2, q8_0s went from 8.5 ns a block, one at a time, to 4.6; in llama-3.2-1b
 * q8_0's prefill (two forwards in one process, ABBA, medians), the quantize op from 4.66 to 3.00 ms
 * a 64-token prompt and from 45.5 to 31.3 ms a 512-token one. For finite inputs the bytes are the
 * reference's (the max of absolute values does not depend on the order; see test_q8_edges for where
 * the reference has none). */
static inline __m256i ic_x86_q8_blocks16(const float *x, int8_t *qs, size_t stride, __m512 *sums) {
    __m512 m[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++)
        m[j] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 32 * j)),
                             _mm512_abs_ps(_mm512_loadu_ps(x + 32 * j + 16)));
    const __m512 d = _mm512_div_ps(ic_x86_reduce512_x16(m, 1), _mm512_set1_ps(127.0f));
    const __m512 id = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_UQ),
                                          _mm512_set1_ps(1.0f), d);
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) {
        const __m512 s = _mm512_permutexvar_ps(_mm512_set1_epi32(j), id);
        const __m512i i0 = ic_x86_round_away(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * j), s));
        const __m512i i1 = ic_x86_round_away(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * j + 16), s));
        _mm_storeu_si128((__m128i *)(qs + j * stride), _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(qs + j * stride + 16), _mm512_cvtsepi32_epi8(i1));
        m[j] = _mm512_cvtepi32_ps(_mm512_add_epi32(i0, i1));
    }
    if (sums != NULL) *sums = ic_x86_hsum512_x16(m);
    return _mm512_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
#endif

#endif
