#include "scriptfile.h"

#include <fstream>
#include <set>
#include <sstream>

namespace tapedeck::model {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
using formats::Status;
using formats::wire::StopReason;
using formats::wire::ToolCall;
using nlohmann::json;

namespace {

const std::set<std::string> kTurnFields = {"text",  "thinking", "tool_calls", "stop_reason",
                                           "usage", "model",    "delay_ms",   "fault",
                                           "on",    "expect"};
const std::set<std::string> kFaultFields = {"kind", "status", "message", "retry_after",
                                            "after_events"};
const std::set<std::string> kToolCallFields = {"name", "arguments", "id"};
const std::set<std::string> kUsageFields = {"input_tokens", "output_tokens", "cache_read_tokens",
                                            "cache_write_tokens"};

std::string joined(const std::set<std::string> &names)
{
    std::string out;
    for (const auto &n : names) {
        if (!out.empty())
            out.append(", ");
        out.append(n);
    }
    return out;
}

std::string shown(const json &value)
{
    std::string text = value.dump();
    if (text.size() > 60)
        text = text.substr(0, 60) + "...";
    return text;
}

// Checks the members of one line's object, each error naming the line and the member's
// JSON pointer.
class LineChecker {
public:
    LineChecker(const std::string &path, int line) : m_path(path), m_line(line) {}

    Error fail(const std::string &pointer, const std::string &what) const
    {
        std::string message = m_path;
        message.append(":").append(std::to_string(m_line)).append(": ");
        if (!pointer.empty())
            message.append(pointer).append(": ");
        message.append(what);
        return Error{ErrorCode::Parse, message};
    }

    Error expected(const std::string &pointer, const std::string &what, const json &got) const
    {
        std::string text = "expected ";
        text.append(what).append(", got ").append(shown(got));
        return fail(pointer, text);
    }

    Status knownFields(const json &object, const std::set<std::string> &known,
                       const std::string &pointer) const
    {
        for (const auto &[key, value] : object.items()) {
            if (!known.contains(key))
                return fail(pointer + "/" + key, "unknown field (known: " + joined(known) + ")");
        }
        return {};
    }

    Result<std::string> string(const json &object, const char *key,
                               const std::string &pointer) const
    {
        const json &value = object.at(key);
        if (!value.is_string())
            return expected(pointer + "/" + key, "a string", value);
        return value.get<std::string>();
    }

    Result<int64_t> integer(const json &object, const char *key, const std::string &pointer,
                            int64_t min, int64_t max) const
    {
        const json &value = object.at(key);
        const std::string range =
            "an integer from " + std::to_string(min) + " to " + std::to_string(max);
        if (!value.is_number_integer())
            return expected(pointer + "/" + key, range, value);
        const int64_t n = value.get<int64_t>();
        if (n < min || n > max)
            return expected(pointer + "/" + key, range, value);
        return n;
    }

private:
    const std::string &m_path;
    int m_line;
};

constexpr int64_t kMaxCount = int64_t(1) << 40;

Status readToolCalls(const LineChecker &check, const json &calls, std::vector<ToolCall> &out)
{
    if (!calls.is_array())
        return check.expected("/tool_calls", "an array of {name, arguments, id?}", calls);
    for (size_t i = 0; i < calls.size(); ++i) {
        const std::string pointer = "/tool_calls/" + std::to_string(i);
        const json &c = calls[i];
        if (!c.is_object())
            return check.expected(pointer, "an object {name, arguments, id?}", c);
        if (Status s = check.knownFields(c, kToolCallFields, pointer); !s)
            return s;
        if (!c.contains("name"))
            return check.fail(pointer + "/name", "missing (the tool's name is required)");
        ToolCall call;
        auto name = check.string(c, "name", pointer);
        if (!name)
            return name.error();
        call.name = *name;
        if (c.contains("id")) {
            auto id = check.string(c, "id", pointer);
            if (!id)
                return id.error();
            call.id = *id;
        }
        if (c.contains("arguments")) {
            const json &args = c.at("arguments");
            if (!args.is_object() && !args.is_string())
                return check.expected(pointer + "/arguments",
                                      "an object (or a string sent as written)", args);
            call.arguments = args;
        }
        out.push_back(std::move(call));
    }
    return {};
}

Status readUsage(const LineChecker &check, const json &usage, formats::Usage &out)
{
    if (!usage.is_object())
        return check.expected("/usage", "an object {input_tokens, output_tokens, ...}", usage);
    if (Status s = check.knownFields(usage, kUsageFields, "/usage"); !s)
        return s;
    const std::pair<const char *, int64_t *> fields[] = {
        {"input_tokens", &out.inputTokens},
        {"output_tokens", &out.outputTokens},
        {"cache_read_tokens", &out.cacheReadTokens},
        {"cache_write_tokens", &out.cacheWriteTokens}};
    for (const auto &[key, target] : fields) {
        if (!usage.contains(key))
            continue;
        auto n = check.integer(usage, key, "/usage", 0, kMaxCount);
        if (!n)
            return n.error();
        *target = *n;
    }
    return {};
}

Status readFault(const LineChecker &check, const json &fault, Fault &out)
{
    if (!fault.is_object())
        return check.expected("/fault", "an object {kind, ...}", fault);
    if (Status s = check.knownFields(fault, kFaultFields, "/fault"); !s)
        return s;
    if (!fault.contains("kind"))
        return check.fail("/fault/kind", "missing (expected \"http\", \"drop\" or \"malformed\")");
    const json &kind = fault.at("kind");
    if (kind == "http")
        out.kind = Fault::Kind::HttpError;
    else if (kind == "drop")
        out.kind = Fault::Kind::DropMidStream;
    else if (kind == "malformed")
        out.kind = Fault::Kind::MalformedChunk;
    else
        return check.expected("/fault/kind", "\"http\", \"drop\" or \"malformed\"", kind);

    const bool http = out.kind == Fault::Kind::HttpError;
    for (const char *httpOnly : {"status", "message", "retry_after"}) {
        if (!http && fault.contains(httpOnly))
            return check.fail(std::string("/fault/") + httpOnly,
                              "only meaningful for kind \"http\"");
    }
    if (http && fault.contains("after_events"))
        return check.fail("/fault/after_events",
                          "only meaningful for kinds \"drop\" and \"malformed\"");

    out.message = "scripted fault";
    out.afterEvents = 1;
    if (fault.contains("status")) {
        auto status = check.integer(fault, "status", "/fault", 400, 599);
        if (!status)
            return status.error();
        out.status = static_cast<int>(*status);
    }
    if (fault.contains("message")) {
        auto message = check.string(fault, "message", "/fault");
        if (!message)
            return message.error();
        out.message = *message;
    }
    if (fault.contains("retry_after")) {
        auto seconds = check.integer(fault, "retry_after", "/fault", 0, 86400);
        if (!seconds)
            return seconds.error();
        out.retryAfterSeconds = static_cast<int>(*seconds);
    }
    if (fault.contains("after_events")) {
        auto events = check.integer(fault, "after_events", "/fault", 0, 1000000);
        if (!events)
            return events.error();
        out.afterEvents = static_cast<int>(*events);
    }
    return {};
}

Result<StopReason> readStopReason(const LineChecker &check, const json &value)
{
    static const std::pair<const char *, StopReason> kNames[] = {
        {"end_turn", StopReason::EndTurn},
        {"tool_use", StopReason::ToolUse},
        {"max_tokens", StopReason::MaxTokens},
        {"other", StopReason::Other}};
    for (const auto &[name, reason] : kNames) {
        if (value == name)
            return reason;
    }
    return check.expected("/stop_reason", "\"end_turn\", \"tool_use\", \"max_tokens\" or \"other\"",
                          value);
}

Result<ScriptTurn> readTurn(const LineChecker &check, const json &object, int line)
{
    if (!object.is_object())
        return check.expected("", "a JSON object (one turn)", object);
    if (Status s = check.knownFields(object, kTurnFields, ""); !s)
        return s.error();

    ScriptTurn turn;
    turn.line = line;
    formats::wire::Response &response = turn.turn.response;
    for (auto [key, target] :
         {std::pair{"text", &response.text}, std::pair{"thinking", &response.thinking},
          std::pair{"model", &response.model}, std::pair{"expect", &turn.expect}}) {
        if (!object.contains(key))
            continue;
        auto value = check.string(object, key, "");
        if (!value)
            return value.error();
        *target = *value;
    }
    if (object.contains("tool_calls")) {
        if (Status s = readToolCalls(check, object.at("tool_calls"), response.toolCalls); !s)
            return s.error();
    }
    response.stopReason = response.toolCalls.empty() ? StopReason::EndTurn : StopReason::ToolUse;
    if (object.contains("stop_reason")) {
        auto reason = readStopReason(check, object.at("stop_reason"));
        if (!reason)
            return reason.error();
        response.stopReason = *reason;
    }
    if (object.contains("usage")) {
        if (Status s = readUsage(check, object.at("usage"), response.usage); !s)
            return s.error();
    }
    if (object.contains("delay_ms")) {
        auto delay = check.integer(object, "delay_ms", "", 0, 3600 * 1000);
        if (!delay)
            return delay.error();
        turn.turn.delayMs = *delay;
    }
    if (object.contains("fault")) {
        if (Status s = readFault(check, object.at("fault"), turn.turn.fault); !s)
            return s.error();
    }
    if (object.contains("on")) {
        if (object.at("on") != "compaction")
            return check.expected("/on", "\"compaction\"", object.at("on"));
        turn.forCompaction = true;
    }
    return turn;
}

bool isBlankOrComment(const std::string &line)
{
    const size_t first = line.find_first_not_of(" \t\r");
    return first == std::string::npos || line[first] == '#';
}

} // namespace

Result<Script> parseScript(const std::string &text, const std::string &path)
{
    Script script;
    script.path = path;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (isBlankOrComment(line))
            continue;
        const LineChecker check(path, number);
        json object;
        try {
            object = json::parse(line);
        } catch (const json::parse_error &e) {
            return check.fail("", std::string("not valid JSON: ") + e.what());
        }
        auto turn = readTurn(check, object, number);
        if (!turn)
            return turn.error();
        script.turns.push_back(std::move(*turn));
    }
    return script;
}

Result<Script> readScript(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error{ErrorCode::Io, "cannot read script file " + path};
    std::ostringstream text;
    text << in.rdbuf();
    return parseScript(text.str(), path);
}

} // namespace tapedeck::model
