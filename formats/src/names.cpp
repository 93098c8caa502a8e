// Names of enums as they appear in the CLI, the JSONL interchange and FORMAT.md.
#include "tapedeck/formats/tape.h"

#include <array>

namespace tapedeck::formats {

const char *errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Io:
        return "io";
    case ErrorCode::NotATape:
        return "not_a_tape";
    case ErrorCode::FutureVersion:
        return "future_version";
    case ErrorCode::Corrupt:
        return "corrupt";
    case ErrorCode::NotFound:
        return "not_found";
    case ErrorCode::InvalidArgument:
        return "invalid_argument";
    case ErrorCode::Parse:
        return "parse";
    }
    return "unknown";
}

static constexpr std::array<const char *, kStepKindCount> kKindNames = {
    "model_call", "tool_call",  "tool_result", "mcp_call", "http_exchange",
    "compaction", "error",      "annotation",  "fork_point",
};

const char *stepKindName(StepKind kind)
{
    int i = int(kind) - 1;
    return i >= 0 && i < kStepKindCount ? kKindNames[size_t(i)] : "unknown";
}

std::optional<StepKind> stepKindFromName(std::string_view name)
{
    for (int i = 0; i < kStepKindCount; ++i) {
        if (name == kKindNames[size_t(i)])
            return StepKind(i + 1);
    }
    return std::nullopt;
}

static constexpr std::array<const char *, 3> kStatusNames = {"ok", "error", "cancelled"};

const char *stepStatusName(StepStatus status)
{
    int i = int(status);
    return i >= 0 && i < int(kStatusNames.size()) ? kStatusNames[size_t(i)] : "unknown";
}

std::optional<StepStatus> stepStatusFromName(std::string_view name)
{
    for (size_t i = 0; i < kStatusNames.size(); ++i) {
        if (name == kStatusNames[i])
            return StepStatus(i);
    }
    return std::nullopt;
}

} // namespace tapedeck::formats
