// What replay matching ignores: the parts of a request that legitimately change from one
// run of the same agent to the next (request and item ids, session ids, cache keys, client
// metadata, billing strings, timestamps, ids and temporary paths inside prompts, tool-call
// ids). The built-in rules and the format of a user's rules file (--match-rules) are
// documented in replayer/MATCHING.md; this is the one place they are applied.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::replayer {

// The part of a request a rule looks at. Which JSON fields a part covers depends on the
// API (MATCHING.md has the table): System is Anthropic's `system`, the Responses API's
// `instructions`, a Chat Completions system/developer message, Gemini's
// `systemInstruction`; ToolOutputs are `tool` messages, `tool_result` blocks,
// `function_call_output` items and `functionResponse` parts; Messages is every message
// (tool outputs included); Everything is the whole body.
// MessagesWithoutToolOutputs (added after the others) is Messages with the tool outputs left
// out: what a rule uses to reach text a harness injects into messages (Claude Code's
// "Today's date is ..." reminder) without hiding a changed tool output.
enum class RequestPart {
    Everything,
    System,
    Messages,
    ToolOutputs,
    Tools,
    MessagesWithoutToolOutputs
};

// The part's name in a rules file: "everything", "system", "messages", "tool_outputs",
// "tools", "messages_without_tool_outputs".
const char *requestPartName(RequestPart part);
std::optional<RequestPart> requestPartFromName(std::string_view name);

struct MatchRule {
    std::string name;                  // shown in reports ("anthropic metadata.user_id")
    std::string origin;                // "built-in" or "FILE:LINE"
    std::optional<formats::wire::Api> api; // nullopt: every API
    // Ignore: the member at `path` is removed before comparing. A path is dot-separated
    // member names, `*` for every element of an array or every member of an object
    // ("metadata.user_id", "input.*.id").
    std::string ignorePath;
    // Replace: every match of `pattern` in the strings of `part` becomes `replacement`.
    std::optional<std::regex> pattern;
    std::string patternText;
    std::string replacement;
    RequestPart part = RequestPart::Everything;
    // Where a match of `pattern` can start in a string, found without the regex, in
    // ascending order: std::regex is slow on 30 KB prompts, so it is tried only there. Not
    // set: tried everywhere. The built-in rules set it; a user's rule gets the offsets of
    // the literal text its pattern starts with, when it has one.
    std::function<std::vector<size_t>(std::string_view)> matchStarts;
};

class MatchRules {
public:
    // The rules every replay uses (MATCHING.md, "Built-in rules").
    static MatchRules builtIn();
    // The built-in rules plus those in a user's file. An error names the file, the line
    // and what was expected there.
    static formats::Result<MatchRules> builtInPlus(const std::string &rulesFile);

    // The request body as matching compares it: every rule for `api` applied, and the
    // tool-call ids renamed in order of first appearance ("call#1", "call#2", ...), so
    // that ids a client or model makes up afresh compare equal. `body` is the request's
    // JSON as it crossed the wire.
    nlohmann::json normalise(formats::wire::Api api, nlohmann::json body) const;

    const std::vector<MatchRule> &rules() const { return m_rules; }

private:
    std::vector<MatchRule> m_rules;
};

// ---------------------------------------------------------------------------------------
// Where each API keeps the parts of a request (MATCHING.md, "Parts by API"). Shared by
// normalise() and compareRequests(), so that rules and divergence reports cut a request
// the same way. All of them take the body as it crossed the wire (or normalised).

// The member that holds the conversation: formats::wire::conversationMember().
// How many leading items of the conversation are the system prompt: Chat and Responses
// messages whose role is "system" or "developer". Always 0 for Anthropic and Gemini.
size_t leadingSystemItems(formats::wire::Api api, const nlohmann::json &conversation);
// The top-level members that hold the system prompt besides those items: "system",
// "instructions", "systemInstruction" / "system_instruction".
std::vector<std::string> systemMembers(formats::wire::Api api);
// A conversation item that is a tool output as a whole: a Chat `tool` (or legacy
// `function`) message, a Responses `*_call_output` item.
bool isToolOutputItem(formats::wire::Api api, const nlohmann::json &item);
// The member of an item whose array elements may be tool outputs ("content" for Anthropic,
// "parts" for Gemini); nullptr for the APIs whose tool outputs are whole items.
const char *blockMember(formats::wire::Api api);
// One element of that array that is a tool output: an Anthropic `*tool_result` block, a
// Gemini `functionResponse` part.
bool isToolOutputBlock(formats::wire::Api api, const nlohmann::json &block);

} // namespace tapedeck::replayer
