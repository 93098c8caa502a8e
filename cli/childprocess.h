// Runs a command as a child process with extra environment variables and waits for it,
// the way `time` or `env` would: the terminal's Ctrl-C reaches the child (it is in the same
// process group) and this process waits for the child to act on it; a SIGTERM sent to this
// process is passed on to the child.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tapedeck::cli {

struct ChildResult {
    bool started = false;
    std::string error;  // why it did not start ("no such command: x")
    int exitCode = 0;   // the child's status; 128 + N when signal N ended it
};

ChildResult runChild(const std::vector<std::string> &command,
                     const std::map<std::string, std::string> &extraEnvironment);

} // namespace tapedeck::cli
