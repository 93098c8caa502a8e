// OpenAI Chat Completions bodies: POST /v1/chat/completions.
#include "openaichat.h"

#include "common.h"

namespace tapedeck::formats::wire::detail::openaichat {
namespace {

// A content value: a string, null, or an array of parts of which the text parts count
// (images, audio and files have no place in the neutral form).
std::string contentText(const std::optional<Field> &content) {
    if (!content)
        return {};
    if (content->isString())
        return content->string();
    if (!content->isArray())
        content->fail("a string or an array of content parts");
    std::string text;
    for (const Field &part : content->elements()) {
        const std::string &type = part.at("type").string();
        if (type == "text")
            appendBlock(text, part.at("text").string());
    }
    return text;
}

ToolCall parseToolCall(const Field &call) {
    ToolCall out;
    out.id = call.stringOr("id");
    Field function = call.at("function");
    out.name = function.at("name").string();
    if (auto arguments = function.find("arguments")) {
        if (arguments->isString())
            out.arguments = argumentsFromText(arguments->string());
        else if (arguments->isObject())
            out.arguments = arguments->json();
        else
            arguments->fail("a string of JSON");
    }
    return out;
}

void parseAssistantInto(const Field &message, std::string &text, std::string &thinking,
                        std::vector<ToolCall> &calls) {
    text = contentText(message.find("content"));
    thinking = message.stringOr("reasoning_content");
    if (auto toolCalls = message.find("tool_calls")) {
        for (const Field &call : toolCalls->elements())
            calls.push_back(parseToolCall(call));
    }
}

nlohmann::json renderToolCalls(const std::vector<ToolCall> &calls) {
    nlohmann::json out = nlohmann::json::array();
    for (const ToolCall &call : calls) {
        out.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function",
                        {{"name", call.name}, {"arguments", argumentsToText(call.arguments)}}}});
    }
    return out;
}

nlohmann::json renderAssistant(const std::string &text, const std::string &thinking,
                               const std::vector<ToolCall> &calls) {
    nlohmann::json message = {{"role", "assistant"}};
    message["content"] = text.empty() && !calls.empty() ? nlohmann::json() : nlohmann::json(text);
    if (!thinking.empty())
        message["reasoning_content"] = thinking;
    if (!calls.empty())
        message["tool_calls"] = renderToolCalls(calls);
    return message;
}

} // namespace

Usage parseUsage(const Field &usage) {
    Usage out;
    int64_t prompt = usage.integerOr("prompt_tokens");
    if (auto details = usage.find("prompt_tokens_details"))
        out.cacheReadTokens = details->integerOr("cached_tokens");
    out.inputTokens = std::max<int64_t>(0, prompt - out.cacheReadTokens);
    out.outputTokens = usage.integerOr("completion_tokens");
    return out;
}

nlohmann::json renderUsage(const Usage &usage) {
    int64_t prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    nlohmann::json out = {{"prompt_tokens", prompt},
                          {"completion_tokens", usage.outputTokens},
                          {"total_tokens", prompt + usage.outputTokens}};
    if (usage.cacheReadTokens > 0)
        out["prompt_tokens_details"] = {{"cached_tokens", usage.cacheReadTokens}};
    return out;
}

StopReason stopReasonFrom(const std::string &finishReason) {
    if (finishReason == "stop" || finishReason.empty())
        return StopReason::EndTurn;
    if (finishReason == "tool_calls" || finishReason == "function_call")
        return StopReason::ToolUse;
    if (finishReason == "length")
        return StopReason::MaxTokens;
    return StopReason::Other;
}

const char *finishReasonFor(StopReason reason) {
    switch (reason) {
    case StopReason::EndTurn: return "stop";
    case StopReason::ToolUse: return "tool_calls";
    case StopReason::MaxTokens: return "length";
    case StopReason::Other: return "content_filter";
    }
    return "stop";
}

Request parseRequest(const Field &body) {
    Request request;
    request.model = body.stringOr("model");
    request.stream = body.booleanOr("stream");
    if (auto max = body.find("max_completion_tokens"))
        request.maxTokens = max->integer();
    else if (auto legacyMax = body.find("max_tokens"))
        request.maxTokens = legacyMax->integer();
    if (auto temperature = body.find("temperature"))
        request.temperature = temperature->number();
    if (auto format = body.find("response_format"))
        request.responseSchema = schemaFromOpenAIFormat(*format, true);

    // System messages before the conversation are its system prompt; later ones are
    // instructions in the middle of it and stay where they are.
    bool beforeConversation = true;
    for (const Field &message : body.at("messages").elements()) {
        Field role = message.at("role");
        Message out;
        if (role.string() == "system" || role.string() == "developer") {
            std::string text = contentText(message.find("content"));
            if (beforeConversation) {
                appendSystem(request.system, text);
                continue;
            }
            out.role = Role::System;
            out.text = std::move(text);
        } else if (role.string() == "user") {
            out.role = Role::User;
            out.text = contentText(message.find("content"));
        } else if (role.string() == "assistant") {
            out.role = Role::Assistant;
            parseAssistantInto(message, out.text, out.thinking, out.toolCalls);
        } else if (role.string() == "tool") {
            out.role = Role::Tool;
            out.toolCallId = message.at("tool_call_id").string();
            out.text = contentText(message.find("content"));
        } else {
            role.fail(R"(one of "system", "developer", "user", "assistant", "tool")");
        }
        beforeConversation = false;
        request.messages.push_back(std::move(out));
    }

    if (auto tools = body.find("tools")) {
        for (const Field &tool : tools->elements()) {
            if (tool.stringOr("type", "function") != "function")
                continue; // built-in tools have no place in the neutral form
            Field function = tool.at("function");
            ToolSpec spec;
            spec.name = function.at("name").string();
            spec.description = function.stringOr("description");
            if (auto parameters = function.find("parameters"))
                spec.parameters = parameters->json();
            request.tools.push_back(std::move(spec));
        }
    }
    request.extra = membersExcept(body.json(),
                                  {"model", "messages", "tools", "stream", "max_tokens",
                                   "max_completion_tokens", "temperature", "response_format"});
    return request;
}

nlohmann::json renderRequest(const Request &request) {
    nlohmann::json body = bodyFromExtra(request.extra);
    body["model"] = request.model;
    nlohmann::json messages = nlohmann::json::array();
    if (!request.system.empty())
        messages.push_back({{"role", "system"}, {"content", request.system}});
    for (const Message &message : request.messages) {
        switch (message.role) {
        case Role::System:
            messages.push_back({{"role", "system"}, {"content", message.text}});
            break;
        case Role::User:
            messages.push_back({{"role", "user"}, {"content", message.text}});
            break;
        case Role::Assistant:
            messages.push_back(renderAssistant(message.text, message.thinking, message.toolCalls));
            break;
        case Role::Tool:
            messages.push_back({{"role", "tool"},
                                {"tool_call_id", message.toolCallId},
                                {"content", message.text}});
            break;
        }
    }
    body["messages"] = std::move(messages);
    if (!request.tools.empty()) {
        nlohmann::json tools = nlohmann::json::array();
        for (const ToolSpec &tool : request.tools) {
            tools.push_back({{"type", "function"},
                             {"function",
                              {{"name", tool.name},
                               {"description", tool.description},
                               {"parameters", tool.parameters}}}});
        }
        body["tools"] = std::move(tools);
    }
    if (request.stream)
        body["stream"] = true;
    if (request.maxTokens != 0)
        body["max_completion_tokens"] = request.maxTokens;
    if (request.temperature)
        body["temperature"] = *request.temperature;
    if (request.responseSchema == nlohmann::json{{"type", "object"}})
        body["response_format"] = {{"type", "json_object"}};
    else if (!request.responseSchema.is_null())
        body["response_format"] = {
            {"type", "json_schema"},
            {"json_schema", {{"name", "response"}, {"schema", request.responseSchema}}}};
    return body;
}

Response parseResponse(const Field &body) {
    Response response;
    response.id = body.stringOr("id");
    response.model = body.stringOr("model");
    Field choices = body.at("choices");
    std::vector<Field> all = choices.elements();
    if (all.empty())
        choices.fail("at least one choice");
    parseAssistantInto(all.front().at("message"), response.text, response.thinking,
                       response.toolCalls);
    response.stopReason = stopReasonFrom(all.front().stringOr("finish_reason"));
    if (auto usage = body.find("usage"))
        response.usage = parseUsage(*usage);
    return response;
}

nlohmann::json renderResponse(const Response &response) {
    nlohmann::json choice = {
        {"index", 0},
        {"message", renderAssistant(response.text, response.thinking, response.toolCalls)},
        {"logprobs", nullptr},
        {"finish_reason", finishReasonFor(response.stopReason)}};
    return {{"id", responseIdOrMadeUp(response, "chatcmpl-")},
            {"object", "chat.completion"},
            {"created", 0},
            {"model", response.model},
            {"choices", nlohmann::json::array({choice})},
            {"usage", renderUsage(response.usage)}};
}

} // namespace tapedeck::formats::wire::detail::openaichat
