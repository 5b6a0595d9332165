/* Helpers shared by the AMX files (gemm_*_p16_amx.c, probe_amx.c); internal to kernels/x86/. */
#ifndef IC_AMX_UTIL_H
#define IC_AMX_UTIL_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Loads palette 1 with tiles 0 .. 7 of rows[i] rows of colsb[i] bytes. ldtilecfg goes through asm
 * with a memory operand: GCC 12 takes the builtin's pointer as unread, and in a test program it
 * dropped the stores that fill the configuration (ldtilecfg then faulted). */
static inline void ic_amx_configure(const uint8_t rows[8], const uint16_t colsb[8]) {
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; i++) c.rows[i] = rows[i], c.colsb[i] = colsb[i];
    __asm__ volatile("ldtilecfg %0" : : "m"(c));
}

/* A finished 16 tokens x 16 rows result (src: token t's 16 floats at src + 16 t) into y (token t
 * at y + t ldy): rows [lo, hi) of the panel starting at row base, lanes outside masked; stored
 * when first, else added. The panel holds at least one row of [lo, hi). */
static inline void ic_amx_panel_to_y(const float *src, float *y, size_t ldy, size_t base, size_t lo,
                                     size_t hi, int first) {
    const size_t a = lo > base ? lo - base : 0, e = hi - base < 16 ? hi - base : 16;
    const __mmask16 m = (__mmask16)(((1u << e) - 1) & ~((1u << a) - 1));
    for (int t = 0; t < 16; t++) {
        float *yt = y + (size_t)t * ldy + base;
        __m512 v = _mm512_loadu_ps(src + 16 * t);
        if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, yt));
        _mm512_mask_storeu_ps(yt, m, v);
    }
}

#endif
