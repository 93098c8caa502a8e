// Gemini bodies: POST /v1beta/models/{model}:generateContent (the model and whether it
// streams are in the path, see geminiTarget).
#include "gemini.h"

#include "common.h"

#include <deque>
#include <map>

namespace tapedeck::formats::wire::detail::gemini {
namespace {

// Gemini names some members in both camelCase and snake_case; it accepts either.
std::optional<Field> findEither(const Field &object, std::string_view camel,
                                std::string_view snake) {
    if (auto found = object.find(camel))
        return found;
    return object.find(snake);
}

std::string madeUpCallId(std::string_view seed, size_t ordinal, const ToolCall &call) {
    std::string text(seed);
    text.append("\n").append(std::to_string(ordinal)).append("\n").append(call.name);
    text.append("\n").append(argumentsToText(call.arguments));
    return madeUpId("call_", text);
}

ToolCall parseFunctionCall(const Field &functionCall) {
    ToolCall call;
    call.id = functionCall.stringOr("id");
    call.name = functionCall.at("name").string();
    if (auto args = functionCall.find("args"))
        call.arguments = argumentsFromJson(args->json());
    return call;
}

// A functionResponse's "response": {"output": text} or {"error": text} as Gemini's
// documentation asks for, else any object, kept as its JSON text.
void parseFunctionResponse(const Field &response, Message &result) {
    const nlohmann::json &value = response.json();
    if (value.is_object() && value.size() == 1) {
        auto only = value.begin();
        if (only.key() == "output" || only.key() == "error") {
            result.isError = only.key() == "error";
            result.text = only->is_string() ? only->get<std::string>() : dumpJson(*only);
            return;
        }
    }
    result.text = dumpJson(value);
}

nlohmann::json parseGenerationConfig(const Field &config, Request &request) {
    if (auto max = findEither(config, "maxOutputTokens", "max_output_tokens"))
        request.maxTokens = max->integer();
    if (auto temperature = config.find("temperature"))
        request.temperature = temperature->number();
    std::string mime = config.stringOr("responseMimeType", config.stringOr("response_mime_type"));
    auto schema = findEither(config, "responseJsonSchema", "response_json_schema");
    if (!schema)
        schema = findEither(config, "responseSchema", "response_schema");
    if (schema)
        request.responseSchema = schema->json();
    else if (mime == "application/json")
        request.responseSchema = {{"type", "object"}};
    return membersExcept(config.json(),
                         {"maxOutputTokens", "max_output_tokens", "temperature",
                          "responseMimeType", "response_mime_type", "responseJsonSchema",
                          "response_json_schema", "responseSchema", "response_schema"});
}

// The calls of the model's last turn not yet answered, by name, for function responses
// that carry no id.
using PendingCalls = std::map<std::string, std::deque<std::string>>;

void readUserContent(const Field &parts, PendingCalls &pending, std::vector<Message> &out) {
    size_t before = out.size();
    std::string pendingText;
    auto flushText = [&] {
        if (!pendingText.empty())
            out.push_back(textMessage(Role::User, std::move(pendingText)));
        pendingText.clear();
    };
    for (const Field &part : parts.elements()) {
        if (auto text = part.find("text")) {
            pendingText.append(text->string());
        } else if (auto response = findEither(part, "functionResponse", "function_response")) {
            flushText();
            Message result = textMessage(Role::Tool, {});
            result.toolName = response->at("name").string();
            result.toolCallId = response->stringOr("id");
            std::deque<std::string> &waiting = pending[result.toolName];
            if (result.toolCallId.empty() && !waiting.empty())
                result.toolCallId = waiting.front();
            if (!waiting.empty() && waiting.front() == result.toolCallId)
                waiting.pop_front();
            if (auto value = response->find("response"))
                parseFunctionResponse(*value, result);
            out.push_back(std::move(result));
        }
        // Inline data and files have no place in the neutral form.
    }
    flushText();
    if (out.size() == before)
        out.push_back(textMessage(Role::User, {}));
}

} // namespace

void addModelParts(const Field &parts, Response &response) {
    for (const Field &part : parts.elements()) {
        if (auto text = part.find("text")) {
            if (part.booleanOr("thought"))
                response.thinking.append(text->string());
            else
                response.text.append(text->string());
        } else if (auto functionCall = findEither(part, "functionCall", "function_call")) {
            ToolCall call = parseFunctionCall(*functionCall);
            if (call.id.empty())
                call.id = madeUpCallId(response.id, response.toolCalls.size(), call);
            response.toolCalls.push_back(std::move(call));
        }
    }
}

nlohmann::json renderModelParts(const std::string &text, const std::string &thinking,
                                const std::vector<ToolCall> &calls) {
    nlohmann::json parts = nlohmann::json::array();
    if (!thinking.empty())
        parts.push_back({{"text", thinking}, {"thought", true}});
    if (!text.empty() || (thinking.empty() && calls.empty()))
        parts.push_back({{"text", text}});
    for (const ToolCall &call : calls) {
        nlohmann::json functionCall = {{"name", call.name}, {"args", call.arguments}};
        if (!call.id.empty())
            functionCall["id"] = call.id;
        parts.push_back({{"functionCall", std::move(functionCall)}});
    }
    return parts;
}

Usage parseUsage(const Field &usage) {
    Usage out;
    out.cacheReadTokens = usage.integerOr("cachedContentTokenCount");
    out.inputTokens =
        std::max<int64_t>(0, usage.integerOr("promptTokenCount") - out.cacheReadTokens);
    out.outputTokens = usage.integerOr("candidatesTokenCount") + usage.integerOr("thoughtsTokenCount");
    return out;
}

nlohmann::json renderUsage(const Usage &usage) {
    int64_t prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    nlohmann::json out = {{"promptTokenCount", prompt},
                          {"candidatesTokenCount", usage.outputTokens},
                          {"totalTokenCount", prompt + usage.outputTokens}};
    if (usage.cacheReadTokens > 0)
        out["cachedContentTokenCount"] = usage.cacheReadTokens;
    return out;
}

StopReason stopReasonFrom(const std::string &finishReason, bool hasToolCalls) {
    if (finishReason == "MAX_TOKENS")
        return StopReason::MaxTokens;
    if (finishReason.empty() || finishReason == "STOP" || finishReason == "FINISH_REASON_UNSPECIFIED")
        return hasToolCalls ? StopReason::ToolUse : StopReason::EndTurn;
    return StopReason::Other;
}

const char *finishReasonFor(StopReason reason) {
    switch (reason) {
    case StopReason::EndTurn:
    case StopReason::ToolUse: return "STOP";
    case StopReason::MaxTokens: return "MAX_TOKENS";
    case StopReason::Other: return "OTHER";
    }
    return "STOP";
}

Request parseRequest(const Field &body) {
    Request request;
    if (auto system = findEither(body, "systemInstruction", "system_instruction")) {
        for (const Field &part : system->at("parts").elements())
            appendSystem(request.system, part.at("text").string());
    }

    PendingCalls pending;
    std::vector<Field> contents = body.at("contents").elements();
    for (size_t i = 0; i < contents.size(); ++i) {
        const Field &content = contents[i];
        std::string role = content.stringOr("role", "user");
        Field parts = content.at("parts");
        if (role == "model") {
            Response turn;
            turn.id = madeUpId("", std::to_string(i)); // keeps made-up call ids apart per turn
            addModelParts(parts, turn);
            Message message = textMessage(Role::Assistant, std::move(turn.text));
            message.thinking = std::move(turn.thinking);
            message.toolCalls = std::move(turn.toolCalls);
            pending.clear();
            for (const ToolCall &call : message.toolCalls)
                pending[call.name].push_back(call.id);
            request.messages.push_back(std::move(message));
        } else if (role == "user" || role == "function") {
            readUserContent(parts, pending, request.messages);
        } else {
            content.at("role").fail(R"(one of "user", "model")");
        }
    }

    if (auto tools = body.find("tools")) {
        for (const Field &tool : tools->elements()) {
            auto declarations = findEither(tool, "functionDeclarations", "function_declarations");
            if (!declarations)
                continue; // search, code execution and other built-in tools
            for (const Field &declaration : declarations->elements()) {
                ToolSpec spec;
                spec.name = declaration.at("name").string();
                spec.description = declaration.stringOr("description");
                auto parameters = findEither(declaration, "parametersJsonSchema",
                                             "parameters_json_schema");
                if (!parameters)
                    parameters = declaration.find("parameters");
                if (parameters)
                    spec.parameters = parameters->json();
                request.tools.push_back(std::move(spec));
            }
        }
    }

    request.extra = membersExcept(body.json(), {"contents", "systemInstruction",
                                                "system_instruction", "tools", "generationConfig",
                                                "generation_config"});
    if (auto config = findEither(body, "generationConfig", "generation_config")) {
        nlohmann::json rest = parseGenerationConfig(*config, request);
        if (!rest.empty())
            request.extra["generationConfig"] = std::move(rest);
    }
    return request;
}

nlohmann::json renderRequest(const Request &request) {
    nlohmann::json body = bodyFromExtra(request.extra);
    if (!request.system.empty())
        body["systemInstruction"] = {{"parts", nlohmann::json::array({{{"text", request.system}}})}};

    nlohmann::json contents = nlohmann::json::array();
    const std::vector<Message> &all = request.messages;
    for (size_t i = 0; i < all.size(); ++i) {
        const Message &message = all[i];
        if (message.role == Role::Assistant) {
            contents.push_back(
                {{"role", "model"},
                 {"parts", renderModelParts(message.text, message.thinking, message.toolCalls)}});
        } else if (message.role == Role::Tool) {
            // Consecutive tool results, and the user's text right after them, are one turn.
            nlohmann::json parts = nlohmann::json::array();
            for (; i < all.size() && all[i].role == Role::Tool; ++i) {
                nlohmann::json functionResponse = {
                    {"name", all[i].toolName},
                    {"response", {{all[i].isError ? "error" : "output", all[i].text}}}};
                if (!all[i].toolCallId.empty())
                    functionResponse["id"] = all[i].toolCallId;
                parts.push_back({{"functionResponse", std::move(functionResponse)}});
            }
            if (i < all.size() && all[i].role == Role::User && !all[i].text.empty())
                parts.push_back({{"text", all[i].text}});
            else
                --i;
            contents.push_back({{"role", "user"}, {"parts", std::move(parts)}});
        } else {
            contents.push_back(
                {{"role", "user"}, {"parts", nlohmann::json::array({{{"text", message.text}}})}});
        }
    }
    body["contents"] = std::move(contents);

    if (!request.tools.empty()) {
        nlohmann::json declarations = nlohmann::json::array();
        for (const ToolSpec &tool : request.tools) {
            declarations.push_back({{"name", tool.name},
                                    {"description", tool.description},
                                    {"parameters", tool.parameters}});
        }
        body["tools"] = nlohmann::json::array({{{"functionDeclarations", std::move(declarations)}}});
    }

    nlohmann::json config = body.contains("generationConfig") && body["generationConfig"].is_object()
                                ? body["generationConfig"]
                                : nlohmann::json::object();
    if (request.maxTokens != 0)
        config["maxOutputTokens"] = request.maxTokens;
    if (request.temperature)
        config["temperature"] = *request.temperature;
    if (!request.responseSchema.is_null()) {
        config["responseMimeType"] = "application/json";
        if (request.responseSchema != nlohmann::json{{"type", "object"}})
            config["responseJsonSchema"] = request.responseSchema;
    }
    if (!config.empty())
        body["generationConfig"] = std::move(config);
    return body;
}

Response parseResponse(const Field &body) {
    Response response;
    response.id = body.stringOr("responseId");
    response.model = body.stringOr("modelVersion");
    std::string finishReason;
    auto candidates = body.find("candidates");
    std::vector<Field> all = candidates ? candidates->elements() : std::vector<Field>{};
    if (all.empty()) {
        // No candidate: the prompt itself was blocked (promptFeedback says why).
        response.stopReason = StopReason::Other;
    } else {
        if (auto content = all.front().find("content")) {
            if (auto parts = content->find("parts"))
                addModelParts(*parts, response);
        }
        finishReason = all.front().stringOr("finishReason");
        response.stopReason = stopReasonFrom(finishReason, !response.toolCalls.empty());
    }
    if (auto usage = body.find("usageMetadata"))
        response.usage = parseUsage(*usage);
    return response;
}

nlohmann::json renderResponse(const Response &response) {
    nlohmann::json candidate = {
        {"content",
         {{"role", "model"},
          {"parts", renderModelParts(response.text, response.thinking, response.toolCalls)}}},
        {"finishReason", finishReasonFor(response.stopReason)},
        {"index", 0}};
    return {{"candidates", nlohmann::json::array({std::move(candidate)})},
            {"usageMetadata", renderUsage(response.usage)},
            {"modelVersion", response.model},
            {"responseId", responseIdOrMadeUp(response, "")}};
}

} // namespace tapedeck::formats::wire::detail::gemini
