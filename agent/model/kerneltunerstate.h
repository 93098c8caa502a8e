// What the kernel-tuner policy knows about its work on samples/kernel-tuning, rebuilt from
// the conversation of each request: its own tool calls and the real outputs they got.
//
// The conversation is the only memory the policy trusts, so that it works behind any client
// and continues after the client compacts: its compaction summary ends with a state block
// (formatStateBlock) that replayConversation() reads back as the starting point, and the
// messages after the summary are applied on top of it.
#pragma once

#include <tapedeck/formats/wire.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::model {

// The commands and files the tuner works with, as it writes them in its tool calls.
inline constexpr std::string_view kBenchCommand = "make bench";
inline constexpr std::string_view kSaveBestCommand = "cp kernel.c best_kernel.c";
inline constexpr std::string_view kRestoreBestCommand = "cp best_kernel.c kernel.c";
inline constexpr std::string_view kKernelFile = "kernel.c";
inline constexpr std::string_view kTaskFile = "TASK.md";

// What one `make bench` printed.
struct BenchResult {
    enum class Kind {
        Speedup,     // "correct: yes" and "speedup: 3.41x"
        Wrong,       // "correct: no (...)"
        BuildFailed, // the compiler stopped the build
        Unreadable,  // none of those: the benchmark did not run as expected
    };
    Kind kind = Kind::Unreadable;
    double speedup = 0;
    std::string detail;        // the line that says what went wrong (the first compiler error)
};

// Reads the output of `make bench` (the bash tool's text, whatever it wraps it in).
BenchResult parseBenchOutput(std::string_view output);

// One kernel version the tuner has written, by config key.
struct Attempt {
    enum class Outcome {
        Pending,   // written, not yet measured clean
        Kept,      // measured faster than the best of its time, and saved
        Slower,    // measured no faster than the best; reverted
        Failed,    // never built or never right; reverted
    };
    Outcome outcome = Outcome::Pending;
    double speedup = 0;        // the last clean measurement
    int measurements = 0;
};
const char *outcomeName(Attempt::Outcome outcome); // "pending", "kept", "slower", "failed"

struct TunerState {
    bool listed = false;       // list_dir of the workspace done
    bool readTask = false;     // TASK.md read
    bool readKernel = false;   // kernel.c read at least once
    bool missingKernel = false; // reading kernel.c failed: not the kernel-tuning workspace
    int todoUpdates = 0;       // todo calls, the plan included
    bool finalTodo = false;    // a todo call with every item done
    int evaluations = 0;       // `make bench` runs
    int candidates = 0;        // distinct kernel versions written
    int retries = 0;           // versions written again after they were measured
    int compileErrors = 0;
    int wrongResults = 0;
    int regressions = 0;       // clean measurements no faster than the best
    std::optional<double> baseline; // the naive kernel's first measurement
    std::optional<int> budget; // "a budget of N benchmark evaluations", when a user message says so

    std::string bestKey;       // saved in best_kernel.c; empty until the first save
    double bestSpeedup = 0;

    // kernel.c as the tuner believes it is: unknown after a compaction until read again.
    std::optional<std::string> kernelSource;
    std::string kernelKey;     // the version kernel.c says it holds ("" when unknown)
    std::optional<BenchResult> kernelResult; // the benchmark of kernel.c as it is now

    // The last tool call applied. A client may keep the latest turn after the summary of a
    // compaction; its results are in the summary's state already and are not applied twice.
    std::string lastCallId;

    std::map<std::string, Attempt> attempts;
    std::vector<std::string> attemptOrder; // keys in the order first written

    bool opened() const { return listed && readTask && readKernel; }
    // kernel.c holds exactly the source its key renders (no slip in it).
    bool kernelClean() const;
};

// The state after the request's conversation: from the latest compaction summary that
// carries a state block (or from nothing), then each tool call of the tuner's that got a
// result, in order.
TunerState replayConversation(const formats::wire::Request &request);

// The machine-readable end of a compaction summary; parseStateBlock reads it back from any
// text that contains it (nullopt when there is none or it does not parse).
std::string formatStateBlock(const TunerState &state);
std::optional<TunerState> parseStateBlock(std::string_view text);

} // namespace tapedeck::model
