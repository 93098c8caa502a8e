// What one tool execution gives back to the model and to the progress line.
#pragma once

#include <string>

namespace tapedeck::agent {

struct ToolResult {
    std::string output; // sent to the model as the tool result, errors included
    bool isError = false;
    std::string status; // for the progress line: "ok", "exit 1", "timeout", "error", "denied"

    static ToolResult ok(std::string output) { return {std::move(output), false, "ok"}; }
    static ToolResult error(std::string output) { return {std::move(output), true, "error"}; }
};

} // namespace tapedeck::agent
