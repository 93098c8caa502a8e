#include "commands.h"
#include "exitcodes.h"
#include "format.h"
#include "progress.h"

#include "tapedeck/samples/kernelsession.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addSampleCommand(CLI::App &app)
{
    struct Options {
        std::string output;
        uint64_t seed = 1;
        double scale = 1.0;
        std::string rawLog;
        bool force = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand("sample", "Write a synthetic sample session into a tape");
    cmd->require_subcommand(1);
    CLI::App *kernel = cmd->add_subcommand(
        "kernel-session",
        "A 35-hour kernel-optimisation run: 1,158 tool calls, 432 benchmark evaluations, "
        "compile errors, loops and recoveries, compactions, two sub-agents");
    kernel->add_option("-o,--output", opts->output, "the tape to write")->required();
    kernel->add_option("--seed", opts->seed, "random seed (same seed, same session)");
    kernel->add_option("--scale", opts->scale, "multiply the session's length by this")
        ->check(CLI::Range(0.01, 1000.0));
    kernel->add_option("--raw-log", opts->rawLog,
                       "also write every HTTP request and response body as a naive JSONL log");
    kernel->add_flag("-f,--force", opts->force, "replace the output if it exists");
    kernel->callback([opts] {
        WriterOptions wo;
        wo.overwrite = opts->force;
        auto writer = TapeWriter::create(opts->output, wo);
        if (!writer) {
            std::cerr << "tapedeck: " << writer.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        ProgressBar bar("writing " + opts->output);
        samples::KernelSessionOptions so;
        so.seed = opts->seed;
        so.scale = opts->scale;
        so.rawLogPath = opts->rawLog;
        so.progress = [&](int64_t done, int64_t total) { bar.update(done, total); };
        auto t0 = std::chrono::steady_clock::now();
        auto stats = samples::writeKernelSession(**writer, so);
        bar.finish();
        writer->reset();
        if (!stats) {
            std::cerr << "tapedeck: " << stats.error().message << "\n";
            // A half-written sample is of no use to anyone.
            std::error_code ec;
            for (const char *suffix : {"", "-wal", "-shm"})
                std::filesystem::remove(opts->output + suffix, ec);
            commandExitCode() = stats.error().code == ErrorCode::InvalidArgument ? kExitUsage
                                                                                 : kExitCannotWrite;
            return;
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        char rate[64];
        std::snprintf(rate, sizeof rate, "%.1fs (%.0f steps/s)", secs,
                      double(stats->steps) / std::max(secs, 1e-9));
        std::cout << opts->output << ": " << withCommas(stats->steps) << " steps, "
                  << withCommas(stats->toolCalls) << " tool calls, "
                  << withCommas(stats->evaluations) << " benchmark evaluations, best "
                  << times(stats->bestSpeedup) << ", "
                  << humanDuration(stats->endedUs - stats->startedUs) << " of agent time, written in "
                  << rate << "\n";
        if (!opts->rawLog.empty())
            std::cout << opts->rawLog << ": raw JSONL log, " << humanBytes(stats->rawLogBytes) << "\n";
    });
}

} // namespace tapedeck::cli
