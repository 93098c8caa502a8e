// What the model server was asked and what it answered, for tests and for people watching:
// with a file, one JSON object per request on its own line, written (and flushed) when the
// answer is complete; on stderr, one terse line per request unless quiet.
//
// Log line members: seq, ts (UTC, ISO 8601), method, path (with its query), headers (the
// client's, secrets masked as "sk-a***(len=N)"), body (JSON when it parsed, else the
// text), body_size and body_fnv1a64 (of the exact request bytes, when there was a body),
// response {status, decision, body | sse_events, sent_size, sent_fnv1a64, error?}, ms.
// sent_* digest the response body bytes the server wrote (before any content-encoding
// httplib applies; for a cut answer, the part written), so that a test can check a proxy's
// copy byte for byte. The digest is FNV-1a 64 as 16 hex digits: easy to recompute anywhere,
// and a check of equality, not of integrity.
// Thread-safe: requests are served from several threads.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tapedeck::model {

struct Exchange {
    int64_t seq = 0;
    std::string ts;
    std::string method;
    std::string path;
    nlohmann::json headers = nlohmann::json::object();
    nlohmann::json body; // null when the request had none
    int status = 0;
    // What the server decided: "text", "tool:NAME[,NAME]", "compaction", "fault:http",
    // "fault:drop", "fault:malformed", "error", "models", "count_tokens", "not_found", ...
    std::string decision;
    nlohmann::json responseBody;        // a whole answer's body
    std::vector<std::string> sseEvents; // a streamed answer's event names (or data when unnamed)
    bool streamed = false;
    std::string error; // the message of an error answer
    std::string requestBytes; // the request body as received (httplib decodes gzip and br)
    std::string sentBytes;    // the response body bytes written, see sent_* above
    int64_t ms = 0;
};

// FNV-1a 64 of `bytes`, 16 lowercase hex digits.
std::string fnv1a64Hex(const std::string &bytes);

// "sk-ant-abc..." -> "sk-a***(len=17)"; "Bearer sk-..." keeps the scheme.
std::string maskSecret(const std::string &value);

// The headers as a JSON object, with api keys and authorization masked and the server's
// own bookkeeping entries left out. Repeated headers are joined with ", ".
nlohmann::json loggedHeaders(const std::vector<std::pair<std::string, std::string>> &headers);

class RequestLog {
public:
    explicit RequestLog(bool quiet) : m_quiet(quiet) {}

    // Appends to `path` (creating it). Io error naming the file when it cannot be opened.
    formats::Status openFile(const std::string &path);
    void write(const Exchange &exchange);

private:
    std::mutex m_mutex;
    std::ofstream m_file;
    bool m_quiet;
};

} // namespace tapedeck::model
