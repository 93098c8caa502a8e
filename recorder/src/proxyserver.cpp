#include "proxyserver.h"

#include "clientsession.h"
#include "contentdecoding.h"
#include "mcproute.h"
#include "textutil.h"
#include <tapedeck/recorder/upstreamtransfer.h>

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace tapedeck::recorder {

namespace fw = formats::wire;
using nlohmann::json;

namespace {

// Splits "https://host:port/path" into origin and path ("" when there is none).
std::pair<std::string, std::string> splitUrl(const std::string &url)
{
    const size_t scheme = url.find("://");
    const size_t pathStart = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (pathStart == std::string::npos)
        return {url, ""};
    std::string path = url.substr(pathStart);
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    return {url.substr(0, pathStart), path};
}

std::string joinUpstream(const std::string &base, const std::string &target)
{
    auto [origin, basePath] = splitUrl(base);
    if (basePath.empty())
        return origin + target;
    std::string rest = target;
    if (rest == "/v1" || rest.rfind("/v1/", 0) == 0 || rest.rfind("/v1?", 0) == 0)
        rest.erase(0, 3);
    return origin + basePath + rest;
}

bool startsWith(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

// Headers the proxy must not pass from the upstream to the client: httplib writes its own
// framing (length or chunks) and connection handling.
bool isHopByHopResponseHeader(const std::string &name)
{
    return name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
           name == "content-length" || name == "te" || name == "trailer" ||
           name == "upgrade" || name == "proxy-connection";
}

// httplib decodes gzip and br request bodies itself, before a handler sees the request.
// The proxy must forward a body as the client sent it, so a pre-routing handler (which
// runs before the body is read) moves the header aside under this name, and handle()
// puts it back.
constexpr const char *kHeldContentEncoding = "X-Tapedeck-Held-Content-Encoding";

httplib::Server::HandlerResponse holdContentEncoding(const httplib::Request &constReq, httplib::Response &)
{
    // The request is the server's own, non-const object; only the handler's view is const.
    auto &req = const_cast<httplib::Request &>(constReq);
    auto it = req.headers.find("Content-Encoding");
    if (it != req.headers.end()) {
        const std::string value = it->second;
        req.headers.erase(it);
        req.headers.emplace(kHeldContentEncoding, value);
    }
    return httplib::Server::HandlerResponse::Unhandled;
}

// httplib puts the connection's addresses among the request's headers; they are not the
// client's and must neither be forwarded nor recorded.
bool isHttplibConnectionEntry(const std::string &name)
{
    return name == "LOCAL_ADDR" || name == "LOCAL_PORT" || name == "REMOTE_ADDR" || name == "REMOTE_PORT";
}

json errorBody(const std::string &message)
{
    return json{{"error", {{"type", "tapedeck_proxy_error"}, {"message", message}}}};
}

} // namespace

Route routeRequest(const Upstreams &upstreams, const std::string &method, const std::string &target,
                   const json &headers)
{
    Route route;
    route.api = method == "POST" ? fw::apiForPath(target) : std::nullopt;
    const std::string &base = [&]() -> const std::string & {
        if (route.api) {
            switch (*route.api) {
            case fw::Api::AnthropicMessages: return upstreams.anthropic;
            case fw::Api::Gemini: return upstreams.gemini;
            default: return upstreams.openai;
            }
        }
        // Not a model call: the provider is told by its headers or its path.
        if (headers.contains("anthropic-version") || headers.contains("x-api-key") ||
            startsWith(target, "/v1/messages") || target == "/" || target.empty())
            return upstreams.anthropic;
        if (headers.contains("x-goog-api-key") || startsWith(target, "/v1beta") ||
            startsWith(target, "/upload/"))
            return upstreams.gemini;
        return upstreams.openai;
    }();
    route.url = joinUpstream(base, target.empty() ? "/" : target);
    return route;
}

struct ProxyServer::Impl {
    Upstreams upstreams;
    Redactor redactor;
    std::string authToken;
    int64_t timeoutSeconds = 600;
    Sink sink;
    httplib::Server server;
    std::thread thread;
    int port = 0;

    void handle(const httplib::Request &req, httplib::Response &res);
};

ProxyServer::ProxyServer(Upstreams upstreams, Redactor redactor, std::string authToken,
                         int64_t timeoutSeconds, Sink sink)
    : m_impl(std::make_unique<Impl>())
{
    m_impl->upstreams = std::move(upstreams);
    m_impl->redactor = std::move(redactor);
    m_impl->authToken = std::move(authToken);
    m_impl->timeoutSeconds = timeoutSeconds;
    m_impl->sink = std::move(sink);
}

ProxyServer::~ProxyServer() { stop(); }

formats::Status ProxyServer::start(const std::string &host, int port)
{
    Impl &d = *m_impl;
    // Every stream holds a worker for its whole length; agents with sub-agents run several.
    d.server.new_task_queue = [] { return new httplib::ThreadPool(32); };
    d.server.set_read_timeout(d.timeoutSeconds, 0);
    d.server.set_write_timeout(d.timeoutSeconds, 0);
    d.server.set_keep_alive_timeout(30);
    // httplib closes a kept-alive connection after 5 requests by default, answering the 5th
    // with "Connection: close"; a client then takes a stream the upstream cut as complete
    // (Node's fetch does), so the agent would not see the drop it would see going direct.
    d.server.set_keep_alive_max_count(1000000);
    // Each event of a stream is its own small write: without this, Nagle's algorithm holds
    // one back until the client's delayed ACK, tens of milliseconds on loopback.
    d.server.set_tcp_nodelay(true);
    d.server.set_pre_routing_handler(holdContentEncoding);
    // httplib checks that a client is still there before each write, but one that leaves
    // between the check and the write raises SIGPIPE, which would end the whole process:
    // ignored, the write fails with EPIPE and ends that one exchange.
    std::signal(SIGPIPE, SIG_IGN);
    auto handler = [&d](const httplib::Request &req, httplib::Response &res) { d.handle(req, res); };
    d.server.Get(".*", handler); // GET and HEAD
    d.server.Post(".*", handler);
    d.server.Put(".*", handler);
    d.server.Patch(".*", handler);
    d.server.Delete(".*", handler);
    d.server.Options(".*", handler);

    d.port = port == 0 ? d.server.bind_to_any_port(host) : (d.server.bind_to_port(host, port) ? port : -1);
    if (d.port <= 0)
        return formats::Error{formats::ErrorCode::Io,
                              "cannot listen on " + host + ":" + std::to_string(port) +
                                  " (is the address in use, or not one of this machine's?)"};
    d.thread = std::thread([&d] { d.server.listen_after_bind(); });
    // httplib's stop() before its loop has begun is lost, and the loop would then run for
    // ever (`tapedeck record -- no-such-command` stops at once): wait until it is listening.
    while (!d.server.is_running())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return formats::Status::success();
}

int ProxyServer::port() const { return m_impl->port; }

void ProxyServer::stop()
{
    if (m_impl->thread.joinable()) {
        m_impl->server.stop();
        m_impl->thread.join();
    }
}

void ProxyServer::Impl::handle(const httplib::Request &req, httplib::Response &res)
{
    CapturedExchange exchange;
    exchange.startedUs = nowUs();

    std::string target = req.target.empty() ? req.path : req.target;
    if (!authToken.empty()) {
        const std::string prefix = "/" + authToken;
        if (target != prefix && !startsWith(target, (prefix + "/").c_str()) &&
            !startsWith(target, (prefix + "?").c_str())) {
            res.status = 401;
            res.set_content(errorBody("this proxy needs its token as the first part of the path").dump(),
                            "application/json");
            return;
        }
        target.erase(0, prefix.size());
        if (target.empty() || target[0] != '/')
            target.insert(0, "/");
    }
    if (isMcpReportTarget(target)) { // `tapedeck mcp` reporting a call: for the tape only
        answerMcpReport(req, res, redactor, sink);
        return;
    }

    std::vector<std::pair<std::string, std::string>> requestHeaders;
    std::string contentEncoding;
    for (const auto &[name, value] : req.headers) {
        if (isHttplibConnectionEntry(name))
            continue;
        if (name == kHeldContentEncoding) {
            contentEncoding = value;
            requestHeaders.emplace_back("Content-Encoding", value);
        } else {
            requestHeaders.emplace_back(name, value);
        }
    }
    exchange.wire.method = req.method;
    exchange.wire.url = target;
    exchange.wire.requestHeaders = redactor.headers(requestHeaders);
    exchange.clientSession = clientSessionKey(exchange.wire.requestHeaders);
    // The tape keeps a compressed request decoded (so that it can be read, delta-compressed
    // and redacted) beside the content-encoding header that says how it was sent; a body
    // that does not decode is kept as it came. A body kept as it was sent is not copied:
    // the upstream transfer hands it back when the exchange is over (takeSentBody).
    const bool recordAsSent = contentEncoding.empty() && !redactor.hasPatterns();
    if (!recordAsSent) {
        const std::optional<std::string> decodedBody = decodeContent(contentEncoding, req.body);
        exchange.wire.requestBody = redactor.text(decodedBody ? *decodedBody : req.body);
    }
    auto takeSentBody = [recordAsSent](CapturedExchange &captured, UpstreamTransfer &transfer) {
        if (recordAsSent)
            captured.wire.requestBody = transfer.releaseRequestBody();
    };

    const Route route = routeRequest(upstreams, req.method, target, exchange.wire.requestHeaders);
    exchange.api = route.api;
    exchange.upstreamUrl = route.url;

    UpstreamRequest upstreamRequest;
    upstreamRequest.method = req.method;
    upstreamRequest.url = route.url;
    // The request is the server's own, non-const object, and nothing reads its body later.
    upstreamRequest.body = std::move(const_cast<std::string &>(req.body));
    upstreamRequest.timeoutSeconds = timeoutSeconds;
    upstreamRequest.headers = requestHeaders;
    if (redactor.hasPatterns()) {
        // A compressed answer could not be redacted: ask for it plain, which every server
        // must accept. The tape still shows the header as the client sent it.
        std::erase_if(upstreamRequest.headers,
                      [](const auto &header) { return lowercase(header.first) == "accept-encoding"; });
        upstreamRequest.headers.emplace_back("Accept-Encoding", "identity");
    }

    std::shared_ptr<UpstreamTransfer> transfer = UpstreamTransfer::start(std::move(upstreamRequest));
    if (transfer->status() == 0) {
        exchange.upstreamUnreachable = true;
        exchange.failure = transfer->failure().empty() ? "no answer from the upstream" : transfer->failure();
        exchange.endedUs = nowUs();
        res.status = 502;
        const std::string body =
            errorBody("tapedeck could not reach " + route.url + ": " + exchange.failure).dump();
        res.set_content(body, "application/json");
        exchange.wire.status = 502;
        exchange.wire.responseBody = body;
        exchange.wire.responseHeaders = json{{"content-type", "application/json"}};
        takeSentBody(exchange, *transfer);
        sink(std::move(exchange));
        return;
    }

    res.status = transfer->status();
    exchange.wire.status = transfer->status();
    exchange.wire.responseHeaders = redactor.headers(transfer->headers());
    std::string contentType = transfer->header("content-type");
    for (const auto &[name, value] : transfer->headers()) {
        if (!isHopByHopResponseHeader(name) && name != "content-type")
            res.set_header(name, value);
    }

    const std::string lengthHeader = transfer->header("content-length");
    if (req.method == "HEAD" || transfer->status() == 204 || transfer->status() == 304) {
        std::string ignored;
        while (transfer->readBody(ignored)) {
        }
        exchange.endedUs = nowUs();
        if (!lengthHeader.empty())
            res.set_header("Content-Length", lengthHeader);
        takeSentBody(exchange, *transfer);
        sink(std::move(exchange));
        return;
    }

    // The exchange travels with the content provider, which httplib calls after this
    // handler returns; the releaser hands it to the writer once the client has it all (or
    // went away).
    auto shared = std::make_shared<CapturedExchange>(std::move(exchange));
    auto release = [this, shared, transfer, takeSentBody](bool success) {
        if (!success && shared->failure.empty())
            shared->failure = "the client went away before the answer was complete";
        if (shared->failure.empty() && !transfer->failure().empty())
            shared->failure = transfer->failure();
        if (shared->endedUs == 0)
            shared->endedUs = nowUs();
        takeSentBody(*shared, *transfer);
        sink(std::move(*shared));
    };
    auto pass = [shared, transfer](httplib::DataSink &out) {
        std::string piece;
        if (!transfer->readBody(piece)) {
            shared->endedUs = nowUs();
            if (!transfer->failure().empty())
                shared->failure = transfer->failure();
            return false;
        }
        const int64_t at = nowUs();
        if (shared->firstByteUs == 0)
            shared->firstByteUs = at;
        // Kept as it came: the writer redacts the whole body (stepbuilder.h).
        shared->wire.responseBody += piece;
        if (shared->streamed)
            shared->wire.chunks.push_back({static_cast<uint32_t>(piece.size()), at});
        return out.write(piece.data(), piece.size());
    };

    if (!lengthHeader.empty()) {
        const size_t length = std::strtoull(lengthHeader.c_str(), nullptr, 10);
        res.set_content_provider(
            length, contentType,
            // A provider of known length has no done() to call (httplib leaves it empty):
            // a body that ends early ends the response, cut as the upstream cut ours.
            [pass](size_t, size_t, httplib::DataSink &out) { return pass(out); },
            release);
        return;
    }
    shared->streamed = true;
    res.set_chunked_content_provider(
        contentType,
        [pass, shared](size_t, httplib::DataSink &out) {
            if (!pass(out)) {
                if (!shared->failure.empty())
                    return false; // cut the client's stream too, as the upstream cut ours
                out.done();
            }
            return true;
        },
        release);
}

} // namespace tapedeck::recorder
