// OpenAI Responses bodies: POST /v1/responses.
#include "openairesponses.h"

#include "common.h"

namespace tapedeck::formats::wire::detail::openairesponses {
namespace {

// A message's content: a string, or parts of which the text ones count.
std::string contentText(const Field &content) {
    if (content.isString())
        return content.string();
    std::string text;
    for (const Field &part : content.elements()) {
        const std::string &type = part.at("type").string();
        if (type == "input_text" || type == "output_text" || type == "text")
            appendBlock(text, part.at("text").string());
    }
    return text;
}

std::string reasoningText(const Field &item) {
    std::string text;
    if (auto summary = item.find("summary")) {
        for (const Field &part : summary->elements())
            appendBlock(text, part.at("text").string());
    }
    if (text.empty()) {
        if (auto content = item.find("content")) {
            for (const Field &part : content->elements())
                appendBlock(text, part.at("text").string());
        }
    }
    return text;
}

ToolCall parseFunctionCall(const Field &item) {
    ToolCall call;
    call.id = item.at("call_id").string();
    call.name = item.at("name").string();
    call.arguments = argumentsFromText(item.stringOr("arguments"));
    return call;
}

// The input list's items in the order the model produced them within one turn: reasoning,
// then the message, then function calls. An item that comes earlier in that order than the
// one before it starts a new assistant message.
enum class Stage { Reasoning, Text, Calls };

class InputReader {
public:
    explicit InputReader(Request &request) : m_request(request) {}

    void readItem(const Field &item) {
        std::string type = item.stringOr("type", item.find("role") ? "message" : "");
        if (type == "message") {
            readMessage(item);
        } else if (type == "function_call") {
            assistant(Stage::Calls).toolCalls.push_back(parseFunctionCall(item));
        } else if (type == "function_call_output") {
            Message result = textMessage(Role::Tool, {});
            result.toolCallId = item.at("call_id").string();
            result.text = contentText(item.at("output"));
            push(std::move(result));
        } else if (type == "reasoning") {
            appendBlock(assistant(Stage::Reasoning).thinking, reasoningText(item));
        } else if (type.empty()) {
            item.fail(R"(an item with a "type" or a "role")");
        }
        // Built-in tool calls and item references have no place in the neutral form.
    }

private:
    void readMessage(const Field &item) {
        Field role = item.at("role");
        std::string text = contentText(item.at("content"));
        if (role.string() == "system" || role.string() == "developer") {
            if (m_request.messages.empty())
                appendSystem(m_request.system, text);
            else
                push(textMessage(Role::System, std::move(text)));
        } else if (role.string() == "user") {
            push(textMessage(Role::User, std::move(text)));
        } else if (role.string() == "assistant") {
            appendBlock(assistant(Stage::Text).text, text);
        } else {
            role.fail(R"(one of "system", "developer", "user", "assistant")");
        }
    }

    Message &assistant(Stage stage) {
        bool continues = !m_request.messages.empty() &&
                         m_request.messages.back().role == Role::Assistant && stage >= m_stage;
        if (!continues)
            push(textMessage(Role::Assistant, {}));
        m_stage = stage;
        return m_request.messages.back();
    }

    void push(Message message) { m_request.messages.push_back(std::move(message)); }

    Request &m_request;
    Stage m_stage = Stage::Reasoning;
};

} // namespace

Usage parseUsage(const Field &usage) {
    Usage out;
    int64_t input = usage.integerOr("input_tokens");
    if (auto details = usage.find("input_tokens_details"))
        out.cacheReadTokens = details->integerOr("cached_tokens");
    out.inputTokens = std::max<int64_t>(0, input - out.cacheReadTokens);
    out.outputTokens = usage.integerOr("output_tokens");
    return out;
}

nlohmann::json renderUsage(const Usage &usage) {
    int64_t input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    return {{"input_tokens", input},
            {"input_tokens_details", {{"cached_tokens", usage.cacheReadTokens}}},
            {"output_tokens", usage.outputTokens},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", input + usage.outputTokens}};
}

void addOutputItem(const Field &item, Response &response) {
    const std::string &type = item.at("type").string();
    if (type == "message")
        appendBlock(response.text, contentText(item.at("content")));
    else if (type == "reasoning")
        appendBlock(response.thinking, reasoningText(item));
    else if (type == "function_call")
        response.toolCalls.push_back(parseFunctionCall(item));
}

StopReason stopReasonFrom(const Field &responseObject, bool hasToolCalls) {
    std::string status = responseObject.stringOr("status", "completed");
    if (status == "incomplete") {
        std::string reason;
        if (auto details = responseObject.find("incomplete_details"))
            reason = details->stringOr("reason");
        return reason == "max_output_tokens" ? StopReason::MaxTokens : StopReason::Other;
    }
    if (status != "completed")
        return StopReason::Other;
    return hasToolCalls ? StopReason::ToolUse : StopReason::EndTurn;
}

nlohmann::json renderOutputItems(const Response &response) {
    std::string id = responseIdOrMadeUp(response, "resp_");
    nlohmann::json items = nlohmann::json::array();
    if (!response.thinking.empty()) {
        items.push_back({{"id", madeUpId("rs_", id)},
                         {"type", "reasoning"},
                         {"summary", nlohmann::json::array(
                                         {{{"type", "summary_text"}, {"text", response.thinking}}})}});
    }
    if (!response.text.empty() || response.toolCalls.empty()) {
        nlohmann::json part = {
            {"type", "output_text"}, {"text", response.text}, {"annotations", nlohmann::json::array()}};
        items.push_back({{"id", madeUpId("msg_", id)},
                         {"type", "message"},
                         {"status", "completed"},
                         {"role", "assistant"},
                         {"content", nlohmann::json::array({part})}});
    }
    for (size_t i = 0; i < response.toolCalls.size(); ++i) {
        const ToolCall &call = response.toolCalls[i];
        items.push_back({{"id", madeUpId("fc_", id + std::to_string(i))},
                         {"type", "function_call"},
                         {"status", "completed"},
                         {"call_id", call.id},
                         {"name", call.name},
                         {"arguments", argumentsToText(call.arguments)}});
    }
    return items;
}

nlohmann::json renderResponseObject(const Response &response, nlohmann::json output,
                                    bool finished) {
    nlohmann::json object = {{"id", responseIdOrMadeUp(response, "resp_")},
                             {"object", "response"},
                             {"created_at", 0},
                             {"status", "in_progress"},
                             {"error", nullptr},
                             {"incomplete_details", nullptr},
                             {"model", response.model},
                             {"output", std::move(output)},
                             {"usage", nullptr}};
    if (!finished)
        return object;
    object["usage"] = renderUsage(response.usage);
    if (response.stopReason == StopReason::MaxTokens) {
        object["status"] = "incomplete";
        object["incomplete_details"] = {{"reason", "max_output_tokens"}};
    } else if (response.stopReason == StopReason::Other) {
        object["status"] = "incomplete";
        object["incomplete_details"] = {{"reason", "content_filter"}};
    } else {
        object["status"] = "completed";
    }
    return object;
}

Request parseRequest(const Field &body) {
    Request request;
    request.model = body.stringOr("model");
    request.stream = body.booleanOr("stream");
    request.maxTokens = body.integerOr("max_output_tokens");
    if (auto temperature = body.find("temperature"))
        request.temperature = temperature->number();
    request.system = body.stringOr("instructions");

    Field input = body.at("input");
    if (input.isString()) {
        request.messages.push_back(textMessage(Role::User, input.string()));
    } else {
        InputReader reader(request);
        for (const Field &item : input.elements())
            reader.readItem(item);
    }

    if (auto tools = body.find("tools")) {
        for (const Field &tool : tools->elements()) {
            if (tool.at("type").string() != "function")
                continue; // built-in tools (web search, file search, ...)
            ToolSpec spec;
            spec.name = tool.at("name").string();
            spec.description = tool.stringOr("description");
            if (auto parameters = tool.find("parameters"))
                spec.parameters = parameters->json();
            request.tools.push_back(std::move(spec));
        }
    }

    request.extra = membersExcept(body.json(), {"model", "input", "instructions", "tools", "stream",
                                                "max_output_tokens", "temperature"});
    if (auto text = body.find("text")) {
        if (auto format = text->find("format")) {
            request.responseSchema = schemaFromOpenAIFormat(*format, false);
            request.extra["text"].erase("format");
            if (request.extra["text"].empty())
                request.extra.erase("text");
        }
    }
    return request;
}

nlohmann::json renderRequest(const Request &request) {
    nlohmann::json body = bodyFromExtra(request.extra);
    body["model"] = request.model;
    if (!request.system.empty())
        body["instructions"] = request.system;
    nlohmann::json input = nlohmann::json::array();
    for (const Message &message : request.messages) {
        switch (message.role) {
        case Role::System:
            input.push_back({{"role", "developer"}, {"content", message.text}});
            break;
        case Role::User:
            input.push_back({{"role", "user"}, {"content", message.text}});
            break;
        case Role::Tool:
            input.push_back({{"type", "function_call_output"},
                             {"call_id", message.toolCallId},
                             {"output", message.text}});
            break;
        case Role::Assistant:
            if (!message.thinking.empty()) {
                input.push_back({{"type", "reasoning"},
                                 {"summary", nlohmann::json::array({{{"type", "summary_text"},
                                                                     {"text", message.thinking}}})}});
            }
            if (!message.text.empty() || (message.thinking.empty() && message.toolCalls.empty())) {
                input.push_back(
                    {{"type", "message"},
                     {"role", "assistant"},
                     {"content", nlohmann::json::array(
                                     {{{"type", "output_text"}, {"text", message.text}}})}});
            }
            for (const ToolCall &call : message.toolCalls) {
                input.push_back({{"type", "function_call"},
                                 {"call_id", call.id},
                                 {"name", call.name},
                                 {"arguments", argumentsToText(call.arguments)}});
            }
            break;
        }
    }
    body["input"] = std::move(input);
    if (!request.tools.empty()) {
        nlohmann::json tools = nlohmann::json::array();
        for (const ToolSpec &tool : request.tools) {
            // strict is on by default in this API, and refuses ordinary schemas.
            tools.push_back({{"type", "function"},
                             {"name", tool.name},
                             {"description", tool.description},
                             {"parameters", tool.parameters},
                             {"strict", false}});
        }
        body["tools"] = std::move(tools);
    }
    if (request.stream)
        body["stream"] = true;
    if (request.maxTokens != 0)
        body["max_output_tokens"] = request.maxTokens;
    if (request.temperature)
        body["temperature"] = *request.temperature;
    if (!request.responseSchema.is_null()) {
        if (!body["text"].is_object())
            body["text"] = nlohmann::json::object();
        if (request.responseSchema == nlohmann::json{{"type", "object"}})
            body["text"]["format"] = {{"type", "json_object"}};
        else
            body["text"]["format"] = {
                {"type", "json_schema"}, {"name", "response"}, {"schema", request.responseSchema}};
    }
    return body;
}

Response parseResponse(const Field &body) {
    Response response;
    response.id = body.stringOr("id");
    response.model = body.stringOr("model");
    for (const Field &item : body.at("output").elements())
        addOutputItem(item, response);
    response.stopReason = stopReasonFrom(body, !response.toolCalls.empty());
    if (auto usage = body.find("usage"))
        response.usage = parseUsage(*usage);
    return response;
}

nlohmann::json renderResponse(const Response &response) {
    return renderResponseObject(response, renderOutputItems(response), true);
}

} // namespace tapedeck::formats::wire::detail::openairesponses
