// Anthropic Messages bodies: POST /v1/messages.
#include "anthropic.h"

#include "common.h"

namespace tapedeck::formats::wire::detail::anthropic {
namespace {

// A string, or an array of blocks of which the text blocks count (images and documents
// have no place in the neutral form).
std::string blocksText(const Field &content) {
    if (content.isString())
        return content.string();
    std::string text;
    for (const Field &block : content.elements()) {
        if (block.at("type").string() == "text")
            appendBlock(text, block.at("text").string());
    }
    return text;
}

struct AssistantContent {
    std::string text;
    std::string thinking;
    std::string signature;
    std::vector<ToolCall> calls;
};

AssistantContent parseAssistantContent(const Field &content) {
    AssistantContent out;
    if (content.isString()) {
        out.text = content.string();
        return out;
    }
    for (const Field &block : content.elements()) {
        const std::string &type = block.at("type").string();
        if (type == "text") {
            appendBlock(out.text, block.at("text").string());
        } else if (type == "thinking") {
            appendBlock(out.thinking, block.at("thinking").string());
            out.signature = block.stringOr("signature");
        } else if (type == "tool_use") {
            ToolCall call;
            call.id = block.at("id").string();
            call.name = block.at("name").string();
            if (auto input = block.find("input"))
                call.arguments = argumentsFromJson(input->json());
            out.calls.push_back(std::move(call));
        }
        // redacted_thinking and server tool blocks have no place in the neutral form.
    }
    return out;
}

nlohmann::json renderAssistantContent(const std::string &text, const std::string &thinking,
                                      const std::string &signature,
                                      const std::vector<ToolCall> &calls) {
    if (thinking.empty() && signature.empty() && calls.empty())
        return text;
    nlohmann::json blocks = nlohmann::json::array();
    if (!thinking.empty() || !signature.empty())
        blocks.push_back({{"type", "thinking"}, {"thinking", thinking}, {"signature", signature}});
    if (!text.empty())
        blocks.push_back({{"type", "text"}, {"text", text}});
    for (const ToolCall &call : calls) {
        blocks.push_back(
            {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", call.arguments}});
    }
    return blocks;
}

// A user message: its text, and each tool_result as a Tool message of its own, in order.
void parseUserContent(const Field &content, std::vector<Message> &out) {
    if (content.isString()) {
        out.push_back(textMessage(Role::User, content.string()));
        return;
    }
    size_t before = out.size();
    std::string pendingText;
    auto flushText = [&] {
        if (!pendingText.empty())
            out.push_back(textMessage(Role::User, std::move(pendingText)));
        pendingText.clear();
    };
    for (const Field &block : content.elements()) {
        const std::string &type = block.at("type").string();
        if (type == "text") {
            appendBlock(pendingText, block.at("text").string());
        } else if (type == "tool_result") {
            flushText();
            Message result = textMessage(Role::Tool, {});
            result.toolCallId = block.at("tool_use_id").string();
            if (auto resultContent = block.find("content"))
                result.text = blocksText(*resultContent);
            result.isError = block.booleanOr("is_error");
            out.push_back(std::move(result));
        }
    }
    flushText();
    if (out.size() == before)
        out.push_back(textMessage(Role::User, {})); // a message of images only, say
}

nlohmann::json parseOutputFormat(const Field &format) {
    if (format.at("type").string() != "json_schema")
        format.at("type").fail(R"("json_schema")");
    auto schema = format.find("schema");
    return schema ? schema->json() : nlohmann::json{{"type", "object"}};
}

} // namespace

Usage parseUsage(const Field &usage) {
    Usage out;
    out.inputTokens = usage.integerOr("input_tokens");
    out.outputTokens = usage.integerOr("output_tokens");
    out.cacheReadTokens = usage.integerOr("cache_read_input_tokens");
    out.cacheWriteTokens = usage.integerOr("cache_creation_input_tokens");
    return out;
}

nlohmann::json renderUsage(const Usage &usage) {
    return {{"input_tokens", usage.inputTokens},
            {"output_tokens", usage.outputTokens},
            {"cache_creation_input_tokens", usage.cacheWriteTokens},
            {"cache_read_input_tokens", usage.cacheReadTokens}};
}

StopReason stopReasonFrom(const std::string &stopReason) {
    if (stopReason == "end_turn" || stopReason == "stop_sequence" || stopReason.empty())
        return StopReason::EndTurn;
    if (stopReason == "tool_use")
        return StopReason::ToolUse;
    if (stopReason == "max_tokens" || stopReason == "model_context_window_exceeded")
        return StopReason::MaxTokens;
    return StopReason::Other;
}

const char *stopReasonFor(StopReason reason) {
    switch (reason) {
    case StopReason::EndTurn: return "end_turn";
    case StopReason::ToolUse: return "tool_use";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::Other: return "refusal";
    }
    return "end_turn";
}

Request parseRequest(const Field &body) {
    Request request;
    request.model = body.stringOr("model");
    request.stream = body.booleanOr("stream");
    request.maxTokens = body.integerOr("max_tokens");
    if (auto temperature = body.find("temperature"))
        request.temperature = temperature->number();
    if (auto system = body.find("system"))
        request.system = blocksText(*system);

    for (const Field &message : body.at("messages").elements()) {
        Field role = message.at("role");
        Field content = message.at("content");
        if (role.string() == "user") {
            parseUserContent(content, request.messages);
        } else if (role.string() == "assistant") {
            AssistantContent parsed = parseAssistantContent(content);
            Message out = textMessage(Role::Assistant, {});
            out.text = std::move(parsed.text);
            out.thinking = std::move(parsed.thinking);
            out.toolCalls = std::move(parsed.calls);
            out.thinkingSignature = std::move(parsed.signature);
            request.messages.push_back(std::move(out));
        } else {
            role.fail(R"(one of "user", "assistant")");
        }
    }

    if (auto tools = body.find("tools")) {
        for (const Field &tool : tools->elements()) {
            auto schema = tool.find("input_schema");
            if (!schema)
                continue; // a server tool (web search, code execution, ...)
            ToolSpec spec;
            spec.name = tool.at("name").string();
            spec.description = tool.stringOr("description");
            spec.parameters = schema->json();
            request.tools.push_back(std::move(spec));
        }
    }

    request.extra = membersExcept(body.json(), {"model", "messages", "system", "tools", "stream",
                                                "max_tokens", "temperature", "output_format"});
    auto config = body.find("output_config");
    if (auto format = config ? config->find("format") : std::nullopt) {
        request.responseSchema = parseOutputFormat(*format);
        request.extra["output_config"].erase("format");
        if (request.extra["output_config"].empty())
            request.extra.erase("output_config");
    } else if (auto legacyFormat = body.find("output_format")) {
        request.responseSchema = parseOutputFormat(*legacyFormat); // the beta's name for it
    }
    return request;
}

nlohmann::json renderRequest(const Request &request) {
    nlohmann::json body = bodyFromExtra(request.extra);
    body["model"] = request.model;
    if (request.maxTokens != 0)
        body["max_tokens"] = request.maxTokens;
    if (!request.system.empty())
        body["system"] = request.system;

    nlohmann::json messages = nlohmann::json::array();
    const std::vector<Message> &all = request.messages;
    for (size_t i = 0; i < all.size(); ++i) {
        const Message &message = all[i];
        if (message.role == Role::Assistant) {
            messages.push_back({{"role", "assistant"},
                                {"content", renderAssistantContent(
                                                message.text, message.thinking,
                                                message.thinkingSignature, message.toolCalls)}});
        } else if (message.role == Role::Tool) {
            // Consecutive tool results, and the user's text right after them, go back into
            // one user message, as the API wants them.
            nlohmann::json blocks = nlohmann::json::array();
            for (; i < all.size() && all[i].role == Role::Tool; ++i) {
                nlohmann::json block = {{"type", "tool_result"},
                                        {"tool_use_id", all[i].toolCallId},
                                        {"content", all[i].text}};
                if (all[i].isError)
                    block["is_error"] = true;
                blocks.push_back(std::move(block));
            }
            if (i < all.size() && all[i].role == Role::User && !all[i].text.empty())
                blocks.push_back({{"type", "text"}, {"text", all[i].text}});
            else
                --i;
            messages.push_back({{"role", "user"}, {"content", std::move(blocks)}});
        } else {
            // The API has no system role inside the conversation: a later system message
            // is sent as the user's.
            messages.push_back({{"role", "user"}, {"content", message.text}});
        }
    }
    body["messages"] = std::move(messages);

    if (!request.tools.empty()) {
        nlohmann::json tools = nlohmann::json::array();
        for (const ToolSpec &tool : request.tools) {
            nlohmann::json spec = {{"name", tool.name}, {"input_schema", tool.parameters}};
            if (!tool.description.empty())
                spec["description"] = tool.description;
            tools.push_back(std::move(spec));
        }
        body["tools"] = std::move(tools);
    }
    if (request.stream)
        body["stream"] = true;
    if (request.temperature)
        body["temperature"] = *request.temperature;
    if (!request.responseSchema.is_null()) {
        if (!body["output_config"].is_object())
            body["output_config"] = nlohmann::json::object();
        body["output_config"]["format"] = {{"type", "json_schema"},
                                           {"schema", request.responseSchema}};
    }
    return body;
}

Response parseResponse(const Field &body) {
    Response response;
    response.id = body.stringOr("id");
    response.model = body.stringOr("model");
    AssistantContent content = parseAssistantContent(body.at("content"));
    response.text = std::move(content.text);
    response.thinking = std::move(content.thinking);
    response.thinkingSignature = std::move(content.signature);
    response.toolCalls = std::move(content.calls);
    response.stopReason = stopReasonFrom(body.stringOr("stop_reason"));
    if (auto usage = body.find("usage"))
        response.usage = parseUsage(*usage);
    return response;
}

nlohmann::json renderResponse(const Response &response) {
    nlohmann::json content = renderAssistantContent(response.text, response.thinking,
                                                    response.thinkingSignature,
                                                    response.toolCalls);
    if (content.is_string()) // a response's content is always blocks
        content = nlohmann::json::array({{{"type", "text"}, {"text", response.text}}});
    return {{"id", responseIdOrMadeUp(response, "msg_")},
            {"type", "message"},
            {"role", "assistant"},
            {"model", response.model},
            {"content", std::move(content)},
            {"stop_reason", stopReasonFor(response.stopReason)},
            {"stop_sequence", nullptr},
            {"usage", renderUsage(response.usage)}};
}

} // namespace tapedeck::formats::wire::detail::anthropic
