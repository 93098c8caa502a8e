// Error streaks: failing tool results, model errors and error steps in a row within one
// thread, and what broke the streak. Tool calls and annotations are neutral; a model call
// that succeeds breaks a streak of model errors only (an agent whose tools keep failing
// still gets its answers from the model).
#include "findingtext.h"
#include "rules.h"

#include <map>

namespace tapedeck::analysis {

using formats::StepKind;
using formats::StepStatus;

namespace {

enum class Outcome { Neutral, Failure, Success };

struct Streak {
    std::vector<size_t> failures;
    bool toolFailures = false; // some failure was a tool's, not the model's
};

Outcome outcomeOf(const formats::StepSummary &s, const Streak &streak)
{
    const bool failed = s.status != StepStatus::Ok;
    switch (s.kind) {
    case StepKind::ToolResult:
    case StepKind::McpCall:
        return failed ? Outcome::Failure : Outcome::Success;
    case StepKind::ModelCall:
        if (failed)
            return Outcome::Failure;
        return streak.toolFailures ? Outcome::Neutral : Outcome::Success;
    case StepKind::Error:
        return Outcome::Failure;
    case StepKind::HttpExchange:
        return failed ? Outcome::Failure : Outcome::Neutral;
    default:
        return Outcome::Neutral;
    }
}

void report(const BranchSteps &steps, const AnalysisOptions &options, formats::ThreadId thread,
            const Streak &streak, std::optional<size_t> brokenBy, std::vector<Finding> &out)
{
    if (int64_t(streak.failures.size()) < options.minErrorStreak)
        return;
    std::vector<size_t> positions = streak.failures;
    if (brokenBy)
        positions.push_back(*brokenBy);
    Finding f = makeFinding(steps, FindingKind::ErrorStreak, brokenBy ? Severity::Notice : Severity::Warning,
                            positions);
    const size_t first = streak.failures.front();
    const std::string what = streak.toolFailures ? "failures" : "model errors";
    f.title = std::to_string(streak.failures.size()) + " " + what + " in a row in " + steps.threadLabel(thread);
    std::map<std::string, int> names;
    for (size_t pos : streak.failures)
        ++names[steps.steps[pos].name.empty() ? formats::stepKindName(steps.steps[pos].kind) : steps.steps[pos].name];
    std::string which;
    for (const auto &[name, n] : names)
        which += (which.empty() ? "" : ", ") + name + (n > 1 ? " ×" + std::to_string(n) : "");
    f.detail = "failing: " + which + "; ";
    f.measures = {{"count", streak.failures.size()}, {"thread", thread.value}};
    if (brokenBy) {
        const formats::StepSummary &ok = steps.steps[*brokenBy];
        const int64_t tookUs = ok.endedUs > 0 && steps.steps[first].startedUs > 0
                                   ? ok.endedUs - steps.steps[first].startedUs
                                   : 0;
        const int64_t stepsTaken = ok.index.value - steps.indexAt(first).value;
        f.detail += "recovered at " + stepText(ok.index) + " (" + (ok.name.empty() ? formats::stepKindName(ok.kind) : ok.name) +
                    " succeeded), " + countText(stepsTaken) + " steps" +
                    (tookUs > 0 ? " and " + durationText(tookUs) : std::string()) + " after the first failure";
        f.measures["broken_by"] = ok.index.value;
        f.measures["recovery_steps"] = stepsTaken;
        if (tookUs > 0)
            f.measures["recovery_us"] = tookUs;
    } else {
        f.detail += "never recovered before the thread ended";
    }
    out.push_back(std::move(f));
}

} // namespace

void findErrorStreaks(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out)
{
    std::map<formats::ThreadId, Streak> open;
    for (size_t pos = 0; pos < steps.steps.size(); ++pos) {
        const formats::StepSummary &s = steps.steps[pos];
        Streak &streak = open[s.thread];
        switch (outcomeOf(s, streak)) {
        case Outcome::Neutral:
            break;
        case Outcome::Failure:
            streak.failures.push_back(pos);
            streak.toolFailures = streak.toolFailures || s.kind == StepKind::ToolResult || s.kind == StepKind::McpCall;
            break;
        case Outcome::Success:
            report(steps, options, s.thread, streak, pos, out);
            streak = {};
            break;
        }
    }
    for (const auto &[thread, streak] : open)
        report(steps, options, thread, streak, std::nullopt, out);
}

} // namespace tapedeck::analysis
