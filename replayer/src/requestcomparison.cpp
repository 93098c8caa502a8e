// Two normalised requests of one API, cut into the parts a divergence report names (model,
// system prompt, tools, each message, each tool output, each parameter), compared part by
// part, each difference with a readable diff.
#include "requestcomparison.h"

#include "matchrules.h"

#include <dtl/dtl.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using nlohmann::json;
using Kind = PartDifference::Kind;

namespace {

constexpr int kMaxDiffLines = 40;
constexpr size_t kMaxLineLength = 160; // longer diff lines are cut around their change

// ---------------------------------------------------------------------------------------
// Readable text of a part

std::string dumped(const json &value)
{
    // A string a client sent is valid UTF-8, but one a rule produced may have been cut
    // anywhere; a report must still come out.
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void pad(std::string &out, int indent)
{
    out.append(static_cast<size_t>(indent), ' ');
}

// Pretty JSON, except that a string with newlines continues on the next lines, one line of
// the string per line of output: a changed line of a long prompt or tool output is then one
// line of the diff, not the whole string on a single line.
void render(const json &value, int indent, std::string &out)
{
    if (value.is_object() || value.is_array()) {
        const bool object = value.is_object();
        if (value.empty()) {
            out += object ? "{}" : "[]";
            return;
        }
        out += object ? "{\n" : "[\n";
        size_t left = value.size();
        for (auto it = value.begin(); it != value.end(); ++it) {
            pad(out, indent + 2);
            if (object)
                out += dumped(it.key()) + ": ";
            render(*it, indent + 2, out);
            out += --left ? ",\n" : "\n";
        }
        pad(out, indent);
        out += object ? "}" : "]";
        return;
    }
    if (!value.is_string()) {
        out += dumped(value);
        return;
    }
    const std::string &text = value.get_ref<const std::string &>();
    out += '"';
    size_t start = 0;
    while (true) {
        const size_t newline = text.find('\n', start);
        const std::string line = dumped(text.substr(start, newline - start));
        out.append(line, 1, line.size() - 2);
        if (newline == std::string::npos)
            break;
        out += "\\n\n";
        pad(out, indent + 2);
        start = newline + 1;
    }
    out += '"';
}

// A string part is shown as its text; anything else as (readable) JSON.
std::string readable(const json *value)
{
    if (!value)
        return {};
    if (value->is_string())
        return value->get<std::string>();
    std::string out;
    render(*value, 0, out);
    return out;
}

std::string cutLines(const std::string &text, int maxLines)
{
    size_t at = 0;
    for (int n = 0; n < maxLines; ++n) {
        at = text.find('\n', at);
        if (at == std::string::npos)
            return text;
        ++at;
    }
    return at >= text.size() ? text : text.substr(0, at) + "...\n";
}

// ---------------------------------------------------------------------------------------
// A request cut into parts

struct Part {
    Kind kind = Kind::Parameter;
    std::string where;
    int messageIndex = -1;
    const json *ref = nullptr; // the part as it is in the body, or
    json owned;                // the part assembled from several places of it
    const json &value() const { return ref ? *ref : owned; }
};

struct MessageParts {
    int index = -1;             // in the conversation array
    const json *item = nullptr; // the whole item
    std::optional<Part> rest;   // the item without its tool outputs (none: it is one)
    std::vector<Part> outputs;
};

struct SplitRequest {
    std::optional<Part> model;
    std::optional<Part> system;
    std::optional<Part> tools;
    std::vector<MessageParts> messages;
    std::map<std::string, Part> parameters;
};

std::string stringAt(const json &value, const char *name)
{
    if (!value.is_object())
        return {};
    auto it = value.find(name);
    return it != value.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string itemLabel(fw::Api api, const json &item)
{
    if (!item.is_object())
        return item.is_string() ? "user" : item.type_name();
    std::string role = stringAt(item, "role");
    if (api == fw::Api::OpenAIResponses && role.empty())
        role = stringAt(item, "type"); // function_call, reasoning, ...
    return role.empty() ? "no role" : role;
}

// Which call a tool output answers, after normalisation ("call#2"); Gemini may only name
// the function.
std::string outputLabel(fw::Api api, const json &output)
{
    std::string id;
    switch (api) {
    case fw::Api::OpenAIChat:
        id = stringAt(output, "tool_call_id");
        if (id.empty())
            id = stringAt(output, "name");
        break;
    case fw::Api::OpenAIResponses:
        id = stringAt(output, "call_id");
        break;
    case fw::Api::AnthropicMessages:
        id = stringAt(output, "tool_use_id");
        break;
    case fw::Api::Gemini:
        for (const char *member : {"functionResponse", "function_response"})
            if (auto it = output.find(member); it != output.end()) {
                id = stringAt(*it, "id");
                if (id.empty())
                    id = stringAt(*it, "name");
            }
        break;
    }
    return id.empty() ? "tool output" : "tool output of " + id;
}

MessageParts splitMessage(fw::Api api, const json &item, int index)
{
    MessageParts parts;
    parts.index = index;
    parts.item = &item;
    const std::string at = " (message " + std::to_string(index) + ")";
    auto outputPart = [&](const json &output) {
        Part p{Kind::ToolOutput, outputLabel(api, output) + at, index, &output, {}};
        parts.outputs.push_back(std::move(p));
    };
    if (isToolOutputItem(api, item)) {
        outputPart(item);
        return parts;
    }
    Part rest{Kind::Message,
              "message " + std::to_string(index) + " (" + itemLabel(api, item) + ")",
              index,
              &item,
              {}};
    const char *blocks = blockMember(api);
    auto content = blocks && item.is_object() ? item.find(blocks) : item.end();
    if (blocks && item.is_object() && content != item.end() && content->is_array() &&
        std::any_of(content->begin(), content->end(),
                    [&](const json &b) { return isToolOutputBlock(api, b); })) {
        // The message without its tool outputs, which are parts of their own.
        rest.ref = nullptr;
        rest.owned = json::object();
        for (auto it = item.begin(); it != item.end(); ++it)
            if (it.key() != blocks)
                rest.owned[it.key()] = *it;
        json &kept = rest.owned[blocks] = json::array();
        for (const json &block : *content) {
            if (isToolOutputBlock(api, block))
                outputPart(block);
            else
                kept.push_back(block);
        }
    }
    parts.rest = std::move(rest);
    return parts;
}

SplitRequest split(fw::Api api, const json &body)
{
    SplitRequest out;
    if (!body.is_object()) {
        out.parameters.emplace("", Part{Kind::Parameter, "body", -1, &body, {}});
        return out;
    }
    std::set<std::string> taken = {"model", "tools", fw::conversationMember(api)};

    if (auto it = body.find("model"); it != body.end())
        out.model = Part{Kind::Model, "model", -1, &*it, {}};
    if (auto it = body.find("tools"); it != body.end())
        out.tools = Part{Kind::Tools, "tools", -1, &*it, {}};

    // The system prompt may be in a member, in leading messages, or (Responses) in both.
    std::vector<const json *> pieces;
    for (const std::string &member : systemMembers(api)) {
        taken.insert(member);
        if (auto it = body.find(member); it != body.end())
            pieces.push_back(&*it);
    }
    static const json kNoItems = json::array();
    auto conversation = body.find(fw::conversationMember(api));
    const json &items = conversation != body.end() ? *conversation : kNoItems;
    const size_t systemItems = leadingSystemItems(api, items);
    for (size_t i = 0; i < systemItems; ++i)
        pieces.push_back(&items[i]);
    if (pieces.size() == 1) {
        out.system = Part{Kind::System, "system prompt", -1, pieces.front(), {}};
    } else if (!pieces.empty()) {
        json all = json::array();
        for (const json *piece : pieces)
            all.push_back(*piece);
        out.system = Part{Kind::System, "system prompt", -1, nullptr, std::move(all)};
    }

    if (items.is_string()) { // Responses: the input as one user text
        out.messages.push_back(splitMessage(api, items, 0));
    } else if (items.is_array()) {
        for (size_t i = systemItems; i < items.size(); ++i)
            out.messages.push_back(splitMessage(api, items[i], static_cast<int>(i)));
    }

    for (auto it = body.begin(); it != body.end(); ++it) {
        if (taken.count(it.key()))
            continue;
        // Gemini keeps temperature and the like in one object; name them one by one.
        const bool generationConfig =
            api == fw::Api::Gemini && it->is_object() &&
            (it.key() == "generationConfig" || it.key() == "generation_config");
        if (!generationConfig) {
            out.parameters.emplace(it.key(),
                                   Part{Kind::Parameter, "parameter " + it.key(), -1, &*it, {}});
            continue;
        }
        for (auto member = it->begin(); member != it->end(); ++member) {
            const std::string name = it.key() + "." + member.key();
            out.parameters.emplace(name,
                                   Part{Kind::Parameter, "parameter " + name, -1, &*member, {}});
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// The tool list, tool by tool

std::vector<std::pair<std::string, const json *>> namedTools(fw::Api api, const json &tools)
{
    std::vector<std::pair<std::string, const json *>> out;
    if (!tools.is_array())
        return out;
    for (const json &tool : tools) {
        if (api == fw::Api::Gemini && tool.is_object()) {
            for (auto it = tool.begin(); it != tool.end(); ++it) {
                const bool declarations =
                    it.key() == "functionDeclarations" || it.key() == "function_declarations";
                if (declarations && it->is_array()) {
                    for (const json &declaration : *it)
                        out.emplace_back(stringAt(declaration, "name"), &declaration);
                } else {
                    out.emplace_back(it.key(), &*it);
                }
            }
            continue;
        }
        std::string name = stringAt(tool, "name");
        if (name.empty() && tool.is_object() && tool.contains("function"))
            name = stringAt(tool["function"], "name");
        if (name.empty())
            name = stringAt(tool, "type"); // a built-in tool: web_search, code_interpreter, ...
        out.emplace_back(name, &tool);
    }
    return out;
}

const json *findTool(const std::vector<std::pair<std::string, const json *>> &tools,
                     const std::string &name)
{
    for (const auto &[n, tool] : tools)
        if (n == name)
            return tool;
    return nullptr;
}

// Names the tools that were removed, added and changed, then shows how each changed one
// changed.
std::string toolsDiff(fw::Api api, const json &recorded, const json &incoming)
{
    const auto before = namedTools(api, recorded);
    const auto after = namedTools(api, incoming);
    std::string summary;
    std::string details;
    for (const auto &[name, tool] : before)
        if (!findTool(after, name))
            summary += "tool " + name + ": removed\n";
    for (const auto &[name, tool] : after) {
        const json *old = findTool(before, name);
        if (!old) {
            summary += "tool " + name + ": added\n";
        } else if (*old != *tool) {
            summary += "tool " + name + ": changed\n";
            details += "tool " + name + ":\n" + unifiedDiff(readable(old), readable(tool));
        }
    }
    if (summary.empty()) // same tools by name: moved, or a change to an unnamed one
        return "the tools by name are the same; their list differs:\n" +
               unifiedDiff(readable(&recorded), readable(&incoming));
    return summary + details;
}

// ---------------------------------------------------------------------------------------

class Comparer {
public:
    explicit Comparer(fw::Api api) : m_api(api) {}

    // One part that is on at least one side.
    void compare(const Part *recorded, const Part *incoming)
    {
        ++m_compared;
        if (recorded && incoming && recorded->value() == incoming->value()) {
            ++m_equal;
            return;
        }
        const Part &named = incoming ? *incoming : *recorded;
        PartDifference d;
        d.kind = named.kind;
        d.where = named.where;
        d.messageIndex = named.messageIndex;
        d.recorded = recorded ? readable(&recorded->value()) : std::string();
        d.incoming = incoming ? readable(&incoming->value()) : std::string();
        if (d.kind == Kind::Tools && recorded && incoming)
            d.diff = toolsDiff(m_api, recorded->value(), incoming->value());
        else
            d.diff = unifiedDiff(d.recorded, d.incoming);
        d.diff = cutLines(d.diff, kMaxDiffLines);
        m_result.differences.push_back(std::move(d));
    }

    template <typename T>
    void compare(const std::optional<T> &recorded, const std::optional<T> &incoming)
    {
        if (recorded || incoming)
            compare(recorded ? &*recorded : nullptr, incoming ? &*incoming : nullptr);
    }

    void compareMessages(const std::vector<MessageParts> &recorded,
                         const std::vector<MessageParts> &incoming)
    {
        if (recorded.size() != incoming.size()) {
            Part before{Kind::MessageCount, "message count", -1, nullptr, json(recorded.size())};
            Part after{Kind::MessageCount, "message count", -1, nullptr, json(incoming.size())};
            compare(&before, &after);
        }
        const size_t common = std::min(recorded.size(), incoming.size());
        for (size_t i = 0; i < common; ++i) {
            const MessageParts &r = recorded[i];
            const MessageParts &n = incoming[i];
            compare(r.rest, n.rest);
            const size_t outputs = std::max(r.outputs.size(), n.outputs.size());
            for (size_t j = 0; j < outputs; ++j)
                compare(j < r.outputs.size() ? &r.outputs[j] : nullptr,
                        j < n.outputs.size() ? &n.outputs[j] : nullptr);
        }
        // A message only one side has is shown whole, as a message.
        for (size_t i = common; i < std::max(recorded.size(), incoming.size()); ++i) {
            const bool recordedHasIt = i < recorded.size();
            const MessageParts &m = recordedHasIt ? recorded[i] : incoming[i];
            Part whole{Kind::Message,
                       "message " + std::to_string(m.index) + " (" + itemLabel(m_api, *m.item) +
                           ")",
                       m.index,
                       m.item,
                       {}};
            compare(recordedHasIt ? &whole : nullptr, recordedHasIt ? nullptr : &whole);
        }
    }

    void compareParameters(const std::map<std::string, Part> &recorded,
                           const std::map<std::string, Part> &incoming)
    {
        std::set<std::string> names;
        for (const auto &[name, part] : recorded)
            names.insert(name);
        for (const auto &[name, part] : incoming)
            names.insert(name);
        for (const std::string &name : names) {
            auto r = recorded.find(name);
            auto n = incoming.find(name);
            compare(r != recorded.end() ? &r->second : nullptr,
                    n != incoming.end() ? &n->second : nullptr);
        }
    }

    RequestComparison result()
    {
        m_result.similarity = m_compared ? double(m_equal) / double(m_compared) : 1.0;
        return std::move(m_result);
    }

private:
    fw::Api m_api;
    RequestComparison m_result;
    int m_compared = 0;
    int m_equal = 0;
};

// ---------------------------------------------------------------------------------------
// Unified diff

std::vector<std::string> splitLines(const std::string &text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        const size_t newline = text.find('\n', start);
        if (newline == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, newline - start));
        start = newline + 1;
    }
    return lines;
}

// Back to the start of a UTF-8 sequence, so that a cut line stays valid text.
size_t utf8Boundary(const std::string &s, size_t at)
{
    while (at > 0 && at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80)
        --at;
    return at;
}

// A line of at most kMaxLineLength bytes around `column`, "..." where it was cut.
std::string shortened(const std::string &line, size_t column)
{
    if (line.size() <= kMaxLineLength)
        return line;
    const size_t lead = kMaxLineLength / 3;
    size_t start = utf8Boundary(line, column > lead ? column - lead : 0);
    size_t end = utf8Boundary(line, std::min(line.size(), start + kMaxLineLength));
    return (start > 0 ? "..." : "") + line.substr(start, end - start) +
           (end < line.size() ? "..." : "");
}

size_t firstDifference(const std::string &a, const std::string &b)
{
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

struct Edit {
    char op; // ' ', '-', '+'
    const std::string *line;
};

} // namespace

bool RequestComparison::onlyToolOutputs() const
{
    return !differences.empty() &&
           std::all_of(differences.begin(), differences.end(),
                       [](const PartDifference &d) { return d.kind == Kind::ToolOutput; });
}

RequestComparison compareRequests(fw::Api api, const json &recorded, const json &incoming)
{
    const SplitRequest before = split(api, recorded);
    const SplitRequest after = split(api, incoming);
    Comparer comparer(api);
    comparer.compare(before.model, after.model);
    comparer.compare(before.system, after.system);
    comparer.compare(before.tools, after.tools);
    comparer.compareMessages(before.messages, after.messages);
    comparer.compareParameters(before.parameters, after.parameters);
    return comparer.result();
}

std::string unifiedDiff(const std::string &recorded, const std::string &incoming, int context)
{
    const std::vector<std::string> a = splitLines(recorded);
    const std::vector<std::string> b = splitLines(incoming);
    dtl::Diff<std::string, std::vector<std::string>> diff(a, b, true); // deletions first
    diff.compose();

    // getSes() returns a copy; `edits` points into this one.
    const auto script = diff.getSes().getSequence();
    std::vector<Edit> edits;
    edits.reserve(script.size());
    for (const auto &[line, info] : script)
        edits.push_back({info.type == dtl::SES_ADD      ? '+'
                         : info.type == dtl::SES_DELETE ? '-'
                                                        : ' ',
                         &line});

    std::string out;
    const size_t n = edits.size();
    const size_t ctx = static_cast<size_t>(std::max(0, context));
    size_t oldLine = 1, newLine = 1; // line numbers at edits[i]
    size_t i = 0;
    while (i < n) {
        size_t change = i;
        while (change < n && edits[change].op == ' ')
            ++change;
        if (change == n)
            break;
        // The hunk runs from `context` lines before its first change to `context` lines after
        // its last, changes closer than two contexts apart sharing one hunk.
        const size_t start = change > i + ctx ? change - ctx : i;
        size_t end = change;
        for (size_t k = change; k < n; ++k) {
            if (edits[k].op != ' ')
                end = k;
            else if (k - end > 2 * ctx)
                break;
        }
        const size_t stop = std::min(n, end + ctx + 1);
        for (size_t k = i; k < start; ++k)
            ++oldLine, ++newLine;
        size_t oldCount = 0, newCount = 0;
        for (size_t k = start; k < stop; ++k) {
            oldCount += edits[k].op != '+';
            newCount += edits[k].op != '-';
        }
        out += "@@ -" + std::to_string(oldCount ? oldLine : oldLine - 1) + "," +
               std::to_string(oldCount) + " +" + std::to_string(newCount ? newLine : newLine - 1) +
               "," + std::to_string(newCount) + " @@\n";
        for (size_t k = start; k < stop;) {
            if (edits[k].op == ' ') {
                out += ' ' + shortened(*edits[k].line, 0) + '\n';
                ++k;
                continue;
            }
            // A run of changed lines: the removed ones, then the added ones, the k-th removed
            // line cut around where it differs from the k-th added one and vice versa.
            std::vector<const std::string *> removed, added;
            for (; k < stop && edits[k].op != ' '; ++k)
                (edits[k].op == '-' ? removed : added).push_back(edits[k].line);
            auto emit = [&out](char sign, const std::vector<const std::string *> &lines,
                               const std::vector<const std::string *> &others) {
                for (size_t r = 0; r < lines.size(); ++r) {
                    const size_t column =
                        r < others.size() ? firstDifference(*lines[r], *others[r]) : 0;
                    out += sign + shortened(*lines[r], column) + '\n';
                }
            };
            emit('-', removed, added);
            emit('+', added, removed);
        }
        for (size_t k = start; k < stop; ++k) {
            oldLine += edits[k].op != '+';
            newLine += edits[k].op != '-';
        }
        i = stop;
    }
    return out;
}

} // namespace tapedeck::replayer
