#include "agentenvironment.h"
#include "childprocess.h"
#include "commands.h"
#include "exitcodes.h"
#include "recordoptions.h"

#include <chrono>
#include <iostream>

namespace tapedeck::cli {

namespace {

// The base URLs point at the proxy; `tapedeck mcp` finds the run through the others.
std::map<std::string, std::string> recordEnvironment(const recorder::Recorder &recorder)
{
    std::map<std::string, std::string> environment = baseUrlEnvironment(recorder.baseUrl());
    environment["TAPEDECK_RECORD_TAPE"] = recorder.tapePath();
    environment["TAPEDECK_RECORD_RUN"] = std::to_string(recorder.run().value);
    environment["TAPEDECK_PROXY_URL"] = recorder.baseUrl();
    return environment;
}

} // namespace

void addRecordCommand(CLI::App &app)
{
    struct Options {
        RecordCommandOptions record;
        std::vector<std::string> command;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "record", "Record an agent's run: start CMD with its model API base URLs pointing at a "
                  "recording proxy, and write every call into a tape");
    addRecordOptions(*cmd, opts->record);
    cmd->add_option("CMD", opts->command, "the agent to run, after --")->required();
    cmd->footer(
        "Example:\n"
        "  tapedeck record -o fix-tests.tape -- claude -p \"make the tests pass\"\n"
        "CMD is started with OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GOOGLE_GEMINI_BASE_URL (and the\n"
        "other usual spellings) pointing at the proxy; the proxy forwards each request to its\n"
        "upstream and passes the answer back unchanged. tapedeck exits with CMD's exit status,\n"
        "or 3 when the tape cannot be created and 2 when CMD cannot be started.");
    cmd->callback([opts] {
        recorder::RecorderOptions options = recorderOptions(opts->record);
        options.run.command = opts->command;
        if (options.run.name.empty())
            options.run.name = opts->command.front();
        std::unique_ptr<recorder::Recorder> recorder = startRecorder(std::move(options));
        if (!recorder)
            return;
        if (!opts->record.quiet)
            std::cerr << "tapedeck: recording to " << recorder->tapePath() << " through "
                      << recorder->baseUrl() << "\n";
        const auto started = std::chrono::steady_clock::now();
        const ChildResult child = runChild(opts->command, recordEnvironment(*recorder));
        const std::string outcome =
            child.started ? "exit " + std::to_string(child.exitCode) : "not started: " + child.error;
        const formats::Status finished = recorder->finish(outcome);
        if (!child.started)
            std::cerr << "tapedeck: " << child.error << "\n";
        if (!finished)
            std::cerr << "tapedeck: could not finish the tape: " << finished.error().message << "\n";
        if (!opts->record.quiet && child.started)
            printRecordSummary(*recorder, std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - started)
                                              .count());
        commandExitCode() = child.started ? child.exitCode : kExitUsage;
    });
}

} // namespace tapedeck::cli
