// The fixed texts the kernel session is assembled from: prompts, tool schemas, workspace
// files, kernel source fragments, optimisation ideas, error logs and phrases. Written by
// hand to read like the real thing; mixed and filled in by the generators with a seeded
// random source. All ASCII, so byte offsets and character counts agree.
#pragma once

#include <span>
#include <string_view>

namespace tapedeck::samples::corpus {

// ---- prompts.cpp: what every request of a thread starts with
std::string_view mainSystemPrompt();
std::string_view profilerSystemPrompt();
std::string_view testWriterSystemPrompt();
std::string_view taskPrompt();                 // the user's first message
std::string_view profilerTaskPrompt();         // what the main agent asks its sub-agents
std::string_view testWriterTaskPrompt();
std::string_view mainToolsJson();              // OpenAI "tools" array, JSON text
std::string_view subagentToolsJson();

// ---- workspace.cpp: files of the task workspace that do not change during the run
std::string_view workspaceRoot();              // "/workspace/sglang-extend-attention"
std::string_view taskFile();                   // TASK.md
std::string_view evalScript();                 // eval/run_eval.py
std::string_view tritonReference();            // ref/extend_attention_triton.py
std::string_view correctnessTests();           // tests/test_correctness.py
std::string_view directoryListing();           // list_directory of the root
std::string_view edgeCaseTests();              // what the test-writer sub-agent writes
std::string_view edgeCaseTestsAddition();      // its second batch of tests

// ---- kernelcode.cpp: csrc/extend_attention.cu as a sequence of parts. A part with more
// than one variant is a section an optimisation idea upgrades; "{slot}" names are knobs.
struct KernelPart {
    std::string_view name;
    std::span<const std::string_view> variants;
};
std::span<const KernelPart> kernelParts();

// ---- ideas.cpp: what the agent tries
struct Idea {
    std::string_view part;       // the kernel part it upgrades
    int variant;                 // ... to this variant (from variant - 1)
    std::string_view name;       // "vectorized K/V loads"
    std::string_view plan;       // "switch the K/V tile loads to 16-byte vector loads"
    std::string_view rationale;  // why it should help
    std::string_view wrongHint;  // the bug it tends to introduce
};
std::span<const Idea> ideas();

// A knob edit changes one line of the kernel: the knob's slot name and a description.
struct Knob {
    std::string_view slot;       // "unroll"
    std::string_view label;      // how the agent names it: "BLOCK_N", "the unroll factor"
    std::span<const int> values;
};
std::span<const Knob> knobs();

// ---- logs.cpp: compiler errors and what fixes them
struct CompileError {
    std::string_view part;       // the kernel part the error points into
    std::string_view message;    // nvcc/gcc text with {line} and {col} slots
    std::string_view fixFile;    // the file the fix edits, relative to the root
    std::string_view summary;    // one clause for the agent's own words
    std::string_view fixOld;     // the edit the agent makes to fix it
    std::string_view fixNew;
};
std::span<const CompileError> compileErrors();
std::string_view buildTraceback();             // what setup.py prints after a failed nvcc
std::string_view sharedMemoryError();          // ptxas over the limit, slots {bytes} {limit}

// ---- phrases.cpp: pools the narrator draws from, by situation
enum class Situation {
    Orientation, OrientationStatus, AfterBaseline, BeforeIdea, BeforeSecondEdit, BeforeTweak, BakeSweep, BeforeCompile,
    BeforeEval, AfterCompileOk,
    AfterCompileError, LoopRepeatCompile, LoopRepeatWrong, LoopRepeatRegress, LoopGiveUp,
    AfterSharedMemory, AfterNewBest, AfterRegression, AfterRegressionKeep, AfterPlateau, AfterWrongResult,
    BeforeSweep, SweepNext, SweepContinue, BeforeCommit, BeforeRevert, ReviewCode, ReviewGit,
    BeforeTodo, BeforeSpawnProfiler, BeforeSpawnTests, AfterSubagent, WrapUp, ProfilerRead,
    ProfilerRun, ProfilerSource, ProfilerSearch, TestsRead, TestsWrite, TestsWriteMore, TestsRun,
    TestsEdit, TestsLook, AfterTestsFail, AfterTestsPass,
};
std::span<const std::string_view> phrases(Situation situation);

} // namespace tapedeck::samples::corpus
