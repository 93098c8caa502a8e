// The scripted model server: an HTTP server that answers like the model APIs.
//
// Endpoints (each also without its /v1 or /v1beta prefix):
//   POST /v1/chat/completions, /v1/responses, /v1/messages[?beta=true],
//        /v1beta/models/{m}:generateContent, :streamGenerateContent[?alt=sse]
//                                  model calls, answered by the policy, streamed or not
//   POST /v1/messages/count_tokens, /v1/responses/input_tokens, /v1beta/models/{m}:countTokens
//   GET  /v1/models, /v1/models/{id}, /v1beta/models, /v1beta/models/{id}
//   GET|HEAD /                     200, for clients that probe the base URL
// Anything else is a 404 in the error shape of the API the path looks like; a body that is
// not JSON or not a valid request is a 400 saying what was wrong; a policy error is a 500
// carrying the policy's message. Every answer carries request-id and x-request-id headers.
//
// Threads: httplib serves connections from its own pool; policy calls are serialised, in
// arrival order, so a Policy needs no locking. Streams are paced outside that lock.
#pragma once

#include "policy.h"
#include "requestlog.h"

#include <tapedeck/formats/tape.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tapedeck::model {

struct ServerOptions {
    int64_t ttftMs = 0;         // wait before the first byte of every answer
    int64_t chunkMs = 0;        // wait between streamed events
    double tokensPerSecond = 0; // when > 0, the wait between events follows this rate instead
    size_t charsPerDelta = 16;  // text and argument deltas are cut to about this size
    std::vector<std::string> models = {"gpt-4o", "gpt-5", "claude-sonnet-4-6", "claude-haiku-4-5",
                                       "gemini-2.5-pro"};
};

class ModelServer {
public:
    // `policy` and `log` must outlive the server.
    ModelServer(Policy &policy, RequestLog &log, ServerOptions options);
    ~ModelServer();
    ModelServer(const ModelServer &) = delete;
    ModelServer &operator=(const ModelServer &) = delete;

    // Binds and starts listening on host:port (port 0: an ephemeral one); the port bound.
    // Connections are queued from here on, answered once serve() runs.
    formats::Result<int> bind(const std::string &host, int port);
    // Answers requests until stop(); returns an Io error if the listening socket fails.
    formats::Status serve();
    // Safe from any thread, also before serve() has started accepting.
    void stop();

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::model
