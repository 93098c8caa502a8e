// The options `tapedeck record` and `tapedeck proxy` share: the tape, the upstreams,
// redaction, the run's name; and the one-screen summary both print at the end.
#pragma once

#include <tapedeck/recorder/recorder.h>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tapedeck::cli {

struct RecordCommandOptions {
    std::string output;
    bool append = false;
    std::string upstream;
    std::string upstreamOpenai;
    std::string upstreamAnthropic;
    std::string upstreamGemini;
    std::vector<std::string> redactHeaders;
    std::vector<std::string> redactPatterns;
    std::string runName;
    std::string authToken;
    bool quiet = false;
};

void addRecordOptions(CLI::App &cmd, RecordCommandOptions &options);

// The upstreams: --upstream for all, else each flag, else the base URL the environment
// already names for that provider (so a recorder can sit in front of a local server), else
// the provider's own endpoint.
recorder::Upstreams resolveUpstreams(const RecordCommandOptions &options);

recorder::RecorderOptions recorderOptions(const RecordCommandOptions &options);

// Starts the recorder; on failure prints why and sets the command's exit code (2 for a bad
// option, 3 when the tape or the address cannot be had) and returns null.
std::unique_ptr<recorder::Recorder> startRecorder(recorder::RecorderOptions options);

void printRecordSummary(const recorder::Recorder &recorder, int64_t wallUs);

} // namespace tapedeck::cli
