// The server of `tapedeck mcp --replay`: speaks MCP (newline-delimited JSON-RPC) on a pair of
// streams, this process's stdio, in place of the recorded server, and runs nothing. What it
// answers:
// - initialize: the client's protocol version echoed, capabilities {"tools": {}}, and a
//   serverInfo naming tapedeck replay (and the recorded server);
// - ping: {};
// - tools/list: the recorded listing (replayer::ToolReplay::nextToolListLine);
// - tools/call: the recorded answer of the next unused call of that tool with equal
//   arguments (ToolReplay::take); when there is none, a JSON-RPC error naming the tool and
//   saying it was not recorded with those arguments, and the same on the log stream;
// - notifications and the client's answers (no id, or no method): nothing;
// - any other method: "method not found".
// A recorded answer goes out as the line the server sent, byte for byte, when the client
// uses the recorded id; else with the client's id put in its place (members kept in order).
// Batches (a JSON array of messages) are answered with an array.
//
// Single-threaded: serve() reads, answers and writes on the caller's thread.
#pragma once

#include <tapedeck/replayer/toolreplay.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace tapedeck::cli {

class McpReplayServer {
public:
    // `log` gets one line per miss.
    McpReplayServer(replayer::ToolReplay replay, std::istream &in, std::ostream &out,
                    std::ostream &log);

    // Answers every message until `in` ends.
    void serve();

    int64_t toolCalls() const { return m_toolCalls; }
    int64_t misses() const { return m_misses; }

private:
    // The answer line to one message, nullopt when it gets none.
    std::optional<std::string> answer(const nlohmann::json &message);
    std::string answerToolCall(const nlohmann::json &id, const nlohmann::json &params);

    replayer::ToolReplay m_replay;
    std::istream &m_in;
    std::ostream &m_out;
    std::ostream &m_log;
    int64_t m_toolCalls = 0;
    int64_t m_misses = 0;
};

} // namespace tapedeck::cli
