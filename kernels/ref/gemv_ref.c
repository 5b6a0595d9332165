/* Reference GEMV and GEMM for every weight type: one dot product per (activation row, weight row).
 * f32 and bf16 weights take f32 activations; q8_0 and q4_0 take q8_0 activations and sum each
 * block's products in integers, scaled by both blocks' scales, as ggml does. */
#include "../ic_dispatch.h"

#include <assert.h>

static float dot_f32(const float *w, const float *x, size_t k) {
    float sum = 0.0f;
    for (size_t j = 0; j < k; j++) sum += w[j] * x[j];
    return sum;
}

static float dot_bf16(const uint16_t *w, const float *x, size_t k) {
    float sum = 0.0f;
    for (size_t j = 0; j < k; j++) sum += ic_bf16_to_f32(w[j]) * x[j];
    return sum;
}

static float dot_q8_0(const ic_block_q8_0 *w, const ic_block_q8_0 *x, size_t k) {
    float sum = 0.0f;
    for (size_t i = 0; i < k / IC_QK; i++) {
        int32_t acc = 0;
        for (int j = 0; j < IC_QK; j++) acc += (int32_t)w[i].qs[j] * (int32_t)x[i].qs[j];
        sum += ic_fp16_to_f32(w[i].d) * ic_fp16_to_f32(x[i].d) * (float)acc;
    }
    return sum;
}

static float dot_q4_0(const ic_block_q4_0 *w, const ic_block_q8_0 *x, size_t k) {
    float sum = 0.0f;
    for (size_t i = 0; i < k / IC_QK; i++) {
        int32_t acc = 0;
        for (int j = 0; j < IC_QK / 2; j++) {
            acc += ((w[i].qs[j] & 0x0f) - 8) * (int32_t)x[i].qs[j];
            acc += ((w[i].qs[j] >> 4) - 8) * (int32_t)x[i].qs[j + IC_QK / 2];
        }
        sum += ic_fp16_to_f32(w[i].d) * ic_fp16_to_f32(x[i].d) * (float)acc;
    }
    return sum;
}

void ic_gemv_f32_ref(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = dot_f32((const float *)w + r * k, x, k);
}

void ic_gemv_bf16_ref(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) y[r] = dot_bf16((const uint16_t *)w + r * k, x, k);
}

void ic_gemv_q8_0_ref(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    for (size_t r = r0; r < r1; r++)
        y[r] = dot_q8_0((const ic_block_q8_0 *)w + r * (k / IC_QK), x, k);
}

void ic_gemv_q4_0_ref(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(k % IC_QK == 0);
    for (size_t r = r0; r < r1; r++)
        y[r] = dot_q4_0((const ic_block_q4_0 *)w + r * (k / IC_QK), x, k);
}

void ic_gemm_f32_ref(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                     size_t r0, size_t r1) {
    for (size_t t = 0; t < n; t++)
        ic_gemv_f32_ref(w, (const float *)x + t * k, y + t * ldy, k, r0, r1);
}

void ic_gemm_bf16_ref(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    for (size_t t = 0; t < n; t++)
        ic_gemv_bf16_ref(w, (const float *)x + t * k, y + t * ldy, k, r0, r1);
}

void ic_gemm_q8_0_ref(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    for (size_t t = 0; t < n; t++)
        ic_gemv_q8_0_ref(w, (const ic_block_q8_0 *)x + t * (k / IC_QK), y + t * ldy, k, r0, r1);
}

void ic_gemm_q4_0_ref(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy,
                      size_t r0, size_t r1) {
    for (size_t t = 0; t < n; t++)
        ic_gemv_q4_0_ref(w, (const ic_block_q8_0 *)x + t * (k / IC_QK), y + t * ldy, k, r0, r1);
}
