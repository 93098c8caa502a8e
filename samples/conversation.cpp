#include "conversation.h"

#include "textutil.h"

namespace tapedeck::samples {

Conversation::Conversation(std::string_view model, std::string_view systemPrompt, nlohmann::json tools,
                           double temperature, int maxTokens)
{
    nlohmann::json rest = {
        {"temperature", temperature},
        {"top_p", 0.95},
        {"max_tokens", maxTokens},
        {"tools", tools},
        {"tool_choice", "auto"},
        {"parallel_tool_calls", true},
        {"stream", true},
        {"stream_options", {{"include_usage", true}}},
    };
    // Everything but the messages, as the agent's SDK would put it after them.
    const std::string restText = rest.dump();
    m_tail = "]," + restText.substr(1);

    const nlohmann::json system = {{"role", "system"}, {"content", systemPrompt}};
    m_head = "{\"model\":" + nlohmann::json(model).dump() + ",\"messages\":[" + system.dump();
    m_body = m_head;

    m_params = std::move(rest);
    m_params["model"] = model;
    m_params["system"] = systemPrompt;
}

void Conversation::append(nlohmann::json message)
{
    m_body.push_back(',');
    appendCompactJson(m_body, message);
    m_messages.push_back(std::move(message));
}

void Conversation::restart(std::vector<nlohmann::json> messages)
{
    m_messages.clear();
    m_body = m_head;
    for (nlohmann::json &message : messages)
        append(std::move(message));
}

void Conversation::lendTo(formats::Step &step)
{
    m_body.append(m_tail);
    if (!step.wire)
        step.wire.emplace();
    step.wire->requestBody = std::move(m_body);
    step.requestMessages = std::move(m_messages);
    step.requestParams = std::move(m_params);
}

void Conversation::takeBack(formats::Step &step)
{
    m_body = std::move(step.wire->requestBody);
    m_body.resize(m_body.size() - m_tail.size());
    m_messages = std::move(step.requestMessages);
    m_params = std::move(step.requestParams);
    step.requestMessages.clear();
    step.requestParams = nullptr;
}

} // namespace tapedeck::samples
