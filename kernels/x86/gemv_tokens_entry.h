/* The driver and entry of a small-batch token path (several tokens per pass over the weights),
 * shared by the q8_0 and q4_0 VNNI GEMV files; not a public header. Before including, define:
 *   TOK_ENTRY    the entry's name (ic_gemv_tokens_fn, declared by the variant list)
 *   TOK_WBLOCK   the weight block type
 *   TOK_PREP     the per-token prepared-activation type
 *   TOK_CHUNK    blocks of x prepared per pass (a multiple of 16)
 *   TOK_PREPARE  (x, nblocks, prep): prepares blocks of one token
 *   TOK_ROWS     (T, wr, px, g, row_left, row_bytes, acc): one full 16-block group g of a
 *                4-row tile for T tokens, always_inline, adding into acc[4][4]
 *   TOK_GEMV     the type's one-token GEMV, for rows past the last tile and shapes without
 *                whole 16-block groups */

/* Rows [r0, r1) for T tokens: full 4-row tiles here, the other rows (at most 3) per token. */
static inline __attribute__((always_inline)) void tok_run(const int T, const TOK_WBLOCK *wb,
                                                          const ic_block_q8_0 *const *xt,
                                                          float *const *yt, size_t nb, size_t r0,
                                                          size_t r1, TOK_PREP *const *px) {
    const size_t r4 = r0 + (r1 - r0) / 4 * 4;
    for (size_t c = 0; c < nb; c += TOK_CHUNK) {
        const size_t nc = nb - c < TOK_CHUNK ? nb - c : TOK_CHUNK;
        for (int t = 0; t < T; t++) TOK_PREPARE(xt[t] + c, nc, px[t]);
        for (size_t r = r0; r < r4; r += 4) {
            const TOK_WBLOCK *wr[4];
            for (int i = 0; i < 4; i++) wr[i] = wb + (r + (size_t)i) * nb + c;
            __m512 acc[4][4];
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
                for (int t = 0; t < 4; t++) acc[i][t] = _mm512_setzero_ps();
            for (size_t g = 0; g < nc; g += 16)
                TOK_ROWS(T, wr, (const TOK_PREP *const *)px, g, (nb - c) * sizeof *wb,
                         nb * sizeof *wb, acc);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) {
                __m128 s = ic_x86_hsum512_x4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]);
                if (c > 0) s = _mm_add_ps(s, _mm_loadu_ps(yt[t] + r));
                _mm_storeu_ps(yt[t] + r, s);
            }
        }
    }
    if (r4 < r1)
        for (int t = 0; t < T; t++) TOK_GEMV(wb, xt[t], yt[t], nb * IC_QK, r4, r1);
}

void TOK_ENTRY(const void *w, const void *x, float *y, size_t k, size_t n, size_t ldy, size_t r0,
               size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const TOK_WBLOCK *wb = w;
    const ic_block_q8_0 *xb = x;
    if (nb % 16 != 0) { /* whole groups only (every LLM shape); otherwise one token at a time */
        for (size_t t = 0; t < n; t++) TOK_GEMV(w, xb + t * nb, y + t * ldy, k, r0, r1);
        return;
    }
    TOK_PREP prep[4];
    TOK_PREP *px[4] = {&prep[0], &prep[1], &prep[2], &prep[3]};
    for (size_t t0 = 0; t0 < n; t0 += 4) {
        const ic_block_q8_0 *xt[4];
        float *yt[4];
        const size_t T = n - t0 < 4 ? n - t0 : 4;
        for (size_t t = 0; t < T; t++) {
            xt[t] = xb + (t0 + t) * nb;
            yt[t] = y + (t0 + t) * ldy;
        }
        switch (T) {
        case 4:
            tok_run(4, wb, xt, yt, nb, r0, r1, px);
            break;
        case 3:
            tok_run(3, wb, xt, yt, nb, r0, r1, px);
            break;
        case 2:
            tok_run(2, wb, xt, yt, nb, r0, r1, px);
            break;
        default:
            tok_run(1, wb, xt, yt, nb, r0, r1, px);
            break;
        }
    }
}
