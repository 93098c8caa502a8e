// The kernel-tuner policy: plays a model that works on samples/kernel-tuning through an
// agent's tools (bash, read_file, write_file, edit_file, list_dir, todo, as the reference
// agent names them).
//
// It looks around (list_dir, TASK.md, kernel.c), writes a plan, measures the naive kernel
// with `make bench`, then climbs: from the best version so far it writes one change at a
// time (loop order, tiling, register blocking, restrict, ivdep, unrolling, hoisting; see
// kerneltunercode.h), runs the benchmark, reads the real speed-up from the tool output,
// saves a faster version with `cp kernel.c best_kernel.c` and reverts a slower one with
// `cp best_kernel.c kernel.c`. It makes the slips real agents make and recovers: a compile
// error fixed with edit_file after reading the compiler's message, a blocked loop that
// drops its last partial block (caught by the benchmark's check, then fixed), regressions
// reverted, and once a close regression measured again. When its evaluation budget is
// spent (or no idea is left) it puts the best version back in kernel.c, closes the plan
// and ends with a text summary naming the best speed-up ("Best speed-up: 3.41x ...").
//
// The budget is the one the task states ("... a budget of 20 benchmark evaluations ..." in
// a user message), else KernelTunerOptions::evaluations.
//
// Every answer is decided from the request alone (its tool calls and their outputs, see
// kerneltunerstate.h) and the seed: the same conversation gives the same answer. A
// compaction request is answered with a summary that carries the state, from which the
// next requests continue.
#pragma once

#include "policy.h"

#include <cstdint>

namespace tapedeck::model {

struct KernelTunerOptions {
    uint64_t seed = 0;         // the order of ideas of equal rank, and where the slips fall
    int evaluations = 18;      // `make bench` runs before it wraps up (the baseline included)
};

class KernelTuner final : public Policy {
public:
    explicit KernelTuner(KernelTunerOptions options);
    const char *name() const override { return "kernel-tuner"; }
    formats::Result<Turn> answer(const formats::wire::Request &request) override;

private:
    KernelTunerOptions m_options;
};

} // namespace tapedeck::model
