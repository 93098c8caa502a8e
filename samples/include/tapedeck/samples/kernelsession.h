// The public boundary of tapedeck_samples: a generator of long, realistic agent sessions.
//
// writeKernelSession() writes one synthetic run modelled on the published 35-hour kernel
// optimisation case (Qwen3.7-Max optimising SGLang's extend attention kernel unattended:
// 1,158 tool calls, 432 evaluations, a ~10x geometric-mean speed-up). At scale 1 it spans
// about 35 hours of timestamps and has exactly 1,158 tool calls, 432 of them evaluations,
// in a main thread and two sub-agent threads, with compile errors, wrong results, loops on
// a failing idea, context compactions, and every model call's exact Chat Completions
// streaming exchange. Everything is synthetic: no model was run.
//
// Rules that hold for both functions:
// - Deterministic: the same seed and scale give byte-identical tape content and raw log,
//   on every compiler and standard library.
// - The shape of the session (which tool calls, where loops and compactions fall) depends
//   on the scale only; the seed picks every text, number and duration. So the step count
//   is a function of the scale, known in advance.
// - Not thread-safe with respect to the writer; the generator keeps no global state.
#pragma once

#include <tapedeck/formats/tape.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tapedeck::samples {

struct KernelSessionOptions {
    uint64_t seed = 1;
    // Multiplies the length (the number of iterations): 0.01 .. 1000. Scale 1 is the
    // published run; scale ~290 gives a million steps.
    double scale = 1.0;
    // When not empty, also write the naive raw JSONL log (one line per HTTP exchange with
    // the full request and response bodies) to this path, replacing any file there.
    std::string rawLogPath;
    // Called now and then with the steps written so far and the steps planned; may be empty.
    std::function<void(int64_t stepsDone, int64_t stepsPlanned)> progress;
};

// Where the generator put a loop on a failing idea: the same attempt (an edit, then the
// check that fails) made `attempts` times, then given up with a revert.
struct KernelSessionLoop {
    formats::StepIndex firstCall;  // the first attempt's first tool call
    formats::StepIndex lastResult; // the last attempt's check result
    formats::StepIndex recovery;   // the revert's tool call
    int attempts = 0;
};

// A stretch the generator left idle (the harness waiting): no step runs from startUs to endUs.
struct KernelSessionIdle {
    int64_t startUs = 0, endUs = 0;
};

struct KernelSessionStats {
    int64_t steps = 0, modelCalls = 0, toolCalls = 0, evaluations = 0, compactions = 0,
            compileErrors = 0, loops = 0, threads = 0;
    double bestSpeedup = 0;  // best geometric-mean speed-up reached
    int64_t startedUs = 0, endedUs = 0;
    int64_t rawLogBytes = 0; // bytes written to rawLogPath (0 if none)
    int64_t requestBytes = 0; // total exact request bytes generated
    int64_t measuredEvaluations = 0; // evaluations that printed a geomean (not failed ones)
    std::vector<KernelSessionLoop> loopSpans;         // one per loop, in order
    std::vector<formats::StepIndex> compactionSteps;  // one per compaction, in order
    std::vector<KernelSessionIdle> idleGaps;          // in order
};

// Writes one run (its branch, three threads and all steps) into `writer` through the public
// writer API only, one append per step. Errors from the writer or the raw log are returned
// as they are; a scale outside 0.01 .. 1000 is InvalidArgument. On error the tape holds the
// steps written so far (the run is left open).
formats::Result<KernelSessionStats> writeKernelSession(formats::TapeWriter &writer,
                                                        const KernelSessionOptions &options);

// The number of steps writeKernelSession() writes at this scale (0 for a scale outside the
// range). Cheap: plans the session without generating any text (~30 ms at scale 290).
int64_t plannedKernelSessionSteps(double scale);

} // namespace tapedeck::samples
