// A tape as OpenTelemetry traces: OTLP/JSON ExportTraceServiceRequest bodies whose spans
// follow the GenAI semantic conventions (kOtelSemconvVersion). exporters.h says what the
// trace of a run holds; formats/FORMAT.md lists every attribute.
//
// OTLP/JSON is the protobuf JSON mapping with OTLP's exceptions: trace and span ids are hex
// strings, enums are integers, 64-bit integers (times in nanoseconds, intValue) are
// strings, field names are lowerCamelCase.
#include "export/exportscope.h"
#include "import/lenientjson.h"

#include <tapedeck/formats/exporters.h>
#include <tapedeck/formats/wire.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

namespace tapedeck::formats {

using exportdetail::errorMessageOf;
using exportdetail::ExportScope;
using exportdetail::StepClock;
using import::member;
using import::numberMember;
using import::stringMember;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------
// Ids: derived from the tape, so that exporting twice gives the same trace.

uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hashText(std::string_view text, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (unsigned char c : text)
        h = (h ^ c) * 0x100000001b3ull;
    return mix64(h);
}

std::string hex64(uint64_t v)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4)
        out[size_t(i)] = kDigits[v & 15];
    return out;
}

enum class SpanTag : uint64_t { Run = 1, Branch = 2, Thread = 3, Step = 4 };

// The trace of one run (or of one branch of it: a branch exported on its own is another
// trace, so that its spans never merge with the whole run's in a backend).
class TraceIds {
public:
    TraceIds(const RunInfo &run, std::optional<BranchId> branch)
    {
        std::string identity = "tapedeck run " + std::to_string(run.id.value) + " " +
                               std::to_string(run.startedUs) + " " + run.agent + " " + run.name;
        if (branch)
            identity += " branch " + std::to_string(branch->value);
        m_high = hashText(identity, 0x7461706564656b31ull);
        m_low = hashText(identity, 0x7461706564656b32ull);
        if (!m_high && !m_low)
            m_low = 1; // an all-zero trace id is invalid
    }

    std::string traceId() const { return hex64(m_high) + hex64(m_low); }
    std::string spanId(SpanTag tag, int64_t id) const
    {
        uint64_t v = mix64(m_low ^ mix64((uint64_t(tag) << 56) ^ uint64_t(id)));
        return hex64(v ? v : 1);
    }

private:
    uint64_t m_high = 0;
    uint64_t m_low = 0;
};

// ---------------------------------------------------------------------------------------
// Attributes: [{key, value: {stringValue | intValue | doubleValue | boolValue | arrayValue}}]

class Attributes {
public:
    void text(std::string_view key, const std::string &value)
    {
        add(key, {{"stringValue", value}});
    }
    void integer(std::string_view key, int64_t value)
    {
        add(key, {{"intValue", std::to_string(value)}});
    }
    void number(std::string_view key, double value) { add(key, {{"doubleValue", value}}); }
    void flag(std::string_view key, bool value) { add(key, {{"boolValue", value}}); }
    void texts(std::string_view key, const std::vector<std::string> &values)
    {
        json list = json::array();
        for (const std::string &v : values)
            list.push_back({{"stringValue", v}});
        add(key, {{"arrayValue", {{"values", std::move(list)}}}});
    }
    // Content attributes hold JSON documents as strings, as the conventions do.
    void document(std::string_view key, const json &value)
    {
        text(key, value.dump(-1, ' ', false, json::error_handler_t::replace));
    }

    const json &list() const { return m_list; }

private:
    void add(std::string_view key, json value)
    {
        m_list.push_back({{"key", std::string(key)}, {"value", std::move(value)}});
    }
    json m_list = json::array();
};

// The JSON text of a value as a tool argument or output is shown: strings as they are.
std::string textOf(const json &value)
{
    return value.is_string() ? value.get<std::string>()
                             : value.dump(-1, ' ', false, json::error_handler_t::replace);
}

enum SpanKind { kSpanInternal = 1, kSpanClient = 3 };
enum StatusCode { kStatusUnset = 0, kStatusError = 2 };

struct SpanOut {
    std::string spanId;
    std::string parentSpanId; // empty for a root span
    std::string name;
    int kind = kSpanInternal;
    int64_t startUs = 0;
    int64_t endUs = 0;
    Attributes attributes;
    json events = json::array();
    int status = kStatusUnset;
    std::string statusMessage;

    // A failed operation: error.type, as the conventions ask, and an ERROR status.
    void fail(const std::string &errorType, const std::string &message = {})
    {
        attributes.text("error.type", errorType);
        status = kStatusError;
        statusMessage = message;
    }

    json toJson(const std::string &traceId) const
    {
        json span = {{"traceId", traceId},
                     {"spanId", spanId},
                     {"name", name},
                     {"kind", kind},
                     {"startTimeUnixNano", nanos(startUs)},
                     {"endTimeUnixNano", nanos(std::max(endUs, startUs))},
                     {"attributes", attributes.list()}};
        if (!parentSpanId.empty())
            span["parentSpanId"] = parentSpanId;
        if (!events.empty())
            span["events"] = events;
        if (status != kStatusUnset) {
            json s = {{"code", status}};
            if (!statusMessage.empty())
                s["message"] = statusMessage;
            span["status"] = std::move(s);
        }
        return span;
    }

    static std::string nanos(int64_t us) { return us > 0 ? std::to_string(us) + "000" : "0"; }
};

json spanEvent(const std::string &name, int64_t atUs, const Attributes &attributes)
{
    return {
        {"timeUnixNano", SpanOut::nanos(atUs)}, {"name", name}, {"attributes", attributes.list()}};
}

// ---------------------------------------------------------------------------------------
// Which API a model call spoke, and who provided the model

// From the shape of the normalized request, for steps without wire bytes (imported ones).
// The same rules as the desktop app's inspector uses.
wire::Api guessApi(const Step &step)
{
    const json &params = step.requestParams;
    for (const char *key : {"systemInstruction", "system_instruction", "generationConfig"}) {
        if (member(params, key))
            return wire::Api::Gemini;
    }
    for (const char *key : {"instructions", "previous_response_id", "max_output_tokens"}) {
        if (member(params, key))
            return wire::Api::OpenAIResponses;
    }
    if (const json *system = member(params, "system"); system && system->is_array())
        return wire::Api::AnthropicMessages;
    for (const json &m : step.requestMessages) {
        if (m.is_string())
            return wire::Api::OpenAIResponses;
        if (member(m, "parts"))
            return wire::Api::Gemini;
        if (member(m, "type"))
            return wire::Api::OpenAIResponses;
        if (member(m, "tool_calls") || stringMember(m, "role") == "tool")
            return wire::Api::OpenAIChat;
        const json *content = member(m, "content");
        if (!content || !content->is_array())
            continue;
        for (const json &part : *content) {
            const std::string type = stringMember(part, "type");
            if (type == "tool_use" || type == "tool_result" || type == "thinking")
                return wire::Api::AnthropicMessages;
            if (type == "input_text" || type == "output_text")
                return wire::Api::OpenAIResponses;
        }
    }
    return wire::Api::OpenAIChat;
}

std::string lowercase(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

// gen_ai.provider.name from a model name: a router's "provider/model" prefix first (LiteLLM,
// OpenRouter), then the model family. Empty when the name says nothing.
std::string providerOfModel(const std::string &model)
{
    static const std::array<std::pair<const char *, const char *>, 12> kPrefixes = {{
        {"anthropic/", "anthropic"},
        {"openai/", "openai"},
        {"azure/", "azure.ai.openai"},
        {"bedrock/", "aws.bedrock"},
        {"gemini/", "gcp.gemini"},
        {"vertex_ai/", "gcp.vertex_ai"},
        {"deepseek/", "deepseek"},
        {"mistral/", "mistral_ai"},
        {"groq/", "groq"},
        {"xai/", "x_ai"},
        {"cohere/", "cohere"},
        {"perplexity/", "perplexity"},
    }};
    static const std::array<std::pair<const char *, const char *>, 9> kFamilies = {{
        {"claude", "anthropic"},
        {"gpt", "openai"},
        {"codex", "openai"},
        {"gemini", "gcp.gemini"},
        {"deepseek", "deepseek"},
        {"mistral", "mistral_ai"},
        {"codestral", "mistral_ai"},
        {"grok", "x_ai"},
        {"command-", "cohere"},
    }};
    const std::string name = lowercase(model);
    for (const auto &[prefix, provider] : kPrefixes) {
        if (name.starts_with(prefix))
            return provider;
    }
    for (const auto &[family, provider] : kFamilies) {
        if (name.find(family) != std::string::npos)
            return provider;
    }
    // OpenAI's reasoning models: o1, o3-mini, o4-mini, ...
    if (name.size() >= 2 && name[0] == 'o' && std::isdigit((unsigned char)name[1]))
        return "openai";
    return {};
}

const char *providerOfApi(wire::Api api)
{
    switch (api) {
    case wire::Api::AnthropicMessages:
        return "anthropic";
    case wire::Api::Gemini:
        return "gcp.gemini";
    case wire::Api::OpenAIChat:
    case wire::Api::OpenAIResponses:
        return "openai";
    }
    return "_OTHER";
}

// ---------------------------------------------------------------------------------------
// Content in the conventions' message format (gen-ai-input-messages.json and
// gen-ai-output-messages.json): {role, parts: [{type: text|reasoning|tool_call|
// tool_call_response, ...}]}.

json semconvParts(const wire::Message &m)
{
    json parts = json::array();
    if (m.role == wire::Role::Tool) {
        parts.push_back(
            {{"type", "tool_call_response"}, {"id", m.toolCallId}, {"response", m.text}});
        return parts;
    }
    if (!m.thinking.empty())
        parts.push_back({{"type", "reasoning"}, {"content", m.thinking}});
    if (!m.text.empty())
        parts.push_back({{"type", "text"}, {"content", m.text}});
    for (const wire::ToolCall &call : m.toolCalls) {
        parts.push_back({{"type", "tool_call"},
                         {"id", call.id},
                         {"name", call.name},
                         {"arguments", call.arguments}});
    }
    return parts;
}

json semconvMessage(const wire::Message &m)
{
    return {{"role", wire::roleName(m.role)}, {"parts", semconvParts(m)}};
}

// An entry the codec cannot read, kept as text so that nothing is lost.
json rawMessage(const json &entry)
{
    std::string role = stringMember(entry, "role");
    const json *content = member(entry, "content");
    const std::string text = content ? textOf(*content) : textOf(entry);
    return {{"role", role.empty() ? "user" : role},
            {"parts", json::array({{{"type", "text"}, {"content", text}}})}};
}

// The messages one conversation entry (as the tape keeps it) stands for.
void appendEntry(wire::Api api, const json &entry, json &out)
{
    json body = json::object();
    body[wire::conversationMember(api)] =
        api == wire::Api::OpenAIResponses && entry.is_string() ? entry : json::array({entry});
    auto parsed = wire::parseRequest(api, body);
    if (!parsed) {
        out.push_back(rawMessage(entry));
        return;
    }
    if (parsed->messages.empty() && !parsed->system.empty()) {
        out.push_back({{"role", "system"},
                       {"parts", json::array({{{"type", "text"}, {"content", parsed->system}}})}});
        return;
    }
    for (const wire::Message &m : parsed->messages)
        out.push_back(semconvMessage(m));
}

json inputMessages(wire::Api api, const std::vector<json> &entries)
{
    json out = json::array();
    for (const json &entry : entries)
        appendEntry(api, entry, out);
    return out;
}

// The system prompt kept beside the messages (Anthropic's system, Responses' instructions,
// Gemini's systemInstruction), as gen_ai.system_instructions parts; null when none.
json systemInstructions(wire::Api api, const json &params)
{
    if (!params.is_object())
        return nullptr;
    json head = params;
    head[wire::conversationMember(api)] = json::array();
    std::string system;
    if (auto parsed = wire::parseRequest(api, head))
        system = parsed->system;
    if (system.empty())
        system = stringMember(params, "system");
    if (system.empty())
        return nullptr;
    return json::array({{{"type", "text"}, {"content", system}}});
}

const char *finishReason(wire::StopReason reason)
{
    switch (reason) {
    case wire::StopReason::EndTurn:
        return "stop";
    case wire::StopReason::ToolUse:
        return "tool_call";
    case wire::StopReason::MaxTokens:
        return "length";
    case wire::StopReason::Other:
        return "other";
    }
    return "other";
}

// Whether a response body says why the model stopped. Importers' payloads (an assistant
// message) often do not, and the codecs then fall back to a default that is no data.
bool statesStopReason(wire::Api api, const json &payload)
{
    auto firstOf = [&](const char *list) -> const json & {
        static const json none;
        const json *items = import::arrayMember(payload, list);
        return items && !items->empty() ? (*items)[0] : none;
    };
    switch (api) {
    case wire::Api::AnthropicMessages:
        return !stringMember(payload, "stop_reason").empty();
    case wire::Api::OpenAIChat:
        return !stringMember(firstOf("choices"), "finish_reason").empty();
    case wire::Api::OpenAIResponses:
        return !stringMember(payload, "status").empty();
    case wire::Api::Gemini:
        return !stringMember(firstOf("candidates"), "finishReason").empty();
    }
    return false;
}

// gen_ai.output.messages. `finish` is the stop reason the response states, empty when it
// states none: the messages' required finish_reason then says what the content shows.
json outputMessages(wire::Api api, const json &payload,
                    const std::optional<wire::Response> &response, const std::string &finish)
{
    json out = json::array();
    if (response) {
        wire::Message m;
        m.role = wire::Role::Assistant;
        m.text = response->text;
        m.thinking = response->thinking;
        m.toolCalls = response->toolCalls;
        out.push_back(semconvMessage(m));
    } else if (payload.is_array()) { // Responses' output items, as an importer keeps them
        for (const json &entry : payload)
            appendEntry(api, entry, out);
    } else if (!payload.is_null()) {
        appendEntry(api, payload, out);
    }
    for (json &message : out) {
        const bool calls =
            std::any_of(message["parts"].begin(), message["parts"].end(),
                        [](const json &p) { return p.value("type", "") == "tool_call"; });
        message["finish_reason"] = !finish.empty() ? finish : calls ? "tool_call" : "stop";
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Batches: each a resourceSpans entry of one run, closed at the size limits

// Writes span after span into resourceSpans entries, each a run's resource and scope with
// at most options' limit of spans; hands every closed entry to `emit`.
class EntryWriter {
public:
    using Emit = std::function<Status(const std::string &entry, int64_t spans)>;
    EntryWriter(const OtlpOptions &options, Emit emit) : m_options(options), m_emit(std::move(emit))
    {
    }

    void beginRun(const RunInfo &run)
    {
        Attributes resource;
        resource.text("service.name", run.agent.empty() ? "tapedeck" : run.agent);
        json scope = {{"name", "tapedeck"}, {"version", TAPEDECK_VERSION}};
        m_prefix = "{\"resource\":" + json{{"attributes", resource.list()}}.dump() +
                   ",\"schemaUrl\":\"" + kOtelSchemaUrl +
                   "\",\"scopeSpans\":[{\"scope\":" + scope.dump() + ",\"schemaUrl\":\"" +
                   kOtelSchemaUrl + "\",\"spans\":[";
    }

    Status add(const json &span)
    {
        std::string text = span.dump(-1, ' ', false, json::error_handler_t::replace);
        if (m_spans && (m_spans >= m_options.maxBatchSpans ||
                        int64_t(m_body.size() + text.size()) > m_options.maxBatchBytes)) {
            if (Status s = flush(); !s)
                return s;
        }
        if (m_spans)
            m_body += ',';
        m_body += text;
        ++m_spans;
        ++m_total;
        return {};
    }

    Status flush()
    {
        if (!m_spans)
            return {};
        Status s = m_emit(m_prefix + m_body + "]}]}", m_spans);
        m_body.clear();
        m_spans = 0;
        return s;
    }

    int64_t total() const { return m_total; }

private:
    const OtlpOptions &m_options;
    Emit m_emit;
    std::string m_prefix;
    std::string m_body;
    int64_t m_spans = 0;
    int64_t m_total = 0;
};

// ---------------------------------------------------------------------------------------
// The trace of one run

// Turns a run's steps, in order, into spans. Model calls, MCP calls and HTTP exchanges are
// written as they come; a tool call waits for its result; the agent spans (run, branches,
// sub-agents), whose ends and events are known last, are written by finish().
class RunTrace {
public:
    RunTrace(const ExportScope &scope, const RunInfo &run, const OtlpOptions &options,
             EntryWriter &writer)
        : m_scope(scope), m_run(run), m_options(options), m_writer(writer),
          m_ids(run, scope.selectedBranch()), m_traceId(m_ids.traceId()),
          m_recordedBranch(scope.recordedBranch(run.id))
    {
        m_root.spanId = m_ids.spanId(SpanTag::Run, run.id.value);
        m_root.startUs = run.startedUs;
        m_root.endUs = run.endedUs;
    }

    Status add(const Step &step)
    {
        const ThreadInfo *thread = m_scope.thread(step.thread);
        const int64_t fallback = thread && thread->startedUs ? thread->startedUs : m_run.startedUs;
        const StepClock::Placed at =
            m_clock.place(step.thread, fallback, step.startedUs, step.endedUs);
        coverAgents(step.thread, at);
        switch (step.kind) {
        case StepKind::ModelCall:
            return write(modelCallSpan(step, at));
        case StepKind::ToolCall:
            openToolCall(step, at);
            return {};
        case StepKind::ToolResult:
            return closeToolCall(step, at);
        case StepKind::McpCall:
            return write(mcpCallSpan(step, at));
        case StepKind::HttpExchange:
            return write(httpSpan(step, at));
        case StepKind::Error:
            addErrorEvent(step, at);
            return {};
        case StepKind::Compaction:
            addCompactionEvent(step, at);
            return {};
        case StepKind::Annotation:
        case StepKind::ForkPoint:
            return {};
        }
        return {};
    }

    Status finish()
    {
        for (const auto &[index, call] : m_openCalls) {
            SpanOut span = toolSpan(call);
            span.attributes.flag("tapedeck.tool.result_missing", true);
            if (Status s = write(std::move(span)); !s)
                return s;
        }
        m_openCalls.clear();
        for (const auto &[id, agent] : m_threadSpans) {
            if (Status s = write(threadSpan(id, agent)); !s)
                return s;
        }
        for (const auto &[id, agent] : m_branchSpans) {
            if (Status s = write(branchSpan(id, agent)); !s)
                return s;
        }
        return write(rootSpan());
    }

private:
    // An open tool call, kept until its result arrives.
    struct OpenCall {
        int64_t index = 0; // of the tool call, or of the result when there is no call
        bool hasCall = true;
        ThreadId thread;
        std::string name;
        std::string callId;
        StepClock::Placed at;
        std::string arguments; // only with content
        std::optional<Step> result;
    };
    // The span of a tool call, remembered for the sub-agent a tool may have spawned.
    struct ToolWindow {
        int64_t startUs = 0;
        int64_t endUs = 0;
        std::string spanId;
    };

    Status write(SpanOut span) { return m_writer.add(span.toJson(m_traceId)); }

    // A thread's steps hang under an agent span: the sub-agent's own, the one of the branch
    // the thread is on (when that is a forked one), or the run's.
    enum class AgentLevel { Run, Branch, Thread };
    AgentLevel agentLevel(const ThreadInfo *thread) const
    {
        if (thread && thread->parent)
            return AgentLevel::Thread;
        if (thread && m_scope.wholeRuns() && m_recordedBranch &&
            thread->branch != *m_recordedBranch)
            return AgentLevel::Branch;
        return AgentLevel::Run;
    }

    std::string agentSpanId(ThreadId id) const
    {
        const ThreadInfo *thread = m_scope.thread(id);
        switch (agentLevel(thread)) {
        case AgentLevel::Thread:
            return m_ids.spanId(SpanTag::Thread, id.value);
        case AgentLevel::Branch:
            return m_ids.spanId(SpanTag::Branch, thread->branch.value);
        case AgentLevel::Run:
            break;
        }
        return m_root.spanId;
    }

    // The agent span itself, made when first needed (its end and events grow as steps come).
    SpanOut &agentSpanOf(ThreadId id)
    {
        const ThreadInfo *thread = m_scope.thread(id);
        const AgentLevel level = agentLevel(thread);
        if (level == AgentLevel::Run)
            return m_root;
        auto &spans = level == AgentLevel::Thread ? m_threadSpans : m_branchSpans;
        auto [it, created] =
            spans.try_emplace(level == AgentLevel::Thread ? id.value : thread->branch.value);
        if (created) {
            it->second.spanId = agentSpanId(id);
            const BranchInfo *branch = m_scope.branch(thread->branch);
            it->second.startUs =
                level == AgentLevel::Thread ? thread->startedUs : (branch ? branch->createdUs : 0);
        }
        return it->second;
    }

    // Stretches the agent spans a step is under (its thread's, the threads' that spawned
    // that one, the run's) to cover it.
    void coverAgents(ThreadId id, const StepClock::Placed &at)
    {
        std::set<int64_t> seen; // a damaged tape could make the parents a loop
        for (const ThreadInfo *t = m_scope.thread(id); t && seen.insert(t->id.value).second;) {
            cover(agentSpanOf(t->id), at);
            t = t->parent ? m_scope.thread(*t->parent) : nullptr;
        }
        cover(m_root, at);
    }

    static void cover(SpanOut &span, const StepClock::Placed &at)
    {
        if (at.startUs > 0 && (span.startUs <= 0 || at.startUs < span.startUs))
            span.startUs = at.startUs;
        span.endUs = std::max(span.endUs, at.endUs);
    }

    SpanOut stepSpan(const Step &step, const StepClock::Placed &at, std::string name, int kind)
    {
        SpanOut span;
        span.spanId = m_ids.spanId(SpanTag::Step, step.index.value);
        span.parentSpanId = agentSpanId(step.thread);
        span.name = std::move(name);
        span.kind = kind;
        span.startUs = at.startUs;
        span.endUs = at.endUs;
        addStepAttributes(span.attributes, step, at);
        return span;
    }

    void addStepAttributes(Attributes &a, const Step &step, const StepClock::Placed &at)
    {
        a.integer("tapedeck.step.index", step.index.value);
        a.integer("tapedeck.thread.id", step.thread.value);
        if (const ThreadInfo *thread = m_scope.thread(step.thread))
            a.text("tapedeck.thread.label", thread->label);
        if (at.unknown)
            a.flag("tapedeck.time_unknown", true);
        if (step.costUsd)
            a.number("tapedeck.cost_usd", *step.costUsd);
    }

    SpanOut modelCallSpan(const Step &step, const StepClock::Placed &at)
    {
        const std::optional<wire::Api> spoken =
            step.wire ? wire::apiForPath(step.wire->url) : std::nullopt;
        const wire::Api api = spoken ? *spoken : guessApi(step);
        std::string model = stringMember(step.requestParams, "model");
        if (model.empty())
            model = step.name;
        std::string provider = providerOfModel(model);
        if (provider.empty())
            provider = providerOfApi(api);
        if (m_provider.empty())
            m_provider = provider;

        SpanOut span = stepSpan(step, at, model.empty() ? "chat" : "chat " + model, kSpanClient);
        Attributes &a = span.attributes;
        a.text("gen_ai.operation.name", "chat");
        a.text("gen_ai.provider.name", provider);
        if (!model.empty())
            a.text("gen_ai.request.model", model);
        a.text("tapedeck.api", wire::apiName(api));
        if (!spoken)
            a.flag("tapedeck.api_guessed", true);
        addRequestParameters(a, step);

        std::optional<wire::Response> response;
        if (step.status == StepStatus::Ok && step.payload.is_object()) {
            if (auto parsed = wire::parseResponse(api, step.payload))
                response = std::move(*parsed);
        }
        const std::string finish = response && statesStopReason(api, step.payload)
                                       ? finishReason(response->stopReason)
                                       : "";
        addResponse(a, step, response, finish);
        addUsage(a, step.usage);
        if (step.firstTokenUs > 0 && step.startedUs > 0 && step.firstTokenUs >= step.startedUs)
            a.number("gen_ai.response.time_to_first_chunk",
                     double(step.firstTokenUs - step.startedUs) / 1e6);
        if (step.status != StepStatus::Ok)
            span.fail(modelErrorType(step), modelErrorMessage(step));
        if (m_options.includeContent) {
            a.document("gen_ai.input.messages", inputMessages(api, step.requestMessages));
            if (json system = systemInstructions(api, step.requestParams); !system.is_null())
                a.document("gen_ai.system_instructions", system);
            if (step.status == StepStatus::Ok)
                a.document("gen_ai.output.messages",
                           outputMessages(api, step.payload, response, finish));
        }
        m_usage.inputTokens += step.usage.inputTokens;
        m_usage.outputTokens += step.usage.outputTokens;
        m_usage.cacheReadTokens += step.usage.cacheReadTokens;
        m_usage.cacheWriteTokens += step.usage.cacheWriteTokens;
        return span;
    }

    static void addRequestParameters(Attributes &a, const Step &step)
    {
        const json &params = step.requestParams;
        const json *config = member(params, "generationConfig"); // Gemini keeps them here
        const json &sampling = config ? *config : params;
        for (const char *key :
             {"max_tokens", "max_completion_tokens", "max_output_tokens", "maxOutputTokens"}) {
            if (auto v = numberMember(sampling, key)) {
                a.integer("gen_ai.request.max_tokens", int64_t(*v));
                break;
            }
        }
        if (auto v = numberMember(sampling, "temperature"))
            a.number("gen_ai.request.temperature", *v);
        for (const char *key : {"top_p", "topP"}) {
            if (auto v = numberMember(sampling, key)) {
                a.number("gen_ai.request.top_p", *v);
                break;
            }
        }
        const json *stream = member(params, "stream");
        if ((step.wire && !step.wire->chunks.empty()) ||
            (stream && stream->is_boolean() && stream->get<bool>()))
            a.flag("gen_ai.request.stream", true);
    }

    static void addResponse(Attributes &a, const Step &step,
                            const std::optional<wire::Response> &response,
                            const std::string &finish)
    {
        std::string model = response ? response->model : std::string();
        std::string id = response ? response->id : std::string();
        if (model.empty())
            model = stringMember(step.payload, "model");
        if (model.empty())
            model = stringMember(step.payload, "modelVersion");
        if (id.empty())
            id = stringMember(step.payload, "id");
        if (!model.empty())
            a.text("gen_ai.response.model", model);
        if (!id.empty())
            a.text("gen_ai.response.id", id);
        if (!finish.empty())
            a.texts("gen_ai.response.finish_reasons", {finish});
    }

    // The conventions count cached tokens in input_tokens; the tape keeps them apart.
    static void addUsage(Attributes &a, const Usage &u)
    {
        if (u == Usage{})
            return;
        a.integer("gen_ai.usage.input_tokens",
                  u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens);
        a.integer("gen_ai.usage.output_tokens", u.outputTokens);
        if (u.cacheReadTokens)
            a.integer("gen_ai.usage.cache_read.input_tokens", u.cacheReadTokens);
        if (u.cacheWriteTokens)
            a.integer("gen_ai.usage.cache_creation.input_tokens", u.cacheWriteTokens);
    }

    static std::string modelErrorType(const Step &step)
    {
        const int status = step.wire ? step.wire->status : 0;
        if (auto error = wire::parseError(status ? status : 500, step.payload);
            error && !error->type.empty())
            return error->type;
        if (status >= 400)
            return std::to_string(status);
        return step.status == StepStatus::Cancelled ? "cancelled" : "_OTHER";
    }

    static std::string modelErrorMessage(const Step &step)
    {
        const int status = step.wire ? step.wire->status : 0;
        if (auto error = wire::parseError(status ? status : 500, step.payload))
            return error->message;
        return {};
    }

    void openToolCall(const Step &step, const StepClock::Placed &at)
    {
        OpenCall call;
        call.index = step.index.value;
        call.thread = step.thread;
        call.name = step.name;
        call.callId = step.callId;
        call.at = at;
        if (m_options.includeContent)
            call.arguments = textOf(step.payload);
        if (!step.callId.empty())
            m_callIds[step.callId] = call.index;
        m_openCalls[call.index] = std::move(call);
    }

    Status closeToolCall(const Step &result, const StepClock::Placed &at)
    {
        auto open = result.parent ? m_openCalls.find(result.parent->value) : m_openCalls.end();
        if (open == m_openCalls.end() && !result.callId.empty()) {
            if (auto byId = m_callIds.find(result.callId); byId != m_callIds.end())
                open = m_openCalls.find(byId->second);
        }
        if (open == m_openCalls.end()) {
            // A result whose call is not in the tape (or not selected): the result alone.
            OpenCall alone{result.index.value,
                           false,
                           result.thread,
                           result.name,
                           result.callId,
                           at,
                           {},
                           result};
            return write(toolSpan(alone));
        }
        OpenCall call = std::move(open->second);
        m_openCalls.erase(open);
        m_callIds.erase(call.callId);
        call.result = result;
        call.at.endUs = std::max(call.at.endUs, at.endUs);
        call.at.unknown = call.at.unknown || at.unknown;
        return write(toolSpan(call));
    }

    SpanOut toolSpan(const OpenCall &call)
    {
        SpanOut span;
        span.spanId = m_ids.spanId(SpanTag::Step, call.index);
        span.parentSpanId = agentSpanId(call.thread);
        span.name = "execute_tool " + call.name;
        span.startUs = call.at.startUs;
        span.endUs = call.at.endUs;
        Attributes &a = span.attributes;
        a.text("gen_ai.operation.name", "execute_tool");
        a.text("gen_ai.tool.name", call.name);
        a.text("gen_ai.tool.type", "function");
        if (!call.callId.empty())
            a.text("gen_ai.tool.call.id", call.callId);
        a.integer("tapedeck.step.index", call.index);
        a.integer("tapedeck.thread.id", call.thread.value);
        if (call.at.unknown)
            a.flag("tapedeck.time_unknown", true);
        if (m_options.includeContent && call.hasCall)
            a.text("gen_ai.tool.call.arguments", call.arguments);
        if (call.result) {
            const Step &r = *call.result;
            a.integer("tapedeck.result_step.index", r.index.value);
            const json *output = member(r.payload, "output");
            if (m_options.includeContent && output)
                a.text("gen_ai.tool.call.result", textOf(*output));
            if (r.status == StepStatus::Cancelled)
                span.fail("cancelled", "the tool was interrupted");
            else if (r.status == StepStatus::Error || import::boolMember(r.payload, "is_error"))
                span.fail("tool_error", "the tool reported an error");
        }
        m_toolWindows[call.thread.value].push_back({span.startUs, span.endUs, span.spanId});
        return span;
    }

    SpanOut mcpCallSpan(const Step &step, const StepClock::Placed &at)
    {
        SpanOut span = stepSpan(step, at, "execute_tool " + step.name, kSpanClient);
        Attributes &a = span.attributes;
        a.text("gen_ai.operation.name", "execute_tool");
        a.text("gen_ai.tool.name", step.name);
        a.text("gen_ai.tool.type", "extension");
        if (std::string method = stringMember(step.payload, "method"); !method.empty())
            a.text("mcp.method.name", method);
        if (std::string server = stringMember(step.payload, "server"); !server.empty())
            a.text("tapedeck.mcp.server", server);
        if (m_options.includeContent) {
            if (const json *arguments = member(step.payload, "arguments"))
                a.text("gen_ai.tool.call.arguments", textOf(*arguments));
            if (const json *result = member(step.payload, "result"))
                a.text("gen_ai.tool.call.result", textOf(*result));
        }
        if (step.status != StepStatus::Ok)
            span.fail(step.status == StepStatus::Cancelled ? "cancelled" : "tool_error");
        return span;
    }

    SpanOut httpSpan(const Step &step, const StepClock::Placed &at)
    {
        const std::string method =
            step.wire && !step.wire->method.empty() ? step.wire->method : "HTTP";
        SpanOut span = stepSpan(step, at, method, kSpanClient);
        Attributes &a = span.attributes;
        a.text("tapedeck.step.name", step.name);
        if (step.wire) {
            a.text("http.request.method", step.wire->method);
            a.text("url.full", step.wire->url);
            if (step.wire->status)
                a.integer("http.response.status_code", step.wire->status);
        }
        const int status = step.wire ? step.wire->status : 0;
        if (status >= 400)
            span.fail(std::to_string(status));
        else if (step.status != StepStatus::Ok)
            span.fail(step.status == StepStatus::Cancelled ? "cancelled" : "_OTHER");
        return span;
    }

    void addErrorEvent(const Step &step, const StepClock::Placed &at)
    {
        Attributes a;
        a.text("exception.type", step.name.empty() ? "error" : step.name);
        if (std::string message = errorMessageOf(step.payload); !message.empty())
            a.text("exception.message", message);
        addStepAttributes(a, step, at);
        agentSpanOf(step.thread).events.push_back(spanEvent("exception", at.startUs, a));
        ++m_errors;
    }

    void addCompactionEvent(const Step &step, const StepClock::Placed &at)
    {
        Attributes a;
        addStepAttributes(a, step, at);
        if (m_options.includeContent)
            a.document("tapedeck.compaction.payload", step.payload);
        agentSpanOf(step.thread).events.push_back(spanEvent("tapedeck.compaction", at.startUs, a));
    }

    void addAgentAttributes(SpanOut &span, const std::string &agentName) const
    {
        span.name = "invoke_agent " + agentName;
        span.attributes.text("gen_ai.operation.name", "invoke_agent");
        span.attributes.text("gen_ai.agent.name", agentName);
        if (!m_provider.empty())
            span.attributes.text("gen_ai.provider.name", m_provider);
    }

    std::string runAgentName() const
    {
        if (!m_run.agent.empty())
            return m_run.agent;
        return m_run.name.empty() ? "agent" : m_run.name;
    }

    SpanOut threadSpan(int64_t id, SpanOut span) const
    {
        const ThreadInfo *thread = m_scope.thread(ThreadId{id});
        addAgentAttributes(span, thread && !thread->label.empty() ? thread->label
                                                                  : "thread " + std::to_string(id));
        span.attributes.integer("tapedeck.thread.id", id);
        if (thread) {
            span.attributes.text("tapedeck.thread.label", thread->label);
            span.parentSpanId = spawnerOf(*thread, span.startUs);
        }
        return span;
    }

    // The span a sub-agent's span hangs under: the parent thread's tool call that was
    // running when the sub-agent started (the innermost, when several were), else the
    // parent thread's agent span.
    std::string spawnerOf(const ThreadInfo &thread, int64_t startUs) const
    {
        const ToolWindow *best = nullptr;
        if (auto windows = m_toolWindows.find(thread.parent->value);
            windows != m_toolWindows.end()) {
            for (const ToolWindow &w : windows->second) {
                if (w.startUs <= startUs && startUs <= w.endUs &&
                    (!best || w.startUs >= best->startUs))
                    best = &w;
            }
        }
        return best ? best->spanId : agentSpanId(*thread.parent);
    }

    SpanOut branchSpan(int64_t id, SpanOut span) const
    {
        addAgentAttributes(span, runAgentName());
        span.parentSpanId = m_root.spanId;
        span.attributes.integer("tapedeck.branch.id", id);
        if (const BranchInfo *branch = m_scope.branch(BranchId{id})) {
            if (branch->parent)
                span.attributes.integer("tapedeck.branch.parent", branch->parent->value);
            if (branch->forkStep)
                span.attributes.integer("tapedeck.branch.fork_step", branch->forkStep->value);
            span.attributes.text("tapedeck.branch.description", branch->description);
        }
        return span;
    }

    SpanOut rootSpan()
    {
        SpanOut span = std::move(m_root);
        addAgentAttributes(span, runAgentName());
        Attributes &a = span.attributes;
        a.integer("tapedeck.run.id", m_run.id.value);
        a.text("tapedeck.run.name", m_run.name);
        if (!m_run.outcome.empty())
            a.text("tapedeck.run.outcome", m_run.outcome);
        if (m_scope.selectedBranch())
            a.integer("tapedeck.branch.id", m_scope.selectedBranch()->value);
        if (m_run.labels.is_object()) {
            for (const auto &[key, value] : m_run.labels.items())
                a.text("tapedeck.run.label." + key, textOf(value));
        }
        if (m_usage != Usage{}) {
            a.integer("gen_ai.usage.input_tokens",
                      m_usage.inputTokens + m_usage.cacheReadTokens + m_usage.cacheWriteTokens);
            a.integer("gen_ai.usage.output_tokens", m_usage.outputTokens);
        }
        if (m_errors)
            a.integer("tapedeck.error_steps", m_errors);
        if (m_options.includeContent) {
            std::string command;
            for (const std::string &word : m_run.command)
                command += (command.empty() ? "" : " ") + word;
            if (!command.empty())
                a.text("tapedeck.run.command", command);
            if (!m_run.cwd.empty())
                a.text("tapedeck.run.cwd", m_run.cwd);
        }
        return span;
    }

    const ExportScope &m_scope;
    const RunInfo &m_run;
    const OtlpOptions &m_options;
    EntryWriter &m_writer;
    TraceIds m_ids;
    std::string m_traceId;
    std::optional<BranchId> m_recordedBranch;
    StepClock m_clock;
    SpanOut m_root;
    std::map<int64_t, SpanOut> m_threadSpans;                 // sub-agent thread id -> its span
    std::map<int64_t, SpanOut> m_branchSpans;                 // forked branch id -> its span
    std::map<int64_t, OpenCall> m_openCalls;                  // tool call step index -> the call
    std::map<std::string, int64_t> m_callIds;                 // call id -> tool call step index
    std::map<int64_t, std::vector<ToolWindow>> m_toolWindows; // thread id -> its tool spans
    std::string m_provider;                                   // of the run's first model call
    Usage m_usage;
    int64_t m_errors = 0;
};

// Every selected run, one after the other, into `writer`.
Result<OtlpStats> exportRuns(const TapeReader &reader, const OtlpOptions &options,
                             EntryWriter &writer)
{
    auto scope = ExportScope::resolve(reader, options.selection);
    if (!scope)
        return scope.error();
    // Steps of several runs may interleave in a tape; each run's trace is written whole
    // before the next, so its steps are listed first (from summaries, which are cheap).
    std::map<int64_t, std::vector<StepIndex>> stepsOfRun;
    Status listed = scope->forEachSummary(reader, [&](const StepSummary &s) {
        stepsOfRun[s.run.value].push_back(s.index);
        return true;
    });
    if (!listed)
        return listed.error();

    OtlpStats stats;
    for (const RunInfo &run : scope->runs()) {
        writer.beginRun(run);
        RunTrace trace(*scope, run, options, writer);
        for (StepIndex index : stepsOfRun[run.id.value]) {
            // The messages are the costly part of a step and only content needs them, or
            // a model call with no wire bytes, whose API is guessed from their shape.
            auto step = reader.step(index, options.includeContent
                                               ? TapeReader::Detail::Everything
                                               : TapeReader::Detail::WithoutMessages);
            if (step && !options.includeContent && step->kind == StepKind::ModelCall && !step->wire)
                step = reader.step(index);
            if (!step)
                return step.error();
            if (Status s = trace.add(*step); !s)
                return s.error();
        }
        if (Status s = trace.finish(); !s)
            return s.error();
        if (Status s = writer.flush(); !s)
            return s.error();
        ++stats.traces;
    }
    stats.spans = writer.total();
    return stats;
}

Status writeFailed(const TapeReader &reader)
{
    return Error{ErrorCode::Io, "could not write the OTLP export of " + reader.path()};
}

} // namespace

Result<OtlpStats> exportOtlp(const TapeReader &reader, std::ostream &out,
                             const OtlpOptions &options)
{
    // The document opens with its first entry, so that a tape that cannot be read leaves
    // nothing half-written behind.
    int64_t entries = 0;
    EntryWriter writer(options, [&](const std::string &entry, int64_t) -> Status {
        out << (entries++ ? ",\n" : "{\"resourceSpans\":[\n") << entry;
        return out ? Status{} : writeFailed(reader);
    });
    auto stats = exportRuns(reader, options, writer);
    if (!stats)
        return stats;
    out << (entries ? "\n]}\n" : "{\"resourceSpans\":[]}\n");
    out.flush();
    if (!out)
        return writeFailed(reader).error();
    stats->batches = entries;
    return stats;
}

Result<OtlpStats> exportOtlpBatches(const TapeReader &reader, const OtlpOptions &options,
                                    const OtlpBatchSender &send)
{
    std::string body;
    int64_t spans = 0, batches = 0;
    auto sendBody = [&]() -> Status {
        if (!spans)
            return {};
        Status s = send("{\"resourceSpans\":[" + body + "]}", spans);
        body.clear();
        spans = 0;
        ++batches;
        return s;
    };
    // Entries of small runs share a body, up to the same limits a single entry has.
    EntryWriter writer(options, [&](const std::string &entry, int64_t entrySpans) -> Status {
        if (spans && (spans + entrySpans > options.maxBatchSpans ||
                      int64_t(body.size() + entry.size()) > options.maxBatchBytes)) {
            if (Status s = sendBody(); !s)
                return s;
        }
        body += (spans ? "," : "") + entry;
        spans += entrySpans;
        return {};
    });
    auto stats = exportRuns(reader, options, writer);
    if (!stats)
        return stats;
    if (Status s = sendBody(); !s)
        return s.error();
    stats->batches = batches;
    return stats;
}

} // namespace tapedeck::formats
