#include "tapeinfo.h"

#include "branchtree.h"

#include "format.h"

#include <cstdio>
#include <iomanip>
#include <map>

namespace tapedeck::cli {

using namespace tapedeck::formats;

static std::string money(double usd)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.2f", usd);
    return buf;
}

static std::string percent(int64_t part, int64_t whole)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", whole ? 100.0 * double(part) / double(whole) : 0.0);
    return buf;
}

Status printTapeInfo(const TapeReader &reader, std::ostream &out, bool asJson)
{
    auto summary = reader.summary();
    if (!summary)
        return summary.error();
    auto bytes = reader.byteSplit();
    if (!bytes)
        return bytes.error();
    const TapeSummary &s = *summary;
    const ByteSplit &b = *bytes;

    if (asJson) {
        nlohmann::json j;
        j["file"] = reader.path();
        j["format_version"] = s.formatVersion;
        j["runs"] = nlohmann::json::array();
        for (const RunInfo &r : s.runs)
            j["runs"].push_back(runToJson(r));
        j["branches"] = s.branches.size();
        j["branch_tree"] = branchTreeJson(s);
        j["threads"] = s.threads.size();
        j["steps"] = s.stepCount;
        nlohmann::json kinds = nlohmann::json::object();
        for (int k = 1; k <= kStepKindCount; ++k)
            kinds[stepKindName(StepKind(k))] = s.stepsByKind[k];
        j["steps_by_kind"] = kinds;
        j["error_steps"] = s.errorSteps;
        j["usage"] = {{"input_tokens", s.usage.inputTokens},
                      {"output_tokens", s.usage.outputTokens},
                      {"cache_read_tokens", s.usage.cacheReadTokens},
                      {"cache_write_tokens", s.usage.cacheWriteTokens}};
        j["cost_usd"] = s.costUsd ? nlohmann::json(*s.costUsd) : nlohmann::json(nullptr);
        j["first_us"] = s.firstUs;
        j["last_us"] = s.lastUs;
        j["duration_us"] = s.lastUs > s.firstUs ? s.lastUs - s.firstUs : 0;
        j["messages_stored"] = s.messageCount;
        j["message_references"] = s.messageReferences;
        j["bytes"] = {{"file", b.fileBytes},     {"content", b.contentBytes},
                      {"wire", b.wireBytes},     {"index", b.indexBytes},
                      {"other", b.otherBytes},   {"decoded", b.rawContentBytes}};
        out << j.dump(2) << "\n";
        return {};
    }

    auto line = [&](const char *label) -> std::ostream & {
        return out << std::left << std::setw(11) << label;
    };
    out << reader.path() << "  (tape format " << s.formatVersion << ", "
        << humanBytes(b.fileBytes) << ")\n";
    line("runs") << s.runs.size() << "\n";
    for (const RunInfo &r : s.runs) {
        out << "  #" << r.id.value << " " << (r.name.empty() ? "(unnamed)" : r.name);
        if (!r.agent.empty())
            out << "  agent " << r.agent;
        out << "  " << utcTime(r.startedUs) << " .. " << (r.endedUs ? utcTime(r.endedUs) : "(recording)");
        if (!r.outcome.empty())
            out << "  " << r.outcome;
        out << "\n";
    }
    std::map<int64_t, int> threadsPerBranch;
    for (const ThreadInfo &t : s.threads)
        ++threadsPerBranch[t.branch.value];
    line("branches") << s.branches.size();
    int forks = 0;
    for (const BranchInfo &br : s.branches)
        forks += br.parent ? 1 : 0;
    if (forks)
        out << " (" << forks << " forked)";
    out << "\n";
    printBranchTree(s, out, "  ");
    line("threads") << s.threads.size();
    if (!s.threads.empty()) {
        out << " (";
        for (size_t i = 0; i < s.threads.size() && i < 6; ++i)
            out << (i ? ", " : "") << s.threads[i].label;
        if (s.threads.size() > 6)
            out << ", …";
        out << ")";
    }
    out << "\n";
    line("steps") << withCommas(s.stepCount) << "\n";
    for (int k = 1; k <= kStepKindCount; ++k) {
        if (s.stepsByKind[k])
            out << "  " << std::left << std::setw(15) << stepKindName(StepKind(k))
                << std::right << std::setw(10) << withCommas(s.stepsByKind[k]) << "\n";
    }
    line("errors") << withCommas(s.errorSteps) << " steps\n";
    line("tokens") << "in " << humanCount(s.usage.inputTokens) << "  out "
                   << humanCount(s.usage.outputTokens) << "  cache read "
                   << humanCount(s.usage.cacheReadTokens) << "  cache write "
                   << humanCount(s.usage.cacheWriteTokens) << "\n";
    line("cost") << (s.costUsd ? money(*s.costUsd) : std::string("unknown")) << "\n";
    line("duration") << (s.lastUs > s.firstUs ? humanDuration(s.lastUs - s.firstUs) : "-")
                     << "  (" << utcTime(s.firstUs) << " .. " << utcTime(s.lastUs) << ")\n";
    line("messages") << withCommas(s.messageCount) << " stored once, "
                     << withCommas(s.messageReferences) << " references from requests\n";
    line("bytes") << humanBytes(b.fileBytes) << " on disk, holding "
                  << humanBytes(b.rawContentBytes) << " of distinct content\n";
    out << "  content  " << std::right << std::setw(10) << humanBytes(b.contentBytes) << "  "
        << percent(b.contentBytes, b.fileBytes) << "  messages, parameters, payloads\n";
    out << "  wire     " << std::setw(10) << humanBytes(b.wireBytes) << "  "
        << percent(b.wireBytes, b.fileBytes) << "  exact request/response bytes, headers, chunks\n";
    out << "  index    " << std::setw(10) << humanBytes(b.indexBytes) << "  "
        << percent(b.indexBytes, b.fileBytes) << "  full-text and SQLite indexes\n";
    out << "  other    " << std::setw(10) << humanBytes(b.otherBytes) << "  "
        << percent(b.otherBytes, b.fileBytes) << "  step rows, dictionary, page overhead\n";
    return {};
}

} // namespace tapedeck::cli
