// SWE-agent trajectories (.traj), 0.x and 1.x. One JSON object per file:
// - "trajectory": one entry per turn: "response" (what the model wrote), "thought",
//   "action" (the command it chose), "observation" (what the command printed), "state"
//   (0.x: a JSON text, 1.x: an object, both with "working_dir"); 1.x adds "query" (the
//   messages sent to the model for that turn), "execution_time" (seconds the action took)
//   and "extra_info";
// - "history": the conversation (role, content, agent, is_demo, thought, action); 1.x
//   adds "tool_calls" on assistant messages and "tool_call_ids" on tool messages when the
//   model calls functions;
// - "info": exit_status, submission, model_stats (tokens_sent, tokens_received,
//   instance_cost, api_calls), versions; 1.x "replay_config" holds the model's name.
// One run per file. Each turn becomes a model call (its request: the turn's query, else the
// history before the turn's assistant message), a tool call for its action and a tool
// result for its observation. The format keeps no times and no per-call usage, so the
// steps have time 0 and the totals of model_stats are run labels.
#include "formatimporters.h"
#include "lenientjson.h"
#include "trajectoryjson.h"

#include <filesystem>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

// 0.x writes is_demo as the string "True".
bool truthy(const json *value)
{
    if (!value)
        return false;
    if (value->is_boolean())
        return value->get<bool>();
    return value->is_string() && (*value == "True" || *value == "true");
}

bool isBlank(std::string_view text)
{
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// A history entry as the OpenAI Chat message SWE-agent's model client sends for it: the
// client keeps role and content, and turns tool_call_ids into the one tool_call_id.
json chatMessage(const json &item)
{
    json message = {{"role", stringMember(item, "role")}};
    const json *content = member(item, "content");
    message["content"] = content ? *content : json("");
    if (message["role"] == "tool") {
        const json *ids = arrayMember(item, "tool_call_ids");
        if (ids && !ids->empty() && ids->front().is_string())
            message["tool_call_id"] = ids->front();
        else if (const std::string id = stringMember(item, "tool_call_id"); !id.empty())
            message["tool_call_id"] = id;
    } else if (const json *calls = arrayMember(item, "tool_calls"); calls && !calls->empty()) {
        message["tool_calls"] = *calls;
    }
    return message;
}

// A step's query (1.x) as chat messages; empty when the step has none (0.x), or only the
// placeholder [{}] that 1.x writes for a turn without a model call.
std::vector<json> queryMessages(const json &step)
{
    std::vector<json> messages;
    const json *query = arrayMember(step, "query");
    if (!query)
        return messages;
    for (const json &item : *query) {
        if (member(item, "role"))
            messages.push_back(chatMessage(item));
    }
    return messages;
}

std::string workingDir(const json &step)
{
    const json *state = member(step, "state");
    if (!state)
        return {};
    if (state->is_string()) {
        const json parsed = json::parse(state->get<std::string>(), nullptr, false);
        return stringMember(parsed, "working_dir");
    }
    return stringMember(*state, "working_dir");
}

// The model named by 1.x's replay_config (a JSON text of the run's configuration).
std::string modelName(const json &doc)
{
    const json *config = member(doc, "replay_config");
    if (!config)
        return {};
    const json parsed =
        config->is_string() ? json::parse(config->get<std::string>(), nullptr, false) : *config;
    const json *agent = member(parsed, "agent");
    const json *model = agent ? member(*agent, "model") : nullptr;
    return model ? stringMember(*model, "name") : std::string();
}

// The command an action runs: "edit", "open", "submit", or the program of a shell line.
std::string commandName(std::string_view action)
{
    const size_t start = action.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos)
        return {};
    const size_t end = action.find_first_of(" \t\r\n", start);
    return std::string(action.substr(start, end == std::string_view::npos ? end : end - start));
}

// SWE-agent names its trajectories <instance id>.traj.
std::string runName(const std::string &sourceName)
{
    std::string name = std::filesystem::path(sourceName).filename().string();
    for (const char *suffix : {".json", ".traj"}) {
        const std::string_view s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
            name.resize(name.size() - s.size());
    }
    return name.empty() ? "swe-agent trajectory" : name;
}

class SweAgentRun {
public:
    SweAgentRun(TrajectoryBuilder &builder, const json &doc) : m_builder(builder), m_doc(doc) {}

    Status import(const std::string &sourceName)
    {
        const json *info = member(m_doc, "info");
        m_model = modelName(m_doc);
        auto started = m_builder.beginRun(runInfo(sourceName, info));
        if (!started)
            return started.error();
        if (Status s = turns(); !s)
            return s;
        if (Status s = submission(info); !s)
            return s;
        return m_builder.endRun(info ? stringMember(*info, "exit_status") : std::string());
    }

private:
    RunInfo runInfo(const std::string &sourceName, const json *info) const
    {
        RunInfo run;
        run.agent = "swe-agent";
        run.name = runName(sourceName);
        if (const json *steps = arrayMember(m_doc, "trajectory"); steps && !steps->empty())
            run.cwd = workingDir(steps->front());
        if (!m_model.empty())
            run.labels["model"] = m_model;
        if (const std::string env = stringMember(m_doc, "environment"); !env.empty())
            run.labels["environment"] = env;
        if (!info)
            return run;
        for (const char *key : {"exit_status", "swe_agent_version", "swe_rex_version"}) {
            if (const std::string value = stringMember(*info, key); !value.empty())
                run.labels[key] = value;
        }
        if (const json *stats = member(*info, "model_stats")) {
            for (const char *key :
                 {"tokens_sent", "tokens_received", "api_calls", "instance_cost", "total_cost"}) {
                if (const json *value = member(*stats, key); value && value->is_number())
                    run.labels[key] = *value;
            }
        }
        return run;
    }

    // Walks the turns and the history side by side: the n-th assistant message of the
    // history (demonstrations aside) is the model's answer of the n-th turn.
    Status turns()
    {
        const json *steps = arrayMember(m_doc, "trajectory");
        const json *history = arrayMember(m_doc, "history");
        static const json kNone = json::array();
        if (!steps)
            steps = &kNone;
        if (!history)
            history = &kNone;
        std::vector<json> conversation;
        size_t next = 0;
        for (size_t n = 0; n < steps->size(); ++n) {
            const json *answer = nullptr;
            while (next < history->size() && !answer) {
                const json &item = (*history)[next++];
                if (!member(item, "role"))
                    m_builder.skip(0, "history entry " + std::to_string(next) +
                                          ": not a message with a role");
                else if (stringMember(item, "role") == "assistant" &&
                         !truthy(member(item, "is_demo")))
                    answer = &item;
                else
                    conversation.push_back(chatMessage(item));
            }
            const json &step = (*steps)[n];
            if (!step.is_object()) {
                m_builder.skip(0, "trajectory step " + std::to_string(n + 1) + ": not an object");
            } else {
                std::vector<json> request = queryMessages(step);
                if (request.empty() && answer)
                    request = conversation;
                if (Status s = turn(step, n + 1, answer, std::move(request)); !s)
                    return s;
            }
            if (answer)
                conversation.push_back(chatMessage(*answer));
        }
        return {};
    }

    Status turn(const json &step, size_t number, const json *answer, std::vector<json> request)
    {
        const std::string response = stringMember(step, "response");
        const std::string action = stringMember(step, "action");
        if (response.empty() && isBlank(action) && !answer) {
            // A turn without a model answer (1.x writes one when it gives up on an error).
            Step note;
            note.kind = StepKind::Annotation;
            note.name = "step";
            note.payload = step;
            return add(std::move(note));
        }
        json message =
            answer ? chatMessage(*answer) : json{{"role", "assistant"}, {"content", response}};
        const json *toolCalls = arrayMember(message, "tool_calls");
        Step call;
        call.kind = StepKind::ModelCall;
        call.name = m_model;
        call.requestMessages = std::move(request);
        call.requestParams = json::object();
        if (!m_model.empty())
            call.requestParams["model"] = m_model;
        message["finish_reason"] = toolCalls ? "tool_calls" : "stop";
        call.payload = message;
        auto callIndex = m_builder.add(std::move(call));
        if (!callIndex)
            return callIndex.error();

        std::string callId, toolName;
        std::optional<StepIndex> toolCall;
        auto addCall = [&](const std::string &name, const std::string &id,
                           json arguments) -> Status {
            auto index = m_builder.addToolCall(m_builder.mainThread(), name, id,
                                               std::move(arguments), *callIndex, 0);
            if (!index)
                return index.error();
            if (!toolCall) {
                toolCall = *index;
                callId = id;
                toolName = name;
            }
            return {};
        };
        const std::string madeUpId = "call-" + std::to_string(number);
        if (toolCalls) {
            for (const json &tc : *toolCalls) {
                const json *function = member(tc, "function");
                const json *given = function ? member(*function, "arguments") : nullptr;
                json arguments = given ? *given : json::object();
                if (arguments.is_string()) {
                    json parsed = json::parse(arguments.get<std::string>(), nullptr, false);
                    if (!parsed.is_discarded())
                        arguments = std::move(parsed);
                }
                const std::string id = stringMember(tc, "id");
                if (Status s = addCall(function ? stringMember(*function, "name") : std::string(),
                                       id.empty() ? madeUpId : id, std::move(arguments));
                    !s)
                    return s;
            }
        } else if (!isBlank(action)) {
            if (Status s = addCall(commandName(action), madeUpId, json{{"command", action}}); !s)
                return s;
        }
        if (!toolCall)
            return {};
        return result(step, *toolCall, callId, toolName);
    }

    // The observation of a turn's action. SWE-agent does not say whether the command
    // failed, so no result is an error; execution_time (seconds) is kept beside the output
    // because the format has no times to place it between.
    Status result(const json &step, StepIndex toolCall, const std::string &callId,
                  const std::string &toolName)
    {
        const json *observation = member(step, "observation");
        Step result;
        result.kind = StepKind::ToolResult;
        result.name = toolName;
        result.callId = callId;
        result.parent = toolCall;
        result.payload = {{"output", observation ? *observation : json("")}, {"is_error", false}};
        if (const auto seconds = numberMember(step, "execution_time"); seconds && *seconds > 0)
            result.payload["execution_time"] = *seconds;
        return add(std::move(result));
    }

    // The patch the run submitted: kept whole, as the run's last step.
    Status submission(const json *info)
    {
        const std::string patch = info ? stringMember(*info, "submission") : std::string();
        if (patch.empty())
            return {};
        Step note;
        note.kind = StepKind::Annotation;
        note.name = "submission";
        note.payload = {{"submission", patch}};
        if (const std::string status = stringMember(*info, "exit_status"); !status.empty())
            note.payload["exit_status"] = status;
        return add(std::move(note));
    }

    Status add(Step step)
    {
        auto index = m_builder.add(std::move(step));
        return index ? Status() : Status(index.error());
    }

    TrajectoryBuilder &m_builder;
    const json &m_doc;
    std::string m_model;
};

} // namespace

bool looksLikeSweAgent(const Sniff &sniff)
{
    if (sniff.firstChar != '{')
        return false;
    const std::string_view head = sniff.head;
    const size_t steps = findJsonKey(head, "trajectory");
    if (steps == std::string_view::npos || steps >= head.size() || head[steps] != '[')
        return false;
    // The member names of a turn; an empty trajectory still has its history.
    const size_t first = head.find_first_not_of(" \t\r\n", steps + 1);
    if (first != std::string_view::npos && head[first] == ']')
        return hasJsonKey(head, "history");
    return hasJsonKey(head, "action") && hasJsonKey(head, "observation") &&
           hasJsonKey(head, "thought");
}

Status importSweAgent(ImportSource &source, TrajectoryBuilder &builder)
{
    auto doc = readObjectSalvaging(source);
    if (!doc)
        return doc.error();
    const json &value = doc->value;
    const json *steps = arrayMember(value, "trajectory");
    const json *history = arrayMember(value, "history");
    if ((!steps || steps->empty()) && (!history || history->empty())) {
        std::string what = "expected a SWE-agent trajectory: an object with \"trajectory\" (the "
                           "turns) and \"history\" (the messages)";
        if (!doc->problem.empty())
            what += "; " + doc->problem;
        return source.parseError(0, what);
    }
    SweAgentRun run(builder, value);
    if (Status s = run.import(source.name()); !s)
        return s;
    if (!doc->problem.empty())
        builder.skip(0, doc->problem);
    return {};
}

} // namespace tapedeck::formats::import
