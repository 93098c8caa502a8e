// What `tapedeck fork` changes in the requests it forwards to a live model: a tool's output
// replaced, a user message added, another model asked. The agent never knows about the
// edit and keeps sending its own history, so the edit is made again on every live request,
// in the request's own wire format: rendering from the neutral form would drop what it has
// no place for (images, documents, cache_control, server tools).
#pragma once

#include <tapedeck/formats/wire.h>
#include <tapedeck/replayer/fork.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tapedeck::replayer {

// RequestEdit and describe() are in <tapedeck/replayer/fork.h>, the fork's public header.

// Applies a fork's edits to each live model-call request, the first one and every later one
// (each later request resends the conversation, so the same edit is made again in the same
// place). Not thread-safe (the caller holds a lock).
//
// Per API, in the body's own shapes:
// - ToolResult: the result of callId (a "tool" message, a function_call_output or
//   custom_tool_call_output item, a tool_result block, a functionResponse part) gets the new
//   output as a string; Anthropic's is_error and cache_control stay. Gemini's results carry
//   no call id of their own: they are matched by the id the wire codec makes up for them.
// - AppendUser: the first request the edit applies to gets the message at the end of its
//   conversation; every later one at that same position (at its end when it is shorter).
//   Anthropic and Gemini get it as a text block of the user turn before that position, when
//   there is one, since they want user turns not doubled and tool results first. A later
//   Responses API request with previous_response_id gets none: the server holds it already.
// - Model: the body's "model"; for Gemini the "models/NAME:" segment of the target.
// Edits are made in the order given. A body that is not an object with the API's
// conversation array (wire::conversationMember) is left as it is.
class RequestEditor {
public:
    explicit RequestEditor(std::vector<RequestEdit> edits);
    // Edits one request body of `api`; `target` is its path and query (Gemini names its model
    // there: /v1beta/models/M:streamGenerateContent?alt=sse). Returns what it changed, one
    // readable line per change ("tool output of call_7 replaced (412 bytes -> 38 bytes)",
    // "user message appended as message 14", "model claude-opus-4 instead of
    // claude-sonnet-4-6"; message numbers are 0-based indices into the conversation array,
    // as divergence reports count them); empty when nothing applied.
    std::vector<std::string> apply(formats::wire::Api api, std::string &target,
                                   nlohmann::json &body);

private:
    std::vector<RequestEdit> m_edits;
    std::optional<size_t> m_appendAt; // AppendUser: where the first request put the message
};

} // namespace tapedeck::replayer
