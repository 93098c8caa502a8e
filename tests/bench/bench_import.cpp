// Benchmark of import (issue 8): throughput in MB of input a second, the whole import
// (parsing and writing the tape) timed, and peak memory, each input in its own child
// process. Inputs: the tau-bench file, the mini-swe-agent run concatenated 10x and 100x
// (one trajectory per line), and every other real trajectory of ../shared/data/real.
// Memory should stay bounded by the largest record: the 100x figure near the 10x one.
// Each input is imported as `tapedeck import` does it, and again with each append committed
// on its own (as a recording's are), to compare. Not a timed test: it prints what it
// measured and checks nothing.
//
//   tapedeck-bench-import [--dir DIR] [--level ZSTD_LEVEL]   (the level blobs are compressed at)
#include "tapedeck/formats/importers.h"

#include "benchprocess.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace tapedeck;
using Clock = std::chrono::steady_clock;

namespace {

struct ImportResult {
    double seconds = 0;
    int64_t steps = 0;
    int64_t runs = 0;
    int64_t skipped = 0;
    int64_t tapeBytes = 0;
    long peakRssKb = 0;
    char format[32] = {};
    char error[256] = {};
};

ImportResult importOnce(const std::string &input, const std::string &tape, int level,
                        std::chrono::milliseconds commitInterval)
{
    ImportResult r;
    formats::WriterOptions options;
    options.overwrite = true;
    options.compressionLevel = level;
    options.commitInterval = commitInterval;
    const auto t0 = Clock::now();
    {
        auto writer = formats::TapeWriter::create(tape, options);
        if (!writer) {
            std::snprintf(r.error, sizeof r.error, "%s", writer.error().message.c_str());
            return r;
        }
        auto report = formats::importFile(input, std::nullopt, **writer);
        if (!report) {
            std::snprintf(r.error, sizeof r.error, "%s", report.error().message.c_str());
            return r;
        }
        r.steps = report->stats.steps;
        r.runs = report->stats.runs;
        r.skipped = int64_t(report->skipped.size());
        std::snprintf(r.format, sizeof r.format, "%s", formats::importFormatName(report->format));
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::error_code ec;
    r.tapeBytes = int64_t(std::filesystem::file_size(tape, ec));
    return r;
}

// The mini-swe-agent run `times` times, one compact trajectory per line.
std::string concatenated(const std::string &dir, const std::string &source, int times)
{
    const std::string path = dir + "/mini-swe-agent-x" + std::to_string(times) + ".jsonl";
    if (std::filesystem::exists(path))
        return path;
    std::ifstream in(source, std::ios::binary);
    const std::string line = nlohmann::json::parse(in, nullptr, false).dump() + "\n";
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < times; ++i)
        out << line;
    return path;
}

} // namespace

int main(int argc, char **argv)
{
    std::string dir = "/tmp/tapedeck-bench-import";
    int level = formats::WriterOptions{}.compressionLevel;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (std::strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            level = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: tapedeck-bench-import [--dir DIR] [--level ZSTD_LEVEL]\n");
            return 2;
        }
    }
    std::filesystem::create_directories(dir);
    const std::string real = TAPEDECK_REAL_DATA;
    const std::string mini = real + "/mini-swe-agent/django__django-13265.deepseek-chat.traj.json";
    const std::vector<std::pair<std::string, std::string>> inputs = {
        {"tau-bench (200 episodes)", real + "/tau-bench/gpt-4o-airline.json"},
        {"mini-swe-agent x1", mini},
        {"mini-swe-agent x10", concatenated(dir, mini, 10)},
        {"mini-swe-agent x100", concatenated(dir, mini, 100)},
        {"claude code session", real + "/claude-code/python-to-rust-port.transcript.jsonl"},
        {"codex rollout", real + "/codex/echo-hello.rollout.codex-0.171.0.jsonl"},
        {"swe-agent 0.x", real + "/swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj"},
        {"openhands", real + "/openhands/basic_gui_mode.trajectory.json"},
        {"inspect log", real + "/inspect/2025-05-12T20-27-36-04-00_browser.json"},
    };

    std::printf("%-26s %-16s %10s %8s %9s %10s %10s %11s %13s\n", "input", "format", "input", "steps",
                "seconds", "MB/s", "tape", "peak RSS", "commit each");
    for (const auto &[label, path] : inputs) {
        std::error_code ec;
        const double inputMb = double(std::filesystem::file_size(path, ec)) / 1e6;
        const std::string tape = dir + "/import.tape";
        const ImportResult r = bench::inChild<ImportResult>(
            [&] { return importOnce(path, tape, level, formats::kImportCommitInterval); });
        // The same with each append committed on its own, as a recording is, to compare.
        const ImportResult each = bench::inChild<ImportResult>(
            [&] { return importOnce(path, tape, level, std::chrono::milliseconds(0)); });
        if (r.error[0] || each.error[0]) {
            std::printf("%-26s failed: %s\n", label.c_str(), r.error[0] ? r.error : each.error);
            continue;
        }
        std::printf("%-26s %-16s %7.2f MB %8lld %9.3f %10.1f %7.2f MB %8.1f MB %8.1f MB/s%s\n",
                    label.c_str(), r.format, inputMb, static_cast<long long>(r.steps), r.seconds,
                    r.seconds > 0 ? inputMb / r.seconds : 0.0, double(r.tapeBytes) / 1e6,
                    double(r.peakRssKb) / 1024.0, each.seconds > 0 ? inputMb / each.seconds : 0.0,
                    r.skipped ? (" (" + std::to_string(r.skipped) + " skipped)").c_str() : "");
    }
    std::printf("target: at least 50 MB/s of input; peak memory bounded by the largest record "
                "(x100 near x10)\n");
    return 0;
}
