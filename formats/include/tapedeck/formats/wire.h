// The model APIs' wire formats, in one provider-neutral form.
//
// Four APIs are spoken: OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and
// Gemini generateContent. Each has a request body, a response body, and a streamed form of
// the response as server-sent events. This header turns each of them into one neutral
// conversation (Request, Response) and back, so that the scripted model server, the
// reference agent and the recorder share one codec per API:
// - the model server parses requests and renders responses (whole or as SSE events);
// - the agent renders requests and assembles streamed responses;
// - the recorder parses both sides of what crossed the wire.
//
// Everything here is pure: no I/O, no global state, safe from any thread. Malformed input
// is an Error with code Parse whose message names the field (a JSON pointer such as
// "/messages/3/content/0/type") and what was expected; nothing here throws.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats::wire {

enum class Api {
    OpenAIChat,        // POST /v1/chat/completions
    OpenAIResponses,   // POST /v1/responses
    AnthropicMessages, // POST /v1/messages
    Gemini,            // POST /v1beta/models/{model}:generateContent | :streamGenerateContent
};

// "openai-chat", "openai-responses", "anthropic-messages", "gemini".
const char *apiName(Api api);
std::optional<Api> apiFromName(std::string_view name);
// The member of a request body that holds the conversation: "messages" (Chat Completions,
// Anthropic), "input" (Responses) or "contents" (Gemini).
const char *conversationMember(Api api);

// The API a model-call request path speaks, from its path and query as the client sent
// it; with or without a "/v1" (or "/v1beta") prefix, any query string ignored
// ("/v1/messages?beta=true" is AnthropicMessages). nullopt for paths that are not a model
// call (model lists, token counting, "/").
std::optional<Api> apiForPath(std::string_view pathAndQuery);

// For Gemini the model and whether the call streams are in the path, not the body:
// "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse" gives
// {"gemini-2.5-pro", true}. nullopt when the path is not a Gemini model call.
struct GeminiTarget {
    std::string model;
    bool stream = false;
    bool sse = false; // alt=sse was asked for; without it a stream is one JSON array
};
std::optional<GeminiTarget> geminiTarget(std::string_view pathAndQuery);

// ---------------------------------------------------------------------------------------
// The neutral conversation

enum class Role { System, User, Assistant, Tool };
const char *roleName(Role role); // "system", "user", "assistant", "tool"

struct ToolCall {
    std::string id;           // as the API gave it; Gemini has none, so one is made up
    std::string name;
    // The arguments as a JSON object. When the model produced text that is not valid
    // JSON, this is a string holding that text exactly, so nothing is lost.
    nlohmann::json arguments = nlohmann::json::object();
    bool operator==(const ToolCall &) const = default;
};

// One message of the conversation. Which fields are meaningful depends on the role:
// - System, User: text.
// - Assistant: text, thinking (reasoning the API exposed), toolCalls, in that order.
// - Tool: the result of one tool call: toolCallId, toolName where the API names it
//   (Gemini does, the others do not), text = the output, isError.
// An API that puts several tool results in one message (Anthropic's user message of
// tool_result blocks, Gemini's functionResponse parts) parses to consecutive Tool
// messages and renders them back into one, with the user's text that follows them.
// Several text blocks of one message are joined by a blank line; Gemini's text parts,
// which are pieces of one text, are joined as they are. Parts the neutral form has no
// place for (images, files, built-in tool calls, redacted thinking) are left out.
struct Message {
    Role role = Role::User;
    std::string text;
    std::string thinking;
    std::vector<ToolCall> toolCalls;
    std::string toolCallId;
    std::string toolName;
    bool isError = false;
    // Anthropic's signature over `thinking`, which must go back unchanged with it; empty
    // for the other APIs.
    std::string thinkingSignature;
    bool operator==(const Message &) const = default;
};

struct ToolSpec {
    std::string name;
    std::string description;
    nlohmann::json parameters = nlohmann::json::object(); // a JSON schema
    bool operator==(const ToolSpec &) const = default;
};

struct Request {
    Api api = Api::OpenAIChat;
    std::string model;               // empty for Gemini, whose model is in the path
    std::string system;              // the system prompt(s), joined by blank lines
    std::vector<Message> messages;   // the conversation, without the system prompt
    std::vector<ToolSpec> tools;
    bool stream = false;
    int64_t maxTokens = 0;           // 0 when the request does not set it
    std::optional<double> temperature;
    // The JSON schema the answer must follow when the request asks for structured output
    // (response_format json_schema, text.format, responseSchema, ...); {"type":"object"}
    // for a plain JSON mode; null when the answer is free text.
    nlohmann::json responseSchema;
    // Every other member of the body, unchanged, so that render(parse(x)) keeps them.
    nlohmann::json extra = nlohmann::json::object();
    bool operator==(const Request &) const = default;
};

enum class StopReason { EndTurn, ToolUse, MaxTokens, Other };
const char *stopReasonName(StopReason reason); // "end_turn", "tool_use", "max_tokens", "other"

struct Response {
    std::string id;                  // made up by the renderer when empty
    std::string model;
    std::string text;
    std::string thinking;
    std::vector<ToolCall> toolCalls;
    StopReason stopReason = StopReason::EndTurn;
    // inputTokens counts only the input that was neither read from nor written to the
    // cache, as Anthropic reports it; for the APIs whose prompt count includes the cached
    // part (OpenAI, Gemini) the codecs subtract it on the way in and add it back on the way
    // out, so that one price per kind of token applies to every API.
    Usage usage;
    std::string thinkingSignature;   // as Message::thinkingSignature
    bool operator==(const Response &) const = default;
};

// An error the API answers with instead of a response.
struct ApiError {
    int httpStatus = 500;
    std::string type;                // "rate_limit_error", "server_error", ...; made up when empty
    std::string message;
    bool operator==(const ApiError &) const = default;
};

// ---------------------------------------------------------------------------------------
// Bodies

// parse(render(x)) == x for every Request that parseRequest produced (the neutral form's
// round trip); render(parse(body)) keeps every member the neutral form has no field for.
Result<Request> parseRequest(Api api, const nlohmann::json &body);
// The body a client sends. Gemini's model and stream flag go in the path (geminiTarget).
nlohmann::json renderRequest(const Request &request);

Result<Response> parseResponse(Api api, const nlohmann::json &body);
nlohmann::json renderResponse(Api api, const Response &response);

// The error body in the API's own shape ({"error": {...}} for OpenAI and Gemini,
// {"type": "error", "error": {...}} for Anthropic).
nlohmann::json renderError(Api api, const ApiError &error);
// Reads an error body of any of the four shapes; nullopt when it is not one.
std::optional<ApiError> parseError(int httpStatus, const nlohmann::json &body);

// ---------------------------------------------------------------------------------------
// Streams (server-sent events)

struct SseEvent {
    std::string event;               // the "event:" field; empty when absent (OpenAI, Gemini)
    std::string data;                // the "data:" lines joined by "\n"
    bool operator==(const SseEvent &) const = default;
};

// "event: NAME\ndata: DATA\n\n", without the event line when the name is empty; a data
// value with newlines becomes several data lines.
std::string encodeSse(const SseEvent &event);

// Splits a byte stream into events, however the bytes are cut. Accepts "\n", "\r\n" and
// "\r" line ends, ignores comment lines (": ping") and fields it does not know, as the
// HTML standard's event-stream parsing says.
class SseParser {
public:
    // Appends the events completed by `bytes` to `out`.
    void feed(std::string_view bytes, std::vector<SseEvent> &out);
    // The event still open when the stream ended without its blank line, if any.
    std::optional<SseEvent> finish();

private:
    std::string m_line;
    SseEvent m_event;
    bool m_hasData = false;
    bool m_lastWasCr = false;
    bool m_atStart = true; // a byte order mark at the very start is dropped
};

struct StreamOptions {
    size_t charsPerDelta = 16;       // text and argument deltas are cut to about this size
};

// The events a streamed response is sent as, in the API's own sequence (OpenAI chat:
// role delta, content deltas, tool-call deltas, finish chunk, usage chunk, "[DONE]";
// Anthropic: message_start, content_block_start/delta/stop per block, message_delta,
// message_stop; Responses: response.created ... response.completed; Gemini: one
// GenerateContentResponse per event).
std::vector<SseEvent> renderStream(Api api, const Response &response,
                                   const StreamOptions &options = {});

// Builds a Response from a stream's events, one at a time, as they arrive.
class StreamAssembler {
public:
    explicit StreamAssembler(Api api);
    ~StreamAssembler();
    StreamAssembler(StreamAssembler &&) noexcept;
    StreamAssembler &operator=(StreamAssembler &&) noexcept;

    // A Parse error names the event (its position in the stream and its type) and what was
    // wrong with it; an error event of the API gives an Error with code Io whose message
    // ends with the API's ("...: overloaded_error: Overloaded"). Events after a refused one
    // are still taken; event types the assembler does not know are ignored.
    Status add(const SseEvent &event);
    // True once the stream's last event arrived ("[DONE]", message_stop,
    // response.completed, or a Gemini chunk with a finishReason).
    bool complete() const;
    // The response so far. Precondition for a full answer: complete(); before that it is
    // what has arrived, which is what a dropped stream leaves.
    Response response() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::formats::wire
