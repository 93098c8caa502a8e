// Conversations that use everything each wire API can carry, for the wire codec suites.
// Built so that every field set is one the API has a place for: rendering one and parsing
// it back must give it back exactly.
#pragma once

#include <tapedeck/formats/wire.h>

#include <vector>

namespace tapedeck::wirefixtures {

using namespace tapedeck::formats::wire;

inline const std::vector<Api> kAllApis = {Api::OpenAIChat, Api::OpenAIResponses,
                                          Api::AnthropicMessages, Api::Gemini};

inline ToolCall call(std::string id, std::string name, nlohmann::json arguments) {
    ToolCall out;
    out.id = std::move(id);
    out.name = std::move(name);
    out.arguments = std::move(arguments);
    return out;
}

// An answer with reasoning, text with characters of several UTF-8 lengths, three tool
// calls (the last one's arguments are not valid JSON, as a model sometimes writes them)
// and usage with cached input.
inline Response richResponse(Api api) {
    Response r;
    r.id = "resp-0001";
    r.model = "test-model-1";
    r.thinking = "The build fails in a.c; read it first, then run make again.";
    r.text = "Looking at the build. Ünïcödé: 日本語 ✓ — and an emoji 🚀 to cut through.";
    r.toolCalls = {call("call_a1", "read", {{"path", "src/a.c"}, {"lines", {1, 40}}}),
                   call("call_b2", "bash", {{"command", "make -j2 2>&1 | tail -n 20"}}),
                   call("call_c3", "bash", "{\"command\": \"echo unterminated")};
    r.stopReason = StopReason::ToolUse;
    r.usage.inputTokens = 1200;
    r.usage.outputTokens = 345;
    r.usage.cacheReadTokens = 800;
    if (api == Api::AnthropicMessages) {
        r.usage.cacheWriteTokens = 64; // only Anthropic reports cache writes
        r.thinkingSignature = "EqQBCkYIARgCKkA-signature";
    }
    return r;
}

inline Message message(Role role, std::string text) {
    Message m;
    m.role = role;
    m.text = std::move(text);
    return m;
}

// A conversation of a system prompt, a user turn, an assistant turn with reasoning, text
// and two calls, both results (one failed), the user's follow-up and a final answer.
inline Request richRequest(Api api) {
    Request r;
    r.api = api;
    r.system = "You are a careful engineer.\n\nAnswer briefly.";
    r.messages.push_back(message(Role::User, "Fix the build, please ✓"));
    Message assistant = message(Role::Assistant, "I will read the file and build.");
    assistant.thinking = "Read a.c, then make.";
    assistant.toolCalls = {call("call_1", "read", {{"path", "a.c"}}),
                           call("call_2", "bash", {{"command", "make"}})};
    Message first = message(Role::Tool, "int main() { return 0 }");
    first.toolCallId = "call_1";
    Message second = message(Role::Tool, "a.c:1: error: expected ';'");
    second.toolCallId = "call_2";
    // Only some APIs carry a failed flag, a tool name and a thinking signature.
    if (api == Api::AnthropicMessages || api == Api::Gemini)
        second.isError = true;
    if (api == Api::Gemini) {
        first.toolName = "read";
        second.toolName = "bash";
    }
    if (api == Api::AnthropicMessages)
        assistant.thinkingSignature = "sig-1";
    r.messages.push_back(assistant);
    r.messages.push_back(first);
    r.messages.push_back(second);
    r.messages.push_back(message(Role::User, "Go on."));
    r.messages.push_back(message(Role::Assistant, "Fixed: the missing semicolon."));
    ToolSpec read{"read", "Read a file", {{"type", "object"},
                                          {"properties", {{"path", {{"type", "string"}}}}},
                                          {"required", {"path"}}}};
    ToolSpec bash{"bash", "Run a shell command",
                  {{"type", "object"}, {"properties", {{"command", {{"type", "string"}}}}}}};
    r.tools = {read, bash};
    r.maxTokens = 2048;
    r.temperature = 0.25;
    r.responseSchema = {{"type", "object"}, {"properties", {{"ok", {{"type", "boolean"}}}}}};
    switch (api) {
    case Api::OpenAIChat:
        r.model = "gpt-test";
        r.stream = true;
        r.extra = {{"stream_options", {{"include_usage", true}}}, {"user", "u-1"}};
        break;
    case Api::OpenAIResponses:
        r.model = "gpt-test";
        r.stream = true;
        r.extra = {{"store", false}, {"text", {{"verbosity", "low"}}}};
        break;
    case Api::AnthropicMessages:
        r.model = "claude-test";
        r.stream = true;
        r.extra = {{"metadata", {{"user_id", "u-1"}}}, {"thinking", {{"type", "adaptive"}}}};
        break;
    case Api::Gemini: // the model and the stream flag are in the path
        r.extra = {{"safetySettings", nlohmann::json::array()},
                   {"generationConfig", {{"topP", 0.9}}}};
        break;
    }
    return r;
}

} // namespace tapedeck::wirefixtures
