// A fork's edits made on the raw JSON of each live request: the tool result found by its
// call id, the user message put where the first live request ended, the model renamed.
// Nothing here throws on an odd body: every member is looked at before it is used.
#include "requestedit.h"

#include <algorithm>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using nlohmann::json;
using Kind = RequestEdit::Kind;

namespace {

std::string dumped(const json &value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool hasString(const json &object, const char *key, const std::string &value)
{
    if (!object.is_object())
        return false;
    const auto found = object.find(key);
    return found != object.end() && found->is_string() &&
           found->get_ref<const std::string &>() == value;
}

// The object member `key`, or nullptr when `object` is not an object or has none.
json *member(json &object, const char *key)
{
    if (!object.is_object())
        return nullptr;
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

// Gemini accepts its members in camelCase and in snake_case.
json *memberEither(json &object, const char *camel, const char *snake)
{
    json *found = member(object, camel);
    return found ? found : member(object, snake);
}

// The size of a tool output as the model read it: a string's bytes, the text of an array
// of text parts, the JSON of anything else.
size_t outputSize(const json *output)
{
    if (!output || output->is_null())
        return 0;
    if (output->is_string())
        return output->get_ref<const std::string &>().size();
    if (!output->is_array())
        return dumped(*output).size();
    size_t size = 0;
    for (const json &part : *output) {
        const auto text = part.is_object() ? part.find("text") : part.end();
        size += text != part.end() && text->is_string()
                    ? text->get_ref<const std::string &>().size()
                    : dumped(part).size();
    }
    return size;
}

std::string replacedLine(const std::string &callId, size_t before, size_t after)
{
    return "tool output of " + callId + " replaced (" + std::to_string(before) + " bytes -> " +
           std::to_string(after) + " bytes)";
}

// ---------------------------------------------------------------------------------------
// Tool results

// Sets `slot` (the output member of one result) to `text`, and says so.
void replaceOutput(json &slot, const std::string &callId, const std::string &text,
                   std::vector<std::string> &lines)
{
    lines.push_back(replacedLine(callId, outputSize(&slot), text.size()));
    slot = text;
}

void replaceOpenAIChat(json &conversation, const RequestEdit &edit, std::vector<std::string> &lines)
{
    for (json &message : conversation) {
        if (hasString(message, "role", "tool") && hasString(message, "tool_call_id", edit.callId))
            replaceOutput(message["content"], edit.callId, edit.text, lines);
    }
}

void replaceOpenAIResponses(json &conversation, const RequestEdit &edit,
                            std::vector<std::string> &lines)
{
    for (json &item : conversation) {
        const bool result = hasString(item, "type", "function_call_output") ||
                            hasString(item, "type", "custom_tool_call_output");
        if (result && hasString(item, "call_id", edit.callId))
            replaceOutput(item["output"], edit.callId, edit.text, lines);
    }
}

void replaceAnthropic(json &conversation, const RequestEdit &edit, std::vector<std::string> &lines)
{
    for (json &message : conversation) {
        json *content = member(message, "content");
        if (!content || !content->is_array())
            continue;
        for (json &block : *content) {
            if (hasString(block, "type", "tool_result") &&
                hasString(block, "tool_use_id", edit.callId))
                replaceOutput(block["content"], edit.callId, edit.text, lines);
        }
    }
}

// The functionResponse members of a Gemini body's user turns, in the order the codec reads
// them: the i-th is the result it parses as the i-th Tool message.
std::vector<json *> geminiResults(json &conversation)
{
    std::vector<json *> out;
    for (json &content : conversation) {
        json *role = member(content, "role");
        const bool user = !role || (role->is_string() && (*role == "user" || *role == "function"));
        json *parts = member(content, "parts");
        if (!user || !parts || !parts->is_array())
            continue;
        for (json &part : *parts) {
            if (member(part, "text"))
                continue; // the codec reads a part with text as text, whatever else it has
            json *response = memberEither(part, "functionResponse", "function_response");
            if (response && response->is_object())
                out.push_back(response);
        }
    }
    return out;
}

// The call id of each of those results: its own "id", or the one the codec made up from the
// model turn that asked for it. Only their own ids when the body does not parse.
std::vector<std::string> geminiCallIds(const json &body, const std::vector<json *> &results)
{
    std::vector<std::string> ids;
    auto parsed = fw::parseRequest(fw::Api::Gemini, body);
    if (parsed) {
        for (const fw::Message &message : parsed->messages) {
            if (message.role == fw::Role::Tool)
                ids.push_back(message.toolCallId);
        }
    }
    if (ids.size() == results.size())
        return ids;
    ids.clear();
    for (json *result : results) {
        const json *id = member(*result, "id");
        ids.push_back(id && id->is_string() ? id->get<std::string>() : std::string());
    }
    return ids;
}

// A functionResponse's "response" as the codec renders a result: {"output": text}, or
// {"error": text} for a result that was an error and stays one.
void replaceGemini(json &body, json &conversation, const RequestEdit &edit,
                   std::vector<std::string> &lines)
{
    const std::vector<json *> results = geminiResults(conversation);
    const std::vector<std::string> ids = geminiCallIds(body, results);
    for (size_t i = 0; i < results.size(); ++i) {
        if (ids[i] != edit.callId)
            continue;
        json &response = (*results[i])["response"];
        const bool wrapped = response.is_object() && response.size() == 1 &&
                             (response.contains("output") || response.contains("error"));
        const bool isError = wrapped && response.contains("error");
        const json *before = wrapped ? &*response.begin() : &response;
        lines.push_back(replacedLine(edit.callId, outputSize(before), edit.text.size()));
        response = {{isError ? "error" : "output", edit.text}};
    }
}

void replaceToolResult(fw::Api api, json &body, json &conversation, const RequestEdit &edit,
                       std::vector<std::string> &lines)
{
    if (edit.callId.empty())
        return; // it would match the results Gemini sent without an id
    switch (api) {
    case fw::Api::OpenAIChat:
        return replaceOpenAIChat(conversation, edit, lines);
    case fw::Api::OpenAIResponses:
        return replaceOpenAIResponses(conversation, edit, lines);
    case fw::Api::AnthropicMessages:
        return replaceAnthropic(conversation, edit, lines);
    case fw::Api::Gemini:
        return replaceGemini(body, conversation, edit, lines);
    }
}

// ---------------------------------------------------------------------------------------
// The appended user message

// Adds `text` to the user turn `turn` (Anthropic, Gemini) as a block of its own; false when
// that item is not a user turn that can take one.
bool addToUserTurn(fw::Api api, json &turn, const std::string &text)
{
    if (api == fw::Api::AnthropicMessages) {
        json *content = member(turn, "content");
        if (!hasString(turn, "role", "user") || !content)
            return false;
        if (content->is_string())
            *content = json::array({{{"type", "text"}, {"text", *content}}});
        if (!content->is_array())
            return false;
        content->push_back({{"type", "text"}, {"text", text}});
        return true;
    }
    json *role = member(turn, "role");
    json *parts = member(turn, "parts");
    if ((role && !hasString(turn, "role", "user")) || !parts || !parts->is_array())
        return false;
    // Gemini's text parts are pieces of one text: without a break the message would run on
    // from the text before it.
    const bool afterText = !parts->empty() && member(parts->back(), "text");
    parts->push_back({{"text", afterText ? "\n\n" + text : text}});
    return true;
}

json userMessage(fw::Api api, const std::string &text)
{
    switch (api) {
    case fw::Api::OpenAIChat:
        return {{"role", "user"}, {"content", text}};
    case fw::Api::OpenAIResponses:
        return {{"type", "message"},
                {"role", "user"},
                {"content", json::array({{{"type", "input_text"}, {"text", text}}})}};
    case fw::Api::AnthropicMessages:
        return {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", text}}})}};
    case fw::Api::Gemini:
        return {{"role", "user"}, {"parts", json::array({{{"text", text}}})}};
    }
    return {};
}

// Puts the message at `at` and moves `at` past it, so that a second message of the same
// fork follows the first.
std::string appendUser(fw::Api api, json &conversation, size_t &at, const std::string &text)
{
    const bool merges = api == fw::Api::AnthropicMessages || api == fw::Api::Gemini;
    if (merges && at > 0 && addToUserTurn(api, conversation[at - 1], text))
        return "user message appended to message " + std::to_string(at - 1);
    conversation.insert(conversation.begin() + static_cast<std::ptrdiff_t>(at),
                        userMessage(api, text));
    return "user message appended as message " + std::to_string(at++);
}

// ---------------------------------------------------------------------------------------
// The model

std::optional<std::string> replaceModel(fw::Api api, std::string &target, json &body,
                                        const std::string &model)
{
    std::string before;
    if (api == fw::Api::Gemini) {
        const auto gemini = fw::geminiTarget(target);
        const std::string segment = gemini ? "models/" + gemini->model + ":" : std::string();
        const size_t at = gemini ? target.find(segment) : std::string::npos;
        if (at == std::string::npos || gemini->model == model)
            return std::nullopt;
        before = gemini->model;
        target.replace(at, segment.size(), "models/" + model + ":");
    } else {
        json &slot = body["model"];
        if (slot.is_string())
            before = slot.get<std::string>();
        if (slot == model)
            return std::nullopt;
        slot = model;
    }
    return "model " + model + " instead of " + (before.empty() ? "(none)" : before);
}

} // namespace

std::string describe(const RequestEdit &edit)
{
    switch (edit.kind) {
    case Kind::ToolResult:
        return "the tool output of " + edit.callId + " replaced";
    case Kind::AppendUser:
        return "a user message appended";
    case Kind::Model:
        return "model " + edit.model + " instead of the recorded one";
    }
    return {};
}

RequestEditor::RequestEditor(std::vector<RequestEdit> edits) : m_edits(std::move(edits))
{
}

std::vector<std::string> RequestEditor::apply(fw::Api api, std::string &target, json &body)
{
    std::vector<std::string> lines;
    json *conversation = member(body, fw::conversationMember(api));
    if (!conversation || !conversation->is_array())
        return lines;

    std::optional<size_t> appendAt; // this request's position for the appended message(s)
    // A Responses API request that names its predecessor holds only what is new: the server
    // keeps the conversation, the message already added included.
    const bool continuesStoredConversation =
        api == fw::Api::OpenAIResponses && body.contains("previous_response_id") &&
        body["previous_response_id"].is_string();
    const bool appendedBefore = m_appendAt.has_value();
    for (const RequestEdit &edit : m_edits) {
        switch (edit.kind) {
        case Kind::ToolResult:
            replaceToolResult(api, body, *conversation, edit, lines);
            break;
        case Kind::AppendUser:
            if (continuesStoredConversation && appendedBefore)
                break;
            if (!appendAt) {
                if (!m_appendAt)
                    m_appendAt = conversation->size();
                appendAt = std::min(*m_appendAt, conversation->size());
            }
            lines.push_back(appendUser(api, *conversation, *appendAt, edit.text));
            break;
        case Kind::Model:
            if (auto line = replaceModel(api, target, body, edit.model))
                lines.push_back(std::move(*line));
            break;
        }
    }
    return lines;
}

} // namespace tapedeck::replayer
