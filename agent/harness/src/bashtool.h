// The bash tool: runs one command with `bash -c` in the working directory.
#pragma once

#include "toolresult.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace tapedeck::agent {

struct BashOptions {
    std::string workdir;
    double timeoutSeconds = 120;
    int64_t outputCap = 30000;                    // bytes kept: the head and the tail
    const std::atomic<int> *interrupts = nullptr; // >= 2 kills the command
};

// The command runs in its own process group, so that a terminal's Ctrl-C reaches the agent
// and not the command, and so that a timeout kills everything the command started. Its
// stdin is /dev/null; stdout and stderr are merged, in the order they were written. The
// result ends with the exit status; a non-zero status, a signal or a timeout is an error.
ToolResult runBash(const std::string &command, const BashOptions &options);

} // namespace tapedeck::agent
