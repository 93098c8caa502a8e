#include "recordingwriter.h"

#include "stepbuilder.h"

#include <cstdio>

namespace tapedeck::recorder {

using formats::Step;
using formats::StepKind;
using formats::StepStatus;

namespace {

std::string threadLabel(const formats::wire::Request &request, size_t threadNumber)
{
    if (threadNumber == 0)
        return "main";
    // Name a side conversation by the start of what it was asked, which is usually enough
    // to tell a title generator from a sub-agent.
    std::string first;
    for (const auto &m : request.messages) {
        if (m.role == formats::wire::Role::User && !m.text.empty()) {
            first = m.text;
            break;
        }
    }
    if (first.empty())
        first = request.system;
    for (char &c : first)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    if (first.size() > 60)
        first = first.substr(0, 57) + "...";
    return first.empty() ? "thread " + std::to_string(threadNumber + 1) : first;
}

} // namespace

RecordingWriter::RecordingWriter(std::unique_ptr<formats::TapeWriter> writer, formats::RunId run,
                                 formats::BranchId branch)
    : m_writer(std::move(writer)), m_run(run), m_branch(branch)
{
    m_thread = std::thread([this] { loop(); });
}

RecordingWriter::~RecordingWriter()
{
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
}

void RecordingWriter::submit(CapturedExchange exchange)
{
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(exchange));
        m_stats.pending = static_cast<int64_t>(m_queue.size());
    }
    m_wake.notify_one();
}

void RecordingWriter::loop()
{
    for (;;) {
        CapturedExchange exchange;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                return; // stopping, and everything is written
            exchange = std::move(m_queue.front());
            m_queue.pop_front();
        }
        record(exchange);
        std::lock_guard lock(m_mutex);
        m_stats.pending = static_cast<int64_t>(m_queue.size());
    }
}

formats::Status RecordingWriter::finish(int64_t endedUs, const std::string &outcome)
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    return m_writer->endRun(m_run, endedUs, outcome);
}

RecorderStats RecordingWriter::stats() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

void RecordingWriter::noteWriteError(const formats::Error &error)
{
    std::lock_guard lock(m_mutex);
    if (m_stats.writeError.empty()) {
        m_stats.writeError = error.message;
        std::fprintf(stderr, "tapedeck: cannot write to the tape: %s\n", error.message.c_str());
    }
}

void RecordingWriter::record(CapturedExchange &exchange)
{
    {
        std::lock_guard lock(m_mutex);
        ++m_stats.exchanges;
        if (exchange.wire.status == 0 || exchange.wire.status >= 400 || !exchange.failure.empty())
            ++m_stats.errors;
    }
    if (exchange.upstreamUnreachable) {
        Step step = buildUpstreamError(exchange);
        step.thread = otherTrafficThread();
        appendOne(std::move(step));
        return;
    }
    if (exchange.api && exchange.wire.method == "POST") {
        recordModelCall(exchange);
        return;
    }
    Step step = buildHttpExchange(exchange);
    step.thread = otherTrafficThread();
    appendOne(std::move(step));
}

void RecordingWriter::recordModelCall(CapturedExchange &exchange)
{
    formats::Result<ModelCallSteps> built = buildModelCall(exchange);
    if (!built) {
        // Not the API's JSON: kept as what it is, with the reason.
        Step step = buildHttpExchange(exchange);
        step.payload["problem"] = "not recorded as a model call: " + built.error().message;
        step.thread = otherTrafficThread();
        appendOne(std::move(step));
        return;
    }
    ModelCallSteps &parts = *built;
    const ConversationTracker::Placement placement = m_tracker.place(parts.request);

    formats::ThreadId thread;
    if (placement.isNew) {
        formats::ThreadInfo info;
        info.branch = m_branch;
        info.label = threadLabel(parts.request, m_tracker.threadCount());
        info.startedUs = exchange.startedUs;
        if (auto waiting = m_tracker.threadWaitingOnTool())
            info.parent = m_tracker.threadId(*waiting);
        formats::Result<formats::ThreadId> added = m_writer->addThread(info);
        if (!added) {
            noteWriteError(added.error());
            return;
        }
        thread = *added;
    } else {
        thread = m_tracker.threadId(placement.thread);
    }

    // The tool results this request carries, then the call itself: one commit.
    std::vector<Step> batch;
    for (const FoundToolResult &result : placement.toolResults) {
        batch.push_back(buildToolResult(result, exchange.startedUs));
        batch.back().thread = thread;
    }
    parts.modelCall.thread = thread;
    batch.push_back(std::move(parts.modelCall));
    formats::Result<std::vector<formats::StepIndex>> written = m_writer->appendBatch(batch);
    if (!written) {
        noteWriteError(written.error());
        return;
    }
    const formats::StepIndex callIndex = written->back();

    // The tool calls of the answer, pointing at the call that issued them.
    std::vector<formats::StepIndex> toolCallSteps;
    if (!parts.toolCalls.empty()) {
        for (Step &toolCall : parts.toolCalls) {
            toolCall.thread = thread;
            toolCall.parent = callIndex;
        }
        formats::Result<std::vector<formats::StepIndex>> calls = m_writer->appendBatch(parts.toolCalls);
        if (!calls)
            noteWriteError(calls.error());
        else
            toolCallSteps = std::move(*calls);
    }
    m_tracker.commit(placement, thread, parts.request, parts.response ? &*parts.response : nullptr,
                     toolCallSteps, exchange.endedUs);

    std::lock_guard lock(m_mutex);
    ++m_stats.modelCalls;
    m_stats.toolResults += static_cast<int64_t>(placement.toolResults.size());
    m_stats.toolCalls += static_cast<int64_t>(toolCallSteps.size());
    m_stats.stepsWritten += static_cast<int64_t>(written->size() + toolCallSteps.size());
    m_stats.threads = static_cast<int64_t>(m_tracker.threadCount());
    if (parts.response) {
        m_stats.inputTokens += parts.response->usage.inputTokens;
        m_stats.outputTokens += parts.response->usage.outputTokens;
    }
}

void RecordingWriter::appendOne(Step step)
{
    formats::Result<formats::StepIndex> written = m_writer->append(step);
    if (!written) {
        noteWriteError(written.error());
        return;
    }
    std::lock_guard lock(m_mutex);
    ++m_stats.stepsWritten;
}

formats::ThreadId RecordingWriter::otherTrafficThread()
{
    if (m_otherTraffic)
        return *m_otherTraffic;
    formats::ThreadInfo info;
    info.branch = m_branch;
    info.label = "other traffic";
    formats::Result<formats::ThreadId> added = m_writer->addThread(info);
    if (!added) {
        noteWriteError(added.error());
        return formats::ThreadId{};
    }
    m_otherTraffic = *added;
    return *m_otherTraffic;
}

} // namespace tapedeck::recorder
