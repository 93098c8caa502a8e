#include "childprocess.h"

#include <csignal>
#include <fcntl.h>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

extern char **environ;

namespace tapedeck::cli {

namespace {

std::atomic<pid_t> g_child{0};

void forwardSignal(int signal)
{
    if (const pid_t child = g_child.load(); child > 0)
        ::kill(child, signal);
}

// SIGINT from the terminal reaches the child by itself; this process only has to survive it.
void ignoreInterrupt(int) {}

int exitCodeOf(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

int waitUninterrupted(pid_t pid)
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

void closeBoth(int fds[2])
{
    ::close(fds[0]);
    ::close(fds[1]);
}

} // namespace

StartedChild startChild(const std::vector<std::string> &command,
                        const std::map<std::string, std::string> &extraEnvironment,
                        ChildStdio stdio)
{
    StartedChild child;
    if (command.empty()) {
        child.error = "no command given";
        return child;
    }
    // A pipe that closes on exec tells the parent whether exec worked. All pipes close on
    // exec, so the child keeps only the ends dup2 puts on its stdin and stdout.
    int execPipe[2];
    if (::pipe2(execPipe, O_CLOEXEC) != 0) {
        child.error = std::string("cannot create a pipe: ") + std::strerror(errno);
        return child;
    }
    int input[2] = {-1, -1}, output[2] = {-1, -1};
    if (stdio == ChildStdio::PipeInAndOut) {
        if (::pipe2(input, O_CLOEXEC) != 0 || ::pipe2(output, O_CLOEXEC) != 0) {
            child.error = std::string("cannot create a pipe: ") + std::strerror(errno);
            closeBoth(execPipe);
            if (input[0] >= 0)
                closeBoth(input);
            return child;
        }
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        child.error = std::string("cannot fork: ") + std::strerror(errno);
        closeBoth(execPipe);
        if (stdio == ChildStdio::PipeInAndOut) {
            closeBoth(input);
            closeBoth(output);
        }
        return child;
    }
    if (pid == 0) {
        ::close(execPipe[0]);
        if (stdio == ChildStdio::PipeInAndOut) {
            ::dup2(input[0], STDIN_FILENO);
            ::dup2(output[1], STDOUT_FILENO);
        }
        // This process may ignore SIGPIPE for its own writes (the recorder's and replay
        // server's sockets); the child starts with the default, as it would from a shell,
        // so that `yes | head -1` in an agent's tool behaves as it always does.
        ::signal(SIGPIPE, SIG_DFL);
        for (const auto &[name, value] : extraEnvironment)
            ::setenv(name.c_str(), value.c_str(), 1);
        std::vector<char *> argv;
        for (const std::string &arg : command)
            argv.push_back(const_cast<char *>(arg.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        const int error = errno;
        (void)!::write(execPipe[1], &error, sizeof error);
        ::_exit(127);
    }
    ::close(execPipe[1]);
    if (stdio == ChildStdio::PipeInAndOut) {
        ::close(input[0]);
        ::close(output[1]);
        child.toChild = input[1];
        child.fromChild = output[0];
    }
    int execError = 0;
    const bool execFailed = ::read(execPipe[0], &execError, sizeof execError) == sizeof execError;
    ::close(execPipe[0]);
    if (execFailed) {
        waitUninterrupted(pid);
        if (child.toChild >= 0) {
            ::close(child.toChild);
            ::close(child.fromChild);
            child.toChild = child.fromChild = -1;
        }
        child.error = "cannot run '" + command[0] + "': " + std::strerror(execError);
        return child;
    }
    child.pid = pid;
    return child;
}

ChildResult waitForChild(const StartedChild &child)
{
    g_child = child.pid;
    struct sigaction forward{}, ignore{}, oldTerm{}, oldInt{}, oldHup{};
    forward.sa_handler = forwardSignal;
    ignore.sa_handler = ignoreInterrupt;
    ::sigaction(SIGTERM, &forward, &oldTerm);
    ::sigaction(SIGHUP, &forward, &oldHup);
    ::sigaction(SIGINT, &ignore, &oldInt);

    const int status = waitUninterrupted(child.pid);
    g_child = 0;
    ::sigaction(SIGTERM, &oldTerm, nullptr);
    ::sigaction(SIGHUP, &oldHup, nullptr);
    ::sigaction(SIGINT, &oldInt, nullptr);

    ChildResult result;
    result.started = true;
    result.exitCode = exitCodeOf(status);
    return result;
}

ChildResult runChild(const std::vector<std::string> &command,
                     const std::map<std::string, std::string> &extraEnvironment)
{
    const StartedChild child = startChild(command, extraEnvironment, ChildStdio::Inherit);
    if (child.pid < 0) {
        ChildResult result;
        result.error = child.error;
        result.exitCode = 127;
        return result;
    }
    return waitForChild(child);
}

} // namespace tapedeck::cli
