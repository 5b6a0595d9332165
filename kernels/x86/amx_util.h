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

/* The weights the next panel (or panel pair) of a GEMM will read, fetched into L2 while the
 * current one runs: up to two regions of whole lines, line j of each at the same call, `per`
 * lines of each at every ic_amx_fetch_next, so that the fetch is spread over the steps of the
 * current panel instead of the next one's first tile loads waiting on memory. (Region 0's lines
 * and then region 1's measured 5-10% slower in the bf16 GEMM than the two side by side.) */
typedef struct {
    const char *base[2];
    size_t lines[2], next, per;
} ic_amx_next;

/* Regions a (a_bytes; NULL: none) and b (b_bytes; NULL: none), spread over `steps` calls. */
static inline ic_amx_next ic_amx_next_init(const void *a, size_t a_bytes, const void *b,
                                           size_t b_bytes, size_t steps) {
    ic_amx_next s = {{(const char *)a, (const char *)b},
                     {a ? (a_bytes + 63) / 64 : 0, b ? (b_bytes + 63) / 64 : 0},
                     0,
                     0};
    const size_t most = s.lines[0] > s.lines[1] ? s.lines[0] : s.lines[1];
    s.per = steps ? (most + steps - 1) / steps : most;
    return s;
}

static inline void ic_amx_fetch_next(ic_amx_next *s) {
    for (size_t n = s->per; n > 0; n--, s->next++) {
        if (s->next < s->lines[0]) _mm_prefetch(s->base[0] + s->next * 64, _MM_HINT_T1);
        if (s->next < s->lines[1]) _mm_prefetch(s->base[1] + s->next * 64, _MM_HINT_T1);
    }
}

#endif
