#include "narrator.h"

#include "corpus/corpus.h"
#include "textutil.h"

#include <vector>

namespace tapedeck::samples {

namespace {

using corpus::Situation;

bool isOrientationRead(Action a)
{
    return a == Action::ListDir || a == Action::ReadTask || a == Action::ReadEvalScript ||
           a == Action::ReadReference;
}

bool isGitReview(Action a)
{
    return a == Action::GitStatus || a == Action::GitDiff || a == Action::GitLog;
}

// What a sub-agent says before a call: one pool per kind of call.
Situation subagentSituation(Role role, const ToolRun &call)
{
    if (role == Role::Profiler) {
        switch (call.action) {
        case Action::ReadKernel: return Situation::ProfilerRead;
        case Action::Profile: return Situation::ProfilerRun;
        case Action::ProfileMetrics: return Situation::ProfilerSource;
        default: return Situation::ProfilerSearch;
        }
    }
    switch (call.action) {
    case Action::ReadTests: return Situation::TestsRead;
    case Action::WriteTest:
        return call.output.starts_with("Successfully overwrote") ? Situation::TestsWriteMore : Situation::TestsWrite;
    case Action::RunTests: return Situation::TestsRun;
    case Action::EditTest: return Situation::TestsEdit;
    default: return Situation::TestsLook;
    }
}

// The slot values of a scene, owned here so that the Slot views stay valid.
struct SceneSlots {
    static constexpr std::string_view kNames[] = {"idea", "plan", "rationale", "hint", "geo",
                                                  "best", "prev", "pct", "shape", "worst",
                                                  "error", "attempt", "config", "change", "n"};
    std::string values[std::size(kNames)];
    Slot slots[std::size(kNames)];

    SceneSlots(const Scene &scene, const Workspace &workspace)
    {
        const ToolRun *prev = scene.previous;
        const ToolRun *now = scene.calls.empty() ? nullptr : &scene.calls.front();
        const corpus::Idea *idea = now && now->idea ? now->idea : prev ? prev->idea : nullptr;
        const Measurement *m = prev && prev->measured ? &prev->measurement : nullptr;
        const double best = workspace.benchmark().best();
        values[0] = idea ? std::string(idea->name) : "the current variant";
        values[1] = idea ? std::string(idea->plan) : "adjust the tiling";
        values[2] = idea ? std::string(idea->rationale) : "the long-prefix workloads are still gather-bound";
        values[3] = idea ? std::string(idea->wrongHint) : "an indexing error at the tile boundary";
        values[4] = fixed(m ? m->geomean : best, 2);
        values[5] = fixed(best, 2);
        values[6] = fixed(prev ? prev->previousBest : best, 2);
        const double pct = m && prev->previousBest > 0 ? (m->geomean / prev->previousBest - 1) * 100 : 0;
        values[7] = fixed(pct < 0 ? -pct : pct, 1);
        const bool slower = m && m->geomean < prev->previousBest;
        values[8] = Benchmark::describe(m ? (slower ? m->slowest : m->fastest) : 9);
        values[9] = prev && prev->failed && !prev->change.empty() ? prev->change : Benchmark::describe(3);
        values[10] = prev && prev->error ? std::string(prev->error->summary) : "a type mismatch";
        values[11] = std::to_string(std::max(scene.turn->loopAttempt, scene.previousLoopAttempt));
        values[12] = now && !now->config.empty() ? now->config : prev ? prev->config : "";
        values[13] = now && !now->change.empty() ? now->change : "BLOCK_N";
        values[14] = std::to_string(prev ? prev->failingTests : 0);
        for (size_t i = 0; i < std::size(kNames); ++i)
            slots[i] = {kNames[i], values[i]};
    }
};

} // namespace

Narrator::Narrator(Random rng, const Workspace &workspace)
    : m_rng(rng)
    , m_workspace(workspace)
{
}

void Narrator::phrase(std::string &out, Situation situation, std::span<const Slot> slots)
{
    if (!out.empty())
        out.push_back(' ');
    appendFilled(out, m_rng.pick(corpus::phrases(situation)), slots);
}

std::string Narrator::say(const Scene &scene)
{
    const SceneSlots slots(scene, m_workspace);
    std::string out;
    react(out, scene, slots.slots);
    if (scene.previous && scene.previous->measured && m_rng.chance(0.3))
        remark(out, scene.previous->measurement);
    intend(out, scene, slots.slots);
    return out;
}

void Narrator::react(std::string &out, const Scene &scene, std::span<const Slot> slots)
{
    const ToolRun *prev = scene.previous;
    const PlannedTurn &turn = *scene.turn;
    if (!prev)
        return;
    if (turn.loopRecovery) {
        phrase(out, Situation::LoopGiveUp, slots);
        return;
    }
    if (turn.loopAttempt >= 2 && !scene.calls.empty() &&
        (scene.calls[0].action == Action::Edit || scene.calls[0].action == Action::FixEdit)) {
        phrase(out,
               prev->compileError ? Situation::LoopRepeatCompile
               : prev->measured   ? Situation::LoopRepeatRegress
                                  : Situation::LoopRepeatWrong,
               slots);
        return;
    }
    if (prev->measured) {
        const Measurement &m = prev->measurement;
        if (prev->previousBest == 0)
            phrase(out, Situation::AfterBaseline, slots);
        else if (m.geomean > prev->previousBest)
            phrase(out, Situation::AfterNewBest, slots);
        else if (m.geomean < 0.965 * prev->previousBest)
            phrase(out,
                   scene.calls.empty() || scene.calls[0].action == Action::GitRevert ||
                           scene.calls[0].action == Action::SweepEval
                       ? Situation::AfterRegression
                       : Situation::AfterRegressionKeep,
                   slots);
        else if (!(scene.calls.size() && scene.calls[0].action == Action::SweepEval))
            phrase(out, Situation::AfterPlateau, slots);
        return;
    }
    if (prev->compileError) {
        phrase(out, prev->error ? Situation::AfterCompileError : Situation::AfterSharedMemory, slots);
        return;
    }
    switch (prev->action) {
    case Action::Eval:
    case Action::SweepEval:
        if (prev->failed)
            phrase(out, Situation::AfterWrongResult, slots);
        break;
    case Action::Compile:
        if (!scene.calls.empty() && scene.calls[0].action == Action::Eval)
            phrase(out, Situation::AfterCompileOk, slots);
        break;
    case Action::Spawn:
        phrase(out, Situation::AfterSubagent, slots);
        break;
    case Action::RunTests:
        phrase(out, prev->failed ? Situation::AfterTestsFail : Situation::AfterTestsPass, slots);
        break;
    default:
        break;
    }
}

void Narrator::intend(std::string &out, const Scene &scene, std::span<const Slot> slots)
{
    if (scene.calls.empty())
        return;
    const ToolRun &now = scene.calls.front();
    const ToolRun *prev = scene.previous;
    const bool reacted = !out.empty();
    if (scene.role != Role::Main) {
        phrase(out, subagentSituation(scene.role, now), slots);
        return;
    }
    if (scene.turn->loopRecovery || (scene.turn->loopAttempt >= 2 && reacted))
        return;
    if (scene.progress == 0 && now.action != Action::Eval && now.action != Action::Todo) {
        // Before the first measurement everything is orientation.
        phrase(out, now.action == Action::GitStatus ? Situation::OrientationStatus : Situation::Orientation, slots);
        return;
    }
    switch (now.action) {
    case Action::Edit:
        if (now.fromSweep)
            phrase(out, Situation::BakeSweep, slots);
        else if (prev && prev->action == Action::Edit)
            phrase(out, Situation::BeforeSecondEdit, slots);
        else if (now.change == (now.idea ? now.idea->name : std::string_view()))
            phrase(out, Situation::BeforeIdea, slots);
        else
            phrase(out, Situation::BeforeTweak, slots);
        break;
    case Action::Compile:
        if (!reacted)
            phrase(out, Situation::BeforeCompile, slots);
        break;
    case Action::Eval:
        if (!reacted)
            phrase(out, Situation::BeforeEval, slots);
        break;
    case Action::SweepEval:
        phrase(out,
               !prev || prev->action != Action::SweepEval ? Situation::BeforeSweep
               : reacted                                  ? Situation::SweepContinue
                                                          : Situation::SweepNext,
               slots);
        break;
    case Action::FixEdit:
        break; // the reaction to the failure already says what is being fixed
    case Action::GitCommit: phrase(out, Situation::BeforeCommit, slots); break;
    case Action::GitRevert: phrase(out, Situation::BeforeRevert, slots); break;
    case Action::Todo: phrase(out, Situation::BeforeTodo, slots); break;
    case Action::Spawn:
        phrase(out, now.arguments.value("subagent_type", "") == "profiler" ? Situation::BeforeSpawnProfiler
                                                                            : Situation::BeforeSpawnTests,
               slots);
        break;
    default:
        if (isOrientationRead(now.action) || !prev)
            phrase(out, Situation::Orientation, slots);
        else if (scene.progress >= 1)
            phrase(out, Situation::WrapUp, slots);
        else
            phrase(out, isGitReview(now.action) ? Situation::ReviewGit : Situation::ReviewCode, slots);
        break;
    }
}

void Narrator::remark(std::string &out, const Measurement &m)
{
    out.append(out.empty() ? "Per workload: " : " Per workload: ");
    out.append(Benchmark::describe(m.fastest));
    out.append(" is at ");
    appendFixed(out, m.speedup[m.fastest], 2);
    out.append("x, ");
    out.append(Benchmark::describe(m.slowest));
    out.append(" only ");
    appendFixed(out, m.speedup[m.slowest], 2);
    out.append(m_rng.chance(0.5) ? "x, so the gap is in the small launches."
                                 : "x; that one limits the geomean most.");
}

void Narrator::appendIdeaStatus(std::string &out) const
{
    const KernelSource &committed = m_workspace.committed();
    for (const corpus::Idea &idea : corpus::ideas()) {
        const bool done = committed.variant(KernelSource::partIndex(idea.part)) >= idea.variant;
        out.append(done ? "- [kept] " : "- [open] ");
        out.append(idea.name);
        out.append(done ? "\n" : std::string(": ").append(idea.rationale).append("\n"));
    }
}

std::string Narrator::finalAnswer(double hours, int64_t evaluations, int64_t toolCalls)
{
    const double best = m_workspace.benchmark().best();
    std::string out = "Stopping: the time budget is used up.\n\n## Result\n\nBest geometric-mean speed-up over the "
                      "Triton baseline: **";
    appendFixed(out, best, 2);
    out += "x** on the 16 evaluation workloads, committed on agent/extend-attn (" +
           std::to_string(m_workspace.commitCount()) + " commits). " + std::to_string(evaluations) +
           " evaluations and " + std::to_string(toolCalls) + " tool calls over ";
    appendFixed(out, hours, 1);
    out += " hours.\n\n## What the kernel does now\n\n";
    appendIdeaStatus(out);
    const KernelSource &k = m_workspace.committed();
    out += "\nTile configuration: BLOCK_M=" + std::to_string(k.knob(KernelSource::knobIndex("block_m"))) +
           ", BLOCK_N=" + std::to_string(k.knob(KernelSource::knobIndex("block_n"))) +
           ", NUM_WARPS=" + std::to_string(k.knob(KernelSource::knobIndex("num_warps"))) +
           ", NUM_STAGES=" + std::to_string(k.knob(KernelSource::knobIndex("num_stages"))) + ".\n";
    out += "\n## What I would try next\n\n"
           "- A persistent-kernel scheduler for the batch-16 short-prefix workloads, which are launch-bound.\n"
           "- Keeping P in registers between QK^T and PV to skip the shared-memory round trip.\n"
           "- An fp16 PV accumulation path behind a tolerance check (risky for long prefixes).\n\n"
           "All measurements and dead ends are recorded in NOTES.md; the correctness check passes on the "
           "committed state.";
    return out;
}

std::string Narrator::compactionSummary(double hours, int64_t evaluations, const corpus::Idea *current)
{
    const double best = m_workspace.benchmark().best();
    std::string out = "<state_snapshot>\n<overall_goal>\nOptimise csrc/extend_attention.cu (SGLang extend "
                      "attention) for the ZW-M890 PPU; judged by eval/run_eval.py (geomean speed-up over Triton on "
                      "16 workloads, correctness checked first). Unattended, 36 h budget; commit every new best.\n"
                      "</overall_goal>\n<key_knowledge>\n"
                      "- Build: python setup.py build_ext --inplace (nvcc front end, -arch=ppu_zw890). The eval "
                      "script rebuilds when sources changed.\n"
                      "- 64 cores; 192 KB shared memory per core; kernels above 0x30000 bytes of shared data fail "
                      "at ptxas.\n"
                      "- The long-prefix workloads (8, 9) launch too few blocks; GQA 64/8 workloads re-fetch K/V "
                      "per q head unless tiles are shared.\n"
                      "- Differences under ~2% are noise; repeat before acting.\n</key_knowledge>\n"
                      "<progress>\n";
    out += "- Elapsed: ";
    appendFixed(out, hours, 1);
    out += " h, " + std::to_string(evaluations) + " evaluations, best ";
    appendFixed(out, best, 2);
    out += "x (committed).\n</progress>\n<ideas>\n";
    appendIdeaStatus(out);
    out += "</ideas>\n<recent_commits>\n";
    m_workspace.appendLog(out, 6);
    out += "</recent_commits>\n<current_plan>\n";
    if (current)
        out += "- In progress: " + std::string(current->name) + " (" + std::string(current->plan) + ").\n";
    out += "- Then: sweep BLOCK_M/BLOCK_N/NUM_WARPS/NUM_STAGES around the committed configuration.\n"
           "- Keep NOTES.md current.\n</current_plan>\n</state_snapshot>";
    return out;
}

} // namespace tapedeck::samples
