// What the agent says before its tool calls, by situation. Slots the narrator fills:
// {idea} {plan} {rationale} {hint} {geo} {best} {prev} {pct} {shape} {worst} {error}
// {attempt} {config} {change} {n}.
#include "corpus.h"

namespace tapedeck::samples::corpus {

namespace {

constexpr std::string_view kOrientation[] = {
    "Let me start by looking at the workspace layout and the task description.",
    "I'll read the task, the current kernel and the evaluation script before changing anything.",
    "First I need to understand the kernel and how it is judged. Reading the relevant files.",
    "Reading the current implementation and the Triton reference side by side.",
};
constexpr std::string_view kOrientationStatus[] = {
    "Checking the state of the repository before the first change.",
    "Let me make sure the tree is clean so every measurement maps to a commit.",
};
constexpr std::string_view kAfterBaseline[] = {
    "Baseline: {geo}x over Triton, so the straight port is roughly at parity. The long-prefix workloads are the slowest in absolute terms; that is where the time goes.",
    "The port measures {geo}x. Per-workload numbers are close to 1x everywhere, which means nothing structural has been exploited yet.",
    "{geo}x at the start. The kernel does one scalar load per element and expf per score; both are obvious first targets.",
};
constexpr std::string_view kBeforeIdea[] = {
    "Next: {idea}, because {rationale}. I'll {plan}.",
    "The current profile suggests {rationale}. Trying {idea}: {plan}.",
    "Best is {best}x. The next candidate is {idea} - {rationale}.",
    "Let me try {idea}. Plan: {plan}.",
    "Moving on to {idea}, since {rationale}.",
    "I think the remaining gap on {shape} comes from this: {rationale}. So: {plan}.",
};
constexpr std::string_view kBeforeSecondEdit[] = {
    "That change also needs the matching update below.",
    "The call sites have to follow; updating them too.",
    "One more edit for the same change.",
    "Updating the second place that uses the old layout.",
};
constexpr std::string_view kBeforeTweak[] = {
    "Trying {change}.",
    "Small tweak: {change}.",
    "Let me check whether {change} helps.",
    "Adjusting the configuration: {change}.",
    "{change} - the current value may be leaving performance on the table.",
};
constexpr std::string_view kBakeSweep[] = {
    "Making the best sweep point the default in the source: {change}.",
    "Baking the winning configuration into the kernel: {change}.",
    "The sweep's best point becomes the default ({change}).",
};
constexpr std::string_view kBeforeEval[] = {
    "Running the evaluation.",
    "Let's measure.",
    "Checking correctness and timings.",
    "Evaluating this version.",
};
constexpr std::string_view kBeforeCompile[] = {
    "Building to check that it compiles before running the full evaluation.",
    "Let me compile first; the evaluation takes minutes.",
    "Rebuilding the extension.",
    "Compile check.",
};
constexpr std::string_view kAfterCompileOk[] = {
    "It builds. Running the evaluation.",
    "Clean build. Now correctness and timings.",
    "Compiled without errors; evaluating.",
    "Build is fine. Let's see the numbers.",
};
constexpr std::string_view kAfterCompileError[] = {
    "The build failed: {error}. Fixing that.",
    "Compile error: {error}. Easy fix.",
    "nvcc rejects it - {error}. Correcting.",
    "Build broke because {error}. Let me fix it and rebuild.",
};
constexpr std::string_view kLoopRepeatCompile[] = {
    "Still the same error: {error}. Let me try writing it differently.",
    "Same failure again (attempt {attempt}). Maybe the problem is the declaration order; adjusting.",
    "It still fails with {error}. Trying another variant of the same fix.",
    "Again {error}. I'll restructure the expression once more.",
};
constexpr std::string_view kLoopRepeatWrong[] = {
    "Still wrong on {worst}. I suspect {hint}; adjusting that part again.",
    "Correctness still fails (attempt {attempt}). Another look at the indexing: {hint}?",
    "The mismatch persists with nearly the same error. Trying a different fix for {hint}.",
    "Same workloads fail. Let me change the boundary handling once more.",
};
constexpr std::string_view kLoopRepeatRegress[] = {
    "Still slower than {best}x ({geo}x). Adjusting the {idea} variant once more.",
    "{geo}x - no better. Maybe the parameters are off; one more variant of {idea}.",
    "That is a regression again. Trying {idea} with a different configuration.",
    "Not there yet: {geo}x vs {best}x. Tweaking {idea} again.",
};
constexpr std::string_view kLoopGiveUp[] = {
    "I've tried this {attempt} times with the same result. Stepping back: reverting to the last good commit and trying a different approach.",
    "This is going nowhere ({attempt} attempts). Reverting to the committed state; I'll note it in NOTES.md and move on.",
    "Enough iterations on this one. Restoring the last good version.",
    "Abandoning {idea} for now after {attempt} tries; reverting the file.",
};
constexpr std::string_view kAfterSharedMemory[] = {
    "That point does not fit: ptxas rejects it for using too much shared memory. Skipping it.",
    "Too much shared memory for that tile shape; the build fails at ptxas. Moving on.",
    "ptxas: too much shared data for that configuration. Not a candidate.",
};
constexpr std::string_view kAfterNewBest[] = {
    "New best: {geo}x (previous {prev}x, +{pct}%). {shape} improved the most.",
    "{geo}x - a new best, up from {prev}x.",
    "That worked: {geo}x overall. The gain is concentrated on {shape}.",
    "Improvement to {geo}x ({prev}x before). Correctness still passes.",
};
constexpr std::string_view kAfterRegression[] = {
    "Regression: {geo}x against the best {best}x ({pct}%). {shape} got slower.",
    "{geo}x, worse than {best}x. This direction does not pay off.",
    "Slower ({geo}x vs {best}x). Probably the extra register pressure lowers occupancy.",
    "That costs {pct}%: {geo}x. Not keeping it.",
};
constexpr std::string_view kAfterRegressionKeep[] = {
    "Regression: {geo}x against the best {best}x ({pct}%). {shape} got slower. Let me adjust on top of this before giving up on it.",
    "Slower ({geo}x vs {best}x), but the change should help once the configuration matches it.",
    "{geo}x, {pct}% below the best. Keeping the change for now and retuning around it.",
};
constexpr std::string_view kAfterPlateau[] = {
    "{geo}x, within noise of the best ({best}x). No real effect.",
    "Flat: {geo}x vs {best}x.",
    "{geo}x - essentially unchanged. The bottleneck must be elsewhere.",
    "No measurable change ({geo}x).",
};
constexpr std::string_view kAfterWrongResult[] = {
    "Correctness check failed on {worst}. Likely {hint}.",
    "Wrong results: the mismatch pattern points at {hint}.",
    "The check fails, so no timings. My guess: {hint}.",
};
constexpr std::string_view kBeforeSweep[] = {
    "Let me sweep the tile configuration around the current best: starting with {config}.",
    "Time to tune: trying {config}.",
    "Parameter sweep on the current kernel. First point: {config}.",
};
constexpr std::string_view kSweepNext[] = {
    "{geo}x. Next point: {config}.",
    "Got {geo}x there; now {config}.",
    "{geo}x with that one. Trying {config}.",
};
constexpr std::string_view kSweepContinue[] = {
    "Next point: {config}.",
    "Next: {config}.",
    "Trying {config}.",
    "Now {config}.",
};
constexpr std::string_view kBeforeCommit[] = {
    "Committing this as the new best.",
    "Recording {geo}x in git before trying anything else.",
    "Commit, then continue.",
};
constexpr std::string_view kBeforeRevert[] = {
    "Reverting the kernel to the last commit.",
    "Restoring the committed version.",
    "Undoing the change.",
};
constexpr std::string_view kReviewCode[] = {
    "Re-reading the kernel to see what is left to optimise.",
    "Let me look at the current code before the next change.",
    "Checking how {idea} fits with the rest of the kernel.",
    "Looking for the places that still use the old indexing.",
};
constexpr std::string_view kReviewGit[] = {
    "Let me review where things stand.",
    "Checking the diff against the last good commit.",
    "Looking at the history of what has worked so far.",
    "Checking the tree before going on.",
};
constexpr std::string_view kBeforeTodo[] = {
    "Updating the plan.",
    "Let me update the todo list with what I've learned.",
    "Refreshing the task list.",
    "Let me capture a plan before the first measurement.",
};
constexpr std::string_view kBeforeSpawnProfiler[] = {
    "Before going further I want hard data on where the time goes. Delegating a profiling pass to the profiler subagent.",
    "I'm guessing at bottlenecks. Let me get a proper profile from the profiler subagent.",
};
constexpr std::string_view kBeforeSpawnTests[] = {
    "The recent changes touch boundary handling in several places; the workloads don't cover ragged sizes. Asking the test-writer subagent for edge-case tests.",
    "I want better correctness coverage before more risky changes. Delegating edge-case tests to the test-writer subagent.",
};
constexpr std::string_view kAfterSubagent[] = {
    "The subagent's findings are useful. Acting on the biggest one first.",
    "Good report. That changes the priorities: {idea} moves up.",
    "Noted in NOTES.md. Continuing with {idea}.",
};
constexpr std::string_view kWrapUp[] = {
    "Evaluation budget is nearly used up. Reviewing the final state.",
    "Wrapping up: checking the history and the tree.",
    "Final checks before stopping.",
};
constexpr std::string_view kProfilerRead[] = {
    "Reading the kernel to map the profiler's source lines.",
    "Let me see the current kernel before profiling it.",
};
constexpr std::string_view kProfilerRun[] = {
    "Profiling the next workload.",
    "Collecting the same metrics on the long-prefix workload.",
    "Now the GQA-heavy workload.",
    "One more pass to confirm the numbers.",
};
constexpr std::string_view kProfilerSource[] = {
    "Let me look at where the stalls are attributed.",
    "Source-level attribution next.",
    "Which lines do the long-scoreboard stalls come from?",
};
constexpr std::string_view kProfilerSearch[] = {
    "Finding the lines the profiler points at.",
    "Checking how the evaluation script drives the kernel for this workload.",
};
constexpr std::string_view kTestsRead[] = {
    "Looking at the existing tests first.",
    "Reading the current correctness tests and their tolerances.",
};
constexpr std::string_view kTestsWrite[] = {
    "Writing the edge-case tests.",
    "Creating tests/test_extend_edge_cases.py with the cases the workloads miss.",
};
constexpr std::string_view kTestsWriteMore[] = {
    "Adding a few more cases around the split boundaries.",
    "Extending the file with mixed batches and split-boundary prefixes.",
};
constexpr std::string_view kTestsRun[] = {
    "Running the new tests.",
    "Let me run the suite again.",
};
constexpr std::string_view kTestsEdit[] = {
    "Adjusting the test to isolate the failure.",
    "Tightening the failing test so it names the bad rows.",
};
constexpr std::string_view kTestsLook[] = {
    "Checking the kernel's boundary handling.",
    "Narrowing down the failing case.",
    "Checking what changed in the tree.",
};
constexpr std::string_view kAfterTestsFail[] = {
    "{n} tests fail, all with ragged extend lengths.",
    "{n} failures, on the non-multiple-of-BLOCK_M cases.",
};
constexpr std::string_view kAfterTestsPass[] = {
    "All tests pass now.",
    "Green.",
};

} // namespace

std::span<const std::string_view> phrases(Situation situation)
{
    switch (situation) {
    case Situation::Orientation: return kOrientation;
    case Situation::OrientationStatus: return kOrientationStatus;
    case Situation::AfterBaseline: return kAfterBaseline;
    case Situation::BeforeIdea: return kBeforeIdea;
    case Situation::BeforeSecondEdit: return kBeforeSecondEdit;
    case Situation::BeforeTweak: return kBeforeTweak;
    case Situation::BakeSweep: return kBakeSweep;
    case Situation::BeforeCompile: return kBeforeCompile;
    case Situation::BeforeEval: return kBeforeEval;
    case Situation::AfterCompileOk: return kAfterCompileOk;
    case Situation::AfterCompileError: return kAfterCompileError;
    case Situation::LoopRepeatCompile: return kLoopRepeatCompile;
    case Situation::LoopRepeatWrong: return kLoopRepeatWrong;
    case Situation::LoopRepeatRegress: return kLoopRepeatRegress;
    case Situation::LoopGiveUp: return kLoopGiveUp;
    case Situation::AfterSharedMemory: return kAfterSharedMemory;
    case Situation::AfterNewBest: return kAfterNewBest;
    case Situation::AfterRegression: return kAfterRegression;
    case Situation::AfterRegressionKeep: return kAfterRegressionKeep;
    case Situation::AfterPlateau: return kAfterPlateau;
    case Situation::AfterWrongResult: return kAfterWrongResult;
    case Situation::BeforeSweep: return kBeforeSweep;
    case Situation::SweepNext: return kSweepNext;
    case Situation::SweepContinue: return kSweepContinue;
    case Situation::BeforeCommit: return kBeforeCommit;
    case Situation::BeforeRevert: return kBeforeRevert;
    case Situation::ReviewCode: return kReviewCode;
    case Situation::ReviewGit: return kReviewGit;
    case Situation::BeforeTodo: return kBeforeTodo;
    case Situation::BeforeSpawnProfiler: return kBeforeSpawnProfiler;
    case Situation::BeforeSpawnTests: return kBeforeSpawnTests;
    case Situation::AfterSubagent: return kAfterSubagent;
    case Situation::WrapUp: return kWrapUp;
    case Situation::ProfilerRead: return kProfilerRead;
    case Situation::ProfilerRun: return kProfilerRun;
    case Situation::ProfilerSource: return kProfilerSource;
    case Situation::ProfilerSearch: return kProfilerSearch;
    case Situation::TestsRead: return kTestsRead;
    case Situation::TestsWrite: return kTestsWrite;
    case Situation::TestsWriteMore: return kTestsWriteMore;
    case Situation::TestsRun: return kTestsRun;
    case Situation::TestsEdit: return kTestsEdit;
    case Situation::TestsLook: return kTestsLook;
    case Situation::AfterTestsFail: return kAfterTestsFail;
    case Situation::AfterTestsPass: return kAfterTestsPass;
    }
    return kReviewGit;
}

} // namespace tapedeck::samples::corpus
