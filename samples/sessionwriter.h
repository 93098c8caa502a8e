// Plays a planned kernel session into a tape.
#pragma once

#include "conversation.h"
#include "narrator.h"
#include "rawlog.h"
#include "story.h"
#include "toolbox.h"
#include "workspace.h"

#include <tapedeck/samples/kernelsession.h>

#include <memory>
#include <optional>

namespace tapedeck::samples {

// Owns the simulation of one session (the workspace, the toolbox, the narrator, a clock,
// one Conversation per thread) and turns each planned turn into steps: an optional
// Compaction, the ModelCall with its exact streamed exchange, then each ToolCall followed
// by its ToolResult. A Spawn tool call runs its sub-agent's thread in between. Single use:
// construct, run() once.
//
// Random streams are split from the seed once, one per concern (tools, words, timing,
// stream chunking, ids), so each stays stable when another one changes.
class SessionWriter {
public:
    SessionWriter(formats::TapeWriter &writer, const KernelSessionOptions &options);
    ~SessionWriter();

    formats::Result<KernelSessionStats> run();

private:
    struct Thread;

    formats::Status playTurn(Thread &thread, const PlannedTurn &turn);
    formats::Status compact(Thread &thread);
    // Appends the ModelCall whose answer is `content` and `calls`; returns the call ids it
    // gave them in `callIds`.
    formats::Result<formats::StepIndex> modelCall(Thread &thread, const std::string &content,
                                                   const std::vector<ToolRun> &calls,
                                                   std::vector<std::string> &callIds);
    formats::Status runSubagent(const PlannedSubagent &plan, ToolRun &spawn);
    formats::Result<formats::StepIndex> append(const formats::Step &step);
    void idleIfAhead();
    std::string newId(std::string_view prefix, size_t hexDigits, bool uuid = false);
    double progress() const;
    double hours() const;

    formats::TapeWriter &m_writer;
    KernelSessionOptions m_options;
    Random m_timing;
    Random m_chunking;
    Random m_ids;
    Workspace m_workspace;
    Toolbox m_toolbox;
    Narrator m_narrator;
    std::unique_ptr<RawLog> m_rawLog;

    formats::RunId m_run;
    formats::BranchId m_branch;
    std::unique_ptr<Thread> m_main;
    KernelSessionStats m_stats;
    int64_t m_planned = 0;
    int64_t m_evaluationsPlanned = 0;
    int64_t m_now = 0;
    int64_t m_targetEndUs = 0;
    formats::Step m_modelStep; // reused so its buffers keep their capacity
    // The loop being played: its first tool call and the highest attempt so far.
    std::optional<formats::StepIndex> m_loopFirstCall;
    int m_loopAttempts = 0;
    formats::StepIndex m_lastResult; // the latest tool result appended
};

} // namespace tapedeck::samples
