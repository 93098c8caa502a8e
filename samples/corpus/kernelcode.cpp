// csrc/extend_attention.cu, cut into parts. The file read_file returns is the parts in
// order, each at its current variant, with the knob slots filled in; an idea's edit
// replaces one part's text by its next variant, so edits and later reads agree.
#include "corpus.h"

namespace tapedeck::samples::corpus {

namespace {

constexpr std::string_view kHeader[] = {R"~(// Extend attention for the ZW-M890 PPU: attention of the new (extend) tokens of each
// request against its cached prefix (gathered through kv_indices) and, causally, against
// the other extend tokens. Started as a line-by-line port of sglang's Triton kernel
// (ref/extend_attention_triton.py); see NOTES.md for what was measured on the way.
#include <cuda_fp16.h>
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "extend_attention.h"

namespace extend_attn {

)~"};

constexpr std::string_view kConfig[] = {R"~(// Tile configuration: BLOCK_M query rows and BLOCK_N keys per iteration; each warp owns
// BLOCK_M / NUM_WARPS rows. set_config() from Python overrides these for sweeps.
constexpr int HEAD_DIM = 128;
constexpr int BLOCK_M = {block_m};
constexpr int BLOCK_N = {block_n};
constexpr int NUM_WARPS = {num_warps};
constexpr int NUM_STAGES = {num_stages};
constexpr int SPLIT_CHUNK = {split_chunk};
constexpr float LOG2E = 1.4426950408889634f;
static_assert(BLOCK_M % (16 * NUM_WARPS) == 0, "each warp needs whole 16-row fragments");

)~"};

constexpr std::string_view kSmem[] = {
    R"~(// Shared-memory layout of a K or V tile: rows padded by 8 halves so that the threads of a
// warp reading one column land in different banks.
constexpr int SMEM_ROW = HEAD_DIM + 8;
__device__ __forceinline__ int smem_offset(int row, int col)
{
    return row * SMEM_ROW + col;
}

)~",
    R"~(// Shared-memory layout of a K or V tile: unpadded rows whose 16-byte chunks are XOR-
// swizzled with the row index, so row-wise stores and column-wise fragment reads of a warp
// are both conflict-free and the padding no longer costs occupancy.
constexpr int SMEM_ROW = HEAD_DIM;
__device__ __forceinline__ int smem_offset(int row, int col)
{
    const int chunk = (col >> 3) ^ (row & 7);
    return row * SMEM_ROW + (chunk << 3) + (col & 7);
}

)~",
};

constexpr std::string_view kLoads[] = {
    R"~(// Copies a BLOCK_N x HEAD_DIM tile of K or V, gathered through kv_indices, to shared
// memory. Tokens past `end` are zero-filled.
__device__ __forceinline__ void load_kv_tile(half *smem, const half *__restrict__ buf,
                                             const int32_t *__restrict__ kv_indices,
                                             int start, int end, int kv_head, int64_t stride_tok)
{
    for (int i = threadIdx.x; i < BLOCK_N * HEAD_DIM; i += NUM_WARPS * 32) {
        const int row = i / HEAD_DIM;
        const int col = i % HEAD_DIM;
        const int tok = start + row;
        half v = __float2half(0.f);
        if (tok < end)
            v = buf[int64_t(kv_indices[tok]) * stride_tok + kv_head * HEAD_DIM + col];
        smem[smem_offset(row, col)] = v;
    }
}

)~",
    R"~(// Copies a BLOCK_N x HEAD_DIM tile of K or V, gathered through kv_indices, to shared
// memory, 16 bytes per thread and step: a token row is HEAD_DIM / 8 vector loads.
__device__ __forceinline__ void load_kv_tile(half *smem, const half *__restrict__ buf,
                                             const int32_t *__restrict__ kv_indices,
                                             int start, int end, int kv_head, int64_t stride_tok)
{
    constexpr int VEC = 8;
    constexpr int VECS_PER_ROW = HEAD_DIM / VEC;
    for (int i = threadIdx.x; i < BLOCK_N * VECS_PER_ROW; i += NUM_WARPS * 32) {
        const int row = i / VECS_PER_ROW;
        const int col = (i % VECS_PER_ROW) * VEC;
        const int tok = start + row;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (tok < end) {
            const int64_t base = int64_t(kv_indices[tok]) * stride_tok + kv_head * HEAD_DIM + col;
            v = *reinterpret_cast<const uint4 *>(buf + base);
        }
        *reinterpret_cast<uint4 *>(smem + smem_offset(row, col)) = v;
    }
}

)~",
    R"~(// Starts copying a BLOCK_N x HEAD_DIM tile of K or V, gathered through kv_indices, into
// shared memory with 16-byte asynchronous copies, and returns at once; the caller waits
// with __pipeline_wait_prior(). Tokens past `end` are zero-filled by the copy itself.
__device__ __forceinline__ void load_kv_tile_async(half *smem, const half *__restrict__ buf,
                                                   const int32_t *__restrict__ kv_indices,
                                                   int start, int end, int kv_head,
                                                   int64_t stride_tok)
{
    constexpr int VEC = 8;
    constexpr int VECS_PER_ROW = HEAD_DIM / VEC;
#pragma unroll 4
    for (int i = threadIdx.x; i < BLOCK_N * VECS_PER_ROW; i += NUM_WARPS * 32) {
        const int row = i / VECS_PER_ROW;
        const int col = (i % VECS_PER_ROW) * VEC;
        const int tok = min(start + row, end - 1);
        const int64_t base = int64_t(kv_indices[tok]) * stride_tok + kv_head * HEAD_DIM + col;
        __pipeline_memcpy_async(smem + smem_offset(row, col), buf + base, 16,
                                start + row < end ? 0 : 16);
    }
    __pipeline_commit();
}

)~",
};

constexpr std::string_view kWarpMath[] = {
    R"~(// S = Q K^T for the 16 x BLOCK_N fragment of one warp. q_frag holds the warp's query rows
// in registers (loaded once per block); K is read from shared memory.
__device__ __forceinline__ void warp_qk(const half2 (&q_frag)[HEAD_DIM / 2], const half *smem_k,
                                        float (&scores)[BLOCK_N])
{
    const int lane = threadIdx.x & 31;
#pragma unroll {unroll}
    for (int j = 0; j < BLOCK_N; ++j) {
        half2 sum = __float2half2_rn(0.f);
        for (int d = lane; d < HEAD_DIM / 2; d += 32)
            sum = __hfma2(q_frag[d], *reinterpret_cast<const half2 *>(smem_k + smem_offset(j, 2 * d)), sum);
        float s = __low2float(sum) + __high2float(sum);
        for (int off = 16; off > 0; off >>= 1)
            s += __shfl_xor_sync(0xffffffffu, s, off);
        scores[j] = s;
    }
}

// acc = alpha * acc + P V for the warp's rows, accumulating in fp32.
__device__ __forceinline__ void warp_pv(float (&acc)[HEAD_DIM / 32], float alpha,
                                        const float (&p)[BLOCK_N], const half *smem_v)
{
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int c = 0; c < HEAD_DIM / 32; ++c)
        acc[c] *= alpha;
#pragma unroll {unroll}
    for (int j = 0; j < BLOCK_N; ++j) {
#pragma unroll
        for (int c = 0; c < HEAD_DIM / 32; ++c)
            acc[c] += p[j] * __half2float(smem_v[smem_offset(j, c * 32 + lane)]);
    }
}

)~",
    R"~(// S = Q K^T for the 16 x BLOCK_N fragment of one warp, four keys per step: each lane
// keeps four partial dot products in registers, so one shuffle-reduction tree serves four
// scores and the K reads of a step are four independent shared-memory loads.
__device__ __forceinline__ void warp_qk(const half2 (&q_frag)[HEAD_DIM / 2], const half *smem_k,
                                        float (&scores)[BLOCK_N])
{
    const int lane = threadIdx.x & 31;
#pragma unroll {unroll}
    for (int j = 0; j < BLOCK_N; j += 4) {
        float2 sum[4] = {};
        for (int d = lane; d < HEAD_DIM / 2; d += 32) {
            const float2 q = __half22float2(q_frag[d]);
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const float2 kv = __half22float2(*reinterpret_cast<const half2 *>(smem_k + smem_offset(j + k, 2 * d)));
                sum[k].x = fmaf(q.x, kv.x, sum[k].x);
                sum[k].y = fmaf(q.y, kv.y, sum[k].y);
            }
        }
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            float s = sum[k].x + sum[k].y;
            for (int off = 16; off > 0; off >>= 1)
                s += __shfl_xor_sync(0xffffffffu, s, off);
            scores[j + k] = s;
        }
    }
}

// acc = alpha * acc + P V for the warp's rows, accumulating in fp32.
__device__ __forceinline__ void warp_pv(float (&acc)[HEAD_DIM / 32], float alpha,
                                        const float (&p)[BLOCK_N], const half *smem_v)
{
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int c = 0; c < HEAD_DIM / 32; ++c)
        acc[c] *= alpha;
#pragma unroll {unroll}
    for (int j = 0; j < BLOCK_N; ++j) {
#pragma unroll
        for (int c = 0; c < HEAD_DIM / 32; ++c)
            acc[c] += p[j] * __half2float(smem_v[smem_offset(j, c * 32 + lane)]);
    }
}

)~",
};

constexpr std::string_view kSoftmax[] = {
    R"~(// Online softmax: folds a tile of scores into the running max and sum of a row and
// returns the factor the accumulator must be rescaled by.
struct RowState {
    float m = -INFINITY;
    float l = 0.f;
};

__device__ __forceinline__ float online_softmax_step(RowState &s, float (&scores)[BLOCK_N],
                                                     float sm_scale)
{
    float tile_max = -INFINITY;
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] *= sm_scale;
        tile_max = fmaxf(tile_max, scores[j]);
    }
    const float m_new = fmaxf(s.m, tile_max);
    const float alpha = expf(s.m - m_new);
    float tile_sum = 0.f;
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] = expf(scores[j] - m_new);
        tile_sum += scores[j];
    }
    s.l = s.l * alpha + tile_sum;
    s.m = m_new;
    return alpha;
}

)~",
    R"~(// Online softmax in base 2: sm_scale * log2(e) is folded into one multiply so every
// exponential is a single exp2f, which the SFU does natively.
struct RowState {
    float m = -INFINITY; // running max, in log2 units
    float l = 0.f;
};

__device__ __forceinline__ float online_softmax_step(RowState &s, float (&scores)[BLOCK_N],
                                                     float sm_scale)
{
    const float scale_log2 = sm_scale * LOG2E;
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] *= scale_log2;
        tile_max = fmaxf(tile_max, scores[j]);
    }
    const float m_new = fmaxf(s.m, tile_max);
    const float alpha = exp2f(s.m - m_new);
    float tile_sum = 0.f;
#pragma unroll
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] = exp2f(scores[j] - m_new);
        tile_sum += scores[j];
    }
    s.l = s.l * alpha + tile_sum;
    s.m = m_new;
    return alpha;
}

)~",
    R"~(// Online softmax in base 2 with lazy rescaling: the running max only moves (and the
// accumulator is only rescaled) when a tile's max exceeds it by more than RESCALE_SLACK;
// otherwise exponentials are taken against the stale max, which stays exact in fp32 as
// long as the slack keeps exp2 below 2^RESCALE_SLACK.
constexpr float RESCALE_SLACK = {rescale}.0f;

struct RowState {
    float m = -INFINITY; // running max, in log2 units
    float l = 0.f;
};

__device__ __forceinline__ float online_softmax_step(RowState &s, float (&scores)[BLOCK_N],
                                                     float sm_scale)
{
    const float scale_log2 = sm_scale * LOG2E;
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] *= scale_log2;
        tile_max = fmaxf(tile_max, scores[j]);
    }
    float alpha = 1.f;
    if (tile_max > s.m + RESCALE_SLACK || s.m == -INFINITY) {
        const float m_new = fmaxf(s.m, tile_max);
        alpha = exp2f(s.m - m_new);
        s.m = m_new;
    }
    float tile_sum = 0.f;
#pragma unroll
    for (int j = 0; j < BLOCK_N; ++j) {
        scores[j] = exp2f(scores[j] - s.m);
        tile_sum += scores[j];
    }
    s.l = s.l * alpha + tile_sum;
    return alpha;
}

)~",
};

constexpr std::string_view kPrologue[] = {
    R"~(__global__ void __launch_bounds__(NUM_WARPS * 32, {min_blocks})
extend_attention_fwd_kernel(const ExtendParams p)
{
    // One block per (request, q head, BLOCK_M extend rows), as in the Triton grid.
    const int req = blockIdx.x;
    const int head = blockIdx.y;
    const int kv_head = head / p.kv_group_num;
    const int m_block = blockIdx.z;
    const int warp = threadIdx.x >> 5;

    const int extend_begin = p.qo_indptr[req];
    const int extend_len = p.qo_indptr[req + 1] - extend_begin;
    if (m_block * BLOCK_M >= extend_len)
        return;
    const int q_row = m_block * BLOCK_M + warp * (BLOCK_M / NUM_WARPS);

    extern __shared__ __align__(16) half smem[];
    half *smem_k = smem;
    half *smem_v = smem + NUM_STAGES * BLOCK_N * SMEM_ROW;

    half2 q_frag[HEAD_DIM / 2];
    load_q_fragment(q_frag, p.q_extend, extend_begin + q_row, head, p.stride_qbs, extend_len);
    float acc[HEAD_DIM / 32] = {};
    RowState row;
    float scores[BLOCK_N];

)~",
    R"~(__global__ void __launch_bounds__(NUM_WARPS * 32, {min_blocks})
extend_attention_fwd_kernel(const ExtendParams p)
{
    // One block per (request, kv head, BLOCK_M extend rows): the kv_group_num q heads of a
    // GQA group share every K/V tile the block loads, which divides K/V traffic by the
    // group size. Warps are assigned (q head, row range) pairs.
    const int req = blockIdx.x;
    const int kv_head = blockIdx.y;
    const int m_block = blockIdx.z;
    const int warp = threadIdx.x >> 5;
    const int warps_per_head = NUM_WARPS / p.kv_group_num;
    const int head = kv_head * p.kv_group_num + warp / max(warps_per_head, 1);

    const int extend_begin = p.qo_indptr[req];
    const int extend_len = p.qo_indptr[req + 1] - extend_begin;
    if (m_block * BLOCK_M >= extend_len)
        return;
    const int q_row = m_block * BLOCK_M + (warp % max(warps_per_head, 1)) * (BLOCK_M / max(warps_per_head, 1));

    extern __shared__ __align__(16) half smem[];
    half *smem_k = smem;
    half *smem_v = smem + NUM_STAGES * BLOCK_N * SMEM_ROW;

    half2 q_frag[HEAD_DIM / 2];
    load_q_fragment(q_frag, p.q_extend, extend_begin + q_row, head, p.stride_qbs, extend_len);
    float acc[HEAD_DIM / 32] = {};
    RowState row;
    float scores[BLOCK_N];

)~",
};

constexpr std::string_view kPrefixRange[] = {
    R"~(    // The whole cached prefix is visible to every extend row.
    const int prefix_begin = p.kv_indptr[req];
    const int prefix_end = p.kv_indptr[req + 1];

)~",
    R"~(    // Long prefixes are split into SPLIT_CHUNK-key ranges handled by different blocks
    // (blockIdx.z / m_blocks selects the range); the partial results are merged by
    // extend_attention_reduce_kernel. Short prefixes keep num_splits == 1.
    const int split = blockIdx.z / p.m_blocks;
    const int prefix_begin = p.kv_indptr[req] + split * SPLIT_CHUNK;
    const int prefix_end = min(p.kv_indptr[req + 1], prefix_begin + SPLIT_CHUNK);
    const bool last_split = prefix_end == p.kv_indptr[req + 1];

)~",
};

constexpr std::string_view kPrefixLoop[] = {
    R"~(    // Prefix part: load a K and a V tile, wait for them, use them, repeat.
    for (int start_n = prefix_begin; start_n < prefix_end; start_n += BLOCK_N) {
        load_kv_tile(smem_k, p.k_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_kbs);
        load_kv_tile(smem_v, p.v_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_vbs);
        __syncthreads();
        warp_qk(q_frag, smem_k, scores);
        const float alpha = online_softmax_step(row, scores, p.sm_scale);
        warp_pv(acc, alpha, scores, smem_v);
        __syncthreads();
    }

)~",
    R"~(    // Prefix part, multi-buffered: the copies of the next NUM_STAGES - 1 tiles are in
    // flight while the current tile is used, hiding the gather latency behind the math.
    const int tiles = (prefix_end - prefix_begin + BLOCK_N - 1) / BLOCK_N;
    for (int s = 0; s < NUM_STAGES - 1 && s < tiles; ++s) {
        const int start_n = prefix_begin + s * BLOCK_N;
        load_kv_tile_async(smem_k + s * BLOCK_N * SMEM_ROW, p.k_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_kbs);
        load_kv_tile_async(smem_v + s * BLOCK_N * SMEM_ROW, p.v_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_vbs);
    }
    for (int t = 0; t < tiles; ++t) {
        const int ahead = t + NUM_STAGES - 1;
        if (ahead < tiles) {
            const int slot = ahead % NUM_STAGES;
            const int start_n = prefix_begin + ahead * BLOCK_N;
            load_kv_tile_async(smem_k + slot * BLOCK_N * SMEM_ROW, p.k_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_kbs);
            load_kv_tile_async(smem_v + slot * BLOCK_N * SMEM_ROW, p.v_buffer, p.kv_indices, start_n, prefix_end, kv_head, p.stride_buf_vbs);
            __pipeline_wait_prior(2 * (NUM_STAGES - 1));
        } else {
            __pipeline_wait_prior(0);
        }
        __syncthreads();
        const int slot = t % NUM_STAGES;
        warp_qk(q_frag, smem_k + slot * BLOCK_N * SMEM_ROW, scores);
        const float alpha = online_softmax_step(row, scores, p.sm_scale);
        warp_pv(acc, alpha, scores, smem_v + slot * BLOCK_N * SMEM_ROW);
        __syncthreads();
    }

)~",
};

constexpr std::string_view kExtendLoop[] = {
    R"~(    // Extend part: the new tokens themselves, causally masked element by element.
    for (int start_n = 0; start_n < extend_len; start_n += BLOCK_N) {
        load_kv_tile(smem_k, p.k_extend, p.extend_identity, extend_begin + start_n,
                     extend_begin + extend_len, kv_head, p.stride_kbs);
        load_kv_tile(smem_v, p.v_extend, p.extend_identity, extend_begin + start_n,
                     extend_begin + extend_len, kv_head, p.stride_vbs);
        __syncthreads();
        warp_qk(q_frag, smem_k, scores);
        for (int j = 0; j < BLOCK_N; ++j)
            if (start_n + j > q_row + (threadIdx.x & 15) || start_n + j >= extend_len)
                scores[j] = -INFINITY;
        const float alpha = online_softmax_step(row, scores, p.sm_scale);
        warp_pv(acc, alpha, scores, smem_v);
        __syncthreads();
    }

)~",
    R"~(    // Extend part, causal. Tiles entirely above the diagonal of this block are never
    // loaded, and only the tiles that cross the diagonal pay for the per-element mask.
    const int m_end = min((m_block + 1) * BLOCK_M, extend_len);
    for (int start_n = 0; start_n < m_end; start_n += BLOCK_N) {
        load_kv_tile(smem_k, p.k_extend, p.extend_identity, extend_begin + start_n,
                     extend_begin + extend_len, kv_head, p.stride_kbs);
        load_kv_tile(smem_v, p.v_extend, p.extend_identity, extend_begin + start_n,
                     extend_begin + extend_len, kv_head, p.stride_vbs);
        __syncthreads();
        warp_qk(q_frag, smem_k, scores);
        if (start_n + BLOCK_N > m_block * BLOCK_M) {
            for (int j = 0; j < BLOCK_N; ++j)
                if (start_n + j > q_row + (threadIdx.x & 15) || start_n + j >= extend_len)
                    scores[j] = -INFINITY;
        }
        const float alpha = online_softmax_step(row, scores, p.sm_scale);
        warp_pv(acc, alpha, scores, smem_v);
        __syncthreads();
    }

)~",
};

constexpr std::string_view kEpilogue[] = {
    R"~(    // Normalise and write the rows this warp owns (fp32 -> fp16).
    const float inv_l = row.l > 0.f ? 1.f / row.l : 0.f;
    store_rows(p.o_extend, acc, inv_l, extend_begin + q_row, head, p.stride_obs, extend_len);
}

)~",
    R"~(    // Normalise and write the rows this warp owns: the fp32 accumulators are staged through
    // shared memory (the K tile is dead by now) so each lane stores 16 contiguous bytes.
    const float inv_l = row.l > 0.f ? 1.f / row.l : 0.f;
    __syncthreads();
    half *stage = smem_k + warp * 16 * SMEM_ROW;
    for (int c = 0; c < HEAD_DIM / 32; ++c)
        stage[smem_offset(threadIdx.x & 15, c * 32 + (threadIdx.x & 31))] = __float2half(acc[c] * inv_l);
    __syncwarp();
    store_rows_vec(p.o_extend, stage, extend_begin + q_row, head, p.stride_obs, extend_len);
}

)~",
};

constexpr std::string_view kLaunch[] = {
    R"~(void launch_extend_attention(const ExtendParams &p, cudaStream_t stream)
{
    const dim3 grid(p.batch, p.num_q_heads, (p.max_extend_len + BLOCK_M - 1) / BLOCK_M);
    const size_t smem = 2 * NUM_STAGES * BLOCK_N * SMEM_ROW * sizeof(half);
    cudaFuncSetAttribute(extend_attention_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    extend_attention_fwd_kernel<<<grid, NUM_WARPS * 32, smem, stream>>>(p);
}

} // namespace extend_attn
)~",
    R"~(// Merges the partial (max, sum, acc) of each prefix split of a row into the final output.
__global__ void extend_attention_reduce_kernel(const ExtendParams p)
{
    const int row = blockIdx.x;
    const int head = blockIdx.y;
    float m = -INFINITY, l = 0.f, acc[HEAD_DIM / 32] = {};
    for (int s = 0; s < p.num_splits; ++s) {
        const PartialRow part = load_partial(p, row, head, s);
        const float m_new = fmaxf(m, part.m);
        const float a = exp2f(m - m_new), b = exp2f(part.m - m_new);
        for (int c = 0; c < HEAD_DIM / 32; ++c)
            acc[c] = acc[c] * a + part.acc[c] * b;
        l = l * a + part.l * b;
        m = m_new;
    }
    store_row(p.o_extend, acc, 1.f / l, row, head, p.stride_obs);
}

// Chooses the split count per batch: long prefixes with few blocks in the grid are split so
// that every SM has work; everything else runs the single-pass kernel.
void launch_extend_attention(const ExtendParams &p_in, cudaStream_t stream)
{
    ExtendParams p = p_in;
    p.m_blocks = (p.max_extend_len + BLOCK_M - 1) / BLOCK_M;
    const int blocks = p.batch * p.num_kv_heads * p.m_blocks;
    p.num_splits = 1;
    if (p.max_prefix_len > 2 * SPLIT_CHUNK && blocks < 2 * p.num_sms)
        p.num_splits = min((p.max_prefix_len + SPLIT_CHUNK - 1) / SPLIT_CHUNK, 16);
    const dim3 grid(p.batch, p.num_kv_heads, p.m_blocks * p.num_splits);
    const size_t smem = 2 * NUM_STAGES * BLOCK_N * SMEM_ROW * sizeof(half);
    cudaFuncSetAttribute(extend_attention_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    extend_attention_fwd_kernel<<<grid, NUM_WARPS * 32, smem, stream>>>(p);
    if (p.num_splits > 1)
        extend_attention_reduce_kernel<<<dim3(p.total_extend, p.num_q_heads), 32, 0, stream>>>(p);
}

} // namespace extend_attn
)~",
};

constexpr KernelPart kParts[] = {
    {"header", kHeader},           {"config", kConfig},
    {"smem", kSmem},               {"loads", kLoads},
    {"warp_math", kWarpMath},      {"softmax", kSoftmax},
    {"prologue", kPrologue},       {"prefix_range", kPrefixRange},
    {"prefix_loop", kPrefixLoop},  {"extend_loop", kExtendLoop},
    {"epilogue", kEpilogue},       {"launch", kLaunch},
};

} // namespace

std::span<const KernelPart> kernelParts()
{
    return kParts;
}

} // namespace tapedeck::samples::corpus
