#include "divergencereport.h"

#include <cstdio>
#include <sstream>

namespace tapedeck::replayer {

namespace {

const char *kindName(PartDifference::Kind kind)
{
    switch (kind) {
    case PartDifference::Kind::Model: return "model";
    case PartDifference::Kind::System: return "system";
    case PartDifference::Kind::Tools: return "tools";
    case PartDifference::Kind::Message: return "message";
    case PartDifference::Kind::ToolOutput: return "tool_output";
    case PartDifference::Kind::Parameter: return "parameter";
    case PartDifference::Kind::MessageCount: return "message_count";
    }
    return "parameter";
}

std::string percent(double similarity)
{
    char text[16];
    std::snprintf(text, sizeof text, "%.0f%%", similarity * 100.0);
    return text;
}

std::string stepName(const ComparedCandidate &c)
{
    std::string out = "step " + std::to_string(c.step.index.value) + " (" + formats::stepKindName(c.step.kind) +
                      ", thread \"" + c.threadLabel + "\"";
    if (c.callInThread > 0)
        out += ", its model call " + std::to_string(c.callInThread);
    return out + ")";
}

std::string whereList(const RequestComparison &comparison, size_t most)
{
    std::string out;
    for (size_t i = 0; i < comparison.differences.size() && i < most; ++i)
        out += (i ? "; " : "") + comparison.differences[i].where;
    if (comparison.differences.size() > most)
        out += "; and " + std::to_string(comparison.differences.size() - most) + " more";
    return out;
}

std::string indented(const std::string &text, const char *prefix)
{
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        out += prefix + line + "\n";
    return out;
}

} // namespace

Divergence describeDivergence(const DivergenceInput &input)
{
    Divergence d;
    d.request = input.request;
    d.method = input.method;
    d.path = input.path;
    d.json = {{"request", input.request}, {"method", input.method}, {"path", input.path}};

    std::string text = "divergence at request " + std::to_string(input.request) + " (" + input.method + " " +
                       input.path + "): ";
    if (!input.problem.empty()) {
        text += input.problem + "\n";
        d.json["problem"] = input.problem;
    }
    if (input.candidates.empty()) {
        if (input.problem.empty())
            text += "nothing recorded is left to answer it\n";
        d.report = text;
        d.json["candidates"] = nlohmann::json::array();
        return d;
    }

    const ComparedCandidate &expected = input.candidates.front();
    d.expected = expected.step.index;
    d.environmentDrift = expected.comparison.onlyToolOutputs();
    if (input.problem.empty())
        text += d.environmentDrift ? "environment drift: only tool outputs differ from the recording\n"
                                   : "it does not match the recording\n";
    text += "  expected: " + stepName(expected) + "\n";
    text += "  differs in: " + whereList(expected.comparison, 6) + "\n";
    for (size_t i = 0; i < expected.comparison.differences.size() && i < 3; ++i) {
        const PartDifference &part = expected.comparison.differences[i];
        text += "  --- " + part.where + " (recorded)\n  +++ " + part.where + " (this run)\n";
        text += indented(part.diff, "  ");
    }
    if (expected.comparison.differences.size() > 3)
        text += "  (diffs of the other " + std::to_string(expected.comparison.differences.size() - 3) +
                " parts: --report FILE)\n";
    if (input.candidates.size() > 1) {
        text += "  nearest recorded candidates:\n";
        for (const ComparedCandidate &c : input.candidates)
            text += "    step " + std::to_string(c.step.index.value) + "  " + percent(c.comparison.similarity) +
                    " alike  thread \"" + c.threadLabel + "\"  differs in: " + whereList(c.comparison, 3) + "\n";
    }
    if (d.environmentDrift)
        text += "  (--tool-drift allow serves the recorded answer when only tool outputs differ)\n";
    d.report = text;

    d.json["expected_step"] = expected.step.index.value;
    d.json["environment_drift"] = d.environmentDrift;
    nlohmann::json candidates = nlohmann::json::array();
    for (const ComparedCandidate &c : input.candidates) {
        nlohmann::json differences = nlohmann::json::array();
        for (const PartDifference &part : c.comparison.differences) {
            nlohmann::json p = {{"kind", kindName(part.kind)}, {"where", part.where}, {"diff", part.diff}};
            if (part.messageIndex >= 0)
                p["message_index"] = part.messageIndex;
            differences.push_back(std::move(p));
        }
        candidates.push_back({{"step", c.step.index.value},
                              {"thread", c.threadLabel},
                              {"similarity", c.comparison.similarity},
                              {"only_tool_outputs", c.comparison.onlyToolOutputs()},
                              {"differences", std::move(differences)}});
    }
    d.json["candidates"] = std::move(candidates);
    return d;
}

} // namespace tapedeck::replayer
