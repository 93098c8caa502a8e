// One MCP request and its answer as `tapedeck mcp` saw them on the stdio of the server it
// relays, reported to the recorder as the JSON body of POST {base}/_tapedeck/mcp:
//
//   {"session":     "4242-1717171717000000",  // one relay process: one thread of the run
//    "server":      "server-filesystem",      // names the thread ("mcp: server-filesystem")
//    "server_info": {"name": ..., "version": ...}, // from the initialize answer; optional
//    "method":      "tools/call",             // or "tools/list"
//    "request":     "{\"jsonrpc\":\"2.0\",\"id\":3,...}", // the client's line, exact
//    "response":    "{\"jsonrpc\":\"2.0\",\"id\":3,...}", // the server's line, exact; null
//                                             // when the server ended before answering
//    "request_us":  1717171717000123,         // when the relay read the request
//    "response_us": 1717171717004567}         // when it read the answer, or gave up on it
//
// The lines are the bytes that crossed the pipes, less their newline (for a message that
// came in a JSON-RPC batch, that message alone, re-serialized); the recorder parses them
// itself (mcprecording.h). Redaction has been applied to both once the route hands the call
// on.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace tapedeck::recorder {

struct McpCall {
    std::string session;
    std::string server;
    nlohmann::json serverInfo; // null when the relay did not see the initialize answer
    std::string method;
    std::string request;
    std::optional<std::string> response;
    int64_t requestUs = 0;
    int64_t responseUs = 0;
};

} // namespace tapedeck::recorder
