// What differs inside an aligned pair: both steps decoded, their parts compared one by one
// and each differing part shown as readable text with a unified diff.
#include <tapedeck/analysis/diff.h>

#include <tapedeck/replayer/textdiff.h>

#include <algorithm>

namespace tapedeck::analysis {

using formats::StepKind;
using nlohmann::json;

namespace {

// Past this many differing messages, one more field says how many others differ.
constexpr size_t kMaxMessagesListed = 8;

std::string readable(const json &value)
{
    if (value.is_null())
        return {};
    if (value.is_string())
        return value.get<std::string>();
    return value.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string readableMessage(const json &message)
{
    if (message.is_object() && message.contains("content") && message["content"].is_string() && message.size() == 2 &&
        message.contains("role"))
        return message["content"].get<std::string>();
    return readable(message);
}

std::string roleOf(const json &message)
{
    if (message.is_object() && message.contains("role") && message["role"].is_string())
        return message["role"].get<std::string>();
    return "?";
}

class Differences {
public:
    void add(std::string field, std::string a, std::string b)
    {
        if (a == b)
            return;
        FieldDifference d{std::move(field), std::move(a), std::move(b), {}};
        d.diff = replayer::unifiedDiff(d.a, d.b);
        m_list.push_back(std::move(d));
    }
    void addJson(std::string field, const json &a, const json &b)
    {
        if (a != b)
            add(std::move(field), readable(a), readable(b));
    }
    // Two objects key by key ("request: tools", ...), or whole when either is not one.
    void addObject(const std::string &prefix, const json &a, const json &b)
    {
        if (!a.is_object() || !b.is_object()) {
            addJson(prefix, a, b);
            return;
        }
        std::vector<std::string> keys;
        for (const auto &[key, _] : a.items())
            keys.push_back(key);
        for (const auto &[key, _] : b.items())
            if (!a.contains(key))
                keys.push_back(key);
        for (const std::string &key : keys)
            addJson(prefix + ": " + key, a.value(key, json()), b.value(key, json()));
    }
    // The messages between the common prefix and the common suffix, paired by position:
    // an edited message shows as one difference, appended ones as differences absent in A.
    void addMessages(const std::vector<json> &a, const std::vector<json> &b)
    {
        size_t prefix = 0;
        while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix])
            ++prefix;
        size_t suffix = 0;
        while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
               a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
            ++suffix;
        const size_t middle = std::max(a.size(), b.size()) - prefix - suffix;
        size_t listed = 0;
        for (size_t k = prefix; k < prefix + middle; ++k) {
            const bool inA = k < a.size() - suffix, inB = k < b.size() - suffix;
            if (listed == kMaxMessagesListed) {
                add("messages", std::to_string(a.size()) + " messages",
                    std::to_string(b.size()) + " messages, " + std::to_string(middle - listed) +
                        " more differing from message " + std::to_string(k + 1) + " on");
                return;
            }
            const json &message = inB ? b[k] : a[k];
            add("message " + std::to_string(k + 1) + " (" + roleOf(message) + ")", inA ? readableMessage(a[k]) : "",
                inB ? readableMessage(b[k]) : "");
            ++listed;
        }
    }
    std::vector<FieldDifference> take() { return std::move(m_list); }

private:
    std::vector<FieldDifference> m_list;
};

} // namespace

formats::Result<std::vector<FieldDifference>> compareSteps(const formats::TapeReader &readerA, formats::StepIndex a,
                                                           const formats::TapeReader &readerB, formats::StepIndex b)
{
    auto stepA = readerA.step(a);
    if (!stepA)
        return stepA.error();
    auto stepB = readerB.step(b);
    if (!stepB)
        return stepB.error();
    const formats::Step &sa = *stepA, &sb = *stepB;

    Differences out;
    if (sa.kind != sb.kind)
        out.add("kind", formats::stepKindName(sa.kind), formats::stepKindName(sb.kind));
    out.add("status", formats::stepStatusName(sa.status), formats::stepStatusName(sb.status));
    const bool modelCall = sa.kind == StepKind::ModelCall && sb.kind == StepKind::ModelCall;
    out.add(modelCall ? "model" : "name", sa.name, sb.name);

    if (modelCall) {
        // What the model answered first: the messages after a fork differ in every request.
        out.addJson("response", sa.payload, sb.payload);
        out.addObject("request", sa.requestParams, sb.requestParams);
        out.addMessages(sa.requestMessages, sb.requestMessages);
    } else if (sa.kind == StepKind::ToolCall) {
        out.addJson("tool arguments", sa.payload, sb.payload);
    } else if (sa.kind == StepKind::ToolResult && sa.payload.is_object() && sb.payload.is_object()) {
        // {"output": ..., "is_error": bool}: the output by itself, anything else by key.
        out.addJson("tool output", sa.payload.value("output", json()), sb.payload.value("output", json()));
        json restA = sa.payload, restB = sb.payload;
        restA.erase("output");
        restB.erase("output");
        out.addObject("tool result", restA, restB);
    } else {
        out.addJson("payload", sa.payload, sb.payload);
    }
    return out.take();
}

} // namespace tapedeck::analysis
