#include "recordingwriter.h"

#include "stepbuilder.h"

#include <cstdio>
#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace tapedeck::recorder {

using formats::Step;
using formats::StepKind;
using formats::StepStatus;

namespace {

// Recording an exchange costs a few copies of its bodies for a moment (see
// tst_recorder_traffic): once one this large is written, what it freed is given back.
constexpr size_t kLargeExchangeBytes = size_t(8) << 20;

// Allocations this large get pages of their own, given back as soon as they are freed.
constexpr int kOwnPagesBytes = 1 << 20;
// A heap's free end beyond this is given back.
constexpr int kKeptFreeBytes = 4 << 20;

void returnFreedMemory()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

// glibc raises both of its thresholds to the largest block freed (up to 32 and 64 MiB), so
// after one large exchange a thread's heap keeps up to 64 MiB that malloc_trim does not
// reach (it trims the ends of the main heap only): a long recording would carry the largest
// exchange's copies along. Fixed thresholds keep the recorder's memory that of what it holds
// (tst_recorder_traffic: 51 MB resident after a 50 MB request, from 18 MB, before; 23 MB after).
void pinAllocatorThresholds()
{
#ifdef __GLIBC__
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, kOwnPagesBytes);
        mallopt(M_TRIM_THRESHOLD, kKeptFreeBytes);
    });
#endif
}

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

RecordingWriter::RecordingWriter(std::unique_ptr<formats::TapeWriter> writer,
                                 std::optional<formats::RunId> firstRun, RunGrouping grouping,
                                 Redactor redactor, std::optional<BranchStart> branchStart)
    : m_writer(std::move(writer)), m_grouping(std::move(grouping)), m_redactor(std::move(redactor))
{
    pinAllocatorThresholds();
    if (firstRun && branchStart) {
        auto &slot = m_runs[""];
        slot = std::make_unique<RunRecording>(*firstRun, branchStart->branch);
        m_latest = slot.get();
        m_forkThread = branchStart->forkThread;
        for (size_t i = 0; i < branchStart->continued.size(); ++i) {
            const ContinuedThread &c = branchStart->continued[i];
            // The forked thread is on the tape already; the others only once they go on.
            const bool forked = i == 0 && branchStart->forkThreadContinues;
            const formats::ThreadId id = forked ? branchStart->forkThread : formats::ThreadId(-int64_t(i + 1));
            if (!forked) {
                formats::ThreadInfo info = c.info;
                info.branch = branchStart->branch;
                info.parent.reset(); // a thread of the prefix; not one of this branch's
                m_unwrittenThreads[id] = info;
            }
            slot->tracker.seedThread(c.request, id, c.answer, c.toolCallSteps, c.answerEndedUs);
        }
    } else if (firstRun) {
        formats::Result<formats::BranchId> branch = m_writer->mainBranch(*firstRun);
        if (branch) {
            auto &slot = m_runs[""];
            slot = std::make_unique<RunRecording>(*firstRun, *branch);
            m_latest = slot.get();
            m_begun.push_back(*firstRun);
            m_stats.runs = 1;
        } else {
            noteWriteError(branch.error());
        }
    }
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
        m_queue.push_back({std::move(exchange), std::chrono::steady_clock::now()});
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
            // An exchange is handed over once its answer has reached the client, which is
            // not always before the client's next request has been answered too: the
            // longest-waiting one is held for kOrderWindow, and whichever queued exchange
            // began first is written first, so that a client's calls are steps in the order
            // it made them.
            const auto due = m_queue.front().queuedAt + kOrderWindow;
            if (!m_stopping && std::chrono::steady_clock::now() < due) {
                m_wake.wait_until(lock, due, [this] { return m_stopping; });
                continue;
            }
            auto first = std::min_element(m_queue.begin(), m_queue.end(), [](const Queued &a, const Queued &b) {
                return a.exchange.startedUs < b.exchange.startedUs;
            });
            exchange = std::move(first->exchange);
            m_queue.erase(first);
        }
        const size_t bodyBytes = exchange.wire.requestBody.size() + exchange.wire.responseBody.size();
        record(exchange);
        exchange = {}; // what it holds is freed before the trim
        if (bodyBytes >= kLargeExchangeBytes)
            returnFreedMemory();
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
    formats::Status status = formats::Status::success();
    if (m_forkThread) {
        Step end;
        end.thread = *m_forkThread;
        end.kind = StepKind::Annotation;
        end.name = "branch outcome";
        end.startedUs = end.endedUs = endedUs;
        end.payload = {{"branch_outcome", outcome}};
        if (formats::Result<formats::StepIndex> written = m_writer->append(end); !written)
            status = written.error();
    }
    for (const formats::RunId run : m_begun) {
        formats::Status ended = m_writer->endRun(run, endedUs, outcome);
        if (!ended && status)
            status = ended;
    }
    return status;
}

RecordingWriter::RunRecording *RecordingWriter::runFor(const CapturedExchange &exchange)
{
    if (exchange.mcp || !m_grouping.perSession) {
        if (m_latest)
            return m_latest;
    }
    const std::string session = m_grouping.perSession ? exchange.clientSession : std::string();
    auto it = m_runs.find(session);
    if (it != m_runs.end()) {
        RunRecording &current = *it->second;
        const bool idle = session.empty() && m_grouping.perSession && m_grouping.idleUs > 0 &&
                          exchange.startedUs - current.lastActivityUs > m_grouping.idleUs;
        if (!idle)
            return &current;
        // The anonymous session went quiet: its run ends where its last exchange did.
        if (formats::Status ended = m_writer->endRun(current.run, current.lastActivityUs, "idle"); !ended)
            noteWriteError(ended.error());
        std::erase(m_begun, current.run);
    }
    formats::Result<RunRecording *> begun = beginRun(session, exchange.startedUs);
    if (!begun) {
        noteWriteError(begun.error());
        return nullptr;
    }
    return *begun;
}

formats::Result<RecordingWriter::RunRecording *> RecordingWriter::beginRun(const std::string &session,
                                                                          int64_t atUs)
{
    formats::RunInfo info = m_grouping.template_;
    info.startedUs = atUs;
    const size_t number = m_begun.size() + 1;
    if (!session.empty()) {
        info.labels["client_session"] = session;
        info.name += " · session " + session.substr(0, 8);
    } else if (number > 1) {
        info.name += " · " + std::to_string(number);
    }
    formats::Result<formats::RunId> run = m_writer->beginRun(info);
    if (!run)
        return run.error();
    formats::Result<formats::BranchId> branch = m_writer->mainBranch(*run);
    if (!branch)
        return branch.error();
    auto &slot = m_runs[session];
    slot = std::make_unique<RunRecording>(*run, *branch);
    m_begun.push_back(*run);
    {
        std::lock_guard lock(m_mutex);
        ++m_stats.runs;
    }
    return slot.get();
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
    RunRecording *run = runFor(exchange);
    if (!run)
        return;
    m_latest = run;
    run->lastActivityUs = std::max(run->lastActivityUs, exchange.endedUs);
    if (exchange.mcp) {
        recordMcpCall(*run, *exchange.mcp);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        ++m_stats.exchanges;
        if (exchange.wire.status == 0 || exchange.wire.status >= 400 || !exchange.failure.empty())
            ++m_stats.errors;
    }
    if (exchange.upstreamUnreachable) {
        Step step = buildUpstreamError(std::move(exchange));
        step.thread = otherTrafficThread(*run);
        appendOne(std::move(step));
        return;
    }
    if (exchange.api && exchange.wire.method == "POST") {
        recordModelCall(*run, exchange);
        return;
    }
    Step step = buildHttpExchange(std::move(exchange), m_redactor);
    step.thread = otherTrafficThread(*run);
    appendOne(std::move(step));
}

void RecordingWriter::recordModelCall(RunRecording &run, CapturedExchange &exchange)
{
    formats::Result<ModelCallSteps> built = buildModelCall(exchange, m_redactor);
    if (!built) {
        // Not the API's JSON: kept as what it is, with the reason.
        Step step = buildHttpExchange(std::move(exchange), m_redactor);
        step.payload["problem"] = "not recorded as a model call: " + built.error().message;
        step.thread = otherTrafficThread(run);
        appendOne(std::move(step));
        return;
    }
    ModelCallSteps &parts = *built;
    ConversationTracker &tracker = run.tracker;
    const ConversationTracker::Placement placement = tracker.place(parts.request);

    formats::ThreadId thread;
    if (placement.isNew) {
        formats::ThreadInfo info;
        info.branch = run.branch;
        info.label = threadLabel(parts.request, tracker.threadCount());
        info.startedUs = exchange.startedUs;
        info.parent = tracker.threadWaitingOnTool();
        if (info.parent && m_unwrittenThreads.count(*info.parent)) {
            // A continued prefix thread waits on the tool that started this one: it goes on
            // the tape now, so that the parent is a thread of the tape.
            info.parent = writtenThread(run, *info.parent, exchange.startedUs);
            if (!info.parent)
                return;
        }
        formats::Result<formats::ThreadId> added = m_writer->addThread(info);
        if (!added) {
            noteWriteError(added.error());
            return;
        }
        thread = *added;
    } else if (std::optional<formats::ThreadId> written = writtenThread(run, placement.thread, exchange.startedUs)) {
        thread = *written;
    } else {
        return;
    }
    // Placed: the neutral forms of the request and the answer are not needed any more, and
    // their text can be tens of megabytes that would otherwise be held while the steps are
    // stored.
    parts.request = {};
    const std::optional<ConversationTracker::Answer> answer =
        parts.response ? std::optional(ConversationTracker::answerOf(*parts.response)) : std::nullopt;
    const formats::Usage usage = parts.response ? parts.response->usage : formats::Usage{};
    parts.response.reset();

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
    tracker.commit(placement, thread, answer ? &*answer : nullptr, toolCallSteps, exchange.endedUs);

    std::lock_guard lock(m_mutex);
    ++m_stats.modelCalls;
    m_stats.toolResults += static_cast<int64_t>(placement.toolResults.size());
    m_stats.toolCalls += static_cast<int64_t>(toolCallSteps.size());
    m_stats.stepsWritten += static_cast<int64_t>(written->size() + toolCallSteps.size());
    m_stats.threads += placement.isNew ? 1 : 0;
    m_stats.inputTokens += usage.inputTokens;
    m_stats.outputTokens += usage.outputTokens;
}

void RecordingWriter::recordMcpCall(RunRecording &run, const McpCall &call)
{
    formats::Result<McpRecording::Written> written = run.mcp.record(call, *m_writer);
    if (!written) {
        noteWriteError(written.error());
        return;
    }
    std::lock_guard lock(m_mutex);
    m_stats.stepsWritten += written->steps;
    m_stats.toolCalls += written->toolCalls;
    m_stats.toolResults += written->toolResults;
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

std::optional<formats::ThreadId> RecordingWriter::writtenThread(RunRecording &run, formats::ThreadId placed,
                                                                int64_t atUs)
{
    auto unwritten = m_unwrittenThreads.find(placed);
    if (unwritten == m_unwrittenThreads.end())
        return placed;
    formats::ThreadInfo info = unwritten->second;
    info.startedUs = atUs;
    formats::Result<formats::ThreadId> added = m_writer->addThread(info);
    if (!added) {
        noteWriteError(added.error());
        return std::nullopt;
    }
    run.tracker.renameThread(placed, *added);
    m_unwrittenThreads.erase(unwritten);
    std::lock_guard lock(m_mutex);
    ++m_stats.threads;
    return *added;
}

formats::ThreadId RecordingWriter::otherTrafficThread(RunRecording &run)
{
    if (run.otherTraffic)
        return *run.otherTraffic;
    formats::ThreadInfo info;
    info.branch = run.branch;
    info.label = "other traffic";
    formats::Result<formats::ThreadId> added = m_writer->addThread(info);
    if (!added) {
        noteWriteError(added.error());
        return formats::ThreadId{};
    }
    run.otherTraffic = *added;
    return *run.otherTraffic;
}

} // namespace tapedeck::recorder
