#include "conversationrenderer.h"

#include "displayformat.h"

#include <tapedeck/formats/wire.h>

#include <QLocale>
#include <QStringList>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string_view>

namespace tapedeck::gui {

namespace fw = formats::wire;
using formats::Step;
using formats::StepKind;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------
// Text and bytes

// The length of the valid UTF-8 sequence starting at `i` (whose byte is not ASCII), or 0
// when none starts there: no overlong forms, no surrogates, nothing past U+10FFFF.
size_t utf8SequenceAt(std::string_view s, size_t i)
{
    const auto byte = [&](size_t at) { return static_cast<unsigned char>(s[at]); };
    const unsigned char c = byte(i);
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0)
            low = 0xA0;
        else if (c == 0xED)
            high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0)
            low = 0x90;
        else if (c == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (i + length > s.size() || byte(i + 1) < low || byte(i + 1) > high)
        return 0;
    for (size_t k = 2; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
    }
    return length;
}

QString byteMarker(unsigned char c)
{
    return QStringLiteral("<span class=\"bad\">\\x%1</span>")
        .arg(QString::number(c, 16).toUpper().rightJustified(2, QLatin1Char('0')));
}

// Appends `bytes` HTML-escaped. Valid UTF-8 goes through as text; a byte that starts no
// valid sequence, and a control character other than tab and line feed (a CR before an LF
// is dropped), becomes a marked \xNN, so no byte can break the document or vanish
// unseen. Returns how many bytes were not UTF-8.
qsizetype appendEscaped(QString &out, std::string_view bytes)
{
    qsizetype invalid = 0;
    size_t runStart = 0;
    const auto flush = [&](size_t end) {
        if (end > runStart)
            out += QString::fromUtf8(bytes.data() + runStart, qsizetype(end - runStart));
    };
    size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x80) {
            if (const size_t length = utf8SequenceAt(bytes, i)) {
                i += length;
                continue;
            }
            ++invalid;
        } else if (c != '&' && c != '<' && c != '>' && (c >= 0x20 || c == '\n' || c == '\t') &&
                   c != 0x7F) {
            ++i;
            continue;
        }
        flush(i);
        switch (c) {
        case '&':
            out += QLatin1String("&amp;");
            break;
        case '<':
            out += QLatin1String("&lt;");
            break;
        case '>':
            out += QLatin1String("&gt;");
            break;
        case '\r':
            if (i + 1 < bytes.size() && bytes[i + 1] == '\n')
                break;
            out += byteMarker(c);
            break;
        default:
            out += byteMarker(c);
            break;
        }
        ++i;
        runStart = i;
    }
    flush(bytes.size());
    return invalid;
}

QString escaped(std::string_view bytes)
{
    QString out;
    appendEscaped(out, bytes);
    return out;
}

// The longest prefix of `s` of at most `limit` bytes that does not end inside a UTF-8
// sequence.
std::string_view cutUtf8(std::string_view s, qsizetype limit)
{
    if (qsizetype(s.size()) <= limit)
        return s;
    size_t end = size_t(std::max<qsizetype>(limit, 0));
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        --end;
    return s.substr(0, end);
}

QString number(int64_t n)
{
    return QLocale(QLocale::English).toString(qlonglong(n));
}

// JSON as text that never throws: invalid UTF-8 in a string is replaced.
std::string dumpJson(const json &value, int indent)
{
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string stringMember(const json &object, const char *key)
{
    if (!object.is_object())
        return {};
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json *member(const json &object, const char *key)
{
    if (!object.is_object())
        return nullptr;
    auto it = object.find(key);
    return it != object.end() ? &*it : nullptr;
}

// A short, one-line form of a value for tables: scalars as JSON, small objects compact,
// anything long as its kind and size.
QString shortJson(const json &value)
{
    if (value.is_string()) {
        const std::string &s = value.get_ref<const std::string &>();
        if (s.size() <= 120 && s.find('\n') == std::string::npos)
            return escaped(s);
        return QStringLiteral("text, %1").arg(formatBytes(int64_t(s.size())));
    }
    std::string text = dumpJson(value, -1);
    if (text.size() <= 120)
        return escaped(text);
    return QStringLiteral("%1, %2").arg(value.is_array()
                                            ? QStringLiteral("[%1 item%2]")
                                                  .arg(value.size())
                                                  .arg(QLatin1String(value.size() == 1 ? "" : "s"))
                                            : QStringLiteral("{%1 member%2}")
                                                  .arg(value.size())
                                                  .arg(QLatin1String(value.size() == 1 ? "" : "s")),
                                        formatBytes(int64_t(text.size())));
}

// "call-" followed by the id's letters and digits (anything else as '_'): an anchor name
// that survives any id an API makes up.
QString anchorFor(const char *prefix, const std::string &id)
{
    QString out = QLatin1String(prefix);
    for (char c : id) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_';
        out += plain ? QLatin1Char(c) : QLatin1Char('_');
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// The document being written

const char *const kStyleSheet = R"(
body { font-family: sans-serif; font-size: 10pt; color: #1f2328; }
h2 { font-size: 12pt; margin-top: 4px; margin-bottom: 4px; }
h3 { font-size: 10pt; margin-top: 12px; margin-bottom: 3px; color: #424a53; }
p { margin-top: 0px; margin-bottom: 6px; white-space: pre-wrap; }
pre { font-family: monospace; font-size: 9pt; background-color: #f6f8fa; white-space: pre-wrap;
      margin-top: 2px; margin-bottom: 6px; }
pre.thinking { font-family: sans-serif; font-size: 9pt; font-style: italic; color: #6e7781;
               background-color: #f3f3f3; }
td { vertical-align: top; }
td.key { color: #57606a; padding-right: 12px; }
.dim { color: #6e7781; }
.note { color: #9a6700; font-style: italic; }
.err { color: #cf222e; font-weight: bold; }
.bad { color: #cf222e; background-color: #ffebe9; }
.role { font-weight: bold; }
.mono { font-family: monospace; }
.placeholder { color: #6e7781; background-color: #eaeef2; }
)";

QString page(const QString &body)
{
    return QStringLiteral("<html><head><style>%1</style></head><body>%2</body></html>")
        .arg(QLatin1String(kStyleSheet), body);
}

// The HTML of one section as it is written, within its budget. Once the budget is used up
// the renderers stop adding pieces (they ask full()), text handed in anyway is counted as
// left out, and take() ends the section with a note saying how much.
class Html {
public:
    explicit Html(qsizetype budget, bool firstPart = false)
        : m_budget(budget), m_firstPart(firstPart)
    {
    }
    // A whole section.
    explicit Html(const RenderLimits &limits) : Html(limits.sectionBytes, limits.firstPart) {}

    bool full() const { return m_out.size() >= m_budget; }
    bool firstPart() const { return m_firstPart; }
    // A block was cut by what was left of the budget before the budget was full.
    void markCut() { m_cut = true; }
    qsizetype size() const { return m_out.size(); }
    qsizetype remaining() const { return std::max<qsizetype>(0, m_budget - m_out.size()); }

    // Markup or text already escaped.
    Html &operator<<(const QString &markup)
    {
        m_out += markup;
        return *this;
    }
    Html &operator<<(const char *markup)
    {
        m_out += QLatin1String(markup);
        return *this;
    }
    // Text from the tape, escaped.
    void text(std::string_view bytes)
    {
        if (full())
            m_leftOut += qsizetype(bytes.size());
        else
            appendEscaped(m_out, bytes);
    }

    // `what` names the piece in the note ("section", "message").
    QString take(const char *what = "section")
    {
        if (m_leftOut == 0 && !full() && !m_cut)
            return std::move(m_out);
        if (m_firstPart) {
            m_out += QStringLiteral("<p class=\"note\">The rest of this %1 is on its way…</p>")
                         .arg(QLatin1String(what));
        } else {
            m_out += QStringLiteral("<p class=\"note\">This %1 was cut at %2 to keep the "
                                    "view quick%3.</p>")
                         .arg(QLatin1String(what), formatBytes(m_budget),
                              m_leftOut > 0 ? QStringLiteral(": about %1 more was left out")
                                                  .arg(formatBytes(m_leftOut))
                                            : QString());
        }
        return std::move(m_out);
    }

private:
    QString m_out;
    qsizetype m_budget;
    bool m_firstPart;
    bool m_cut = false;
    qsizetype m_leftOut = 0;
};

// After a block shown up to `shown` of its `total` bytes, with `limit` its own cap. Cut
// short of that cap, the section's budget cut it: in the first part of a page the whole
// continues it, and the section's note says so. (The margin allows for the cut backing
// off to the start of a UTF-8 character.)
void cutNote(Html &h, qsizetype shown, qsizetype total, qsizetype limit)
{
    if (total <= shown)
        return;
    if (h.firstPart() && shown < limit - 4) {
        h.markCut();
        return;
    }
    h << QStringLiteral("<p class=\"note\">… %1 more not shown (%2 in all).</p>")
             .arg(formatBytes(total - shown), formatBytes(total));
}

// A block in monospace, cut at `limit` bytes.
void monoBlock(Html &h, std::string_view text, qsizetype limit, const char *cssClass = nullptr)
{
    const std::string_view shown = cutUtf8(text, std::min(limit, h.remaining()));
    h << (cssClass ? QStringLiteral("<pre class=\"%1\">").arg(QLatin1String(cssClass))
                   : QStringLiteral("<pre>"));
    h.text(shown);
    h << "</pre>";
    cutNote(h, qsizetype(shown.size()), qsizetype(text.size()), limit);
}

void jsonBlock(Html &h, const json &value, qsizetype limit)
{
    monoBlock(h, dumpJson(value, 2), limit);
}

bool isFence(std::string_view line)
{
    const size_t first = line.find_first_not_of(" \t");
    return first != std::string_view::npos && line.substr(first, 3) == "```";
}

// Prose as paragraphs (blank lines separate them, line breaks inside are kept), with
// fenced ``` blocks in monospace; cut at `limit` bytes.
void proseBlock(Html &h, std::string_view text, qsizetype limit)
{
    const std::string_view shown = cutUtf8(text, std::min(limit, h.remaining()));
    std::string paragraph;
    std::string code;
    bool inCode = false;
    const auto flushParagraph = [&] {
        while (!paragraph.empty() && paragraph.back() == '\n')
            paragraph.pop_back();
        if (!paragraph.empty()) {
            h << "<p>";
            h.text(paragraph);
            h << "</p>";
        }
        paragraph.clear();
    };
    const auto flushCode = [&] {
        if (!code.empty() && code.back() == '\n')
            code.pop_back();
        h << "<pre>";
        h.text(code);
        h << "</pre>";
        code.clear();
    };
    size_t start = 0;
    while (start < shown.size()) {
        size_t end = shown.find('\n', start);
        if (end == std::string_view::npos)
            end = shown.size();
        const std::string_view line = shown.substr(start, end - start);
        start = end + 1;
        if (isFence(line)) {
            if (inCode) {
                flushCode();
            } else {
                flushParagraph();
            }
            inCode = !inCode;
            continue;
        }
        if (inCode) {
            code.append(line).push_back('\n');
        } else if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
            flushParagraph();
        } else {
            paragraph.append(line).push_back('\n');
        }
    }
    if (inCode)
        flushCode();
    flushParagraph();
    cutNote(h, qsizetype(shown.size()), qsizetype(text.size()), limit);
}

void keyValueRow(Html &h, const QString &key, const QString &valueHtml)
{
    h << QStringLiteral("<tr><td class=\"key\">%1</td><td>%2</td></tr>").arg(key, valueHtml);
}

// A JSON value made readable: an object's short members in a table, its long strings as
// text with their line breaks (not as escaped JSON), its other members pretty-printed.
void readableJson(Html &h, const json &value, qsizetype limit)
{
    if (!value.is_object() || value.empty()) {
        jsonBlock(h, value, limit);
        return;
    }
    const auto isShort = [](const json &v) {
        if (v.is_string())
            return v.get_ref<const std::string &>().size() <= 120 &&
                   v.get_ref<const std::string &>().find('\n') == std::string::npos;
        return !v.is_structured() || dumpJson(v, -1).size() <= 120;
    };
    bool anyShort = false;
    for (auto it = value.begin(); it != value.end(); ++it) {
        if (!isShort(*it))
            continue;
        if (!anyShort)
            h << "<table cellspacing=\"0\" cellpadding=\"1\">";
        anyShort = true;
        keyValueRow(h, escaped(it.key()), shortJson(*it));
    }
    if (anyShort)
        h << "</table>";
    for (auto it = value.begin(); it != value.end() && !h.full(); ++it) {
        if (isShort(*it))
            continue;
        h << "<h3>";
        h.text(it.key());
        h << "</h3>";
        if (it->is_string())
            monoBlock(h, it->get_ref<const std::string &>(), limit);
        else
            jsonBlock(h, *it, limit);
    }
}

// ---------------------------------------------------------------------------------------
// Requests

std::optional<fw::Api> guessApi(const Step &step)
{
    const json &params = step.requestParams;
    for (const char *key :
         {"systemInstruction", "system_instruction", "generationConfig", "generation_config"}) {
        if (member(params, key))
            return fw::Api::Gemini;
    }
    for (const char *key : {"instructions", "previous_response_id", "max_output_tokens"}) {
        if (member(params, key))
            return fw::Api::OpenAIResponses;
    }
    if (const json *system = member(params, "system"); system && system->is_array())
        return fw::Api::AnthropicMessages;
    for (const json &m : step.requestMessages) {
        if (m.is_string())
            return fw::Api::OpenAIResponses; // an input given as one string
        if (!m.is_object())
            continue;
        if (member(m, "parts"))
            return fw::Api::Gemini;
        if (member(m, "type"))
            return fw::Api::OpenAIResponses;
        if (member(m, "tool_calls") || stringMember(m, "role") == "tool")
            return fw::Api::OpenAIChat;
        const json *content = member(m, "content");
        if (!content || !content->is_array())
            continue;
        for (const json &part : *content) {
            const std::string type = stringMember(part, "type");
            if (type == "tool_use" || type == "tool_result" || type == "thinking")
                return fw::Api::AnthropicMessages;
            if (type == "input_text" || type == "output_text")
                return fw::Api::OpenAIResponses;
            if (type == "image_url")
                return fw::Api::OpenAIChat;
        }
    }
    // Plain user and assistant text reads the same in Chat Completions and Anthropic.
    return fw::Api::OpenAIChat;
}

// One message of the conversation as shown: a neutral message, the entry of
// step.requestMessages it came from, and what of that entry the neutral form has no place
// for. An entry the codec cannot read is shown as its JSON.
struct ShownMessage {
    fw::Message message;
    const json *raw = nullptr;
    bool firstOfRaw = true;
    QStringList dropped;    // "image", "document", ...: shown as placeholders
    std::string unreadable; // why the entry could not be read; empty when it could

    bool sameAs(const ShownMessage &other) const
    {
        if (unreadable.empty() != other.unreadable.empty())
            return false;
        if (!unreadable.empty())
            return *raw == *other.raw;
        return message == other.message && dropped == other.dropped;
    }
};

struct ReadRequest {
    std::optional<fw::Api> api;
    bool apiGuessed = false;
    fw::Request head;        // from the parameters alone: system, tools, sampling, extra
    std::string headProblem; // why the parameters could not be read, if they could not
    std::vector<ShownMessage> messages;
    std::map<std::string, std::string> toolNames; // call id -> tool name
    std::set<std::string> resultIds;              // call ids answered in this request
};

void dropPart(QStringList &out, const std::string &type, const json &part)
{
    QString label = type.empty() ? QStringLiteral("part") : QString::fromStdString(type);
    // Gemini's inline data names its type, Anthropic's image and document blocks their
    // source's.
    std::string mime = stringMember(part, "mimeType");
    if (mime.empty())
        mime = stringMember(part, "media_type");
    if (const json *source = member(part, "source"); mime.empty() && source)
        mime = stringMember(*source, "media_type");
    if (!mime.empty())
        label += QStringLiteral(" %1").arg(QString::fromStdString(mime));
    out << QStringLiteral("%1, %2").arg(label.toHtmlEscaped(),
                                        formatBytes(int64_t(dumpJson(part, -1).size())));
}

// The parts of a raw message the neutral form leaves out (images, files, built-in tools).
QStringList droppedParts(fw::Api api, const json &raw)
{
    QStringList out;
    const auto contentParts = [&](const json &content, std::initializer_list<const char *> kept) {
        if (!content.is_array())
            return;
        for (const json &part : content) {
            const std::string type = stringMember(part, "type");
            if (std::none_of(kept.begin(), kept.end(), [&](const char *k) { return type == k; }))
                dropPart(out, type, part);
            if (type == "tool_result") {
                if (const json *inner = member(part, "content"); inner && inner->is_array()) {
                    for (const json &block : *inner) {
                        if (stringMember(block, "type") != "text")
                            dropPart(out, stringMember(block, "type"), block);
                    }
                }
            }
        }
    };
    const json *content = member(raw, "content");
    switch (api) {
    case fw::Api::OpenAIChat:
        if (content)
            contentParts(*content, {"text"});
        break;
    case fw::Api::AnthropicMessages:
        if (content)
            contentParts(*content, {"text", "thinking", "tool_use", "tool_result"});
        break;
    case fw::Api::OpenAIResponses: {
        const std::string type = stringMember(raw, "type");
        if (!type.empty() && type != "message" && type != "function_call" &&
            type != "function_call_output" && type != "reasoning")
            dropPart(out, type, raw);
        else if (content)
            contentParts(*content, {"input_text", "output_text", "text"});
        break;
    }
    case fw::Api::Gemini:
        if (const json *parts = member(raw, "parts"); parts && parts->is_array()) {
            for (const json &part : *parts) {
                if (!part.is_object() || part.contains("text") || part.contains("functionCall") ||
                    part.contains("function_call") || part.contains("functionResponse") ||
                    part.contains("function_response"))
                    continue;
                const json *data = member(part, "inlineData");
                if (!data)
                    data = member(part, "fileData");
                dropPart(out, part.empty() ? std::string() : part.begin().key(),
                         data ? *data : part);
            }
        }
        break;
    }
    return out;
}

ReadRequest readRequest(const Step &step)
{
    ReadRequest out;
    if (step.wire)
        out.api = fw::apiForPath(step.wire->url);
    if (!out.api) {
        out.api = guessApi(step);
        out.apiGuessed = true;
    }
    const fw::Api api = *out.api;
    const char *conversation = fw::conversationMember(api);

    json params = step.requestParams.is_object() ? step.requestParams : json::object();
    params[conversation] = json::array();
    if (auto head = fw::parseRequest(api, params)) {
        out.head = std::move(*head);
    } else {
        out.headProblem = head.error().message;
        out.head.model = stringMember(step.requestParams, "model");
        out.head.extra = step.requestParams;
    }
    // A system prompt kept beside the messages in a member the API itself does not have
    // (as some recorders and the sample sessions keep Chat Completions' system message).
    if (out.head.system.empty()) {
        if (const json *system = member(out.head.extra, "system"); system && system->is_string()) {
            out.head.system = system->get<std::string>();
            out.head.extra.erase("system");
        }
    }
    if (out.head.model.empty())
        out.head.model = step.name;

    for (const json &raw : step.requestMessages) {
        json body = json::object();
        body[conversation] =
            api == fw::Api::OpenAIResponses && raw.is_string() ? raw : json::array({raw});
        auto parsed = fw::parseRequest(api, body);
        if (!parsed) {
            ShownMessage shown;
            shown.raw = &raw;
            shown.unreadable = parsed.error().message;
            out.messages.push_back(std::move(shown));
            continue;
        }
        std::vector<fw::Message> messages = std::move(parsed->messages);
        // A lone system or developer message reads as the request's system prompt.
        if (messages.empty() && !parsed->system.empty()) {
            fw::Message system;
            system.role = fw::Role::System;
            system.text = std::move(parsed->system);
            messages.push_back(std::move(system));
        }
        QStringList dropped = droppedParts(api, raw);
        if (messages.empty() && !dropped.isEmpty()) {
            fw::Message holder;
            holder.role = fw::Role::User;
            messages.push_back(std::move(holder));
        }
        for (size_t k = 0; k < messages.size(); ++k) {
            ShownMessage shown;
            shown.message = std::move(messages[k]);
            shown.raw = &raw;
            shown.firstOfRaw = k == 0;
            if (k == 0)
                shown.dropped = dropped;
            const fw::Message &m = shown.message;
            for (const fw::ToolCall &call : m.toolCalls)
                out.toolNames[call.id] = call.name;
            if (m.role == fw::Role::Tool)
                out.resultIds.insert(m.toolCallId);
            out.messages.push_back(std::move(shown));
        }
    }
    return out;
}

int64_t messageBytes(const ShownMessage &m)
{
    if (!m.unreadable.empty())
        return int64_t(dumpJson(*m.raw, -1).size());
    int64_t bytes = int64_t(m.message.text.size() + m.message.thinking.size());
    for (const fw::ToolCall &call : m.message.toolCalls)
        bytes += int64_t(call.name.size() + dumpJson(call.arguments, -1).size());
    return bytes;
}

struct RoleLook {
    const char *label;
    const char *color;      // the stripe and the role's name
    const char *background; // the message's card
};

RoleLook roleLook(const ShownMessage &m)
{
    if (!m.unreadable.empty())
        return {"unreadable", "#cf222e", "#fff5f5"};
    switch (m.message.role) {
    case fw::Role::System:
        return {"system", "#8250df", "#f8f4ff"};
    case fw::Role::User:
        return {"user", "#0969da", "#f1f7ff"};
    case fw::Role::Assistant:
        return {"assistant", "#1a7f37", "#f2fbf4"};
    case fw::Role::Tool:
        return m.message.isError ? RoleLook{"tool result", "#cf222e", "#fff5f5"}
                                 : RoleLook{"tool result", "#9a6700", "#fffaf0"};
    }
    return {"message", "#57606a", "#ffffff"};
}

// A tool call's arguments: pretty-printed JSON, except that strings of several lines (a
// file's new content, the text an edit replaces) are shown as text under their names
// rather than as one long line of \n escapes.
void argumentsBlock(Html &h, const json &arguments, qsizetype limit)
{
    if (arguments.is_string()) {
        monoBlock(h, arguments.get_ref<const std::string &>(), limit);
        return;
    }
    const auto multiLine = [](const json &v) {
        return v.is_string() && v.get_ref<const std::string &>().find('\n') != std::string::npos;
    };
    if (!arguments.is_object() || std::none_of(arguments.begin(), arguments.end(), multiLine)) {
        jsonBlock(h, arguments, limit);
        return;
    }
    json rest = json::object();
    for (auto it = arguments.begin(); it != arguments.end(); ++it) {
        if (!multiLine(*it))
            rest[it.key()] = *it;
    }
    if (!rest.empty())
        jsonBlock(h, rest, limit);
    for (auto it = arguments.begin(); it != arguments.end() && !h.full(); ++it) {
        if (!multiLine(*it))
            continue;
        h << QStringLiteral("<p class=\"dim mono\">%1:</p>").arg(escaped(it.key()));
        monoBlock(h, it->get_ref<const std::string &>(), limit);
    }
}

void toolCallBlock(Html &h, const fw::ToolCall &call, const ReadRequest *request, qsizetype limit)
{
    h << QStringLiteral("<p><a name=\"%1\"></a><b>→ %2</b>")
             .arg(anchorFor("call-", call.id), escaped(call.name));
    h << QStringLiteral(" <span class=\"dim mono\">%1</span>").arg(escaped(call.id));
    if (request && request->resultIds.count(call.id))
        h << QStringLiteral(" <a href=\"#%1\">result ↓</a>").arg(anchorFor("result-", call.id));
    h << "</p>";
    argumentsBlock(h, call.arguments, limit);
}

// A thinking block, whole or folded to the start of its first line (as `limits` say). The
// line that introduces it is a link to kToggleThinkingLink, which folds or unfolds them all.
void thinkingBlock(Html &h, std::string_view thinking, const RenderLimits &limits)
{
    const bool whole = limits.thinkingExpanded;
    h << QStringLiteral("<p class=\"dim\"><a href=\"%1\">%2 <i>thinking</i></a> · %3")
             .arg(QLatin1String(kToggleThinkingLink), whole ? QStringLiteral("▾") : QStringLiteral("▸"),
                  formatBytes(int64_t(thinking.size())));
    if (whole) {
        h << "</p>";
        monoBlock(h, thinking, limits.blockBytes, "thinking");
        return;
    }
    constexpr size_t kPreviewBytes = 160;
    std::string_view line =
        thinking.substr(std::min(thinking.size(), thinking.find_first_not_of(" \t\r\n")));
    line = line.substr(0, line.find('\n'));
    const std::string_view preview = cutUtf8(line, qsizetype(kPreviewBytes));
    h << QStringLiteral(" · <i>");
    h.text(preview);
    h << (preview.size() < thinking.size() ? QStringLiteral("…</i></p>") : QStringLiteral("</i></p>"));
}

// One message as a card: a stripe in its role's colour, the role and number, the content.
void messageCard(Html &h, const ShownMessage &m, size_t number, const ReadRequest &request,
                 const RenderLimits &limits)
{
    const qsizetype limit = limits.blockBytes;
    const RoleLook look = roleLook(m);
    const bool last = number == request.messages.size();
    h << QStringLiteral("<table width=\"100%\" cellspacing=\"0\" cellpadding=\"5\" "
                        "style=\"margin-top: 6px; background-color: %1;\"><tr>"
                        "<td width=\"4\" style=\"background-color: %2;\"></td><td>")
             .arg(QLatin1String(look.background), QLatin1String(look.color));
    h << QStringLiteral("<p>%1<span class=\"role\" style=\"color: %2;\">%3</span>"
                        " <span class=\"dim\">#%4</span>")
             .arg(last ? QStringLiteral("<a name=\"last-message\"></a>") : QString(),
                  QLatin1String(look.color), QLatin1String(look.label), QString::number(number));
    const fw::Message &message = m.message;
    if (m.unreadable.empty() && message.role == fw::Role::Tool) {
        std::string name = message.toolName;
        if (name.empty()) {
            auto it = request.toolNames.find(message.toolCallId);
            if (it != request.toolNames.end())
                name = it->second;
        }
        h << QStringLiteral("<a name=\"%1\"></a>").arg(anchorFor("result-", message.toolCallId));
        if (!name.empty())
            h << QStringLiteral(" · <b>%1</b>").arg(escaped(name));
        if (!message.toolCallId.empty()) {
            h << QStringLiteral(" · answers <a href=\"#%1\">%2</a>")
                     .arg(anchorFor("call-", message.toolCallId), escaped(message.toolCallId));
        }
        if (message.isError)
            h << " <span class=\"err\">error</span>";
    }
    if (!m.firstOfRaw)
        h << " <span class=\"dim\">(same API message as the one before)</span>";
    h << "</p>";

    if (!m.unreadable.empty()) {
        h << QStringLiteral("<p class=\"note\">Could not be read: %1</p>")
                 .arg(escaped(m.unreadable));
        jsonBlock(h, *m.raw, limit);
    } else {
        if (!message.thinking.empty())
            thinkingBlock(h, message.thinking, limits);
        if (message.role == fw::Role::Tool)
            monoBlock(h, message.text, limit);
        else if (!message.text.empty())
            proseBlock(h, message.text, limit);
        for (const fw::ToolCall &call : message.toolCalls) {
            if (h.full())
                break;
            toolCallBlock(h, call, &request, limit);
        }
        for (const QString &part : m.dropped)
            h << QStringLiteral("<p><span class=\"placeholder\">[%1 — not shown]</span></p>")
                     .arg(part);
        if (message.text.empty() && message.thinking.empty() && message.toolCalls.empty() &&
            m.dropped.isEmpty() && message.role != fw::Role::Tool)
            h << "<p class=\"dim\">(empty)</p>";
    }
    h << "</td></tr></table>";
}

// At most this many message cards in a section: each is a table, and QTextDocument's
// layout of thousands of tables costs seconds however small they are.
constexpr size_t kMaxCards = 300;

// Messages first .. end of `request`, numbered from `first + 1`. When they do not all fit
// in what is left of the section, or are more than kMaxCards, the first ones (a quarter of
// the room) and the last ones are shown with a note in between; the messages in between
// are never rendered, so the cost stays bounded however long the conversation is.
void messageList(Html &h, const ReadRequest &request, size_t first, const RenderLimits &limits)
{
    const std::vector<ShownMessage> &all = request.messages;
    const qsizetype room = h.remaining();
    std::vector<QString> head;
    qsizetype used = 0;
    size_t next = first;
    for (; next < all.size() && used < room / 4 && head.size() < kMaxCards / 4; ++next) {
        Html card(room, limits.firstPart);
        messageCard(card, all[next], next + 1, request, limits);
        head.push_back(card.take("message"));
        used += head.back().size();
    }
    std::vector<QString> tail; // in reverse order
    size_t end = all.size();
    while (end > next && used < room && head.size() + tail.size() < kMaxCards) {
        Html card(room - used, limits.firstPart);
        messageCard(card, all[end - 1], end, request, limits);
        const QString html = card.take("message");
        if (used + html.size() > room && !tail.empty())
            break;
        used += html.size();
        tail.push_back(html);
        --end;
    }
    for (const QString &card : head)
        h << card;
    if (end > next) {
        int64_t bytes = 0;
        for (size_t i = next; i < end; ++i)
            bytes += messageBytes(all[i]);
        h << (limits.firstPart
                  ? QStringLiteral("<p class=\"note\">Messages %1 – %2 (%3 messages, about %4) "
                                   "are not in this first part; the whole section follows.</p>")
                  : QStringLiteral("<p class=\"note\">Messages %1 – %2 (%3 messages, about %4) "
                                   "are left out to keep the view quick; the Wire tab has the "
                                   "exact request.</p>"))
                 .arg(next + 1)
                 .arg(end)
                 .arg(end - next)
                 .arg(formatBytes(bytes));
    }
    for (auto it = tail.rbegin(); it != tail.rend(); ++it)
        h << *it;
}

// The sampling parameters and every other member of the request that is not the
// conversation, the system prompt or the tools.
std::vector<std::pair<QString, QString>> parameterRows(const fw::Request &head)
{
    std::vector<std::pair<QString, QString>> rows;
    if (head.maxTokens)
        rows.emplace_back(QStringLiteral("max tokens"), number(head.maxTokens));
    if (head.temperature)
        rows.emplace_back(QStringLiteral("temperature"), QString::number(*head.temperature));
    if (head.stream)
        rows.emplace_back(QStringLiteral("stream"), QStringLiteral("true"));
    if (!head.responseSchema.is_null())
        rows.emplace_back(QStringLiteral("response schema"), shortJson(head.responseSchema));
    if (head.extra.is_object()) {
        for (auto it = head.extra.begin(); it != head.extra.end(); ++it)
            rows.emplace_back(escaped(it.key()), shortJson(*it));
    }
    return rows;
}

void requestSummary(Html &h, const Step &step, const ReadRequest &request, qsizetype limit)
{
    h << QStringLiteral("<h2>Request · %1</h2>").arg(escaped(request.head.model));
    h << "<table cellspacing=\"0\" cellpadding=\"1\">";
    keyValueRow(h, QStringLiteral("API"),
                QLatin1String(fw::apiName(*request.api)) +
                    (request.apiGuessed ? QStringLiteral(" <span class=\"dim\">(guessed from "
                                                         "the request's shape)</span>")
                                        : QString()));
    keyValueRow(h, QStringLiteral("messages"),
                QStringLiteral("%1 <span class=\"dim\">(%2 as the API sent them)</span>"
                               " · <a href=\"#messages\">first</a> · "
                               "<a href=\"#last-message\">last</a>")
                    .arg(number(int64_t(request.messages.size())),
                         number(int64_t(step.requestMessages.size()))));
    for (const auto &[key, value] : parameterRows(request.head))
        keyValueRow(h, key, value);
    h << "</table>";
    if (!request.headProblem.empty())
        h << QStringLiteral("<p class=\"note\">The parameters could not be read: %1</p>")
                 .arg(escaped(request.headProblem));

    const std::vector<fw::ToolSpec> &tools = request.head.tools;
    if (!tools.empty()) {
        h << QStringLiteral("<h3>Tools (%1)</h3>").arg(tools.size());
        h << "<table cellspacing=\"0\" cellpadding=\"1\">";
        for (const fw::ToolSpec &tool : tools) {
            if (h.full())
                break;
            std::string_view description = tool.description;
            description = description.substr(0, description.find('\n'));
            const std::string_view shown = cutUtf8(description, 160);
            keyValueRow(h, QStringLiteral("<span class=\"mono\">%1</span>").arg(escaped(tool.name)),
                        escaped(shown) +
                            (shown.size() < description.size() ? QStringLiteral("…") : QString()));
        }
        h << "</table>";
    }
    if (!request.head.system.empty()) {
        h << QStringLiteral("<h3>System prompt <span class=\"dim\">· %1</span></h3>")
                 .arg(formatBytes(int64_t(request.head.system.size())));
        proseBlock(h, request.head.system, limit);
    }
}

// ---------------------------------------------------------------------------------------
// Responses

std::string rawStopReason(fw::Api api, const json &payload)
{
    switch (api) {
    case fw::Api::OpenAIChat:
        if (const json *choices = member(payload, "choices");
            choices && choices->is_array() && !choices->empty())
            return stringMember(choices->front(), "finish_reason");
        return {};
    case fw::Api::AnthropicMessages:
        return stringMember(payload, "stop_reason");
    case fw::Api::OpenAIResponses: {
        std::string status = stringMember(payload, "status");
        if (const json *details = member(payload, "incomplete_details"))
            if (std::string reason = stringMember(*details, "reason"); !reason.empty())
                status += ": " + reason;
        return status;
    }
    case fw::Api::Gemini:
        if (const json *candidates = member(payload, "candidates");
            candidates && candidates->is_array() && !candidates->empty())
            return stringMember(candidates->front(), "finishReason");
        return {};
    }
    return {};
}

// The payload as the API's response body. Some writers store the answer as the assistant
// message itself, with its finish reason beside it (the sample sessions do, for Chat
// Completions); that is wrapped into the body the codec reads.
json responseBody(fw::Api api, const json &payload)
{
    if (!payload.is_object())
        return payload;
    if (api == fw::Api::OpenAIChat && !member(payload, "choices") && member(payload, "role")) {
        json message = payload;
        json choice = {{"index", 0}, {"finish_reason", stringMember(payload, "finish_reason")}};
        message.erase("finish_reason");
        choice["message"] = std::move(message);
        json body = {{"choices", json::array({std::move(choice)})}};
        if (const json *usage = member(payload, "usage"))
            body["usage"] = *usage;
        return body;
    }
    if (api == fw::Api::Gemini && !member(payload, "candidates") && member(payload, "parts")) {
        json candidate = {{"content", payload}};
        if (const json *reason = member(payload, "finishReason"))
            candidate["finishReason"] = *reason;
        return json{{"candidates", json::array({std::move(candidate)})}};
    }
    return payload;
}

// ---------------------------------------------------------------------------------------
// Wire

// A header's value, its name matched without regard to case as HTTP does.
std::string headerValue(const json &headers, std::string_view name)
{
    if (!headers.is_object())
        return {};
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        const std::string &key = it.key();
        if (key.size() == name.size() && it->is_string() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return it->get<std::string>();
    }
    return {};
}

bool looksLikeEventStream(const formats::WireExchange &wire)
{
    const std::string type = headerValue(wire.responseHeaders, "content-type");
    if (type.find("text/event-stream") != std::string::npos)
        return true;
    const std::string_view body = wire.responseBody;
    return body.substr(0, 5) == "data:" || body.substr(0, 6) == "event:";
}

QString millis(int64_t us)
{
    return QStringLiteral("%1 ms").arg(QString::number(double(us) / 1000.0, 'f', 1));
}

void headerTable(Html &h, const json &headers)
{
    if (!headers.is_object() || headers.empty()) {
        h << "<p class=\"dim\">(none)</p>";
        return;
    }
    h << "<table cellspacing=\"0\" cellpadding=\"1\">";
    for (auto it = headers.begin(); it != headers.end() && !h.full(); ++it) {
        std::string value = it->is_string() ? it->get<std::string>() : dumpJson(*it, -1);
        keyValueRow(
            h, QStringLiteral("<span class=\"mono\">%1</span>").arg(escaped(it.key())),
            QStringLiteral("<span class=\"mono\">%1</span>").arg(escaped(cutUtf8(value, 2048))));
    }
    h << "</table>";
}

// A body: JSON pretty-printed, anything else as text with the bytes that are not UTF-8
// marked. A body too large to pretty-print quickly is shown as it is. `exact` says how to get
// the exact bytes, which the view may cut or reformat.
void bodyBlock(Html &h, const std::string &body, qsizetype limit, const QString &exact)
{
    if (body.empty()) {
        h << "<p class=\"dim\">(empty)</p>";
        return;
    }
    constexpr size_t kPrettyPrintUpTo = 8u << 20;
    if (body.size() <= kPrettyPrintUpTo) {
        // Ordered, so that the members read in the order they were sent.
        const nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(body, nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) {
            h << QStringLiteral("<p class=\"dim\">JSON, %1, pretty-printed here; the exact "
                                "bytes: <span class=\"mono\">%2</span></p>")
                     .arg(formatBytes(int64_t(body.size())), exact);
            monoBlock(h, parsed.dump(2, ' ', false, json::error_handler_t::replace), limit);
            return;
        }
    }
    const std::string_view shown = cutUtf8(body, std::min(limit, h.remaining()));
    QString text;
    const qsizetype invalid = appendEscaped(text, shown);
    h << QStringLiteral(
             "<p class=\"dim\">%1%2; the exact bytes: <span class=\"mono\">%3</span></p>")
             .arg(formatBytes(int64_t(body.size())),
                  invalid > 0 ? QStringLiteral(" · <span class=\"err\">not UTF-8</span>: %1 "
                                               "bytes shown as \\xNN")
                                    .arg(number(invalid))
                              : QString(),
                  exact);
    h << "<pre>" << text << "</pre>";
    cutNote(h, qsizetype(shown.size()), qsizetype(body.size()), limit);
}

// A stream as its events, each with the time its last byte arrived (from the chunk map).
void eventStreamBlock(Html &h, const formats::WireExchange &wire, int64_t startedUs,
                      qsizetype limit, const QString &exact)
{
    struct TimedEvent {
        fw::SseEvent event;
        int64_t atUs = 0;
    };
    std::vector<TimedEvent> events;
    fw::SseParser parser;
    std::vector<fw::SseEvent> completed;
    const std::string_view body = wire.responseBody;
    size_t offset = 0;
    const auto take = [&](int64_t atUs) {
        for (fw::SseEvent &event : completed)
            events.push_back({std::move(event), atUs});
        completed.clear();
    };
    for (const formats::StreamChunk &chunk : wire.chunks) {
        if (offset >= body.size())
            break;
        parser.feed(body.substr(offset, chunk.length), completed);
        offset += chunk.length;
        take(chunk.atUs);
    }
    if (offset < body.size()) {
        parser.feed(body.substr(offset), completed);
        take(0);
    }
    if (auto last = parser.finish()) {
        completed.push_back(std::move(*last));
        take(0);
    }

    h << QStringLiteral("<p class=\"dim\">Server-sent events: %1 events, %2; the exact "
                        "bytes: <span class=\"mono\">%3</span></p>")
             .arg(number(int64_t(events.size())), formatBytes(int64_t(body.size())), exact);
    // One line per event in a <pre>: a table would keep wrapped events in their column, but
    // QTextDocument lays out a table of thousands of rows in seconds.
    h << "<pre>";
    const qsizetype end = h.size() + std::min(limit, h.remaining());
    size_t i = 0;
    for (; i < events.size() && h.size() < end; ++i) {
        const TimedEvent &e = events[i];
        h << QStringLiteral("<span class=\"dim\">%1 %2</span>  ")
                 .arg(i + 1, 5)
                 .arg(e.atUs ? millis(e.atUs - startedUs) : QStringLiteral("—"), 10);
        if (!e.event.event.empty()) {
            h << "<b>";
            h.text(e.event.event);
            h << "</b> ";
        }
        const std::string_view data = cutUtf8(e.event.data, 4096);
        h.text(data);
        if (data.size() < e.event.data.size())
            h << QStringLiteral(" <span class=\"note\">… %1 more</span>")
                     .arg(formatBytes(int64_t(e.event.data.size() - data.size())));
        h << "\n";
    }
    h << "</pre>";
    if (i < events.size())
        h << QStringLiteral("<p class=\"note\">… %1 more events not shown.</p>")
                 .arg(number(int64_t(events.size() - i)));
}

void chunkSummary(Html &h, const formats::WireExchange &wire, int64_t startedUs)
{
    if (wire.chunks.empty())
        return;
    int64_t bytes = 0, largestGap = 0;
    for (size_t i = 0; i < wire.chunks.size(); ++i) {
        bytes += wire.chunks[i].length;
        if (i > 0)
            largestGap = std::max(largestGap, wire.chunks[i].atUs - wire.chunks[i - 1].atUs);
    }
    const int64_t first = wire.chunks.front().atUs, last = wire.chunks.back().atUs;
    h << "<h3>Stream</h3><table cellspacing=\"0\" cellpadding=\"1\">";
    keyValueRow(
        h, QStringLiteral("chunks"),
        QStringLiteral("%1 · %2").arg(number(int64_t(wire.chunks.size())), formatBytes(bytes)));
    keyValueRow(
        h, QStringLiteral("first chunk"),
        QStringLiteral("%1 after the request started").arg(formatDuration(first - startedUs)));
    keyValueRow(
        h, QStringLiteral("last chunk"),
        QStringLiteral("%1 after the request started").arg(formatDuration(last - startedUs)));
    keyValueRow(h, QStringLiteral("streaming"), formatDuration(last - first));
    if (wire.chunks.size() > 1) {
        keyValueRow(h, QStringLiteral("gap between chunks"),
                    QStringLiteral("%1 on average, %2 at most")
                        .arg(formatDuration((last - first) / int64_t(wire.chunks.size() - 1)),
                             formatDuration(largestGap)));
    }
    h << "</table>";
}

// ---------------------------------------------------------------------------------------
// Sections

QString heading(const Step &step)
{
    QString kind = stepKindLabel(step.kind);
    if (!kind.isEmpty())
        kind[0] = kind[0].toUpper();
    return QStringLiteral("%1 · %2").arg(kind, escaped(step.name));
}

QString statusHtml(const Step &step)
{
    switch (step.status) {
    case formats::StepStatus::Ok:
        return QStringLiteral("ok");
    case formats::StepStatus::Error:
        return QStringLiteral("<span class=\"err\">error</span>");
    case formats::StepStatus::Cancelled:
        return QStringLiteral("<span class=\"err\">cancelled</span> (interrupted)");
    }
    return QStringLiteral("unknown");
}

} // namespace

QString inspectorSectionName(InspectorSection section)
{
    switch (section) {
    case InspectorSection::Conversation:
        return QStringLiteral("conversation");
    case InspectorSection::NewInRequest:
        return QStringLiteral("new");
    case InspectorSection::Response:
        return QStringLiteral("response");
    case InspectorSection::Usage:
        return QStringLiteral("usage");
    case InspectorSection::Wire:
        return QStringLiteral("wire");
    }
    return {};
}

std::optional<InspectorSection> inspectorSectionFromName(const QString &name)
{
    for (int i = 0; i < kInspectorSectionCount; ++i) {
        if (inspectorSectionName(InspectorSection(i)) == name)
            return InspectorSection(i);
    }
    return std::nullopt;
}

ConversationRenderer::ConversationRenderer(RenderLimits limits, int64_t runStartUs)
    : m_limits(limits), m_runStartUs(runStartUs)
{
}

QString ConversationRenderer::notice(const QString &title, const QString &text, bool isError)
{
    return page(QStringLiteral("<h2>%1</h2><p%2>%3</p>")
                    .arg(title.toHtmlEscaped(),
                         isError ? QStringLiteral(" class=\"err\"") : QString(),
                         text.toHtmlEscaped()));
}

namespace {

// The sections share one reading of the request; these take it.
struct Renderers {
    const RenderLimits &limits;
    int64_t runStartUs;

    QString conversation(const Step &step, const ReadRequest *request, const Step *toolCall) const
    {
        Html h(limits);
        if (step.kind == StepKind::ModelCall && request) {
            requestSummary(h, step, *request, limits.blockBytes);
            h << QStringLiteral("<h3><a name=\"messages\"></a>Messages (%1)</h3>")
                     .arg(number(int64_t(request->messages.size())));
            if (request->messages.empty())
                h << "<p class=\"dim\">(none)</p>";
            messageList(h, *request, 0, limits);
            return page(h.take());
        }
        details(h, step, toolCall);
        return page(h.take());
    }

    void details(Html &h, const Step &step, const Step *toolCall) const
    {
        h << QStringLiteral("<h2>%1</h2>").arg(heading(step));
        h << "<table cellspacing=\"0\" cellpadding=\"1\">";
        keyValueRow(h, QStringLiteral("status"), statusHtml(step));
        if (!step.callId.empty())
            keyValueRow(h, QStringLiteral("call id"),
                        QStringLiteral("<span class=\"mono\">%1</span>").arg(escaped(step.callId)));
        if (step.parent)
            keyValueRow(h, QStringLiteral("parent step"),
                        QStringLiteral("#%1").arg(step.parent->value));
        if (step.kind == StepKind::ToolResult) {
            const json *isError = member(step.payload, "is_error");
            keyValueRow(h, QStringLiteral("is_error"),
                        isError && isError->is_boolean() && isError->get<bool>()
                            ? QStringLiteral("<span class=\"err\">true</span>")
                            : QStringLiteral("false"));
        }
        if (step.endedUs > step.startedUs)
            keyValueRow(h,
                        step.kind == StepKind::ToolResult ? QStringLiteral("ran for")
                                                          : QStringLiteral("duration"),
                        formatDuration(step.endedUs - step.startedUs));
        h << "</table>";

        if (step.kind == StepKind::ToolCall) {
            h << "<h3>Arguments</h3>";
            argumentsBlock(h, step.payload, limits.blockBytes);
            return;
        }
        if (step.kind == StepKind::ToolResult && toolCall && toolCall->kind == StepKind::ToolCall) {
            h << QStringLiteral("<h3>Called with <span class=\"dim\">(step #%1)</span></h3>")
                     .arg(toolCall->index.value);
            argumentsBlock(h, toolCall->payload, limits.blockBytes);
        }
        if (step.kind == StepKind::ToolResult && step.payload.is_object()) {
            h << "<h3>Output</h3>";
            const json *output = member(step.payload, "output");
            if (!output)
                h << "<p class=\"dim\">(none)</p>";
            else if (output->is_string())
                monoBlock(h, output->get_ref<const std::string &>(), limits.blockBytes);
            else
                jsonBlock(h, *output, limits.blockBytes);
            json rest = step.payload;
            rest.erase("output");
            rest.erase("is_error");
            if (!rest.empty()) {
                h << "<h3>Payload</h3>";
                readableJson(h, rest, limits.blockBytes);
            }
            return;
        }
        h << "<h3>Payload</h3>";
        if (step.payload.is_null())
            h << "<p class=\"dim\">(none)</p>";
        else
            readableJson(h, step.payload, limits.blockBytes);
    }

    QString newInRequest(const Step &step, const ReadRequest *request, const Step *previous,
                         const ReadRequest *before) const
    {
        if (step.kind != StepKind::ModelCall || !request)
            return ConversationRenderer::notice(
                QStringLiteral("New in this request"),
                QStringLiteral("Only a model call has a request; this step is a %1.")
                    .arg(stepKindLabel(step.kind)));
        Html h(limits);
        h << "<h2>New in this request</h2>";
        if (!previous || !before) {
            h << "<p>This is the thread's first model call: all of its request is new.</p>";
            if (!request->head.system.empty())
                h << QStringLiteral("<p class=\"dim\">System prompt: %1 (on the Conversation "
                                    "tab).</p>")
                         .arg(formatBytes(int64_t(request->head.system.size())));
            h << QStringLiteral("<h3>Messages (%1)</h3>").arg(request->messages.size());
            messageList(h, *request, 0, limits);
            return page(h.take());
        }

        const std::vector<ShownMessage> &now = request->messages, &then = before->messages;
        size_t common = 0;
        while (common < now.size() && common < then.size() && now[common].sameAs(then[common]))
            ++common;
        h << QStringLiteral("<p>Compared with step #%1, the thread's model call before this "
                            "one (%2 messages): <b>%3 new</b> after %4 in common.</p>")
                 .arg(previous->index.value)
                 .arg(number(int64_t(then.size())), number(int64_t(now.size() - common)),
                      number(int64_t(common)));
        if (common < then.size()) {
            h << QStringLiteral("<p class=\"note\">%1 of the previous request's messages are "
                                "not in this one: the conversation was rewritten from message "
                                "%2 on (a compaction, or an edit).</p>")
                     .arg(number(int64_t(then.size() - common)))
                     .arg(common + 1);
        }

        QStringList changes;
        const fw::Request &a = before->head, &b = request->head;
        if (a.model != b.model)
            changes << QStringLiteral("model: %1 → %2").arg(escaped(a.model), escaped(b.model));
        if (a.system != b.system)
            changes << QStringLiteral("system prompt changed (%1 → %2)")
                           .arg(formatBytes(int64_t(a.system.size())),
                                formatBytes(int64_t(b.system.size())));
        if (a.tools != b.tools) {
            std::set<std::string> namesA, namesB;
            for (const fw::ToolSpec &t : a.tools)
                namesA.insert(t.name);
            for (const fw::ToolSpec &t : b.tools)
                namesB.insert(t.name);
            QStringList added, removed;
            for (const std::string &n : namesB)
                if (!namesA.count(n))
                    added << escaped(n);
            for (const std::string &n : namesA)
                if (!namesB.count(n))
                    removed << escaped(n);
            QString text = QStringLiteral("tools changed");
            if (!added.isEmpty())
                text += QStringLiteral("; added: %1").arg(added.join(QStringLiteral(", ")));
            if (!removed.isEmpty())
                text += QStringLiteral("; removed: %1").arg(removed.join(QStringLiteral(", ")));
            if (added.isEmpty() && removed.isEmpty())
                text += QStringLiteral(" (the same names, other definitions)");
            changes << text;
        }
        std::map<QString, QString> paramsA, paramsB;
        for (auto &[key, value] : parameterRows(a))
            paramsA[key] = value;
        for (auto &[key, value] : parameterRows(b))
            paramsB[key] = value;
        std::set<QString> keys;
        for (auto &[key, value] : paramsA)
            keys.insert(key);
        for (auto &[key, value] : paramsB)
            keys.insert(key);
        for (const QString &key : keys) {
            const QString va = paramsA.count(key) ? paramsA[key] : QStringLiteral("(unset)");
            const QString vb = paramsB.count(key) ? paramsB[key] : QStringLiteral("(unset)");
            if (va != vb)
                changes << QStringLiteral("%1: %2 → %3").arg(key, va, vb);
        }
        if (changes.isEmpty()) {
            h << "<p class=\"dim\">System prompt, tools and parameters are as before.</p>";
        } else {
            h << "<h3>Changed</h3><ul>";
            for (const QString &change : changes)
                h << QStringLiteral("<li>%1</li>").arg(change);
            h << "</ul>";
        }

        h << QStringLiteral("<h3>New messages (%1)</h3>").arg(number(int64_t(now.size() - common)));
        if (common == now.size())
            h << "<p class=\"dim\">(none: this request resends the previous conversation "
                 "unchanged)</p>";
        messageList(h, *request, common, limits);
        return page(h.take());
    }

    QString response(const Step &step, const ReadRequest *request) const
    {
        if (step.kind != StepKind::ModelCall || !request)
            return ConversationRenderer::notice(QStringLiteral("Response"),
                                                QStringLiteral("Only a model call has a response; "
                                                               "this step is a %1.")
                                                    .arg(stepKindLabel(step.kind)));
        Html h(limits);
        const fw::Api api = *request->api;
        h << QStringLiteral("<h2>Response · %1</h2>").arg(escaped(step.name));
        const std::string problem = stringMember(step.payload, "tapedeck_problem");
        if (!problem.empty())
            h << QStringLiteral("<p class=\"note\">The recorder noted: %1</p>")
                     .arg(escaped(problem));

        const json body = responseBody(api, step.payload);
        auto parsed = body.is_object() ? fw::parseResponse(api, body)
                                       : formats::Result<fw::Response>(formats::Error{
                                             formats::ErrorCode::Parse, "no response"});
        if (parsed) {
            const fw::Response &r = *parsed;
            h << "<table cellspacing=\"0\" cellpadding=\"1\">";
            keyValueRow(h, QStringLiteral("status"), statusHtml(step));
            const std::string raw = rawStopReason(api, body);
            const char *stop = fw::stopReasonName(r.stopReason);
            keyValueRow(
                h, QStringLiteral("stop reason"),
                QLatin1String(stop) +
                    (raw.empty() || raw == stop
                         ? QString()
                         : QStringLiteral(" <span class=\"dim\">(%1)</span>").arg(escaped(raw))));
            if (!r.model.empty())
                keyValueRow(h, QStringLiteral("model"), escaped(r.model));
            if (!r.id.empty())
                keyValueRow(h, QStringLiteral("id"),
                            QStringLiteral("<span class=\"mono\">%1</span>").arg(escaped(r.id)));
            h << "</table>";
            if (!r.thinking.empty()) {
                h << "<h3>Thinking</h3>";
                thinkingBlock(h, r.thinking, limits);
            }
            if (!r.text.empty()) {
                h << "<h3>Text</h3>";
                proseBlock(h, r.text, limits.blockBytes);
            }
            if (!r.toolCalls.empty()) {
                h << QStringLiteral("<h3>Tool calls (%1)</h3>").arg(r.toolCalls.size());
                for (const fw::ToolCall &call : r.toolCalls) {
                    if (h.full())
                        break;
                    toolCallBlock(h, call, nullptr, limits.blockBytes);
                }
            }
            if (r.text.empty() && r.thinking.empty() && r.toolCalls.empty())
                h << "<p class=\"dim\">(an empty answer)</p>";
            return page(h.take());
        }
        if (auto error = fw::parseError(step.wire ? step.wire->status : 0, step.payload)) {
            h << QStringLiteral("<p><span class=\"err\">The API answered with an error</span>: "
                                "HTTP %1 · %2</p>")
                     .arg(error->httpStatus)
                     .arg(escaped(error->type));
            proseBlock(h, error->message, limits.blockBytes);
            return page(h.take());
        }
        if (step.payload.is_null()) {
            h << "<p class=\"dim\">No response was recorded.</p>";
        } else if (const json *body = member(step.payload, "body"); body && body->is_string()) {
            h << "<p class=\"dim\">The response body, which is not JSON:</p>";
            monoBlock(h, body->get_ref<const std::string &>(), limits.blockBytes);
        } else {
            h << QStringLiteral("<p class=\"note\">Not a %1 response (%2); its JSON:</p>")
                     .arg(QLatin1String(fw::apiName(api)), escaped(parsed.error().message));
            jsonBlock(h, step.payload, limits.blockBytes);
        }
        return page(h.take());
    }

    QString time(int64_t us) const
    {
        if (us == 0)
            return QStringLiteral("—");
        QString text = formatWallClock(us);
        if (runStartUs)
            text += QStringLiteral(" <span class=\"dim\">(%1 into the run)</span>")
                        .arg(formatOffset(us - runStartUs));
        return text;
    }

    QString usage(const Step &step) const
    {
        Html h(limits);
        h << QStringLiteral("<h2>Usage and timing · %1</h2>").arg(heading(step));
        h << "<table cellspacing=\"0\" cellpadding=\"1\">";
        keyValueRow(h, QStringLiteral("status"), statusHtml(step));
        if (step.kind == StepKind::ModelCall) {
            const formats::Usage &u = step.usage;
            keyValueRow(h, QStringLiteral("input tokens"),
                        QStringLiteral("%1 <span class=\"dim\">(not from the cache)</span>")
                            .arg(number(u.inputTokens)));
            keyValueRow(h, QStringLiteral("cache read"), number(u.cacheReadTokens));
            keyValueRow(h, QStringLiteral("cache write"), number(u.cacheWriteTokens));
            keyValueRow(h, QStringLiteral("prompt in all"),
                        number(u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens));
            keyValueRow(h, QStringLiteral("output tokens"), number(u.outputTokens));
            keyValueRow(h, QStringLiteral("cost"),
                        formatCost(step.costUsd ? *step.costUsd : std::nan("")));
        }
        keyValueRow(h, QStringLiteral("started"), time(step.startedUs));
        if (step.kind == StepKind::ModelCall)
            keyValueRow(h, QStringLiteral("first token"), time(step.firstTokenUs));
        keyValueRow(h, QStringLiteral("ended"), time(step.endedUs));
        if (step.endedUs >= step.startedUs && step.startedUs)
            keyValueRow(h,
                        step.kind == StepKind::ModelCall ? QStringLiteral("latency")
                                                         : QStringLiteral("duration"),
                        formatDuration(step.endedUs - step.startedUs));
        if (step.kind == StepKind::ModelCall && step.firstTokenUs >= step.startedUs &&
            step.startedUs && step.firstTokenUs) {
            keyValueRow(h, QStringLiteral("time to first token"),
                        formatDuration(step.firstTokenUs - step.startedUs));
            const int64_t generating = step.endedUs - step.firstTokenUs;
            if (generating > 0 && step.usage.outputTokens > 0)
                keyValueRow(h, QStringLiteral("output rate"),
                            QStringLiteral("%1 tokens/s over %2")
                                .arg(QString::number(double(step.usage.outputTokens) * 1e6 /
                                                         double(generating),
                                                     'f', 1),
                                     formatDuration(generating)));
        }
        if (step.kind == StepKind::ModelCall)
            keyValueRow(h, QStringLiteral("messages"),
                        number(int64_t(step.requestMessages.size())));
        if (step.wire) {
            keyValueRow(h, QStringLiteral("request body"),
                        formatBytes(step.wire->omittedRequestBodySize.value_or(
                            int64_t(step.wire->requestBody.size()))));
            keyValueRow(h, QStringLiteral("response body"),
                        formatBytes(int64_t(step.wire->responseBody.size())));
        }
        h << "</table>";
        return page(h.take());
    }

    QString wire(const Step &step) const
    {
        if (!step.wire)
            return ConversationRenderer::notice(QStringLiteral("Wire"),
                                                QStringLiteral("No wire exchange was recorded "
                                                               "for this step."));
        const formats::WireExchange &w = *step.wire;
        Html h(limits);
        h << QStringLiteral("<h2><span class=\"mono\">%1 %2</span> → %3</h2>")
                 .arg(escaped(w.method), escaped(w.url),
                      w.status == 0 ? QStringLiteral("<span class=\"err\">no response</span>")
                      : w.status >= 400
                          ? QStringLiteral("<span class=\"err\">%1</span>").arg(w.status)
                          : QString::number(w.status));
        h << QStringLiteral("<p><a href=\"#request-body\">request body</a> · "
                            "<a href=\"#response-body\">response body</a></p>");
        chunkSummary(h, w, step.startedUs);
        h << "<h3>Request headers</h3>";
        headerTable(h, w.requestHeaders);
        h << "<h3>Response headers</h3>";
        headerTable(h, w.responseHeaders);
        // The request is often the larger body and the same as the last one but for its
        // end: it gets at most half of what is left, so the response is always shown.
        h << "<h3><a name=\"request-body\"></a>Request body</h3>";
        const auto exact = [&](const char *which) {
            return QStringLiteral("tapedeck dump TAPE --step %1 --raw %2")
                .arg(step.index.value)
                .arg(QLatin1String(which));
        };
        if (w.omittedRequestBodySize)
            h << QStringLiteral("<p class=\"dim\">%1, being read…</p>")
                     .arg(formatBytes(*w.omittedRequestBodySize));
        else
            bodyBlock(h, w.requestBody, std::min(limits.bodyBytes, h.remaining() / 2),
                      exact("request"));
        h << "<h3><a name=\"response-body\"></a>Response body</h3>";
        if (looksLikeEventStream(w))
            eventStreamBlock(h, w, step.startedUs, limits.bodyBytes, exact("response"));
        else
            bodyBlock(h, w.responseBody, limits.bodyBytes, exact("response"));
        return page(h.take());
    }
};

// A last line of defence: the JSON walks above check every type they read, but a step is
// arbitrary data, and a renderer that threw would take the inspector's job down with it.
template <typename F> QString guarded(const QString &section, F &&render)
{
    try {
        return render();
    } catch (const std::exception &e) {
        return ConversationRenderer::notice(
            section,
            QStringLiteral("This section could not be shown: %1").arg(QString::fromUtf8(e.what())),
            true);
    }
}

std::optional<ReadRequest> readIfModelCall(const Step *step)
{
    if (!step || step->kind != StepKind::ModelCall)
        return std::nullopt;
    return readRequest(*step);
}

const ReadRequest *ptr(const std::optional<ReadRequest> &r)
{
    return r ? &*r : nullptr;
}

} // namespace

QString ConversationRenderer::conversation(const Step &step, const Step *toolCall) const
{
    return guarded(QStringLiteral("Conversation"), [&] {
        return Renderers{m_limits, m_runStartUs}.conversation(step, ptr(readIfModelCall(&step)),
                                                              toolCall);
    });
}

QString ConversationRenderer::newInRequest(const Step &step, const Step *previous) const
{
    return guarded(QStringLiteral("New in this request"), [&] {
        return Renderers{m_limits, m_runStartUs}.newInRequest(
            step, ptr(readIfModelCall(&step)), previous, ptr(readIfModelCall(previous)));
    });
}

QString ConversationRenderer::response(const Step &step) const
{
    return guarded(QStringLiteral("Response"), [&] {
        return Renderers{m_limits, m_runStartUs}.response(step, ptr(readIfModelCall(&step)));
    });
}

QString ConversationRenderer::usage(const Step &step) const
{
    return guarded(QStringLiteral("Usage"), [&] {
        return Renderers{m_limits, m_runStartUs}.usage(step);
    });
}

QString ConversationRenderer::wire(const Step &step) const
{
    return guarded(QStringLiteral("Wire"), [&] {
        return Renderers{m_limits, m_runStartUs}.wire(step);
    });
}

RenderedStep ConversationRenderer::render(const Step &step, const Step *previous,
                                          const Step *toolCall) const
{
    RenderedStep out;
    out.step = step.index;
    const Renderers r{m_limits, m_runStartUs};
    std::optional<ReadRequest> request, before;
    QString problem;
    try {
        request = readIfModelCall(&step);
        before = readIfModelCall(previous);
    } catch (const std::exception &e) {
        problem = QString::fromUtf8(e.what());
    }
    const auto set = [&](InspectorSection s, const QString &title, auto &&render) {
        out.html[size_t(s)] =
            problem.isEmpty()
                ? guarded(title, render)
                : notice(title, QStringLiteral("The request could not be read: %1").arg(problem),
                         true);
    };
    set(InspectorSection::Conversation, QStringLiteral("Conversation"),
        [&] { return r.conversation(step, ptr(request), toolCall); });
    set(InspectorSection::NewInRequest, QStringLiteral("New in this request"),
        [&] { return r.newInRequest(step, ptr(request), previous, ptr(before)); });
    set(InspectorSection::Response, QStringLiteral("Response"),
        [&] { return r.response(step, ptr(request)); });
    out.html[size_t(InspectorSection::Usage)] = usage(step);
    out.html[size_t(InspectorSection::Wire)] = wire(step);
    return out;
}

} // namespace tapedeck::gui
