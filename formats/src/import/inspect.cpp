// Inspect AI eval logs: the ".json" form (one JSON object) and the ".eval" form (a zip of
// header.json, _journal/start.json, samples/<id>_epoch_<n>.json, summaries, reductions).
//
// One run per sample, named "<task> sample <id>/<epoch>", with the task, model, sample id,
// epoch and score as labels and the outcome taken from the sample's error, limit or scores.
// Steps come from the sample's events in order:
// - model: a model call whose request is the event's input (Inspect ChatMessages turned into
//   OpenAI Chat messages), its tools, tool choice and generate config; its payload is the
//   first choice's message with a finish reason; usage, cost and times as the event gives them;
// - tool: a tool call (parent: the model call that asked for it) and its result, joined by
//   the call id; an error or a failed call makes the result an error;
// - error: an error step; compaction: a compaction step;
// - everything else (sample_init, span_begin/end, sandbox, state, store, score, info,
//   logger, input, approval, subtask, sample_limit, ...): an annotation with the event as it is.
// Agents run inside an agent (handoffs, agents as tools) and subtasks become threads of their
// own, found from the span tree; the events older logs nest inside tool and subtask events
// likewise. A sample without events falls back to its message list.
// "attachment://<hash>" references are resolved against the sample's attachments, and model
// inputs that newer logs keep as ranges of a pooled message list are expanded.
//
// Memory holds one sample at a time: the .json form is parsed as a stream that hands over
// each sample as soon as it is complete, the .eval form reads one zip entry at a time. A log
// cut short still gives the events read before the cut.
#include "chattranscript.h"
#include "formatimporters.h"
#include "importtime.h"
#include "lenientjson.h"

#include <zip.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>
#include <unordered_map>

namespace tapedeck::formats::import {

using nlohmann::json;
using ParseEvent = json::parse_event_t;

namespace {

constexpr std::string_view kAttachmentScheme = "attachment://";
// Nesting beyond this is not followed (attachments, nested events): what a hostile file
// would need to exhaust the stack.
constexpr int kMaxNesting = 256;

std::string jsonText(const json &value)
{
    if (value.is_string())
        return value.get<std::string>();
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string firstLine(const std::string &text)
{
    return text.substr(0, text.find('\n'));
}

// ---------------------------------------------------------------------------------------
// Attachments

void resolveAttachments(json &value, const json &attachments, int depth = 0)
{
    if (depth > kMaxNesting)
        return;
    if (value.is_string()) {
        const std::string &text = value.get_ref<const std::string &>();
        if (text.size() <= kAttachmentScheme.size() ||
            text.compare(0, kAttachmentScheme.size(), kAttachmentScheme) != 0)
            return;
        auto found = attachments.find(text.substr(kAttachmentScheme.size()));
        if (found != attachments.end() && found->is_string())
            value = *found;
    } else if (value.is_structured()) {
        for (auto it = value.begin(); it != value.end(); ++it)
            resolveAttachments(it.value(), attachments, depth + 1);
    }
}

// ---------------------------------------------------------------------------------------
// Inspect ChatMessage -> OpenAI Chat Completions message

json chatPart(const json &part)
{
    const std::string type = stringMember(part, "type");
    if (type == "text") {
        if (boolMember(part, "refusal"))
            return {{"type", "refusal"}, {"refusal", stringMember(part, "text")}};
        return {{"type", "text"}, {"text", stringMember(part, "text")}};
    }
    if (type == "image") {
        json url = {{"url", stringMember(part, "image")}};
        if (const std::string detail = stringMember(part, "detail"); !detail.empty())
            url["detail"] = detail;
        return {{"type", "image_url"}, {"image_url", std::move(url)}};
    }
    if (type == "audio")
        return {
            {"type", "input_audio"},
            {"input_audio",
             {{"data", stringMember(part, "audio")}, {"format", stringMember(part, "format")}}}};
    // Video, documents, provider data, server tool use: no Chat form; kept as Inspect wrote them.
    return part;
}

// Inspect content (a string or a list of parts) as Chat content: one text part collapses to
// a string. With `reasoning`, reasoning parts are taken out into it (an assistant's
// "reasoning_content"); redacted reasoning stays a part, as it has no readable text.
json chatContent(const json *content, std::string *reasoning)
{
    if (!content)
        return "";
    if (!content->is_array())
        return *content;
    json parts = json::array();
    for (const json &part : *content) {
        if (reasoning && stringMember(part, "type") == "reasoning" &&
            !boolMember(part, "redacted")) {
            if (!reasoning->empty())
                *reasoning += "\n\n";
            *reasoning += stringMember(part, "reasoning");
            continue;
        }
        parts.push_back(chatPart(part));
    }
    if (parts.empty())
        return "";
    if (parts.size() == 1 && stringMember(parts[0], "type") == "text")
        return parts[0]["text"];
    return parts;
}

json chatToolCalls(const json &calls)
{
    json out = json::array();
    for (const json &call : calls) {
        if (!call.is_object())
            continue;
        const json *given = member(call, "arguments");
        const json arguments = given ? *given : json::object();
        out.push_back(
            {{"id", stringMember(call, "id")},
             {"type", "function"},
             {"function",
              {{"name", stringMember(call, "function")},
               {"arguments", arguments.is_string() ? arguments : json(jsonText(arguments))}}}});
    }
    return out;
}

json chatMessage(const json &message)
{
    const std::string role = stringMember(message, "role");
    json out = {{"role", role}};
    std::string reasoning;
    out["content"] =
        chatContent(member(message, "content"), role == "assistant" ? &reasoning : nullptr);
    if (!reasoning.empty())
        out["reasoning_content"] = std::move(reasoning);
    if (const json *calls = arrayMember(message, "tool_calls"); calls && !calls->empty())
        out["tool_calls"] = chatToolCalls(*calls);
    if (role == "tool") {
        out["tool_call_id"] = stringMember(message, "tool_call_id");
        // A failed call: what the model was told is the error's message.
        const json *error = member(message, "error");
        if (error && contentText(out["content"]).empty())
            out["content"] =
                error->is_object() ? stringMember(*error, "message") : jsonText(*error);
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Inspect ToolInfo, ToolChoice and GenerateConfig -> Chat Completions request parameters

json chatTools(const json &tools)
{
    json out = json::array();
    for (const json &tool : tools) {
        if (!tool.is_object())
            continue;
        json function = {{"name", stringMember(tool, "name")}};
        if (const json *description = member(tool, "description"))
            function["description"] = *description;
        if (const json *parameters = member(tool, "parameters"))
            function["parameters"] = *parameters;
        out.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    return out;
}

json chatToolChoice(const json &choice)
{
    if (choice.is_string())
        return choice.get<std::string>() == "any" ? json("required") : choice;
    if (const std::string name = stringMember(choice, "name"); !name.empty())
        return {{"type", "function"}, {"function", {{"name", name}}}};
    return choice;
}

// GenerateConfig members that Chat Completions has under the same or another name; the rest
// stays together under "inspect_config".
const char *chatParameterFor(const std::string &key)
{
    static const std::pair<const char *, const char *> kNames[] = {
        {"max_tokens", "max_tokens"},
        {"temperature", "temperature"},
        {"top_p", "top_p"},
        {"frequency_penalty", "frequency_penalty"},
        {"presence_penalty", "presence_penalty"},
        {"logit_bias", "logit_bias"},
        {"seed", "seed"},
        {"logprobs", "logprobs"},
        {"top_logprobs", "top_logprobs"},
        {"parallel_tool_calls", "parallel_tool_calls"},
        {"reasoning_effort", "reasoning_effort"},
        {"stop_seqs", "stop"},
        {"num_choices", "n"},
    };
    for (const auto &[inspect, chat] : kNames) {
        if (key == inspect)
            return chat;
    }
    return nullptr;
}

json requestParams(const std::string &model, const json &event)
{
    json params = json::object();
    if (!model.empty())
        params["model"] = model;
    if (const json *tools = arrayMember(event, "tools"); tools && !tools->empty())
        params["tools"] = chatTools(*tools);
    if (const json *choice = member(event, "tool_choice"))
        params["tool_choice"] = chatToolChoice(*choice);
    if (const json *config = member(event, "config"); config && config->is_object()) {
        json rest = json::object();
        for (auto it = config->begin(); it != config->end(); ++it) {
            if (it.value().is_null())
                continue;
            if (const char *name = chatParameterFor(it.key()))
                params[name] = it.value();
            else
                rest[it.key()] = it.value();
        }
        if (!rest.empty())
            params["inspect_config"] = std::move(rest);
    }
    return params;
}

std::string finishReason(const std::string &stopReason, bool callsTools)
{
    if (stopReason == "max_tokens" || stopReason == "model_length")
        return "length";
    if (stopReason.empty() || stopReason == "unknown")
        return callsTools ? "tool_calls" : "stop";
    return stopReason; // "stop", "tool_calls", "content_filter"
}

// Inspect keeps each provider's meaning of input_tokens: OpenAI's includes the cached tokens
// (and total_tokens = input + output), Anthropic's does not (and total_tokens counts the cache
// apart). The tape counts them apart, so the cached tokens come off the first kind.
Usage usageOf(const json &usage)
{
    Usage out;
    int64_t input = integerMember(usage, "input_tokens");
    out.outputTokens = integerMember(usage, "output_tokens");
    out.cacheReadTokens = integerMember(usage, "input_tokens_cache_read");
    out.cacheWriteTokens = integerMember(usage, "input_tokens_cache_write");
    const int64_t cached = out.cacheReadTokens + out.cacheWriteTokens;
    const int64_t total = integerMember(usage, "total_tokens");
    if (cached > 0 && total > 0 && total < input + out.outputTokens + cached)
        input = std::max<int64_t>(0, input - cached);
    out.inputTokens = input;
    return out;
}

int64_t secondsToUs(std::optional<double> seconds)
{
    return seconds && *seconds > 0 ? int64_t(*seconds * 1e6) : 0;
}

// A tool's result: text as it is, a list of text parts as their text, other parts in their
// Chat form, anything else (numbers, booleans) as it is.
json toolOutput(const json *result)
{
    if (!result)
        return "";
    if (!result->is_array())
        return *result;
    const bool allText = std::all_of(result->begin(), result->end(), [](const json &part) {
        return stringMember(part, "type") == "text";
    });
    if (allText)
        return contentText(*result);
    json parts = json::array();
    for (const json &part : *result)
        parts.push_back(chatPart(part));
    return parts;
}

// ---------------------------------------------------------------------------------------
// One sample

// What is known of a sample while it is read: its members, and its events kept apart so that
// a sample cut short still gives the events before the cut.
struct SampleParts {
    json fields = json::object();
    std::vector<json> events;
    bool isObject = true;
    bool eventsNotAList = false;
    int64_t line = 0; // where the sample starts (the .json form), 0 if unknown
};

// Takes the JSON parser's callbacks for one sample object at `depth` and what is inside it,
// keeping each member and each event as it completes and dropping it from the parser's tree.
class SampleCollector {
public:
    explicit SampleCollector(int depth) : m_depth(depth) {}

    bool open() const { return m_open; }
    SampleParts &parts() { return m_parts; }

    // Returns whether the parser keeps `parsed`; `complete` is set when a sample ended.
    bool handle(int depth, ParseEvent event, json &parsed, int64_t line, bool &complete)
    {
        const int level = depth - m_depth;
        const bool ends = event == ParseEvent::object_end || event == ParseEvent::array_end ||
                          event == ParseEvent::value;
        if (level == 0) {
            if (event == ParseEvent::object_start || event == ParseEvent::array_start) {
                m_parts = SampleParts{};
                m_parts.line = line;
                m_parts.isObject = event == ParseEvent::object_start;
                m_open = true;
                return true;
            }
            if (ends) {
                if (event == ParseEvent::value) {
                    m_parts = SampleParts{};
                    m_parts.isObject = false;
                    m_parts.line = line;
                }
                m_open = false;
                complete = true;
            }
            return false;
        }
        if (!m_parts.isObject)
            return false;
        if (level == 1 && event == ParseEvent::key) {
            m_key = parsed.is_string() ? parsed.get<std::string>() : std::string();
            m_inEvents = false;
            return true;
        }
        if (level == 1 && event == ParseEvent::array_start && m_key == "events") {
            m_inEvents = true;
            return true;
        }
        if (level == 1 && ends) {
            if (m_key == "events")
                m_parts.eventsNotAList = event != ParseEvent::array_end;
            else
                m_parts.fields[m_key] = std::move(parsed);
            m_inEvents = false;
            return false;
        }
        if (level == 2 && m_inEvents && ends) {
            m_parts.events.push_back(std::move(parsed));
            return false;
        }
        return true;
    }

private:
    int m_depth;
    bool m_open = false;
    bool m_inEvents = false;
    std::string m_key;
    SampleParts m_parts;
};

// Imports one sample as one run.
class SampleImporter {
public:
    // `header` is the log without its samples (eval, plan, results, stats, status);
    // `place` names the sample's file inside a .eval container in skip messages.
    SampleImporter(TrajectoryBuilder &builder, const json &header, std::string place)
        : m_builder(builder), m_header(header), m_place(std::move(place))
    {
        if (const json *eval = member(header, "eval")) {
            m_task = stringMember(*eval, "task");
            m_model = stringMember(*eval, "model");
        }
    }

    // `cutShort` (empty when the sample is complete) says how the sample ended early, and
    // `cutLine` where.
    Status import(SampleParts &parts, const std::string &cutShort = {}, int64_t cutLine = 0)
    {
        json &fields = parts.fields;
        m_line = parts.line;
        m_label = sampleLabel(fields);
        if (!parts.isObject) {
            m_builder.skip(m_line, m_place + m_label + ": not a sample object");
            return {};
        }
        const bool hasAttachments =
            fields.contains("attachments") && fields["attachments"].is_object();
        if (hasAttachments)
            m_attachments = std::move(fields["attachments"]);
        if (auto run = m_builder.beginRun(runInfo(fields, parts.events)); !run)
            return run.error();
        takeMessagePool(fields);
        if (parts.eventsNotAList)
            skip("\"events\" is not a list; the sample's messages are imported instead");
        // The attachments come after the events: a sample cut short has not got them.
        if (!cutShort.empty())
            m_builder.skip(
                cutLine, m_place + m_label + ": " + cutShort +
                             (hasAttachments ? "" : "; attachment:// references stay unresolved"));
        if (!parts.events.empty()) {
            if (Status s = events(parts.events, m_builder.mainThread(), 0); !s)
                return s;
        } else if (Status s = messagesInstead(fields); !s) {
            return s;
        }
        if (Status s = sampleError(fields); !s)
            return s;
        return m_builder.endRun(outcomeOf(fields), timeFromJson(member(fields, "completed_at")));
    }

private:
    static std::string sampleLabel(const json &fields)
    {
        const json *id = member(fields, "id");
        const json *epoch = member(fields, "epoch");
        return "sample " + (id ? jsonText(*id) : std::string("?")) + "/" +
               (epoch ? jsonText(*epoch) : std::string("?"));
    }

    void skip(const std::string &what) { m_builder.skip(m_line, m_place + m_label + ": " + what); }

    RunInfo runInfo(const json &fields, const std::vector<json> &events) const
    {
        RunInfo run;
        run.agent = "inspect";
        run.name = m_task.empty() ? m_label : m_task + " " + m_label;
        json labels = json::object();
        if (!m_task.empty())
            labels["task"] = m_task;
        if (!m_model.empty())
            labels["model"] = m_model;
        if (const json *id = member(fields, "id"))
            labels["sample_id"] = *id;
        if (const json *epoch = member(fields, "epoch"))
            labels["epoch"] = *epoch;
        if (json score = scoreLabel(fields); !score.is_null())
            labels["score"] = std::move(score);
        if (const json *eval = member(m_header, "eval")) {
            for (const char *key : {"eval_id", "run_id"}) {
                if (const std::string value = stringMember(*eval, key); !value.empty())
                    labels[key] = value;
            }
        }
        if (const std::string status = stringMember(m_header, "status"); !status.empty())
            labels["log_status"] = status;
        run.labels = std::move(labels);
        run.startedUs = timeFromJson(member(fields, "started_at"));
        for (size_t i = 0; run.startedUs == 0 && i < events.size(); ++i)
            run.startedUs = timeFromJson(member(events[i], "timestamp"));
        return run;
    }

    static json scoreValue(const json &score)
    {
        const json *value = member(score, "value");
        return value ? *value : score;
    }

    // The score as a label: the value of the only scorer, or every scorer's value by name;
    // null when the sample was not scored.
    static json scoreLabel(const json &fields)
    {
        const json *scores = member(fields, "scores");
        if (!scores || !scores->is_object() || scores->empty())
            return nullptr;
        if (scores->size() == 1)
            return scoreValue(*scores->begin());
        json label = json::object();
        for (auto it = scores->begin(); it != scores->end(); ++it)
            label[it.key()] = scoreValue(it.value());
        return label;
    }

    static std::string outcomeOf(const json &fields)
    {
        if (const json *error = member(fields, "error"))
            return "error: " + firstLine(error->is_object() ? stringMember(*error, "message")
                                                            : jsonText(*error));
        if (const json *limit = member(fields, "limit"))
            return "limit: " +
                   (limit->is_object() ? stringMember(*limit, "type") : jsonText(*limit));
        const json *scores = member(fields, "scores");
        if (!scores || !scores->is_object())
            return {};
        std::string outcome;
        for (auto it = scores->begin(); it != scores->end(); ++it)
            outcome +=
                (outcome.empty() ? "" : ", ") + it.key() + ": " + jsonText(scoreValue(it.value()));
        return outcome;
    }

    // Newer logs keep each message once, in events_data.messages (or message_pool), and give
    // model inputs as [start, end) ranges of it.
    void takeMessagePool(const json &fields)
    {
        const json *data = member(fields, "events_data");
        const json *pool = data ? arrayMember(*data, "messages") : nullptr;
        if (!pool)
            pool = arrayMember(fields, "message_pool");
        if (!pool)
            return;
        m_pool.reserve(pool->size());
        for (json message : *pool) {
            resolveAttachments(message, m_attachments);
            m_pool.push_back(message.is_object() ? chatMessage(message) : json());
        }
    }

    std::vector<json> modelInput(const json &event) const
    {
        std::vector<json> messages;
        const json *input = arrayMember(event, "input");
        const json *refs = arrayMember(event, "input_refs");
        if ((!input || input->empty()) && refs) {
            for (const json &ref : *refs) {
                int64_t start = 0;
                int64_t end = 0;
                if (ref.is_array() && ref.size() == 2 && ref[0].is_number_integer() &&
                    ref[1].is_number_integer()) {
                    start = ref[0].get<int64_t>();
                    end = ref[1].get<int64_t>();
                } else if (ref.is_number_integer()) {
                    start = ref.get<int64_t>();
                    end = start + 1;
                }
                for (int64_t i = std::max<int64_t>(start, 0); i < end && i < int64_t(m_pool.size());
                     ++i)
                    messages.push_back(m_pool[size_t(i)]);
            }
            return messages;
        }
        if (input) {
            for (const json &message : *input) {
                if (message.is_object())
                    messages.push_back(chatMessage(message));
            }
        }
        return messages;
    }

    // The thread an event belongs to: its span's, else the one its container gave.
    ThreadId threadOf(const json &event, ThreadId fallback) const
    {
        auto span = m_spans.find(stringMember(event, "span_id"));
        return span == m_spans.end() ? fallback : span->second.thread;
    }

    // A span of type "agent" inside another agent (a handoff, an agent used as a tool) and
    // every subtask span start a thread; other spans run on their parent's thread.
    Status spanBegin(const json &event, ThreadId fallback)
    {
        Span span{fallback, false};
        if (auto parent = m_spans.find(stringMember(event, "parent_id")); parent != m_spans.end())
            span = parent->second;
        const std::string type = stringMember(event, "type");
        if ((type == "agent" && span.inAgent) || type == "subtask") {
            auto thread =
                m_builder.addThread(type + ": " + stringMember(event, "name"), span.thread,
                                    timeFromJson(member(event, "timestamp")));
            if (!thread)
                return thread.error();
            span.thread = *thread;
        }
        span.inAgent = span.inAgent || type == "agent";
        if (const std::string id = stringMember(event, "id"); !id.empty())
            m_spans[id] = span;
        return {};
    }

    Status events(std::vector<json> &list, ThreadId thread, int nesting)
    {
        for (size_t i = 0; i < list.size(); ++i) {
            json event = std::move(list[i]);
            ++m_eventNumber;
            if (!event.is_object()) {
                skip("event " + std::to_string(m_eventNumber) + ": not an object");
                continue;
            }
            resolveAttachments(event, m_attachments);
            if (Status s = this->event(event, thread, nesting); !s)
                return s;
        }
        return {};
    }

    static json takeNestedEvents(json &event)
    {
        auto found = event.find("events");
        if (found == event.end())
            return nullptr;
        json nested = std::move(*found);
        event.erase(found);
        return nested;
    }

    // The events that older logs nest inside a tool or subtask event, on a thread of their own.
    Status nestedEvents(json nested, const std::string &label, ThreadId parent, int64_t startedUs,
                        int nesting)
    {
        if (!nested.is_array() || nested.empty())
            return {};
        if (nesting >= kMaxNesting) {
            skip("event " + std::to_string(m_eventNumber) + ": events nested too deeply");
            return {};
        }
        auto thread = m_builder.addThread(label, parent, startedUs);
        if (!thread)
            return thread.error();
        return events(nested.get_ref<json::array_t &>(), *thread, nesting + 1);
    }

    Status event(json &event, ThreadId fallback, int nesting)
    {
        const std::string type = stringMember(event, "event");
        if (type.empty()) {
            skip("event " + std::to_string(m_eventNumber) + ": no \"event\" type");
            return {};
        }
        if (type == "span_begin") {
            if (Status s = spanBegin(event, fallback); !s)
                return s;
        }
        const ThreadId thread = threadOf(event, fallback);
        if (type == "model")
            return modelEvent(event, thread);
        if (type == "tool")
            return toolEvent(event, thread, nesting);
        if (type == "subtask") {
            json nested = takeNestedEvents(event);
            const std::string label = "subtask: " + stringMember(event, "name");
            const int64_t startedUs = timeFromJson(member(event, "timestamp"));
            if (Status s = plainStep(event, StepKind::Annotation, thread); !s)
                return s;
            return nestedEvents(std::move(nested), label, thread, startedUs, nesting);
        }
        if (type == "error") {
            m_sawError = true;
            return plainStep(event, StepKind::Error, thread);
        }
        if (type == "compaction")
            return plainStep(event, StepKind::Compaction, thread);
        return plainStep(event, StepKind::Annotation, thread);
    }

    // The event becomes the step's payload (moved: the event is not used after this).
    Status plainStep(json &event, StepKind kind, ThreadId thread)
    {
        Step step;
        step.kind = kind;
        step.thread = thread;
        step.name = stringMember(event, "event");
        step.status = kind == StepKind::Error ? StepStatus::Error : StepStatus::Ok;
        step.startedUs = timeFromJson(member(event, "timestamp"));
        const int64_t completed = timeFromJson(member(event, "completed"));
        step.endedUs = completed ? completed : step.startedUs;
        step.payload = std::move(event);
        auto added = m_builder.add(std::move(step));
        return added ? Status() : Status(added.error());
    }

    Status modelEvent(const json &event, ThreadId thread)
    {
        Step call;
        call.kind = StepKind::ModelCall;
        call.thread = thread;
        call.name = stringMember(event, "model");
        if (call.name.empty())
            call.name = m_model;
        call.requestMessages = modelInput(event);
        call.requestParams = requestParams(call.name, event);

        const json empty = json::object();
        const json *output = member(event, "output");
        const json &out = output ? *output : empty;
        const json *choices = arrayMember(out, "choices");
        const json *choice = choices && !choices->empty() ? &(*choices)[0] : nullptr;
        const json *message = choice ? member(*choice, "message") : nullptr;
        json answer = message && message->is_object()
                          ? chatMessage(*message)
                          : json{{"role", "assistant"}, {"content", nullptr}};
        answer["finish_reason"] =
            finishReason(choice ? stringMember(*choice, "stop_reason") : std::string(),
                         answer.contains("tool_calls"));
        std::string error = stringMember(event, "error");
        if (error.empty())
            error = stringMember(out, "error");
        if (!error.empty()) {
            call.status = StepStatus::Error;
            answer["error"] = error;
        }
        if (const json *usage = member(out, "usage")) {
            call.usage = usageOf(*usage);
            call.costUsd = numberMember(*usage, "total_cost");
        }
        call.startedUs = timeFromJson(member(event, "timestamp"));
        call.endedUs = timeFromJson(member(event, "completed"));
        if (call.endedUs == 0)
            call.endedUs =
                call.startedUs + (call.startedUs ? secondsToUs(numberMember(out, "time")) : 0);
        std::vector<std::string> callIds;
        if (const json *calls = arrayMember(answer, "tool_calls")) {
            for (const json &toolCall : *calls)
                callIds.push_back(stringMember(toolCall, "id"));
        }
        call.payload = std::move(answer);
        auto index = m_builder.add(std::move(call));
        if (!index)
            return index.error();
        m_lastModelCall[thread.value] = *index;
        for (const std::string &id : callIds) {
            if (!id.empty())
                m_callOwner[id] = *index;
        }
        return {};
    }

    Status toolEvent(json &event, ThreadId thread, int nesting)
    {
        std::string id = stringMember(event, "id");
        if (id.empty())
            id = "call-" + std::to_string(++m_madeUpIds);
        const std::string name = stringMember(event, "function");
        std::optional<StepIndex> parent;
        if (auto owner = m_callOwner.find(id); owner != m_callOwner.end())
            parent = owner->second;
        else if (auto last = m_lastModelCall.find(thread.value); last != m_lastModelCall.end())
            parent = last->second;
        const int64_t startedUs = timeFromJson(member(event, "timestamp"));
        int64_t endedUs = timeFromJson(member(event, "completed"));
        if (endedUs == 0 && startedUs)
            endedUs = startedUs + secondsToUs(numberMember(event, "working_time"));
        const json *arguments = member(event, "arguments");
        auto call = m_builder.addToolCall(thread, name, id, arguments ? *arguments : json::object(),
                                          parent, startedUs);
        if (!call)
            return call.error();
        if (Status s =
                nestedEvents(takeNestedEvents(event), "tool: " + name, thread, startedUs, nesting);
            !s)
            return s;

        json output = toolOutput(member(event, "result"));
        const json *error = member(event, "error");
        const bool failed = error || boolMember(event, "failed");
        if (error && contentText(output).empty() && !output.is_array())
            output = error->is_object() ? stringMember(*error, "message") : jsonText(*error);
        auto result = m_builder.addToolResult(thread, id, name, std::move(output), failed,
                                              startedUs, endedUs);
        return result ? Status() : Status(result.error());
    }

    // A sample without events (written with events left out, or very old): its messages.
    Status messagesInstead(const json &fields)
    {
        const json *messages = arrayMember(fields, "messages");
        if (!messages) {
            skip("neither events nor messages to import");
            return {};
        }
        ChatTranscript transcript(m_builder, m_builder.mainThread(), m_model);
        int64_t position = 0;
        for (const json &given : *messages) {
            ++position;
            if (!given.is_object() || !member(given, "role")) {
                skip("message " + std::to_string(position) + ": not a message with a role");
                continue;
            }
            json message = given;
            resolveAttachments(message, m_attachments);
            MessageDetails details;
            details.isError = stringMember(message, "role") == "tool" && member(message, "error");
            auto added = transcript.add(chatMessage(message), details);
            if (!added)
                return added.error();
        }
        return {};
    }

    // The error that halted the sample, when no error event of its own said so.
    Status sampleError(const json &fields)
    {
        const json *error = member(fields, "error");
        if (!error || m_sawError)
            return {};
        json payload = *error;
        resolveAttachments(payload, m_attachments);
        Step step;
        step.kind = StepKind::Error;
        step.status = StepStatus::Error;
        step.name = "error";
        step.startedUs = step.endedUs = timeFromJson(member(fields, "completed_at"));
        step.payload = std::move(payload);
        auto added = m_builder.add(std::move(step));
        return added ? Status() : Status(added.error());
    }

    struct Span {
        ThreadId thread;
        bool inAgent = false;
    };

    TrajectoryBuilder &m_builder;
    const json &m_header;
    std::string m_place;
    std::string m_task;
    std::string m_model;
    std::string m_label;
    int64_t m_line = 0;
    json m_attachments = json::object();
    std::vector<json> m_pool;
    std::unordered_map<std::string, Span> m_spans;
    std::unordered_map<std::string, StepIndex> m_callOwner; // tool call id -> model call
    std::unordered_map<int64_t, StepIndex> m_lastModelCall; // by thread
    int64_t m_eventNumber = 0;
    int64_t m_madeUpIds = 0;
    bool m_sawError = false;
};

// Thrown from parser callbacks to stop with an error; caught in this file.
struct StopReading {
    Error error;
};

// The reason in a parse error's message, without nlohmann's "[json.exception...] " prefix.
std::string parseProblem(const std::exception &e)
{
    std::string what = e.what();
    if (const size_t end = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && end != std::string::npos)
        what.erase(0, end + 2);
    return what;
}

// ---------------------------------------------------------------------------------------
// The .json form

// A stream buffer that counts the lines of what its reader has taken, so that a parser
// reading a stream can say where it is.
class LineCountingBuffer : public std::streambuf {
public:
    explicit LineCountingBuffer(std::streambuf *source) : m_source(source) {}

    int64_t line() const { return m_linesBefore + std::count(eback(), gptr(), '\n') + 1; }
    int64_t offset() const { return m_bytesBefore + (gptr() - eback()); }

protected:
    int_type underflow() override
    {
        m_linesBefore += std::count(eback(), egptr(), '\n');
        m_bytesBefore += egptr() - eback();
        const std::streamsize n = m_source ? m_source->sgetn(m_buffer.get(), kSize) : 0;
        if (n <= 0) {
            setg(m_buffer.get(), m_buffer.get(), m_buffer.get());
            return traits_type::eof();
        }
        setg(m_buffer.get(), m_buffer.get(), m_buffer.get() + n);
        return traits_type::to_int_type(m_buffer[0]);
    }

private:
    static constexpr std::streamsize kSize = 1 << 16;
    std::streambuf *m_source;
    std::unique_ptr<char[]> m_buffer = std::make_unique<char[]>(size_t(kSize));
    int64_t m_linesBefore = 0;
    int64_t m_bytesBefore = 0;
};

Status importJsonLog(ImportSource &source, TrajectoryBuilder &builder)
{
    LineCountingBuffer counted(source.stream().rdbuf());
    std::istream in(&counted);
    json header = json::object();
    std::string topKey;
    bool inSamples = false;
    int64_t samples = 0;
    SampleCollector collector(2);

    auto importSample = [&](SampleParts &parts, const std::string &cutShort,
                            int64_t cutLine) -> Status {
        SampleImporter importer(builder, header, {});
        if (Status s = importer.import(parts, cutShort, cutLine); !s)
            return s;
        ++samples;
        source.progressAt(counted.offset());
        return {};
    };
    auto callback = [&](int depth, ParseEvent event, json &parsed) -> bool {
        if (depth == 0) {
            if (event == ParseEvent::array_start || event == ParseEvent::value)
                throw StopReading{source.parseError(
                    counted.line(), "expected an Inspect eval log (a JSON object)")};
            return true;
        }
        if (inSamples && depth >= 2) {
            bool complete = false;
            // Counting lines costs a scan of the buffer: done only where a sample starts.
            const int64_t line = depth == 2 ? counted.line() : 0;
            const bool keep = collector.handle(depth, event, parsed, line, complete);
            if (complete) {
                if (Status s = importSample(collector.parts(), {}, 0); !s)
                    throw StopReading{s.error()};
            }
            return keep;
        }
        if (depth != 1)
            return true;
        if (event == ParseEvent::key) {
            topKey = parsed.is_string() ? parsed.get<std::string>() : std::string();
            return true;
        }
        if (event == ParseEvent::array_start) {
            inSamples = topKey == "samples";
            return true;
        }
        if (event == ParseEvent::object_start)
            return true;
        // A member of the log is complete: kept in the header, except the samples (which
        // were handed over one by one).
        if (topKey != "samples")
            header[topKey] = std::move(parsed);
        else if (event == ParseEvent::value || event == ParseEvent::object_end)
            builder.skip(counted.line(), "\"samples\" is not a list");
        inSamples = false;
        return false;
    };

    try {
        json rest = json::parse(in, callback);
        (void)rest;
    } catch (const StopReading &stop) {
        return stop.error;
    } catch (const std::exception &e) {
        const int64_t line = counted.line();
        const std::string problem = "not valid JSON: " + parseProblem(e);
        if (collector.open() && !collector.parts().events.empty()) {
            return importSample(collector.parts(),
                                "cut short (" + problem + "); imported the events before it", line);
        }
        if (samples == 0)
            return source.parseError(line, problem);
        builder.skip(line, "the log breaks off here (" + problem + "); the " +
                               std::to_string(samples) + " samples before it are imported");
        return {};
    }
    source.progressAt(source.size());
    if (samples == 0) {
        if (member(header, "eval"))
            return source.parseError(
                0, "the Inspect log has no samples (it was written without them)");
        return source.parseError(
            0, "expected an Inspect eval log: an object with \"eval\" and \"samples\"");
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// The .eval form

uint16_t u16(std::string_view bytes, size_t at)
{
    return uint16_t(uint8_t(bytes[at]) | uint8_t(bytes[at + 1]) << 8);
}

uint32_t u32(std::string_view bytes, size_t at)
{
    return uint32_t(u16(bytes, at)) | uint32_t(u16(bytes, at + 2)) << 16;
}

void putU16(std::string &out, uint32_t value)
{
    out.push_back(char(value & 0xff));
    out.push_back(char((value >> 8) & 0xff));
}

void putU32(std::string &out, uint32_t value)
{
    putU16(out, value & 0xffff);
    putU16(out, value >> 16);
}

// A zip cut short has lost its central directory, which is at its end, but the entries
// before the cut still have their local headers. Writes a central directory for the entries
// that are complete, so that libzip can read them; `entries` is how many there are.
std::string withRebuiltDirectory(std::string_view bytes, int &entries)
{
    constexpr size_t kLocalHeader = 30;
    std::string directory;
    entries = 0;
    size_t at = 0;
    while (at + kLocalHeader <= bytes.size() &&
           bytes.substr(at, 4) == std::string_view("PK\3\4", 4)) {
        const uint16_t flags = u16(bytes, at + 6);
        const uint32_t compressedSize = u32(bytes, at + 18);
        const size_t nameLength = u16(bytes, at + 26);
        const size_t dataStart = at + kLocalHeader + nameLength + u16(bytes, at + 28);
        // Sizes given after the data (flag 3) or in a zip64 field: the entry cannot be walked.
        if ((flags & 8) != 0 || compressedSize == 0xffffffff ||
            dataStart + compressedSize > bytes.size())
            break;
        putU32(directory, 0x02014b50);
        putU16(directory, 20);                          // made by
        directory.append(bytes.substr(at + 4, 26 - 4)); // needed .. uncompressed size
        putU16(directory, uint32_t(nameLength));
        putU16(directory, 0); // extra
        putU16(directory, 0); // comment
        putU16(directory, 0); // disk
        putU16(directory, 0); // internal attributes
        putU32(directory, 0); // external attributes
        putU32(directory, uint32_t(at));
        directory.append(bytes.substr(at + kLocalHeader, nameLength));
        ++entries;
        at = dataStart + compressedSize;
    }
    std::string out(bytes.substr(0, at));
    out += directory;
    putU32(out, 0x06054b50);
    putU16(out, 0);
    putU16(out, 0);
    putU16(out, uint32_t(entries));
    putU16(out, uint32_t(entries));
    putU32(out, uint32_t(directory.size()));
    putU32(out, uint32_t(at));
    putU16(out, 0);
    return out;
}

// A zip archive opened read-only through libzip, from a file or from bytes in memory.
class ZipArchive {
public:
    ZipArchive() = default;
    ZipArchive(const ZipArchive &) = delete;
    ZipArchive &operator=(const ZipArchive &) = delete;
    ~ZipArchive()
    {
        if (m_zip)
            zip_discard(m_zip);
    }

    // Opens `bytes` (kept by the archive); an error message when libzip cannot.
    std::string openBytes(std::string bytes)
    {
        m_bytes = std::move(bytes);
        zip_error_t error;
        zip_error_init(&error);
        zip_source_t *source = zip_source_buffer_create(m_bytes.data(), m_bytes.size(), 0, &error);
        if (source) {
            m_zip = zip_open_from_source(source, ZIP_RDONLY, &error);
            if (!m_zip)
                zip_source_free(source);
        }
        std::string message = m_zip ? std::string() : zip_error_strerror(&error);
        zip_error_fini(&error);
        return message;
    }

    std::string openPath(const std::string &path)
    {
        int code = 0;
        m_zip = zip_open(path.c_str(), ZIP_RDONLY, &code);
        if (m_zip)
            return {};
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        std::string message = zip_error_strerror(&error);
        zip_error_fini(&error);
        return message;
    }

    int64_t entryCount() const { return m_zip ? zip_get_num_entries(m_zip, 0) : 0; }
    std::string name(int64_t index) const
    {
        const char *name = zip_get_name(m_zip, zip_uint64_t(index), 0);
        return name ? name : "";
    }
    int64_t find(const std::string &name) const { return zip_name_locate(m_zip, name.c_str(), 0); }
    int64_t compressedSize(int64_t index) const
    {
        zip_stat_t stat;
        zip_stat_init(&stat);
        return zip_stat_index(m_zip, zip_uint64_t(index), 0, &stat) == 0 &&
                       (stat.valid & ZIP_STAT_COMP_SIZE)
                   ? int64_t(stat.comp_size)
                   : 0;
    }

    // The entry's bytes; an error message in `problem` when they cannot be read. Entries
    // compressed with Zstandard (method 93, which this libzip may not know) are read raw and
    // decompressed here.
    std::string read(int64_t index, std::string &problem) const
    {
        constexpr int kZstandard = 93;
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(m_zip, zip_uint64_t(index), 0, &stat) != 0 ||
            !(stat.valid & ZIP_STAT_SIZE)) {
            problem = "cannot stat the entry";
            return {};
        }
        const bool raw =
            stat.comp_method == kZstandard && !zip_compression_method_supported(kZstandard, 0);
        if (!raw && !zip_compression_method_supported(stat.comp_method, 0)) {
            problem =
                "compression method " + std::to_string(stat.comp_method) + " is not supported";
            return {};
        }
        std::string bytes =
            readAll(index, raw ? ZIP_FL_COMPRESSED : 0, raw ? stat.comp_size : stat.size, problem);
        if (!raw || !problem.empty())
            return bytes;
        std::string plain(stat.size, '\0');
        const size_t n = ZSTD_decompress(plain.data(), plain.size(), bytes.data(), bytes.size());
        if (ZSTD_isError(n)) {
            problem = std::string("Zstandard: ") + ZSTD_getErrorName(n);
            return {};
        }
        plain.resize(n);
        return plain;
    }

private:
    std::string readAll(int64_t index, zip_flags_t flags, zip_uint64_t size,
                        std::string &problem) const
    {
        zip_file_t *file = zip_fopen_index(m_zip, zip_uint64_t(index), flags);
        if (!file) {
            problem = zip_strerror(m_zip);
            return {};
        }
        std::string bytes(size, '\0');
        zip_uint64_t done = 0;
        while (done < size) {
            const zip_int64_t n = zip_fread(file, bytes.data() + done, size - done);
            if (n < 0) {
                problem = zip_file_strerror(file);
                break;
            }
            if (n == 0)
                break;
            done += zip_uint64_t(n);
        }
        zip_fclose(file);
        if (problem.empty() && done != size)
            problem = "the entry ends early";
        return bytes;
    }

    std::string m_bytes;
    zip_t *m_zip = nullptr;
};

// "samples/<id>_epoch_<n>.json" sorted as Inspect sorts samples: by epoch, then by id
// (numbers in numeric order).
struct SampleEntry {
    int64_t index = 0;
    std::string name;
    int64_t epoch = 0;
    std::string idKey;
};

std::vector<SampleEntry> sampleEntries(const ZipArchive &zip)
{
    std::vector<SampleEntry> entries;
    for (int64_t i = 0; i < zip.entryCount(); ++i) {
        std::string name = zip.name(i);
        constexpr std::string_view prefix = "samples/";
        constexpr std::string_view suffix = ".json";
        if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0 ||
            name.find('/', prefix.size()) != std::string::npos)
            continue;
        SampleEntry entry;
        entry.index = i;
        entry.name = name;
        std::string stem = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        if (const size_t at = stem.rfind("_epoch_"); at != std::string::npos) {
            entry.epoch = std::atoll(stem.c_str() + at + 7);
            stem.erase(at);
        }
        const bool numeric = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) {
            return c >= '0' && c <= '9';
        });
        entry.idKey =
            numeric && stem.size() < 20 ? std::string(20 - stem.size(), '0') + stem : stem;
        entries.push_back(std::move(entry));
    }
    std::sort(entries.begin(), entries.end(), [](const SampleEntry &a, const SampleEntry &b) {
        return std::tie(a.epoch, a.idKey) < std::tie(b.epoch, b.idKey);
    });
    return entries;
}

json readJsonEntry(const ZipArchive &zip, const std::string &name, TrajectoryBuilder &builder)
{
    const int64_t index = zip.find(name);
    if (index < 0)
        return json();
    std::string problem;
    const std::string bytes = zip.read(index, problem);
    json value =
        problem.empty() ? json::parse(bytes, nullptr, false) : json(json::value_t::discarded);
    if (value.is_discarded()) {
        builder.skip(0, name + ": " + (problem.empty() ? "not valid JSON" : problem));
        return json();
    }
    return value;
}

// The log without its samples: header.json when the eval finished; else what the journal
// (or, in the first .eval logs, start.json and results.json) holds.
json evalHeader(const ZipArchive &zip, TrajectoryBuilder &builder)
{
    json header = readJsonEntry(zip, "header.json", builder);
    if (header.is_object())
        return header;
    header = json::object();
    for (const char *name : {"_journal/start.json", "start.json", "results.json"}) {
        json part = readJsonEntry(zip, name, builder);
        if (part.is_object())
            header.update(part);
    }
    return header;
}

Status importSampleEntry(const ZipArchive &zip, const SampleEntry &entry, const json &header,
                         TrajectoryBuilder &builder)
{
    std::string problem;
    const std::string bytes = zip.read(entry.index, problem);
    if (!problem.empty()) {
        builder.skip(0, entry.name + ": " + problem);
        return {};
    }
    SampleCollector collector(0);
    bool complete = false;
    std::string cutShort;
    try {
        json rest = json::parse(bytes, [&](int depth, ParseEvent event, json &parsed) {
            return collector.handle(depth, event, parsed, 0, complete);
        });
        (void)rest;
    } catch (const std::exception &e) {
        cutShort = "not valid JSON: " + parseProblem(e);
    }
    if (!complete && collector.parts().events.empty()) {
        builder.skip(0, entry.name + ": " + (cutShort.empty() ? "not a sample" : cutShort));
        return {};
    }
    if (!cutShort.empty())
        cutShort = "cut short (" + cutShort + "); imported the events before it";
    SampleImporter importer(builder, header, entry.name + ": ");
    return importer.import(collector.parts(), cutShort);
}

Status importEvalLog(ImportSource &source, TrajectoryBuilder &builder)
{
    auto zip = std::make_unique<ZipArchive>();
    std::string problem = source.path().empty() ? "" : zip->openPath(source.path());
    if (source.path().empty() || !problem.empty()) {
        std::istream &in = source.stream();
        in.clear();
        in.seekg(0);
        std::string bytes(std::istreambuf_iterator<char>(in), {});
        zip = std::make_unique<ZipArchive>();
        problem = zip->openBytes(bytes);
        // Cut short: the central directory is gone; rebuild it from the entries before the cut.
        if (!problem.empty()) {
            int entries = 0;
            auto rebuilt = std::make_unique<ZipArchive>();
            if (rebuilt->openBytes(withRebuiltDirectory(bytes, entries)).empty() && entries > 0) {
                builder.skip(0, "the archive is cut short (" + problem + "); read the " +
                                    std::to_string(entries) + " complete entries before the cut");
                zip = std::move(rebuilt);
                problem.clear();
            }
        }
    }
    if (!problem.empty())
        return source.parseError(0, "not a readable .eval (zip) archive: " + problem);

    const json header = evalHeader(*zip, builder);
    const std::vector<SampleEntry> entries = sampleEntries(*zip);
    if (entries.empty())
        return source.parseError(0, "the .eval archive has no samples/<id>_epoch_<n>.json entries");
    int64_t done = 0;
    for (const SampleEntry &entry : entries) {
        if (Status s = importSampleEntry(*zip, entry, header, builder); !s)
            return s;
        done += zip->compressedSize(entry.index);
        source.progressAt(done);
    }
    source.progressAt(source.size());
    return {};
}

// ---------------------------------------------------------------------------------------
// Detection

// Reads the keys of a document's top-level object from its head (which may stop anywhere)
// until it knows whether the object is an Inspect log: "eval" holding an object, among the
// first keys, and "version", "plan" or "samples" beside it.
class InspectKeys : public nlohmann::json_sax<json> {
public:
    bool isInspect() const { return m_evalObject && m_sibling; }

    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t &) override { return scalar(); }
    bool string(string_t &) override { return scalar(); }
    bool binary(binary_t &) override { return scalar(); }
    bool start_object(std::size_t) override
    {
        if (m_depth == 1 && m_key == "eval")
            m_evalObject = true;
        return ++m_depth > 0 && !isInspect();
    }
    bool key(string_t &key) override
    {
        if (m_depth != 1)
            return true;
        m_key = key;
        ++m_keys;
        m_sibling = m_sibling || key == "version" || key == "plan" || key == "samples";
        return m_keys <= 8 && !isInspect();
    }
    bool end_object() override { return --m_depth >= 0; }
    bool start_array(std::size_t) override { return m_depth++ > 0; } // a top-level array is not one
    bool end_array() override { return --m_depth >= 0; }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override
    {
        return false;
    }

private:
    bool scalar() { return m_depth > 0; }

    int m_depth = 0;
    int m_keys = 0;
    std::string m_key;
    bool m_evalObject = false;
    bool m_sibling = false;
};

// The name of a zip's first entry, from its local file header.
std::string_view firstZipEntry(std::string_view head)
{
    if (head.size() < 30)
        return {};
    const size_t length = u16(head, 26);
    return head.substr(30, std::min(length, head.size() - 30));
}

} // namespace

bool looksLikeInspect(const Sniff &sniff)
{
    if (sniff.zip) {
        const std::string_view first = firstZipEntry(sniff.head);
        return first == "header.json" || first == "start.json" ||
               first.rfind("_journal/", 0) == 0 ||
               (first.rfind("samples/", 0) == 0 &&
                first.find("_epoch_") != std::string_view::npos) ||
               sniff.head.find("header.json") != std::string_view::npos ||
               sniff.head.find("_journal/") != std::string_view::npos;
    }
    if (sniff.firstChar != '{' || sniff.head.find("\"eval\"") == std::string_view::npos)
        return false;
    InspectKeys keys;
    try {
        (void)json::sax_parse(sniff.head.begin(), sniff.head.end(), &keys,
                              json::input_format_t::json, false);
    } catch (const std::exception &) {
        return false;
    }
    return keys.isInspect();
}

Status importInspect(ImportSource &source, TrajectoryBuilder &builder)
{
    std::istream &in = source.stream();
    char magic[4] = {};
    in.read(magic, sizeof magic);
    const bool zip = in.gcount() == 4 && std::memcmp(magic, "PK\3\4", 4) == 0;
    in.clear();
    in.seekg(0);
    try {
        return zip ? importEvalLog(source, builder) : importJsonLog(source, builder);
    } catch (const std::exception &e) {
        return source.parseError(0, std::string("cannot read the Inspect log: ") + e.what());
    }
}

} // namespace tapedeck::formats::import
