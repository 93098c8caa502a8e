// `tapedeck mcp -- SERVER ARGS...`: stands in for a stdio MCP server in an agent's MCP
// configuration, relays its JSON-RPC unchanged (mcprelay.h) and records each tools/list and
// tools/call with its answer. Where they go:
// - with -o FILE: into a run of FILE, through a recorder started in this process (listening
//   on an ephemeral loopback port, reached by the same reports as below), so that one piece
//   of code writes MCP steps whichever way they come;
// - else, when TAPEDECK_PROXY_URL is set (`tapedeck record` sets it for the agent it runs,
//   and the agent passes it on to the servers it starts): into the run that recorder makes.
// With --replay FILE it starts no server: it answers in the server's place from a tape
// (mcpreplay.h).
#include "childprocess.h"
#include "commands.h"
#include "exitcodes.h"
#include "mcprelay.h"
#include "mcpreplay.h"
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
#include <optional>
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

// --replay: answers from the tape in the server's place until the client's input ends.
// `server` picks the recorded server (empty: the run's only one).
int replayMcp(const std::string &tape, std::optional<formats::RunId> run, const std::string &server)
{
    replayer::ToolReplaySelection selection;
    selection.source = replayer::ToolReplaySelection::Source::Mcp;
    selection.run = run;
    selection.server = server;
    formats::Result<replayer::ToolReplay> replay = replayer::ToolReplay::load(tape, selection);
    if (!replay)
        return reportError(replay.error());
    std::cerr << "tapedeck: answering as " << replay->description() << " ("
              << replay->recordedCount() << " recorded tool results); no server is started\n";
    // A client that goes away ends the replay like the end of its input.
    std::signal(SIGPIPE, SIG_IGN);
    McpReplayServer replayServer(std::move(*replay), std::cin, std::cout, std::cerr);
    replayServer.serve();
    if (replayServer.misses() == 0)
        return kExitOk;
    std::cerr << "tapedeck: " << replayServer.misses() << " of " << replayServer.toolCalls()
              << " tool calls were not on the tape\n";
    return kExitCheckFailed;
}

} // namespace

void addMcpCommand(CLI::App &app)
{
    struct Options {
        std::string output;
        std::string runName;
        std::vector<std::string> redactPatterns;
        std::vector<std::string> server;
        std::string replay;
        int64_t replayRun = 0;
        std::string replayServer;
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
    CLI::Option *replay = cmd->add_option(
        "--replay", opts->replay,
        "answer from this tape instead: start no server, answer tools/list and tools/call with "
        "what was recorded, and a call not recorded with those arguments with an error");
    replay->type_name("FILE");
    replay->excludes("-o")->excludes("--run-name")->excludes("--redact");
    cmd->add_option("--run", opts->replayRun,
                    "with --replay: the run to answer from (default: the tape's last run)")
        ->type_name("R")
        ->check(CLI::PositiveNumber)
        ->needs(replay);
    cmd->add_option("--server", opts->replayServer,
                    "with --replay: the recorded server to answer as, by the name in its thread's "
                    "label \"mcp: NAME\" (default: named after SERVER, else the run's only one)")
        ->type_name("NAME")
        ->needs(replay);
    cmd->add_option("SERVER", opts->server,
                    "the MCP server's command and its arguments, after -- (with --replay: only "
                    "used to pick the recorded server)");
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
        "tape cannot be created.\n"
        "\n"
        "Replay, with no server and no side effect (the same configuration, --replay added):\n"
        "  tapedeck mcp --replay tools.tape -- npx @modelcontextprotocol/server-filesystem /work\n"
        "answers each tools/call with the recorded answer of the next unused call of that tool\n"
        "with equal arguments, in recorded order, and ends with the client's input. Exit\n"
        "status: 0; 1 when a call was not on the tape, or the run or server asked for is not;\n"
        "2 when the run recorded several servers and none was named; 3 when the tape cannot be\n"
        "read.");
    cmd->callback([cmd, opts] {
        if (opts->server.empty() && opts->replay.empty()) {
            std::cerr
                << "tapedeck: SERVER is required: put the server's command after --, as in: "
                   "tapedeck mcp -o T -- npx -y @modelcontextprotocol/server-filesystem DIR\n";
            commandExitCode() = kExitUsage;
            return;
        }
        const std::vector<std::string> rest = cmd->remaining();
        if (!opts->server.empty() && std::find(rest.begin(), rest.end(), "--") == rest.end()) {
            std::cerr << "tapedeck: put the server's command after --, as in: tapedeck mcp -o T -- "
                         "npx -y @modelcontextprotocol/server-filesystem DIR\n";
            commandExitCode() = kExitUsage;
            return;
        }
        if (!opts->replay.empty()) {
            const std::string server = !opts->replayServer.empty() ? opts->replayServer
                                       : opts->server.empty()      ? std::string()
                                                                   : serverName(opts->server);
            commandExitCode() = replayMcp(
                opts->replay,
                opts->replayRun > 0 ? std::optional(formats::RunId(opts->replayRun)) : std::nullopt,
                server);
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
