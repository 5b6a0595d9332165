/* The software prefetch stream of the x86 attention kernels (attention_avx512_body.h,
 * attention_avx2_body.h). Both walk a tile of positions twice: the keys four positions at a time
 * across the range's KV heads, then the values once per KV head down the whole tile. The stream
 * takes position p's key row and then its value row (the range's KV heads: `lines` lines each),
 * and the kernel advances it as it scores the keys, so a tile's values are in cache before the
 * value loop walks them. An earlier stream went through the values row by row at the pace of
 * that walk, and so reached a third of a tile's value lines after the loop had read them.
 *
 * llama-3.2-1b q8_0, f16 KV, `infercost run --prefill 0`, 2-vCPU Sapphire-Rapids-class VM:
 * decode at ctx 32768 went from 9.2-9.5 to 11.3-12.2 tok/s with AVX-512 and from 7.4 to 10.3-10.4
 * under IC_ISA=avx2 (no prefetch before); at ctx 4096 from 19.0-19.7 to 20.0-20.8 and from
 * 18.9-19.2 to 21.2-21.3. A distance of 32 KiB, and prefetcht1, measured no better; 8 and 32 KiB
 * no better on Zen 5 with the earlier stream. Two tighter loops in ic_attn_pf_advance (a fifth
 * fewer instructions) ran 10% slower at ctx 32768. */
#ifndef IC_X86_ATTENTION_PREFETCH_H
#define IC_X86_ATTENTION_PREFETCH_H

#include <immintrin.h>
#include <stddef.h>

#include "../ic_types.h"

/* How far the stream runs ahead of the key reads, in bytes. */
#define IC_ATTN_PREFETCH_BYTES 16384

typedef struct {
    const char *k, *v;    /* the range's part of position 0's key and value rows */
    size_t st, lines, np; /* bytes between rows, lines a row, positions */
    size_t p, line;       /* the next line: position, line in [0, 2 lines) (the value row's
                           * from lines on) */
    size_t share;         /* the most one chunk advances it: 4 positions of one KV head */
} ic_attn_pf;

/* Prefetches the next n lines of the stream. */
static inline void ic_attn_pf_advance(ic_attn_pf *s, size_t n) {
    while (n > 0 && s->p < s->np) {
        const size_t end = 2 * s->lines - s->line < n ? 2 * s->lines : s->line + n;
        n -= end - s->line;
        for (size_t l = s->line; l < end; l++) {
            const char *r = l < s->lines ? s->k + s->p * s->st + l * 64
                                         : s->v + s->p * s->st + (l - s->lines) * 64;
            _mm_prefetch(r, _MM_HINT_T0);
        }
        s->line = end;
        if (end < 2 * s->lines) break;
        s->line = 0;
        s->p++;
    }
}

/* The stream over positions [0, np) of caches kc and vc (rows rb bytes apart) for the KV heads
 * that query heads [head_begin, head_end) read (group query heads a KV head, head_dim d, type
 * kv), started IC_ATTN_PREFETCH_BYTES ahead. */
static inline ic_attn_pf ic_attn_pf_start(ic_dtype kv, const void *kc, const void *vc, size_t rb,
                                          size_t np, size_t head_begin, size_t head_end,
                                          size_t group, size_t d) {
    const size_t g0 = head_begin / group, g1 = (head_end - 1) / group + 1;
    const size_t skip = g0 ? ic_row_bytes(kv, g0 * d) : 0;
    ic_attn_pf s = {(const char *)kc + skip,
                    (const char *)vc + skip,
                    rb,
                    (ic_row_bytes(kv, (g1 - g0) * d) + 63) / 64,
                    np,
                    0,
                    0,
                    8 * ((ic_row_bytes(kv, d) + 63) / 64)};
    ic_attn_pf_advance(&s, IC_ATTN_PREFETCH_BYTES / 64);
    return s;
}

/* Called before each chunk of query heads is scored at positions [p, p + n4): advances the
 * stream toward IC_ATTN_PREFETCH_BYTES past those positions' key and value rows, by at most one
 * share, so a step's prefetches are spread over its chunks and never run further ahead. */
static inline void ic_attn_pf_step(ic_attn_pf *s, size_t p, size_t n4) {
    const size_t goal = 2 * (p + n4) * s->lines + IC_ATTN_PREFETCH_BYTES / 64;
    const size_t at = s->p * 2 * s->lines + s->line;
    if (goal > at) ic_attn_pf_advance(s, goal - at < s->share ? goal - at : s->share);
}

#endif
