/* Data types shared by every kernel: dtypes, the ggml block layouts, and scalar conversions. */
#ifndef IC_TYPES_H
#define IC_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Element types of weights, activations and the KV cache. Quantized types are the ggml block
 * formats. f16 (IEEE half) is a KV-cache type only: no weight matrix is stored in it. q8_0s is an
 * activation type only: q8_0 with what the panel GEMMs need of each block precomputed. */
typedef enum ic_dtype {
    IC_DT_F32 = 0,
    IC_DT_BF16,
    IC_DT_Q8_0,
    IC_DT_Q4_0,
    IC_DT_F16,
    IC_DT_Q8_0S,
    IC_DT_COUNT
} ic_dtype;

/* Values per quantization block (q8_0 and q4_0). */
#define IC_QK 32

/* q8_0: 32 signed bytes and an fp16 scale; x = d * q. 34 bytes. */
typedef struct ic_block_q8_0 {
    uint16_t d;
    int8_t qs[IC_QK];
} ic_block_q8_0;

/* q4_0: 32 nibbles and an fp16 scale; x = d * (q - 8). Value j (j < 16) is the low nibble of
 * qs[j], value j + 16 its high nibble, as in ggml. 18 bytes. */
typedef struct ic_block_q4_0 {
    uint16_t d;
    uint8_t qs[IC_QK / 2];
} ic_block_q4_0;

/* q8_0s: a q8_0 block (the same quants, the same fp16-rounded scale) for the panel GEMV and GEMM
 * (ic_layout.h): the scale widened to f32 and c = -128 * d * sum(qs), the block's correction for
 * q8_0 weights stored as q + 128, so that it costs the kernels no pass over the activations per
 * call and no multiply per block (q4_0's correction, -8 * d * sum(qs), is c / 16). c is exact:
 * d has 11 significant bits and |sum(qs)| < 2^12, so d * sum(qs) fits a float's 24, and the
 * powers of two only move the exponent. The quants come first and the block is 40 bytes, so
 * each 4-byte word a kernel broadcasts is aligned. */
typedef struct ic_block_q8_0s {
    int8_t qs[IC_QK];
    float d, c;
} ic_block_q8_0s;

_Static_assert(sizeof(ic_block_q8_0s) == 40, "q8_0s block: 32 quants and two floats");
_Static_assert(sizeof(ic_block_q8_0) == 34, "q8_0 block must match ggml's 34-byte layout");
_Static_assert(sizeof(ic_block_q4_0) == 18, "q4_0 block must match ggml's 18-byte layout");

/* The dtype's name as used on the command line and in benchmark names ("f32", "q8_0", ...), or
 * NULL for an invalid value. */
const char *ic_dtype_name(ic_dtype t);

/* Parses a dtype name; returns 0 and sets *out, or -1 if the name is unknown. */
int ic_dtype_parse(const char *name, ic_dtype *out);

/* Parses a weight type (--dtype, a result's model.dtype): returns 0 and sets *out, or -1 with a
 * message: the valid names, or that a KV-cache-only type such as f16 is not a weight type. */
int ic_dtype_parse_weight(const char *name, ic_dtype *out, char *err, size_t errlen);

/* Parses a KV-cache type (--kv-dtype, a result's kv_dtype): returns 0 and sets *out, or -1 with a
 * message naming the valid ones (f16, bf16, f32, q8_0). */
int ic_dtype_parse_kv(const char *name, ic_dtype *out, char *err, size_t errlen);

/* Whether t is a weight type (f32, bf16, q8_0, q4_0): what --dtype and the model files accept. */
int ic_dtype_is_weight(ic_dtype t);

/* Whether t is a KV-cache type (f32, f16, bf16, q8_0): what --kv-dtype accepts. */
int ic_dtype_is_kv(ic_dtype t);

/* Elements per block: 1 for f32, f16 and bf16, 32 for the quantized types. */
size_t ic_dtype_block(ic_dtype t);

/* Bytes of one row of k elements, or 0 when k is not a multiple of the block size. */
size_t ic_row_bytes(ic_dtype t, size_t k);

/* IEEE half precision to single, exact for every input including subnormals, inf and NaN. */
static inline float ic_fp16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while ((man & 0x400u) == 0) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ffu;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Single to IEEE half, round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t ic_f32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or NaN */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        if (absx < 0x33000000u) return (uint16_t)sign; /* < 2^-25 rounds to zero */
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((absx >> 13) - ((127 - 15) << 10));
    uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

/* bfloat16 to single: exact. */
static inline float ic_bf16_to_f32(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Single to bfloat16, round to nearest even; NaN stays a quiet NaN. */
static inline uint16_t ic_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif
