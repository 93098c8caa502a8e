#include "agentenvironment.h"
#include "commands.h"
#include "exitcodes.h"
#include "recordoptions.h"

#include <csignal>
#include <chrono>
#include <iostream>
#include <thread>

namespace tapedeck::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void requestStop(int) { g_stop = 1; }

} // namespace

void addProxyCommand(CLI::App &app)
{
    struct Options {
        RecordCommandOptions record;
        std::string listen = "127.0.0.1:8788";
        int64_t sessionIdleSeconds = 1800;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "proxy", "Run the recording proxy until stopped, for agents started elsewhere or "
                 "configured by file");
    addRecordOptions(*cmd, opts->record);
    cmd->add_option("--listen", opts->listen, "HOST:PORT to listen on (port 0: any free one)")
        ->capture_default_str();
    cmd->add_option("--auth-token", opts->record.authToken,
                    "required to listen beyond loopback; clients put it first in the base URL "
                    "path (http://HOST:PORT/TOKEN)");
    cmd->add_option("--session-idle", opts->sessionIdleSeconds,
                    "seconds of quiet after which calls that name no client session start a new run")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->footer("Each client session is a run of its own: the session a client names in a header\n"
                "(Claude Code's x-claude-code-session-id, Codex's session_id), else one run per stretch of\n"
                "calls without a pause of --session-idle seconds.\n"
                "Point the agent at the printed base URL (OPENAI_BASE_URL=URL/v1, "
                "ANTHROPIC_BASE_URL=URL, GOOGLE_GEMINI_BASE_URL=URL).\nStops on Ctrl-C or "
                "SIGTERM, then prints a summary. Exit codes: 0 stopped cleanly, 2 bad options,\n"
                "3 the tape cannot be created or the address cannot be bound.");
    cmd->callback([opts] {
        recorder::RecorderOptions options = recorderOptions(opts->record);
        if (!parseListenAddress(opts->listen, options.listenHost, options.listenPort)) {
            std::cerr << "tapedeck: --listen '" << opts->listen << "' is not HOST:PORT\n";
            commandExitCode() = kExitUsage;
            return;
        }
        if (options.run.name.empty())
            options.run.name = "proxy";
        options.runPerSession = true;
        options.sessionIdleSeconds = opts->sessionIdleSeconds;
        std::unique_ptr<recorder::Recorder> recorder = startRecorder(std::move(options));
        if (!recorder)
            return;
        std::signal(SIGINT, requestStop);
        std::signal(SIGTERM, requestStop);
        const std::string base = recorder->baseUrl();
        std::cout << "listening on " << base << "\n"
                  << "  OPENAI_BASE_URL=" << base << "/v1  ANTHROPIC_BASE_URL=" << base
                  << "  GOOGLE_GEMINI_BASE_URL=" << base << "\n"
                  << "recording to " << recorder->tapePath() << " (Ctrl-C stops)" << std::endl;
        const auto started = std::chrono::steady_clock::now();
        while (!g_stop)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const formats::Status finished = recorder->finish("proxy stopped");
        if (!finished)
            std::cerr << "tapedeck: could not finish the tape: " << finished.error().message << "\n";
        if (!opts->record.quiet)
            printRecordSummary(*recorder, std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
        commandExitCode() = finished ? kExitOk : kExitCannotWrite;
    });
}

} // namespace tapedeck::cli
