// Time rules: stalls (long gaps in which nothing happened, in the run or in one thread) and
// slow calls (a model call or a tool far slower than the run's usual).
#include "findingtext.h"
#include "rules.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace tapedeck::analysis {

using formats::StepKind;

namespace {

bool timed(const formats::StepSummary &s)
{
    return s.startedUs > 0 && s.endedUs >= s.startedUs;
}

int64_t median(std::vector<int64_t> values)
{
    if (values.empty())
        return 0;
    const auto mid = values.begin() + std::ptrdiff_t(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

struct Gap {
    size_t before, after; // positions
    int64_t fromUs, toUs;
};

// Gaps in which no step of the branch was in progress.
std::vector<Gap> runGaps(const BranchSteps &steps, int64_t minUs)
{
    std::vector<size_t> order;
    for (size_t pos = 0; pos < steps.steps.size(); ++pos)
        if (timed(steps.steps[pos]))
            order.push_back(pos);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return steps.steps[a].startedUs < steps.steps[b].startedUs; });
    std::vector<Gap> gaps;
    int64_t busyUntil = 0;
    size_t last = 0;
    for (size_t pos : order) {
        const formats::StepSummary &s = steps.steps[pos];
        if (busyUntil > 0 && s.startedUs - busyUntil >= minUs)
            gaps.push_back({last, pos, busyUntil, s.startedUs});
        if (s.endedUs >= busyUntil) {
            busyUntil = s.endedUs;
            last = pos;
        }
    }
    return gaps;
}

} // namespace

void findStalls(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out)
{
    if (options.stallUs <= 0)
        return;
    const std::vector<Gap> idle = runGaps(steps, options.stallUs);
    for (const Gap &gap : idle) {
        Finding f = makeFinding(steps, FindingKind::Stall, Severity::Warning, {gap.before, gap.after});
        f.startUs = gap.fromUs;
        f.endUs = gap.toUs;
        const formats::StepSummary &next = steps.steps[gap.after];
        f.title = "stall: nothing happened for " + durationText(gap.toUs - gap.fromUs);
        f.detail = "after " + stepText(steps.indexAt(gap.before)) + " (" +
                   formats::stepKindName(steps.steps[gap.before].kind) + ") the run was idle until " +
                   stepText(next.index) + " (" + formats::stepKindName(next.kind) + " in " +
                   steps.threadLabel(next.thread) + ")";
        f.measures = {{"gap_us", gap.toUs - gap.fromUs}, {"scope", "run"}, {"thread", next.thread.value}};
        out.push_back(std::move(f));
    }

    // A thread that waited long while others worked (a side conversation, a sub-agent that
    // sat idle). Gaps the whole run shared are reported above.
    std::map<formats::ThreadId, size_t> previous;
    for (size_t pos = 0; pos < steps.steps.size(); ++pos) {
        const formats::StepSummary &s = steps.steps[pos];
        if (!timed(s))
            continue;
        auto it = previous.find(s.thread);
        if (it != previous.end()) {
            const formats::StepSummary &before = steps.steps[it->second];
            const int64_t from = before.endedUs, to = s.startedUs;
            int64_t shared = 0;
            for (const Gap &g : idle)
                shared += std::max<int64_t>(0, std::min(to, g.toUs) - std::max(from, g.fromUs));
            if (to - from >= options.stallUs && shared * 2 < to - from) {
                Finding f = makeFinding(steps, FindingKind::Stall, Severity::Info, {it->second, pos});
                f.startUs = from;
                f.endUs = to;
                f.title = "stall: " + steps.threadLabel(s.thread) + " waited " + durationText(to - from);
                f.detail = "between " + stepText(before.index) + " and " + stepText(s.index) +
                           "; other threads were working meanwhile";
                f.measures = {{"gap_us", to - from}, {"scope", "thread"}, {"thread", s.thread.value}};
                out.push_back(std::move(f));
            }
        }
        previous[s.thread] = pos;
    }
}

void findSlowCalls(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out)
{
    std::vector<int64_t> modelDurations, toolDurations;
    std::map<std::string, std::vector<int64_t>> byTool;
    for (const formats::StepSummary &s : steps.steps) {
        if (!timed(s))
            continue;
        if (s.kind == StepKind::ModelCall)
            modelDurations.push_back(s.endedUs - s.startedUs);
        else if (s.kind == StepKind::ToolResult || s.kind == StepKind::McpCall) {
            toolDurations.push_back(s.endedUs - s.startedUs);
            byTool[s.name].push_back(s.endedUs - s.startedUs);
        }
    }
    const int64_t modelMedian = median(modelDurations);
    const int64_t toolMedian = median(toolDurations);
    std::map<std::string, int64_t> toolMedians;
    // A tool's own median once it has run often enough to have a usual; else the run's.
    for (const auto &[tool, durations] : byTool)
        toolMedians[tool] = durations.size() >= 5 ? median(durations) : toolMedian;

    for (size_t pos = 0; pos < steps.steps.size(); ++pos) {
        const formats::StepSummary &s = steps.steps[pos];
        const bool model = s.kind == StepKind::ModelCall;
        if (!timed(s) || !(model || s.kind == StepKind::ToolResult || s.kind == StepKind::McpCall))
            continue;
        const int64_t took = s.endedUs - s.startedUs;
        const int64_t usual = model ? modelMedian : toolMedians[s.name];
        if (usual <= 0 || took < options.slowCallMinUs || double(took) <= options.slowCallFactor * double(usual))
            continue;
        std::vector<size_t> positions{pos};
        if (!model && s.parent)
            if (auto it = steps.positionOf.find(s.parent->value); it != steps.positionOf.end())
                positions.insert(positions.begin(), it->second);
        // Steps of other threads while it ran (appended between the call and its result, or
        // after): a tool that runs a sub-agent is slow for a reason.
        int64_t others = 0;
        std::map<std::string, int> threads;
        for (size_t q = positions.front() + 1; q < steps.steps.size(); ++q) {
            const formats::StepSummary &o = steps.steps[q];
            if (q > pos && o.startedUs > s.endedUs)
                break;
            if (q != pos && o.thread != s.thread && o.startedUs >= s.startedUs && o.startedUs <= s.endedUs) {
                ++others;
                ++threads[steps.threadLabel(o.thread)];
            }
        }
        Finding f = makeFinding(steps, FindingKind::SlowCall, others > 0 ? Severity::Info : Severity::Notice, positions);
        f.startUs = s.startedUs;
        f.endUs = s.endedUs;
        const double factor = double(took) / double(usual);
        char times[32];
        std::snprintf(times, sizeof times, "%.0fx", factor);
        f.title = std::string("slow ") + (model ? "model call " : "tool ") + (s.name.empty() ? "" : s.name + " ") +
                  "took " + durationText(took) + " (" + times + " the usual " + durationText(usual) + ")";
        const bool ownMedian = !model && byTool[s.name].size() >= 5;
        f.detail = std::string("the median ") + (model ? "model call" : ownMedian ? s.name + " call" : "tool call") +
                   " of the run took " + durationText(usual);
        if (others > 0) {
            std::string names;
            for (const auto &[label, n] : threads)
                names += (names.empty() ? "" : ", ") + label;
            f.detail += "; meanwhile " + countText(others) + " steps of " + names + " ran";
        }
        f.measures = {{"took_us", took}, {"median_us", usual}, {"factor", factor}, {"thread", s.thread.value}};
        if (others > 0)
            f.measures["other_thread_steps"] = others;
        out.push_back(std::move(f));
    }
}

} // namespace tapedeck::analysis
