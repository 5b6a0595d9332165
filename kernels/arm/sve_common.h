/* Helpers shared by the SVE variants. All of them are vector-length agnostic: loops step by
 * svcntw()/svcntb() and predicates cover the tails, so one binary is right at 128-bit SVE
 * (Graviton4), 256-bit (Graviton3) and any other length up to 2048 bits. Only base SVE is used. */
#ifndef IC_ARM_SVE_COMMON_H
#define IC_ARM_SVE_COMMON_H

#include <arm_sve.h>

#include "../ic_dispatch.h"
#include "arm_common.h"

/* e^x to about 1 ulp (Cephes expf polynomial on |r| <= ln2/2); FSCALE applies 2^n, so overflow
 * gives inf and small results go through the subnormals as expf does. NaN stays NaN. */
static inline svfloat32_t ic__sve_exp(svbool_t pg, svfloat32_t x) {
    svfloat32_t xc = svmax_n_f32_x(pg, svmin_n_f32_x(pg, x, 89.0f), -104.0f);
    svfloat32_t n = svrintn_f32_x(pg, svmul_n_f32_x(pg, xc, 1.44269504088896341f));
    svfloat32_t r = svmls_n_f32_x(pg, xc, n, 0.693359375f);
    r = svmls_n_f32_x(pg, r, n, -2.12194440e-4f);
    svfloat32_t p = svdup_n_f32(1.9875691500e-4f);
    p = svmad_n_f32_x(pg, p, r, 1.3981999507e-3f);
    p = svmad_n_f32_x(pg, p, r, 8.3334519073e-3f);
    p = svmad_n_f32_x(pg, p, r, 4.1665795894e-2f);
    p = svmad_n_f32_x(pg, p, r, 1.6666665459e-1f);
    p = svmad_n_f32_x(pg, p, r, 5.0000001201e-1f);
    p = svmla_f32_x(pg, svadd_n_f32_x(pg, r, 1.0f), p, svmul_f32_x(pg, r, r));
    svfloat32_t y = svscale_f32_x(pg, p, svcvt_s32_f32_x(pg, n));
    return svsel_f32(svcmpuo_f32(pg, x, x), x, y);
}

/* Dot products of one weight row with one activation row, and with four rows xs elements (or
 * blocks) apart so that each weight vector is loaded once per four tokens. */
static inline float ic__sve_dot_f32(const float *w, const float *x, size_t k) {
    /* Whole vectors four at a time with an all-true predicate and four accumulators, then a
     * predicated tail: a WHILELT per vector cost twice NEON's instructions at 128 bits. */
    const svbool_t all = svptrue_b32();
    const size_t vl = svcntw();
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 4 * vl <= k; j += 4 * vl) {
        a0 = svmla_f32_x(all, a0, svld1_f32(all, w + j), svld1_f32(all, x + j));
        a1 = svmla_f32_x(all, a1, svld1_f32(all, w + j + vl), svld1_f32(all, x + j + vl));
        a2 = svmla_f32_x(all, a2, svld1_f32(all, w + j + 2 * vl), svld1_f32(all, x + j + 2 * vl));
        a3 = svmla_f32_x(all, a3, svld1_f32(all, w + j + 3 * vl), svld1_f32(all, x + j + 3 * vl));
    }
    for (; j < k; j += vl) {
        svbool_t pg = svwhilelt_b32_u64(j, k);
        a0 = svmla_f32_m(pg, a0, svld1_f32(pg, w + j), svld1_f32(pg, x + j));
    }
    return svaddv_f32(all, svadd_f32_x(all, svadd_f32_x(all, a0, a1), svadd_f32_x(all, a2, a3)));
}

static inline void ic__sve_dot4_f32(const float *w, const float *x, size_t xs, size_t k,
                                    float out[4]) {
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < k; j += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(j, k);
        svfloat32_t wv = svld1_f32(pg, w + j);
        a0 = svmla_f32_m(pg, a0, wv, svld1_f32(pg, x + j));
        a1 = svmla_f32_m(pg, a1, wv, svld1_f32(pg, x + xs + j));
        a2 = svmla_f32_m(pg, a2, wv, svld1_f32(pg, x + 2 * xs + j));
        a3 = svmla_f32_m(pg, a3, wv, svld1_f32(pg, x + 3 * xs + j));
    }
    svbool_t all = svptrue_b32();
    out[0] = svaddv_f32(all, a0), out[1] = svaddv_f32(all, a1);
    out[2] = svaddv_f32(all, a2), out[3] = svaddv_f32(all, a3);
}

/* bf16 weights: LD1H zero-extends each value into a 32-bit lane; shifting it into the high half
 * makes the f32. */
static inline svfloat32_t ic__sve_ld_bf16(svbool_t pg, const uint16_t *w) {
    return svreinterpret_f32_u32(svlsl_n_u32_x(pg, svld1uh_u32(pg, w), 16));
}

static inline float ic__sve_dot_bf16(const uint16_t *w, const float *x, size_t k) {
    const svbool_t all = svptrue_b32();
    const size_t vl = svcntw();
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0;
    size_t j = 0;
    for (; j + 2 * vl <= k; j += 2 * vl) {
        a0 = svmla_f32_x(all, a0, ic__sve_ld_bf16(all, w + j), svld1_f32(all, x + j));
        a1 = svmla_f32_x(all, a1, ic__sve_ld_bf16(all, w + j + vl), svld1_f32(all, x + j + vl));
    }
    for (; j < k; j += vl) {
        svbool_t pg = svwhilelt_b32_u64(j, k);
        a0 = svmla_f32_m(pg, a0, ic__sve_ld_bf16(pg, w + j), svld1_f32(pg, x + j));
    }
    return svaddv_f32(all, svadd_f32_x(all, a0, a1));
}

static inline void ic__sve_dot4_bf16(const uint16_t *w, const float *x, size_t xs, size_t k,
                                     float out[4]) {
    svfloat32_t a0 = svdup_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < k; j += svcntw()) {
        svbool_t pg = svwhilelt_b32_u64(j, k);
        svfloat32_t wv = ic__sve_ld_bf16(pg, w + j);
        a0 = svmla_f32_m(pg, a0, wv, svld1_f32(pg, x + j));
        a1 = svmla_f32_m(pg, a1, wv, svld1_f32(pg, x + xs + j));
        a2 = svmla_f32_m(pg, a2, wv, svld1_f32(pg, x + 2 * xs + j));
        a3 = svmla_f32_m(pg, a3, wv, svld1_f32(pg, x + 3 * xs + j));
    }
    svbool_t all = svptrue_b32();
    out[0] = svaddv_f32(all, a0), out[1] = svaddv_f32(all, a1);
    out[2] = svaddv_f32(all, a2), out[3] = svaddv_f32(all, a3);
}

/* The q4_0 weights of block values j .. j+VL-1 as signed bytes. LD1RQB repeats the 16 packed bytes
 * in every 128-bit quarter, so lane l holds qs[l % 16]; lanes before value 16 take the low nibble,
 * the rest the high nibble. Lanes past value 31 meet zeros in the activation load. */
static inline svint8_t ic__sve_q4_0_part(const uint8_t *qs, size_t j) {
    const svbool_t all = svptrue_b8();
    svuint8_t q = svld1rq_u8(all, qs);
    svuint8_t v = svsel_u8(svwhilelt_b8_u64(j, IC_QK / 2), svand_n_u8_x(all, q, 0x0f),
                           svlsr_n_u8_x(all, q, 4));
    return svsub_n_s8_x(all, svreinterpret_s8_u8(v), 8);
}

#endif
