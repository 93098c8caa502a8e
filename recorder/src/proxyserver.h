// The HTTP side of the recorder: accepts the agent's requests on loopback, forwards each to
// its upstream, passes the answer back as it arrives and hands a copy of the whole exchange
// to a sink (the writer thread's queue) once it is over.
//
// Every request is served on a thread of the server's pool; the sink is called from those
// threads. start() and stop() are called from one thread.
#pragma once

#include "capturedexchange.h"
#include "redactor.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/recorder/recorder.h>

#include <functional>
#include <memory>
#include <string>

namespace tapedeck::recorder {

class ProxyServer {
public:
    using Sink = std::function<void(CapturedExchange)>;

    ProxyServer(Upstreams upstreams, Redactor redactor, std::string authToken,
                int64_t timeoutSeconds, Sink sink);
    ~ProxyServer();

    // Binds (port 0: an ephemeral one) and starts serving on a thread of its own.
    formats::Status start(const std::string &host, int port);
    int port() const;
    // Stops accepting and waits for the exchanges in flight to end.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The upstream URL for a request and the API it speaks (nullopt: not a model call), by
// the rules of Upstreams (recorder.h). Exposed for tests.
struct Route {
    std::string url;
    std::optional<formats::wire::Api> api;
};
Route routeRequest(const Upstreams &upstreams, const std::string &method,
                   const std::string &target, const nlohmann::json &lowercaseHeaders);

} // namespace tapedeck::recorder
