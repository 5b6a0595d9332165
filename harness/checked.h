/* Checked size arithmetic. Every size that is multiplied or summed from a user-given shape goes
 * through these: they saturate at UINT64_MAX instead of wrapping, so that a sum of products that
 * does not fit in 64 bits stays "too large" all the way to the check against a cap. */
#ifndef IC_CHECKED_H
#define IC_CHECKED_H

#include <stdint.h>

#define IC_SIZE_SATURATED UINT64_MAX

/* a * b, or IC_SIZE_SATURATED when it does not fit. */
static inline uint64_t ic_size_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? IC_SIZE_SATURATED : r;
}

/* a + b, or IC_SIZE_SATURATED when it does not fit. */
static inline uint64_t ic_size_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? IC_SIZE_SATURATED : r;
}

/* a * b * c, saturating. */
static inline uint64_t ic_size_mul3(uint64_t a, uint64_t b, uint64_t c) {
    return ic_size_mul(ic_size_mul(a, b), c);
}

/* n rounded up to a multiple of 64, saturating. */
static inline uint64_t ic_size_align64(uint64_t n) {
    uint64_t r = ic_size_add(n, 63);
    return r == IC_SIZE_SATURATED ? r : r & ~(uint64_t)63;
}

#endif
