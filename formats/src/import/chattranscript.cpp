#include "chattranscript.h"

#include "lenientjson.h"

namespace tapedeck::formats::import {

using nlohmann::json;

std::string contentText(const json &content)
{
    if (content.is_string())
        return content.get<std::string>();
    std::string out;
    if (!content.is_array())
        return out;
    for (const json &part : content) {
        const json *text = part.is_string() ? &part : member(part, "text");
        if (!text || !text->is_string())
            continue;
        if (!out.empty())
            out += "\n\n";
        out += text->get<std::string>();
    }
    return out;
}

ChatTranscript::ChatTranscript(TrajectoryBuilder &builder, ThreadId thread, std::string defaultModel)
    : m_builder(builder), m_thread(thread), m_defaultModel(std::move(defaultModel))
{
}

Result<std::optional<StepIndex>> ChatTranscript::add(json message, const MessageDetails &details)
{
    const std::string role = stringMember(message, "role");
    if (role == "tool") {
        const json *content = member(message, "content");
        auto result = m_builder.addToolResult(m_thread, stringMember(message, "tool_call_id"),
                                              stringMember(message, "name"),
                                              content ? contentText(*content) : std::string(),
                                              details.isError, details.startedUs, details.endedUs);
        if (!result)
            return result.error();
        m_messages.push_back(std::move(message));
        return std::optional<StepIndex>();
    }
    if (role != "assistant") {
        m_messages.push_back(std::move(message));
        return std::optional<StepIndex>();
    }

    Step call;
    call.kind = StepKind::ModelCall;
    call.thread = m_thread;
    call.name = details.model.empty() ? m_defaultModel : details.model;
    call.status = details.isError ? StepStatus::Error : StepStatus::Ok;
    call.startedUs = details.startedUs ? details.startedUs : details.endedUs;
    call.endedUs = details.endedUs ? details.endedUs : details.startedUs;
    call.usage = details.usage;
    call.costUsd = details.costUsd;
    call.requestParams = json::object();
    if (!call.name.empty())
        call.requestParams["model"] = call.name;
    // The answer as the assistant message with its finish reason beside it, the form the
    // app reads as a Chat Completions response.
    json answer = message;
    const json *toolCalls = arrayMember(message, "tool_calls");
    const bool callsTools = toolCalls && !toolCalls->empty();
    if (!answer.contains("finish_reason"))
        answer["finish_reason"] = callsTools ? "tool_calls" : "stop";
    call.payload = std::move(answer);
    const int64_t answeredUs = call.endedUs;
    auto index = m_builder.addLendingConversation(std::move(call), m_messages);
    if (!index)
        return index.error();
    m_lastModelCall = *index;

    if (callsTools) {
        for (const json &toolCall : *toolCalls) {
            if (!toolCall.is_object())
                continue;
            const json *function = member(toolCall, "function");
            const std::string name = function ? stringMember(*function, "name") : std::string();
            const json *given = function ? member(*function, "arguments") : nullptr;
            json arguments = given ? *given : json::object();
            // Chat Completions sends the arguments as a JSON text; kept as text when it is
            // not JSON, so nothing is lost.
            if (arguments.is_string()) {
                json parsed = json::parse(arguments.get<std::string>(), nullptr, false);
                if (!parsed.is_discarded())
                    arguments = std::move(parsed);
            }
            auto step = m_builder.addToolCall(m_thread, name, stringMember(toolCall, "id"),
                                              std::move(arguments), *index, answeredUs);
            if (!step)
                return step.error();
        }
    }
    m_messages.push_back(std::move(message));
    m_answered = m_messages.size();
    return std::optional<StepIndex>(*index);
}

Status ChatTranscript::finish(int64_t atUs)
{
    if (m_answered >= m_messages.size())
        return {};
    Step step;
    step.kind = StepKind::Annotation;
    step.thread = m_thread;
    step.name = "unanswered_messages";
    step.startedUs = step.endedUs = atUs;
    step.parent = m_lastModelCall;
    step.payload = {{"messages", nlohmann::json(std::vector<nlohmann::json>(
                                     m_messages.begin() + std::ptrdiff_t(m_answered), m_messages.end()))}};
    m_answered = m_messages.size();
    auto added = m_builder.add(std::move(step));
    return added ? Status() : Status(added.error());
}

} // namespace tapedeck::formats::import
