/* Probe loops: the small kernels that measure this host's ceilings (read bandwidth, peak FLOP/s
 * and integer OP/s per ISA). They are not ops of the model, so they stay out of the variant lists;
 * the harness (harness/probes.c) calls them directly after checking the CPU features.
 *
 * Read loops: read `bytes` bytes at buf (64-byte aligned, bytes a multiple of 64) and return the
 * sum of its 64-bit words (exact while it stays below 2^53), so no load can be dropped and tests
 * can check that every byte was read.
 * Peak loops: run iters iterations of independent multiply-accumulate chains on registers only,
 * set *ops_per_iter to the arithmetic operations per iteration (a fused multiply-add, or one
 * integer product plus its accumulation, counts as 2), and return a value depending on all chains.
 */
#ifndef IC_PROBE_H
#define IC_PROBE_H

#include <stddef.h>
#include <stdint.h>

typedef double ic_probe_read_fn(const void *buf, size_t bytes);
typedef double ic_probe_peak_fn(uint64_t iters, double *ops_per_iter);

/* Portable C, compiled for the baseline ISA (kernels/ref/probe_ref.c). */
ic_probe_read_fn ic_probe_read_ref;
ic_probe_peak_fn ic_probe_fma_f32_ref;

#if defined(__x86_64__)
ic_probe_read_fn ic_probe_read_avx2;           /* kernels/x86/probe_avx2.c */
ic_probe_peak_fn ic_probe_fma_f32_avx2;        /* 256-bit FMA */
ic_probe_peak_fn ic_probe_dot_int8_avx2;       /* vpmaddubsw + vpmaddwd + vpaddd */
ic_probe_read_fn ic_probe_read_avx512;         /* kernels/x86/probe_avx512.c */
ic_probe_peak_fn ic_probe_fma_f32_avx512;      /* 512-bit FMA */
ic_probe_peak_fn ic_probe_dot_int8_avx512vnni; /* kernels/x86/probe_avx512vnni.c: vpdpbusd zmm */
ic_probe_peak_fn ic_probe_dot_int8_avxvnni;    /* kernels/x86/probe_avxvnni.c: vpdpbusd ymm (VEX) */
ic_probe_peak_fn ic_probe_dot_bf16_avx512bf16; /* kernels/x86/probe_avx512bf16.c: vdpbf16ps zmm */
ic_probe_peak_fn ic_probe_dot_int8_amx;        /* kernels/x86/probe_amx.c: tdpbusd tiles */
ic_probe_peak_fn ic_probe_dot_bf16_amx;        /* kernels/x86/probe_amx.c: tdpbf16ps tiles */
#endif

#endif
