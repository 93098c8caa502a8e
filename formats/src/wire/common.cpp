#include "common.h"

#include "../jsonhash.h"

#include <cstdio>

namespace tapedeck::formats::wire::detail {

void appendBlock(std::string &text, std::string_view block) {
    if (block.empty())
        return;
    if (!text.empty())
        text.append("\n\n");
    text.append(block);
}

nlohmann::json argumentsFromText(const std::string &text) {
    if (text.empty())
        return nlohmann::json::object();
    nlohmann::json parsed = parseJsonText(text);
    if (parsed.is_object())
        return parsed;
    return text;
}

std::string argumentsToText(const nlohmann::json &arguments) {
    if (arguments.is_string())
        return arguments.get<std::string>();
    return dumpJson(arguments);
}

nlohmann::json argumentsFromJson(const nlohmann::json &arguments) {
    if (arguments.is_null())
        return nlohmann::json::object();
    if (arguments.is_object() || arguments.is_string())
        return arguments;
    return dumpJson(arguments);
}

std::string dumpJson(const nlohmann::json &value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parseJsonText(std::string_view text) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_discarded() && jsonNestsDeeperThan(parsed, kMaxJsonDepth))
        return nlohmann::json(nlohmann::json::value_t::discarded);
    return parsed;
}

std::string madeUpId(std::string_view prefix, std::string_view seed) {
    // Two FNV-1a passes with different offsets: 96 bits is plenty to keep the ids of one
    // conversation apart.
    uint64_t a = 1469598103934665603ull, b = 0x84222325cbf29ce4ull;
    for (unsigned char c : seed) {
        a = (a ^ c) * 1099511628211ull;
        b = (b ^ c) * 0x100000001b3ull;
        b ^= b >> 29;
    }
    char hex[25];
    std::snprintf(hex, sizeof hex, "%016llx%08llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b & 0xffffffffull));
    std::string out(prefix);
    out.append(hex);
    return out;
}

std::string responseIdOrMadeUp(const Response &response, std::string_view prefix) {
    if (!response.id.empty())
        return response.id;
    std::string seed = response.model;
    seed.append("\n").append(response.thinking).append("\n").append(response.text);
    for (const ToolCall &call : response.toolCalls)
        seed.append("\n").append(call.id).append(call.name).append(argumentsToText(call.arguments));
    return madeUpId(prefix, seed);
}

std::vector<std::string> cutIntoDeltas(std::string_view text, size_t size) {
    std::vector<std::string> out;
    if (size == 0)
        size = 1;
    size_t start = 0;
    while (start < text.size()) {
        auto continues = [&](size_t at) {
            return at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80;
        };
        size_t end = std::min(text.size(), start + size);
        // Back off to the start of a UTF-8 sequence; when a piece is smaller than one
        // character, it takes the whole character instead.
        while (end > start && continues(end))
            --end;
        if (end == start) {
            end = std::min(text.size(), start + size);
            while (continues(end))
                ++end;
        }
        out.emplace_back(text.substr(start, end - start));
        start = end;
    }
    return out;
}

nlohmann::json parseEventData(const SseEvent &event) {
    nlohmann::json document = parseJsonText(event.data);
    if (document.is_discarded())
        throw ParseFailure("the data is not JSON");
    return document;
}

nlohmann::json schemaFromOpenAIFormat(const Field &format, bool nestedInJsonSchema) {
    const std::string &type = format.at("type").string();
    if (type == "json_schema") {
        Field holder = nestedInJsonSchema ? format.at("json_schema") : format;
        auto schema = holder.find("schema");
        return schema ? schema->json() : nlohmann::json{{"type", "object"}};
    }
    if (type == "json_object")
        return {{"type", "object"}};
    if (type == "text")
        return nullptr;
    format.at("type").fail(R"(one of "text", "json_object", "json_schema")");
}

void requireBodyObject(const nlohmann::json &body) {
    Field(body).requireObject();
    if (jsonNestsDeeperThan(body, kMaxJsonDepth))
        throw ParseFailure(std::string("(the body): nests deeper than ")
                               .append(std::to_string(kMaxJsonDepth))
                               .append(" levels"));
}

nlohmann::json membersExcept(const nlohmann::json &body,
                             std::initializer_list<std::string_view> known) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = body.begin(); it != body.end(); ++it) {
        bool isKnown = false;
        for (std::string_view k : known)
            isKnown = isKnown || it.key() == k;
        if (!isKnown)
            out[it.key()] = it.value();
    }
    return out;
}

nlohmann::json bodyFromExtra(const nlohmann::json &extra) {
    return extra.is_object() ? extra : nlohmann::json::object();
}

} // namespace tapedeck::formats::wire::detail
