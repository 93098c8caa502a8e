// The rule families. Each reads the branch's steps and appends its findings; none decodes
// anything (readBranchSteps did what decoding there is). Thresholds come from the options.
#pragma once

#include "branchsteps.h"

#include <vector>

namespace tapedeck::analysis {

// How each metric point stands against the best before it.
enum class MetricStanding { First, NewBest, Level, Setback };
std::vector<MetricStanding> metricStandings(const BranchSteps &steps, const AnalysisOptions &options);

void findLoops(const BranchSteps &steps, const AnalysisOptions &options,
               const std::vector<MetricStanding> &standings, std::vector<Finding> &out);
void findErrorStreaks(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out);
void findStalls(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out);
void findSlowCalls(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out);
// Returns the context window it used (0: not known).
int64_t findContextFindings(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out);
void findProgress(const BranchSteps &steps, const AnalysisOptions &options,
                  const std::vector<MetricStanding> &standings, std::vector<Finding> &out);
void findEarlyStop(const BranchSteps &steps, const std::vector<MetricStanding> &standings, std::vector<Finding> &out);

// A finding over the steps at these positions (sorted, not empty): its span runs from the
// first one's start to the latest end among them.
Finding makeFinding(const BranchSteps &steps, FindingKind kind, Severity severity,
                    const std::vector<size_t> &positions);

} // namespace tapedeck::analysis
