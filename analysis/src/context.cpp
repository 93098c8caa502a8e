// Context rules, per thread over its successful model calls: a step that grew the request
// far more than the thread usually does, compactions (a Compaction step, or a request that
// shrank sharply without one), and requests close to the model's context window.
//
// Sizes: the growth and shrink rules compare exact request bytes where the wire was
// recorded (they do not depend on how a provider counts cached tokens), else tokens (input
// + cache read + cache write, as the tape keeps them), else message counts. The window rule
// counts tokens.
#include "findingtext.h"
#include "rules.h"

#include <algorithm>
#include <map>

namespace tapedeck::analysis {

using formats::StepKind;

namespace {

constexpr double kGrowthFactor = 8;     // times the thread's median growth
constexpr size_t kMinGrowthSamples = 8; // growths a thread needs before one is "unusual"
constexpr double kShrinkFraction = 0.5; // a request at most half the size of the one before

int64_t promptTokens(const formats::StepSummary &s)
{
    return s.usage.inputTokens + s.usage.cacheReadTokens + s.usage.cacheWriteTokens;
}

enum class Unit { Bytes, Tokens, Messages };

struct Size {
    Unit unit;
    int64_t value;
};

// The measure two consecutive requests can both be compared by.
std::optional<std::pair<Size, Size>> comparable(const formats::StepSummary &a, const formats::StepSummary &b)
{
    if (a.requestBytes > 0 && b.requestBytes > 0)
        return std::pair{Size{Unit::Bytes, a.requestBytes}, Size{Unit::Bytes, b.requestBytes}};
    if (promptTokens(a) > 0 && promptTokens(b) > 0)
        return std::pair{Size{Unit::Tokens, promptTokens(a)}, Size{Unit::Tokens, promptTokens(b)}};
    if (a.messageCount > 0 && b.messageCount > 0)
        return std::pair{Size{Unit::Messages, a.messageCount}, Size{Unit::Messages, b.messageCount}};
    return std::nullopt;
}

const char *unitName(Unit unit)
{
    switch (unit) {
    case Unit::Bytes: return "bytes";
    case Unit::Tokens: return "tokens";
    case Unit::Messages: return "messages";
    }
    return "";
}

std::string sizeText(Size size)
{
    switch (size.unit) {
    case Unit::Bytes: return tokensText(size.value) + " bytes";
    case Unit::Tokens: return tokensText(size.value) + " tokens";
    case Unit::Messages: return countText(size.value) + " messages";
    }
    return "";
}

// Growths below this are never unusual, however steady the thread.
int64_t growthFloor(Unit unit)
{
    switch (unit) {
    case Unit::Bytes: return 16'000;
    case Unit::Tokens: return 4'000;
    case Unit::Messages: return 20;
    }
    return 0;
}

int64_t shrinkFloor(Unit unit)
{
    return growthFloor(unit) / 2;
}

int64_t median(std::vector<int64_t> values)
{
    const auto mid = values.begin() + std::ptrdiff_t(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

void growthAndShrinks(const BranchSteps &steps, formats::ThreadId thread, const std::vector<size_t> &calls,
                      std::vector<Finding> &out)
{
    // Compaction steps of this thread, by the model call that follows each.
    std::map<size_t, const CompactionFacts *> compactionBefore;
    for (const CompactionFacts &c : steps.compactions) {
        if (steps.steps[c.position].thread != thread)
            continue;
        auto next = std::upper_bound(calls.begin(), calls.end(), c.position);
        Finding f = makeFinding(steps, FindingKind::Compaction, Severity::Info,
                                next == calls.end() ? std::vector<size_t>{c.position}
                                                    : std::vector<size_t>{c.position, *next});
        if (next != calls.end())
            compactionBefore[*next] = &c;
        f.title = "compaction in " + steps.threadLabel(thread);
        if (c.tokensBefore > 0)
            f.title += ": " + tokensText(c.tokensBefore) + " → " + tokensText(c.tokensAfter) + " tokens";
        f.detail = steps.steps[c.position].name.empty() ? "a compaction step" : "compaction step \"" + steps.steps[c.position].name + "\"";
        if (c.messagesBefore > 0)
            f.detail += ", " + countText(c.messagesBefore) + " → " + countText(c.messagesAfter) + " messages";
        if (next != calls.end() && c.position > 0)
            f.detail += "; the next request is " + stepText(steps.indexAt(*next));
        f.measures = {{"thread", thread.value}, {"source", "compaction_step"}};
        if (c.tokensBefore > 0)
            f.measures.update({{"tokens_before", c.tokensBefore}, {"tokens_after", c.tokensAfter}});
        if (c.messagesBefore > 0)
            f.measures.update({{"messages_before", c.messagesBefore}, {"messages_after", c.messagesAfter}});
        out.push_back(std::move(f));
    }

    std::map<Unit, std::vector<int64_t>> growths;
    for (size_t i = 1; i < calls.size(); ++i)
        if (auto sizes = comparable(steps.steps[calls[i - 1]], steps.steps[calls[i]]))
            if (sizes->second.value > sizes->first.value)
                growths[sizes->first.unit].push_back(sizes->second.value - sizes->first.value);
    std::map<Unit, int64_t> usual;
    for (const auto &[unit, values] : growths)
        if (values.size() >= kMinGrowthSamples)
            usual[unit] = median(values);

    for (size_t i = 1; i < calls.size(); ++i) {
        const formats::StepSummary &before = steps.steps[calls[i - 1]], &after = steps.steps[calls[i]];
        auto sizes = comparable(before, after);
        if (!sizes)
            continue;
        const auto [from, to] = *sizes;
        if (to.value > from.value) {
            auto it = usual.find(from.unit);
            const int64_t grew = to.value - from.value;
            if (it == usual.end() || grew < growthFloor(from.unit) || double(grew) <= kGrowthFactor * double(it->second))
                continue;
            Finding f = makeFinding(steps, FindingKind::ContextGrowth, Severity::Notice, {calls[i]});
            f.title = "context grew by " + sizeText({from.unit, grew}) + " in one step in " + steps.threadLabel(thread);
            f.detail = "from " + sizeText(from) + " at " + stepText(before.index) + " to " + sizeText(to) +
                       "; the thread's usual growth is " + sizeText({from.unit, it->second});
            f.measures = {{"grew", grew}, {"usual", it->second}, {"unit", unitName(from.unit)},
                          {"before", from.value}, {"after", to.value}, {"previous_step", before.index.value},
                          {"thread", thread.value}};
            out.push_back(std::move(f));
        } else if (double(to.value) <= kShrinkFraction * double(from.value) &&
                   from.value - to.value >= shrinkFloor(from.unit) && !compactionBefore.count(calls[i]) &&
                   !(before.messageCount > 0 && after.messageCount > before.messageCount)) {
            Finding f = makeFinding(steps, FindingKind::Compaction, Severity::Info, {calls[i - 1], calls[i]});
            f.title = "context shrank in " + steps.threadLabel(thread) + ": " + sizeText(from) + " → " + sizeText(to);
            f.detail = "the request at " + stepText(after.index) + " is " +
                       percentText(double(to.value) / double(from.value)) + " of the one before (" +
                       stepText(before.index) + "), with no compaction step between";
            if (before.messageCount > 0 && after.messageCount > 0)
                f.detail += "; " + countText(before.messageCount) + " → " + countText(after.messageCount) + " messages";
            f.measures = {{"before", from.value}, {"after", to.value}, {"unit", unitName(from.unit)},
                          {"thread", thread.value}, {"source", "request_size"}};
            out.push_back(std::move(f));
        }
    }
}

} // namespace

int64_t findContextFindings(const BranchSteps &steps, const AnalysisOptions &options, std::vector<Finding> &out)
{
    std::map<formats::ThreadId, std::vector<size_t>> calls;
    for (size_t pos = 0; pos < steps.steps.size(); ++pos) {
        const formats::StepSummary &s = steps.steps[pos];
        if (s.kind == StepKind::ModelCall && s.status == formats::StepStatus::Ok)
            calls[s.thread].push_back(pos);
    }
    for (const CompactionFacts &c : steps.compactions)
        calls.try_emplace(steps.steps[c.position].thread);
    for (const auto &[thread, positions] : calls)
        growthAndShrinks(steps, thread, positions, out);

    int64_t windowUsed = options.contextWindowTokens;
    for (const auto &[thread, positions] : calls) {
        std::vector<size_t> near;
        int64_t peak = 0, window = 0;
        auto flush = [&] {
            if (near.empty())
                return;
            Finding f = makeFinding(steps, FindingKind::NearContextLimit, Severity::Warning, near);
            const std::string model = steps.steps[near.front()].name;
            f.title = std::to_string(near.size()) + (near.size() == 1 ? " request" : " requests") + " at " +
                      percentText(double(peak) / double(window)) + " of " + (model.empty() ? "the model" : model) +
                      "'s " + tokensText(window) + "-token window";
            f.detail = "peak " + tokensText(peak) + " tokens in " + steps.threadLabel(thread) + "; the rule flags requests at " +
                       percentText(options.nearLimitFraction) + " of the window or more";
            f.measures = {{"count", near.size()}, {"peak_tokens", peak}, {"window_tokens", window},
                          {"thread", thread.value}};
            out.push_back(std::move(f));
            near.clear();
            peak = 0;
        };
        for (size_t pos : positions) {
            const formats::StepSummary &s = steps.steps[pos];
            const int64_t w = options.contextWindowTokens > 0 ? options.contextWindowTokens : knownContextWindow(s.name);
            if (windowUsed == 0)
                windowUsed = w;
            const int64_t tokens = promptTokens(s);
            if (w > 0 && double(tokens) >= options.nearLimitFraction * double(w)) {
                if (w != window)
                    flush();
                window = w;
                near.push_back(pos);
                peak = std::max(peak, tokens);
            } else {
                flush();
            }
        }
        flush();
    }
    return windowUsed;
}

} // namespace tapedeck::analysis
