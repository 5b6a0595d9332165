/* Reference RMSNorm, RoPE, softmax and SwiGLU. */
#include "../ic_dispatch.h"

#include <assert.h>
#include <math.h>

void ic_rmsnorm_ref(const float *x, const float *weight, float *y, size_t n, float eps) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (size_t i = 0; i < n; i++) y[i] = x[i] * scale * weight[i];
}

void ic_rope_ref(float *x, size_t n_heads, size_t head_dim, size_t pos, float theta) {
    assert(head_dim % 2 == 0);
    for (size_t i = 0; i < head_dim / 2; i++) {
        double freq = pow((double)theta, -2.0 * (double)i / (double)head_dim);
        double angle = (double)pos * freq;
        float c = (float)cos(angle), s = (float)sin(angle);
        for (size_t h = 0; h < n_heads; h++) {
            float *p = x + h * head_dim + 2 * i;
            float a = p[0], b = p[1];
            p[0] = a * c - b * s;
            p[1] = a * s + b * c;
        }
    }
}

float ic_softmax_ref(float *x, size_t n) {
    assert(n >= 1);
    float max = -INFINITY;
    for (size_t i = 0; i < n; i++) max = fmaxf(max, x[i]);
    if (isinf(max)) { /* all -inf: uniform; some +inf: they share the mass */
        size_t count = 0;
        for (size_t i = 0; i < n; i++) count += (x[i] == max);
        for (size_t i = 0; i < n; i++) x[i] = (x[i] == max) ? 1.0f / (float)count : 0.0f;
        return max;
    }
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (size_t i = 0; i < n; i++) x[i] /= sum;
    return max + logf(sum);
}

void ic_swiglu_ref(const float *gate, const float *up, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
