// How a run's ending is named, coded and printed.
#include <tapedeck/agent/agent.h>

#include <cstdio>

namespace tapedeck::agent {

const char *stopReasonName(StopReason reason)
{
    switch (reason) {
    case StopReason::Finished:
        return "finished";
    case StopReason::ModelError:
        return "model error";
    case StopReason::StepBudget:
        return "step budget exhausted";
    case StopReason::TokenBudget:
        return "token budget exhausted";
    case StopReason::WallBudget:
        return "wall-time budget exhausted";
    case StopReason::Interrupted:
        return "interrupted";
    case StopReason::NoToolAnswer:
        return "tool call not answered";
    }
    return "unknown";
}

int exitCodeFor(StopReason reason)
{
    switch (reason) {
    case StopReason::Finished:
        return 0;
    case StopReason::ModelError:
        return 1;
    case StopReason::StepBudget:
    case StopReason::TokenBudget:
    case StopReason::WallBudget:
        return 3;
    case StopReason::Interrupted:
        return 4;
    case StopReason::NoToolAnswer:
        return 5;
    }
    return 1;
}

std::string formatSummary(const RunSummary &summary)
{
    int64_t toolCalls = 0;
    std::string byTool;
    for (const auto &[name, count] : summary.toolCalls) {
        toolCalls += count;
        byTool.append(byTool.empty() ? "" : ", ")
            .append(name)
            .append(" ")
            .append(std::to_string(count));
    }
    char wall[32];
    std::snprintf(wall, sizeof wall, "%.1f", summary.wallSeconds);

    std::string out = "--- summary\n";
    out.append("steps:      ")
        .append(std::to_string(summary.steps))
        .append(" model calls (")
        .append(std::to_string(summary.compactions))
        .append(" compactions, ")
        .append(std::to_string(summary.retries))
        .append(" retries)\n");
    out.append("tool calls: ").append(std::to_string(toolCalls));
    if (!byTool.empty())
        out.append(" (").append(byTool).append(")");
    out.append("\n");
    out.append("errors:     ")
        .append(std::to_string(summary.toolErrors))
        .append(" tool results were errors\n");
    out.append("tokens:     ")
        .append(std::to_string(summary.usage.inputTokens))
        .append(" in, ")
        .append(std::to_string(summary.usage.outputTokens))
        .append(" out\n");
    out.append("wall time:  ").append(wall).append(" s\n");
    out.append("stopped:    ")
        .append(stopReasonName(summary.reason))
        .append(" (exit ")
        .append(std::to_string(exitCodeFor(summary.reason)))
        .append(")");
    if (!summary.detail.empty())
        out.append(": ").append(summary.detail);
    out.append("\n");
    return out;
}

} // namespace tapedeck::agent
