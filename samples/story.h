// The shape of a kernel session: which tool calls happen in which order, how each ends,
// where the agent loops, spawns sub-agents and compacts its context.
#pragma once

#include "random.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace tapedeck::samples {

// What a tool call does in the simulated workspace.
enum class Action : uint8_t {
    // the main agent
    ListDir, ReadTask, ReadEvalScript, ReadReference, ReadKernel, Grep, Edit, FixEdit, Compile,
    Eval, SweepEval, GitStatus, GitDiff, GitLog, GitCommit, GitRevert, Todo, Spawn,
    // the sub-agents
    Profile, ProfileMetrics, ReadTests, WriteTest, EditTest, RunTests,
};

// How a tool call ends. Part of the plan rather than of the content, because what the agent
// does next (commit, revert, fix, loop) depends on it.
enum class Outcome : uint8_t { Ok, CompileError, WrongResult, NewBest, Regression, Plateau, TestsFail };

enum class SubagentKind : uint8_t { Profiler, TestWriter };

struct PlannedTool {
    Action action = Action::ListDir;
    Outcome outcome = Outcome::Ok;
};

struct PlannedSubagent;

// One model call of a thread and the tool calls it issues (none for the thread's answer).
struct PlannedTurn {
    bool compactBefore = false; // a Compaction step comes before the model call
    int loopAttempt = 0;        // >= 2: the agent retries the idea that just failed, the same way
    bool loopStart = false;     // the first attempt of a loop (its loopAttempt is still 0)
    bool loopRecovery = false;  // the turn that gives up on a loop and reverts
    int toolCount = 0;          // 0 (the thread's final answer), 1, or 2 (parallel calls)
    PlannedTool tools[2];
    std::shared_ptr<const PlannedSubagent> subagent; // set when tools[0] is a Spawn
};

struct PlannedSubagent {
    SubagentKind kind = SubagentKind::Profiler;
    int ordinal = 0;                // among sub-agents of this kind, from 0
    std::vector<PlannedTurn> turns; // ends with the report (toolCount 0)
};

// The plan depends on the scale only, never on the content seed: that is what lets
// plannedKernelSessionSteps() answer without a seed, and every seed write exactly that many
// steps. The seed chooses every text, number and duration.
//
// Budgets are exact: at scale s there are round(1158 s) tool calls in all threads, of which
// round(432 s) evaluations; episodes (an idea tried, a parameter sweep, a loop, a review)
// are drawn at random but steered so that work calls and evaluations run out together.
//
// The main thread's turns are streamed one at a time, so a million-step plan is never held
// in memory; a Spawn turn carries its sub-agent's whole (short) plan.
class Story {
public:
    explicit Story(double scale);

    // The main thread's next turn; nullopt after its final answer.
    std::optional<PlannedTurn> next();

    int64_t evaluations() const { return m_evalsTotal; }

    // Steps a turn becomes (its compaction, model call, tool calls and results, and those of
    // a spawned sub-agent).
    static int64_t stepsOf(const PlannedTurn &turn);

private:
    enum class Episode { Idea, IdeaCompiled, Sweep, Review, CompileLoop, WrongLoop, RegressLoop };
    using Turns = std::vector<PlannedTurn>;

    void refill();
    void orientation();
    void wrapUp();
    bool tryEpisode(Episode episode);
    Turns build(Episode episode);
    Episode chooseEpisode();
    Outcome evalOutcome();
    void postEval(Turns &turns, Outcome outcome);
    PlannedTurn spawnTurn();
    void enqueue(Turns turns);
    double progress() const;

    Random m_rng;
    int64_t m_evalsTotal = 0;
    int64_t m_spawnsTotal = 0;
    int64_t m_subagentSizes[2] = {}; // tool calls of each profiler / test-writer sub-agent

    int64_t m_workLeft = 0;  // main-thread tool calls that are neither evaluations nor spawns
    int64_t m_evalsLeft = 0;
    int64_t m_spawnsDone = 0;
    double m_workPerEval = 0; // the ratio the episodes are steered towards
    int64_t m_workUsed = 0;
    int64_t m_evalsUsed = 0;

    bool m_started = false;
    bool m_finished = false;
    double m_contextEstimate = 0; // bytes the main thread's next request would send
    std::deque<PlannedTurn> m_queue;
};

} // namespace tapedeck::samples
