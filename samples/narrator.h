// What the agent writes: the text before its tool calls, its final answer, the summary a
// compaction leaves behind.
#pragma once

#include "random.h"
#include "story.h"
#include "textutil.h"
#include "toolbox.h"
#include "workspace.h"

#include <span>
#include <string>

namespace tapedeck::samples {

enum class Role { Main, Profiler, TestWriter };

// The moment a model call answers: which thread, what just came back, what it calls now.
struct Scene {
    Role role = Role::Main;
    const PlannedTurn *turn = nullptr;
    std::span<const ToolRun> calls;   // this turn's calls, already prepared
    const ToolRun *previous = nullptr; // the thread's previous tool result
    int previousLoopAttempt = 0;       // the loop attempt of the previous turn
    double progress = 0;               // evaluations done / planned
};

// Mixes the phrase corpus by situation: a reaction to the previous result (a new best, a
// regression, a compile error, the same failure again), then the intent of the calls now
// (an idea with its rationale, a tweak, a sweep point), now and then a remark on the
// per-workload numbers. Slots are filled from the tool runs, so the words match the logs.
class Narrator {
public:
    Narrator(Random rng, const Workspace &workspace);

    std::string say(const Scene &scene);
    std::string finalAnswer(double hours, int64_t evaluations, int64_t toolCalls);
    std::string compactionSummary(double hours, int64_t evaluations, const corpus::Idea *current);

private:
    void phrase(std::string &out, corpus::Situation situation, std::span<const Slot> slots);
    void react(std::string &out, const Scene &scene, std::span<const Slot> slots);
    void intend(std::string &out, const Scene &scene, std::span<const Slot> slots);
    void remark(std::string &out, const Measurement &m);
    void appendIdeaStatus(std::string &out) const;

    Random m_rng;
    const Workspace &m_workspace;
};

} // namespace tapedeck::samples
