#include "recordoptions.h"

#include "commands.h"
#include "exitcodes.h"
#include "format.h"

#include <tapedeck/formats/tape.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

namespace tapedeck::cli {

namespace {

std::string environment(const char *name)
{
    const char *value = std::getenv(name);
    return value ? value : "";
}

std::string firstSet(std::initializer_list<std::string> candidates)
{
    for (const std::string &c : candidates)
        if (!c.empty())
            return c;
    return {};
}

std::string defaultTapeName()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char name[64];
    std::strftime(name, sizeof name, "run-%Y%m%d-%H%M%S.tape", &local);
    return name;
}

} // namespace

void addRecordOptions(CLI::App &cmd, RecordCommandOptions &o)
{
    cmd.add_option("-o,--output", o.output, "the tape to write (default: run-DATE-TIME.tape here)");
    cmd.add_flag("--append", o.append, "add the run to FILE if it exists, instead of refusing");
    cmd.add_option("--upstream", o.upstream,
                   "forward every API to this base URL (a scripted model server, a gateway)");
    cmd.add_option("--upstream-openai", o.upstreamOpenai,
                   "where OpenAI requests go (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)");
    cmd.add_option("--upstream-anthropic", o.upstreamAnthropic,
                   "where Anthropic requests go (default: $ANTHROPIC_BASE_URL, else https://api.anthropic.com)");
    cmd.add_option("--upstream-gemini", o.upstreamGemini,
                   "where Gemini requests go (default: $GOOGLE_GEMINI_BASE_URL, else "
                   "https://generativelanguage.googleapis.com)");
    cmd.add_option("--redact-header", o.redactHeaders,
                   "a header to keep out of the tape, beyond authorization, x-api-key, "
                   "x-goog-api-key, api-key and cookies (repeatable)");
    cmd.add_option("--redact", o.redactPatterns,
                   "a regular expression; matching text is stored as a stable placeholder (repeatable)");
    cmd.add_option("--run-name", o.runName, "a name for the recorded run");
    cmd.add_flag("-q,--quiet", o.quiet, "no summary at the end");
}

recorder::Upstreams resolveUpstreams(const RecordCommandOptions &o)
{
    if (!o.upstream.empty())
        return recorder::Upstreams::all(o.upstream);
    recorder::Upstreams u;
    u.openai = firstSet({o.upstreamOpenai, environment("OPENAI_BASE_URL"), environment("OPENAI_API_BASE"), u.openai});
    u.anthropic = firstSet({o.upstreamAnthropic, environment("ANTHROPIC_BASE_URL"), u.anthropic});
    u.gemini = firstSet({o.upstreamGemini, environment("GOOGLE_GEMINI_BASE_URL"),
                         environment("GEMINI_BASE_URL"), u.gemini});
    return u;
}

recorder::RecorderOptions recorderOptions(const RecordCommandOptions &o)
{
    recorder::RecorderOptions r;
    r.tapePath = o.output.empty() ? defaultTapeName() : o.output;
    r.appendToExisting = o.append;
    r.upstreams = resolveUpstreams(o);
    r.redactHeaders = o.redactHeaders;
    r.redactPatterns = o.redactPatterns;
    r.authToken = o.authToken;
    r.run.name = o.runName;
    std::error_code ec;
    r.run.cwd = std::filesystem::current_path(ec).string();
    return r;
}

std::unique_ptr<recorder::Recorder> startRecorder(recorder::RecorderOptions options)
{
    auto recorder = recorder::Recorder::start(std::move(options));
    if (recorder)
        return std::move(*recorder);
    std::cerr << "tapedeck: " << recorder.error().message << "\n";
    commandExitCode() =
        recorder.error().code == formats::ErrorCode::InvalidArgument ? kExitUsage : kExitCannotOpen;
    return nullptr;
}

void printRecordSummary(const recorder::Recorder &recorder, int64_t wallUs)
{
    const recorder::RecorderStats s = recorder.stats();
    // The tape and its write-ahead log: what is on disk until the log is folded in at close.
    int64_t size = 0;
    for (const std::string &file : {recorder.tapePath(), recorder.tapePath() + "-wal"}) {
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(file, ec);
        size += ec ? 0 : static_cast<int64_t>(bytes);
    }
    const std::string runs = recorder.run().value != 0 ? "run " + std::to_string(recorder.run().value)
                             : s.runs == 1                ? "1 run"
                                                          : std::to_string(s.runs) + " runs";
    std::cerr << "\ntapedeck: recorded " << recorder.tapePath() << " (" << runs
              << ", " << humanDuration(wallUs) << ", " << humanBytes(size)
              << ")\n"
              << "  model calls   " << withCommas(s.modelCalls) << " in " << s.threads
              << (s.threads == 1 ? " thread" : " threads") << "\n"
              << "  tool calls    " << withCommas(s.toolCalls) << " (" << withCommas(s.toolResults)
              << " results seen)\n"
              << "  tokens        " << withCommas(s.inputTokens) << " in, " << withCommas(s.outputTokens)
              << " out\n"
              << "  exchanges     " << withCommas(s.exchanges) << " (" << s.errors
              << (s.errors == 1 ? " error" : " errors") << ")\n";
    if (!s.writeError.empty())
        std::cerr << "  NOT ALL RECORDED: " << s.writeError << "\n";
    std::cerr << "  look inside:  tapedeck info " << recorder.tapePath() << "\n";
}

} // namespace tapedeck::cli
