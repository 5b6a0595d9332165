/* AMX probe loops: tdpbusd (16 x 16 x 64 u8 x s8 products) and tdpbf16ps (16 x 16 x 32 bf16
 * products into f32) on full tiles. Four accumulator tiles (every pair of two A and two B tiles)
 * so that each tile multiply waits on its own chain only. Needs the tile permission the CPU
 * detection asks for (kernels/cpu.c). */
#if !defined(__AMX_INT8__) && !defined(__AMXINT8__) /* GCC, clang */
#error "probe_amx.c needs -mamx-tile -mamx-int8 (cmake/isa.cmake gives it by the file name)"
#endif
#if !defined(__AMX_BF16__) && !defined(__AMXBF16__)
#error "probe_amx.c needs -mamx-bf16 (cmake/isa.cmake gives it by the file name)"
#endif
#include <immintrin.h>
#include <string.h>

#include "amx_util.h"
#include "ic_probe.h"

/* Palette 1, all eight tiles 16 rows of 64 bytes. */
static void configure(void) {
    static const uint8_t rows[8] = {16, 16, 16, 16, 16, 16, 16, 16};
    static const uint16_t colsb[8] = {64, 64, 64, 64, 64, 64, 64, 64};
    ic_amx_configure(rows, colsb);
}

/* The loop both probes share: A tiles from a, B tiles from b (16 rows of 64 bytes each), the
 * tile multiply DP into four accumulators iters times, the accumulators into acc, and the sum of
 * four of their elements from different tiles. */
#define TILE_LOOP(DP, a, b, acc, iters)                                                            \
    do {                                                                                           \
        configure();                                                                               \
        _tile_zero(0);                                                                             \
        _tile_zero(1);                                                                             \
        _tile_zero(2);                                                                             \
        _tile_zero(3);                                                                             \
        _tile_loadd(4, a, 64);                                                                     \
        _tile_loadd(5, a, 64);                                                                     \
        _tile_loadd(6, b, 64);                                                                     \
        _tile_loadd(7, b, 64);                                                                     \
        for (uint64_t i_ = 0; i_ < (iters); i_++) {                                                \
            DP(0, 4, 6);                                                                           \
            DP(1, 4, 7);                                                                           \
            DP(2, 5, 6);                                                                           \
            DP(3, 5, 7);                                                                           \
        }                                                                                          \
        _tile_stored(0, acc[0], 64);                                                               \
        _tile_stored(1, acc[1], 64);                                                               \
        _tile_stored(2, acc[2], 64);                                                               \
        _tile_stored(3, acc[3], 64);                                                               \
        _tile_release();                                                                           \
    } while (0)

double ic_probe_dot_int8_amx(uint64_t iters, double *ops_per_iter) {
    signed char a[16][64], b[16][64];
    int acc[4][16][16];
    memset(a, 3, sizeof a);
    memset(b, -2, sizeof b);
    TILE_LOOP(_tile_dpbusd, a, b, acc, iters);
    *ops_per_iter = 4.0 * 16 * 16 * 64 * 2;
    return (double)acc[0][0][0] + acc[1][5][7] + acc[2][15][15] + acc[3][9][1];
}

double ic_probe_dot_bf16_amx(uint64_t iters, double *ops_per_iter) {
    unsigned short a[16][32], b[16][32];
    float acc[4][16][16];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 32; j++) a[i][j] = 0x3f80, b[i][j] = 0xbc00; /* 1.0, -2^-7 */
    TILE_LOOP(_tile_dpbf16ps, a, b, acc, iters);
    *ops_per_iter = 4.0 * 16 * 16 * 32 * 2;
    return (double)acc[0][0][0] + acc[1][5][7] + acc[2][15][15] + acc[3][9][1];
}
