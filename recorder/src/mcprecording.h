// Writes the MCP calls `tapedeck mcp` reports (mcpcall.h) into the run: one thread per relay
// process, labelled "mcp: SERVER", holding its calls in the order they finished.
//
// The steps of a call:
// - tools/call: a tool_call step (name: the tool; payload: its arguments; call id: the
//   JSON-RPC id as text; at the time the relay read the request), then a tool_result step
//   linked to it (payload {"output": the text of the result's content, "is_error": the
//   result's isError or a JSON-RPC error}, plus "error" with the JSON-RPC error object when
//   there was one; from the request to the answer, or to when the relay gave up on it;
//   status error when is_error, cancelled when the server ended before answering). The tool_result
//   carries the exact request and response lines as its wire exchange.
// - tools/list, and any other method a relay reports: one mcp_call step named by the method,
//   payload {"server", "method", "params" when given, "result" (the tool list) or "error"},
//   with the exact lines as its wire exchange. A listing runs no tool, so it is not a
//   tool_call; mcp_call is the tape's kind for the rest of MCP's traffic.
// A wire exchange here has method = the JSON-RPC method, url = "stdio" and status 0: the
// lines crossed a pipe, not HTTP.
//
// Used by the writer thread only.
#pragma once

#include "mcpcall.h"

#include <tapedeck/formats/tape.h>

#include <map>
#include <string>

namespace tapedeck::recorder {

class McpRecording {
public:
    explicit McpRecording(formats::BranchId branch) : m_branch(branch) {}

    struct Written {
        int64_t steps = 0;
        int64_t toolCalls = 0;
        int64_t toolResults = 0;
    };
    // Appends the steps of `call`, adding its relay's thread first when it is the relay's
    // first call. An error when the tape cannot be written.
    formats::Result<Written> record(const McpCall &call, formats::TapeWriter &writer);

private:
    formats::Result<formats::ThreadId> threadFor(const McpCall &call, formats::TapeWriter &writer);

    formats::BranchId m_branch;
    std::map<std::string, formats::ThreadId> m_threads; // relay session -> its thread
};

} // namespace tapedeck::recorder
