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

} // namespace

ChildResult runChild(const std::vector<std::string> &command,
                     const std::map<std::string, std::string> &extraEnvironment)
{
    ChildResult result;
    if (command.empty()) {
        result.error = "no command given";
        return result;
    }
    // A pipe that closes on exec tells the parent whether exec worked.
    int execPipe[2];
    if (::pipe2(execPipe, O_CLOEXEC) != 0) {
        result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
        return result;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        result.error = std::string("cannot fork: ") + std::strerror(errno);
        return result;
    }
    if (pid == 0) {
        ::close(execPipe[0]);
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
    int execError = 0;
    const bool execFailed = ::read(execPipe[0], &execError, sizeof execError) == sizeof execError;
    ::close(execPipe[0]);

    g_child = pid;
    struct sigaction forward{}, ignore{}, oldTerm{}, oldInt{}, oldHup{};
    forward.sa_handler = forwardSignal;
    ignore.sa_handler = ignoreInterrupt;
    ::sigaction(SIGTERM, &forward, &oldTerm);
    ::sigaction(SIGHUP, &forward, &oldHup);
    ::sigaction(SIGINT, &ignore, &oldInt);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
    ::sigaction(SIGTERM, &oldTerm, nullptr);
    ::sigaction(SIGHUP, &oldHup, nullptr);
    ::sigaction(SIGINT, &oldInt, nullptr);

    if (execFailed) {
        result.error = "cannot run '" + command[0] + "': " + std::strerror(execError);
        result.exitCode = 127;
        return result;
    }
    result.started = true;
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status)
                                        : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
    return result;
}

} // namespace tapedeck::cli
