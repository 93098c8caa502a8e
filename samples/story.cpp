#include "story.h"

#include <algorithm>
#include <cmath>

namespace tapedeck::samples {

namespace {

// The published run: 1,158 tool calls, 432 kernel evaluations, two sub-agents.
constexpr double kToolCallsPerScale = 1158;
constexpr double kEvalsPerScale = 432;
constexpr int64_t kProfilerToolCalls = 12;
constexpr int64_t kTestWriterToolCalls = 14;

// The plan's own stream: a constant, so that the shape never depends on the content seed.
constexpr uint64_t kStorySeed = 0x5eed'35a7'7e47'10adULL;

// Compaction is planned against an estimate of what each message adds to the request body:
// the serialized size of the tool message plus the tool call's arguments, as measured on
// generated sessions. qwen-code compacts at a fraction of the window, here ~100k tokens.
constexpr double kCompactAtBytes = 400'000;
constexpr double kFreshContextBytes = 19'500;     // system prompt, tools, task
constexpr double kCompactedContextBytes = 23'000; // the same plus the state snapshot
constexpr double kAssistantBytes = 260;           // the text and envelope of an answer

double estimatedBytes(const PlannedTool &tool)
{
    switch (tool.action) {
    case Action::ListDir: return 280;
    case Action::ReadTask: return 1'750;
    case Action::ReadEvalScript: return 4'050;
    case Action::ReadReference: return 5'550;
    case Action::ReadKernel: return 8'600; // a mix of whole-file reads and windows
    case Action::Grep: return 930;
    case Action::Edit: return 600;
    case Action::FixEdit: return 450;
    case Action::Compile: return tool.outcome == Outcome::CompileError ? 2'900 : 1'700;
    case Action::Eval:
    case Action::SweepEval:
        return tool.outcome == Outcome::WrongResult    ? 900
               : tool.outcome == Outcome::CompileError ? 1'500
                                                       : 1'750;
    case Action::GitStatus: return 530;
    case Action::GitDiff: return 930;
    case Action::GitLog: return 1'150;
    case Action::GitCommit: return 650;
    case Action::GitRevert: return 390;
    case Action::Todo: return 1'350;
    case Action::Spawn: return 1'650;
    case Action::Profile: return 2'100;
    case Action::ProfileMetrics: return 1'600;
    case Action::ReadTests: return 1'150;
    case Action::WriteTest: return 2'600;
    case Action::EditTest: return 450;
    case Action::RunTests: return tool.outcome == Outcome::TestsFail ? 2'600 : 350;
    }
    return 1'000;
}

double estimatedBytes(const PlannedTurn &turn)
{
    double bytes = kAssistantBytes;
    for (int i = 0; i < turn.toolCount; ++i)
        bytes += estimatedBytes(turn.tools[i]);
    return bytes;
}

PlannedTurn single(Action action, Outcome outcome = Outcome::Ok)
{
    PlannedTurn turn;
    turn.toolCount = 1;
    turn.tools[0] = {action, outcome};
    return turn;
}

PlannedTurn pair(Action first, Action second)
{
    PlannedTurn turn;
    turn.toolCount = 2;
    turn.tools[0] = {first, Outcome::Ok};
    turn.tools[1] = {second, Outcome::Ok};
    return turn;
}

bool isEvaluation(Action action)
{
    return action == Action::Eval || action == Action::SweepEval;
}

struct Cost {
    int64_t work = 0;
    int64_t evals = 0;
};

Cost costOf(const std::vector<PlannedTurn> &turns)
{
    Cost cost;
    for (const PlannedTurn &turn : turns)
        for (int i = 0; i < turn.toolCount; ++i)
            ++(isEvaluation(turn.tools[i].action) ? cost.evals : cost.work);
    return cost;
}

std::vector<PlannedTurn> subagentTurns(SubagentKind kind, int64_t toolCalls)
{
    using A = Action;
    static constexpr PlannedTool kProfiler[] = {
        {A::ReadKernel}, {A::Profile}, {A::Profile}, {A::ProfileMetrics},
        {A::Grep}, {A::ProfileMetrics}, {A::Profile}, {A::ReadEvalScript},
        {A::ProfileMetrics}, {A::Profile}, {A::Grep}, {A::ProfileMetrics},
    };
    static constexpr PlannedTool kTestWriter[] = {
        {A::ReadTests}, {A::ReadKernel}, {A::WriteTest}, {A::RunTests, Outcome::TestsFail},
        {A::Grep}, {A::EditTest}, {A::RunTests, Outcome::TestsFail}, {A::ReadKernel},
        {A::EditTest}, {A::RunTests}, {A::WriteTest}, {A::RunTests},
        {A::GitStatus}, {A::RunTests},
    };
    const auto *tools = kind == SubagentKind::Profiler ? kProfiler : kTestWriter;
    std::vector<PlannedTurn> turns;
    for (int64_t i = 0; i < toolCalls; ++i)
        turns.push_back(single(tools[i].action, tools[i].outcome));
    turns.emplace_back(); // the report
    return turns;
}

} // namespace

Story::Story(double scale)
    : m_rng(kStorySeed)
{
    const int64_t toolCalls = std::max<int64_t>(12, std::llround(kToolCallsPerScale * scale));
    m_evalsTotal = std::max<int64_t>(3, std::llround(kEvalsPerScale * scale));
    m_spawnsTotal = std::max<int64_t>(2, std::llround(2 * scale));
    // Below scale 1 the sub-agents shrink with the run; above it there are more of them.
    const double shrink = std::min(1.0, scale);
    m_subagentSizes[0] = std::clamp<int64_t>(std::llround(kProfilerToolCalls * shrink), 2,
                                             kProfilerToolCalls);
    m_subagentSizes[1] = std::clamp<int64_t>(std::llround(kTestWriterToolCalls * shrink), 2,
                                             kTestWriterToolCalls);
    const int64_t profilers = (m_spawnsTotal + 1) / 2;
    const int64_t testWriters = m_spawnsTotal / 2;
    const int64_t mainCalls = toolCalls - profilers * m_subagentSizes[0] -
                              testWriters * m_subagentSizes[1];
    m_evalsLeft = m_evalsTotal;
    m_workLeft = mainCalls - m_spawnsTotal - m_evalsTotal;
    m_workPerEval = double(m_workLeft) / double(m_evalsTotal);
    m_contextEstimate = kFreshContextBytes;
}

int64_t Story::stepsOf(const PlannedTurn &turn)
{
    int64_t steps = (turn.compactBefore ? 1 : 0) + 1 + 2 * int64_t(turn.toolCount);
    if (turn.subagent)
        for (const PlannedTurn &sub : turn.subagent->turns)
            steps += stepsOf(sub);
    return steps;
}

std::optional<PlannedTurn> Story::next()
{
    if (m_queue.empty())
        refill();
    if (m_queue.empty())
        return std::nullopt;
    PlannedTurn turn = std::move(m_queue.front());
    m_queue.pop_front();
    if (m_contextEstimate > kCompactAtBytes) {
        turn.compactBefore = true;
        m_contextEstimate = kCompactedContextBytes;
    }
    m_contextEstimate += estimatedBytes(turn);
    return turn;
}

double Story::progress() const
{
    return double(m_evalsUsed) / double(m_evalsTotal);
}

void Story::enqueue(Turns turns)
{
    const Cost cost = costOf(turns);
    m_workLeft -= cost.work;
    m_workUsed += cost.work;
    m_evalsLeft -= cost.evals;
    m_evalsUsed += cost.evals;
    for (PlannedTurn &turn : turns)
        m_queue.push_back(std::move(turn));
}

void Story::refill()
{
    if (m_finished)
        return;
    if (!m_started) {
        m_started = true;
        orientation();
        return;
    }
    // Sub-agents are spawned at fixed points of the run (the first early, to profile).
    if (m_spawnsDone < m_spawnsTotal) {
        const int64_t due = int64_t(std::ceil(double(m_evalsTotal) *
                                              (double(m_spawnsDone) + 0.3) / double(m_spawnsTotal)));
        if (m_evalsUsed >= due || (m_evalsLeft == 0 && m_workLeft == 0)) {
            m_queue.push_back(spawnTurn());
            return;
        }
    }
    if (m_evalsLeft == 0 && m_workLeft == 0) {
        m_queue.emplace_back(); // the final answer
        m_finished = true;
        return;
    }
    if (m_evalsLeft == 0) {
        wrapUp();
        return;
    }
    if (m_workLeft == 0) {
        Turns sweep;
        sweep.push_back(single(Action::SweepEval, evalOutcome()));
        enqueue(std::move(sweep));
        return;
    }
    for (int attempt = 0; attempt < 8; ++attempt)
        if (tryEpisode(chooseEpisode()))
            return;
    // Nothing drawn fits what is left: the smallest episode always does.
    Turns minimal;
    minimal.push_back(single(Action::Edit));
    minimal.push_back(single(Action::Eval, evalOutcome()));
    enqueue(std::move(minimal));
}

void Story::orientation()
{
    // Look around, read the task and the code, run the evaluation once for a baseline. At
    // small scales the budget cuts the list short.
    Turns turns;
    Turns wanted;
    wanted.push_back(single(Action::ListDir));
    wanted.push_back(pair(Action::ReadTask, Action::ReadEvalScript));
    wanted.push_back(pair(Action::ReadKernel, Action::ReadReference));
    wanted.push_back(single(Action::GitStatus));
    wanted.push_back(single(Action::Todo));
    int64_t budget = std::min<int64_t>(m_workLeft, std::max<int64_t>(2, m_workLeft / 6));
    for (PlannedTurn &turn : wanted) {
        if (turn.toolCount > budget && budget > 0) {
            turn.toolCount = 1; // keep the first call of a pair
        }
        if (turn.toolCount > budget)
            break;
        budget -= turn.toolCount;
        turns.push_back(std::move(turn));
    }
    turns.push_back(single(Action::Eval, Outcome::Plateau)); // the baseline measurement
    enqueue(std::move(turns));
}

void Story::wrapUp()
{
    // Evaluations are spent: review the history and tidy up with what is left.
    static constexpr Action kClosing[] = {Action::GitLog, Action::GitDiff, Action::ReadKernel,
                                          Action::GitStatus, Action::Todo, Action::Grep};
    Turns turns;
    if (m_workLeft >= 2 && m_rng.chance(0.4))
        turns.push_back(pair(Action::GitStatus, Action::GitDiff));
    else
        turns.push_back(single(m_rng.pick(kClosing)));
    enqueue(std::move(turns));
}

PlannedTurn Story::spawnTurn()
{
    auto subagent = std::make_shared<PlannedSubagent>();
    subagent->kind = m_spawnsDone % 2 == 0 ? SubagentKind::Profiler : SubagentKind::TestWriter;
    subagent->ordinal = int(m_spawnsDone / 2);
    subagent->turns = subagentTurns(subagent->kind, m_subagentSizes[m_spawnsDone % 2]);
    ++m_spawnsDone;
    PlannedTurn turn = single(Action::Spawn);
    turn.subagent = std::move(subagent);
    return turn;
}

Story::Episode Story::chooseEpisode()
{
    // Weights shift over the run: early on more compiling and reading, later more tuning
    // sweeps. Then they are steered: when the run has spent more work calls per evaluation
    // than the budget allows, episodes light on work are favoured, and the reverse.
    const double f = progress();
    struct Weighted {
        Episode episode;
        double weight;
        bool workHeavy;
    };
    Weighted table[] = {
        {Episode::Idea, 30, true},
        {Episode::IdeaCompiled, 26 - 10 * f, true},
        {Episode::Sweep, 10 + 12 * f, false},
        {Episode::Review, 7, true},
        {Episode::CompileLoop, 0.9, true},
        {Episode::WrongLoop, 0.9, false},
        {Episode::RegressLoop, 0.7, false},
    };
    const double debt = double(m_workUsed) - m_workPerEval * double(m_evalsUsed);
    double total = 0;
    for (Weighted &w : table) {
        if (debt > 2)
            w.weight *= w.workHeavy ? 0.35 : 3.0;
        else if (debt < -2)
            w.weight *= w.workHeavy ? 3.0 : 0.35;
        total += w.weight;
    }
    double x = m_rng.real(0, total);
    for (const Weighted &w : table) {
        if (x < w.weight)
            return w.episode;
        x -= w.weight;
    }
    return Episode::Idea;
}

Outcome Story::evalOutcome()
{
    // New bests get rarer as the easy wins are used up.
    const double f = progress();
    const double x = m_rng.unit();
    const double newBest = 0.30 - 0.17 * f;
    if (x < newBest)
        return Outcome::NewBest;
    if (x < newBest + 0.07)
        return Outcome::WrongResult;
    if (x < newBest + 0.07 + 0.34)
        return Outcome::Regression;
    return Outcome::Plateau;
}

void Story::postEval(Turns &turns, Outcome outcome)
{
    if (outcome == Outcome::NewBest && m_rng.chance(0.7))
        turns.push_back(single(Action::GitCommit));
    else if (outcome == Outcome::Regression && m_rng.chance(0.6))
        turns.push_back(single(Action::GitRevert));
    else if (outcome == Outcome::WrongResult) {
        if (m_rng.chance(0.5)) {
            turns.push_back(single(Action::FixEdit));
            Outcome second = evalOutcome();
            if (second == Outcome::WrongResult)
                second = Outcome::Plateau;
            turns.push_back(single(Action::Eval, second));
            if (second == Outcome::NewBest && m_rng.chance(0.7))
                turns.push_back(single(Action::GitCommit));
        } else {
            turns.push_back(single(Action::GitRevert));
        }
    }
}

bool Story::tryEpisode(Episode episode)
{
    Turns turns = build(episode);
    const Cost cost = costOf(turns);
    if (cost.work > m_workLeft || cost.evals > m_evalsLeft)
        return false;
    enqueue(std::move(turns));
    return true;
}

Story::Turns Story::build(Episode episode)
{
    Turns turns;
    switch (episode) {
    case Episode::Idea:
    case Episode::IdeaCompiled: {
        if (episode == Episode::Idea && m_rng.chance(0.3)) {
            if (m_rng.chance(0.4))
                turns.push_back(pair(Action::ReadKernel, Action::Grep));
            else
                turns.push_back(single(m_rng.chance(0.6) ? Action::ReadKernel : Action::Grep));
        }
        turns.push_back(single(Action::Edit));
        if (m_rng.chance(0.25))
            turns.push_back(single(Action::Edit));
        if (episode == Episode::IdeaCompiled) {
            if (m_rng.chance(0.35)) {
                const int failures = m_rng.chance(0.2) ? 2 : 1;
                for (int i = 0; i < failures; ++i) {
                    turns.push_back(single(Action::Compile, Outcome::CompileError));
                    turns.push_back(single(Action::FixEdit));
                }
            }
            turns.push_back(single(Action::Compile));
        }
        const Outcome outcome = evalOutcome();
        turns.push_back(single(Action::Eval, outcome));
        postEval(turns, outcome);
        break;
    }
    case Episode::Sweep: {
        const int64_t runs = m_rng.between(2, 5);
        bool improved = false;
        for (int64_t i = 0; i < runs; ++i) {
            const double x = m_rng.unit();
            const Outcome outcome = x < 0.2    ? Outcome::NewBest
                                    : x < 0.25 ? Outcome::CompileError // too much shared memory
                                    : x < 0.6  ? Outcome::Regression
                                               : Outcome::Plateau;
            improved = improved || outcome == Outcome::NewBest;
            turns.push_back(single(Action::SweepEval, outcome));
        }
        if (improved && m_rng.chance(0.5)) {
            turns.push_back(single(Action::Edit)); // make the best configuration the default
            turns.push_back(single(Action::GitCommit));
        }
        break;
    }
    case Episode::Review: {
        const double x = m_rng.unit();
        if (x < 0.3)
            turns.push_back(pair(Action::GitStatus, Action::GitDiff));
        else if (x < 0.5)
            turns.push_back(single(Action::GitLog));
        else if (x < 0.7)
            turns.push_back(single(Action::Todo));
        else if (x < 0.85)
            turns.push_back(single(Action::ReadKernel));
        else
            turns.push_back(single(Action::GitDiff));
        break;
    }
    case Episode::CompileLoop:
    case Episode::WrongLoop:
    case Episode::RegressLoop: {
        // The same failing idea, 3 to 8 times, then the agent gives up and reverts.
        const int attempts = int(m_rng.between(3, 8));
        for (int attempt = 1; attempt <= attempts; ++attempt) {
            PlannedTurn change = single(attempt == 1 || episode == Episode::RegressLoop
                                            ? Action::Edit
                                            : Action::FixEdit);
            PlannedTurn check = episode == Episode::CompileLoop
                                    ? single(Action::Compile, Outcome::CompileError)
                                : episode == Episode::WrongLoop
                                    ? single(Action::Eval, Outcome::WrongResult)
                                    : single(Action::Eval, Outcome::Regression);
            if (attempt >= 2)
                change.loopAttempt = check.loopAttempt = attempt;
            change.loopStart = attempt == 1;
            turns.push_back(std::move(change));
            turns.push_back(std::move(check));
        }
        PlannedTurn revert = single(Action::GitRevert);
        revert.loopRecovery = true;
        turns.push_back(std::move(revert));
        break;
    }
    }
    return turns;
}

} // namespace tapedeck::samples
