#include "compaction.h"

namespace tapedeck::agent {

namespace wire = formats::wire;

namespace {

size_t messageChars(const wire::Message &message)
{
    size_t chars = message.text.size() + message.thinking.size() + message.toolCallId.size();
    for (const wire::ToolCall &call : message.toolCalls)
        chars += call.id.size() + call.name.size() + call.arguments.dump().size();
    return chars;
}

} // namespace

int64_t approximateTokens(const std::vector<wire::Message> &messages)
{
    size_t chars = 0;
    for (const wire::Message &message : messages)
        chars += messageChars(message);
    return static_cast<int64_t>(chars / 4);
}

int64_t approximateTokens(const wire::Request &request)
{
    size_t chars = request.system.size();
    for (const wire::ToolSpec &tool : request.tools)
        chars += tool.name.size() + tool.description.size() + tool.parameters.dump().size();
    return static_cast<int64_t>(chars / 4) + approximateTokens(request.messages);
}

size_t latestTurnStart(const std::vector<wire::Message> &messages)
{
    for (size_t i = messages.size(); i > 0; --i) {
        if (messages[i - 1].role == wire::Role::Assistant)
            return i - 1;
    }
    return messages.size();
}

bool canCompact(const std::vector<wire::Message> &messages)
{
    const size_t start = latestTurnStart(messages);
    return start != messages.size() && start >= 2;
}

wire::Request compactionRequest(const wire::Request &request)
{
    wire::Request compaction = request;
    if (!compaction.tools.empty()) {
        if (compaction.api == wire::Api::AnthropicMessages)
            compaction.extra["tool_choice"] = {{"type", "none"}};
        else
            compaction.extra["tool_choice"] = "none";
    }
    wire::Message prompt;
    prompt.role = wire::Role::User;
    prompt.text = kCompactionPrompt;
    compaction.messages.push_back(std::move(prompt));
    return compaction;
}

std::vector<wire::Message> compactedHistory(const std::vector<wire::Message> &messages,
                                            const std::string &summary)
{
    std::vector<wire::Message> history;
    wire::Message head;
    head.role = wire::Role::User;
    head.text = std::string(kSummaryPrefix) + " " + summary;
    history.push_back(std::move(head));
    history.insert(history.end(),
                   messages.begin() + static_cast<std::ptrdiff_t>(latestTurnStart(messages)),
                   messages.end());
    return history;
}

} // namespace tapedeck::agent
