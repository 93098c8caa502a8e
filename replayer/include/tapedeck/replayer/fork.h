// Forking a recorded run at a step (`tapedeck fork`): the prefix before the step is
// replayed from the tape (no model call, no cost), the edit is made at the step, and the
// run goes on live, recorded as a new branch of the same run in the same file, with its
// parent (branch, step), the edit, and when (recorder.h, ForkRecording).
//
// A fork's step may be any step of the branch: a model call (the request for it is the
// first live one), a tool call or its result (the next request of the thread, which
// carries the result, is the first live one). The edits of what the model is sent are made
// to that request and to every later one, since each resends the conversation.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tapedeck::replayer {

// One change a fork makes to what the model is sent.
struct RequestEdit {
    enum class Kind { ToolResult, AppendUser, Model };
    Kind kind = Kind::ToolResult;
    std::string callId; // ToolResult: the tool call whose result is replaced
    std::string text;   // ToolResult: the new output; AppendUser: the user's message
    std::string model;  // Model: the model to ask instead
};

// "the tool output of call_7 replaced", "a user message appended", ...
// A tool result and a model are changed in every live request; a user message is added to
// the forked thread's only, as is a replaced answer given.
std::string describe(const RequestEdit &edit);

struct ForkRequest {
    // nullopt: after the branch's last step (a replay that went on past its recording).
    std::optional<formats::StepIndex> at;
    std::optional<formats::RunId> run;       // without `at`: default the tape's last run
    // The branch whose steps `at` is read among (default: the branch that holds it).
    std::optional<formats::BranchId> branch;
    std::vector<RequestEdit> edits;
    // --edit-response: the model's answer at `at` (a model call) instead of the recorded one.
    std::optional<formats::wire::Response> answer;
};

struct ForkPlan {
    formats::RunId run;
    formats::BranchId source;                 // the branch forked
    std::optional<formats::StepIndex> at;      // as requested
    formats::StepKind atKind = formats::StepKind::ModelCall;
    formats::BranchInfo branch;               // the new one: run, parent, forkStep, description
    // The prefix's last model call of each thread (ForkRecording); the forked thread's first
    // when it has one.
    std::vector<formats::StepIndex> continuedCalls;
    bool continuesForkedThread = false;
    int64_t prefixModelCalls = 0;             // answered from the tape
    // The recorded model call the first live request stands for; none when the fork is at
    // the end of its thread.
    std::optional<formats::StepIndex> recordedCall;
    std::vector<RequestEdit> edits;           // with the call id filled in for a tool step
    std::optional<formats::wire::Response> answer;
    nlohmann::json forkPoint;                 // what the fork_point step says
};

// Checks the request against the tape: the step exists and is in the branch, the edit
// fits it (a tool result edit names a call whose result the first live request carries; an
// answer edit is at a model call). Errors name the step and what was expected.
formats::Result<ForkPlan> planFork(const formats::TapeReader &reader, const ForkRequest &request);

// The edits a forked branch was made with (its fork_point step), made again to every model
// call past `after`, its fork step: the agent sends its own unedited history, the branch
// recorded what the model was sent.
struct BranchEdits {
    std::vector<RequestEdit> edits;
    formats::StepIndex after;
    // The forked thread's last model call before the fork: a user message added
    // (AppendUser) goes only to the requests that continue it, not to a side conversation
    // or a sub-agent; none when the thread had no call before the fork (the first request
    // then takes it).
    std::optional<formats::StepIndex> forkedCall;
};
// Those of the branch and of each branch it was forked from, the oldest first; none for an
// original branch.
formats::Result<std::vector<BranchEdits>> editsOfLineage(const formats::TapeReader &reader, formats::BranchId branch);

} // namespace tapedeck::replayer
