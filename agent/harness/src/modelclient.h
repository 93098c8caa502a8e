// A streaming model API client over libcurl.
//
// One call posts a rendered request, reads the server-sent events as they arrive (curl's
// write callback feeds an SseParser, whose events feed a StreamAssembler) and hands each new
// piece of text to a callback while the stream is still open. Transient failures (HTTP 429
// and 5xx, connections that fail or drop before the stream completes, error events the API
// sends mid-stream) are retried with exponential backoff, honouring retry-after; other HTTP
// errors end the call with the status and the API's own message.
//
// Not thread-safe: one client per thread. The curl handle is kept between calls so that the
// connection is reused.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tapedeck::agent {

struct ClientConfig {
    formats::wire::Api api = formats::wire::Api::OpenAIChat;
    std::string baseUrl;
    std::string apiKey;
    int maxRetries = 4;
    double requestTimeoutSeconds = 600;
    const std::atomic<int> *interrupts = nullptr; // >= 2 aborts a call in flight
};

// The endpoint a base URL and API lead to: the base with any trailing "/" and "/v1"
// removed, then "/v1/chat/completions" or "/v1/messages".
std::string endpointUrl(const std::string &baseUrl, formats::wire::Api api);

struct CallCallbacks {
    std::function<void(std::string_view)> onText;     // new answer text, as it arrives
    std::function<void(const std::string &)> onRetry; // a retry is about to happen, and why
};

class ModelClient {
public:
    explicit ModelClient(ClientConfig config);
    ~ModelClient();
    ModelClient(const ModelClient &) = delete;
    ModelClient &operator=(const ModelClient &) = delete;

    // The request is sent with stream = true whatever it says.
    formats::Result<formats::wire::Response> call(const formats::wire::Request &request,
                                                  const CallCallbacks &callbacks);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::agent
