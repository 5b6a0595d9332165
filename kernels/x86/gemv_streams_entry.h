/* The one-token GEMV entries shared by the q8_0 and q4_0 VNNI GEMV files; not a public header.
 * Before including, define:
 *   GEMV_ENTRY    the plain entry's name (ic_gemv_fn)
 *   GEMV_RUNS     the four-runs entry's name (ic_gemv_runs_fn, declared by the variant list)
 *   GEMV_WBLOCK   the weight block type
 *   GEMV_PREP     the prepared-activation type (GEMV_CHUNK blocks of one token)
 *   GEMV_CHUNK    blocks of x prepared per pass
 *   GEMV_PREPARE  (x, nblocks, prep): prepares blocks of x
 *   GEMV_ROWS4    (wr, prep, g, acc): one full 16-block group g of 4 rows, adding into acc[4]
 *   GEMV_ROWS     (wr, R, prep, b0, nb, acc): blocks [b0, nb) of R <= 4 rows, adding into acc
 *
 * Rows [r0, r1) go as four streams: the range is cut in quarters and each 4-row step takes the
 * next row of every quarter, so each stream reads its rows in address order, one after the other,
 * far from the others (the read probe's pattern). Four adjacent rows at a time, the earlier walk,
 * read four short stretches 2 KiB apart at k = 2048, which the hardware prefetchers do not follow.
 * Measured on the 2-vCPU Zen 5 VM (llama-3.2-1b q8_0 decode at ctx 128, alternating with the
 * earlier walk, 18 pairs): 61-80% -> 75-88% of the read bound; q4_0 1.01-1.5x (6 pairs). The rows
 * left over go one at a time. GEMV_RUNS takes the four streams from the caller instead, which
 * lets the harness keep them running across the pieces of a worker's share. */

/* The four streams: rows first[j] + i for j < 4 and i < n. */
void GEMV_RUNS(const void *w, const void *x, float *y, size_t k, const size_t first[4], size_t n) {
    assert(w != NULL && x != NULL && y != NULL && first != NULL && k % IC_QK == 0);
    const size_t nb = k / IC_QK;
    const GEMV_WBLOCK *wb = w;
    const ic_block_q8_0 *xb = x;
    GEMV_PREP p;
    for (size_t c = 0; c < nb; c += GEMV_CHUNK) {
        const size_t nc = nb - c < GEMV_CHUNK ? nb - c : GEMV_CHUNK;
        const size_t nfull = nc & ~(size_t)15;
        GEMV_PREPARE(xb + c, nc, &p);
        for (size_t i = 0; i < n; i++) {
            size_t row[4];
            const GEMV_WBLOCK *wr[4];
            for (int j = 0; j < 4; j++) {
                row[j] = first[j] + i;
                wr[j] = wb + row[j] * nb + c;
            }
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                             _mm512_setzero_ps()};
            for (size_t g = 0; g < nfull; g += 16) GEMV_ROWS4(wr, &p, g, acc);
            if (nfull < nc) GEMV_ROWS(wr, 4, &p, nfull, nc, acc);
            float v[4];
            _mm_storeu_ps(v, ic_x86_hsum512_x4(acc[0], acc[1], acc[2], acc[3]));
            for (int j = 0; j < 4; j++) y[row[j]] = c > 0 ? y[row[j]] + v[j] : v[j];
        }
    }
}

/* Rows [r0, r1): its quarters as the four streams, then the rows left over. */
void GEMV_ENTRY(const void *w, const void *x, float *y, size_t k, size_t r0, size_t r1) {
    assert(w != NULL && x != NULL && y != NULL && r0 <= r1 && k % IC_QK == 0);
    const size_t nb = k / IC_QK, qn = (r1 - r0) / 4;
    const size_t first[4] = {r0, r0 + qn, r0 + 2 * qn, r0 + 3 * qn};
    if (qn > 0) GEMV_RUNS(w, x, y, k, first, qn);
    const GEMV_WBLOCK *wb = w;
    const ic_block_q8_0 *xb = x;
    GEMV_PREP p;
    for (size_t c = 0; c < nb && r0 + 4 * qn < r1; c += GEMV_CHUNK) {
        const size_t nc = nb - c < GEMV_CHUNK ? nb - c : GEMV_CHUNK;
        GEMV_PREPARE(xb + c, nc, &p);
        for (size_t r = r0 + 4 * qn; r < r1; r++) {
            const GEMV_WBLOCK *wr[1] = {wb + r * nb + c};
            __m512 acc[1] = {_mm512_setzero_ps()};
            GEMV_ROWS(wr, 1, &p, 0, nc, acc);
            float s = _mm512_reduce_add_ps(acc[0]);
            y[r] = c > 0 ? y[r] + s : s;
        }
    }
}
