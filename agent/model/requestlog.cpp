#include "requestlog.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace tapedeck::model {

using formats::Error;
using formats::ErrorCode;
using formats::Status;
using nlohmann::json;

namespace {

std::string lowered(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return text;
}

bool isSecretHeader(const std::string &name)
{
    static const std::set<std::string> kSecret = {
        "authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization", "cookie"};
    return kSecret.contains(lowered(name));
}

// httplib adds the connection's addresses to the request headers; they are not the client's.
bool isServerBookkeeping(const std::string &name)
{
    static const std::set<std::string> kOwn = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR",
                                               "LOCAL_PORT"};
    return kOwn.contains(name);
}

} // namespace

std::string fnv1a64Hex(const std::string &bytes)
{
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (const unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

std::string maskSecret(const std::string &value)
{
    std::string scheme;
    std::string secret = value;
    const size_t space = value.find(' ');
    if (space != std::string::npos) {
        scheme = value.substr(0, space + 1);
        secret = value.substr(space + 1);
    }
    return scheme + secret.substr(0, std::min<size_t>(4, secret.size())) +
           "***(len=" + std::to_string(secret.size()) + ")";
}

json loggedHeaders(const std::vector<std::pair<std::string, std::string>> &headers)
{
    json out = json::object();
    for (const auto &[name, value] : headers) {
        if (isServerBookkeeping(name))
            continue;
        const std::string shown = isSecretHeader(name) ? maskSecret(value) : value;
        if (out.contains(name))
            out[name] = out[name].get<std::string>() + ", " + shown;
        else
            out[name] = shown;
    }
    return out;
}

Status RequestLog::openFile(const std::string &path)
{
    m_file.open(path, std::ios::app | std::ios::binary);
    if (!m_file)
        return Error{ErrorCode::Io, "cannot open log file " + path + " for writing"};
    return {};
}

void RequestLog::write(const Exchange &exchange)
{
    json response = {{"status", exchange.status}, {"decision", exchange.decision}};
    if (exchange.streamed)
        response["sse_events"] = exchange.sseEvents;
    else if (!exchange.responseBody.is_null())
        response["body"] = exchange.responseBody;
    response["sent_size"] = exchange.sentBytes.size();
    response["sent_fnv1a64"] = fnv1a64Hex(exchange.sentBytes);
    if (!exchange.error.empty())
        response["error"] = exchange.error;
    json line = {
        {"seq", exchange.seq},   {"ts", exchange.ts},           {"method", exchange.method},
        {"path", exchange.path}, {"headers", exchange.headers}, {"response", response},
        {"ms", exchange.ms}};
    if (!exchange.body.is_null())
        line["body"] = exchange.body;
    if (!exchange.requestBytes.empty()) {
        line["body_size"] = exchange.requestBytes.size();
        line["body_fnv1a64"] = fnv1a64Hex(exchange.requestBytes);
    }

    std::lock_guard lock(m_mutex);
    if (m_file.is_open()) {
        m_file << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        m_file.flush();
    }
    if (!m_quiet) {
        std::string terse = exchange.method + " " + exchange.path + " " +
                            std::to_string(exchange.status) + " " + exchange.decision + " " +
                            std::to_string(exchange.ms) + "ms";
        if (!exchange.error.empty())
            terse.append(": ").append(exchange.error);
        std::fprintf(stderr, "tapedeck-model: %s\n", terse.c_str());
    }
}

} // namespace tapedeck::model
