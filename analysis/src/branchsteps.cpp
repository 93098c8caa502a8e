// Reading a branch for the rules: summaries page by page, then only tool calls, tool
// results (when a metric is wanted) and compactions decoded, without their request
// messages.
#include "branchsteps.h"
#include "callkey.h"

#include <tapedeck/replayer/branchlineage.h>

#include <cmath>
#include <cstdlib>
#include <regex>

namespace tapedeck::analysis {

using formats::Error;
using formats::ErrorCode;
using formats::StepKind;
using nlohmann::json;

namespace {

// Tests and benchmarks by the words their commands and tool names use: "pytest", "make
// check", "run_tests", "eval/run_eval.py", "make bench", "test_issue.py".
constexpr const char *kCheckPattern =
    "(^|[^a-z])(pytest|unittest|ctest|tests?|bench|benchmark|eval|evaluate|check)([^a-z]|$)";

formats::Result<std::regex> compiled(const std::string &pattern, const char *what)
{
    try {
        return std::regex(pattern, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
    } catch (const std::regex_error &e) {
        return Error{ErrorCode::InvalidArgument,
                     std::string(what) + " \"" + pattern + "\" is not a valid regular expression: " + e.what()};
    }
}

// The text of a tool result: the output string, the text parts of content blocks (MCP's
// [{"type":"text","text":...}]), or else the output as JSON.
std::string outputText(const json &payload)
{
    const json &output = payload.is_object() && payload.contains("output") ? payload["output"] : payload;
    if (output.is_string())
        return output.get<std::string>();
    if (output.is_null())
        return {};
    if (output.is_array()) {
        std::string text;
        for (const json &part : output) {
            const json &piece = part.is_object() && part.contains("text") ? part["text"] : part;
            if (piece.is_string())
                text += (text.empty() ? "" : "\n") + piece.get<std::string>();
        }
        if (!text.empty())
            return text;
    }
    return output.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The last number the pattern finds in `text`: its first capture group, else the match.
std::optional<double> lastValue(const std::regex &pattern, const std::string &text)
{
    std::optional<double> value;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
        const std::smatch &m = *it;
        const std::string number = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
        char *end = nullptr;
        const double v = std::strtod(number.c_str(), &end);
        if (end != number.c_str() && std::isfinite(v))
            value = v;
    }
    return value;
}

int64_t integerOr(const json &payload, const char *key)
{
    if (payload.is_object())
        if (auto it = payload.find(key); it != payload.end() && it->is_number())
            return it->get<int64_t>();
    return 0;
}

struct Metric {
    std::vector<std::regex> patterns;
    std::vector<std::string> texts;
    int chosen = -1; // once one pattern matched, only that one: points of one metric
};

} // namespace

const std::vector<std::string> &builtinMetricPatterns()
{
    static const std::vector<std::string> patterns = {
        // the kernel session's evaluation script: "geomean speedup over triton baseline: 9.65x"
        R"(geomean speed-?up[^\n:]*:\s*([-+]?[0-9]*\.?[0-9]+)\s*x)",
        // the demo's benchmark: "speedup: 3.21x (naive 812.0 ms, kernel 253.1 ms)"
        R"(speed-?up\s*[:=]\s*([-+]?[0-9]*\.?[0-9]+)\s*x)",
        // scorers: "score: 0.82", "score = 71"
        R"(\bscore\s*[:=]\s*([-+]?[0-9]*\.?[0-9]+))",
    };
    return patterns;
}

std::string BranchSteps::threadLabel(formats::ThreadId thread) const
{
    auto it = threadLabels.find(thread);
    return it == threadLabels.end() || it->second.empty() ? "thread " + std::to_string(thread.value) : it->second;
}

formats::Result<BranchSteps> readBranchSteps(const formats::TapeReader &reader, const AnalysisOptions &options)
{
    BranchSteps out;
    out.path = reader.path();

    Metric metric;
    if (options.metricPattern != "-") {
        const std::vector<std::string> texts =
            options.metricPattern.empty() ? builtinMetricPatterns() : std::vector<std::string>{options.metricPattern};
        for (const std::string &text : texts) {
            auto regex = compiled(text, "the metric pattern");
            if (!regex)
                return regex.error();
            metric.patterns.push_back(std::move(*regex));
            metric.texts.push_back(text);
        }
    }
    std::optional<std::regex> check;
    if (options.checkPattern != "-") {
        auto regex = compiled(options.checkPattern.empty() ? kCheckPattern : options.checkPattern, "the check pattern");
        if (!regex)
            return regex.error();
        check = std::move(*regex);
    }

    auto lineage = replayer::BranchLineage::resolve(reader, options.run, options.branch);
    if (!lineage)
        return lineage.error();
    auto runs = reader.runs();
    if (!runs)
        return runs.error();
    for (const formats::RunInfo &run : *runs)
        if (run.id == lineage->run())
            out.run = run;
    auto branches = reader.branches();
    if (!branches)
        return branches.error();
    for (const formats::BranchInfo &branch : *branches)
        if (branch.id == lineage->branch())
            out.branch = branch;
    auto threads = reader.threads();
    if (!threads)
        return threads.error();
    for (const formats::ThreadInfo &thread : *threads)
        out.threadLabels[thread.id] = thread.label;

    int64_t toDecode = 0;
    const bool wantOutputs = !metric.patterns.empty();
    formats::Status read = lineage->forEach(reader, [&](const formats::StepSummary &s) {
        out.positionOf[s.index.value] = out.steps.size();
        out.steps.push_back(s);
        if (s.kind == StepKind::ToolCall || s.kind == StepKind::Compaction ||
            (wantOutputs && s.kind == StepKind::ToolResult))
            ++toDecode;
        return true;
    });
    if (!read)
        return read.error();

    const int64_t total = int64_t(out.steps.size()) + toDecode;
    int64_t done = int64_t(out.steps.size());
    if (options.progress)
        options.progress(done, total);
    std::unordered_map<int64_t, size_t> callOfStep; // tool call step index -> position in calls
    for (size_t pos = 0; pos < out.steps.size(); ++pos) {
        const formats::StepSummary &s = out.steps[pos];
        const bool isResult = s.kind == StepKind::ToolResult;
        if (s.kind != StepKind::ToolCall && s.kind != StepKind::Compaction && !isResult)
            continue;
        std::optional<size_t> call;
        if (isResult && s.parent)
            if (auto it = callOfStep.find(s.parent->value); it != callOfStep.end())
                call = it->second;
        if (isResult) {
            if (call) {
                out.calls[*call].result = pos;
                out.calls[*call].failed = s.status != formats::StepStatus::Ok;
            }
            if (!wantOutputs || (!options.metricTool.empty() && s.name != options.metricTool))
                continue;
        }
        auto step = reader.step(s.index, formats::TapeReader::Detail::WithoutMessages);
        if (!step)
            return Error{step.error().code, out.path + ": step " + std::to_string(s.index.value) +
                                                " cannot be read: " + step.error().message};
        if (options.progress && ++done % 64 == 0)
            options.progress(done, total);
        if (s.kind == StepKind::ToolCall) {
            ToolCallFacts facts;
            facts.call = pos;
            facts.tool = s.name;
            facts.exactKey = exactCallKey(s.name, step->payload);
            facts.looseKey = looseCallKey(s.name, step->payload);
            facts.label = callLabel(s.name, step->payload);
            facts.check = check && std::regex_search(facts.looseKey, *check);
            facts.failed = true; // until its result says otherwise
            callOfStep[s.index.value] = out.calls.size();
            out.calls.push_back(std::move(facts));
        } else if (s.kind == StepKind::Compaction) {
            out.compactions.push_back({pos, integerOr(step->payload, "tokens_before"),
                                       integerOr(step->payload, "tokens_after"),
                                       integerOr(step->payload, "messages_before"),
                                       integerOr(step->payload, "messages_after")});
        } else {
            const std::string text = outputText(step->payload);
            for (int i = 0; i < int(metric.patterns.size()); ++i) {
                if (metric.chosen >= 0 && i != metric.chosen)
                    continue;
                if (std::optional<double> value = lastValue(metric.patterns[size_t(i)], text)) {
                    metric.chosen = i;
                    out.metric.push_back({pos, *value});
                    if (call)
                        out.calls[*call].check = true;
                    break;
                }
            }
        }
    }
    if (metric.chosen >= 0)
        out.metricPattern = metric.texts[size_t(metric.chosen)];
    if (options.progress)
        options.progress(total, total);
    return out;
}

} // namespace tapedeck::analysis
