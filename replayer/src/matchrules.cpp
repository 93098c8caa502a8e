// The rules replay matching applies before comparing two requests: the built-in ones (each
// documented with its reason in replayer/MATCHING.md), a user's rules file, and the
// renaming of tool-call ids. Also where each API keeps the parts a rule can name.
#include "matchrules.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <unordered_map>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using formats::Error;
using formats::ErrorCode;
using nlohmann::json;

// ---------------------------------------------------------------------------------------
// Parts by API

const char *requestPartName(RequestPart part)
{
    switch (part) {
    case RequestPart::Everything:
        return "everything";
    case RequestPart::System:
        return "system";
    case RequestPart::Messages:
        return "messages";
    case RequestPart::ToolOutputs:
        return "tool_outputs";
    case RequestPart::Tools:
        return "tools";
    case RequestPart::MessagesWithoutToolOutputs:
        return "messages_without_tool_outputs";
    }
    return "everything";
}

std::optional<RequestPart> requestPartFromName(std::string_view name)
{
    for (RequestPart part :
         {RequestPart::Everything, RequestPart::System, RequestPart::Messages,
          RequestPart::ToolOutputs, RequestPart::Tools, RequestPart::MessagesWithoutToolOutputs})
        if (name == requestPartName(part))
            return part;
    return std::nullopt;
}

size_t leadingSystemItems(fw::Api api, const json &conversation)
{
    if ((api != fw::Api::OpenAIChat && api != fw::Api::OpenAIResponses) || !conversation.is_array())
        return 0;
    size_t n = 0;
    for (const json &item : conversation) {
        const auto role = item.is_object() ? item.find("role") : item.end();
        if (role == item.end() || !role->is_string() || (*role != "system" && *role != "developer"))
            break;
        ++n;
    }
    return n;
}

std::vector<std::string> systemMembers(fw::Api api)
{
    switch (api) {
    case fw::Api::OpenAIChat:
        return {};
    case fw::Api::OpenAIResponses:
        return {"instructions"};
    case fw::Api::AnthropicMessages:
        return {"system"};
    case fw::Api::Gemini:
        return {"systemInstruction", "system_instruction"};
    }
    return {};
}

namespace {

bool endsWith(std::string_view s, std::string_view tail)
{
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

std::string stringMember(const json &value, const char *name)
{
    if (!value.is_object())
        return {};
    const auto it = value.find(name);
    return it != value.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

bool isToolOutputItem(fw::Api api, const json &item)
{
    switch (api) {
    case fw::Api::OpenAIChat: {
        const std::string role = stringMember(item, "role");
        return role == "tool" || role == "function";
    }
    case fw::Api::OpenAIResponses:
        // function_call_output, custom_tool_call_output, local_shell_call_output, ...
        return endsWith(stringMember(item, "type"), "_call_output");
    case fw::Api::AnthropicMessages:
    case fw::Api::Gemini:
        return false;
    }
    return false;
}

const char *blockMember(fw::Api api)
{
    switch (api) {
    case fw::Api::AnthropicMessages:
        return "content";
    case fw::Api::Gemini:
        return "parts";
    case fw::Api::OpenAIChat:
    case fw::Api::OpenAIResponses:
        return nullptr;
    }
    return nullptr;
}

bool isToolOutputBlock(fw::Api api, const json &block)
{
    if (!block.is_object())
        return false;
    if (api == fw::Api::AnthropicMessages)
        return endsWith(stringMember(block, "type"), "tool_result"); // also mcp_tool_result, ...
    if (api == fw::Api::Gemini)
        return block.contains("functionResponse") || block.contains("function_response");
    return false;
}

namespace {

// ---------------------------------------------------------------------------------------
// Visiting the parts of a body

using Visit = const std::function<void(json &)> &;

// The value inside a tool output that is the output itself, so that a rule on
// ToolOutputs never renames the ids that pair an output with its call.
void visitToolOutputValue(fw::Api api, json &output, Visit visit)
{
    const char *member = nullptr;
    switch (api) {
    case fw::Api::OpenAIChat:
    case fw::Api::AnthropicMessages:
        member = "content";
        break;
    case fw::Api::OpenAIResponses:
        member = "output";
        break;
    case fw::Api::Gemini:
        for (const char *name : {"functionResponse", "function_response"})
            if (auto it = output.find(name); it != output.end() && it->is_object())
                if (auto response = it->find("response"); response != it->end())
                    visit(*response);
        return;
    }
    if (auto it = output.find(member); it != output.end())
        visit(*it);
}

enum class Outputs { Include, Exclude, Only };

void visitConversation(fw::Api api, json &body, Outputs outputs, Visit visit)
{
    auto conversation = body.find(fw::conversationMember(api));
    if (conversation == body.end())
        return;
    if (conversation->is_string()) { // Responses: `input` may be the user's text alone
        if (outputs != Outputs::Only)
            visit(*conversation);
        return;
    }
    if (!conversation->is_array())
        return;
    const char *blocks = blockMember(api);
    for (size_t i = leadingSystemItems(api, *conversation); i < conversation->size(); ++i) {
        json &item = (*conversation)[i];
        if (!item.is_object())
            continue;
        if (outputs == Outputs::Include) {
            visit(item);
            continue;
        }
        if (isToolOutputItem(api, item)) {
            if (outputs == Outputs::Only)
                visitToolOutputValue(api, item, visit);
            continue;
        }
        auto content = blocks ? item.find(blocks) : item.end();
        const bool hasBlocks = content != item.end() && content->is_array();
        for (auto &[key, value] : item.items()) {
            if (hasBlocks && key == blocks)
                continue;
            if (outputs == Outputs::Exclude)
                visit(value);
        }
        if (!hasBlocks)
            continue;
        for (json &block : *content) {
            const bool isOutput = isToolOutputBlock(api, block);
            if (isOutput && outputs == Outputs::Only)
                visitToolOutputValue(api, block, visit);
            else if (!isOutput && outputs == Outputs::Exclude)
                visit(block);
        }
    }
}

void visitPart(fw::Api api, json &body, RequestPart part, Visit visit)
{
    if (!body.is_object()) {
        if (part == RequestPart::Everything)
            visit(body);
        return;
    }
    switch (part) {
    case RequestPart::Everything:
        visit(body);
        return;
    case RequestPart::System: {
        for (const std::string &member : systemMembers(api))
            if (auto it = body.find(member); it != body.end())
                visit(*it);
        auto conversation = body.find(fw::conversationMember(api));
        if (conversation != body.end()) {
            const size_t n = leadingSystemItems(api, *conversation);
            for (size_t i = 0; i < n; ++i)
                visit((*conversation)[i]);
        }
        return;
    }
    case RequestPart::Messages:
        visitConversation(api, body, Outputs::Include, visit);
        return;
    case RequestPart::MessagesWithoutToolOutputs:
        visitConversation(api, body, Outputs::Exclude, visit);
        return;
    case RequestPart::ToolOutputs:
        visitConversation(api, body, Outputs::Only, visit);
        return;
    case RequestPart::Tools:
        if (auto it = body.find("tools"); it != body.end())
            visit(*it);
        return;
    }
}

// Every match of the rule in `text` replaced, as std::regex_replace would, but trying the
// regex only where the rule says a match can start.
std::optional<std::string> replacedText(const std::string &text, const MatchRule &rule)
{
    if (!rule.matchStarts) {
        // Searching first keeps the common case (no match) free of allocations.
        if (!std::regex_search(text, *rule.pattern))
            return std::nullopt;
        return std::regex_replace(text, *rule.pattern, rule.replacement);
    }
    const std::vector<size_t> starts = rule.matchStarts(text);
    std::optional<std::string> out;
    size_t copied = 0;
    std::smatch match;
    for (size_t start : starts) {
        if (start < copied)
            continue; // inside the previous match
        // match_prev_avail lets \b and ^ see the character before `start`.
        const auto flags = std::regex_constants::match_continuous |
                           (start > 0 ? std::regex_constants::match_prev_avail
                                      : std::regex_constants::match_default);
        if (!std::regex_search(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), match,
                               *rule.pattern, flags))
            continue;
        if (!out)
            out.emplace();
        out->append(text, copied, start - copied);
        *out += match.format(rule.replacement);
        copied = start + static_cast<size_t>(match.length(0));
    }
    if (out)
        out->append(text, copied, std::string::npos);
    return out;
}

void replaceStrings(json &value, const MatchRule &rule)
{
    if (value.is_string()) {
        if (auto replaced = replacedText(value.get_ref<const std::string &>(), rule))
            value = std::move(*replaced);
        return;
    }
    if (value.is_structured())
        for (json &child : value)
            replaceStrings(child, rule);
}

// ---------------------------------------------------------------------------------------
// Where matches can start

// The offsets of each of `literals` in `text`, ascending, each moved back by `back`.
std::vector<size_t> offsetsOf(std::string_view text,
                              std::initializer_list<std::string_view> literals, size_t back = 0)
{
    std::vector<size_t> out;
    for (std::string_view literal : literals)
        for (size_t at = text.find(literal); at != std::string_view::npos;
             at = text.find(literal, at + 1))
            out.push_back(at >= back ? at - back : 0);
    if (literals.size() > 1)
        std::sort(out.begin(), out.end());
    return out;
}

bool allOf(std::string_view text, size_t from, size_t count, int (*is)(int))
{
    if (from + count > text.size())
        return false;
    for (size_t i = from; i < from + count; ++i)
        if (!is(static_cast<unsigned char>(text[i])))
            return false;
    return true;
}

// "dddd-dd-dd": where an ISO date (or a timestamp) can start.
std::vector<size_t> isoDateStarts(std::string_view text)
{
    std::vector<size_t> out;
    for (size_t dash = text.find('-', 4); dash != std::string_view::npos;
         dash = text.find('-', dash + 1))
        if (allOf(text, dash - 4, 4, isdigit) && allOf(text, dash + 1, 2, isdigit) &&
            dash + 3 < text.size() && text[dash + 3] == '-')
            out.push_back(dash - 4);
    return out;
}

// Eight hex digits and a dash: where a uuid can start.
std::vector<size_t> uuidStarts(std::string_view text)
{
    std::vector<size_t> out;
    for (size_t dash = text.find('-', 8); dash != std::string_view::npos;
         dash = text.find('-', dash + 1))
        if (allOf(text, dash - 8, 8, isxdigit))
            out.push_back(dash - 8);
    return out;
}

// The text a pattern starts with when every match must start with it: up to the first
// character with a meaning in a regex (or one a quantifier applies to), and only for a
// pattern without alternation. Empty: none.
std::string literalPrefix(const std::string &pattern)
{
    if (pattern.find('|') != std::string::npos)
        return {};
    static const std::string special = "\\^$.|?*+()[]{}";
    size_t n = 0;
    while (n < pattern.size() && special.find(pattern[n]) == std::string::npos)
        ++n;
    if (n < pattern.size() && n > 0 && std::string("?*{").find(pattern[n]) != std::string::npos)
        --n; // "ab?" only promises "a"
    return pattern.substr(0, n);
}

// ---------------------------------------------------------------------------------------
// Ignore paths

std::vector<std::string> splitPath(const std::string &path)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        parts.push_back(
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos)
            return parts;
        start = dot + 1;
    }
}

bool isIndex(const std::string &s)
{
    return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

void eraseAt(json &value, const std::vector<std::string> &path, size_t depth)
{
    const std::string &name = path[depth];
    const bool last = depth + 1 == path.size();
    if (name == "*") {
        if (!value.is_structured())
            return;
        if (last) {
            value = value.is_array() ? json::array() : json::object();
            return;
        }
        for (json &child : value)
            eraseAt(child, path, depth + 1);
        return;
    }
    if (value.is_object()) {
        auto it = value.find(name);
        if (it == value.end())
            return;
        if (last)
            value.erase(it);
        else
            eraseAt(*it, path, depth + 1);
    } else if (value.is_array() && isIndex(name)) {
        const size_t index = std::stoul(name);
        if (index >= value.size())
            return;
        if (last)
            value.erase(index);
        else
            eraseAt(value[index], path, depth + 1);
    }
}

// ---------------------------------------------------------------------------------------
// Tool-call ids

class CallIdRenamer {
public:
    void rename(json &holder, const char *member)
    {
        auto it = holder.find(member);
        if (it == holder.end() || !it->is_string())
            return;
        auto [entry, added] = m_names.try_emplace(it->get<std::string>(),
                                                  "call#" + std::to_string(m_names.size() + 1));
        *it = entry->second;
    }

private:
    std::unordered_map<std::string, std::string> m_names;
};

void renameCallIds(fw::Api api, json &body)
{
    auto conversation = body.is_object() ? body.find(fw::conversationMember(api)) : body.end();
    if (!body.is_object() || conversation == body.end() || !conversation->is_array())
        return;
    CallIdRenamer renamer;
    for (json &item : *conversation) {
        if (!item.is_object())
            continue;
        switch (api) {
        case fw::Api::OpenAIChat:
            if (auto calls = item.find("tool_calls"); calls != item.end() && calls->is_array())
                for (json &call : *calls)
                    if (call.is_object())
                        renamer.rename(call, "id");
            renamer.rename(item, "tool_call_id");
            break;
        case fw::Api::OpenAIResponses:
            renamer.rename(item, "call_id");
            break;
        case fw::Api::AnthropicMessages:
            if (auto content = item.find("content"); content != item.end() && content->is_array())
                for (json &block : *content) {
                    if (!block.is_object())
                        continue;
                    if (endsWith(stringMember(block, "type"), "tool_use")) // also server_tool_use
                        renamer.rename(block, "id");
                    renamer.rename(block, "tool_use_id");
                }
            break;
        case fw::Api::Gemini:
            if (auto parts = item.find("parts"); parts != item.end() && parts->is_array())
                for (json &part : *parts)
                    for (const char *name :
                         {"functionCall", "function_call", "functionResponse", "function_response"})
                        if (auto it = part.is_object() ? part.find(name) : part.end();
                            part.is_object() && it != part.end() && it->is_object())
                            renamer.rename(*it, "id");
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Built-in rules (MATCHING.md has the same table, with the reason for each)

MatchRule ignoreRule(std::string name, std::optional<fw::Api> api, std::string path)
{
    MatchRule rule;
    rule.name = std::move(name);
    rule.origin = "built-in";
    rule.api = api;
    rule.ignorePath = std::move(path);
    return rule;
}

MatchRule replaceRule(std::string name, std::optional<fw::Api> api, RequestPart part,
                      std::string pattern, std::string replacement,
                      std::function<std::vector<size_t>(std::string_view)> starts)
{
    MatchRule rule;
    rule.name = std::move(name);
    rule.origin = "built-in";
    rule.api = api;
    rule.pattern.emplace(pattern, std::regex::ECMAScript);
    rule.patternText = std::move(pattern);
    rule.replacement = std::move(replacement);
    rule.part = part;
    rule.matchStarts = std::move(starts);
    return rule;
}

constexpr const char *kMonths =
    "(January|February|March|April|May|June|July|August|September|October|November|December)";

} // namespace

MatchRules MatchRules::builtIn()
{
    using Api = fw::Api;
    using Text = std::string_view;
    const std::optional<Api> every;
    MatchRules rules;
    std::vector<MatchRule> &r = rules.m_rules;

    r.push_back(
        ignoreRule("anthropic metadata.user_id", Api::AnthropicMessages, "metadata.user_id"));
    r.push_back(replaceRule("claude code billing header", Api::AnthropicMessages,
                            RequestPart::System, "x-anthropic-billing-header:[^\\n]*",
                            "x-anthropic-billing-header: <ignored>",
                            [](Text t) { return offsetsOf(t, {"x-anthropic-billing-header:"}); }));
    for (Api api : {Api::OpenAIChat, Api::OpenAIResponses}) {
        const std::string prefix = std::string(fw::apiName(api)) + " ";
        r.push_back(ignoreRule(prefix + "metadata", api, "metadata"));
        r.push_back(ignoreRule(prefix + "user", api, "user"));
        r.push_back(ignoreRule(prefix + "safety_identifier", api, "safety_identifier"));
        r.push_back(ignoreRule(prefix + "prompt_cache_key", api, "prompt_cache_key"));
    }
    r.push_back(ignoreRule("openai-responses item ids", Api::OpenAIResponses, "input.*.id"));

    // Ids, times and paths a harness writes into its system prompt. Timestamps before
    // dates, so that a timestamp becomes one placeholder, not a date and a remainder.
    r.push_back(replaceRule("uuids in the system prompt", every, RequestPart::System,
                            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                            "[0-9a-fA-F]{12}",
                            "<uuid>", uuidStarts));
    r.push_back(replaceRule("iso timestamps in the system prompt", every, RequestPart::System,
                            "\\b\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?"
                            "(Z|[+-]\\d{2}:?\\d{2})?",
                            "<timestamp>", isoDateStarts));
    r.push_back(replaceRule("iso dates in the system prompt", every, RequestPart::System,
                            "\\b\\d{4}-\\d{2}-\\d{2}\\b", "<date>", isoDateStarts));
    r.push_back(replaceRule(
        "written-out dates in the system prompt", every, RequestPart::System,
        std::string("\\b((Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),? )?") +
            kMonths + " \\d{1,2}(st|nd|rd|th)?,? \\d{4}\\b",
        "<date>", [](Text t) {
            return offsetsOf(t, {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                 "Sunday", "January", "February", "March", "April", "May", "June",
                                 "July", "August", "September", "October", "November", "December"});
        }));
    // The match starts at the character before the path (or at the start of the text), so
    // that "/home/me/tmp/x" is not taken for a temporary directory.
    r.push_back(
        replaceRule("temporary directories in the system prompt", every, RequestPart::System,
                    "(^|[\\s\"'`(=:])(/private)?(/tmp|/var/tmp|/var/folders/[^/\\s]+/"
                    "[^/\\s]+/T)/[^/\\s\"'`]+",
                    "$1<tmpdir>", [](Text t) {
                        std::vector<size_t> starts =
                            offsetsOf(t, {"/tmp/", "/var/tmp/", "/var/folders/", "/private/"}, 1);
                        starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
                        return starts;
                    }));
    // Claude Code names its memory directory after the working directory with every "/"
    // made "-" (/root/.claude/projects/-tmp-work-AbC123/memory/): a temporary directory
    // the path rule above cannot see as one.
    r.push_back(replaceRule("claude code project directory in the system prompt", every, RequestPart::System,
                            "/\\.claude/projects/[^/\\s\"'`]+/", "/.claude/projects/<project>/",
                            [](Text t) { return offsetsOf(t, {"/.claude/projects/"}); }));
    // Claude Code tells the model the date in a reminder inside the first user message.
    r.push_back(replaceRule("the date in a harness reminder", every,
                            RequestPart::MessagesWithoutToolOutputs,
                            "Today's date is \\d{4}-\\d{2}-\\d{2}", "Today's date is <date>",
                            [](Text t) { return offsetsOf(t, {"Today's date is "}); }));
    return rules;
}

namespace {

// ---------------------------------------------------------------------------------------
// Rules files

Error lineError(const std::string &where, const std::string &what)
{
    return Error{ErrorCode::Parse, where + ": " + what};
}

constexpr const char *kRuleShape =
    "expected one rule per line: {\"ignore\": \"PATH\"} or {\"pattern\": \"REGEX\", \"replace\": "
    "\"TEXT\", \"part\": \"PART\"}, each optionally with \"api\" and \"name\"";

formats::Result<MatchRule> parseRule(const std::string &where, const std::string &line)
{
    json object = json::parse(line, nullptr, false);
    if (object.is_discarded())
        return lineError(where, "not valid JSON; " + std::string(kRuleShape));
    if (!object.is_object())
        return lineError(where, "not a JSON object; " + std::string(kRuleShape));

    for (auto &[key, value] : object.items()) {
        static const char *const kKnown[] = {"name", "api", "ignore", "pattern", "replace", "part"};
        if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
            return lineError(where, "unknown member \"" + key +
                                        "\"; expected name, api, ignore, pattern, replace, part");
        if (!value.is_string())
            return lineError(where, "\"" + key + "\" must be a string, not " + value.type_name());
    }
    auto text = [&](const char *key) { return stringMember(object, key); };
    const bool hasIgnore = object.contains("ignore");
    const bool hasPattern = object.contains("pattern");

    MatchRule rule;
    rule.origin = where;
    if (object.contains("api")) {
        rule.api = fw::apiFromName(text("api"));
        if (!rule.api)
            return lineError(where, "unknown api \"" + text("api") +
                                        "\"; expected openai-chat, openai-responses, "
                                        "anthropic-messages or gemini (or no \"api\" for all)");
    }
    if (hasIgnore == hasPattern)
        return lineError(where, hasIgnore ? "a rule has \"ignore\" or \"pattern\", not both"
                                          : "missing \"ignore\" or \"pattern\"; " +
                                                std::string(kRuleShape));
    if (hasIgnore) {
        rule.ignorePath = text("ignore");
        for (const std::string &name : splitPath(rule.ignorePath))
            if (name.empty())
                return lineError(where, "ignore path \"" + rule.ignorePath +
                                            "\" has an empty member name; expected names "
                                            "separated by dots, such as \"metadata.user_id\"");
        if (object.contains("replace") || object.contains("part"))
            return lineError(where, "\"replace\" and \"part\" go with \"pattern\", not with "
                                    "\"ignore\" (an ignore path starts at the body's top)");
        rule.name = object.contains("name") ? text("name") : "ignore " + rule.ignorePath;
        return rule;
    }
    rule.patternText = text("pattern");
    if (!object.contains("replace"))
        return lineError(where, "missing \"replace\": what matches of \"" + rule.patternText +
                                    "\" become");
    rule.replacement = text("replace");
    try {
        rule.pattern.emplace(rule.patternText, std::regex::ECMAScript);
    } catch (const std::regex_error &e) {
        return lineError(where,
                         "pattern \"" + rule.patternText +
                             "\" is not a valid regular expression (ECMAScript): " + e.what());
    }
    if (object.contains("part")) {
        auto part = requestPartFromName(text("part"));
        if (!part)
            return lineError(where, "unknown part \"" + text("part") +
                                        "\"; expected everything, system, messages, "
                                        "messages_without_tool_outputs, tool_outputs or tools");
        rule.part = *part;
    }
    if (const std::string prefix = literalPrefix(rule.patternText); !prefix.empty())
        rule.matchStarts = [prefix](std::string_view t) { return offsetsOf(t, {prefix}); };
    rule.name = object.contains("name") ? text("name") : "pattern " + rule.patternText;
    return rule;
}

} // namespace

formats::Result<MatchRules> MatchRules::builtInPlus(const std::string &rulesFile)
{
    std::ifstream in(rulesFile);
    if (!in)
        return Error{ErrorCode::Io, rulesFile + ": cannot be read: " + std::strerror(errno)};
    MatchRules rules = builtIn();
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') // blank lines and comments
            continue;
        formats::Result<MatchRule> rule = parseRule(rulesFile + ":" + std::to_string(number), line);
        if (!rule)
            return rule.error();
        rules.m_rules.push_back(std::move(*rule));
    }
    if (in.bad())
        return Error{ErrorCode::Io, rulesFile + ": read failed: " + std::strerror(errno)};
    return rules;
}

nlohmann::json MatchRules::normalise(fw::Api api, nlohmann::json body) const
{
    for (const MatchRule &rule : m_rules) {
        if (rule.api && *rule.api != api)
            continue;
        if (!rule.ignorePath.empty()) {
            eraseAt(body, splitPath(rule.ignorePath), 0);
        } else if (rule.pattern) {
            visitPart(api, body, rule.part, [&](json &value) { replaceStrings(value, rule); });
        }
    }
    renameCallIds(api, body);
    return body;
}

} // namespace tapedeck::replayer
