// OpenHands trajectories: the event list a session exports (a JSON array), and the
// evaluation harness's output.jsonl (one instance a line: instance_id, instruction,
// metadata with llm_config, "history" holding the same events, metrics, test_result,
// error). An event is an action or an observation: id, timestamp, source ("user",
// "agent", "environment"), "action" with "args" or "observation" with "content",
// "extras" and "cause" (the id of the action it answers). Actions the model chose carry
// tool_call_metadata: function_name, tool_call_id and the model's whole response
// (model_response, with usage); newer versions add llm_metrics (latencies by response id).
//
// One run per exported list or per instance. The conversation is rebuilt in OpenAI Chat
// form, the way OpenHands sends it: the system prompt and user messages; each model
// response (once, however many actions it produced) is a model call, its tool calls the
// tool calls; each observation of a call is its result (a "tool" message), found by
// tool_call_id or else by "cause". An agent message without a recorded response is a model
// call whose answer is that message, with nothing else known. Error observations that
// answer no call, and an agent state of "error", are Error steps; condensations are
// Compaction steps; every other event is an Annotation holding the event as it is.
// Event timestamps carry no UTC offset; they are read as UTC.
#include "chattranscript.h"
#include "formatimporters.h"
#include "importtime.h"
#include "lenientjson.h"
#include "trajectoryjson.h"

#include <filesystem>
#include <map>
#include <set>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

// Agent actions that act on the world: tool calls, whether or not the model's function
// call was recorded with them.
const std::set<std::string, std::less<>> kToolActions = {
    "run",      "run_ipython", "read",   "write",  "edit",    "browse", "browse_interactive", "mcp",
    "delegate", "think",       "finish", "reject", "send_pr", "push",   "task_tracking"};

std::string fileStem(const std::string &sourceName)
{
    std::string name = std::filesystem::path(sourceName).filename().string();
    const size_t dot = name.find('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// The seconds a model response took, from the latencies OpenHands keeps by response id.
std::optional<double> latencyOf(const json *metrics, const std::string &responseId)
{
    const json *latencies = metrics ? arrayMember(*metrics, "response_latencies") : nullptr;
    if (!latencies || responseId.empty())
        return std::nullopt;
    for (const json &entry : *latencies) {
        if (stringMember(entry, "response_id") == responseId)
            return numberMember(entry, "latency");
    }
    return std::nullopt;
}

std::string eventText(const json &event, const json *args)
{
    if (args) {
        if (const json *content = member(*args, "content"))
            return contentText(*content);
    }
    return stringMember(event, "message");
}

// Whether an observation says its action failed.
bool failedObservation(const json &event)
{
    const std::string type = stringMember(event, "observation");
    if (type == "error" || type == "user_rejected")
        return true;
    if (const json *success = member(event, "success"); success && success->is_boolean())
        return !success->get<bool>();
    const json *extras = member(event, "extras");
    const json *metadata = extras ? member(*extras, "metadata") : nullptr;
    const json *code = metadata ? member(*metadata, "exit_code") : nullptr;
    if (!code && extras)
        code = member(*extras, "exit_code");
    // -1: the command has no exit code yet (it is still running, or timed out).
    return code && code->is_number_integer() && code->get<int64_t>() != 0 &&
           code->get<int64_t>() != -1;
}

// The events of one run.
class EventStream {
public:
    EventStream(TrajectoryBuilder &builder, int64_t line, const json *runMetrics)
        : m_builder(builder), m_line(line), m_runMetrics(runMetrics),
          m_transcript(builder, builder.mainThread())
    {
    }

    Status add(const json &event, size_t position)
    {
        if (!event.is_object()) {
            m_builder.skip(m_line, "event " + std::to_string(position) + ": not an object");
            return {};
        }
        const int64_t at = timeFromJson(member(event, "timestamp"));
        Status s;
        if (member(event, "action"))
            s = action(event, at);
        else if (member(event, "observation"))
            s = observation(event, at);
        else
            s = note(event,
                     stringMember(event, "kind").empty() ? "event" : stringMember(event, "kind"),
                     at);
        if (at)
            m_previousUs = at;
        return s;
    }

    // How the run ended, as far as the events say: the agent's last state.
    const std::string &agentState() const { return m_agentState; }

private:
    struct OpenCall {
        int64_t startedUs = 0;
        std::string name;
        bool inConversation = false; // asked for by a recorded model response
    };

    Status action(const json &event, int64_t at)
    {
        const std::string type = stringMember(event, "action");
        const std::string source = stringMember(event, "source");
        const json *args = member(event, "args");
        const json *metadata = member(event, "tool_call_metadata");
        if (type == "message" && source == "user")
            return conversation({{"role", "user"}, {"content", eventText(event, args)}});
        if (type == "system")
            return conversation({{"role", "system"}, {"content", eventText(event, args)}});
        if (type == "message" && source == "agent")
            return agentMessage(event, args, metadata, at);
        if (type == "condensation") {
            Step step = eventStep(StepKind::Compaction, "condensation", event, at);
            return addStep(std::move(step));
        }
        if (metadata || (source == "agent" && kToolActions.count(type)))
            return toolCall(event, type, args, metadata, at);
        return note(event, type, at);
    }

    Status conversation(json message)
    {
        auto added = m_transcript.add(std::move(message));
        return added ? Status() : Status(added.error());
    }

    Status agentMessage(const json &event, const json *args, const json *metadata, int64_t at)
    {
        if (metadata && member(*metadata, "model_response")) {
            auto call = modelCall(event, *metadata, at);
            return call ? Status() : Status(call.error());
        }
        MessageDetails details;
        details.model = m_model;
        details.startedUs = m_previousUs;
        details.endedUs = at;
        auto added =
            m_transcript.add({{"role", "assistant"}, {"content", eventText(event, args)}}, details);
        return added ? Status() : Status(added.error());
    }

    // The model call a response stands for, added the first time one of its actions comes.
    Result<std::optional<StepIndex>> modelCall(const json &event, const json &metadata, int64_t at)
    {
        const json *response = member(metadata, "model_response");
        if (!response)
            return m_transcript.lastModelCall();
        const std::string id = stringMember(*response, "id");
        if (auto known = m_modelCalls.find(id); !id.empty() && known != m_modelCalls.end())
            return std::optional<StepIndex>(known->second);
        const json *choices = arrayMember(*response, "choices");
        const json *answer =
            choices && !choices->empty() ? member(choices->front(), "message") : nullptr;
        if (!answer || !answer->is_object())
            return m_transcript.lastModelCall();
        json message = *answer;
        message["role"] = "assistant";

        MessageDetails details;
        details.model = stringMember(*response, "model");
        if (const json *usage = member(*response, "usage"))
            details.usage = chatCompletionUsage(*usage);
        details.endedUs = at;
        auto latency = latencyOf(member(event, "llm_metrics"), id);
        if (!latency)
            latency = latencyOf(m_runMetrics, id);
        details.startedUs = latency && at ? at - int64_t(*latency * 1e6) : m_previousUs;
        if (!details.model.empty())
            m_model = details.model;

        if (const json *calls = arrayMember(message, "tool_calls")) {
            for (const json &call : *calls) {
                const json *function = member(call, "function");
                m_open[stringMember(call, "id")] = {
                    at, function ? stringMember(*function, "name") : "", true};
            }
        }
        auto index = m_transcript.add(std::move(message), details);
        if (!index)
            return index.error();
        if (!id.empty() && *index)
            m_modelCalls[id] = **index;
        return *index;
    }

    Status toolCall(const json &event, const std::string &type, const json *args,
                    const json *metadata, int64_t at)
    {
        std::string id = metadata ? stringMember(*metadata, "tool_call_id") : std::string();
        if (id.empty())
            id = "call-" + std::to_string(integerMember(event, "id"));
        std::optional<StepIndex> parent = m_transcript.lastModelCall();
        if (metadata) {
            auto call = modelCall(event, *metadata, at);
            if (!call)
                return call.error();
            parent = *call;
        }
        if (const json *cause = member(event, "id"); cause && cause->is_number_integer())
            m_callOfAction[cause->get<int64_t>()] = id;
        auto open = m_open.find(id);
        if (open != m_open.end() && open->second.inConversation) {
            open->second.startedUs = at;
            return {};
        }
        std::string name = metadata ? stringMember(*metadata, "function_name") : std::string();
        if (name.empty())
            name = type;
        m_open[id] = {at, name, false};
        auto step = m_builder.addToolCall(m_builder.mainThread(), name, id,
                                          args ? *args : json::object(), parent, at);
        return step ? Status() : Status(step.error());
    }

    Status observation(const json &event, int64_t at)
    {
        const std::string type = stringMember(event, "observation");
        const json *metadata = member(event, "tool_call_metadata");
        std::string id = metadata ? stringMember(*metadata, "tool_call_id") : std::string();
        if (const json *cause = member(event, "cause");
            id.empty() && cause && cause->is_number_integer()) {
            if (auto found = m_callOfAction.find(cause->get<int64_t>());
                found != m_callOfAction.end())
                id = found->second;
        }
        if (auto open = m_open.find(id); !id.empty() && open != m_open.end()) {
            const OpenCall call = open->second;
            m_open.erase(open);
            return result(event, id, call, at);
        }
        if (type == "error")
            return addStep(eventStep(StepKind::Error, "error", event, at));
        if (type == "agent_state_changed") {
            const json *extras = member(event, "extras");
            m_agentState = extras ? stringMember(*extras, "agent_state") : std::string();
            if (m_agentState == "error")
                return addStep(eventStep(StepKind::Error, "agent_state_changed", event, at));
        }
        return note(event, type, at);
    }

    Status result(const json &event, const std::string &id, const OpenCall &call, int64_t at)
    {
        const json *content = member(event, "content");
        const std::string output = content ? contentText(*content) : std::string();
        const bool failed = failedObservation(event);
        if (!call.inConversation) {
            auto step = m_builder.addToolResult(m_builder.mainThread(), id, {}, output, failed,
                                                call.startedUs, at);
            return step ? Status() : Status(step.error());
        }
        MessageDetails details;
        details.isError = failed;
        details.startedUs = call.startedUs;
        details.endedUs = at;
        json message = {{"role", "tool"}, {"tool_call_id", id}, {"content", output}};
        if (!call.name.empty())
            message["name"] = call.name;
        auto added = m_transcript.add(std::move(message), details);
        return added ? Status() : Status(added.error());
    }

    static Step eventStep(StepKind kind, const std::string &name, const json &event, int64_t at)
    {
        Step step;
        step.kind = kind;
        step.status = kind == StepKind::Error ? StepStatus::Error : StepStatus::Ok;
        step.name = name;
        step.payload = event;
        step.startedUs = at;
        step.endedUs = at;
        return step;
    }

    Status note(const json &event, const std::string &name, int64_t at)
    {
        return addStep(eventStep(StepKind::Annotation, name.empty() ? "event" : name, event, at));
    }

    Status addStep(Step step)
    {
        auto index = m_builder.add(std::move(step));
        return index ? Status() : Status(index.error());
    }

    TrajectoryBuilder &m_builder;
    int64_t m_line;
    const json *m_runMetrics;
    ChatTranscript m_transcript;
    std::map<std::string, StepIndex> m_modelCalls; // by model response id
    std::map<std::string, OpenCall> m_open;        // tool calls waiting for their result
    std::map<int64_t, std::string> m_callOfAction; // action event id -> call id
    std::string m_model;
    std::string m_agentState;
    int64_t m_previousUs = 0;
};

// An exported session: one run, read one event at a time.
Status importEventList(ImportSource &source, TrajectoryBuilder &builder)
{
    std::optional<EventStream> events;
    std::string damage;
    Status read = forEachArrayElement(source, [&](json &&event, int64_t index) -> Status {
        if (!events) {
            RunInfo run;
            run.agent = "openhands";
            run.name = fileStem(source.name());
            run.startedUs = timeFromJson(member(event, "timestamp"));
            auto started = builder.beginRun(run);
            if (!started)
                return started.error();
            events.emplace(builder, 0, nullptr);
        }
        return events->add(event, size_t(index + 1));
    }, &damage);
    if (!read)
        return read;
    if (!damage.empty())
        builder.skip(0, damage);
    if (!events)
        return source.parseError(0, "expected OpenHands events: the exported list is empty");
    return builder.endRun(events->agentState());
}

bool isInstance(const json &value)
{
    return arrayMember(value, "history") != nullptr;
}

// The scalar results of an evaluation as run labels ("test_result.resolved": true).
void addTestResultLabels(const json *testResult, json &labels)
{
    if (!testResult || !testResult->is_object())
        return;
    for (const auto &[key, value] : testResult->items()) {
        const bool shortText =
            value.is_string() && value.get_ref<const std::string &>().size() <= 200;
        if (value.is_boolean() || value.is_number() || shortText)
            labels["test_result." + key] = value;
    }
}

// One instance of an evaluation: a run.
Status importInstance(TrajectoryBuilder &builder, const json &instance, int64_t line,
                      const std::string &fallbackName)
{
    const json &history = *arrayMember(instance, "history");
    RunInfo run;
    run.agent = "openhands";
    const std::string id = stringMember(instance, "instance_id");
    run.name = id.empty() ? fallbackName : id;
    if (!id.empty())
        run.labels["instance_id"] = id;
    if (const json *metadata = member(instance, "metadata")) {
        if (const json *llm = member(*metadata, "llm_config");
            llm && !stringMember(*llm, "model").empty())
            run.labels["model"] = stringMember(*llm, "model");
        if (const std::string agent = stringMember(*metadata, "agent_class"); !agent.empty())
            run.labels["agent_class"] = agent;
    }
    const json *metrics = member(instance, "metrics");
    if (const auto cost = metrics ? numberMember(*metrics, "accumulated_cost") : std::nullopt)
        run.labels["accumulated_cost"] = *cost;
    const json *testResult = member(instance, "test_result");
    addTestResultLabels(testResult, run.labels);
    if (!history.empty())
        run.startedUs = timeFromJson(member(history.front(), "timestamp"));
    auto started = builder.beginRun(run);
    if (!started)
        return started.error();

    EventStream events(builder, line, metrics);
    for (size_t i = 0; i < history.size(); ++i) {
        if (Status s = events.add(history[i], i + 1); !s)
            return s;
    }
    // What the harness recorded beside the events: the evaluation and its failure.
    if (testResult && !testResult->empty()) {
        Step step;
        step.kind = StepKind::Annotation;
        step.name = "test_result";
        step.payload = *testResult;
        if (auto index = builder.add(std::move(step)); !index)
            return index.error();
    }
    const std::string error = stringMember(instance, "error");
    if (!error.empty()) {
        Step step;
        step.kind = StepKind::Error;
        step.status = StepStatus::Error;
        step.name = "error";
        step.payload = {{"error", error}};
        if (auto index = builder.add(std::move(step)); !index)
            return index.error();
    }
    return builder.endRun(error.empty() ? events.agentState() : "error: " + error);
}

const char *kExpectedInstance =
    "expected an OpenHands evaluation instance: an object with \"instance_id\" and \"history\"";

// "{" alone on a line: the first line of a pretty-printed document.
bool opensDocument(std::string_view line)
{
    const size_t brace = line.find_first_not_of(" \t");
    return brace != std::string_view::npos && line[brace] == '{' &&
           line.find_first_not_of(" \t", brace + 1) == std::string_view::npos;
}

// Evaluation output, one instance a line; or one instance as a whole document.
Status importInstances(ImportSource &source, TrajectoryBuilder &builder)
{
    LineReader lines(source);
    std::string_view line;
    int64_t runs = 0;
    int64_t firstBad = 0;
    std::string firstProblem;
    while (lines.next(line)) {
        std::string problem;
        json value = lines.parseLine(line, problem);
        if (value.is_discarded() && runs == 0 && firstBad == 0 && opensDocument(line)) {
            // "{" alone: one pretty-printed instance.
            source.stream().clear();
            source.stream().seekg(0);
            auto doc = readObjectSalvaging(source);
            if (!doc)
                return doc.error();
            if (!isInstance(doc->value))
                return source.parseError(0, std::string(kExpectedInstance) +
                                                (doc->problem.empty() ? "" : "; " + doc->problem));
            if (Status s = importInstance(builder, doc->value, 0, fileStem(source.name())); !s)
                return s;
            if (!doc->problem.empty())
                builder.skip(0, doc->problem);
            return {};
        }
        if (!value.is_discarded() && !isInstance(value))
            problem = kExpectedInstance;
        if (!problem.empty()) {
            if (!firstBad) {
                firstBad = lines.lineNumber();
                firstProblem = problem;
            }
            builder.skip(lines.lineNumber(), problem);
            continue;
        }
        const std::string name =
            fileStem(source.name()) + " line " + std::to_string(lines.lineNumber());
        if (Status s = importInstance(builder, value, lines.lineNumber(), name); !s)
            return s;
        ++runs;
    }
    if (runs == 0)
        return source.parseError(firstBad, firstBad ? firstProblem : "the file is empty");
    return {};
}

// Whether `key` occurs in `head` as a member name with one of `values` (strings).
bool hasStringValue(std::string_view head, std::string_view key,
                    std::initializer_list<std::string_view> values)
{
    for (size_t at = findJsonKey(head, key); at != std::string_view::npos;
         at = findJsonKey(head, key, at)) {
        for (std::string_view value : values) {
            if (head.compare(at, value.size() + 2, "\"" + std::string(value) + "\"") == 0)
                return true;
        }
    }
    return false;
}

// The marks of an event: who it came from, and that it is an action or an observation.
bool hasEvents(std::string_view head)
{
    return hasJsonKey(head, "timestamp") &&
           (hasJsonKey(head, "action") || hasJsonKey(head, "observation")) &&
           hasStringValue(head, "source", {"agent", "user", "environment"});
}

} // namespace

bool looksLikeOpenHands(const Sniff &sniff)
{
    if (sniff.firstChar == '[')
        return hasEvents(sniff.head);
    if (sniff.firstChar != '{')
        return false;
    if (sniff.firstLine.is_object())
        return isInstance(sniff.firstLine) && member(sniff.firstLine, "instance_id");
    // A line longer than the head: its first members are enough.
    const size_t history = findJsonKey(sniff.head, "history");
    return hasJsonKey(sniff.head, "instance_id") && history != std::string_view::npos &&
           history < sniff.head.size() && sniff.head[history] == '[' &&
           hasEvents(sniff.head.substr(history));
}

Status importOpenHands(ImportSource &source, TrajectoryBuilder &builder)
{
    std::istream &in = source.stream();
    char first = 0;
    while (in.get(first) && (first == ' ' || first == '\n' || first == '\r' || first == '\t')) {
    }
    if (!in)
        return source.parseError(0, "the file is empty");
    in.unget();
    return first == '[' ? importEventList(source, builder) : importInstances(source, builder);
}

} // namespace tapedeck::formats::import
