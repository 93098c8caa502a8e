// Pieces every codec shares: joining text blocks, tool-call arguments as text, ids made up
// from content, cutting text into stream deltas, serialising without throwing.
#pragma once

#include "jsonfield.h"

#include <tapedeck/formats/wire.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats::wire::detail {

// Several text blocks of one message become one text, separated by a blank line.
void appendBlock(std::string &text, std::string_view block);

// Arguments as the APIs that carry them as text (OpenAI) have them: an object is parsed,
// "" is no arguments, anything else (invalid JSON, or JSON that is not an object) stays
// the exact text.
nlohmann::json argumentsFromText(const std::string &text);
std::string argumentsToText(const nlohmann::json &arguments);
// Arguments from an API that carries them as JSON (Anthropic, Gemini); a value that is
// not an object becomes its text, as the text APIs would have it.
nlohmann::json argumentsFromJson(const nlohmann::json &arguments);

// Compact JSON that never throws: invalid UTF-8 is replaced.
std::string dumpJson(const nlohmann::json &value);
// Parses `text`; discarded (is_discarded()) when it is not JSON, or nests deeper than
// the walks over JSON allow.
nlohmann::json parseJsonText(std::string_view text);

// A stable id for something that has none, from what it is: `prefix` followed by 24 hex
// digits of a hash of `seed`. The same content gives the same id on every run.
std::string madeUpId(std::string_view prefix, std::string_view seed);
// Response::id, or one made up from the response's content.
std::string responseIdOrMadeUp(const Response &response, std::string_view prefix);

// `text` cut into pieces of about `size` bytes, never inside a UTF-8 sequence. Empty text
// gives no pieces.
std::vector<std::string> cutIntoDeltas(std::string_view text, size_t size);

// An event's data as JSON; throws ParseFailure when it is not JSON.
nlohmann::json parseEventData(const SseEvent &event);

// OpenAI's structured-output format, in chat's response_format and in the Responses API's
// text.format: {"type": "text" | "json_object" | "json_schema", ...}. The schema of a
// json_schema format is in its "schema", which chat nests in a "json_schema" member.
nlohmann::json schemaFromOpenAIFormat(const Field &format, bool nestedInJsonSchema);

// The whole body must be an object no deeper than the walks over JSON allow.
void requireBodyObject(const nlohmann::json &body);

// Copies `body` without the members in `known`: what goes to Request::extra.
nlohmann::json membersExcept(const nlohmann::json &body,
                             std::initializer_list<std::string_view> known);
// Request::extra as an object to build a body on (an extra that is not an object is
// ignored).
nlohmann::json bodyFromExtra(const nlohmann::json &extra);

// A message of one role with only text.
inline Message textMessage(Role role, std::string text) {
    Message message;
    message.role = role;
    message.text = std::move(text);
    return message;
}

// The system prompt is several parts joined by blank lines, like text blocks.
inline void appendSystem(std::string &system, std::string_view part) { appendBlock(system, part); }

} // namespace tapedeck::formats::wire::detail
