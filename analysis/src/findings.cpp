// The analysis as a whole: read the branch once, run every rule family over it, order what
// they found.
#include "branchsteps.h"
#include "rules.h"

#include <algorithm>
#include <array>

namespace tapedeck::analysis {

namespace {

constexpr std::array<const char *, kFindingKindCount> kKindNames = {
    "loop", "error_streak", "stall", "slow_call", "context_growth", "compaction",
    "near_context_limit", "plateau", "regression", "new_best", "early_stop",
};

} // namespace

const char *findingKindName(FindingKind kind)
{
    const int i = int(kind);
    return i >= 0 && i < kFindingKindCount ? kKindNames[size_t(i)] : "unknown";
}

std::optional<FindingKind> findingKindFromName(std::string_view name)
{
    for (int i = 0; i < kFindingKindCount; ++i)
        if (name == kKindNames[size_t(i)])
            return FindingKind(i);
    return std::nullopt;
}

const char *severityName(Severity severity)
{
    switch (severity) {
    case Severity::Info: return "info";
    case Severity::Notice: return "notice";
    case Severity::Warning: return "warning";
    }
    return "unknown";
}

Finding makeFinding(const BranchSteps &steps, FindingKind kind, Severity severity,
                    const std::vector<size_t> &positions)
{
    Finding f;
    f.kind = kind;
    f.severity = severity;
    for (size_t pos : positions) {
        const formats::StepSummary &s = steps.steps[pos];
        f.steps.push_back(s.index);
        if (f.startUs == 0 && s.startedUs > 0)
            f.startUs = s.startedUs;
        f.endUs = std::max({f.endUs, s.endedUs, s.startedUs});
    }
    return f;
}

formats::Result<AnalysisReport> analyze(const formats::TapeReader &reader, const AnalysisOptions &options)
{
    if (options.minLoopRepeats < 2 || options.minErrorStreak < 2 || options.plateauEvaluations < 2)
        return formats::Error{formats::ErrorCode::InvalidArgument,
                              "loop repeats, error streaks and plateaus need at least 2 (got " +
                                  std::to_string(options.minLoopRepeats) + ", " +
                                  std::to_string(options.minErrorStreak) + ", " +
                                  std::to_string(options.plateauEvaluations) + ")"};
    if (!(options.nearLimitFraction > 0 && options.nearLimitFraction <= 1))
        return formats::Error{formats::ErrorCode::InvalidArgument,
                              "the near-limit fraction must be within (0, 1], not " +
                                  std::to_string(options.nearLimitFraction)};
    auto steps = readBranchSteps(reader, options);
    if (!steps)
        return steps.error();

    AnalysisReport report;
    report.path = steps->path;
    report.run = steps->run;
    report.branch = steps->branch;
    report.stepsRead = int64_t(steps->steps.size());
    report.metricPattern = steps->metricPattern;
    report.higherIsBetter = options.higherIsBetter;
    report.toolCalls = int64_t(steps->calls.size());
    for (const ToolCallFacts &call : steps->calls)
        report.checks += call.check && call.result ? 1 : 0;
    for (const MetricPoint &p : steps->metric)
        report.metric.push_back({steps->indexAt(p.result), p.value});

    const std::vector<MetricStanding> standings = metricStandings(*steps, options);
    std::vector<Finding> &found = report.findings;
    findLoops(*steps, options, standings, found);
    findErrorStreaks(*steps, options, found);
    findStalls(*steps, options, found);
    findSlowCalls(*steps, options, found);
    report.contextWindowTokens = findContextFindings(*steps, options, found);
    findProgress(*steps, options, standings, found);
    findEarlyStop(*steps, standings, found);
    std::stable_sort(found.begin(), found.end(), [](const Finding &a, const Finding &b) {
        const int64_t sa = a.steps.empty() ? 0 : a.steps.front().value;
        const int64_t sb = b.steps.empty() ? 0 : b.steps.front().value;
        return sa != sb ? sa < sb : int(a.kind) < int(b.kind);
    });
    return report;
}

} // namespace tapedeck::analysis
