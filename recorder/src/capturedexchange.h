// One request and its answer as the proxy saw them, handed from the server's threads to the
// writer thread. Headers and the request body are already redacted; the response body is
// the exact bytes, redacted by the writer once it has assembled the answer from them.
#pragma once

#include "mcpcall.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::recorder {

struct CapturedExchange {
    int64_t startedUs = 0;      // the request arrived
    int64_t firstByteUs = 0;    // the first byte of the answer's body arrived from upstream
    int64_t endedUs = 0;        // the answer was complete (or failed)

    std::optional<formats::wire::Api> api; // nullopt: not a model call
    formats::WireExchange wire;            // method, url, status, headers, bodies, chunks
    std::string upstreamUrl;
    std::string failure;        // why the exchange did not complete; empty when it did
    bool streamed = false;      // the answer was passed on as it arrived (no length known)
    bool upstreamUnreachable = false; // no answer came: the proxy answered 502 itself
    std::string clientSession;  // the session the client named (clientsession.h), "" if none
    // Set for a call `tapedeck mcp` reported (mcproute.h): not traffic the proxy forwarded.
    std::optional<McpCall> mcp;
};

} // namespace tapedeck::recorder
