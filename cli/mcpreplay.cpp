#include "mcpreplay.h"

#include <istream>
#include <ostream>

namespace tapedeck::cli {

using nlohmann::json;

namespace {

// JSON-RPC 2.0 error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
// MCP answers a tools/call it cannot serve (an unknown tool, arguments it cannot take) with
// "invalid params"; a call the tape does not hold is that, seen from the client.
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

// The protocol version answered when the client names none.
constexpr const char *kDefaultProtocolVersion = "2025-06-18";

// Our own answers are written the way servers usually write them: "jsonrpc" and "id" first.
std::string resultLine(const json &id, const json &result)
{
    nlohmann::ordered_json line = {{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string errorLine(const json &id, int code, const std::string &message,
                      const json &data = nullptr)
{
    nlohmann::ordered_json error = {{"code", code}, {"message", message}};
    if (!data.is_null())
        error["data"] = data;
    nlohmann::ordered_json line = {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A recorded answer line for the request with `id`: itself when the ids agree, else the
// same message with `id` in its place. ordered_json keeps the server's member order.
std::string withId(const std::string &recordedLine, const json &id)
{
    nlohmann::ordered_json message = nlohmann::ordered_json::parse(recordedLine, nullptr, false);
    if (!message.is_object())
        return recordedLine; // ToolReplay hands out JSON-RPC answers only
    if (json(message["id"]) == id)
        return recordedLine;
    message["id"] = nlohmann::ordered_json(id);
    return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

McpReplayServer::McpReplayServer(replayer::ToolReplay replay, std::istream &in, std::ostream &out,
                                 std::ostream &log)
    : m_replay(std::move(replay)), m_in(in), m_out(out), m_log(log)
{
}

void McpReplayServer::serve()
{
    std::string line;
    while (std::getline(m_in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos)
            continue;
        const json parsed = json::parse(line, nullptr, false);
        std::string reply;
        if (parsed.is_discarded()) {
            reply = errorLine(nullptr, kParseError, "parse error: the line is not JSON");
        } else if (parsed.is_array()) {
            std::string answers;
            for (const json &message : parsed)
                if (std::optional<std::string> one = answer(message))
                    answers.append(answers.empty() ? "" : ",").append(*one);
            if (!answers.empty())
                reply = "[" + answers + "]";
        } else if (std::optional<std::string> one = answer(parsed)) {
            reply = std::move(*one);
        }
        if (!reply.empty())
            m_out << reply << "\n" << std::flush;
    }
}

std::optional<std::string> McpReplayServer::answer(const json &message)
{
    if (!message.is_object())
        return errorLine(nullptr, kInvalidRequest, "invalid request: not a JSON-RPC object");
    const json id = message.value("id", json());
    const auto method = message.find("method");
    if (method == message.end() || id.is_null())
        return std::nullopt; // a notification, or the client's answer to a request
    if (!method->is_string())
        return errorLine(id, kInvalidRequest, "invalid request: \"method\" must be a string");
    const std::string name = method->get<std::string>();
    const json params = message.value("params", json::object());

    if (name == "initialize") {
        const json version = params.is_object() ? params.value("protocolVersion", json()) : json();
        json info = {{"name", "tapedeck-replay"}, {"version", TAPEDECK_VERSION}};
        const json &recorded = m_replay.serverInfo();
        info["title"] = "tapedeck replay of " +
                        (recorded.is_object() && recorded.value("name", json()).is_string()
                             ? recorded["name"].get<std::string>()
                             : m_replay.description());
        return resultLine(
            id, {{"protocolVersion", version.is_string() ? version : json(kDefaultProtocolVersion)},
                 {"capabilities", {{"tools", json::object()}}},
                 {"serverInfo", std::move(info)}});
    }
    if (name == "ping")
        return resultLine(id, json::object());
    if (name == "tools/list") {
        if (std::optional<std::string> listing = m_replay.nextToolListLine())
            return withId(*listing, id);
        return errorLine(id, kInternalError,
                         "tapedeck replay: no tools/list was recorded for " +
                             m_replay.description());
    }
    if (name == "tools/call")
        return answerToolCall(id, params);
    return errorLine(id, kMethodNotFound,
                     "method not found: tapedeck replay answers initialize, ping, tools/list and "
                     "tools/call, not " +
                         name);
}

std::string McpReplayServer::answerToolCall(const json &id, const json &params)
{
    ++m_toolCalls;
    const json tool = params.is_object() ? params.value("name", json()) : json();
    if (!tool.is_string())
        return errorLine(id, kInvalidParams, "invalid params: tools/call needs a \"name\"");
    const json arguments = params.value("arguments", json::object());
    formats::Result<replayer::RecordedToolResult> recorded =
        m_replay.take(tool.get<std::string>(), arguments);
    if (recorded)
        return withId(recorded->answerLine, id);
    ++m_misses;
    const std::string message = "tapedeck replay: " + recorded.error().message;
    m_log << message << "\n" << std::flush;
    return errorLine(id, kInvalidParams, message, {{"tool", tool}, {"arguments", arguments}});
}

} // namespace tapedeck::cli
