// Drift and recovery analysis of a run (`tapedeck analyze`, the app's findings panel):
// deterministic rules over a branch's steps, no model judge. Each finding names the steps
// it covers (the first is where to jump), its time span, a one-line title and what the
// rule measured.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::analysis {

enum class FindingKind {
    Loop,           // the same tool call, or the same short cycle of calls, repeated
    ErrorStreak,    // failing tool calls or model errors in a row, and what broke the streak
    Stall,          // a long gap between steps
    SlowCall,       // a model or tool call far slower than the run's usual
    ContextGrowth,  // a step that grew the context far more than usual
    Compaction,     // the context compacted (a compaction step, or a request that shrank)
    NearContextLimit, // requests close to the model's context window
    Plateau,        // the progress metric did not improve for a long stretch
    Regression,     // the progress metric fell well below the best so far
    NewBest,        // the progress metric reached a new best
    EarlyStop,      // the run ended with its check still failing, or budget left
};
inline constexpr int kFindingKindCount = 11;
const char *findingKindName(FindingKind kind); // "loop", "error_streak", ...
std::optional<FindingKind> findingKindFromName(std::string_view name);

enum class Severity { Info, Notice, Warning };
const char *severityName(Severity severity); // "info", "notice", "warning"

struct Finding {
    FindingKind kind = FindingKind::Loop;
    Severity severity = Severity::Notice;
    std::string title;  // one line: "loop: run_benchmark {\"variant\":\"tiled\"} 5 times"
    std::string detail; // how it ended, what broke it, how long it took
    std::vector<formats::StepIndex> steps; // the steps it covers, in order; steps.front() is the jump target
    int64_t startUs = 0, endUs = 0;
    nlohmann::json measures = nlohmann::json::object(); // the rule's numbers: count, cycle, gap_us, ...
};

struct AnalysisOptions {
    std::optional<formats::RunId> run;       // default: the tape's last run
    std::optional<formats::BranchId> branch; // default: the run's original
    // The progress metric: a regular expression over tool outputs whose first capture
    // group is a number. Empty: the built-in patterns (speed-up / score lines, as the
    // kernel session prints them); "-" turns the progress rules off.
    std::string metricPattern;
    std::string metricTool;       // only outputs of this tool ("" any)
    bool higherIsBetter = true;
    int minLoopRepeats = 3;       // a call (or cycle) seen this many times in a row
    int64_t stallUs = 10 * 60 * 1000000LL; // gaps at least this long
    int minErrorStreak = 3;
    int64_t plateauEvaluations = 25;       // metric points without a new best
    double nearLimitFraction = 0.9;        // of the context window
    int64_t contextWindowTokens = 0;       // 0: from the model's name where known
    // Which tool calls are the task's check (tests, benchmarks): a regular expression over
    // the call's tool name and arguments. Empty: the built-in one (test, pytest, bench,
    // eval, check as words or parts of names); "-": none but those that print the metric.
    std::string checkPattern;
    double slowCallFactor = 10;            // slower than this many times the median ...
    int64_t slowCallMinUs = 60 * 1000000LL; // ... and at least this long
    double regressionFraction = 0.03;      // worse than the best by more than this fraction
    // Called now and then with steps read and steps to read; may be empty.
    std::function<void(int64_t done, int64_t total)> progress;
};

struct AnalysisReport {
    std::string path; // the tape analyzed, for jump links
    formats::RunInfo run;
    formats::BranchInfo branch;
    int64_t stepsRead = 0;
    std::vector<Finding> findings; // in order of their first step
    // The progress metric's points: {step, value}, for plots.
    std::vector<std::pair<formats::StepIndex, double>> metric;
    std::string metricPattern;       // the pattern the points came from ("" when none matched)
    bool higherIsBetter = true;      // as the options said
    int64_t contextWindowTokens = 0; // the window the context rules used (0: not known)
    int64_t toolCalls = 0;
    int64_t checks = 0;              // tool results of check calls (tests, benchmarks)
};

// The patterns tried, in order, when AnalysisOptions::metricPattern is empty.
const std::vector<std::string> &builtinMetricPatterns();
// The context window of a model from its name (the longest known prefix), 0 when not known.
int64_t knownContextWindow(std::string_view model);

formats::Result<AnalysisReport> analyze(const formats::TapeReader &reader, const AnalysisOptions &options = {});

// Text: a header, each finding (severity, kind, first step, time into the run and span,
// title, detail, its steps and the `tapedeck dump FILE --step N` to jump there), then one
// summary line per kind. In step order, or grouped by kind.
void printAnalysis(const AnalysisReport &report, std::ostream &out);
void printAnalysis(const AnalysisReport &report, std::ostream &out, bool groupByKind);
// {"file", "run": {...}, "branch", "steps_read", "tool_calls", "checks",
//  "context_window_tokens", "metric": {"pattern", "points": [[step, value], ...], "best"},
//  "summary": {kind: {"count", "warning", "notice", "info"}, ...},
//  "findings": [{"kind", "severity", "title", "detail", "first_step", "last_step", "steps",
//                "start_us", "end_us", "measures"}, ...]}
nlohmann::json analysisToJson(const AnalysisReport &report);
nlohmann::json findingToJson(const Finding &finding);

} // namespace tapedeck::analysis
