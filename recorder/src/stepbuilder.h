// Turns what the proxy captured into the tape's steps. Pure functions: no tape, no state;
// the writer thread places the steps in threads and links them.
#pragma once

#include "capturedexchange.h"
#include "conversationtracker.h"
#include "redactor.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <optional>
#include <vector>

namespace tapedeck::recorder {

struct ModelCallSteps {
    formats::wire::Request request;                 // neutral, for threading
    std::optional<formats::wire::Response> response; // nullopt when no answer came back
    formats::Step modelCall;                         // thread and parent left for the caller
    std::vector<formats::Step> toolCalls;            // one per tool call in the answer
};

// A model call's steps. The exchange's wire moves into the call's step (its bodies can be
// tens of megabytes: they are not copied). An error when the request body is not that
// API's JSON; the exchange is then left as it was, to be recorded as a plain http_exchange.
// The answer's text, thinking and tool arguments go through `redactor`: a streamed answer
// can split a secret over several events, where the wire bytes never hold it whole.
formats::Result<ModelCallSteps> buildModelCall(CapturedExchange &exchange, const Redactor &redactor);

// Anything that crossed the proxy and is not a model call. Takes the exchange's wire.
formats::Step buildHttpExchange(CapturedExchange &&exchange, const Redactor &redactor);

// The upstream could not be reached (or failed before answering): an error step carrying
// what the agent received instead (the proxy's 502). Takes the exchange's wire.
formats::Step buildUpstreamError(CapturedExchange &&exchange);

// A tool's result as found in the request that carried it: the tool ran from the end of the
// answer that asked for it to the start of that request.
formats::Step buildToolResult(const FoundToolResult &result, int64_t requestStartedUs);

// The body of a response as text to parse: decoded when it was sent compressed.
std::optional<std::string> decodedResponseBody(const CapturedExchange &exchange);

} // namespace tapedeck::recorder
