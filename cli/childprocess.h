// Runs a command as a child process with extra environment variables and waits for it,
// the way `time` or `env` would: the terminal's Ctrl-C reaches the child (it is in the same
// process group) and this process waits for the child to act on it; a SIGTERM sent to this
// process is passed on to the child.
//
// The child inherits this process's stdio (runChild, `tapedeck record`), or gets pipes for
// its stdin and stdout while its stderr stays this process's (`tapedeck mcp`, which relays
// between its own stdio and the child's).
#pragma once

#include <sys/types.h>

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

enum class ChildStdio {
    Inherit,      // stdin, stdout and stderr are this process's
    PipeInAndOut, // stdin and stdout are pipes to this process; stderr is this process's
};

// A child that was started (pid > 0) or could not be (error says why; it has been waited
// for). With ChildStdio::PipeInAndOut, toChild writes to its stdin and fromChild reads its
// stdout; the caller owns and closes both (closing toChild is the child's end of input).
struct StartedChild {
    pid_t pid = -1;
    std::string error;
    int toChild = -1;
    int fromChild = -1;
};

StartedChild startChild(const std::vector<std::string> &command,
                        const std::map<std::string, std::string> &extraEnvironment,
                        ChildStdio stdio);

// Waits for a child that startChild started, passing SIGTERM and SIGHUP on to it and
// surviving SIGINT (which the child gets from the terminal) meanwhile. Call once, from one
// thread.
ChildResult waitForChild(const StartedChild &child);

} // namespace tapedeck::cli
