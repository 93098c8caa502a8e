// The route `tapedeck mcp` reports its finished MCP calls to: POST {base}/_tapedeck/mcp with
// an McpCall as JSON (mcpcall.h). The proxy answers it itself and never forwards it; the
// auth-token prefix of the path, when the proxy has one, is already stripped from `target`.
// Called on the server's threads, like the rest of the proxy's handling.
#pragma once

#include "capturedexchange.h"
#include "redactor.h"

#include <functional>
#include <string>

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace tapedeck::recorder {

bool isMcpReportTarget(const std::string &target);

// 204 and the call, redacted, handed to `sink` (as a CapturedExchange whose `mcp` is set);
// 400 with a JSON error naming the problem when the body is not an McpCall; 405 for a method
// other than POST.
void answerMcpReport(const httplib::Request &request, httplib::Response &response,
                     const Redactor &redactor, const std::function<void(CapturedExchange)> &sink);

} // namespace tapedeck::recorder
