#include "liveforwarding.h"

#include <tapedeck/recorder/upstreamtransfer.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <memory>

namespace tapedeck::replayer {

namespace {

std::string lowercase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool isHopByHop(const std::string &lowercaseName)
{
    return lowercaseName == "connection" || lowercaseName == "keep-alive" ||
           lowercaseName == "transfer-encoding" || lowercaseName == "content-length" || lowercaseName == "te" ||
           lowercaseName == "trailer" || lowercaseName == "upgrade" || lowercaseName == "proxy-connection" ||
           lowercaseName == "host";
}

// What httplib puts among a request's headers that the client did not send.
bool isConnectionEntry(const std::string &name)
{
    return name == "LOCAL_ADDR" || name == "LOCAL_PORT" || name == "REMOTE_ADDR" || name == "REMOTE_PORT";
}

} // namespace

void forwardLive(const std::string &liveUrl, const httplib::Request &req, const std::string &target,
                 std::string body, httplib::Response &res)
{
    recorder::UpstreamRequest request;
    request.method = req.method;
    request.url = liveUrl + target;
    request.body = std::move(body);
    for (const auto &[name, value] : req.headers) {
        const std::string lower = lowercase(name);
        // httplib hands the body over decoded (gzip, br), and a fork's edit rewrote it.
        if (isConnectionEntry(name) || isHopByHop(lower) || lower == "content-encoding")
            continue;
        request.headers.emplace_back(name, value);
    }
    // The live server is the fork's recorder, which waits for its idle connections when it
    // stops: none is kept open (a new one on loopback costs a fraction of a millisecond).
    request.reuseConnection = false;
    std::shared_ptr<recorder::UpstreamTransfer> transfer = recorder::UpstreamTransfer::start(std::move(request));
    if (transfer->status() == 0) {
        res.status = 502;
        const nlohmann::json error = {
            {"error", {{"type", "tapedeck_replay_error"},
                       {"message", "tapedeck could not reach the live model at " + liveUrl + ": " +
                                       transfer->failure()}}}};
        res.set_content(error.dump(), "application/json");
        return;
    }
    res.status = transfer->status();
    for (const auto &[name, value] : transfer->headers())
        if (!isHopByHop(name) && name != "content-type")
            res.set_header(name, value);
    const std::string contentType = transfer->header("content-type");
    if (req.method == "HEAD" || transfer->status() == 204 || transfer->status() == 304) {
        std::string ignored;
        while (transfer->readBody(ignored)) {
        }
        return;
    }
    // A stream is passed on as it comes; a cut one is cut for the agent too.
    res.set_chunked_content_provider(contentType, [transfer](size_t, httplib::DataSink &out) {
        std::string piece;
        if (!transfer->readBody(piece)) {
            if (!transfer->failure().empty())
                return false;
            out.done();
            return true;
        }
        return out.write(piece.data(), piece.size());
    });
}

} // namespace tapedeck::replayer
