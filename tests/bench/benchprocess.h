// What the benchmarks that drive servers share: starting a server process and reading the
// port it prints, stopping it, reading its memory, and percentiles of timings.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace tapedeck::bench {

struct Server {
    pid_t pid = -1;
    int port = 0;
};

// Starts `argv` with stdout on a pipe and reads its "listening on http://127.0.0.1:PORT".
inline Server startServer(const std::vector<std::string> &argv)
{
    int out[2];
    if (pipe(out) != 0)
        return {};
    Server s;
    s.pid = fork();
    if (s.pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        std::vector<char *> args;
        for (const std::string &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n')
        line += c;
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) == 0)
        s.port = std::atoi(line.c_str() + prefix.size());
    return s;
}

inline void stopServer(const Server &s)
{
    if (s.pid > 0) {
        kill(s.pid, SIGTERM);
        waitpid(s.pid, nullptr, 0);
    }
}

inline long rssKb(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        long value = 0;
        if (key == "VmRSS:" && status >> value)
            return value;
    }
    return 0;
}

// Runs `fn` in a child process, so that its peak memory is its own, and returns what it
// returned. R is a trivially copyable struct (it crosses a pipe) with `long peakRssKb`,
// filled here, and `char error[N]`, set when the child dies.
template <typename R, typename Fn>
R inChild(Fn &&fn)
{
    int fds[2];
    if (pipe(fds) != 0)
        return {};
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        R r = fn();
        struct rusage ru {};
        getrusage(RUSAGE_SELF, &ru);
        r.peakRssKb = ru.ru_maxrss;
        ssize_t n = write(fds[1], &r, sizeof r);
        _exit(n == ssize_t(sizeof r) ? 0 : 1);
    }
    close(fds[1]);
    R r;
    ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != ssize_t(sizeof r)) {
        r = {};
        std::snprintf(r.error, sizeof r.error, "child failed (status %d)", status);
    }
    return r;
}

inline double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

} // namespace tapedeck::bench
