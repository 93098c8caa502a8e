// The report of a divergence: which request, the recorded step it was taken to be, the
// parts that differ with their diffs, whether it is environment drift, and the nearest
// recorded candidates. Text for people (stderr), JSON for scripts (--report FILE).
#pragma once

#include "requestcomparison.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/replayer/replayer.h>

#include <string>
#include <vector>

namespace tapedeck::replayer {

struct ComparedCandidate {
    formats::StepSummary step;       // its index, thread, kind, name
    std::string threadLabel;
    size_t callInThread = 0;         // 1-based; 0 when it is not one of a thread's model calls
    RequestComparison comparison;
};

struct DivergenceInput {
    int64_t request = 0;
    std::string method;
    std::string path;
    std::string problem;             // set when the request itself is the problem (not JSON,
                                     // an unrecorded path), instead of candidates' differences
    std::vector<ComparedCandidate> candidates; // best first; the first is the expected step
};

// Fills report, json, expected and environmentDrift of a Divergence (served is the caller's).
Divergence describeDivergence(const DivergenceInput &input);

} // namespace tapedeck::replayer
