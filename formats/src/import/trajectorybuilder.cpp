#include "trajectorybuilder.h"

#include <algorithm>

namespace tapedeck::formats::import {

namespace {
// A batch is written when it holds this many steps, or this many request messages (each
// queued model call holds its whole conversation: the bound keeps memory to a few).
constexpr size_t kBatchSteps = 512;
constexpr size_t kBatchMessages = 4096;
}

TrajectoryBuilder::TrajectoryBuilder(TapeWriter &writer, ImportReport &report,
                                     const ImportSource &source)
    : m_writer(writer), m_report(report), m_source(source)
{
}

Result<RunId> TrajectoryBuilder::beginRun(RunInfo info)
{
    if (inRun()) {
        if (Status s = endRun({}); !s)
            return s.error();
    }
    if (!info.labels.is_object())
        info.labels = nlohmann::json::object();
    info.labels["imported_from"] = m_source.name();
    info.labels["import_format"] = importFormatName(m_report.format);
    auto run = m_writer.beginRun(info);
    if (!run)
        return run.error();
    auto branch = m_writer.mainBranch(*run);
    if (!branch)
        return branch.error();
    m_run = *run;
    m_branch = *branch;
    m_latestUs = info.startedUs;
    m_calls.clear();
    ++m_report.stats.runs;
    ++m_report.stats.branches;
    auto thread = addThread("main", std::nullopt, info.startedUs);
    if (!thread)
        return thread.error();
    m_mainThread = *thread;
    return *run;
}

Result<ThreadId> TrajectoryBuilder::addThread(const std::string &label,
                                              std::optional<ThreadId> parent, int64_t startedUs)
{
    if (!inRun())
        return Error{ErrorCode::InvalidArgument, m_source.name() + ": a thread outside a run"};
    ThreadInfo info;
    info.branch = m_branch;
    info.parent = parent;
    info.label = label;
    info.startedUs = startedUs;
    auto thread = m_writer.addThread(info);
    if (!thread)
        return thread.error();
    ++m_report.stats.threads;
    return *thread;
}

Result<StepIndex> TrajectoryBuilder::queue(Step step)
{
    if (!inRun())
        return Error{ErrorCode::InvalidArgument, m_source.name() + ": a step outside a run"};
    if (step.thread.value == 0)
        step.thread = m_mainThread;
    step.run = m_run;
    step.branch = m_branch;
    m_latestUs = std::max({m_latestUs, step.startedUs, step.endedUs});
    const StepIndex index{m_writer.nextStepIndex().value + int64_t(m_pending.size())};
    m_pendingMessages += step.requestMessages.size();
    m_pending.push_back(std::move(step));
    ++m_report.stats.steps;
    return index;
}

Result<StepIndex> TrajectoryBuilder::add(Step step)
{
    auto index = queue(std::move(step));
    if (index && (m_pending.size() >= kBatchSteps || m_pendingMessages >= kBatchMessages)) {
        if (Status s = flush(); !s)
            return s.error();
    }
    return index;
}

Result<StepIndex> TrajectoryBuilder::addLendingConversation(Step step,
                                                            std::vector<nlohmann::json> &conversation)
{
    if (!inRun())
        return Error{ErrorCode::InvalidArgument, m_source.name() + ": a step outside a run"};
    step.requestMessages = std::move(conversation);
    auto index = queue(std::move(step));
    auto written = m_writer.appendBatch(m_pending);
    conversation = std::move(m_pending.back().requestMessages);
    m_pending.clear();
    m_pendingMessages = 0;
    if (!written)
        return written.error();
    return index;
}

Result<StepIndex> TrajectoryBuilder::addToolCall(ThreadId thread, const std::string &name,
                                                 const std::string &callId,
                                                 nlohmann::json arguments,
                                                 std::optional<StepIndex> modelCall, int64_t atUs)
{
    Step step;
    step.kind = StepKind::ToolCall;
    step.thread = thread;
    step.name = name;
    step.callId = callId;
    step.parent = modelCall;
    step.startedUs = atUs;
    step.endedUs = atUs;
    step.payload = arguments.is_null() ? nlohmann::json::object() : std::move(arguments);
    auto index = add(std::move(step));
    if (index && !callId.empty())
        m_calls[callId] = {*index, name};
    return index;
}

Result<StepIndex> TrajectoryBuilder::addToolResult(ThreadId thread, const std::string &callId,
                                                   const std::string &name,
                                                   nlohmann::json output, bool isError,
                                                   int64_t startedUs, int64_t endedUs)
{
    Step step;
    step.kind = StepKind::ToolResult;
    step.thread = thread;
    step.callId = callId;
    step.name = name;
    if (auto known = m_calls.find(callId); !callId.empty() && known != m_calls.end()) {
        step.parent = known->second.index;
        if (step.name.empty())
            step.name = known->second.name;
    }
    step.status = isError ? StepStatus::Error : StepStatus::Ok;
    step.startedUs = startedUs;
    step.endedUs = endedUs ? endedUs : startedUs;
    step.payload = nlohmann::json{{"output", std::move(output)}, {"is_error", isError}};
    return add(std::move(step));
}

std::string TrajectoryBuilder::toolNameOf(const std::string &callId) const
{
    auto known = m_calls.find(callId);
    return known == m_calls.end() ? std::string() : known->second.name;
}

void TrajectoryBuilder::skip(int64_t line, const std::string &what)
{
    m_report.skipped.push_back(m_source.where(line) + ": " + what);
}

Status TrajectoryBuilder::flush()
{
    if (m_pending.empty())
        return {};
    auto written = m_writer.appendBatch(m_pending);
    m_pending.clear();
    m_pendingMessages = 0;
    if (!written)
        return written.error();
    return {};
}

Status TrajectoryBuilder::endRun(const std::string &outcome, int64_t endedUs)
{
    if (!inRun())
        return {};
    if (Status s = flush(); !s)
        return s;
    const RunId run = m_run;
    m_run = RunId{};
    m_calls.clear();
    return m_writer.endRun(run, endedUs ? endedUs : m_latestUs, outcome);
}

Status TrajectoryBuilder::finish()
{
    if (Status s = flush(); !s)
        return s;
    return endRun({});
}

} // namespace tapedeck::formats::import
