// Files of the task workspace that stay the same for the whole run: what read_file returns
// for them, and what the test-writer sub-agent writes.
#include "corpus.h"

namespace tapedeck::samples::corpus {

std::string_view workspaceRoot()
{
    return "/workspace/sglang-extend-attention";
}

std::string_view taskFile()
{
    return R"~(# Task: extend attention for the ZW-M890

Make `csrc/extend_attention.cu` as fast as possible on the ZW-M890 PPU while staying
numerically equivalent to the SGLang Triton kernel in `ref/extend_attention_triton.py`.

## What the kernel computes

For each request `r` of a batch, the new ("extend") tokens attend to

1. the request's cached prefix: `prefix_len[r]` keys/values gathered from the paged
   KV buffers through `kv_indices[kv_indptr[r] : kv_indptr[r + 1]]`, all visible;
2. the extend tokens themselves (`k_extend`, `v_extend`), causally masked.

Heads are grouped (GQA): `num_q_heads = kv_group_num * num_kv_heads`. Head dim is 128,
inputs are fp16, accumulation is fp32, the output is fp16.

## Rules

- `eval/run_eval.py` is the judge. It rebuilds the extension when sources changed, runs
  the correctness check against the reference on all 16 workloads (atol 2e-2, rtol 1e-2)
  and, only if that passes, times each workload (10 warm-up, 50 timed iterations, median).
- The score is the geometric mean over the 16 workloads of `triton_us / ours_us`.
- Do not change `eval/`, `ref/` or the workload list. Do not special-case workload ids.
- The kernel may use anything the PPU toolchain (CUDA-compatible, `nvcc` 12.x front end)
  accepts. There is no documentation of the hardware here; the profiler is `ppu-prof`.

## Build

    python setup.py build_ext --inplace     # or let run_eval.py do it

## Workloads

See `eval/shapes.py`: batch 1-16, extend 1-4096 tokens, prefix 0-32768 tokens, 32/8,
64/8, 32/32 and 16/2 q/kv heads.
)~";
}

std::string_view evalScript()
{
    return R"~(#!/usr/bin/env python3
"""Builds extend_attn_ppu, checks it against the Triton reference, times the workloads.

Exit status: 0 when correct (speed-ups printed), 1 when the correctness check fails,
2 when the build fails.
"""
import argparse
import math
import subprocess
import sys
import time

import torch

sys.path.insert(0, ".")
from eval.shapes import WORKLOADS, make_inputs  # noqa: E402
from eval.timing import median_time_us  # noqa: E402
from ref.extend_attention_triton import extend_attention_fwd as triton_extend  # noqa: E402

ATOL, RTOL = 2e-2, 1e-2


def build(force=False):
    t0 = time.time()
    cmd = [sys.executable, "setup.py", "build_ext", "--inplace"]
    if force:
        cmd.append("--force")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-6000:])
        sys.stdout.write(proc.stderr[-6000:])
        print(f"[build] FAILED after {time.time() - t0:.1f} s")
        sys.exit(2)
    changed = "skipping" not in proc.stdout
    print(f"[build] extend_attn_ppu: {'rebuilt' if changed else 'up to date'} "
          f"({time.time() - t0:.1f} s)")


def check(ours, ids):
    bad = []
    worst = 0.0
    for i in ids:
        args = make_inputs(WORKLOADS[i], seed=1234 + i)
        ref = triton_extend(*args)
        out = ours.extend_attention_fwd(*args)
        err = (out.float() - ref.float()).abs()
        worst = max(worst, err.max().item())
        if not torch.allclose(out, ref, atol=ATOL, rtol=RTOL):
            frac = (err > ATOL + RTOL * ref.float().abs()).float().mean().item()
            where = tuple(int(x) for x in (err == err.max()).nonzero()[0])
            bad.append((i, err.max().item(), where, frac))
    return bad, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", type=int, action="append")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--block-m", type=int)
    ap.add_argument("--block-n", type=int)
    ap.add_argument("--num-warps", type=int)
    ap.add_argument("--num-stages", type=int)
    ap.add_argument("--force-build", action="store_true")
    opts = ap.parse_args()
    build(opts.force_build)
    import extend_attn_ppu as ours
    ours.set_config(opts.block_m, opts.block_n, opts.num_warps, opts.num_stages)
    ids = opts.workload or range(len(WORKLOADS))

    print(f"[check] {len(ids)} workloads vs reference (fp16, atol {ATOL:g}, rtol {RTOL:g})")
    bad, worst = check(ours, ids)
    if bad:
        print(f"[check] MISMATCH on {len(bad)}/{len(ids)} workloads:")
        for i, err, where, frac in bad:
            print(f"  wl {i:2d} ({WORKLOADS[i].short()}): max abs err {err:.2e} at "
                  f"{list(where)}, {100 * frac:.1f}% elements off")
        print("[check] FAILED: refusing to benchmark an incorrect kernel")
        sys.exit(1)
    print(f"[check] all {len(ids)} workloads match (max abs err {worst:.1e})")

    print(f"[bench] warmup 10, iters {opts.iters}, device {torch.cuda.get_device_name()}")
    print()
    print(" id  batch  extend  prefix  heads(q/kv)  triton_us   ours_us  speedup")
    logs = []
    for i in ids:
        w = WORKLOADS[i]
        args = make_inputs(w, seed=1234 + i)
        t_ref = median_time_us(lambda: triton_extend(*args), opts.iters)
        t_new = median_time_us(lambda: ours.extend_attention_fwd(*args), opts.iters)
        logs.append(math.log(t_ref / t_new))
        print(f" {i:2d}  {w.batch:5d}  {w.extend:6d}  {w.prefix:6d}  {w.heads:>11s}  "
              f"{t_ref:9.1f}  {t_new:8.1f}  {t_ref / t_new:6.2f}x")
    print()
    print(f"geomean speedup over triton baseline: {math.exp(sum(logs) / len(logs)):.2f}x")


if __name__ == "__main__":
    main()
)~";
}

std::string_view tritonReference()
{
    return R"~("""Extend attention, from sglang/srt/layers/attention/triton_ops/extend_attention.py.

Kept as the correctness reference and the speed baseline. Do not edit.
"""
import torch
import triton
import triton.language as tl


@triton.jit
def _fwd_kernel(
    Q_Extend, K_Extend, V_Extend, O_Extend, K_Buffer, V_Buffer,
    qo_indptr, kv_indptr, kv_indices, sm_scale, kv_group_num,
    stride_qbs, stride_qh, stride_kbs, stride_kh, stride_vbs, stride_vh,
    stride_obs, stride_oh, stride_buf_kbs, stride_buf_kh, stride_buf_vbs, stride_buf_vh,
    BLOCK_DMODEL: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    cur_seq = tl.program_id(0)
    cur_head = tl.program_id(1)
    cur_block_m = tl.program_id(2)
    cur_kv_head = cur_head // kv_group_num

    cur_seq_extend_start_idx = tl.load(qo_indptr + cur_seq)
    cur_seq_len_extend = tl.load(qo_indptr + cur_seq + 1) - cur_seq_extend_start_idx
    cur_seq_kv_start_idx = tl.load(kv_indptr + cur_seq)
    cur_seq_len_prefix = tl.load(kv_indptr + cur_seq + 1) - cur_seq_kv_start_idx

    offs_d = tl.arange(0, BLOCK_DMODEL)
    offs_m = tl.arange(0, BLOCK_M)
    mask_m = (cur_block_m * BLOCK_M + offs_m) < cur_seq_len_extend

    offs_q = ((cur_seq_extend_start_idx + cur_block_m * BLOCK_M + offs_m[:, None]) * stride_qbs
              + cur_head * stride_qh + offs_d[None, :])
    q = tl.load(Q_Extend + offs_q, mask=mask_m[:, None], other=0.0)

    offs_n = tl.arange(0, BLOCK_N)
    acc = tl.zeros([BLOCK_M, BLOCK_DMODEL], dtype=tl.float32)
    deno = tl.zeros([BLOCK_M], dtype=tl.float32)
    e_max = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")

    # stage 1: the prefix, gathered through kv_indices
    for start_n in range(0, cur_seq_len_prefix, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        mask_n = (start_n + offs_n) < cur_seq_len_prefix
        offs_kv_loc = tl.load(kv_indices + cur_seq_kv_start_idx + start_n + offs_n,
                              mask=mask_n, other=0)
        offs_buf_k = (offs_kv_loc[None, :] * stride_buf_kbs + cur_kv_head * stride_buf_kh
                      + offs_d[:, None])
        k = tl.load(K_Buffer + offs_buf_k, mask=mask_n[None, :], other=0.0)
        qk = tl.dot(q.to(k.dtype), k) * sm_scale
        qk = tl.where(mask_m[:, None] & mask_n[None, :], qk, float("-inf"))
        n_e_max = tl.maximum(tl.max(qk, 1), e_max)
        re_scale = tl.exp(e_max - n_e_max)
        p = tl.exp(qk - n_e_max[:, None])
        deno = deno * re_scale + tl.sum(p, 1)
        offs_buf_v = (offs_kv_loc[:, None] * stride_buf_vbs + cur_kv_head * stride_buf_vh
                      + offs_d[None, :])
        v = tl.load(V_Buffer + offs_buf_v, mask=mask_n[:, None], other=0.0)
        acc = acc * re_scale[:, None] + tl.dot(p.to(v.dtype), v)
        e_max = n_e_max

    # stage 2: the extend tokens, causal
    cur_block_m_end = tl.minimum(cur_seq_len_extend, (cur_block_m + 1) * BLOCK_M)
    for start_n in range(0, cur_block_m_end, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        mask_n = (start_n + offs_n) < cur_block_m_end
        offs_k = ((cur_seq_extend_start_idx + start_n + offs_n[None, :]) * stride_kbs
                  + cur_kv_head * stride_kh + offs_d[:, None])
        k = tl.load(K_Extend + offs_k, mask=mask_n[None, :], other=0.0)
        qk = tl.dot(q, k) * sm_scale
        mask_causal = (cur_block_m * BLOCK_M + offs_m[:, None]) >= (start_n + offs_n[None, :])
        qk = tl.where(mask_causal & mask_m[:, None] & mask_n[None, :], qk, float("-inf"))
        n_e_max = tl.maximum(tl.max(qk, 1), e_max)
        re_scale = tl.exp(e_max - n_e_max)
        p = tl.exp(qk - n_e_max[:, None])
        deno = deno * re_scale + tl.sum(p, 1)
        offs_v = ((cur_seq_extend_start_idx + start_n + offs_n[:, None]) * stride_vbs
                  + cur_kv_head * stride_vh + offs_d[None, :])
        v = tl.load(V_Extend + offs_v, mask=mask_n[:, None], other=0.0)
        acc = acc * re_scale[:, None] + tl.dot(p.to(v.dtype), v)
        e_max = n_e_max

    offs_o = ((cur_seq_extend_start_idx + cur_block_m * BLOCK_M + offs_m[:, None]) * stride_obs
              + cur_head * stride_oh + offs_d[None, :])
    tl.store(O_Extend + offs_o, acc / deno[:, None], mask=mask_m[:, None])


def extend_attention_fwd(q_extend, k_extend, v_extend, o_extend, k_buffer, v_buffer,
                         qo_indptr, kv_indptr, kv_indices, max_len_extend, sm_scale=None):
    BLOCK_M, BLOCK_N, num_warps = 64, 64, 4
    batch_size, head_num = qo_indptr.shape[0] - 1, q_extend.shape[1]
    kv_group_num = q_extend.shape[1] // k_extend.shape[1]
    sm_scale = sm_scale or 1.0 / (q_extend.shape[-1] ** 0.5)
    grid = (batch_size, head_num, triton.cdiv(max_len_extend, BLOCK_M))
    _fwd_kernel[grid](
        q_extend, k_extend, v_extend, o_extend, k_buffer, v_buffer,
        qo_indptr, kv_indptr, kv_indices, sm_scale, kv_group_num,
        q_extend.stride(0), q_extend.stride(1), k_extend.stride(0), k_extend.stride(1),
        v_extend.stride(0), v_extend.stride(1), o_extend.stride(0), o_extend.stride(1),
        k_buffer.stride(0), k_buffer.stride(1), v_buffer.stride(0), v_buffer.stride(1),
        BLOCK_DMODEL=128, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, num_warps=num_warps, num_stages=1,
    )
    return o_extend
)~";
}

std::string_view correctnessTests()
{
    return R"~(import pytest
import torch

from eval.shapes import WORKLOADS, make_inputs
from ref.extend_attention_triton import extend_attention_fwd as triton_extend

extend_attn_ppu = pytest.importorskip("extend_attn_ppu")

ATOL, RTOL = 2e-2, 1e-2


@pytest.mark.parametrize("wid", range(len(WORKLOADS)))
def test_matches_reference(wid):
    args = make_inputs(WORKLOADS[wid], seed=1234 + wid)
    ref = triton_extend(*args)
    out = extend_attn_ppu.extend_attention_fwd(*args)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)


def test_deterministic():
    args = make_inputs(WORKLOADS[3], seed=7)
    a = extend_attn_ppu.extend_attention_fwd(*args).clone()
    b = extend_attn_ppu.extend_attention_fwd(*args).clone()
    assert torch.equal(a, b)


def test_rejects_bad_head_dim():
    w = WORKLOADS[0]._replace(head_dim=96)
    with pytest.raises(RuntimeError, match="head_dim"):
        extend_attn_ppu.extend_attention_fwd(*make_inputs(w, seed=1))
)~";
}

std::string_view directoryListing()
{
    return R"~(Directory listing for /workspace/sglang-extend-attention:
[DIR] csrc
[DIR] eval
[DIR] ref
[DIR] tests
.gitignore
NOTES.md
README.md
setup.py
TASK.md)~";
}

std::string_view edgeCaseTests()
{
    return R"~("""Edge cases the evaluation workloads do not cover (written by the test-writer subagent)."""
import itertools

import pytest
import torch

from eval.shapes import Workload, make_inputs
from ref.extend_attention_triton import extend_attention_fwd as triton_extend

extend_attn_ppu = pytest.importorskip("extend_attn_ppu")

ATOL, RTOL = 2e-2, 1e-2


def run_both(w, seed=0, shuffle=False):
    args = list(make_inputs(w, seed=seed))
    if shuffle:
        # kv_indices is args[8]: permute within each request so pages are non-contiguous
        g = torch.Generator(device="cpu").manual_seed(seed)
        idx = args[8].cpu()
        perm = torch.randperm(idx.numel(), generator=g)
        args[8] = idx[perm].to(args[8].device)
    ref = triton_extend(*args)
    out = extend_attn_ppu.extend_attention_fwd(*args)
    return out, ref


@pytest.mark.parametrize("extend", [1, 7, 63, 65, 127, 129, 1000])
def test_ragged_extend(extend):
    out, ref = run_both(Workload(batch=2, extend=extend, prefix=512, q_heads=32, kv_heads=8))
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("prefix", [0, 1, 64, 4095, 65536])
def test_prefix_lengths(prefix):
    out, ref = run_both(Workload(batch=1, extend=128, prefix=prefix, q_heads=32, kv_heads=8))
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("q_heads,kv_heads", [(32, 32), (32, 8), (64, 8)])
def test_gqa_ratios(q_heads, kv_heads):
    out, ref = run_both(Workload(batch=4, extend=256, prefix=2048, q_heads=q_heads, kv_heads=kv_heads))
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noncontiguous_kv_indices(seed):
    w = Workload(batch=3, extend=192, prefix=3000, q_heads=32, kv_heads=8)
    out, ref = run_both(w, seed=seed, shuffle=True)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)
)~";
}

std::string_view edgeCaseTestsAddition()
{
    return R"~(

@pytest.mark.parametrize("batch,extend", itertools.product([1, 5, 16], [1, 33, 96]))
def test_mixed_batches(batch, extend):
    w = Workload(batch=batch, extend=extend, prefix=777, q_heads=16, kv_heads=2)
    out, ref = run_both(w, seed=batch * 100 + extend)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)


def test_long_prefix_split_boundaries():
    # prefix lengths straddling the split-KV chunk size
    for prefix in (8191, 8192, 8193, 16385):
        out, ref = run_both(Workload(batch=1, extend=64, prefix=prefix, q_heads=32, kv_heads=8))
        torch.testing.assert_close(out, ref, atol=ATOL, rtol=RTOL)
)~";
}

} // namespace tapedeck::samples::corpus
