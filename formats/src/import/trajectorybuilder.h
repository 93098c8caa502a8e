// What every importer writes through: runs, threads and steps appended in batches (one
// transaction per few hundred steps, which is what makes import fast), tool calls joined
// to their results by call id, the counts of the import report, and the records skipped.
#pragma once

#include "importsource.h"

#include "tapedeck/formats/importers.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::formats::import {

class TrajectoryBuilder {
public:
    TrajectoryBuilder(TapeWriter &writer, ImportReport &report, const ImportSource &source);

    // Starts a run (ending the one before), with its main branch and a thread "main".
    // The run's agent should be set; labels get "imported_from" (the source's name) and
    // "import_format".
    Result<RunId> beginRun(RunInfo info);
    bool inRun() const { return m_run.value != 0; }
    ThreadId mainThread() const { return m_mainThread; }
    Result<ThreadId> addThread(const std::string &label, std::optional<ThreadId> parent,
                               int64_t startedUs);

    // Queues a step of the current run and returns the index it will have; step.thread 0
    // means the main thread. Steps are written in batches, and at finish().
    Result<StepIndex> add(Step step);
    // Adds a model call whose request is `conversation`, without copying it: the messages
    // are lent to the step for the write and handed back. Every call of a conversation
    // resends all of it, so copying would make import quadratic in its length. Writes the
    // queued steps with it.
    Result<StepIndex> addLendingConversation(Step step, std::vector<nlohmann::json> &conversation);

    // A tool call of the current run, remembered by its call id so that its result can
    // be linked to it. `modelCall` is the model call that asked for it.
    Result<StepIndex> addToolCall(ThreadId thread, const std::string &name,
                                  const std::string &callId, nlohmann::json arguments,
                                  std::optional<StepIndex> modelCall, int64_t atUs);
    // The result of a tool call: linked to the call with this id in the current run when
    // there is one (its name is taken from it when `name` is empty). `output` is what the
    // tool printed (a string) or its structured result.
    Result<StepIndex> addToolResult(ThreadId thread, const std::string &callId,
                                    const std::string &name, nlohmann::json output, bool isError,
                                    int64_t startedUs, int64_t endedUs);
    // The name of the tool call with this id in the current run, empty when unknown.
    std::string toolNameOf(const std::string &callId) const;

    // Records that a line (0: no line) of the source was not imported, and why.
    void skip(int64_t line, const std::string &what);

    // Ends the current run: `endedUs` 0 means the latest time any of its steps ended.
    Status endRun(const std::string &outcome, int64_t endedUs = 0);
    // Writes what is queued and ends the run still open. Must be called once at the end.
    Status finish();

private:
    Status flush();
    Result<StepIndex> queue(Step step);

    TapeWriter &m_writer;
    ImportReport &m_report;
    const ImportSource &m_source;
    std::vector<Step> m_pending;
    size_t m_pendingMessages = 0; // request messages held by m_pending
    RunId m_run;
    ThreadId m_mainThread;
    BranchId m_branch;
    int64_t m_latestUs = 0;
    struct KnownCall {
        StepIndex index;
        std::string name;
    };
    std::map<std::string, KnownCall> m_calls; // of the current run, by call id
};

} // namespace tapedeck::formats::import
