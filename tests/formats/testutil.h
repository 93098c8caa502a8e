// Helpers shared by the test suites: deterministic content, a small but complete sample
// tape, step comparison, and raw SQLite access for damaging files on purpose.
//
// Everything here is deterministic: the same arguments give the same bytes on every run
// and every machine, which is what lets the crash test check a step against "what the
// generator would have written". Qt-free, so the fuzz targets can use it too.
#pragma once

#include "tapedeck/formats/tape.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::testutil {

// 2026-01-01 00:00:00 UTC: the start of every test run.
inline constexpr int64_t kT0 = 1767225600000000;

// A small, fast, seedable generator (SplitMix64), so tests need no <random> state.
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    // Uniform in [lo, hi].
    int64_t between(int64_t lo, int64_t hi);

private:
    uint64_t m_state;
};

// `words` words of English-looking text drawn from a vocabulary: compresses like real
// prose (about 3:1), so deduplication, not compression, has to explain big savings.
std::string prose(uint64_t seed, size_t words);
// `n` bytes of noise, including bytes that are not valid UTF-8.
std::string noise(uint64_t seed, size_t n);

// A run, its original branch and a main thread.
struct Scaffold {
    formats::RunId run;
    formats::BranchId branch;
    formats::ThreadId thread;
};
formats::Result<Scaffold> beginScaffold(formats::TapeWriter &writer,
                                        const std::string &runName = "test run");

// The k-th step of a deterministic series: k % 3 picks a model call (with a conversation
// that grows with k, exact wire bytes and stream chunks), a tool call or a tool result.
// The callId is "gen-<series>-<k>", so a step read back says what it should contain.
formats::Step generatedStep(uint64_t series, int64_t k, formats::ThreadId thread);
// Parses "gen-<series>-<k>"; false when the call id is not one generatedStep() made.
bool parseGeneratedCallId(const std::string &callId, uint64_t &series, int64_t &k);

// The first field in which `actual` differs from `expected`, as "field: expected X, got Y";
// empty when every field the writer keeps matches. Fields the writer assigns (index, seq,
// run, branch) are compared only when `expected` has them set.
std::string stepDifference(const formats::Step &expected, const formats::Step &actual);
// The first difference between the steps and the tape at `path`, which should hold them
// and no more; empty when there is none.
std::string tapeDifference(const std::string &path, const std::vector<formats::Step> &expected);

// What writeSampleTape() put where, so tests can point at a step of a known shape.
struct SampleTape {
    formats::RunId run;
    formats::BranchId mainBranch;
    formats::BranchId forkedBranch;
    formats::ThreadId mainThread;
    formats::ThreadId subThread;    // a sub-agent of the main thread
    formats::ThreadId forkThread;   // the main thread's continuation on the forked branch
    formats::StepIndex firstModelCall;
    formats::StepIndex streamedModelCall; // wire exchange with chunks, binary response
    formats::StepIndex bigToolResult;     // a large, compressible tool output (zstd blob)
    formats::StepIndex smallToolResult;   // a tool output below the compression threshold
    formats::StepIndex httpExchange;      // an incompressible (stored) response body
    formats::StepIndex errorStep;
    formats::StepIndex forkStep;          // where the forked branch continues from
    formats::StepIndex lastStep;
    std::vector<formats::Step> written;   // every step as appended, index and seq filled in
    std::string uniqueWord;               // a word that occurs in bigToolResult only
};
// Writes a tape with one run of every step kind: two threads on the recorded branch (the
// second a sub-agent), a forked branch that continues after `forkStep` with a thread of
// its own, streamed wire exchanges with non-UTF-8 bytes, tokens, costs and an error step.
formats::Result<SampleTape> writeSampleTape(const std::string &path);

// Raw SQLite access, to damage tapes in ways the library would never write.
// Runs `sql` on the file; returns the error message, empty on success.
std::string sqlExec(const std::string &path, const std::string &sql);
// The first column of the first row of `sql` as an integer; nullopt on error or no row.
std::optional<int64_t> sqlInt(const std::string &path, const std::string &sql);
// The first column of the first row as bytes (a BLOB or TEXT column).
std::optional<std::string> sqlBytes(const std::string &path, const std::string &sql);
// UPDATE blobs SET <column> = <value> WHERE id = <blob>, binding value as a BLOB.
std::string sqlSetBlobColumn(const std::string &path, int64_t blob, const std::string &column,
                             const std::string &value);

// For a forked child of a Qt Test process: puts back the default action of the signals a
// crash raises, so the child dies at once instead of running QtTest's crash handler (which
// attaches a debugger to print a stack trace: slow, and confusing in the parent's log).
void restoreCrashSignals();

std::string readFile(const std::string &path);
bool writeFile(const std::string &path, const std::string &bytes);

} // namespace tapedeck::testutil
