/* SwiGLU with AVX-512F: y = gate / (1 + e^-gate) * up, with the vector exp of ops_avx512.h. */
#ifndef __AVX512F__
#error "swiglu_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

static inline __m512 swiglu16(__m512 g, __m512 u) {
    const __m512 e = ic_x86_exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

/* Whole vectors with plain loads and stores, the tail masked: the rows come from the gate/up
 * GEMM's output, mostly out of L2, and on Zen 5 a masked load that misses stalls far longer (as
 * the attention kernels found). On the Zen 5 VM, one thread over 64 rows of 8192 pairs out of
 * cache: 0.483 ms masked throughout, 0.211 ms so. In llama-3.2-1b q8_0's prefill (two forwards
 * in one process, ABBA, medians), SwiGLU and RMSNorm together (rmsnorm_avx512.c did the same)
 * went from 5.67 to 3.18 ms a 64-token prompt and from 52.0 to 26.5 ms a 512-token one. */
void ic_swiglu_avx512(const float *gate, const float *up, float *y, size_t n) {
    assert(gate != NULL && up != NULL && y != NULL);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, swiglu16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 t = ic_x86_tail16(n - i);
        _mm512_mask_storeu_ps(
            y + i, t,
            swiglu16(_mm512_maskz_loadu_ps(t, gate + i), _mm512_maskz_loadu_ps(t, up + i)));
    }
}
