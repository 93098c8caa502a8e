// Codex CLI rollout JSONL: the session files Codex writes under
// ~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl, one {"timestamp", "type", "payload"}
// record per line.
//
// How records become steps:
// - session_meta gives the run (its cwd, the CLI's version, the model provider, the base
//   instructions every request carries); turn_context gives the model of the calls after it.
// - response_item records are the conversation in OpenAI Responses item form. The items the
//   model produced one after another (reasoning, assistant message, function_call,
//   custom_tool_call, local_shell_call, web_search_call) are one model call, whose request is
//   every item before them; a token count (event_msg token_count, or token_usage_record)
//   ends the call and gives its usage. Each call item is a tool call; function_call_output
//   and custom_tool_call_output are the results, joined by call_id.
// - compacted records (and compaction items) are compaction steps; the conversation goes on
//   from the history they leave. event_msg errors are error steps.
// - event_msg records that repeat a response item (user_message, agent_message,
//   agent_reasoning, item_started/item_completed, exec_command_begin/end, context_compacted)
//   are not steps of their own: the item is; exec_command_end gives the exit code that marks
//   a failed command. Every other record is kept as an annotation holding the record.
// The first rollouts (codex-rs before mid 2025) wrote a header line without a type and the
// items bare; they are read as the same records.
#include "chattranscript.h"
#include "formatimporters.h"
#include "importtime.h"
#include "lenientjson.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <unordered_map>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

// Records read before the run starts: enough to reach the first answer, by which the
// session, the model and the prompt are known; the run's labels cannot change later.
constexpr size_t kHeadRecords = 256;
// Records held back behind a response that has not been counted yet; past this it is taken
// as complete, which bounds memory on a damaged file.
constexpr size_t kMaxDeferred = 4096;
constexpr size_t kTitleBytes = 80;

struct Record {
    json value; // {"timestamp", "type", "payload", ...}
    int64_t line = 0;
};

// The items of one model response, until its token count arrives.
struct Response {
    json output = json::array();
    std::string id;
    Usage usage;
    json usageBody; // in Responses form; null when the rollout gave no count
    int64_t requestedUs = 0;
    int64_t firstUs = 0;
    int64_t answeredUs = 0;
    std::vector<Record> deferred; // records that came before its count
};

const std::array<std::string_view, 8> kBareItemTypes = {
    "message",          "reasoning",
    "function_call",    "function_call_output",
    "custom_tool_call", "custom_tool_call_output",
    "local_shell_call", "web_search_call"};

// event_msg types that repeat what a response item holds.
const std::array<std::string_view, 13> kRepeatingEvents = {"user_message",
                                                           "agent_message",
                                                           "agent_message_delta",
                                                           "agent_reasoning",
                                                           "agent_reasoning_delta",
                                                           "agent_reasoning_raw_content",
                                                           "agent_reasoning_section_break",
                                                           "item_started",
                                                           "item_completed",
                                                           "exec_command_begin",
                                                           "exec_command_end",
                                                           "exec_command_output_delta",
                                                           "context_compacted"};

template <size_t N>
bool oneOf(const std::array<std::string_view, N> &names, const std::string &name)
{
    return std::find(names.begin(), names.end(), name) != names.end();
}

int64_t timeOf(const json &record)
{
    return timeFromJson(member(record, "timestamp"));
}

const json &payloadOf(const json &record)
{
    static const json kNone = json::object();
    const json *payload = member(record, "payload");
    return payload ? *payload : kNone;
}

// A line in the form of today's rollouts: the first ones wrote a header without a type
// and the items bare. Discarded when it is neither.
json asRecord(json value)
{
    if (!value.is_object())
        return json(json::value_t::discarded);
    const std::string type = stringMember(value, "type");
    if (!type.empty() && member(value, "payload") && member(value, "payload")->is_object())
        return value;
    const json time = value.contains("timestamp") ? value["timestamp"] : json();
    if (type.empty() && !stringMember(value, "id").empty() && value.contains("instructions"))
        return {{"type", "session_meta"}, {"timestamp", time}, {"payload", std::move(value)}};
    if (type.empty() && !stringMember(value, "record_type").empty())
        return {{"type", stringMember(value, "record_type")}, {"payload", std::move(value)}};
    if (oneOf(kBareItemTypes, type))
        return {{"type", "response_item"}, {"timestamp", time}, {"payload", std::move(value)}};
    return json(json::value_t::discarded);
}

// Items the model writes: its answer, its reasoning, and calls of every kind.
bool isModelOutput(const json &item)
{
    const std::string type = stringMember(item, "type");
    if (type == "message")
        return stringMember(item, "role") == "assistant";
    return type == "reasoning" ||
           (type.size() > 5 && type.compare(type.size() - 5, 5, "_call") == 0);
}

std::string titleOf(const std::string &text)
{
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return {};
    std::string line = text.substr(begin, text.find_first_of("\r\n", begin) - begin);
    if (line.size() <= kTitleBytes)
        return line;
    size_t cut = kTitleBytes;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
        --cut; // not inside a UTF-8 sequence
    return line.substr(0, cut) + "…";
}

// Codex counts input as the Responses API does, cached tokens included; the tape counts
// them apart.
Usage usageOf(const json &counts)
{
    Usage usage;
    usage.cacheReadTokens = integerMember(counts, "cached_input_tokens");
    usage.cacheWriteTokens = integerMember(counts, "cache_write_input_tokens");
    usage.inputTokens = std::max<int64_t>(0, integerMember(counts, "input_tokens") -
                                                 usage.cacheReadTokens - usage.cacheWriteTokens);
    usage.outputTokens = integerMember(counts, "output_tokens");
    return usage;
}

json usageBodyOf(const json &counts)
{
    return {
        {"input_tokens", integerMember(counts, "input_tokens")},
        {"input_tokens_details", {{"cached_tokens", integerMember(counts, "cached_input_tokens")}}},
        {"output_tokens", integerMember(counts, "output_tokens")},
        {"output_tokens_details",
         {{"reasoning_tokens", integerMember(counts, "reasoning_output_tokens")}}},
        {"total_tokens", integerMember(counts, "total_tokens")}};
}

// "Process exited with code N" in the output of today's exec tool; nullopt when absent.
std::optional<int64_t> exitCodeInText(const std::string &text)
{
    static const std::string kMark = "Process exited with code ";
    for (size_t at = text.find(kMark); at != std::string::npos; at = text.find(kMark, at + 1)) {
        if (at != 0 && text[at - 1] != '\n')
            continue;
        const char *digits = text.c_str() + at + kMark.size();
        char *end = nullptr;
        const long long code = std::strtoll(digits, &end, 10);
        if (end != digits)
            return code;
    }
    return std::nullopt;
}

// The exit code of a command whose output the first shell tool wrote as JSON:
// {"output": ..., "metadata": {"exit_code": N, ...}}.
std::optional<int64_t> exitCodeInJson(const std::string &text)
{
    if (text.empty() || text.front() != '{')
        return std::nullopt;
    const json parsed = json::parse(text, nullptr, false);
    const json *metadata = member(parsed, "metadata");
    const json *code = metadata ? member(*metadata, "exit_code") : nullptr;
    if (!code || !code->is_number())
        return std::nullopt;
    return integerMember(*metadata, "exit_code");
}

// A tool call item as the tool, its call id and its arguments.
struct CallOf {
    std::string name;
    std::string callId;
    json arguments;
};

std::optional<CallOf> callOf(const json &item)
{
    const std::string type = stringMember(item, "type");
    std::string callId = stringMember(item, "call_id");
    if (callId.empty())
        callId = stringMember(item, "id");
    if (type == "function_call") {
        // Arguments come as JSON text; kept as the text when it is not JSON.
        const std::string text = stringMember(item, "arguments");
        json arguments = json::parse(text, nullptr, false);
        if (arguments.is_discarded())
            arguments = text;
        return CallOf{stringMember(item, "name"), callId, std::move(arguments)};
    }
    if (type == "custom_tool_call")
        return CallOf{stringMember(item, "name"), callId, {{"input", stringMember(item, "input")}}};
    if (type == "message" || type == "reasoning")
        return std::nullopt;
    // local_shell_call, web_search_call and the calls of built-in tools to come.
    std::string name = type.substr(0, type.size() - std::string_view("_call").size());
    const json *action = member(item, "action");
    return CallOf{std::move(name), callId, action ? *action : item};
}

class Importer {
public:
    Importer(ImportSource &source, TrajectoryBuilder &builder)
        : m_source(source), m_builder(builder)
    {
    }

    Status run()
    {
        LineReader lines(m_source);
        std::string_view text;
        int64_t firstBadLine = 0;
        while (lines.next(text)) {
            std::string problem;
            json value = lines.parseLine(text, problem);
            if (value.is_discarded()) {
                m_builder.skip(lines.lineNumber(), problem);
                firstBadLine = firstBadLine ? firstBadLine : lines.lineNumber();
                continue;
            }
            Record record{asRecord(std::move(value)), lines.lineNumber()};
            if (record.value.is_discarded()) {
                m_builder.skip(lines.lineNumber(),
                               "not a Codex rollout record (expected an object with a \"type\" "
                               "and a \"payload\" object)");
                firstBadLine = firstBadLine ? firstBadLine : lines.lineNumber();
                continue;
            }
            if (Status s = accept(std::move(record)); !s)
                return s;
        }
        if (!m_started) {
            if (m_head.empty())
                return lines.lineNumber() == 0
                           ? m_source.parseError(0, "the file is empty")
                           : m_source.parseError(
                                 firstBadLine, "expected Codex rollout records: JSON objects with "
                                               "a \"type\" and a \"payload\" object");
            if (Status s = start(); !s)
                return s;
        }
        if (m_response) {
            if (Status s = close(); !s)
                return s;
        }
        return m_builder.endRun(m_outcome);
    }

private:
    Status accept(Record record)
    {
        if (m_started)
            return handle(std::move(record));
        const bool answer = stringMember(record.value, "type") == "response_item" &&
                            isModelOutput(payloadOf(record.value));
        m_head.push_back(std::move(record));
        return answer || m_head.size() >= kHeadRecords ? start() : Status();
    }

    // Begins the run with what the first records say about the session, then handles them.
    Status start()
    {
        RunInfo run;
        run.agent = "codex";
        json labels = json::object();
        std::string prompt, lastUserText;
        for (const Record &record : m_head) {
            const std::string type = stringMember(record.value, "type");
            const json &payload = payloadOf(record.value);
            if (type == "session_meta" && !m_sessionMetaLine) {
                m_sessionMetaLine = record.line;
                readSessionMeta(payload, run, labels);
            } else if (type == "turn_context" && !labels.contains("model")) {
                if (const std::string model = stringMember(payload, "model"); !model.empty())
                    labels["model"] = model;
                if (run.cwd.empty())
                    run.cwd = stringMember(payload, "cwd");
            } else if (type == "event_msg" && stringMember(payload, "type") == "user_message" &&
                       prompt.empty()) {
                prompt = titleOf(stringMember(payload, "message"));
            } else if (type == "response_item" && stringMember(payload, "type") == "message" &&
                       stringMember(payload, "role") == "user") {
                // Codex sends its context (environment, AGENTS.md) as user messages in tags.
                if (const json *content = member(payload, "content")) {
                    const std::string text = contentText(*content);
                    if (text.rfind('<', 0) != 0 && text.rfind("# AGENTS.md", 0) != 0)
                        lastUserText = text;
                }
            }
            if (const int64_t at = timeOf(record.value); at && !run.startedUs)
                run.startedUs = at;
        }
        if (prompt.empty())
            prompt = titleOf(lastUserText);
        const std::string session = stringMember(labels, "session_id");
        run.name = !prompt.empty() ? prompt : "codex session " + session;
        run.labels = std::move(labels);
        m_model = stringMember(run.labels, "model");
        auto begun = m_builder.beginRun(run);
        if (!begun)
            return begun.error();
        m_started = true;
        std::vector<Record> head = std::move(m_head);
        for (Record &record : head) {
            if (Status s = handle(std::move(record)); !s)
                return s;
        }
        return {};
    }

    void readSessionMeta(const json &meta, RunInfo &run, json &labels)
    {
        run.cwd = stringMember(meta, "cwd");
        if (const int64_t at = timeFromJson(member(meta, "timestamp")))
            run.startedUs = at;
        auto label = [&](const char *key, const json *value) {
            if (value && (value->is_string() ? !value->get_ref<const std::string &>().empty()
                                             : !value->is_null()))
                labels[key] = *value;
        };
        label("session_id", member(meta, "id"));
        label("codex_version", member(meta, "cli_version"));
        label("model_provider", member(meta, "model_provider"));
        label("originator", member(meta, "originator"));
        label("source", member(meta, "source"));
        if (const json *git = member(meta, "git")) {
            label("git_branch", member(*git, "branch"));
            label("git_commit", member(*git, "commit_hash"));
            label("git_repository", member(*git, "repository_url"));
        }
        // What every request carries as its instructions.
        if (const json *base = member(meta, "base_instructions"))
            m_instructions =
                base->is_string() ? base->get<std::string>() : stringMember(*base, "text");
        if (m_instructions.empty())
            m_instructions = stringMember(meta, "instructions");
    }

    // ---- records

    Status handle(Record record)
    {
        const std::string type = stringMember(record.value, "type");
        const json &payload = payloadOf(record.value);
        // Events that repeat an item make no step: they neither wait for the response nor
        // end it (an agent_reasoning event comes between the reasoning and the call).
        const bool repeats =
            type == "event_msg" && oneOf(kRepeatingEvents, stringMember(payload, "type"));
        if (m_response && !repeats) {
            if (Status s = beforeResponseGoesOn(type, payload); !s)
                return s;
            if (m_response && !(type == "response_item" && isModelOutput(payload))) {
                if (isCount(type, payload))
                    return count(type, payload, timeOf(record.value));
                m_response->deferred.push_back(std::move(record));
                return {};
            }
        }
        return dispatch(record, type, payload);
    }

    // Closes the open response when the record cannot belong to it: a new turn, a
    // compaction, the first output after its tools ran, too many records waiting.
    Status beforeResponseGoesOn(const std::string &type, const json &payload)
    {
        const std::string itemType = stringMember(payload, "type");
        const bool ends =
            type == "turn_context" || type == "compacted" || type == "session_meta" ||
            (type == "event_msg" && itemType == "task_started") ||
            (type == "response_item" &&
             (itemType == "compaction" || itemType == "compaction_summary")) ||
            (type == "response_item" && isModelOutput(payload) && !m_response->deferred.empty()) ||
            m_response->deferred.size() >= kMaxDeferred;
        return ends ? close() : Status();
    }

    static bool isCount(const std::string &type, const json &payload)
    {
        if (type == "token_usage_record")
            return member(payload, "usage") != nullptr;
        return type == "event_msg" && stringMember(payload, "type") == "token_count" &&
               member(payload, "info");
    }

    // The token count that ends the open response.
    Status count(const std::string &type, const json &payload, int64_t at)
    {
        const json *counts = type == "token_usage_record"
                                 ? member(payload, "usage")
                                 : member(*member(payload, "info"), "last_token_usage");
        if (counts && counts->is_object()) {
            m_response->usage = usageOf(*counts);
            m_response->usageBody = usageBodyOf(*counts);
        }
        m_response->id = stringMember(payload, "response_id");
        m_latestUs = std::max(m_latestUs, at);
        return close();
    }

    Status dispatch(Record &record, const std::string &type, const json &payload)
    {
        if (type == "response_item")
            return item(record, payload);
        if (type == "event_msg")
            return event(record, payload);
        if (isCount(type, payload))
            return {}; // a count after its response was counted already, or before any
        if (type == "compacted")
            return compacted(record, payload);
        if (type == "session_meta" && record.line == m_sessionMetaLine)
            return {}; // the run holds what it says
        if (type == "turn_context") {
            if (const std::string model = stringMember(payload, "model"); !model.empty())
                m_model = model;
        }
        return note(record, StepKind::Annotation, StepStatus::Ok, type);
    }

    Status item(Record &record, const json &item)
    {
        const std::string type = stringMember(item, "type");
        const int64_t at = timeOf(record.value);
        // Only what the model was sent or what it answered dates the next request: not the
        // events that repeat an answer after it was written.
        const int64_t before = m_latestUs;
        m_latestUs = std::max(m_latestUs, at);
        if (isModelOutput(item)) {
            if (!m_response) {
                m_response.emplace();
                m_response->requestedUs = before;
                m_response->firstUs = at;
            }
            m_response->output.push_back(item);
            m_response->answeredUs = std::max(m_response->answeredUs, at);
            return {};
        }
        if (type == "function_call_output" || type == "custom_tool_call_output") {
            if (Status s = toolResult(item, at); !s)
                return s;
        } else if (type == "compaction" || type == "compaction_summary") {
            json kept = item;
            if (Status s = note(record, StepKind::Compaction, StepStatus::Ok, "compaction"); !s)
                return s;
            m_messages.push_back(std::move(kept));
            return {};
        } else if (type != "message") {
            // ghost_snapshot and other items of the harness's own, not sent to the model.
            return note(record, StepKind::Annotation, StepStatus::Ok, "response_item: " + type);
        }
        m_messages.push_back(item);
        return {};
    }

    Status toolResult(const json &item, int64_t at)
    {
        const std::string callId = stringMember(item, "call_id");
        const json *given = member(item, "output");
        json output = given ? *given : json("");
        bool failed = false;
        // A failure used to be written as {"content": ..., "success": false}.
        if (output.is_object()) {
            if (const json *success = member(output, "success"); success && success->is_boolean())
                failed = !success->get<bool>();
            if (const json *content = member(output, "content"))
                output = json(*content);
        }
        if (output.is_array())
            output = contentText(output);
        const std::string text = output.is_string() ? output.get<std::string>() : std::string();
        std::optional<int64_t> exitCode;
        if (auto known = m_exitCodes.find(callId); known != m_exitCodes.end()) {
            exitCode = known->second;
            m_exitCodes.erase(known);
        } else if (!(exitCode = exitCodeInJson(text))) {
            exitCode = exitCodeInText(text);
        }
        failed = failed || (exitCode && *exitCode != 0);
        int64_t calledUs = at;
        if (auto call = m_callTimes.find(callId); call != m_callTimes.end()) {
            calledUs = call->second ? call->second : at;
            m_callTimes.erase(call);
        }
        auto added =
            m_builder.addToolResult({}, callId, {}, std::move(output), failed, calledUs, at);
        return added ? Status() : Status(added.error());
    }

    Status event(Record &record, const json &payload)
    {
        const std::string type = stringMember(payload, "type");
        if (type == "exec_command_end") {
            if (const json *code = member(payload, "exit_code"); code && code->is_number())
                m_exitCodes[stringMember(payload, "call_id")] = integerMember(payload, "exit_code");
            return {};
        }
        if (type == "item_completed") {
            const json *item = member(payload, "item");
            if (item && stringMember(*item, "type") == "CommandExecution") {
                if (const json *code = member(*item, "exit_code"); code && code->is_number())
                    m_exitCodes[stringMember(*item, "id")] = integerMember(*item, "exit_code");
            }
            return {};
        }
        // A count that came after its response was counted already (Codex writes one as
        // token_usage_record and again as token_count), or with nothing counted yet.
        if (oneOf(kRepeatingEvents, type) || type == "token_count")
            return {};
        if (type == "error" || type == "stream_error") {
            m_outcome = "error: " + stringMember(payload, "message");
            return note(record, StepKind::Error, StepStatus::Error, type);
        }
        if (type == "turn_aborted") {
            m_outcome = "aborted: " + stringMember(payload, "reason");
            return note(record, StepKind::Annotation, StepStatus::Cancelled, type);
        }
        if (type == "task_started")
            m_outcome.clear(); // a turn under way, until it says how it ended
        if (type == "task_complete")
            m_outcome = "task complete";
        return note(record, StepKind::Annotation, StepStatus::Ok, "event_msg: " + type);
    }

    // The history goes on from what the compaction left: the history it gives, else (as
    // Codex rebuilds it) the messages sent so far with the summary as a user message.
    Status compacted(Record &record, const json &payload)
    {
        std::vector<json> history;
        if (const json *replacement = arrayMember(payload, "replacement_history")) {
            history.assign(replacement->begin(), replacement->end());
        } else {
            for (json &message : m_messages) {
                if (stringMember(message, "type") == "message" &&
                    stringMember(message, "role") != "assistant")
                    history.push_back(std::move(message));
            }
            history.push_back(
                {{"type", "message"},
                 {"role", "user"},
                 {"content", json::array({{{"type", "input_text"},
                                           {"text", stringMember(payload, "message")}}})}});
        }
        m_messages = std::move(history);
        return note(record, StepKind::Compaction, StepStatus::Ok, "compacted");
    }

    Status note(Record &record, StepKind kind, StepStatus status, const std::string &name)
    {
        Step step;
        step.kind = kind;
        step.status = status;
        step.name = name;
        step.startedUs = step.endedUs = timeOf(record.value);
        step.payload = std::move(record.value);
        m_latestUs = std::max(m_latestUs, step.startedUs);
        auto added = m_builder.add(std::move(step));
        return added ? Status() : Status(added.error());
    }

    // Writes the response as a model call followed by its tool calls, then the records
    // that waited for its count.
    Status close()
    {
        Response response = std::move(*m_response);
        m_response.reset();
        Step call;
        call.kind = StepKind::ModelCall;
        call.name = m_model;
        // The request went out once the record before the answer had been written.
        call.startedUs = response.requestedUs ? response.requestedUs : response.firstUs;
        call.endedUs = std::max(response.answeredUs, m_latestUs);
        call.usage = response.usage;
        call.requestParams = json::object();
        if (!m_model.empty())
            call.requestParams["model"] = m_model;
        if (!m_instructions.empty())
            call.requestParams["instructions"] = m_instructions;
        call.payload = {{"object", "response"}, {"model", m_model}, {"output", response.output}};
        if (!response.id.empty())
            call.payload["id"] = response.id;
        if (!response.usageBody.is_null())
            call.payload["usage"] = std::move(response.usageBody);
        auto index = m_builder.addLendingConversation(std::move(call), m_messages);
        if (!index)
            return index.error();
        for (json &item : response.output) {
            if (auto tool = callOf(item)) {
                m_callTimes[tool->callId] = response.answeredUs;
                auto added =
                    m_builder.addToolCall({}, tool->name, tool->callId, std::move(tool->arguments),
                                          *index, response.answeredUs);
                if (!added)
                    return added.error();
            }
            m_messages.push_back(std::move(item));
        }
        for (Record &record : response.deferred) {
            if (Status s = handle(std::move(record)); !s)
                return s;
        }
        return {};
    }

    ImportSource &m_source;
    TrajectoryBuilder &m_builder;
    std::vector<Record> m_head;
    int64_t m_sessionMetaLine = 0; // the line of the one the run was made from
    bool m_started = false;
    std::string m_model;
    std::string m_instructions;
    std::string m_outcome;
    std::vector<json> m_messages; // the conversation so far, in Responses item form
    std::optional<Response> m_response;
    int64_t m_latestUs = 0;
    std::unordered_map<std::string, int64_t> m_callTimes; // of calls still without a result
    std::unordered_map<std::string, int64_t> m_exitCodes; // by call id, until its output
};

} // namespace

bool looksLikeCodex(const Sniff &sniff)
{
    const json &first = sniff.firstLine;
    if (!first.is_object()) {
        // A first line longer than what detection reads (base instructions run long).
        const std::string_view start = sniff.head.substr(0, 512);
        return sniff.firstChar == '{' &&
               start.find("\"type\":\"session_meta\"") != std::string_view::npos &&
               start.find("\"payload\":") != std::string_view::npos;
    }
    const std::string type = stringMember(first, "type");
    const json *payload = member(first, "payload");
    if (payload && payload->is_object() && member(first, "timestamp"))
        return type == "session_meta" || type == "response_item" || type == "turn_context" ||
               type == "event_msg" || type == "compacted";
    // The first rollouts: a header line, then bare items.
    return type.empty() && !stringMember(first, "id").empty() &&
           !stringMember(first, "timestamp").empty() && first.contains("instructions") &&
           (sniff.head.find("\"type\":\"message\"") != std::string_view::npos ||
            sniff.head.find("\"record_type\":\"state\"") != std::string_view::npos);
}

Status importCodex(ImportSource &source, TrajectoryBuilder &builder)
{
    return Importer(source, builder).run();
}

} // namespace tapedeck::formats::import
