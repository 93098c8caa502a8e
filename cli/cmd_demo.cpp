// `tapedeck demo`: a live agent run on this machine. The reference agent (tapedeck-agent)
// works on a fresh copy of samples/kernel-tuning against the scripted model server
// (tapedeck-model --policy kernel-tuner): real HTTP on loopback, real tool calls, real
// compiles and timings. The recorder sits between the two, as `tapedeck record` would, and
// writes the run into a tape. The demo streams the agent's progress and ends with what
// happened and `tapedeck info` of the tape.
#include "childprocess.h"
#include "commands.h"
#include "exitcodes.h"
#include "guilaunch.h"
#include "programs.h"
#include "recordoptions.h"
#include "tapeinfo.h"

#include <tapedeck/recorder/recorder.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <poll.h>
#include <regex>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace tapedeck::cli {

namespace fs = std::filesystem;

namespace {

// Agent-side exit codes of `tapedeck demo` beyond the shared ones (exitcodes.h).
constexpr int kExitRunFailed = 1;

constexpr const char *kDefaultTape = "demo.tape";

struct DemoOptions {
    std::string tape = kDefaultTape;
    bool append = false;
    uint64_t seed = 1;
    int evaluations = 18;
    std::string workdir;
    bool keep = false;
    std::string api = "openai";
    std::string workspace;
    std::string modelBin;
    std::string agentBin;
    int thinkMs = 800;
    int64_t compactAtTokens = 0;
    bool noGui = false;
};

// A child process whose stdout and stderr come back through pipes. Not copyable; the
// destructor kills a child still running (SIGTERM, then SIGKILL) and reaps it.
class Child {
public:
    Child() = default;
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child() { stop(); }

    // Starts `argv[0]` with `argv`. `ownGroup`: in a process group of its own, so that the
    // terminal's Ctrl-C does not reach it. An error message, or empty on success.
    std::string start(const std::vector<std::string> &argv, bool ownGroup)
    {
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
            return std::string("cannot create a pipe: ") + std::strerror(errno);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err[1], 2);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        if (ownGroup) {
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
            posix_spawnattr_setpgroup(&attr, 0);
        }
        std::vector<char *> args;
        for (const std::string &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        const int rc = posix_spawn(&m_pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        close(out[1]);
        close(err[1]);
        m_out = out[0];
        m_err = err[0];
        if (rc != 0) {
            m_pid = -1;
            return "cannot start " + argv[0] + ": " + std::strerror(rc);
        }
        return {};
    }

    // Waits up to `timeoutMs` for output; appends what came to `out` / `err`. False once
    // both pipes are closed.
    bool read(std::string &out, std::string &err, int timeoutMs)
    {
        pollfd fds[2] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
        if (m_out < 0 && m_err < 0)
            return false;
        if (poll(fds, 2, timeoutMs) < 0)
            return errno == EINTR;
        drain(fds[0], m_out, out);
        drain(fds[1], m_err, err);
        return m_out >= 0 || m_err >= 0;
    }

    // Waits for the child to end; its exit code, or 128 + signal.
    int wait()
    {
        if (m_pid < 0)
            return m_status;
        int status = 0;
        while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        m_pid = -1;
        m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return m_status;
    }

    void stop()
    {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            for (int i = 0; i < 50 && waitpid(m_pid, nullptr, WNOHANG) == 0; ++i)
                usleep(100000);
            if (waitpid(m_pid, nullptr, WNOHANG) == 0) {
                kill(m_pid, SIGKILL);
                waitpid(m_pid, nullptr, 0);
            }
            m_pid = -1;
        }
        for (int *fd : {&m_out, &m_err}) {
            if (*fd >= 0)
                close(*fd);
            *fd = -1;
        }
    }

private:
    static void drain(const pollfd &p, int &fd, std::string &into)
    {
        if (fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
            return;
        char buf[8192];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            into.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            close(fd);
            fd = -1;
        }
    }

    pid_t m_pid = -1;
    int m_out = -1;
    int m_err = -1;
    int m_status = -1;
};

// The workspace files, without what a build or an earlier run left there.
std::string copyWorkspace(const fs::path &from, const fs::path &to)
{
    std::error_code ec;
    fs::create_directories(to, ec);
    if (ec)
        return "cannot create " + to.string() + ": " + ec.message();
    for (const auto &entry : fs::directory_iterator(from, ec)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || name == "run_bench" || name == "best_kernel.c")
            continue;
        fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing, ec);
        if (ec)
            return "cannot copy " + entry.path().string() + " to " + to.string() + ": " + ec.message();
    }
    return ec ? "cannot read " + from.string() + ": " + ec.message() : std::string();
}

std::string firstMatch(const std::string &text, const std::regex &pattern)
{
    std::smatch m;
    return std::regex_search(text, m, pattern) ? m.str(1) : std::string();
}

void ignoreInterrupt(int) {}

class Demo {
public:
    explicit Demo(const DemoOptions &options) : m_opts(options) {}

    int run()
    {
        const fs::path workspace = m_opts.workspace.empty() ? fs::path(TAPEDECK_KERNEL_TUNING_DIR)
                                                            : fs::path(m_opts.workspace);
        std::error_code ec;
        for (const char *file : {"TASK.md", "kernel.c", "bench.c", "Makefile"}) {
            if (!fs::is_regular_file(workspace / file, ec))
                return fail(kExitCannotOpen, "the kernel-tuning workspace " + workspace.string() + " has no " +
                                                 file + " (give it with --workspace DIR)");
        }
        const auto model = findProgram(m_opts.modelBin, "tapedeck-model", "agent/model");
        const auto agent = findProgram(m_opts.agentBin, "tapedeck-agent", "agent/harness");
        if (!model)
            return fail(kExitCannotOpen, "cannot find tapedeck-model beside " + selfDirectory().string() +
                                             (m_opts.modelBin.empty() ? "" : " (--model-bin " + m_opts.modelBin + ")") +
                                             "; build it, or give it with --model-bin PATH");
        if (!agent)
            return fail(kExitCannotOpen, "cannot find tapedeck-agent beside " + selfDirectory().string() +
                                             (m_opts.agentBin.empty() ? "" : " (--agent-bin " + m_opts.agentBin + ")") +
                                             "; build it, or give it with --agent-bin PATH");

        if (auto made = prepareWorkdir(workspace); !made.empty())
            return fail(kExitCannotWrite, made);

        const auto started = std::chrono::steady_clock::now();
        Child server;
        if (auto e = server.start({model->string(), "--listen", "127.0.0.1:0", "--policy", "kernel-tuner",
                                   "--seed", std::to_string(m_opts.seed), "--ttft-ms",
                                   std::to_string(m_opts.thinkMs), "--quiet"},
                                  true);
            !e.empty())
            return fail(kExitRunFailed, e);
        const std::string modelUrl = awaitListening(server);
        if (modelUrl.empty())
            return fail(kExitRunFailed, "tapedeck-model did not say where it listens: " + m_serverErr);
        if (auto e = makeRoomForTape(); !e.empty())
            return fail(kExitCannotWrite, e);
        std::unique_ptr<recorder::Recorder> recorder = startRecording(modelUrl);
        if (!recorder) {
            cleanUp();
            return commandExitCode();
        }

        std::cout << "tapedeck demo: the reference agent tunes a real kernel against the scripted model\n"
                  << "  workspace: " << m_workdir.string() << " (a copy of " << workspace.string() << ")\n"
                  << "  model:     " << modelUrl << " (tapedeck-model --policy kernel-tuner --seed " << m_opts.seed << ")\n"
                  << "  recording: " << recorder->tapePath() << " through " << recorder->baseUrl() << "\n"
                  << "  agent:     tapedeck-agent --api " << m_opts.api << ", a budget of " << m_opts.evaluations
                  << " benchmark evaluations\n\n"
                  << std::flush;

        std::vector<std::string> args = {agent->string(), "--api", m_opts.api, "--model", "kernel-tuner",
                                         "--base-url", recorder->baseUrl(), "--workdir", m_workdir.string(),
                                         "--max-steps", std::to_string(20 * m_opts.evaluations + 40)};
        if (m_opts.compactAtTokens > 0) {
            args.push_back("--compact-at-tokens");
            args.push_back(std::to_string(m_opts.compactAtTokens));
        }
        args.push_back("Make kernel_matmul in kernel.c as fast as you can while it stays correct; TASK.md "
                       "says how to build and measure. You have a budget of " +
                       std::to_string(m_opts.evaluations) + " benchmark evaluations (make bench runs).");
        // Ctrl-C goes to the agent (it stops after the current step); the demo stays to report.
        struct sigaction quiet {}, previous {};
        quiet.sa_handler = ignoreInterrupt;
        sigaction(SIGINT, &quiet, &previous);
        const int agentExit = runAgent(args);
        sigaction(SIGINT, &previous, nullptr);
        const formats::Status recorded = recorder->finish("exit " + std::to_string(agentExit));
        server.stop();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

        const std::string tape = recorder->tapePath();
        recorder.reset(); // closes the tape: its write-ahead log is folded in
        const int reported = report(agentExit, seconds);
        if (!recorded) {
            std::cerr << "tapedeck demo: could not finish " << tape << ": " << recorded.error().message << "\n";
            return kExitCannotWrite;
        }
        if (!printTape(tape))
            return kExitCannotOpen;
        showInGui(tape);
        return reported;
    }

private:
    int fail(int code, const std::string &message)
    {
        std::cerr << "tapedeck demo: " << message << "\n";
        cleanUp();
        return code;
    }

    // The default tape is replaced run after run, as perf replaces perf.data: the one
    // before is kept as demo.tape.old. A tape named with -o is never replaced.
    std::string makeRoomForTape()
    {
        std::error_code ec;
        if (m_opts.tape != kDefaultTape || m_opts.append || !fs::exists(m_opts.tape, ec))
            return {};
        for (const char *suffix : {"", "-wal", "-shm"}) {
            const std::string from = m_opts.tape + suffix;
            if (fs::exists(from, ec))
                fs::rename(from, m_opts.tape + ".old" + suffix, ec);
            if (ec)
                return "cannot move " + from + " aside to " + m_opts.tape + ".old" + suffix + ": " + ec.message();
        }
        std::cout << "tapedeck demo: the previous " << m_opts.tape << " is now " << m_opts.tape << ".old\n";
        return {};
    }

    std::unique_ptr<recorder::Recorder> startRecording(const std::string &modelUrl)
    {
        recorder::RecorderOptions options;
        options.tapePath = m_opts.tape;
        options.appendToExisting = m_opts.append;
        options.upstreams = recorder::Upstreams::all(modelUrl);
        options.run.name = "demo: kernel-tuning, seed " + std::to_string(m_opts.seed);
        options.run.agent = "tapedeck-agent";
        options.run.cwd = m_workdir.string();
        options.run.labels = {{"task", "kernel-tuning"}, {"seed", m_opts.seed}, {"evaluations", m_opts.evaluations},
                              {"api", m_opts.api}};
        return startRecorder(std::move(options));
    }

    bool printTape(const std::string &path)
    {
        auto reader = formats::TapeReader::open(path);
        if (!reader) {
            std::cerr << "tapedeck demo: " << reader.error().message << "\n";
            return false;
        }
        std::cout << "\n--- tapedeck info " << path << "\n";
        const formats::Status printed = printTapeInfo(**reader, std::cout, false);
        if (!printed)
            std::cerr << "tapedeck demo: " << printed.error().message << "\n";
        return bool(printed);
    }

    std::string prepareWorkdir(const fs::path &workspace)
    {
        std::error_code ec;
        if (!m_opts.workdir.empty()) {
            m_workdir = fs::absolute(m_opts.workdir);
            if (fs::exists(m_workdir, ec) && !fs::is_empty(m_workdir, ec))
                return "--workdir " + m_workdir.string() + " exists and is not empty; give a new or empty directory";
        } else {
            std::string pattern = (fs::temp_directory_path(ec) / "tapedeck-demo-XXXXXX").string();
            if (!mkdtemp(pattern.data()))
                return "cannot create a temporary directory " + pattern + ": " + std::strerror(errno);
            m_workdir = pattern;
            m_temporary = true;
        }
        return copyWorkspace(workspace, m_workdir);
    }

    // The base URL from the server's "listening on URL" line; empty if it ended or took
    // more than 15 s.
    std::string awaitListening(Child &server)
    {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            if (!server.read(out, m_serverErr, 200))
                break;
        }
        const std::string prefix = "listening on ";
        if (!out.starts_with(prefix) || out.find('\n') == std::string::npos)
            return {};
        return out.substr(prefix.size(), out.find('\n') - prefix.size());
    }

    // Runs the agent, passing its text and progress through as they come.
    int runAgent(const std::vector<std::string> &args)
    {
        Child agent;
        if (auto e = agent.start(args, false); !e.empty()) {
            std::cerr << "tapedeck demo: " << e << "\n";
            return -1;
        }
        std::string out, err;
        size_t shownOut = 0, shownErr = 0;
        for (;;) {
            const bool open = agent.read(out, err, 500);
            // Progress and model text interleave on one screen; both go out as whole lines.
            for (auto [text, shown] : {std::pair{&out, &shownOut}, std::pair{&err, &shownErr}}) {
                const size_t end = text->rfind('\n');
                if (end != std::string::npos && end + 1 > *shown) {
                    std::cout.write(text->data() + *shown, static_cast<std::streamsize>(end + 1 - *shown));
                    *shown = end + 1;
                }
            }
            std::cout << std::flush;
            if (!open)
                break;
        }
        std::cout << out.substr(shownOut) << err.substr(shownErr) << std::flush;
        m_agentOut = out;
        m_agentLog = err;
        return agent.wait();
    }

    // `make bench` once more on what the agent left in kernel.c: the figure to believe.
    std::string measureAgain()
    {
        Child make;
        if (!make.start({"/usr/bin/env", "make", "-s", "-C", m_workdir.string(), "bench"}, false).empty())
            return "could not run make";
        std::string out, err;
        while (make.read(out, err, 1000)) {
        }
        make.wait();
        const std::string speedup = firstMatch(out, std::regex(R"(speedup: ([0-9.]+x))"));
        if (out.find("correct: yes") != std::string::npos && !speedup.empty())
            return "correct, " + speedup;
        return "not correct or not measured: " + out.substr(0, out.find('\n', out.find("correct:")));
    }

    // The demo's last word: the recorded run in the desktop app, or, with no display, a
    // picture of it. Neither is a reason to fail the demo: the tape is already written.
    void showInGui(const std::string &tape)
    {
        if (m_opts.noGui)
            return;
        const auto gui = findGui();
        if (!gui) {
            std::cout << "\n(tapedeck-gui is not built, so the run is not shown; 'tapedeck view " << tape
                      << "' opens it once it is)\n";
            return;
        }
        if (hasDisplay()) {
            if (std::string e = startGuiDetached(*gui, {tape}); !e.empty())
                std::cerr << "tapedeck demo: " << e << "\n";
            else
                std::cout << "\nopened " << tape << " in tapedeck-gui\n";
            return;
        }
        const std::string picture = fs::path(tape).replace_extension(".png").string();
        const ChildResult shot = runChild({gui->string(), "--screenshot", picture, tape}, {});
        if (shot.started && shot.exitCode == 0)
            std::cout << "\nno display, so the run is pictured instead: " << picture
                      << " (on a desktop, 'tapedeck view " << tape << "' opens it)\n";
        else
            std::cerr << "tapedeck demo: could not picture the run with tapedeck-gui"
                      << (shot.started ? " (exit " + std::to_string(shot.exitCode) + ")" : ": " + shot.error) << "\n";
    }

    int report(int agentExit, double seconds)
    {
        const std::string best = firstMatch(m_agentOut, std::regex(R"(Best speed-up: ([0-9.]+x))"));
        const std::string calls = firstMatch(m_agentLog, std::regex(R"(tool calls: ([0-9]+[^\n]*))"));
        const std::string compactions = firstMatch(m_agentLog, std::regex(R"(\(([0-9]+) compactions)"));
        const std::regex benchLine(R"(\bbash make bench \()");
        const auto benches = std::distance(std::sregex_iterator(m_agentLog.begin(), m_agentLog.end(), benchLine),
                                           std::sregex_iterator());
        char wall[32];
        std::snprintf(wall, sizeof wall, "%.1f s", seconds);

        std::cout << "\n--- demo\n"
                  << "tool calls:   " << (calls.empty() ? std::string("unknown") : calls) << "\n"
                  << "evaluations:  " << benches << " make bench runs\n"
                  << "compactions:  " << (compactions.empty() ? std::string("0") : compactions) << "\n"
                  << "best:         " << (best.empty() ? std::string("none reported") : best)
                  << " (the model's report); kernel.c measured again: " << measureAgain() << "\n"
                  << "wall time:    " << wall << "\n";
        const bool keep = m_opts.keep || !m_temporary;
        std::cout << "workspace:    " << m_workdir.string()
                  << (keep ? " (kept)\n" : " (removed; --keep keeps it)\n") << std::flush;
        cleanUp();

        if (agentExit != 0) {
            std::cerr << "tapedeck demo: tapedeck-agent ended with exit code " << agentExit << "\n";
            return kExitRunFailed;
        }
        if (best.empty()) {
            std::cerr << "tapedeck demo: the agent finished without reporting a best speed-up\n";
            return kExitRunFailed;
        }
        return kExitOk;
    }

    void cleanUp()
    {
        if (m_temporary && !m_opts.keep && !m_workdir.empty()) {
            std::error_code ec;
            fs::remove_all(m_workdir, ec);
        }
    }

    const DemoOptions &m_opts;
    fs::path m_workdir;
    bool m_temporary = false;
    std::string m_serverErr;
    std::string m_agentOut;
    std::string m_agentLog;
};

} // namespace

void addDemoCommand(CLI::App &app)
{
    auto opts = std::make_shared<DemoOptions>();
    CLI::App *cmd = app.add_subcommand(
        "demo", "Run the reference agent live on the kernel-tuning task against the scripted model server");
    cmd->add_option("-o,--output", opts->tape,
                    "the tape to record the run into (the default one is replaced, the previous kept as "
                    "demo.tape.old; another is refused if it exists, unless --append)")
        ->capture_default_str();
    cmd->add_flag("--append", opts->append, "add the run to the tape if it exists");
    cmd->add_option("--seed", opts->seed, "the kernel-tuner's seed (same seed, same choices)")->capture_default_str();
    cmd->add_option("--evals", opts->evaluations, "the agent's budget of benchmark evaluations")
        ->capture_default_str()
        ->check(CLI::Range(1, 200));
    cmd->add_option("--workdir", opts->workdir, "work in this new or empty directory (kept) instead of a temporary one");
    cmd->add_flag("--keep", opts->keep, "keep the temporary workspace");
    cmd->add_option("--api", opts->api, "the API the agent speaks: openai (Chat Completions) or anthropic (Messages)")
        ->capture_default_str()
        ->check(CLI::IsMember({"openai", "anthropic"}));
    cmd->add_option("--think-ms", opts->thinkMs, "how long the model waits before each answer")
        ->capture_default_str()
        ->check(CLI::Range(0, 60000));
    cmd->add_option("--compact-at-tokens", opts->compactAtTokens,
                    "let the agent compact its conversation past this many tokens (0: never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--workspace", opts->workspace, "the kernel-tuning workspace to copy")
        ->default_str(TAPEDECK_KERNEL_TUNING_DIR);
    cmd->add_flag("--no-gui", opts->noGui, "do not open the run in tapedeck-gui (nor picture it) at the end");
    cmd->add_option("--model-bin", opts->modelBin, "the tapedeck-model program (default: beside tapedeck)");
    cmd->add_option("--agent-bin", opts->agentBin, "the tapedeck-agent program (default: beside tapedeck)");
    cmd->footer("The agent reads TASK.md, proposes kernel versions, compiles and times them with the\n"
                "system compiler, keeps the best and reports its speed-up: real tool calls on a copy of\n"
                "samples/kernel-tuning. Every model call and tool result is recorded into the tape\n"
                "(-o), whose summary ends the demo; then the run opens in tapedeck-gui, or, with no\n"
                "display, the window is pictured into the tape's name with .png. The synthetic 35-hour session is written by\n"
                "'tapedeck sample kernel-session -o FILE' and summarised by 'tapedeck info FILE'.\n"
                "Exit codes: 0 the run finished with a speed-up; 1 the model server or the agent failed;\n"
                "2 bad command line; 3 tapedeck-model, tapedeck-agent, the workspace or the tape could not\n"
                "be had; 5 the working directory or the tape could not be written.");
    cmd->callback([opts] { commandExitCode() = Demo(*opts).run(); });
}

} // namespace tapedeck::cli
