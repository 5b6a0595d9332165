/* Reference quantize/dequantize for f32, bf16, q8_0, q4_0, f16 and q8_0s, following ggml's
 * formulas. */
#include "../ic_dispatch.h"

#include <assert.h>
#include <math.h>

void ic_quantize_f32_ref(const float *x, void *y, size_t k) {
    memcpy(y, x, k * sizeof(float));
}

void ic_dequantize_f32_ref(const void *x, float *y, size_t k) {
    memcpy(y, x, k * sizeof(float));
}

void ic_quantize_bf16_ref(const float *x, void *y, size_t k) {
    uint16_t *out = y;
    for (size_t i = 0; i < k; i++) out[i] = ic_f32_to_bf16(x[i]);
}

void ic_dequantize_bf16_ref(const void *x, float *y, size_t k) {
    const uint16_t *in = x;
    for (size_t i = 0; i < k; i++) y[i] = ic_bf16_to_f32(in[i]);
}

void ic_quantize_f16_ref(const float *x, void *y, size_t k) {
    uint16_t *out = y;
    for (size_t i = 0; i < k; i++) out[i] = ic_f32_to_fp16(x[i]);
}

void ic_dequantize_f16_ref(const void *x, float *y, size_t k) {
    const uint16_t *in = x;
    for (size_t i = 0; i < k; i++) y[i] = ic_fp16_to_f32(in[i]);
}

/* d = max|x| / 127, q = round(x / d). */
void ic_quantize_q8_0_ref(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q8_0 *b = y;
    for (size_t i = 0; i < k / IC_QK; i++) {
        const float *xb = x + i * IC_QK;
        float amax = 0.0f;
        for (int j = 0; j < IC_QK; j++) amax = fmaxf(amax, fabsf(xb[j]));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = ic_f32_to_fp16(d);
        for (int j = 0; j < IC_QK; j++) b[i].qs[j] = (int8_t)roundf(xb[j] * id);
    }
}

void ic_dequantize_q8_0_ref(const void *x, float *y, size_t k) {
    assert(k % IC_QK == 0);
    const ic_block_q8_0 *b = x;
    for (size_t i = 0; i < k / IC_QK; i++) {
        float d = ic_fp16_to_f32(b[i].d);
        for (int j = 0; j < IC_QK; j++) y[i * IC_QK + j] = d * (float)b[i].qs[j];
    }
}

/* q8_0 (the reference's own rounding, so the quants and scale are q8_0's), d widened, and
 * c = -128 * d * sum(q) (ic_types.h). */
void ic_quantize_q8_0s_ref(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q8_0s *b = y;
    for (size_t i = 0; i < k / IC_QK; i++) {
        ic_block_q8_0 q;
        ic_quantize_q8_0_ref(x + i * IC_QK, &q, IC_QK);
        int32_t sum = 0;
        for (int j = 0; j < IC_QK; j++) sum += b[i].qs[j] = q.qs[j];
        b[i].d = ic_fp16_to_f32(q.d);
        b[i].c = -128.0f * (b[i].d * (float)sum);
    }
}

void ic_dequantize_q8_0s_ref(const void *x, float *y, size_t k) {
    assert(k % IC_QK == 0);
    const ic_block_q8_0s *b = x;
    for (size_t i = 0; i < k / IC_QK; i++)
        for (int j = 0; j < IC_QK; j++) y[i * IC_QK + j] = b[i].d * (float)b[i].qs[j];
}

/* The value of largest magnitude maps to -8: d = max / -8, q = clamp(x / d + 8.5, 0, 15). */
void ic_quantize_q4_0_ref(const float *x, void *y, size_t k) {
    assert(k % IC_QK == 0);
    ic_block_q4_0 *b = y;
    for (size_t i = 0; i < k / IC_QK; i++) {
        const float *xb = x + i * IC_QK;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < IC_QK; j++) {
            if (fabsf(xb[j]) > amax) {
                amax = fabsf(xb[j]);
                max = xb[j];
            }
        }
        float d = max / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = ic_f32_to_fp16(d);
        for (int j = 0; j < IC_QK / 2; j++) {
            float v0 = xb[j] * id + 8.5f, v1 = xb[j + IC_QK / 2] * id + 8.5f;
            int q0 = v0 < 15.0f ? (int)v0 : 15, q1 = v1 < 15.0f ? (int)v1 : 15;
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void ic_dequantize_q4_0_ref(const void *x, float *y, size_t k) {
    assert(k % IC_QK == 0);
    const ic_block_q4_0 *b = x;
    for (size_t i = 0; i < k / IC_QK; i++) {
        float d = ic_fp16_to_f32(b[i].d);
        for (int j = 0; j < IC_QK / 2; j++) {
            y[i * IC_QK + j] = d * (float)((b[i].qs[j] & 0x0f) - 8);
            y[i * IC_QK + j + IC_QK / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}
