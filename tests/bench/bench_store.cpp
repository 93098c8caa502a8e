// Benchmark of the .tape store on the sample kernel session (issue: the foundation).
// Prints, for the 35-hour session and for sessions scaled to 1k / 10k / 100k / 1M steps:
//   - tape size against gzip -6 and zstd -19 --long=27 of the naive raw JSONL log,
//   - append throughput: with the generator (the sample written through the writer), and
//     writer only (the written tape's steps read back and appended to a new tape, only the
//     append calls timed), one commit per step and in batches of kBatch steps,
//   - time to open a tape and read its summary, and to fetch a random step (p50, p90, max:
//     model calls, a third of the steps, are the slow end),
//   - peak memory (RSS) of each phase, each measured in its own child process.
// Not a timed test: it prints what it measured and checks nothing.
//
//   tapedeck-bench-store [--dir DIR] [--only session,1k,10k,100k,1M] [--raw-limit-mb N]
//                        [--reads-only]   (open and fetch only, on the tapes left in DIR)
#include "tapedeck/formats/tape.h"
#include "tapedeck/samples/kernelsession.h"

#include "benchprocess.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace tapedeck;
using Clock = std::chrono::steady_clock;

namespace {

struct Scale {
    std::string name;
    double scale;
};

// Results a child process sends back through a pipe.
struct PhaseResult {
    bool ok = false;
    double seconds = 0;
    double perOpMicros = 0;
    double p90Micros = 0; // fetch: the 90th percentile, where model calls are
    double maxMicros = 0;
    int64_t steps = 0;
    int64_t rawLogBytes = 0;
    long peakRssKb = 0;
    char error[256] = {};
};

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t fileSize(const std::string &path)
{
    std::error_code ec;
    int64_t n = 0;
    for (const char *suffix : {"", "-wal"}) {
        auto s = std::filesystem::file_size(path + suffix, ec);
        if (!ec)
            n += int64_t(s);
    }
    return n;
}

// Size of `cmd < path` on stdout, by running the real compressor.
int64_t compressedSize(const std::string &cmd, const std::string &path, double &seconds)
{
    auto t0 = Clock::now();
    std::string full = cmd + " < '" + path + "' | wc -c";
    FILE *p = popen(full.c_str(), "r");
    if (!p)
        return -1;
    long long n = -1;
    if (std::fscanf(p, "%lld", &n) != 1)
        n = -1;
    pclose(p);
    seconds = secondsSince(t0);
    return n;
}

PhaseResult writePhase(const std::string &tape, const std::string &rawLog, double scale)
{
    PhaseResult r;
    formats::WriterOptions wo;
    wo.overwrite = true;
    auto writer = formats::TapeWriter::create(tape, wo);
    if (!writer) {
        std::snprintf(r.error, sizeof r.error, "%s", writer.error().message.c_str());
        return r;
    }
    samples::KernelSessionOptions so;
    so.scale = scale;
    so.rawLogPath = rawLog;
    auto t0 = Clock::now();
    auto stats = samples::writeKernelSession(**writer, so);
    writer->reset();
    r.seconds = secondsSince(t0);
    if (!stats) {
        std::snprintf(r.error, sizeof r.error, "%s", stats.error().message.c_str());
        return r;
    }
    r.ok = true;
    r.steps = stats->steps;
    r.rawLogBytes = stats->rawLogBytes;
    return r;
}

// Steps per appendBatch() call in the batched replay.
constexpr size_t kBatch = 100;

// Appends every step of `source` to a new tape `target`, timing only the append calls:
// the writer's own cost, without the generator's. `batch` 0: append() per step.
PhaseResult replayPhase(const std::string &source, const std::string &target, size_t batch)
{
    PhaseResult r;
    auto fail = [&r](const formats::Error &e) {
        std::snprintf(r.error, sizeof r.error, "%s", e.message.c_str());
        return r;
    };
    auto reader = formats::TapeReader::open(source);
    if (!reader)
        return fail(reader.error());
    formats::WriterOptions wo;
    wo.overwrite = true;
    auto writer = formats::TapeWriter::create(target, wo);
    if (!writer)
        return fail(writer.error());
    // The sample has runs, their original branches and threads: made again in id order,
    // they get the same ids.
    auto runs = (*reader)->runs();
    auto branches = (*reader)->branches();
    auto threads = (*reader)->threads();
    if (!runs)
        return fail(runs.error());
    if (!branches)
        return fail(branches.error());
    if (!threads)
        return fail(threads.error());
    if (branches->size() != runs->size())
        return fail({formats::ErrorCode::InvalidArgument, "replay handles no forked branches"});
    for (const formats::RunInfo &run : *runs) {
        if (auto id = (*writer)->beginRun(run); !id)
            return fail(id.error());
    }
    for (const formats::ThreadInfo &thread : *threads) {
        if (auto id = (*writer)->addThread(thread); !id)
            return fail(id.error());
    }
    double seconds = 0;
    std::vector<formats::Step> pending;
    auto flush = [&]() -> formats::Status {
        auto t0 = Clock::now();
        auto done = (*writer)->appendBatch(pending);
        seconds += secondsSince(t0);
        pending.clear();
        if (!done)
            return done.error();
        return {};
    };
    formats::Status failed;
    auto visited = (*reader)->forEachStep([&](const formats::Step &step) {
        ++r.steps;
        if (batch == 0) {
            auto t0 = Clock::now();
            auto done = (*writer)->append(step);
            seconds += secondsSince(t0);
            if (!done)
                failed = done.error();
            return bool(done);
        }
        pending.push_back(step);
        if (pending.size() >= batch)
            failed = flush();
        return failed.ok();
    });
    if (!visited)
        return fail(visited.error());
    if (failed.ok() && !pending.empty())
        failed = flush();
    if (!failed)
        return fail(failed.error());
    // Closing writes the last totals and text batch: part of the writer's cost.
    auto t0 = Clock::now();
    writer->reset();
    seconds += secondsSince(t0);
    r.seconds = seconds;
    r.ok = true;
    return r;
}

PhaseResult openPhase(const std::string &tape)
{
    PhaseResult r;
    constexpr int kRounds = 20;
    std::vector<double> times;
    for (int i = 0; i < kRounds; ++i) {
        auto t0 = Clock::now();
        auto reader = formats::TapeReader::open(tape);
        if (!reader) {
            std::snprintf(r.error, sizeof r.error, "%s", reader.error().message.c_str());
            return r;
        }
        auto summary = (*reader)->summary();
        if (!summary) {
            std::snprintf(r.error, sizeof r.error, "%s", summary.error().message.c_str());
            return r;
        }
        times.push_back(secondsSince(t0) * 1e6);
        r.steps = summary->stepCount;
    }
    std::sort(times.begin(), times.end());
    r.perOpMicros = times[times.size() / 2];
    r.ok = true;
    return r;
}

// Reads the file through once, so that the fetches after measure the store, not the
// disk: a tape just written beside others may have left the page cache.
void readThrough(const std::string &path)
{
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        return;
    std::vector<char> buffer(size_t(1) << 20);
    while (std::fread(buffer.data(), 1, buffer.size(), f) == buffer.size()) {
    }
    std::fclose(f);
}

PhaseResult fetchPhase(const std::string &tape)
{
    PhaseResult r;
    readThrough(tape);
    auto reader = formats::TapeReader::open(tape);
    if (!reader) {
        std::snprintf(r.error, sizeof r.error, "%s", reader.error().message.c_str());
        return r;
    }
    const int64_t n = (*reader)->stepCount();
    std::mt19937_64 rng(42);
    constexpr int kFetches = 300;
    std::vector<double> times;
    for (int i = 0; i < kFetches; ++i) {
        formats::StepIndex idx{int64_t(rng() % uint64_t(n)) + 1};
        auto t0 = Clock::now();
        auto step = (*reader)->step(idx);
        times.push_back(secondsSince(t0) * 1e6);
        if (!step) {
            std::snprintf(r.error, sizeof r.error, "%s", step.error().message.c_str());
            return r;
        }
    }
    r.perOpMicros = bench::percentile(times, 0.5);
    r.p90Micros = bench::percentile(times, 0.9);
    r.maxMicros = bench::percentile(times, 1.0);
    r.steps = n;
    r.ok = true;
    return r;
}

} // namespace

int main(int argc, char **argv)
{
    std::string dir = std::filesystem::temp_directory_path() / "tapedeck-bench";
    std::string only;
    int64_t rawLimitMb = 1500;
    bool readsOnly = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--only" && i + 1 < argc)
            only = argv[++i];
        else if (a == "--raw-limit-mb" && i + 1 < argc)
            rawLimitMb = std::stoll(argv[++i]);
        else if (a == "--reads-only")
            readsOnly = true;
        else {
            std::fprintf(stderr,
                         "usage: %s [--dir DIR] [--only session,1k,10k,100k,1M] "
                         "[--raw-limit-mb N] [--reads-only]\n"
                         "  --raw-limit-mb: skip the raw-log size comparison for sessions whose "
                         "raw log would pass N MB (default 1500)\n"
                         "  --reads-only: only open and fetch, on the tapes an earlier run left "
                         "in DIR\n",
                         argv[0]);
            return 2;
        }
    }
    std::filesystem::create_directories(dir);

    const int64_t sessionSteps = samples::plannedKernelSessionSteps(1.0);
    std::vector<Scale> scales = {{"session", 1.0}};
    for (auto [name, steps] : std::vector<std::pair<std::string, int64_t>>{
             {"1k", 1000}, {"10k", 10000}, {"100k", 100000}, {"1M", 1000000}})
        scales.push_back({name, double(steps) / double(sessionSteps)});
    if (!only.empty()) {
        std::vector<Scale> chosen;
        for (const Scale &s : scales) {
            if (("," + only + ",").find("," + s.name + ",") != std::string::npos)
                chosen.push_back(s);
        }
        scales = chosen;
    }

    std::printf("tapedeck store benchmark — %u cores, files in %s\n",
                std::max(1u, unsigned(sysconf(_SC_NPROCESSORS_ONLN))), dir.c_str());
    std::printf("sample kernel session: %lld steps at scale 1\n\n", (long long)sessionSteps);

    // Raw log bytes per step, measured on the first (small) session, decide which scales
    // get the raw-log comparison.
    double rawBytesPerStep = 0;
    struct Row {
        Scale scale;
        PhaseResult write, replay, batched, open, fetch;
        int64_t tapeBytes = 0, gzipBytes = -1, zstdBytes = -1;
        double gzipSeconds = 0, zstdSeconds = 0;
    };
    std::vector<Row> rows;
    for (const Scale &s : scales) {
        Row row{s, {}, {}, {}, {}, {}};
        const std::string tape = dir + "/" + s.name + ".tape";
        const std::string raw = dir + "/" + s.name + ".raw.jsonl";
        if (readsOnly && !std::filesystem::exists(tape)) {
            std::printf("[%s] no %s: run once without --reads-only\n", s.name.c_str(), tape.c_str());
            continue;
        }
        if (!readsOnly) {
            int64_t planned = samples::plannedKernelSessionSteps(s.scale);
            bool withRaw = rawBytesPerStep == 0 ||
                           rawBytesPerStep * double(planned) < double(rawLimitMb) * 1e6;
            std::printf("[%s] writing %lld steps%s ...\n", s.name.c_str(), (long long)planned,
                        withRaw ? " and the raw log" : "");
            std::fflush(stdout);
            row.write = bench::inChild<PhaseResult>([&] { return writePhase(tape, withRaw ? raw : "", s.scale); });
            if (!row.write.ok) {
                std::printf("[%s] FAILED: %s\n", s.name.c_str(), row.write.error);
                rows.push_back(row);
                continue;
            }
            row.tapeBytes = fileSize(tape);
            if (withRaw && row.write.rawLogBytes > 0) {
                if (rawBytesPerStep == 0)
                    rawBytesPerStep = double(row.write.rawLogBytes) / double(row.write.steps);
                row.gzipBytes = compressedSize("gzip -6 -c", raw, row.gzipSeconds);
                row.zstdBytes = compressedSize("zstd -19 --long=27 -T2 -q -c", raw, row.zstdSeconds);
                std::filesystem::remove(raw);
            }
            const std::string copy = dir + "/" + s.name + ".replay.tape";
            row.replay = bench::inChild<PhaseResult>([&] { return replayPhase(tape, copy, 0); });
            row.batched = bench::inChild<PhaseResult>([&] { return replayPhase(tape, copy, kBatch); });
            for (const char *suffix : {"", "-wal", "-shm"})
                std::filesystem::remove(copy + suffix);
        }
        row.open = bench::inChild<PhaseResult>([&] { return openPhase(tape); });
        row.fetch = bench::inChild<PhaseResult>([&] { return fetchPhase(tape); });
        rows.push_back(row);
        if (!readsOnly) {
            std::printf("[%s] done: write %.1fs, tape %.2f MB\n", s.name.c_str(),
                        row.write.seconds, double(row.tapeBytes) / 1e6);
            std::fflush(stdout);
        }
    }

    std::printf("\n== size: tape against the raw JSONL log (targets: <= 1/40 of gzip -6, <= 1.5x "
                "zstd -19 --long=27)\n");
    std::printf("%-8s %10s %12s %12s %12s %12s %10s %10s\n", "scale", "steps", "raw log MB",
                "gzip-6 MB", "zstd-long MB", "tape MB", "gzip/tape", "tape/zstd");
    for (const Row &r : rows) {
        if (!r.write.ok)
            continue;
        if (r.gzipBytes > 0 && r.zstdBytes > 0) {
            std::printf("%-8s %10lld %12.1f %12.2f %12.3f %12.3f %9.1fx %9.2fx\n",
                        r.scale.name.c_str(), (long long)r.write.steps,
                        double(r.write.rawLogBytes) / 1e6, double(r.gzipBytes) / 1e6,
                        double(r.zstdBytes) / 1e6, double(r.tapeBytes) / 1e6,
                        double(r.gzipBytes) / double(r.tapeBytes),
                        double(r.tapeBytes) / double(r.zstdBytes));
        } else {
            std::printf("%-8s %10lld %12s %12s %12s %12.3f %10s %10s  (raw log not written: "
                        "would pass --raw-limit-mb)\n",
                        r.scale.name.c_str(), (long long)r.write.steps, "-", "-", "-",
                        double(r.tapeBytes) / 1e6, "-", "-");
        }
    }

    std::printf("\n== append throughput (target: >= 20,000 steps/s, a commit per step)\n");
    std::printf("with generator: the sample session written through the writer; writer only: its "
                "steps read back and appended\nto a new tape, only the append calls timed; "
                "batched: appendBatch() of %zu steps, a commit per batch\n",
                kBatch);
    std::printf("%-8s %10s %16s %16s %16s %14s\n", "scale", "steps", "with generator/s",
                "writer only/s", "batched/s", "peak RSS MB");
    auto rate = [](const PhaseResult &p) {
        return p.ok && p.seconds > 0 ? double(p.steps) / p.seconds : 0.0;
    };
    for (const Row &r : rows) {
        if (!r.write.ok)
            continue;
        std::printf("%-8s %10lld %16.0f %16.0f %16.0f %14.1f\n", r.scale.name.c_str(),
                    (long long)r.write.steps, rate(r.write), rate(r.replay), rate(r.batched),
                    double(r.write.peakRssKb) / 1024);
    }

    std::printf("\n== open + summary, and random step fetch (target: at 1M within 3x of 1k)\n");
    std::printf("fetch: 300 random steps whole, the file read through once first; a third are "
                "model calls,\nthe slow end (their request is a delta on the ones before it)\n");
    std::printf("%-8s %10s %16s %12s %22s %12s\n", "scale", "steps", "open+summary us",
                "RSS MB", "fetch us p50/p90/max", "RSS MB");
    const Row *base = nullptr;
    for (const Row &r : rows) {
        if (!r.open.ok || !r.fetch.ok)
            continue;
        if (r.scale.name == "1k")
            base = &r;
        char fetch[64];
        std::snprintf(fetch, sizeof fetch, "%.0f / %.0f / %.0f", r.fetch.perOpMicros,
                      r.fetch.p90Micros, r.fetch.maxMicros);
        std::printf("%-8s %10lld %16.0f %12.1f %22s %12.1f\n", r.scale.name.c_str(),
                    (long long)r.open.steps, r.open.perOpMicros, double(r.open.peakRssKb) / 1024,
                    fetch, double(r.fetch.peakRssKb) / 1024);
    }
    if (base) {
        for (const Row &r : rows) {
            if (&r == base || !r.open.ok || !r.fetch.ok || r.scale.name == "session")
                continue;
            std::printf("ratio %s/1k: open+summary %.2fx, fetch p50 %.2fx, p90 %.2fx\n",
                        r.scale.name.c_str(), r.open.perOpMicros / base->open.perOpMicros,
                        r.fetch.perOpMicros / base->fetch.perOpMicros,
                        r.fetch.p90Micros / base->fetch.p90Micros);
        }
    }
    for (const Row &r : rows) {
        for (const PhaseResult *p : {&r.write, &r.replay, &r.batched, &r.open, &r.fetch}) {
            if (!p->ok && p->error[0])
                std::printf("[%s] error: %s\n", r.scale.name.c_str(), p->error);
        }
    }
    return 0;
}
