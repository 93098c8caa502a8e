// The tools of the kernel session, simulated against the workspace.
#pragma once

#include "benchmark.h"
#include "corpus/corpus.h"
#include "random.h"
#include "story.h"
#include "workspace.h"

#include <nlohmann/json.hpp>

#include <string>

namespace tapedeck::samples {

// One tool call as the agent issues it and as the tool answers it, plus the facts about it
// that the agent's next words may refer to.
struct ToolRun {
    Action action = Action::ListDir;
    std::string name;              // the tool's name in the tool list
    nlohmann::json arguments;      // what the model passes
    std::string output;            // what the tool message carries back
    bool failed = false;           // non-zero exit, failed check, failing tests
    int64_t durationUs = 0;

    bool evaluation = false;
    bool compileError = false;
    bool measured = false;         // the benchmark ran: `measurement` is meaningful
    Measurement measurement;
    double previousBest = 0;       // the best geomean before this run
    const corpus::Idea *idea = nullptr;           // what the call works on, if an idea
    const corpus::CompileError *error = nullptr;  // the error it printed or fixed
    std::string change;            // what the edit did, in words ("BLOCK_N 64 -> 128")
    bool fromSweep = false;        // the edit makes a sweep's best point the default
    std::string config;            // a sweep's configuration
    int failingTests = 0;
};

// Where in the session a tool call happens.
struct ToolContext {
    double progress = 0;            // evaluations done / evaluations planned
    int loopAttempt = 0;            // from the planned turn
    const ToolRun *previous = nullptr; // the thread's previous tool call, if any
};

// Runs planned tool calls: chooses what the agent does (which idea, which knob, which file)
// with its own random stream, changes the workspace accordingly and renders the tool's
// output in the shapes qwen-code's tools use (shell results with Command/Stdout/Exit Code,
// "Successfully modified file", read_file truncation notices, ...).
class Toolbox {
public:
    Toolbox(Random rng, Workspace &workspace);

    ToolRun run(const PlannedTool &tool, const ToolContext &context);

    const corpus::Idea *currentIdea() const { return m_idea; }

private:
    void listDirectory(ToolRun &run);
    void readFile(ToolRun &run, std::string_view relative, std::string_view content);
    void readKernel(ToolRun &run);
    void grep(ToolRun &run);
    void edit(ToolRun &run, const ToolContext &context);
    void knobEdit(ToolRun &run, size_t knob, int value);
    void fixEdit(ToolRun &run, const ToolContext &context);
    void compile(ToolRun &run, Outcome outcome, const ToolContext &context);
    void evaluate(ToolRun &run, Outcome outcome, const ToolContext &context, bool sweep);
    void git(ToolRun &run, Action action);
    void todo(ToolRun &run, double progress);
    void spawn(ToolRun &run);
    void profile(ToolRun &run, bool sourceLevel);
    void writeTests(ToolRun &run);
    void editTests(ToolRun &run);
    void runTests(ToolRun &run, Outcome outcome);

    void replaceResult(ToolRun &run, std::string_view relative, std::string_view oldText,
                       std::string_view newText, int replacements);
    void shellResult(ToolRun &run, std::string command, std::string_view description,
                     std::string_view stdoutText, int exitCode);
    const corpus::CompileError &chooseError();
    void appendBuildLines(std::string &out);
    int64_t seconds(double lo, double hi) { return int64_t(m_rng.real(lo, hi) * 1e6); }

    Random m_rng;
    Workspace &m_workspace;
    const corpus::Idea *m_idea = nullptr;        // the idea being worked on
    const corpus::CompileError *m_lastError = nullptr;
    std::string m_lastChange;                    // for the commit message
    int m_sweepConfig[4] = {64, 64, 4, 2};       // the best sweep point not yet made default
    bool m_measuredOnce = false;
    int m_testWrites = 0;
    int m_subagentsSpawned = 0;
};

} // namespace tapedeck::samples
