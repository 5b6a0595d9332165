/* The software prefetch of the x86 attention kernels (attention_avx512_body.h,
 * attention_avx2_body.h). Both walk a tile of positions twice: the keys four positions at a time
 * across the range's KV heads, then the values once per KV head down the whole tile. As the kernel
 * starts scoring KV head g of positions [p, p + 4), it prefetches g's key and value pieces of the
 * four positions IC_ATTN_PREFETCH_BYTES of both caches further on, so a tile's values are in cache
 * before the value loop walks them. An earlier stream went through the values row by row at the
 * pace of that walk, and so reached a third of a tile's value lines after the loop had read them.
 *
 * History. llama-3.2-1b q8_0, f16 KV, `infercost run --prefill 0`, 2-vCPU Sapphire-Rapids-class
 * VM: a stream that took each position's key row and then its value row, advanced by a loop that
 * kept its place line by line, took decode at ctx 32768 from 9.2-9.5 to 11.3-12.2 tok/s with
 * AVX-512 and from 7.4 to 10.3-10.4 under IC_ISA=avx2 (no prefetch before); at ctx 4096 from
 * 19.0-19.7 to 20.0-20.8 and from 18.9-19.2 to 21.2-21.3. 32 KiB of distance and prefetcht1
 * measured no better there, nor 8 and 32 KiB on Zen 5. This step prefetches the same lines at the
 * same distance with the addresses computed outright. On the Zen 5 dev VM (llama-3.2-1b's heads,
 * f16, one thread, the cache in L2; medians of 41 alternating rounds) the f16 kernel with it and
 * the score tree of attention_avx512_body.h takes 0.85 of the time it took with the stream, the
 * AVX2 one 0.93. In the model's decode (llama-3.2-1b q8_0, 2 workers; two forwards in one
 * process, one with the old kernel, alternating token by token; medians of 100 and 40 tokens)
 * attention took 5.41 -> 4.79 ms a token at ctx 4096 and 39.6 -> 34.3 ms at ctx 32768, where the
 * token went from 66.6 to 61.4 ms. A standalone driver of the kernel alone over 16 layers' caches
 * showed no difference cold (28-33 GB/s both). */
#ifndef IC_X86_ATTENTION_PREFETCH_H
#define IC_X86_ATTENTION_PREFETCH_H

#include <immintrin.h>
#include <stddef.h>

#include "../ic_types.h"

/* How far the prefetches run ahead of the key reads, in bytes of both caches. */
#define IC_ATTN_PREFETCH_BYTES 16384

typedef struct {
    const char *k, *v; /* position 0's key and value rows */
    size_t rb;         /* bytes between rows */
    size_t hb;         /* bytes of one KV head's piece of a row */
    size_t ahead;      /* positions ahead: a multiple of 4, at least 4 */
    size_t np;         /* positions */
    size_t head_begin; /* the call's first query head */
    size_t group;      /* query heads a KV head */
} ic_attn_pf;

/* The prefetch over positions [0, np) of caches kc and vc (rows rb bytes apart, KV heads of
 * head_dim d values of type kv) for a call over query heads from head_begin on, group a KV head. */
static inline ic_attn_pf ic_attn_pf_start(ic_dtype kv, const void *kc, const void *vc, size_t rb,
                                          size_t np, size_t d, size_t head_begin, size_t group) {
    size_t ahead = (IC_ATTN_PREFETCH_BYTES / (2 * rb)) & ~(size_t)3;
    if (ahead < 4) ahead = 4;
    const ic_attn_pf s = {kc, vc, rb, ic_row_bytes(kv, d), ahead, np, head_begin, group};
    return s;
}

/* Called as the chunk of query heads from h is about to be scored at positions [p, p + 4): when
 * it is the first chunk of its KV head g in the call (a KV head's heads may be scored in several
 * chunks), prefetches g's key and value pieces of positions [p + ahead, p + ahead + 4), where
 * those are all cached positions. The
 * lines are taken from the start of the line a piece begins in, counted from the caches' start
 * (both are 64-byte aligned where the model allocates them), so no address falls outside the
 * caches: no piece of position 0 is asked for, and none past the piece's last byte.
 *
 * Always inlined: GCC 12 judged this helper, as a function, to have no effect (a prefetch is not
 * one to it) and dropped every call, so that the kernels had no prefetch at all
 * (tests/prefetch_test.sh checks that they have). Not ic_x86_prefetch: with its volatile asm, a
 * read of the line to the compiler, the kernel took 13.2 ns per position and KV head in cache
 * against the stream's 11.1; and a clamp of each piece's last address cost 12% over this step. */
static inline __attribute__((always_inline)) void ic_attn_pf_step(const ic_attn_pf *s, size_t p,
                                                                  size_t h) {
    if ((h != s->head_begin && h % s->group != 0) || p + s->ahead + 4 > s->np) return;
    const size_t off = (p + s->ahead) * s->rb + h / s->group * s->hb;
    for (size_t r = 0; r < 4; r++) {
        const size_t at = off + r * s->rb, lead = at & 63;
        const char *k = s->k + (at - lead), *v = s->v + (at - lead);
        for (size_t o = 0; o < s->hb + lead; o += 64) {
            _mm_prefetch(k + o, _MM_HINT_T0);
            _mm_prefetch(v + o, _MM_HINT_T0);
        }
    }
}

#endif
