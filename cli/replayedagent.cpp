#include "replayedagent.h"

#include "agentenvironment.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

namespace tapedeck::cli {

ChildResult runAgentAgainstReplay(replayer::ReplayServer &server, const std::vector<std::string> &command,
                                  const std::map<std::string, std::string> &extraEnvironment,
                                  std::function<void()> onStopped)
{
    // `child` is -1 again as soon as the agent has been waited for, so that a late SIGKILL
    // cannot reach a process that took its pid.
    auto child = std::make_shared<std::atomic<pid_t>>(-1);
    auto stopAgent = [child] {
        const pid_t pid = child->load();
        if (pid <= 0)
            return;
        ::kill(pid, SIGTERM);
        std::thread([child, pid] {
            std::this_thread::sleep_for(std::chrono::seconds(5));
            if (child->load() == pid)
                ::kill(pid, SIGKILL);
        }).detach();
    };
    server.onStop([stopAgent, onStopped] {
        if (onStopped)
            onStopped();
        stopAgent();
    });

    std::map<std::string, std::string> environment = baseUrlEnvironment(server.baseUrl());
    environment.insert(extraEnvironment.begin(), extraEnvironment.end());
    const StartedChild agent = startChild(command, environment, ChildStdio::Inherit);
    if (agent.pid <= 0) {
        server.onStop({});
        ChildResult failed;
        failed.error = agent.error;
        return failed;
    }
    *child = agent.pid;
    if (server.stats().stopped) // a divergence came before the pid was known
        stopAgent();
    ChildResult result = waitForChild(agent);
    *child = -1;
    server.onStop({});
    return result;
}

} // namespace tapedeck::cli
