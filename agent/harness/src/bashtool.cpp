#include "bashtool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace tapedeck::agent {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps the first and the last half of the cap, and counts what fell in between.
class CappedOutput {
public:
    explicit CappedOutput(int64_t cap) : m_half(static_cast<size_t>(cap > 1 ? cap / 2 : 1)) {}

    void append(const char *data, size_t size)
    {
        m_total += size;
        const size_t toHead = std::min(size, m_half - std::min(m_half, m_head.size()));
        m_head.append(data, toHead);
        m_tail.append(data + toHead, size - toHead);
        if (m_tail.size() > m_half)
            m_tail.erase(0, m_tail.size() - m_half);
    }

    std::string text() const
    {
        const size_t omitted = m_total - m_head.size() - m_tail.size();
        if (omitted == 0)
            return m_head + m_tail;
        std::string out = m_head;
        out.append("\n[... ")
            .append(std::to_string(omitted))
            .append(" bytes of output omitted ...]\n");
        out.append(m_tail);
        return out;
    }

private:
    size_t m_half;
    size_t m_total = 0;
    std::string m_head;
    std::string m_tail;
};

[[noreturn]] void execInChild(const std::string &command, const std::string &workdir, int outFd)
{
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    const int devNull = open("/dev/null", O_RDONLY);
    if (devNull >= 0)
        dup2(devNull, STDIN_FILENO);
    dup2(outFd, STDOUT_FILENO);
    dup2(outFd, STDERR_FILENO);
    if (chdir(workdir.c_str()) != 0) {
        const std::string message =
            "cannot enter the working directory " + workdir + ": " + std::strerror(errno) + "\n";
        (void)!write(STDERR_FILENO, message.data(), message.size());
        _exit(126);
    }
    execl("/bin/bash", "bash", "-c", command.c_str(), static_cast<char *>(nullptr));
    const std::string message = std::string("cannot run /bin/bash: ") + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, message.data(), message.size());
    _exit(127);
}

void killGroup(pid_t pid)
{
    kill(-pid, SIGTERM);
    const auto grace = Clock::now() + std::chrono::milliseconds(500);
    int status = 0;
    while (Clock::now() < grace) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            kill(-pid, SIGKILL); // whatever the command left behind in its group
            return;
        }
        usleep(10000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
}

} // namespace

ToolResult runBash(const std::string &command, const BashOptions &options)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return ToolResult::error(std::string("bash: cannot create a pipe: ") +
                                 std::strerror(errno));
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return ToolResult::error(std::string("bash: cannot fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        execInChild(command, options.workdir, fds[1]);
    }
    setpgid(pid, pid); // also in the parent, so a kill right away already finds the group
    close(fds[1]);

    CappedOutput output(options.outputCap);
    const auto deadline = Clock::now() + std::chrono::duration<double>(options.timeoutSeconds);
    // After the command exits, background jobs it left may keep the pipe open; their output
    // is read for a moment longer, not waited for.
    std::optional<Clock::time_point> drainUntil;
    int status = 0;
    bool exited = false;
    bool pipeOpen = true;
    std::string ending;
    char buffer[16384];
    while (true) {
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            drainUntil = Clock::now() + std::chrono::milliseconds(200);
        }
        if (exited && (!pipeOpen || Clock::now() >= *drainUntil))
            break;
        if (!exited && Clock::now() >= deadline) {
            killGroup(pid);
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%g", options.timeoutSeconds);
            ending =
                std::string("[timed out after ") + seconds + "s; its process group was killed]";
            break;
        }
        if (!exited && options.interrupts && options.interrupts->load() >= 2) {
            killGroup(pid);
            ending = "[interrupted by the user; its process group was killed]";
            break;
        }
        if (!pipeOpen) {
            usleep(20000);
            continue;
        }
        pollfd pfd{fds[0], POLLIN, 0};
        const int ready = poll(&pfd, 1, 50);
        if (ready <= 0)
            continue; // a timeout, or EINTR from the agent's own SIGINT
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n > 0)
            output.append(buffer, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR)
            pipeOpen = false;
    }
    close(fds[0]);

    std::string text = output.text();
    if (text.empty())
        text = "(no output)";
    if (!text.ends_with('\n'))
        text.push_back('\n');
    ToolResult result;
    if (!ending.empty()) {
        result.isError = true;
        result.status = ending.starts_with("[timed") ? "timeout" : "interrupted";
        text.append(ending);
    } else if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        result.isError = code != 0;
        result.status = "exit " + std::to_string(code);
        text.append("[exit status ").append(std::to_string(code)).append("]");
    } else {
        const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        result.isError = true;
        result.status = "signal " + std::to_string(sig);
        text.append("[killed by signal ")
            .append(std::to_string(sig))
            .append(" (")
            .append(strsignal(sig))
            .append(")]");
    }
    result.output = std::move(text);
    return result;
}

} // namespace tapedeck::agent
