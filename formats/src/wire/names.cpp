#include <tapedeck/formats/wire.h>

namespace tapedeck::formats::wire {

const char *apiName(Api api) {
    switch (api) {
    case Api::OpenAIChat: return "openai-chat";
    case Api::OpenAIResponses: return "openai-responses";
    case Api::AnthropicMessages: return "anthropic-messages";
    case Api::Gemini: return "gemini";
    }
    return "unknown";
}

std::optional<Api> apiFromName(std::string_view name) {
    for (Api api : {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini}) {
        if (name == apiName(api))
            return api;
    }
    return std::nullopt;
}

const char *conversationMember(Api api) {
    switch (api) {
    case Api::OpenAIChat:
    case Api::AnthropicMessages:
        return "messages";
    case Api::OpenAIResponses:
        return "input";
    case Api::Gemini:
        return "contents";
    }
    return "messages";
}

const char *roleName(Role role) {
    switch (role) {
    case Role::System: return "system";
    case Role::User: return "user";
    case Role::Assistant: return "assistant";
    case Role::Tool: return "tool";
    }
    return "unknown";
}

const char *stopReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::EndTurn: return "end_turn";
    case StopReason::ToolUse: return "tool_use";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::Other: return "other";
    }
    return "other";
}

} // namespace tapedeck::formats::wire
