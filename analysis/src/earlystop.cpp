// Early stop: the run ended while its check still failed (the last test or benchmark
// result an error, the last metric behind the best), without a final answer, or with budget
// left (a budget the run's labels state). Nothing is said of a run still being recorded.
#include "findingtext.h"
#include "rules.h"

#include <algorithm>
#include <cctype>

namespace tapedeck::analysis {

using formats::StepKind;

namespace {

bool mentions(std::string text, std::string_view word)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text.find(word) != std::string::npos;
}

// Budgets a run's labels may state, and what each one counts.
enum class Counted { Checks, ModelCalls, ToolCalls, Tokens, CostUsd };
struct BudgetLabel {
    const char *key;
    Counted counted;
    const char *unit;
};
constexpr BudgetLabel kBudgetLabels[] = {
    {"evaluations", Counted::Checks, "evaluations"},   // `tapedeck demo`
    {"max_evaluations", Counted::Checks, "evaluations"},
    {"evaluation_budget", Counted::Checks, "evaluations"},
    {"max_steps", Counted::ModelCalls, "model calls"},
    {"max_tool_calls", Counted::ToolCalls, "tool calls"},
    {"max_tokens", Counted::Tokens, "tokens"},
    {"token_budget", Counted::Tokens, "tokens"},
    {"max_cost_usd", Counted::CostUsd, "USD"},
    {"budget_usd", Counted::CostUsd, "USD"},
};

// The root thread's last step that is not bookkeeping (annotations, fork points).
std::optional<size_t> lastRootStep(const BranchSteps &steps)
{
    if (steps.steps.empty())
        return std::nullopt;
    const formats::ThreadId root = steps.steps.front().thread;
    for (size_t pos = steps.steps.size(); pos-- > 0;) {
        const formats::StepSummary &s = steps.steps[pos];
        if (s.thread == root && s.kind != StepKind::Annotation && s.kind != StepKind::ForkPoint)
            return pos;
    }
    return std::nullopt;
}

} // namespace

void findEarlyStop(const BranchSteps &steps, const std::vector<MetricStanding> &standings, std::vector<Finding> &out)
{
    const formats::RunInfo &run = steps.run;
    if ((run.endedUs == 0 && run.outcome.empty()) || steps.steps.empty())
        return;
    const std::string outcome = run.outcome.empty() ? std::string("ended") : "ended \"" + run.outcome + "\"";

    // The last check.
    const ToolCallFacts *lastCheck = nullptr;
    for (const ToolCallFacts &call : steps.calls)
        if (call.check && call.result)
            lastCheck = &call;
    if (lastCheck && lastCheck->failed) {
        Finding f = makeFinding(steps, FindingKind::EarlyStop, Severity::Warning, {lastCheck->call, *lastCheck->result});
        f.title = "ended with its check failing: " + lastCheck->label;
        f.detail = "the run " + outcome + "; its last test or benchmark (" + stepText(steps.indexAt(*lastCheck->result)) +
                   ") failed and none ran after it";
        f.measures = {{"reason", "check_failing"}, {"check_step", steps.indexAt(*lastCheck->result).value}};
        out.push_back(std::move(f));
    }

    // The last metric point against the best.
    if (!steps.metric.empty() && standings.back() == MetricStanding::Setback) {
        size_t bestAt = 0;
        for (size_t i = 0; i < standings.size(); ++i)
            if (standings[i] == MetricStanding::First || standings[i] == MetricStanding::NewBest)
                bestAt = i;
        const MetricPoint &last = steps.metric.back(), &best = steps.metric[bestAt];
        Finding f = makeFinding(steps, FindingKind::EarlyStop, Severity::Notice, {last.result});
        f.title = "ended below its best: last " + valueText(last.value) + ", best " + valueText(best.value);
        f.detail = "the run " + outcome + " after measuring " + valueText(last.value) + " at " + stepText(steps.indexAt(last.result)) +
                   "; the best, " + valueText(best.value) + ", was measured at " + stepText(steps.indexAt(best.result));
        f.measures = {{"reason", "below_best"}, {"last", last.value}, {"best", best.value},
                      {"best_step", steps.indexAt(best.result).value}};
        out.push_back(std::move(f));
    }

    // The final answer. Agents that finish through a tool ("submit") say so in the outcome.
    if (auto last = lastRootStep(steps); last && !mentions(run.outcome, "submit")) {
        const formats::StepSummary &s = steps.steps[*last];
        if (s.kind != StepKind::ModelCall || s.status != formats::StepStatus::Ok) {
            Finding f = makeFinding(steps, FindingKind::EarlyStop, Severity::Notice, {*last});
            f.title = "ended without a final answer in " + steps.threadLabel(s.thread);
            f.detail = "the run " + outcome + "; the thread's last step is a " + formats::stepKindName(s.kind) +
                       (s.status != formats::StepStatus::Ok ? std::string(" that failed") : std::string()) +
                       ", not an answer from the model";
            f.measures = {{"reason", "no_final_answer"}, {"last_step", s.index.value}};
            out.push_back(std::move(f));
        }
    }

    // Budget left.
    if (!mentions(run.outcome, "budget") && run.labels.is_object()) {
        for (const BudgetLabel &label : kBudgetLabels) {
            auto it = run.labels.find(label.key);
            if (it == run.labels.end() || !it->is_number() || it->get<double>() <= 0)
                continue;
            const double budget = it->get<double>();
            double used = 0;
            for (const ToolCallFacts &call : steps.calls)
                used += label.counted == Counted::Checks ? (call.check && call.result ? 1 : 0)
                        : label.counted == Counted::ToolCalls ? 1 : 0;
            for (const formats::StepSummary &s : steps.steps) {
                if (label.counted == Counted::ModelCalls && s.kind == StepKind::ModelCall)
                    ++used;
                if (label.counted == Counted::Tokens)
                    used += double(s.usage.inputTokens + s.usage.cacheReadTokens + s.usage.cacheWriteTokens + s.usage.outputTokens);
                if (label.counted == Counted::CostUsd)
                    used += s.costUsd.value_or(0);
            }
            if (used >= budget)
                continue;
            Finding f = makeFinding(steps, FindingKind::EarlyStop, Severity::Notice, {steps.steps.size() - 1});
            f.title = "ended with budget left: " + valueText(budget - used) + " of " + valueText(budget) + " " + label.unit;
            f.detail = "the run " + outcome + " having used " + valueText(used) + " " + label.unit +
                       " of the " + valueText(budget) + " its label \"" + label.key + "\" allows";
            f.measures = {{"reason", "budget_left"}, {"label", label.key}, {"budget", budget}, {"used", used}};
            out.push_back(std::move(f));
        }
    }
}

} // namespace tapedeck::analysis
