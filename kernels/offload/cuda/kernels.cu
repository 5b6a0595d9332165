/* The CUDA backend's own kernels: synthetic weights, embedding, RMSNorm, RoPE with the KV append,
 * SwiGLU, activation conversion and q8_0 quantization, flash-decoding attention, the q8_0/q4_0
 * GEMV, the dequantization that feeds prefill's cuBLAS GEMMs, and the read probe. Each computes
 * what its scalar reference in kernels/ref computes (same formulas, same order where the
 * reference rounds), so the tests can hold it to the reference's results. */
#include "cuda_common.cuh"

#include <math.h>

namespace {

constexpr uint64_t GOLD = 0x9e3779b97f4a7c15ull;

__device__ __forceinline__ uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* harness/forward.c's uniform draw in [-1, 1). */
__device__ __forceinline__ float uniform(uint64_t r) {
    return (float)((double)(r >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

/* Blocks for one thread per item, at most 65535: the grid-stride loops below cover the rest. */
inline unsigned grid_for(uint64_t items, unsigned threads) {
    uint64_t g = (items + threads - 1) / threads;
    if (g > 65535) g = 65535;
    return g ? (unsigned)g : 1;
}

/* ---- synthetic data ---- */

/* One thread per unit of harness/forward.c's stream: a bf16 value, 8 q8_0 codes or 8 bytes of
 * q4_0 nibbles. Unit u of a row is drawn from the row's stream advanced u + 1 times. */
__global__ void fill_weights_kernel(unsigned char *w, ic_dtype t, uint64_t rows, uint64_t k,
                                    float a, uint16_t d16, uint64_t seed, uint64_t id) {
    const uint64_t per_row = t == IC_DT_BF16 ? k : t == IC_DT_Q8_0 ? k / 8 : k / 16;
    const uint64_t total = rows * per_row;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const uint64_t row = i / per_row, u = i % per_row;
        const uint64_t s0 = mix64(seed ^ mix64(id * GOLD + row));
        const uint64_t r = mix64(s0 + (u + 1) * GOLD);
        if (t == IC_DT_BF16) {
            ((__nv_bfloat16 *)w)[row * k + u] = __float2bfloat16_rn(uniform(r) * a);
        } else if (t == IC_DT_Q8_0) {
            unsigned char *blk = w + row * (k / IC_QK * 34) + u / 4 * 34;
            if (u % 4 == 0) *(uint16_t *)blk = d16;
            signed char *qs = (signed char *)blk + 2 + u % 4 * 8;
            for (int b = 0; b < 8; b++) {
                const signed char q = (signed char)(r >> (8 * b));
                qs[b] = q == -128 ? -127 : q;
            }
        } else {
            unsigned char *blk = w + row * (k / IC_QK * 18) + u / 2 * 18;
            if (u % 2 == 0) *(uint16_t *)blk = d16;
            unsigned char *qs = blk + 2 + u % 2 * 8;
            for (int b = 0; b < 8; b++) qs[b] = (unsigned char)(r >> (8 * b));
        }
    }
}

__global__ void fill_f32_kernel(float *p, uint64_t n, float v) {
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) p[i] = v;
}

__global__ void fill_f16_kernel(__half *p, uint64_t n, uint64_t seed) {
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        p[i] = __float2half_rn(uniform(mix64(seed + (i + 1) * GOLD)));
}

/* ---- elementwise ---- */

/* Element j of a row of type t (ic_dequantize_*_ref's formulas). Blocks are 2-byte aligned. */
__device__ __forceinline__ float dequant_at(const unsigned char *row, ic_dtype t, int j) {
    if (t == IC_DT_BF16) return __bfloat162float(((const __nv_bfloat16 *)row)[j]);
    if (t == IC_DT_Q8_0) {
        const unsigned char *blk = row + (j / IC_QK) * 34;
        const float d = __half2float(*(const __half *)blk);
        return d * (float)((const signed char *)blk)[2 + j % IC_QK];
    }
    const unsigned char *blk = row + (j / IC_QK) * 18;
    const float d = __half2float(*(const __half *)blk);
    const int jj = j % IC_QK, b = blk[2 + (jj & 15)];
    return d * (float)((jj < 16 ? b & 15 : b >> 4) - 8);
}

__global__ void embed_kernel(const unsigned char *table, ic_dtype t, size_t row_bytes, int d,
                             int vocab, ic_cuda_rows rp, uint64_t seed, float *x) {
    const int r = blockIdx.x;
    const uint64_t pos = (uint64_t)(rp.pos0 + r * rp.pos_step), seq = (uint64_t)r * rp.seq_step;
    const uint64_t tok = mix64(seed ^ mix64(seq * GOLD + pos)) % (uint64_t)vocab;
    const unsigned char *row = table + tok * row_bytes;
    for (int j = threadIdx.x; j < d; j += blockDim.x) x[(size_t)r * d + j] = dequant_at(row, t, j);
}

/* Writes value v of element j0 + lane of row r in every format of o. The 32 lanes of a warp call
 * it together for one 32-aligned piece of the row (n is a multiple of 32 when o.q is set): a q8_0
 * block is quantized as ic_quantize_q8_0_ref does, d = max|x| / 127 and q = round(x / d), with
 * the scale kept as its fp16 rounding. */
__device__ __forceinline__ void write_act(const ic_cuda_act &o, size_t r, int j0, int n, float v) {
    const int lane = threadIdx.x & 31, j = j0 + lane;
    if (o.f32 && j < n) o.f32[r * o.f32_ld + j] = v;
    if (o.bf && j < n) o.bf[r * o.bf_ld + j] = __float2bfloat16_rn(v);
    if (o.q) {
        const float amax = warp_max(fabsf(v));
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        o.q[r * o.q_ld + j] = (int8_t)roundf(v * id);
        if (lane == 0) o.qd[r * o.qd_ld + j0 / 32] = __half2float(__float2half_rn(d));
    }
}

/* One block per row. The sum of squares is kept in double, as ic_rmsnorm_ref keeps it. */
__global__ void rmsnorm_kernel(const float *x, size_t x_ld, const float *w, int n, float eps,
                               ic_cuda_act o) {
    __shared__ double part[32];
    __shared__ float scale_s;
    const int r = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int nwarps = blockDim.x / 32;
    const float *xr = x + (size_t)r * x_ld;
    double ss = 0.0;
    for (int j = threadIdx.x; j < n; j += blockDim.x) ss += (double)xr[j] * xr[j];
    ss = warp_sum_d(ss);
    if (lane == 0) part[warp] = ss;
    __syncthreads();
    if (warp == 0) {
        double t = lane < nwarps ? part[lane] : 0.0;
        t = warp_sum_d(t);
        if (lane == 0) scale_s = (float)(1.0 / sqrt(t / (double)n + eps));
    }
    __syncthreads();
    const float scale = scale_s;
    for (int j0 = warp * 32; j0 < n; j0 += nwarps * 32) {
        const int j = j0 + lane;
        const float v = j < n ? xr[j] * scale * w[j] : 0.0f;
        write_act(o, r, j0, n, v);
    }
}

/* One warp per 32-element piece of a row, grid-stride over all pieces. */
__global__ void convert_kernel(const float *x, size_t x_ld, int rows, int n, ic_cuda_act o) {
    const int pieces = (n + 31) / 32;
    const uint64_t total = (uint64_t)rows * pieces;
    const uint64_t wstride = (uint64_t)gridDim.x * (blockDim.x / 32);
    for (uint64_t i = ((uint64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; i < total;
         i += wstride) {
        const uint64_t r = i / pieces;
        const int j0 = (int)(i % pieces) * 32, j = j0 + (threadIdx.x & 31);
        write_act(o, r, j0, n, j < n ? x[r * x_ld + j] : 0.0f);
    }
}

__global__ void swiglu_kernel(const float *gu, size_t gu_ld, int rows, int n, ic_cuda_act o) {
    const int pieces = (n + 31) / 32;
    const uint64_t total = (uint64_t)rows * pieces;
    const uint64_t wstride = (uint64_t)gridDim.x * (blockDim.x / 32);
    for (uint64_t i = ((uint64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; i < total;
         i += wstride) {
        const uint64_t r = i / pieces;
        const int j0 = (int)(i % pieces) * 32, j = j0 + (threadIdx.x & 31);
        float v = 0.0f;
        if (j < n) {
            const float g = gu[r * gu_ld + j], u = gu[r * gu_ld + n + j];
            v = g / (1.0f + expf(-g)) * u; /* ic_swiglu_ref's expression */
        }
        write_act(o, r, j0, n, v);
    }
}

/* One block per row; threadIdx.x walks the pairs, threadIdx.y the heads. The angle is computed
 * in double as ic_rope_ref computes it (pos * theta^(-2i/d) reaches 1e5 radians at long
 * contexts, where float would be off by 1e-2). */
__global__ void rope_kernel(float *x, size_t ld, int n_rot_heads, int q_heads, int hd,
                            ic_cuda_rows rp, float theta, __half *kc, size_t v_off,
                            size_t seq_stride, int kvd) {
    const int r = blockIdx.x;
    const int pos = rp.pos0 + r * rp.pos_step;
    const size_t seq = (size_t)r * rp.seq_step;
    float *row = x + (size_t)r * ld;
    const size_t slot = seq * seq_stride + (size_t)pos * kvd; /* this token in the caches */
    for (int i = threadIdx.x; i < hd / 2; i += blockDim.x) {
        const double freq = pow((double)theta, -2.0 * (double)i / (double)hd);
        const double angle = (double)pos * freq;
        const float c = (float)cos(angle), s = (float)sin(angle);
        for (int h = threadIdx.y; h < n_rot_heads; h += blockDim.y) {
            float *p = row + (size_t)h * hd + 2 * i;
            const float a = p[0], b = p[1];
            const float y0 = a * c - b * s, y1 = a * s + b * c;
            p[0] = y0;
            p[1] = y1;
            if (kc && h >= q_heads) {
                __half *k = kc + slot + (size_t)(h - q_heads) * hd + 2 * i;
                k[0] = __float2half_rn(y0);
                k[1] = __float2half_rn(y1);
            }
        }
    }
    if (kc) {
        const float *v = row + (size_t)n_rot_heads * hd;
        const int t = threadIdx.y * blockDim.x + threadIdx.x, nt = blockDim.x * blockDim.y;
        for (int e = t; e < kvd; e += nt) kc[v_off + slot + e] = __float2half_rn(v[e]);
    }
}

/* ---- attention ---- */

constexpr int ATT_WARPS = 4; /* warps of one split's block, each walking every 4th position */
constexpr int ATT_GMAX = 8;  /* query heads of one KV head that one block handles */

/* One block per (row, split, KV head, group of up to 8 of its query heads): the block reads each
 * key and value of its span once for all its query heads. A warp takes a position, each lane a
 * pair of elements of it per PPL, and keeps an online softmax (running max, sum and output) per
 * head; the block's warps are merged at the end. head_dim <= 64 * PPL. */
template <int PPL>
__global__ void __launch_bounds__(ATT_WARPS * 32)
    attn_split_kernel(const float *__restrict__ q, size_t q_ld, const __half *__restrict__ kc,
                      const __half *__restrict__ vc, size_t seq_stride, int kvd, int n_head,
                      int n_head_kv, int hd, ic_cuda_rows rp, int n_split, int chunk, float scale,
                      float *__restrict__ part_o, float2 *__restrict__ part_ml) {
    constexpr int HDM = PPL * 64;
    __shared__ __align__(16) float qs[ATT_GMAX][HDM];
    __shared__ float sm_m[ATT_WARPS][ATT_GMAX], sm_l[ATT_WARPS][ATT_GMAX];
    __shared__ float sm_o[ATT_WARPS][ATT_GMAX][HDM];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int split = blockIdx.x % n_split, row = blockIdx.x / n_split;
    const int group = n_head / n_head_kv, chunks = (group + ATT_GMAX - 1) / ATT_GMAX;
    const int g = blockIdx.y / chunks, h0 = g * group + (int)(blockIdx.y % chunks) * ATT_GMAX;
    const int nh = min(ATT_GMAX, g * group + group - h0);
    const int n_pos = rp.pos0 + row * rp.pos_step + 1;
    const size_t seq = (size_t)row * rp.seq_step;
    const int p0 = split * chunk, p1 = min(n_pos, p0 + chunk);
    const int npair = hd / 2;

    /* q scaled by 1/sqrt(head_dim) once, instead of every score (ic_attention_f32_ref scales the
     * scores; the difference is one rounding). */
    for (int e = threadIdx.x; e < ATT_GMAX * HDM; e += blockDim.x) {
        const int h = e / HDM, j = e % HDM;
        qs[h][j] =
            h < nh && j < hd ? q[(size_t)row * q_ld + (size_t)(h0 + h) * hd + j] * scale : 0.0f;
    }
    __syncthreads();

    float m[ATT_GMAX], l[ATT_GMAX];
    float2 acc[ATT_GMAX][PPL];
#pragma unroll
    for (int h = 0; h < ATT_GMAX; h++) {
        m[h] = -INFINITY;
        l[h] = 0.0f;
#pragma unroll
        for (int i = 0; i < PPL; i++) acc[h][i] = make_float2(0.0f, 0.0f);
    }
    const size_t base = seq * seq_stride + (size_t)g * hd;
    for (int p = p0 + warp; p < p1; p += ATT_WARPS) {
        const __half2 *kp = (const __half2 *)(kc + base + (size_t)p * kvd);
        const __half2 *vp = (const __half2 *)(vc + base + (size_t)p * kvd);
        float2 kf[PPL], vf[PPL];
#pragma unroll
        for (int i = 0; i < PPL; i++) {
            const int e = lane + 32 * i;
            kf[i] = e < npair ? __half22float2(kp[e]) : make_float2(0.0f, 0.0f);
            vf[i] = e < npair ? __half22float2(vp[e]) : make_float2(0.0f, 0.0f);
        }
#pragma unroll
        for (int h = 0; h < ATT_GMAX; h++) {
            if (h >= nh) break; /* uniform across the block */
            float dot = 0.0f;
#pragma unroll
            for (int i = 0; i < PPL; i++) {
                const float2 qq = *(const float2 *)&qs[h][2 * (lane + 32 * i)];
                dot += kf[i].x * qq.x + kf[i].y * qq.y;
            }
            const float s = warp_sum(dot);
            const float mn = fmaxf(m[h], s);
            const float c = expf(m[h] - mn), e = expf(s - mn);
            l[h] = l[h] * c + e;
#pragma unroll
            for (int i = 0; i < PPL; i++) {
                acc[h][i].x = acc[h][i].x * c + e * vf[i].x;
                acc[h][i].y = acc[h][i].y * c + e * vf[i].y;
            }
            m[h] = mn;
        }
    }
#pragma unroll
    for (int h = 0; h < ATT_GMAX; h++) {
        if (h >= nh) break;
        if (lane == 0) {
            sm_m[warp][h] = m[h];
            sm_l[warp][h] = l[h];
        }
#pragma unroll
        for (int i = 0; i < PPL; i++) {
            const int e = lane + 32 * i;
            if (e < npair) {
                sm_o[warp][h][2 * e] = acc[h][i].x;
                sm_o[warp][h][2 * e + 1] = acc[h][i].y;
            }
        }
    }
    __syncthreads();
    /* Merge the warps: each weighted by e^(m_w - M); a warp that saw no position has m = -inf
     * and weighs 0 (so does the whole span when it is empty: M = -inf, sum 0). */
    for (int e = threadIdx.x; e < nh * hd; e += blockDim.x) {
        const int h = e / hd, j = e % hd;
        float M = -INFINITY;
        for (int w = 0; w < ATT_WARPS; w++) M = fmaxf(M, sm_m[w][h]);
        float L = 0.0f, O = 0.0f;
        for (int w = 0; w < ATT_WARPS; w++) {
            const float mw = sm_m[w][h];
            const float wt = mw == -INFINITY ? 0.0f : expf(mw - M);
            L += sm_l[w][h] * wt;
            O += sm_o[w][h][j] * wt;
        }
        const size_t slot = ((size_t)row * n_head + h0 + h) * n_split + split;
        part_o[slot * hd + j] = O;
        if (j == 0) part_ml[slot] = make_float2(M, L);
    }
}

/* One block per (row, head): the spans weighted by e^(m_s - M), divided by the total sum. Span 0
 * always holds position 0, so M is finite. */
__global__ void attn_merge_kernel(const float *__restrict__ part_o,
                                  const float2 *__restrict__ part_ml, int n_head, int hd,
                                  int n_split, float *__restrict__ out, size_t out_ld) {
    __shared__ float wts[IC_CUDA_SPLIT_MAX];
    __shared__ float inv_sum;
    const int rh = blockIdx.x, row = rh / n_head, h = rh % n_head;
    const size_t slot0 = (size_t)rh * n_split;
    if (threadIdx.x < 32) {
        const int lane = threadIdx.x;
        float M = -INFINITY;
        for (int s = lane; s < n_split; s += 32) M = fmaxf(M, part_ml[slot0 + s].x);
        M = warp_max(M);
        float L = 0.0f;
        for (int s = lane; s < n_split; s += 32) {
            const float2 ml = part_ml[slot0 + s];
            const float wt = ml.x == -INFINITY ? 0.0f : expf(ml.x - M);
            wts[s] = wt;
            L += ml.y * wt;
        }
        L = warp_sum(L);
        if (lane == 0) inv_sum = 1.0f / L;
    }
    __syncthreads();
    for (int j = threadIdx.x; j < hd; j += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < n_split; s++) o += part_o[(slot0 + s) * hd + j] * wts[s];
        out[(size_t)row * out_ld + (size_t)h * hd + j] = o * inv_sum;
    }
}

/* ---- quantized GEMV ---- */

constexpr int GV_WARPS = 4; /* rows per block: one warp each */
constexpr int GV_TILE = 32; /* blocks of a row per step: one per lane */

/* One warp per weight row. The row's ggml blocks (34 or 18 bytes, so only 2-byte aligned) are
 * staged a tile of 32 blocks at a time through shared memory with aligned 16-byte loads (the
 * next tile's loads are issued before the current tile is used); then lane j takes block j of
 * the tile: its codes against each activation vector's q8_0 block, 4 products per dp4a, the
 * block's integer sum scaled by both scales, as ic_gemv_q8_0_ref/ic_gemv_q4_0_ref do. The tile's
 * last 16-byte load may read up to 15 bytes past the row: matrices are allocated with 16 spare
 * bytes. */
template <int NB, bool Q4>
__global__ void __launch_bounds__(GV_WARPS * 32)
    gemv_q_kernel(const unsigned char *__restrict__ w, int rows, int nb,
                  const int8_t *__restrict__ xq, size_t q_ld, const float *__restrict__ xd,
                  size_t qd_ld, float *__restrict__ y, size_t ldy, int accumulate) {
    constexpr int BS = Q4 ? 18 : 34;
    constexpr int CHUNKS = (14 + GV_TILE * BS + 15) / 16; /* 16-byte words of a tile, at most */
    constexpr int CPL = (CHUNKS + 31) / 32;               /* per lane */
    __shared__ __align__(16) unsigned char tile[GV_WARPS][CPL * 32 * 16];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row = blockIdx.x * GV_WARPS + warp;
    if (row >= rows) return; /* whole warps only: nothing below syncs the block */
    const unsigned char *wrow = w + (size_t)row * nb * BS;
    unsigned char *sm = tile[warp];

    float sum[NB];
#pragma unroll
    for (int v = 0; v < NB; v++) sum[v] = 0.0f;

    uint4 buf[CPL];
    int b0 = 0, nt = min(GV_TILE, nb);
    uintptr_t src = (uintptr_t)wrow, al = src & ~(uintptr_t)15;
    int lead = (int)(src - al), nch = (lead + nt * BS + 15) / 16;
#pragma unroll
    for (int c = 0; c < CPL; c++) {
        const int ch = lane + 32 * c;
        if (ch < nch) buf[c] = __ldg((const uint4 *)al + ch);
    }
    while (b0 < nb) {
        __syncwarp();
#pragma unroll
        for (int c = 0; c < CPL; c++) {
            const int ch = lane + 32 * c;
            if (ch < nch) ((uint4 *)sm)[ch] = buf[c];
        }
        __syncwarp();
        const int cur_b0 = b0, cur_nt = nt, cur_lead = lead;
        b0 += GV_TILE;
        if (b0 < nb) {
            nt = min(GV_TILE, nb - b0);
            src = (uintptr_t)(wrow + (size_t)b0 * BS);
            al = src & ~(uintptr_t)15;
            lead = (int)(src - al);
            nch = (lead + nt * BS + 15) / 16;
#pragma unroll
            for (int c = 0; c < CPL; c++) {
                const int ch = lane + 32 * c;
                if (ch < nch) buf[c] = __ldg((const uint4 *)al + ch);
            }
        }
        if (lane < cur_nt) {
            const unsigned char *blk = sm + cur_lead + lane * BS;
            const float dw = __half2float(*(const __half *)blk);
            const unsigned short *q16 = (const unsigned short *)(blk + 2);
            constexpr int NW = Q4 ? 4 : 8;
            int wq[NW];
#pragma unroll
            for (int i = 0; i < NW; i++)
                wq[i] = (int)((unsigned)q16[2 * i] | ((unsigned)q16[2 * i + 1] << 16));
            const size_t bi = (size_t)cur_b0 + lane;
#pragma unroll
            for (int v = 0; v < NB; v++) {
                const int4 *xp = (const int4 *)(xq + v * q_ld + bi * 32);
                const int4 x0 = __ldg(xp), x1 = __ldg(xp + 1);
                const int xs[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
                int acc = 0;
                if (Q4) {
                    /* value j < 16: low nibble of byte j, against x[j]; j + 16: its high
                     * nibble, against x[j + 16]; each minus 8 */
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        const unsigned u = (unsigned)wq[i];
                        const int lo = (int)__vsub4(u & 0x0f0f0f0fu, 0x08080808u);
                        const int hi = (int)__vsub4((u >> 4) & 0x0f0f0f0fu, 0x08080808u);
                        acc = __dp4a(lo, xs[i], acc);
                        acc = __dp4a(hi, xs[4 + i], acc);
                    }
                } else {
#pragma unroll
                    for (int i = 0; i < 8; i++) acc = __dp4a(wq[i], xs[i], acc);
                }
                sum[v] += dw * xd[v * qd_ld + bi] * (float)acc;
            }
        }
    }
#pragma unroll
    for (int v = 0; v < NB; v++) {
        const float s = warp_sum(sum[v]);
        if (lane == 0) {
            float *out = y + v * ldy + row;
            *out = accumulate ? *out + s : s;
        }
    }
}

/* One thread per block of 32: its values as 32 bf16. */
__global__ void dequant_bf16_kernel(const unsigned char *w, ic_dtype t, int rows, int k,
                                    __nv_bfloat16 *out) {
    const int nb = k / IC_QK, bs = t == IC_DT_Q8_0 ? 34 : 18;
    const uint64_t total = (uint64_t)rows * nb;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const unsigned char *blk = w + i * bs; /* rows are whole blocks: block i of the matrix */
        const float d = __half2float(*(const __half *)blk);
        unsigned words[16]; /* value pairs as packed bf16x2 */
        for (int j = 0; j < 16; j++) {
            float a, b;
            if (t == IC_DT_Q8_0) {
                a = d * (float)((const signed char *)blk)[2 + 2 * j];
                b = d * (float)((const signed char *)blk)[3 + 2 * j];
            } else {
                /* values 2j and 2j+1: low nibbles of bytes 2j, 2j+1 in the block's first half,
                 * high nibbles of bytes 2j-16, 2j-15 in its second */
                const int j0 = 2 * j, j1 = 2 * j + 1;
                const int q0 = j0 < 16 ? blk[2 + j0] & 15 : blk[2 + j0 - 16] >> 4;
                const int q1 = j1 < 16 ? blk[2 + j1] & 15 : blk[2 + j1 - 16] >> 4;
                a = d * (float)(q0 - 8);
                b = d * (float)(q1 - 8);
            }
            const __nv_bfloat162 v2 = __floats2bfloat162_rn(a, b); /* .x = a, the lower half */
            words[j] = *(const unsigned *)&v2;
        }
        uint4 *dst = (uint4 *)(out + i * IC_QK); /* 64-byte aligned: k is a multiple of 32 */
        for (int c = 0; c < 4; c++)
            dst[c] = make_uint4(words[4 * c], words[4 * c + 1], words[4 * c + 2], words[4 * c + 3]);
    }
}

/* ---- read probe ---- */

__global__ void read_kernel(const uint4 *__restrict__ p, uint64_t n, unsigned *sink) {
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned acc = 0;
    for (; i + 3 * stride < n; i += 4 * stride) {
        const uint4 a = __ldcs(p + i), b = __ldcs(p + i + stride);
        const uint4 c = __ldcs(p + i + 2 * stride), d = __ldcs(p + i + 3 * stride);
        acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w;
        acc ^= c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
    }
    for (; i < n; i += stride) {
        const uint4 a = __ldcs(p + i);
        acc ^= a.x ^ a.y ^ a.z ^ a.w;
    }
    if (acc == 0x9e3779b9u) *sink = acc; /* data-dependent: the loads cannot be dropped */
}

} // namespace

/* ---- launchers ---- */

cudaError_t ic_cuda__fill_weights(void *w, ic_dtype t, uint64_t rows, uint64_t k, float a,
                                  uint64_t seed, uint64_t id, cudaStream_t st) {
    const uint64_t units = rows * (t == IC_DT_BF16 ? k : t == IC_DT_Q8_0 ? k / 8 : k / 16);
    const uint16_t d16 = t == IC_DT_Q8_0   ? ic_f32_to_fp16(a / 127.0f)
                         : t == IC_DT_Q4_0 ? ic_f32_to_fp16(a / 8.0f)
                                           : 0;
    fill_weights_kernel<<<grid_for(units, 256), 256, 0, st>>>((unsigned char *)w, t, rows, k, a,
                                                              d16, seed, id);
    return cudaGetLastError();
}

cudaError_t ic_cuda__fill_f32(float *p, uint64_t n, float v, cudaStream_t st) {
    fill_f32_kernel<<<grid_for(n, 256), 256, 0, st>>>(p, n, v);
    return cudaGetLastError();
}

cudaError_t ic_cuda__fill_f16(__half *p, uint64_t n, uint64_t seed, cudaStream_t st) {
    fill_f16_kernel<<<grid_for(n, 256), 256, 0, st>>>(p, n, seed);
    return cudaGetLastError();
}

cudaError_t ic_cuda__embed(const void *table, ic_dtype t, int d, int vocab, int rows,
                           ic_cuda_rows rp, uint64_t seed, float *x, cudaStream_t st) {
    const size_t rb = t == IC_DT_BF16   ? (size_t)d * 2
                      : t == IC_DT_Q8_0 ? (size_t)d / IC_QK * 34
                                        : (size_t)d / IC_QK * 18;
    embed_kernel<<<rows, 256, 0, st>>>((const unsigned char *)table, t, rb, d, vocab, rp, seed, x);
    return cudaGetLastError();
}

cudaError_t ic_cuda__rmsnorm(const float *x, size_t x_ld, const float *w, int rows, int n,
                             float eps, const ic_cuda_act *out, cudaStream_t st) {
    rmsnorm_kernel<<<rows, 256, 0, st>>>(x, x_ld, w, n, eps, *out);
    return cudaGetLastError();
}

cudaError_t ic_cuda__convert(const float *x, size_t x_ld, int rows, int n, const ic_cuda_act *out,
                             cudaStream_t st) {
    const uint64_t pieces = (uint64_t)rows * ((n + 31) / 32);
    convert_kernel<<<grid_for(pieces * 32, 256), 256, 0, st>>>(x, x_ld, rows, n, *out);
    return cudaGetLastError();
}

cudaError_t ic_cuda__swiglu(const float *gu, size_t gu_ld, int rows, int n, const ic_cuda_act *out,
                            cudaStream_t st) {
    const uint64_t pieces = (uint64_t)rows * ((n + 31) / 32);
    swiglu_kernel<<<grid_for(pieces * 32, 256), 256, 0, st>>>(gu, gu_ld, rows, n, *out);
    return cudaGetLastError();
}

cudaError_t ic_cuda__rope(float *x, size_t ld, int rows, int n_rot_heads, int q_heads, int head_dim,
                          ic_cuda_rows rp, float theta, __half *kc, size_t v_off, size_t seq_stride,
                          int kvd, cudaStream_t st) {
    const dim3 block(32, 8);
    rope_kernel<<<rows, block, 0, st>>>(x, ld, n_rot_heads, q_heads, head_dim, rp, theta, kc, v_off,
                                        seq_stride, kvd);
    return cudaGetLastError();
}

int ic_cuda__attn_splits(int rows, int n_head, int n_head_kv, int npos_max, int sm_count,
                         uint64_t part_cap) {
    const int group = n_head / n_head_kv, chunks = (group + ATT_GMAX - 1) / ATT_GMAX;
    const int64_t base = (int64_t)rows * n_head_kv * chunks, target = 2 * (int64_t)sm_count;
    int64_t n = (target + base - 1) / base;                  /* enough blocks for two per SM */
    n = n < (npos_max + 63) / 64 ? n : (npos_max + 63) / 64; /* at least ~64 positions each */
    n = n < IC_CUDA_SPLIT_MAX ? n : IC_CUDA_SPLIT_MAX;
    const int64_t fit = (int64_t)(part_cap / (uint64_t)rows); /* the partials' room */
    n = n < fit ? n : fit;
    return n < 1 ? 1 : (int)n;
}

cudaError_t ic_cuda__attention(const float *q, size_t q_ld, const __half *kc, const __half *vc,
                               size_t seq_stride, int kvd, int n_head, int n_head_kv, int head_dim,
                               int rows, ic_cuda_rows rp, int n_split, int chunk, float *part_o,
                               float2 *part_ml, float *out, size_t out_ld, cudaStream_t st) {
    const int group = n_head / n_head_kv, chunks = (group + ATT_GMAX - 1) / ATT_GMAX;
    const dim3 grid((unsigned)rows * n_split, (unsigned)(n_head_kv * chunks));
    const float scale = 1.0f / sqrtf((float)head_dim);
    if (head_dim <= 64)
        attn_split_kernel<1>
            <<<grid, ATT_WARPS * 32, 0, st>>>(q, q_ld, kc, vc, seq_stride, kvd, n_head, n_head_kv,
                                              head_dim, rp, n_split, chunk, scale, part_o, part_ml);
    else if (head_dim <= 128)
        attn_split_kernel<2>
            <<<grid, ATT_WARPS * 32, 0, st>>>(q, q_ld, kc, vc, seq_stride, kvd, n_head, n_head_kv,
                                              head_dim, rp, n_split, chunk, scale, part_o, part_ml);
    else
        attn_split_kernel<4>
            <<<grid, ATT_WARPS * 32, 0, st>>>(q, q_ld, kc, vc, seq_stride, kvd, n_head, n_head_kv,
                                              head_dim, rp, n_split, chunk, scale, part_o, part_ml);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    attn_merge_kernel<<<(unsigned)rows * n_head, 128, 0, st>>>(part_o, part_ml, n_head, head_dim,
                                                               n_split, out, out_ld);
    return cudaGetLastError();
}

namespace {

template <bool Q4>
void launch_gemv(int nb_vec, const unsigned char *w, int rows, int nb, const int8_t *xq,
                 size_t q_ld, const float *xd, size_t qd_ld, float *y, size_t ldy, int acc,
                 cudaStream_t st) {
    const unsigned grid = (unsigned)((rows + GV_WARPS - 1) / GV_WARPS);
    const unsigned threads = GV_WARPS * 32;
#define IC_GEMV_CASE(n)                                                                            \
    case n:                                                                                        \
        gemv_q_kernel<n, Q4>                                                                       \
            <<<grid, threads, 0, st>>>(w, rows, nb, xq, q_ld, xd, qd_ld, y, ldy, acc);             \
        break;
    switch (nb_vec) {
        IC_GEMV_CASE(1)
        IC_GEMV_CASE(2)
        IC_GEMV_CASE(3)
        IC_GEMV_CASE(4)
        IC_GEMV_CASE(5)
        IC_GEMV_CASE(6)
        IC_GEMV_CASE(7)
        IC_GEMV_CASE(8)
    default:
        break;
    }
#undef IC_GEMV_CASE
}

} // namespace

cudaError_t ic_cuda__gemv_q(ic_dtype t, const void *w, int rows, int k, const ic_cuda_act *act,
                            int n_vec, float *y, size_t ldy, int accumulate, cudaStream_t st) {
    const int nb = k / IC_QK;
    for (int v0 = 0; v0 < n_vec; v0 += 8) {
        const int nv = n_vec - v0 < 8 ? n_vec - v0 : 8;
        const int8_t *xq = act->q + (size_t)v0 * act->q_ld;
        const float *xd = act->qd + (size_t)v0 * act->qd_ld;
        float *yv = y + (size_t)v0 * ldy;
        if (t == IC_DT_Q4_0)
            launch_gemv<true>(nv, (const unsigned char *)w, rows, nb, xq, act->q_ld, xd, act->qd_ld,
                              yv, ldy, accumulate, st);
        else
            launch_gemv<false>(nv, (const unsigned char *)w, rows, nb, xq, act->q_ld, xd,
                               act->qd_ld, yv, ldy, accumulate, st);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

cudaError_t ic_cuda__dequant_bf16(const void *w, ic_dtype t, int rows, int k, __nv_bfloat16 *out,
                                  cudaStream_t st) {
    const uint64_t blocks = (uint64_t)rows * (k / IC_QK);
    dequant_bf16_kernel<<<grid_for(blocks, 256), 256, 0, st>>>((const unsigned char *)w, t, rows, k,
                                                               out);
    return cudaGetLastError();
}

cudaError_t ic_cuda__read(const void *p, uint64_t n16, unsigned *sink, int sm_count,
                          cudaStream_t st) {
    read_kernel<<<(unsigned)sm_count * 8, 256, 0, st>>>((const uint4 *)p, n16, sink);
    return cudaGetLastError();
}

cublasStatus_t ic_cuda__gemm_bf16(cublasHandle_t h, int rows, int n, int k, const void *w,
                                  const void *x, int ldx, float *y, int ldy, float beta) {
    /* Row-major W (rows x k) is column-major k x rows: Y^T = W X^T as op(A) = A^T. */
    const float alpha = 1.0f;
    return cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, k, &alpha, w, CUDA_R_16BF, k, x,
                        CUDA_R_16BF, ldx, &beta, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT);
}
