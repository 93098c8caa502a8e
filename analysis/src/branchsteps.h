// The steps of the branch under analysis, read once for all rules: every step's summary
// (no blob decoded) and, for tool calls and their results only, what the rules need from
// their payloads (the call's normalised arguments, the metric a result printed).
#pragma once

#include <tapedeck/analysis/findings.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tapedeck::analysis {

// One tool call and its result. Positions index BranchSteps::steps.
struct ToolCallFacts {
    size_t call = 0;
    std::optional<size_t> result;
    std::string tool;
    std::string exactKey; // the tool and its normalised arguments
    std::string looseKey; // the same with multi-line strings cut to their first line
    std::string label;    // the tool and its arguments shortened, for titles
    bool check = false;   // a test or benchmark (AnalysisOptions::checkPattern, or it printed the metric)
    bool failed = false;  // its result is an error (or it has none yet)
};

struct MetricPoint {
    size_t result = 0; // position of the tool result that printed it
    double value = 0;
};

// What a Compaction step's payload says, when it says it.
struct CompactionFacts {
    size_t position = 0;
    int64_t tokensBefore = 0, tokensAfter = 0;
    int64_t messagesBefore = 0, messagesAfter = 0;
};

struct BranchSteps {
    std::string path;
    formats::RunInfo run;
    formats::BranchInfo branch;
    std::map<formats::ThreadId, std::string> threadLabels;
    std::vector<formats::StepSummary> steps; // the branch's steps in order
    std::vector<ToolCallFacts> calls;        // in step order
    std::vector<MetricPoint> metric;         // in step order
    std::string metricPattern;               // the pattern the points came from
    std::vector<CompactionFacts> compactions;
    std::unordered_map<int64_t, size_t> positionOf; // step index -> position in steps

    std::string threadLabel(formats::ThreadId thread) const;
    formats::StepIndex indexAt(size_t position) const { return steps[position].index; }
};

// Reads the branch the options name. Errors name the file and what is wrong (no such run,
// a regular expression that does not parse, a step that cannot be decoded).
formats::Result<BranchSteps> readBranchSteps(const formats::TapeReader &reader, const AnalysisOptions &options);

} // namespace tapedeck::analysis
