// One forwarded HTTP exchange with the upstream (the recorder's, and the live requests of a
// fork, which go to its recorder), driven by the thread that serves the client: start()
// returns once the upstream's status and headers are in, then each readBody() call moves
// the transfer on until more body bytes arrive. Nothing is read from
// the upstream faster than the client takes it, so a slow client holds at most one
// network read in memory.
//
// libcurl's multi interface drives the transfer; the body is passed on as the upstream sent
// it (no content decoding), so the client receives the exact bytes. A transfer borrows a
// multi handle from a process-wide pool and gives it back when it ends; the handle's
// connection cache keeps the connections to the upstreams open from one call to the next
// (no TCP or TLS handshake per call), and the pool holds no more handles, so no more idle
// connections, than the most transfers that ran at once. A transfer is used from one
// thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tapedeck::recorder {

struct UpstreamRequest {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers; // as the client sent them
    std::string body; // moved into the transfer, which sends it from there (no copy)
    int64_t timeoutSeconds = 600;
    // False: the connection is closed once the exchange is over instead of kept for the
    // next one (a server that waits for its idle connections when it stops is not held up).
    bool reuseConnection = true;
};

class UpstreamTransfer {
public:
    // Blocks until the response headers arrived or the transfer failed (see failure()).
    static std::unique_ptr<UpstreamTransfer> start(UpstreamRequest request);
    ~UpstreamTransfer();
    UpstreamTransfer(const UpstreamTransfer &) = delete;
    UpstreamTransfer &operator=(const UpstreamTransfer &) = delete;

    int status() const;        // 0 when no response arrived
    const std::vector<std::pair<std::string, std::string>> &headers() const; // names lowercased
    std::string header(const std::string &lowercaseName) const; // "" when absent
    // Appends the next bytes of the body to `out`; false when the body is complete or the
    // transfer failed.
    bool readBody(std::string &out);
    // Why the transfer failed (curl's message), empty while it has not.
    const std::string &failure() const;
    // Ends the transfer if it is still going and hands back the request body it sent, so
    // that a caller recording it needs no copy of its own; empty when taken before.
    std::string releaseRequestBody();

private:
    UpstreamTransfer();
    // One round of the network work that is ready, without waiting; false when the
    // transfer is over.
    bool pump();
    // Waits until the transfer's sockets are ready (or curl's next timeout).
    void waitForNetwork();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::recorder
