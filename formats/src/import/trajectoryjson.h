// What the SWE-agent, mini-swe-agent and OpenHands importers share: reading a trajectory
// that is one JSON object even when the file is cut short, finding keys in the head for
// detection, and the usage and times their LiteLLM-based model clients write.
#pragma once

#include "importsource.h"
#include "importtime.h"
#include "lenientjson.h"

#include "tapedeck/formats/tape.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace tapedeck::formats::import {

// A JSON object document read member by member. A damaged or truncated file still gives
// every top-level member that was complete before the damage and, of the array it was in
// the middle of, every complete element: a trajectory cut mid-step keeps its earlier steps.
struct SalvagedObject {
    nlohmann::json value = nlohmann::json::object();
    std::string problem; // empty when the whole document was read; else where it broke
};

namespace detail {
struct NotAnObject {};
} // namespace detail

// An Error only when the input is not a JSON object at all.
inline Result<SalvagedObject> readObjectSalvaging(ImportSource &source)
{
    using nlohmann::json;
    using Event = json::parse_event_t;
    const std::string text(std::istreambuf_iterator<char>(source.stream()), {});
    source.progressAt(int64_t(text.size()));
    SalvagedObject out;
    std::string key;      // the top-level member being read
    bool inArray = false; // ... and whether it is an array
    // Each complete member (and each complete element of a member that is an array) is
    // moved out as soon as it is parsed and dropped from the tree being built, so what
    // was read survives a parse error further on; memory holds the document once.
    auto keepAside = [&](int depth, Event event, json &parsed) -> bool {
        if (depth == 0) {
            if (event == Event::array_start || event == Event::value)
                throw detail::NotAnObject{};
            return true;
        }
        const bool complete =
            event == Event::object_end || event == Event::array_end || event == Event::value;
        if (depth == 1) {
            if (event == Event::key) {
                key = parsed.get<std::string>();
                return true;
            }
            if (event == Event::array_start || event == Event::object_start) {
                inArray = event == Event::array_start;
                if (inArray)
                    out.value[key] = json::array();
                return true;
            }
            if (complete && !(event == Event::array_end && inArray))
                out.value[key] = std::move(parsed);
            inArray = false;
            return false;
        }
        if (depth == 2 && inArray && complete) {
            out.value[key].push_back(std::move(parsed));
            return false;
        }
        return true;
    };
    try {
        json emptied = json::parse(text, keepAside);
        (void)emptied;
    } catch (const detail::NotAnObject &) {
        return source.parseError(0, "expected a JSON object at the top level");
    } catch (const json::parse_error &e) {
        const size_t at = e.byte > 0 ? e.byte - 1 : 0;
        out.problem = "not valid JSON at " + lineAndColumn(text, at) +
                      " (the file is cut short or damaged; what came before it was read)";
        if (out.value.empty())
            return source.parseError(0, out.problem.substr(0, out.problem.find(" (")) +
                                            ": nothing before it could be read");
    } catch (const std::exception &e) {
        return source.parseError(0, e.what());
    }
    return out;
}

// Where the value of `key` starts in `head` when `key` occurs there as a member name (not
// inside a string, where its quotes would be escaped), looking from `from` on; npos when
// it does not.
inline size_t findJsonKey(std::string_view head, std::string_view key, size_t from = 0)
{
    const std::string quoted = "\"" + std::string(key) + "\"";
    for (size_t at = head.find(quoted, from); at != std::string_view::npos;
         at = head.find(quoted, at + 1)) {
        if (at > 0 && head[at - 1] == '\\')
            continue;
        size_t next = head.find_first_not_of(" \t\r\n", at + quoted.size());
        if (next == std::string_view::npos || head[next] != ':')
            continue;
        next = head.find_first_not_of(" \t\r\n", next + 1);
        return next == std::string_view::npos ? head.size() : next;
    }
    return std::string_view::npos;
}

inline bool hasJsonKey(std::string_view head, std::string_view key)
{
    return findJsonKey(head, key) != std::string_view::npos;
}

// Token counts of a Chat Completions usage object as LiteLLM fills it (OpenAI's
// prompt_tokens_details.cached_tokens, Anthropic's cache_read/cache_creation_input_tokens
// beside them), in the tape's terms: input tokens exclude cache reads and writes.
inline Usage chatCompletionUsage(const nlohmann::json &usage)
{
    Usage out;
    const int64_t prompt = integerMember(usage, "prompt_tokens");
    if (const nlohmann::json *details = member(usage, "prompt_tokens_details"))
        out.cacheReadTokens = integerMember(*details, "cached_tokens");
    if (out.cacheReadTokens == 0)
        out.cacheReadTokens = integerMember(usage, "cache_read_input_tokens");
    out.cacheWriteTokens = integerMember(usage, "cache_creation_input_tokens");
    out.inputTokens = std::max<int64_t>(0, prompt - out.cacheReadTokens - out.cacheWriteTokens);
    out.outputTokens = integerMember(usage, "completion_tokens");
    return out;
}

// A time given as seconds since the epoch, also when written as a string of digits (as
// mini-swe-agent does for its observations), or as an ISO 8601 string; 0 when unknown.
inline int64_t epochTime(const nlohmann::json *value)
{
    if (value && value->is_string()) {
        const std::string &text = value->get_ref<const std::string &>();
        double seconds = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec == std::errc() && end == text.data() + text.size()) {
            if (!std::isfinite(seconds) || seconds <= 0)
                return 0;
            const nlohmann::json number(seconds);
            return timeFromJson(&number);
        }
    }
    return timeFromJson(value);
}

} // namespace tapedeck::formats::import
