// The report as text and as JSON.
#include "findingtext.h"

#include <tapedeck/analysis/findings.h>

#include <algorithm>
#include <array>
#include <iomanip>

namespace tapedeck::analysis {

using nlohmann::json;

namespace {

std::string quotedPath(const std::string &path)
{
    return path.find_first_of(" '\"$") == std::string::npos ? path : "'" + path + "'";
}

std::string stepsText(const Finding &f)
{
    if (f.steps.empty())
        return "no steps";
    if (f.steps.size() == 1)
        return stepText(f.steps.front());
    return "steps " + countText(f.steps.front().value) + "-" + countText(f.steps.back().value) + " (" +
           countText(int64_t(f.steps.size())) + " steps)";
}

std::string whenText(const AnalysisReport &report, const Finding &f)
{
    const int64_t origin = report.run.startedUs;
    if (f.startUs <= 0)
        return "-";
    std::string text = origin > 0 && f.startUs >= origin ? "+" + durationText(f.startUs - origin) : "";
    if (f.endUs > f.startUs)
        text += (text.empty() ? "" : ", ") + durationText(f.endUs - f.startUs) + " long";
    return text;
}

void printFinding(const AnalysisReport &report, const Finding &f, std::ostream &out)
{
    const std::string first = f.steps.empty() ? std::string("-") : countText(f.steps.front().value);
    out << std::left << std::setw(8) << severityName(f.severity) << std::setw(19) << findingKindName(f.kind)
        << "step " << std::setw(8) << first << f.title << "\n";
    const std::string indent(27, ' ');
    if (!f.detail.empty())
        out << indent << f.detail << "\n";
    out << indent << stepsText(f) << ", " << whenText(report, f);
    if (!f.steps.empty())
        out << " · tapedeck dump " << quotedPath(report.path) << " --step " << f.steps.front().value;
    out << "\n";
}

std::array<std::array<int64_t, 3>, kFindingKindCount> counts(const AnalysisReport &report)
{
    std::array<std::array<int64_t, 3>, kFindingKindCount> n{};
    for (const Finding &f : report.findings)
        ++n[size_t(f.kind)][size_t(f.severity)];
    return n;
}

} // namespace

void printAnalysis(const AnalysisReport &report, std::ostream &out)
{
    printAnalysis(report, out, false);
}

void printAnalysis(const AnalysisReport &report, std::ostream &out, bool groupByKind)
{
    out << report.path << ": run " << report.run.id.value << " \"" << report.run.name << "\"";
    if (!report.run.agent.empty())
        out << " (" << report.run.agent << ")";
    out << ", branch " << report.branch.id.value << ": " << countText(report.stepsRead) << " steps, "
        << countText(report.toolCalls) << " tool calls, " << countText(int64_t(report.findings.size()))
        << (report.findings.size() == 1 ? " finding\n" : " findings\n");
    if (!report.metric.empty()) {
        auto best = report.metric.front();
        for (const auto &p : report.metric)
            if (report.higherIsBetter ? p.second > best.second : p.second < best.second)
                best = p;
        out << "metric: " << countText(int64_t(report.metric.size())) << " points of /" << report.metricPattern
            << "/, best " << valueText(best.second) << " at " << stepText(best.first) << "\n";
    }
    out << "\n";

    std::vector<const Finding *> order;
    for (const Finding &f : report.findings)
        order.push_back(&f);
    if (groupByKind)
        std::stable_sort(order.begin(), order.end(),
                         [](const Finding *a, const Finding *b) { return int(a->kind) < int(b->kind); });
    std::optional<FindingKind> group;
    for (const Finding *f : order) {
        if (groupByKind && group != f->kind) {
            out << (group ? "\n" : "") << "== " << findingKindName(f->kind) << "\n";
            group = f->kind;
        }
        printFinding(report, *f, out);
    }
    if (!order.empty())
        out << "\n";

    out << "summary\n";
    const auto n = counts(report);
    for (int k = 0; k < kFindingKindCount; ++k) {
        const auto &bySeverity = n[size_t(k)];
        const int64_t total = bySeverity[0] + bySeverity[1] + bySeverity[2];
        out << "  " << std::left << std::setw(20) << findingKindName(FindingKind(k)) << std::right << std::setw(5)
            << total;
        std::string split;
        for (int sev = 2; sev >= 0; --sev)
            if (bySeverity[size_t(sev)] > 0)
                split += (split.empty() ? "" : ", ") + std::to_string(bySeverity[size_t(sev)]) + " " +
                         severityName(Severity(sev));
        out << (split.empty() ? "" : "   " + split) << "\n";
    }
}

json findingToJson(const Finding &f)
{
    json steps = json::array();
    for (formats::StepIndex s : f.steps)
        steps.push_back(s.value);
    json out = {{"kind", findingKindName(f.kind)},
                {"severity", severityName(f.severity)},
                {"title", f.title},
                {"detail", f.detail},
                {"steps", std::move(steps)},
                {"start_us", f.startUs},
                {"end_us", f.endUs},
                {"measures", f.measures}};
    out["first_step"] = f.steps.empty() ? json(nullptr) : json(f.steps.front().value);
    out["last_step"] = f.steps.empty() ? json(nullptr) : json(f.steps.back().value);
    return out;
}

json analysisToJson(const AnalysisReport &report)
{
    json points = json::array();
    std::optional<double> best;
    for (const auto &[step, value] : report.metric) {
        points.push_back({step.value, value});
        if (!best || (report.higherIsBetter ? value > *best : value < *best))
            best = value;
    }
    json summary = json::object();
    const auto n = counts(report);
    for (int k = 0; k < kFindingKindCount; ++k) {
        const auto &s = n[size_t(k)];
        summary[findingKindName(FindingKind(k))] = {
            {"count", s[0] + s[1] + s[2]}, {"warning", s[2]}, {"notice", s[1]}, {"info", s[0]}};
    }
    json findings = json::array();
    for (const Finding &f : report.findings)
        findings.push_back(findingToJson(f));
    return {{"file", report.path},
            {"run", {{"id", report.run.id.value}, {"name", report.run.name}, {"agent", report.run.agent},
                     {"outcome", report.run.outcome}, {"started_us", report.run.startedUs},
                     {"ended_us", report.run.endedUs}}},
            {"branch", report.branch.id.value},
            {"steps_read", report.stepsRead},
            {"tool_calls", report.toolCalls},
            {"checks", report.checks},
            {"higher_is_better", report.higherIsBetter},
            {"context_window_tokens", report.contextWindowTokens},
            {"metric", {{"pattern", report.metricPattern}, {"points", std::move(points)},
                        {"best", best ? json(*best) : json(nullptr)}}},
            {"summary", std::move(summary)},
            {"findings", std::move(findings)}};
}

} // namespace tapedeck::analysis
