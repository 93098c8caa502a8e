// `tapedeck mcp -- SERVER ARGS...`: stands in for a stdio MCP server in an agent's MCP
// configuration, relays its JSON-RPC unchanged (mcprelay.h) and records each tools/list and
// tools/call with its answer. Where they go:
// - with -o FILE: into a run of FILE, through a recorder started in this process (listening
//   on an ephemeral loopback port, reached by the same reports as below), so that one piece
//   of code writes MCP steps whichever way they come;
// - else, when TAPEDECK_PROXY_URL is set (`tapedeck record` sets it for the agent it runs,
//   and the agent passes it on to the servers it starts): into the run that recorder makes.
#include "childprocess.h"
#include "commands.h"
#include "exitcodes.h"
#include "mcprelay.h"
#include "mcpreporter.h"
#include "recordoptions.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <set>

namespace tapedeck::cli {

namespace {

// How long the server's last output may take to reach the client once the server exited.
constexpr std::chrono::seconds kDrainAfterExit{2};

int64_t nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The name that tells servers apart in a run ("server-filesystem"): the package or script
// the command runs, past launchers (npx -y, node, uvx, python -m, docker run -i --rm) and
// generic file and folder names (dist/index.js), without a version ("pkg@1.2").
std::string serverName(const std::vector<std::string> &command)
{
    static const std::set<std::string> launchers = {
        "node",   "npx",     "npm",  "pnpm",   "yarn",   "bun", "bunx", "deno", "uv",  "uvx",
        "python", "python3", "pipx", "docker", "podman", "run", "exec", "x",    "dlx", "tool"};
    static const std::set<std::string> generic = {"index", "main",     "server",      "cli",
                                                  "dist",  "build",    "src",         "lib",
                                                  "bin",   "__main__", "node_modules"};
    size_t at = 0;
    while (at + 1 < command.size() &&
           (launchers.count(std::filesystem::path(command[at]).filename().string()) ||
            command[at].rfind('-', 0) == 0))
        ++at;
    std::filesystem::path path(command[at]);
    std::string name;
    for (auto part = path.end(); part != path.begin();) {
        --part;
        name = (part == std::prev(path.end()) ? part->stem() : *part).string();
        if (!name.empty() && !generic.count(name))
            break;
    }
    if (const size_t version = name.find('@', 1); version != std::string::npos)
        name.erase(version);
    return name.empty() ? command.front() : name;
}

} // namespace

void addMcpCommand(CLI::App &app)
{
    struct Options {
        std::string output;
        std::string runName;
        std::vector<std::string> redactPatterns;
        std::vector<std::string> server;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "mcp", "Stand in for a stdio MCP server: relay its messages unchanged and record every "
               "tools/list and tools/call with its result and timing");
    cmd->add_option("-o,--output", opts->output,
                    "record into this tape, in a run of its own (the file is created, or the run "
                    "added to it); without -o, calls go to the run `tapedeck record` is making");
    cmd->add_option("--run-name", opts->runName,
                    "with -o: the run's name (default: \"mcp: SERVER\")");
    cmd->add_option(
        "--redact", opts->redactPatterns,
        "with -o: a regular expression; matching text is stored as a stable placeholder "
        "(repeatable; under `tapedeck record`, its own --redact applies)");
    cmd->add_option("SERVER", opts->server, "the MCP server's command and its arguments, after --")
        ->required();
    cmd->footer(
        "Put it in front of the server's command in the agent's MCP configuration, e.g.\n"
        "  {\"command\": \"tapedeck\", \"args\": [\"mcp\", \"--\", \"npx\", \"-y\",\n"
        "              \"@modelcontextprotocol/server-filesystem\", \"/work\"]}\n"
        "and run the agent under `tapedeck record -o run.tape -- AGENT`: the MCP calls land in\n"
        "the same run as the model calls, one thread per server. This needs the agent to pass\n"
        "TAPEDECK_PROXY_URL on to the servers it starts; where its MCP client gives servers only\n"
        "a few variables (the MCP SDK's default), list it in the server's \"env\" (as\n"
        "\"${TAPEDECK_PROXY_URL}\" where the config expands variables). Or record on their own:\n"
        "  tapedeck mcp -o tools.tape -- npx -y @modelcontextprotocol/server-filesystem /work\n"
        "Messages pass through byte for byte; the server's stderr is tapedeck's. Exit status:\n"
        "the server's; 2 for a bad command line or a server that cannot be started, 3 when the\n"
        "tape cannot be created.");
    cmd->callback([cmd, opts] {
        const std::vector<std::string> rest = cmd->remaining();
        if (std::find(rest.begin(), rest.end(), "--") == rest.end()) {
            std::cerr << "tapedeck: put the server's command after --, as in: tapedeck mcp -o T -- "
                         "npx -y @modelcontextprotocol/server-filesystem DIR\n";
            commandExitCode() = kExitUsage;
            return;
        }
        const char *proxyUrl = std::getenv("TAPEDECK_PROXY_URL");
        if (opts->output.empty() && (!proxyUrl || !*proxyUrl)) {
            std::cerr
                << "tapedeck: nowhere to record the MCP calls: give -o FILE, or run the agent "
                   "under `tapedeck record`, whose recorder its MCP servers then report to\n";
            commandExitCode() = kExitUsage;
            return;
        }
        const std::string server = serverName(opts->server);

        std::unique_ptr<recorder::Recorder> ownRecorder;
        if (!opts->output.empty()) {
            recorder::RecorderOptions options;
            options.tapePath = opts->output;
            options.appendToExisting = true;
            options.redactPatterns = opts->redactPatterns;
            options.run.name = opts->runName.empty() ? "mcp: " + server : opts->runName;
            options.run.command = opts->server;
            std::error_code ec;
            options.run.cwd = std::filesystem::current_path(ec).string();
            ownRecorder = startRecorder(std::move(options));
            if (!ownRecorder)
                return;
        }

        // A client or server that goes away must not kill the relay with SIGPIPE: it ends the
        // copy in that direction, and the relay waits for the server as usual.
        std::signal(SIGPIPE, SIG_IGN);
        const StartedChild child = startChild(opts->server, {}, ChildStdio::PipeInAndOut);
        if (child.pid < 0) {
            std::cerr << "tapedeck: " << child.error << "\n";
            if (ownRecorder)
                (void)ownRecorder->finish("not started: " + child.error);
            commandExitCode() = kExitUsage;
            return;
        }
        McpReporter reporter(ownRecorder ? ownRecorder->baseUrl() : std::string(proxyUrl));
        McpRelay relay(child.toChild, child.fromChild,
                       {std::to_string(::getpid()) + "-" + std::to_string(nowUs()), server},
                       [&reporter](nlohmann::json call) { reporter.report(std::move(call)); });
        relay.start();
        const ChildResult result = waitForChild(child);
        relay.finish(kDrainAfterExit);
        reporter.finish();
        if (ownRecorder) {
            const formats::Status finished =
                ownRecorder->finish("exit " + std::to_string(result.exitCode));
            if (!finished)
                std::cerr << "tapedeck: could not finish the tape: " << finished.error().message
                          << "\n";
        }
        if (reporter.dropped() > 0)
            std::cerr << "tapedeck: " << reporter.dropped() << " of "
                      << reporter.dropped() + reporter.delivered()
                      << " MCP calls were not recorded\n";
        commandExitCode() = result.exitCode;
    });
}

} // namespace tapedeck::cli
