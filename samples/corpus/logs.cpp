// Compiler errors of the kind nvcc and gcc print for this kernel, each with the edit that
// fixes it; and the surrounding build noise of a torch C++ extension.
#include "corpus.h"

namespace tapedeck::samples::corpus {

namespace {

constexpr CompileError kErrors[] = {
    {"loads",
     R"~(csrc/extend_attention.cu({line}): error: a value of type "const half *" cannot be used to initialize an entity of type "const uint4 *"
              const uint4 *src = buf + base;
                                 ^

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "the vector load initialises a uint4 pointer from a half pointer",
     "            const uint4 *src = buf + base;",
     "            const uint4 *src = reinterpret_cast<const uint4 *>(buf + base);"},
    {"loads",
     R"~(csrc/extend_attention.cu({line}): error: too few arguments in function call
          __pipeline_memcpy_async(smem + smem_offset(row, col), buf + base);
                                                                         ^

csrc/extend_attention.cu({line}): error: identifier "VECS_PER_ROW" is undefined
      for (int i = threadIdx.x; i < BLOCK_N * VECS_PER_ROW; i += NUM_WARPS * 32) {
                                              ^

2 errors detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "__pipeline_memcpy_async is missing its size argument and VECS_PER_ROW is not declared",
     "    constexpr int VEC = 8;\n#pragma unroll 4",
     "    constexpr int VEC = 8;\n    constexpr int VECS_PER_ROW = HEAD_DIM / VEC;\n#pragma unroll 4"},
    {"prefix_loop",
     R"~(csrc/extend_attention.cu({line}): error: identifier "slot" is undefined
          warp_qk(q_frag, smem_k + slot * BLOCK_N * SMEM_ROW, scores);
                                   ^

csrc/extend_attention.cu({line}): error: identifier "slot" is undefined
          warp_pv(acc, alpha, scores, smem_v + slot * BLOCK_N * SMEM_ROW);
                                               ^

2 errors detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "`slot` is only declared inside the prefetch branch",
     "        __syncthreads();\n        warp_qk(q_frag, smem_k + slot * BLOCK_N * SMEM_ROW, scores);",
     "        __syncthreads();\n        const int slot = t % NUM_STAGES;\n        warp_qk(q_frag, smem_k + slot * BLOCK_N * SMEM_ROW, scores);"},
    {"prologue",
     R"~(csrc/extend_attention.cu({line}): error: calling a __host__ function("std::max<int> ") from a __global__ function("extend_attn::extend_attention_fwd_kernel") is not allowed

csrc/extend_attention.cu({line}): error: identifier "std::max<int> " is undefined in device code

2 errors detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "std::max is host-only in device code",
     "    const int warps_per_head = std::max(NUM_WARPS / p.kv_group_num, 1);",
     "    const int warps_per_head = max(NUM_WARPS / p.kv_group_num, 1);"},
    {"prefix_range",
     R"~(csrc/binding.cpp: In function 'at::Tensor extend_attention_fwd(at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, int64_t, double)':
csrc/binding.cpp:{line}:{col}: error: 'struct extend_attn::ExtendParams' has no member named 'm_blocks'
   {line} |     p.m_blocks = (max_len_extend + cfg.block_m - 1) / cfg.block_m;
      |       ^~~~~~~~
csrc/binding.cpp:{line}:{col}: error: 'struct extend_attn::ExtendParams' has no member named 'num_splits'
      |       ^~~~~~~~~~
)~",
     "csrc/extend_attention.h", "ExtendParams has no m_blocks / num_splits members yet",
     "    int max_prefix_len;\n};",
     "    int max_prefix_len;\n    int m_blocks = 1;   // extend row blocks per request\n    int num_splits = 1; // prefix splits per request (split-KV)\n};"},
    {"warp_math",
     R"~(csrc/extend_attention.cu({line}): error: no instance of overloaded function "__shfl_xor_sync" matches the argument list
            argument types are: (unsigned int, half2, int)
              sum = __shfl_xor_sync(0xffffffffu, sum, off);
                    ^

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "__shfl_xor_sync has no half2 overload here",
     "            sum = __shfl_xor_sync(0xffffffffu, sum, off);",
     "            sum = __hadd2(sum, __shfl_xor_sync(0xffffffffu, sum, off));"},
    {"extend_loop",
     R"~(csrc/extend_attention.cu({line}): error: expected a ";"
          const int m_end = min((m_block + 1) * BLOCK_M, extend_len)
                                                                    ^

csrc/extend_attention.cu({line}): error: identifier "m_end" is undefined
      for (int start_n = 0; start_n < m_end; start_n += BLOCK_N) {
                                      ^

2 errors detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "a missing semicolon after m_end",
     "    const int m_end = min((m_block + 1) * BLOCK_M, extend_len)\n",
     "    const int m_end = min((m_block + 1) * BLOCK_M, extend_len);\n"},
    {"launch",
     R"~(csrc/extend_attention.cu({line}): error: argument of type "void (*)(extend_attn::ExtendParams)" is incompatible with parameter of type "const void *"
      cudaFuncSetAttribute(extend_attention_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
                           ^

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "cudaFuncSetAttribute wants a const void * for the kernel",
     "    cudaFuncSetAttribute(extend_attention_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);",
     "    cudaFuncSetAttribute(reinterpret_cast<const void *>(extend_attention_fwd_kernel),\n                         cudaFuncAttributeMaxDynamicSharedMemorySize, smem);"},
    {"softmax",
     R"~(csrc/extend_attention.cu({line}): error: identifier "scale_log2" is undefined
          scores[j] *= scale_log2;
                       ^

csrc/extend_attention.cu({line}): warning #177-D: parameter "sm_scale" was declared but never referenced

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "scale_log2 is used before it is declared",
     "    float tile_max = -INFINITY;\n#pragma unroll",
     "    const float scale_log2 = sm_scale * LOG2E;\n    float tile_max = -INFINITY;\n#pragma unroll"},
    {"smem",
     R"~(csrc/extend_attention.cu({line}): error: "smem_offset" has already been defined
  __device__ __forceinline__ int smem_offset(int row, int col)
                                 ^

csrc/extend_attention.cu({line}): error: "SMEM_ROW" has already been declared in the current scope
  constexpr int SMEM_ROW = HEAD_DIM;
                ^

2 errors detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "the old padded smem_offset is still there next to the swizzled one",
     "constexpr int SMEM_ROW = HEAD_DIM + 8;\n__device__ __forceinline__ int smem_offset(int row, int col)\n{\n    return row * SMEM_ROW + col;\n}\n",
     ""},
    {"config",
     R"~(csrc/extend_attention.cu({line}): error: static assertion failed with "each warp needs whole 16-row fragments"
  static_assert(BLOCK_M % (16 * NUM_WARPS) == 0, "each warp needs whole 16-row fragments");
  ^

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "BLOCK_M is not a multiple of 16 * NUM_WARPS",
     "constexpr int NUM_WARPS = 8;",
     "constexpr int NUM_WARPS = 4;"},
    {"epilogue",
     R"~(csrc/extend_attention.cu({line}): error: identifier "store_rows" is undefined
      store_rows(p.o_extend, acc, inv_l, extend_begin + q_row, head, p.stride_obs, extend_len);
      ^

1 error detected in the compilation of "csrc/extend_attention.cu".
)~",
     "csrc/extend_attention.cu", "store_rows lost its declaration when the helpers moved",
     "namespace extend_attn {\n",
     "namespace extend_attn {\n\n__device__ void store_rows(half *out, const float (&acc)[HEAD_DIM / 32], float inv_l, int row,\n                           int head, int64_t stride, int extend_len);\n"},
};

} // namespace

std::span<const CompileError> compileErrors()
{
    return kErrors;
}

std::string_view buildTraceback()
{
    return R"~(ninja: build stopped: subcommand failed.
Traceback (most recent call last):
  File "/opt/conda/lib/python3.10/site-packages/torch/utils/cpp_extension.py", line 2105, in _run_ninja_build
    subprocess.run(
  File "/opt/conda/lib/python3.10/subprocess.py", line 526, in run
    raise CalledProcessError(retcode, process.args,
subprocess.CalledProcessError: Command '['ninja', '-v', '-j', '32']' returned non-zero exit status 1.

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/workspace/sglang-extend-attention/setup.py", line 24, in <module>
    setup(
  File "/opt/conda/lib/python3.10/site-packages/setuptools/__init__.py", line 104, in setup
    return distutils.core.setup(**attrs)
  File "/opt/conda/lib/python3.10/site-packages/torch/utils/cpp_extension.py", line 873, in build_extensions
    build_ext.build_extensions(self)
  File "/opt/conda/lib/python3.10/site-packages/torch/utils/cpp_extension.py", line 1695, in _write_ninja_file_and_compile_objects
    _run_ninja_build(
  File "/opt/conda/lib/python3.10/site-packages/torch/utils/cpp_extension.py", line 2121, in _run_ninja_build
    raise RuntimeError(message) from e
RuntimeError: Error compiling objects for extension
)~";
}

std::string_view sharedMemoryError()
{
    return R"~(ptxas error   : Entry function '_ZN11extend_attn27extend_attention_fwd_kernelENS_12ExtendParamsE' uses too much shared data ({bytes} bytes, {limit} max)
ptxas info    : Used 168 registers, 512 bytes cmem[0]
)~";
}

} // namespace tapedeck::samples::corpus
