// The optimisation ideas the agent works through, and the knobs it tunes. Each idea moves
// one part of the kernel to its next variant (kernelcode.cpp), in the order of the parts'
// variants; when all are in, the agent keeps tuning knobs and re-trying reverted ideas.
#include "corpus.h"

namespace tapedeck::samples::corpus {

namespace {

constexpr Idea kIdeas[] = {
    {"loads", 1, "vectorized K/V loads",
     "switch the K/V tile loads to 16-byte vector loads (uint4, 8 halves per thread)",
     "the prefix loop issues one 2-byte load per thread per element, so it is bound by load issue rather than bandwidth",
     "the vector path reads past the end of the last partial tile"},
    {"smem", 1, "swizzled shared memory",
     "replace the padded shared-memory rows with an XOR swizzle of the 16-byte chunks",
     "with vector stores the +8 padding no longer avoids bank conflicts on the column-wise fragment reads, and it costs shared memory",
     "the swizzle is applied on the store side but one reader still uses the plain row offset"},
    {"softmax", 1, "exp2-based online softmax",
     "fold sm_scale * log2(e) into one multiply and use exp2f everywhere in the online softmax",
     "expf lowers to a multiply plus exp2 on this SFU, so the extra multiply per score is pure overhead",
     "the running max is kept in log2 units but the reduce path still treats it as natural log"},
    {"prefix_loop", 1, "multi-stage K/V pipeline",
     "double-buffer the prefix loop: issue the async copies of the next tiles while the current one is used",
     "the loop waits for every gather before any math, so latency is fully exposed at low occupancy",
     "a stage is overwritten while another warp is still reading it (missing barrier)"},
    {"loads", 2, "asynchronous K/V copies",
     "turn load_kv_tile into an asynchronous copy (__pipeline_memcpy_async) so the pipeline can overlap it",
     "synchronous vector loads still go through registers, which limits how many tiles can be in flight",
     "the zero-fill size is inverted for the tail tokens"},
    {"extend_loop", 1, "skip fully masked causal tiles",
     "skip the extend tiles above the block's diagonal and apply the per-element mask only on the diagonal tiles",
     "for long extends about half of the extend tiles are fully masked and still loaded and multiplied",
     "the diagonal test is off by one tile when extend_len is not a multiple of BLOCK_M"},
    {"prologue", 1, "GQA-shared K/V tiles",
     "launch one block per kv head and let the q heads of the GQA group share every K/V tile",
     "with 8 q heads per kv head the same K/V tiles are fetched 8 times from L2",
     "warps map to the wrong q head when kv_group_num does not divide NUM_WARPS"},
    {"softmax", 2, "lazy accumulator rescaling",
     "only move the running max (and rescale the accumulator) when a tile's max exceeds it by a slack",
     "the rescale of the fp32 accumulator costs HEAD_DIM multiplies per row per tile and rarely changes anything after the first tiles",
     "with a large slack exp2 overflows for rows whose scores grow along the prefix"},
    {"prefix_range", 1, "split-KV for long prefixes",
     "split long prefixes into SPLIT_CHUNK-key ranges handled by separate blocks and merge them in a reduce kernel",
     "the 32k-prefix workloads launch fewer blocks than there are cores, so most of the chip idles",
     "partial sums of the splits are merged without rescaling to the common max"},
    {"warp_math", 1, "register-blocked QK^T",
     "compute four scores per step in warp_qk, with the partial dot products in registers",
     "every score pays a full 5-step shuffle reduction, and the profile shows the shuffles in the top stalls",
     "the last group of four keys runs past BLOCK_N when BLOCK_N is not a multiple of 4"},
    {"epilogue", 1, "vectorized output stores",
     "stage the normalised rows through shared memory and write them with 16-byte stores",
     "the output is written two bytes per lane with a stride of HEAD_DIM, which the store path splits into many transactions",
     "the staging buffer aliases the V tile another warp is still reading"},
    {"launch", 1, "per-shape dispatch with split-KV reduce",
     "choose the split count per batch in the launcher and add the reduce kernel for the split path",
     "a single configuration cannot fit both the batch-16 short-prefix and the batch-1 long-prefix workloads",
     "the reduce kernel reads the partials of the wrong request when batch > 1"},
};

constexpr int kBlockM[] = {64, 128, 256};
constexpr int kBlockN[] = {32, 64, 128};
constexpr int kWarps[] = {4, 8};
constexpr int kStages[] = {2, 3, 4};
constexpr int kSplit[] = {4096, 8192, 16384};
constexpr int kUnroll[] = {2, 4, 8};
constexpr int kMinBlocks[] = {1, 2, 3};
constexpr int kRescale[] = {4, 6, 8};

constexpr Knob kKnobs[] = {
    {"block_m", "BLOCK_M", kBlockM},
    {"block_n", "BLOCK_N", kBlockN},
    {"num_warps", "NUM_WARPS", kWarps},
    {"num_stages", "NUM_STAGES", kStages},
    {"split_chunk", "SPLIT_CHUNK", kSplit},
    {"unroll", "the QK^T/PV unroll factor", kUnroll},
    {"min_blocks", "the __launch_bounds__ min-blocks hint", kMinBlocks},
    {"rescale", "RESCALE_SLACK", kRescale},
};

} // namespace

std::span<const Idea> ideas()
{
    return kIdeas;
}

std::span<const Knob> knobs()
{
    return kKnobs;
}

} // namespace tapedeck::samples::corpus
