#include "sessionwriter.h"

#include "chatstream.h"
#include "corpus/corpus.h"
#include "labtools.h"
#include "pricing.h"
#include "textutil.h"

#include <algorithm>

namespace tapedeck::samples {

namespace {

constexpr std::string_view kModel = "qwen3.7-max";
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr double kHoursPerScale = 35;
// The provider's prompt cache forgets a prefix not used for this long.
constexpr int64_t kCacheTtlUs = 5 * kMinute;
// The main thread idles when it runs this far ahead of a 35-hours-per-scale pace.
constexpr int64_t kIdleSlackUs = 15 * kMinute;

int64_t sessionStartUs()
{
    return unixMicros(2026, 5, 12, 8, 0, 0);
}

} // namespace

struct SessionWriter::Thread {
    formats::ThreadId id;
    Role role = Role::Main;
    Conversation conversation;
    std::optional<ToolRun> previous; // the thread's last tool call
    int previousLoopAttempt = 0;
    int64_t lastRequestUs = 0;
    int64_t lastInputTokens = 0;
    bool sawFailure = false; // some tool call of this thread failed
    std::string finalAnswer; // the thread's last answer, once given
};

SessionWriter::SessionWriter(formats::TapeWriter &writer, const KernelSessionOptions &options)
    // Each stream is seeded with the user's seed XOR its name in ASCII ("time", "chunk", ...).
    : m_writer(writer)
    , m_options(options)
    , m_timing(Random(options.seed ^ 0x74696d65ULL).split())
    , m_chunking(Random(options.seed ^ 0x6368756e6bULL).split())
    , m_ids(Random(options.seed ^ 0x696473ULL).split())
    , m_workspace(Random(options.seed ^ 0x776f726bULL).split())
    , m_toolbox(Random(options.seed ^ 0x746f6f6cULL).split(), m_workspace)
    , m_narrator(Random(options.seed ^ 0x776f7264ULL).split(), m_workspace)
{
}

SessionWriter::~SessionWriter() = default;

double SessionWriter::progress() const
{
    return double(m_stats.evaluations) / double(std::max<int64_t>(1, m_evaluationsPlanned));
}

double SessionWriter::hours() const
{
    return double(m_now - m_stats.startedUs) / double(60 * kMinute);
}

std::string SessionWriter::newId(std::string_view prefix, size_t hexDigits, bool uuid)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(prefix);
    uint64_t bits = 0;
    for (size_t i = 0; i < hexDigits; ++i) {
        if (uuid && (i == 8 || i == 12 || i == 16 || i == 20))
            id.push_back('-');
        if (i % 16 == 0)
            bits = m_ids.bits();
        id.push_back(kHex[bits & 15]);
        bits >>= 4;
    }
    return id;
}

formats::Result<formats::StepIndex> SessionWriter::append(const formats::Step &step)
{
    auto index = m_writer.append(step);
    if (!index)
        return index.error();
    ++m_stats.steps;
    if (m_options.progress && (m_stats.steps % 256 == 0 || m_stats.steps == m_planned))
        m_options.progress(m_stats.steps, m_planned);
    return index;
}

formats::Result<KernelSessionStats> SessionWriter::run()
{
    const double scale = m_options.scale;
    m_planned = plannedKernelSessionSteps(scale);
    Story story(scale);
    m_evaluationsPlanned = story.evaluations();
    m_stats.startedUs = m_now = sessionStartUs();
    m_targetEndUs = m_now + int64_t(kHoursPerScale * scale * double(60 * kMinute));

    if (!m_options.rawLogPath.empty()) {
        auto log = RawLog::create(m_options.rawLogPath);
        if (!log)
            return log.error();
        m_rawLog = std::move(log.value());
    }

    formats::RunInfo info;
    info.name = "kernel-session";
    info.agent = "qwen-code";
    info.command = {"qwen", "--yolo", "--model", std::string(kModel), "--prompt",
                    "Optimise the extend attention kernel; see TASK.md"};
    info.cwd = corpus::workspaceRoot();
    info.labels = {{"sample", "kernel-session"}, {"seed", m_options.seed}, {"scale", scale}};
    info.startedUs = m_now;
    auto run = m_writer.beginRun(info);
    if (!run)
        return run.error();
    m_run = *run;
    auto branch = m_writer.mainBranch(m_run);
    if (!branch)
        return branch.error();
    m_branch = *branch;

    formats::ThreadInfo mainInfo;
    mainInfo.branch = m_branch;
    mainInfo.label = "main";
    mainInfo.startedUs = m_now;
    auto mainId = m_writer.addThread(mainInfo);
    if (!mainId)
        return mainId.error();
    m_main.reset(new Thread{*mainId, Role::Main,
                            Conversation(kModel, corpus::mainSystemPrompt(),
                                         nlohmann::json::parse(corpus::mainToolsJson()), 0.3, 16384),
                            {}, 0, 0, 0, false, {}});
    m_main->conversation.append({{"role", "user"}, {"content", corpus::taskPrompt()}});
    m_stats.threads = 1;

    while (std::optional<PlannedTurn> turn = story.next()) {
        idleIfAhead();
        if (formats::Status s = playTurn(*m_main, *turn); !s)
            return s.error();
    }

    m_stats.endedUs = m_now;
    m_stats.bestSpeedup = m_workspace.benchmark().best();
    if (m_rawLog) {
        if (formats::Status s = m_rawLog->close(); !s)
            return s.error();
        m_stats.rawLogBytes = m_rawLog->bytesWritten();
    }
    const std::string outcome = "stopped: budget reached, best " + fixed(m_stats.bestSpeedup, 2) + "x";
    if (formats::Status s = m_writer.endRun(m_run, m_now, outcome); !s)
        return s.error();
    return m_stats;
}

void SessionWriter::idleIfAhead()
{
    // Natural durations add up to less than 35 hours per scale unit; the rest is idle time
    // (rate limits, a busy machine, the harness waiting), spent in occasional long gaps.
    const double done = double(m_stats.steps) / double(std::max<int64_t>(1, m_planned));
    const int64_t target = m_stats.startedUs + int64_t(double(m_targetEndUs - m_stats.startedUs) * done);
    if (m_now < target - kIdleSlackUs) {
        const int64_t idleFrom = m_now;
        m_now = target + int64_t(m_timing.real(-5, 5) * double(kMinute));
        m_stats.idleGaps.push_back({idleFrom, m_now});
    }
}

formats::Status SessionWriter::playTurn(Thread &thread, const PlannedTurn &turn)
{
    if (turn.compactBefore)
        if (formats::Status s = compact(thread); !s)
            return s;

    std::vector<ToolRun> calls;
    calls.reserve(size_t(turn.toolCount)); // context.previous may point at the first call
    for (int i = 0; i < turn.toolCount; ++i) {
        ToolContext context;
        context.progress = progress();
        context.loopAttempt = turn.loopAttempt;
        context.previous = i == 0 ? (thread.previous ? &*thread.previous : nullptr) : &calls.back();
        calls.push_back(m_toolbox.run(turn.tools[i], context));
    }

    std::string content;
    if (turn.toolCount > 0) {
        Scene scene;
        scene.role = thread.role;
        scene.turn = &turn;
        scene.calls = calls;
        scene.previous = thread.previous ? &*thread.previous : nullptr;
        scene.previousLoopAttempt = thread.previousLoopAttempt;
        scene.progress = progress();
        content = m_narrator.say(scene);
    } else if (thread.role == Role::Main) {
        content = m_narrator.finalAnswer(hours(), m_stats.evaluations, m_stats.toolCalls);
    } else if (thread.role == Role::Profiler) {
        content = profilerReport(m_workspace, m_timing);
    } else {
        content = testWriterReport(m_workspace, thread.sawFailure, m_timing);
    }

    // modelCall() names the calls; the ids are kept here rather than read back from
    // m_modelStep, which a sub-agent spawned below reuses for its own model calls.
    std::vector<std::string> callIds;
    if (turn.toolCount == 0)
        thread.finalAnswer = content;
    auto modelStep = modelCall(thread, content, calls, callIds);
    if (!modelStep)
        return modelStep.error();
    if (turn.loopRecovery) {
        ++m_stats.loops;
        if (m_loopFirstCall)
            m_stats.loopSpans.push_back({*m_loopFirstCall, m_lastResult,
                                         formats::StepIndex(modelStep->value + 1), std::max(1, m_loopAttempts)});
        m_loopFirstCall.reset();
    }
    if (turn.loopStart) {
        m_loopFirstCall = formats::StepIndex(modelStep->value + 1); // its tool call comes next
        m_loopAttempts = 1;
    }
    m_loopAttempts = std::max(m_loopAttempts, turn.loopAttempt);
    thread.previousLoopAttempt = turn.loopAttempt;

    for (size_t i = 0; i < calls.size(); ++i) {
        ToolRun &call = calls[i];
        const std::string &callId = callIds[i];
        formats::Step toolCall;
        toolCall.thread = thread.id;
        toolCall.kind = formats::StepKind::ToolCall;
        toolCall.name = call.name;
        toolCall.callId = callId;
        toolCall.parent = *modelStep;
        toolCall.startedUs = toolCall.endedUs = m_now;
        toolCall.payload = std::move(call.arguments);
        auto callIndex = append(toolCall);
        call.arguments = std::move(toolCall.payload);
        if (!callIndex)
            return callIndex.error();
        ++m_stats.toolCalls;

        const int64_t started = m_now + int64_t(m_timing.real(0.002, 0.03) * double(kSecond));
        if (call.action == Action::Spawn) {
            m_now = started;
            if (formats::Status s = runSubagent(*turn.subagent, call); !s)
                return s;
            call.durationUs = m_now - started;
        }
        m_now = started + call.durationUs;
        formats::Step result;
        result.thread = thread.id;
        result.kind = formats::StepKind::ToolResult;
        result.status = call.failed ? formats::StepStatus::Error : formats::StepStatus::Ok;
        result.name = call.name;
        result.callId = callId;
        result.parent = *callIndex;
        result.startedUs = started;
        result.endedUs = m_now;
        result.payload = {{"output", std::move(call.output)}, {"is_error", call.failed}};
        auto resultIndex = append(result);
        if (!resultIndex)
            return resultIndex.error();
        m_lastResult = *resultIndex;
        m_stats.evaluations += call.evaluation ? 1 : 0;
        m_stats.measuredEvaluations += call.measured ? 1 : 0;
        m_stats.compileErrors += call.compileError ? 1 : 0;
        thread.sawFailure = thread.sawFailure || call.failed;
        thread.conversation.append({{"role", "tool"},
                                    {"tool_call_id", callId},
                                    {"content", std::move(result.payload["output"])}});
    }
    if (!calls.empty())
        thread.previous = std::move(calls.back());
    // The harness's own time between a tool result and the next request.
    m_now += int64_t(m_timing.real(0.05, 0.4) * double(kSecond));
    return {};
}

formats::Result<formats::StepIndex> SessionWriter::modelCall(Thread &thread, const std::string &content,
                                                              const std::vector<ToolRun> &calls,
                                                              std::vector<std::string> &callIds)
{
    // The answer: content, then the tool calls with their arguments as JSON text.
    std::vector<StreamedToolCall> streamed;
    nlohmann::json message = {{"role", "assistant"}, {"content", content}};
    if (!calls.empty()) {
        nlohmann::json toolCalls = nlohmann::json::array();
        for (const ToolRun &call : calls) {
            StreamedToolCall s{newId("call_", 24), call.name, {}};
            appendCompactJson(s.arguments, call.arguments);
            callIds.push_back(s.id);
            toolCalls.push_back({{"id", s.id}, {"type", "function"},
                                 {"function", {{"name", s.name}, {"arguments", s.arguments}}}});
            streamed.push_back(std::move(s));
        }
        message["tool_calls"] = std::move(toolCalls);
    }
    const std::string_view finishReason = calls.empty() ? "stop" : "tool_calls";

    // Usage: ~4 characters per token; the provider caches the prefix the previous request
    // of this thread sent, unless it has expired.
    formats::Usage usage;
    usage.inputTokens = int64_t(thread.conversation.requestBytes() / 4);
    size_t outputChars = content.size();
    for (const StreamedToolCall &s : streamed)
        outputChars += s.arguments.size() + s.name.size();
    // The model thinks before it answers; its reasoning is not streamed but is billed as
    // output and spent before the first token.
    const int64_t reasoningTokens = 30 + int64_t(m_timing.tail(0, 1200));
    usage.outputTokens = int64_t(outputChars * 10 / 36) + 1 + reasoningTokens;
    const int64_t started = m_now;
    if (thread.lastRequestUs > 0 && started - thread.lastRequestUs < kCacheTtlUs)
        usage.cacheReadTokens = std::min(thread.lastInputTokens, usage.inputTokens) / 64 * 64;
    thread.lastRequestUs = started;
    thread.lastInputTokens = usage.inputTokens;

    // Timing: prefill of the uncached part and the reasoning, then the visible answer, all
    // decoded at a rate that varies per call.
    const double fresh = double(usage.inputTokens - usage.cacheReadTokens);
    const double tokensPerSecond = m_timing.real(35, 70);
    const int64_t ttft = int64_t((0.45 + fresh * 20e-6 + double(usage.cacheReadTokens) * 2e-6 +
                                  m_timing.hump(0, 1.4) + double(reasoningTokens) / tokensPerSecond) *
                                 double(kSecond));
    const int64_t decode =
        int64_t(double(usage.outputTokens - reasoningTokens) / tokensPerSecond * double(kSecond));
    const int64_t firstToken = started + ttft;
    const int64_t ended = firstToken + decode;

    formats::Step &step = m_modelStep;
    step.thread = thread.id;
    step.kind = formats::StepKind::ModelCall;
    step.name = kModel;
    step.startedUs = started;
    step.firstTokenUs = firstToken;
    step.endedUs = ended;
    step.usage = usage;
    step.costUsd = callCost(usage, kQwenMaxPrices);
    // The normalized response is the assistant message plus its finish reason; it is moved
    // in and out rather than copied.
    step.payload = std::move(message);
    step.payload["finish_reason"] = finishReason;

    thread.conversation.lendTo(step);
    formats::WireExchange &wire = *step.wire;
    if (wire.method.empty()) {
        // The same for every call; the reused step keeps them and only the varying headers
        // are set below.
        wire.method = "POST";
        wire.url = "/v1/chat/completions";
        wire.status = 200;
        wire.requestHeaders = {
            {"accept", "application/json"},
            {"authorization", "Bearer sk-***"},
            {"content-type", "application/json"},
            {"user-agent", "QwenCode/0.0.14 (linux; x64)"},
            {"x-stainless-lang", "js"},
            {"x-stainless-package-version", "5.11.0"},
        };
        wire.responseHeaders = {
            {"content-type", "text/event-stream;charset=UTF-8"},
            {"x-dashscope-call-gateway", "true"},
            {"vary", "Origin,Access-Control-Request-Method,Access-Control-Request-Headers"},
        };
    }
    wire.requestHeaders["content-length"] = std::to_string(wire.requestBody.size());
    wire.responseHeaders["date"] = httpDate(firstToken);
    wire.responseHeaders["x-request-id"] = newId("", 32, true);
    StreamedAnswer answer;
    const std::string completionId = newId("chatcmpl-", 32, true);
    answer.completionId = completionId;
    answer.model = kModel;
    answer.createdSeconds = started / kSecond;
    answer.content = content;
    answer.toolCalls = streamed;
    answer.finishReason = finishReason;
    answer.usage = usage;
    answer.reasoningTokens = reasoningTokens;
    answer.firstTokenUs = firstToken;
    answer.endedUs = ended;
    writeChatStream(answer, m_chunking, wire);

    auto index = append(step);
    if (index) {
        m_stats.requestBytes += int64_t(wire.requestBody.size());
        ++m_stats.modelCalls;
        if (m_rawLog)
            if (formats::Status s = m_rawLog->write(started, wire); !s)
                index = s.error();
    }
    thread.conversation.takeBack(step);
    message = std::move(step.payload);
    message.erase("finish_reason");
    if (index)
        thread.conversation.append(std::move(message));
    m_now = ended;
    return index;
}

formats::Status SessionWriter::compact(Thread &thread)
{
    // qwen-code's compression: the history is summarised into a state snapshot by a model
    // call of its own, and the conversation restarts from that snapshot.
    const int64_t tokensBefore = int64_t(thread.conversation.requestBytes() / 4);
    const int64_t messagesBefore = int64_t(thread.conversation.messageCount());
    std::string summary = m_narrator.compactionSummary(hours(), m_stats.evaluations, m_toolbox.currentIdea());
    std::vector<nlohmann::json> restart;
    restart.push_back({{"role", "user"}, {"content", summary}});
    restart.push_back({{"role", "assistant"}, {"content", "Got it. Thanks for the additional context!"}});
    restart.push_back({{"role", "user"},
                       {"content", "Continue from the state snapshot above. The task and rules are unchanged."}});
    thread.conversation.restart(std::move(restart));

    formats::Step step;
    step.thread = thread.id;
    step.kind = formats::StepKind::Compaction;
    step.name = "compress";
    step.startedUs = m_now;
    m_now += int64_t(m_timing.real(18, 65) * double(kSecond));
    step.endedUs = m_now;
    step.payload = {
        {"reason", "context_limit"},
        {"tokens_before", tokensBefore},
        {"tokens_after", int64_t(thread.conversation.requestBytes() / 4)},
        {"messages_before", messagesBefore},
        {"messages_after", int64_t(thread.conversation.messageCount())},
        {"summary", std::move(summary)},
    };
    auto index = append(step);
    if (!index)
        return index.error();
    ++m_stats.compactions;
    m_stats.compactionSteps.push_back(*index);
    return {};
}

formats::Status SessionWriter::runSubagent(const PlannedSubagent &plan, ToolRun &spawn)
{
    const bool profiler = plan.kind == SubagentKind::Profiler;
    formats::ThreadInfo info;
    info.branch = m_branch;
    info.parent = m_main->id;
    info.label = std::string(profiler ? "subagent: profiler" : "subagent: tests") +
                 (plan.ordinal > 0 ? " " + std::to_string(plan.ordinal + 1) : "");
    info.startedUs = m_now;
    auto id = m_writer.addThread(info);
    if (!id)
        return id.error();
    ++m_stats.threads;

    Thread thread{*id, profiler ? Role::Profiler : Role::TestWriter,
                  Conversation(kModel, profiler ? corpus::profilerSystemPrompt() : corpus::testWriterSystemPrompt(),
                               nlohmann::json::parse(corpus::subagentToolsJson()), 0.2, 8192),
                  {}, 0, 0, 0, false, {}};
    thread.conversation.append({{"role", "user"}, {"content", spawn.arguments["prompt"]}});
    for (const PlannedTurn &turn : plan.turns)
        if (formats::Status s = playTurn(thread, turn); !s)
            return s;
    // The sub-agent's last answer is what the task tool returns.
    spawn.output = std::move(thread.finalAnswer);
    return {};
}

} // namespace tapedeck::samples
