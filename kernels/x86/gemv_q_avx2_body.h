/* The body of the 256-bit q8_0 and q4_0 GEMV kernels, shared by the AVX2 and AVX-VNNI files: they
 * differ only in the int8 dot product of one 32-byte block. Each includer defines
 * IC_Q_DOT(u, s) -> __m256i of 8 int32 partial sums of unsigned u times signed s bytes, and the
 * name of the one function it defines: IC_Q8_FN (q8_0 weights) or IC_Q4_FN (q4_0). Not a public
 * header: it is compiled once per including file, under that file's ISA flags.
 *
 * An earlier version prepared |x| for a whole row chunk in a stack buffer; GCC 12.2 at -O2 deleted
 * that preparation outright (the kernels returned zeros, and the tests caught it), so the
 * activations are now taken straight from their blocks, which costs one vpabsb per 4 rows. */
#include "../ic_dispatch.h"
#include "x86_util.h"

#include <assert.h>
#include <string.h>

/* The 32 nibbles of a q4_0 block as signed bytes -8..7 in element order. */
static inline __m256i unpack_q4(const ic_block_q4_0 *w) {
    __m128i v = _mm_loadu_si128((const __m128i *)w->qs);
    __m256i z = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
    return _mm256_sub_epi8(_mm256_and_si256(z, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
}

/* q8_0: |x| times the weight with x's sign (exact for weights in [-127, 127], see the AVX-512
 * kernel). q4_0: |w| times x with w's sign: w is in [-8, 7], always exact. */
static inline __attribute__((always_inline)) void
q_rows(const void *const *wr, int R, int q4, const ic_block_q8_0 *x, size_t nb, __m256 *acc) {
    const size_t wsz = q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0);
    for (size_t b = 0; b < nb; b++) {
        const __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
        const __m256i ax = _mm256_sign_epi8(xv, xv);
        const float dx = ic_x86_fp16(x[b].d);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const unsigned char *blk = (const unsigned char *)wr[r] + b * wsz;
            _mm_prefetch((const char *)blk + 2048, _MM_HINT_T0);
            uint16_t dbits;
            memcpy(&dbits, blk, sizeof dbits);
            __m256i dot;
            if (q4) {
                __m256i wv = unpack_q4((const ic_block_q4_0 *)blk);
                dot = IC_Q_DOT(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
            } else {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + 2));
                dot = IC_Q_DOT(ax, _mm256_sign_epi8(wv, xv));
            }
            __m256 d = _mm256_set1_ps(ic_x86_fp16(dbits) * dx);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), d, acc[r]);
        }
    }
}

/* The fp16 scales of 8 consecutive blocks (wsz bytes apart, the scale first) as f32: packed four
 * to a 64-bit register with integer loads and shifts, then one vcvtph2ps. Cheaper than one
 * F16C conversion, multiply and broadcast per block and row. */
static inline __m256 scales8(const unsigned char *blk, size_t wsz) {
    uint64_t q[2];
    for (int i = 0; i < 2; i++) {
        uint16_t d[4];
        for (int j = 0; j < 4; j++) memcpy(&d[j], blk + (size_t)(4 * i + j) * wsz, sizeof d[j]);
        q[i] = (uint64_t)d[0] | (uint64_t)d[1] << 16 | (uint64_t)d[2] << 32 | (uint64_t)d[3] << 48;
    }
    return _mm256_cvtph_ps(
        _mm_insert_epi64(_mm_cvtsi64_si128((long long)q[0]), (long long)q[1], 1));
}

/* Groups of 8 full blocks: the scale products of the group are formed once per row as one
 * vector, and each block takes its lane with one vpermps. */
static inline __attribute__((always_inline)) void
q_rows8(const void *const *wr, int R, int q4, const ic_block_q8_0 *x, size_t nb8, __m256 *acc) {
    const size_t wsz = q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0);
    for (size_t g = 0; g < nb8; g += 8) {
        const __m256 dx = scales8((const unsigned char *)(x + g), sizeof(ic_block_q8_0));
        __m256 sv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            sv[r] = _mm256_mul_ps(scales8((const unsigned char *)wr[r] + g * wsz, wsz), dx);
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++) {
            const size_t b = g + (size_t)q;
            const __m256i xv = _mm256_loadu_si256((const __m256i *)x[b].qs);
            const __m256i ax = _mm256_sign_epi8(xv, xv);
            const __m256i lane = _mm256_set1_epi32(q);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const unsigned char *blk = (const unsigned char *)wr[r] + b * wsz;
                _mm_prefetch((const char *)blk + 2048, _MM_HINT_T0);
                __m256i dot;
                if (q4) {
                    __m256i wv = unpack_q4((const ic_block_q4_0 *)blk);
                    dot = IC_Q_DOT(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
                } else {
                    __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + 2));
                    dot = IC_Q_DOT(ax, _mm256_sign_epi8(wv, xv));
                }
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot),
                                         _mm256_permutevar8x32_ps(sv[r], lane), acc[r]);
            }
        }
    }
}

/* Rows [r0, r1) four at a time, the four far apart: the range is cut in quarters and step i takes
 * row i of each, so each quarter is one stream read in address order (as the AVX-512 kernels'
 * gemv_streams_entry.h); the rows left over go one at a time. Measured on the 2-vCPU Zen 5 VM
 * (llama-3.2-1b decode at ctx 128, IC_ISA=avx2 and avxvnni, alternating, 2 pairs each) against
 * four adjacent rows: q8_0 14.7-20.5 -> 27.0-31.2 tok/s (31-42% -> 53-61% of the read bound);
 * q4_0, bound by its unpacking, 24.3-24.9 -> 25.3-26.8. Keeping the prefetches in place
 * (ic_x86_prefetch) changed nothing here. */
static inline __attribute__((always_inline)) void q_gemv(const void *w, const void *x, float *y,
                                                         size_t k, size_t r0, size_t r1, int q4) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const size_t row = nb * (q4 ? sizeof(ic_block_q4_0) : sizeof(ic_block_q8_0));
    const size_t q = (r1 - r0) / 4;
    for (size_t step = 0; step < q; step++) {
        const size_t r = r0 + step;
        const void *wr[4];
        for (int s = 0; s < 4; s++) wr[s] = (const unsigned char *)w + (r + (size_t)s * q) * row;
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                         _mm256_setzero_ps()};
        const size_t nb8 = nb & ~(size_t)7;
        q_rows8(wr, 4, q4, x, nb8, acc);
        if (nb8 < nb) {
            const void *wt[4];
            for (int i = 0; i < 4; i++) wt[i] = (const unsigned char *)wr[i] + nb8 * (row / nb);
            q_rows(wt, 4, q4, (const ic_block_q8_0 *)x + nb8, nb - nb8, acc);
        }
        ic_x86_store_quarters(y, r, q, ic_x86_hsum256_x4(acc[0], acc[1], acc[2], acc[3]));
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) {
        const void *wr[1] = {(const unsigned char *)w + r * row};
        __m256 acc[1] = {_mm256_setzero_ps()};
        q_rows(wr, 1, q4, x, nb, acc);
        y[r] = ic_x86_hsum256(acc[0]);
    }
}

#if defined(IC_Q8_FN)
void IC_Q8_FN(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    q_gemv(w, x, y, k, r0, r1, 0);
}
#elif defined(IC_Q4_FN)
void IC_Q4_FN(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    q_gemv(w, x, y, k, r0, r1, 1);
}
#else
#error "define IC_Q8_FN or IC_Q4_FN before including gemv_q_avx2_body.h"
#endif
