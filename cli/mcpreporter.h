// Sends the call reports of `tapedeck mcp` (mcprelay.h) to a recorder: POST
// {base}/_tapedeck/mcp, one request per call, from a thread of its own, so that the relay
// never waits for the recorder. The first report the recorder does not take (it is gone, it
// refuses) is warned about once on stderr; from then on reports are dropped and counted,
// and the relay goes on relaying.
//
// report() may be called from any thread; finish() and the counts from the thread that made
// this object.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace tapedeck::cli {

class McpReporter {
public:
    // `baseUrl`: the recorder's base URL as `tapedeck record` gives it to its child in
    // TAPEDECK_PROXY_URL, "http://127.0.0.1:PORT" with the auth token's path when it has one.
    explicit McpReporter(std::string baseUrl);
    ~McpReporter(); // finish()

    void report(nlohmann::json call); // only queues
    // Sends what is queued, then stops the thread.
    void finish();

    int64_t delivered() const;
    int64_t dropped() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::cli
