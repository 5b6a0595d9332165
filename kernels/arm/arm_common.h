/* Helpers for every aarch64 variant, NEON or SVE. */
#ifndef IC_ARM_COMMON_H
#define IC_ARM_COMMON_H

#include <string.h>

#include "../ic_types.h"

/* fp16 to f32 with the hardware's FCVT (base Armv8; exact for every half, subnormals included):
 * ic_fp16_to_f32 is portable C with branches, and was most of the per-block cost of the quantized
 * kernels in the instruction counts. */
static inline float ic__fp16_to_f32(uint16_t h) {
    __fp16 f;
    memcpy(&f, &h, sizeof f);
    return (float)f;
}

#endif
