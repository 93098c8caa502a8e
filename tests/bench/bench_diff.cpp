// Benchmark of `tapedeck diff` on two ~10,000-step runs (issue 7: align two 10,000-step runs
// in under 200 ms). Two pairs of sides:
//   - seeds: the kernel session at a scale giving ~10,000 steps, seed 1 against seed 2 in
//     another file: the same shape with other texts and tool arguments, so most tool calls
//     do not pair (the alignment's worst case here);
//   - fork: seed 1 against a fork of itself after its middle step, whose continuation is the
//     original's steps copied with every 25th tool output edited (the common case).
// Prints the load time of each side, the alignment time, the whole diffSides time (loading,
// aligning, reading the first 50 changed pairs) and the peak RSS of the process that did
// all that for one pair. Checks nothing.
//
//   tapedeck-bench-diff [--dir DIR] [--steps N]
#include <tapedeck/analysis/diff.h>
#include <tapedeck/formats/tape.h>
#include <tapedeck/samples/kernelsession.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace tapedeck;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// VmHWM, not getrusage's ru_maxrss: that one keeps the peak of the process before exec
// (the parent that wrote the tapes).
long peakRssKb()
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return 0;
}

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "bench_diff: %s\n", what.c_str());
    std::exit(1);
}

// The smallest scale whose session has at least `steps` steps.
double scaleFor(int64_t steps)
{
    double lo = 0.01, hi = 100;
    for (int i = 0; i < 40; ++i) {
        const double mid = (lo + hi) / 2;
        (samples::plannedKernelSessionSteps(mid) < steps ? lo : hi) = mid;
    }
    return hi;
}

void writeSession(const std::string &path, uint64_t seed, double scale)
{
    auto writer = formats::TapeWriter::create(path, formats::WriterOptions{.overwrite = true});
    if (!writer)
        fail(writer.error().message);
    samples::KernelSessionOptions options;
    options.seed = seed;
    options.scale = scale;
    if (auto stats = samples::writeKernelSession(**writer, options); !stats)
        fail(stats.error().message);
}

// A fork of the run's original after its middle step: the rest copied onto the new branch's
// threads, every 25th tool output edited.
void addFork(const std::string &path)
{
    auto reader = formats::TapeReader::open(path);
    if (!reader)
        fail(reader.error().message);
    auto branches = (*reader)->branches();
    auto threads = (*reader)->threads();
    if (!branches || !threads)
        fail("cannot read branches");
    const formats::BranchInfo original = branches->front();
    // Fixed now: the reader sees the steps appended below as they commit.
    const int64_t last = (*reader)->stepCount();
    const int64_t forkAfter = last / 2;

    auto writer = formats::TapeWriter::openForAppend(path);
    if (!writer)
        fail(writer.error().message);
    formats::BranchInfo info;
    info.run = original.run;
    info.parent = original.id;
    info.forkStep = formats::StepIndex(forkAfter);
    info.description = "every 25th tool output edited";
    auto fork = (*writer)->addBranch(info);
    if (!fork)
        fail(fork.error().message);
    std::map<formats::ThreadId, formats::ThreadId> onFork;
    for (const formats::ThreadInfo &t : *threads) {
        auto copy = (*writer)->addThread({formats::ThreadId(), *fork, std::nullopt, t.label, t.startedUs});
        if (!copy)
            fail(copy.error().message);
        onFork[t.id] = *copy;
    }
    std::vector<formats::Step> batch;
    int toolResults = 0;
    for (int64_t i = forkAfter + 1; i <= last; ++i) {
        auto step = (*reader)->step(formats::StepIndex(i));
        if (!step)
            fail(step.error().message);
        formats::Step s = std::move(*step);
        s.thread = onFork[s.thread];
        s.branch = *fork;
        s.run = formats::RunId();
        s.parent.reset();
        if (s.kind == formats::StepKind::ToolResult && ++toolResults % 25 == 0)
            s.payload["output"] = "edited output " + std::to_string(i);
        batch.push_back(std::move(s));
        if (batch.size() == 512) {
            if (auto r = (*writer)->appendBatch(batch); !r)
                fail(r.error().message);
            batch.clear();
        }
    }
    if (auto r = (*writer)->appendBatch(batch); !r)
        fail(r.error().message);
}

void measure(const char *name, const std::string &fileA, const std::string &specA, const std::string &fileB,
             const std::string &specB)
{
    auto readerA = formats::TapeReader::open(fileA);
    auto readerB = formats::TapeReader::open(fileB);
    if (!readerA || !readerB)
        fail("cannot open the tapes");
    const analysis::SideSpec a = *analysis::parseSideSpec(specA), b = *analysis::parseSideSpec(specB);

    auto t0 = Clock::now();
    auto sideA = analysis::loadSide(**readerA, a);
    const double loadA = msSince(t0);
    t0 = Clock::now();
    auto sideB = analysis::loadSide(**readerB, b);
    const double loadB = msSince(t0);
    if (!sideA || !sideB)
        fail((!sideA ? sideA.error() : sideB.error()).message);

    // The best of five, the first one cold.
    double alignMs = 1e9, firstAlignMs = 0;
    analysis::Alignment alignment;
    for (int i = 0; i < 5; ++i) {
        t0 = Clock::now();
        alignment = analysis::align(*sideA, *sideB);
        const double ms = msSince(t0);
        if (i == 0)
            firstAlignMs = ms;
        alignMs = std::min(alignMs, ms);
    }

    // A fresh reader, as `tapedeck diff` has.
    auto freshA = formats::TapeReader::open(fileA);
    auto freshB = formats::TapeReader::open(fileB);
    t0 = Clock::now();
    auto report = analysis::diffSides(**freshA, a, **freshB, b);
    const double wholeMs = msSince(t0);
    if (!report)
        fail(report.error().message);

    std::printf("%-6s %7zu %7zu %9.1f %9.1f %10.1f %10.1f %12.1f %8lld %8lld %8lld %8lld %9.1f\n", name,
                sideA->steps.size(), sideB->steps.size(), loadA, loadB, firstAlignMs, alignMs, wholeMs,
                (long long)alignment.same, (long long)alignment.changed, (long long)alignment.removed,
                (long long)alignment.inserted, double(peakRssKb()) / 1024);
}

// Runs this program again as `--measure PAIR`, so that each pair's peak RSS is its own
// (not the generator's) and its readers start cold.
void measureInChild(const char *self, const std::string &dir, const char *pair)
{
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, "--dir", dir.c_str(), "--measure", pair, static_cast<char *>(nullptr));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(std::string("measuring ") + pair + " failed");
}

} // namespace

int main(int argc, char **argv)
{
    std::string dir = (std::filesystem::temp_directory_path() / "tapedeck-bench-diff").string();
    std::string only;
    int64_t steps = 10000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--steps"))
            steps = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--measure"))
            only = argv[i + 1];
    }
    const std::string seed1 = dir + "/seed1.tape", seed2 = dir + "/seed2.tape", forked = dir + "/forked.tape";
    if (only == "seeds") {
        measure("seeds", seed1, seed1, seed2, seed2);
        return 0;
    }
    if (only == "fork") {
        measure("fork", forked, forked + "#1", forked, forked + "#2");
        return 0;
    }
    std::filesystem::create_directories(dir);
    const double scale = scaleFor(steps);
    std::printf("kernel session at scale %.3f: %lld steps per run\n", scale,
                (long long)samples::plannedKernelSessionSteps(scale));
    auto t0 = Clock::now();
    writeSession(seed1, 1, scale);
    writeSession(seed2, 2, scale);
    // A tape is its file and, while open, its WAL: a stale -wal of an earlier run would be
    // replayed into the copy.
    for (const char *suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(forked + suffix);
    for (const char *suffix : {"", "-wal"})
        if (std::filesystem::exists(seed1 + suffix))
            std::filesystem::copy_file(seed1 + suffix, forked + suffix);
    addFork(forked);
    std::printf("tapes written in %.1f s (%s)\n\n", msSince(t0) / 1000, dir.c_str());

    std::printf("%-6s %7s %7s %9s %9s %10s %10s %12s %8s %8s %8s %8s %9s\n", "pair", "A", "B", "load A ms",
                "load B ms", "align1 ms", "align ms", "diffSides ms", "same", "changed", "removed", "inserted",
                "peak MB");
    measureInChild(argv[0], dir, "seeds");
    measureInChild(argv[0], dir, "fork");
    std::printf("\nalign: the first call and the best of five; diffSides: load both sides, align, read "
                "the first 50 changed pairs. Target: align under 200 ms.\n");
    return 0;
}
