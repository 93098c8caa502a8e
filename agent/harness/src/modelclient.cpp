#include "modelclient.h"

#include "retrydelay.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

namespace tapedeck::agent {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
namespace wire = formats::wire;

namespace {

constexpr const char *kAnthropicVersion = "2023-06-01";
constexpr size_t kMaxErrorBody = 64 * 1024;

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(std::string_view text)
{
    size_t b = 0;
    size_t e = text.size();
    while (b < e && std::isspace(static_cast<unsigned char>(text[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1])))
        --e;
    return std::string(text.substr(b, e - b));
}

bool retryableStatus(long status)
{
    return status == 408 || status == 409 || status == 429 || status >= 500;
}

int interruptCount(const std::atomic<int> *interrupts)
{
    return interrupts ? interrupts->load() : 0;
}

// Everything one HTTP attempt collects while curl runs it.
struct Attempt {
    Attempt(wire::Api api, const CallCallbacks &callbacks, const std::atomic<int> *interrupts)
        : assembler(api), callbacks(callbacks), interrupts(interrupts)
    {
    }

    long status = 0; // of the last status line seen (after redirects, 100s)
    std::string retryAfter;
    std::string retryAfterMs;
    std::string errorBody; // the body of a non-2xx answer
    wire::SseParser parser;
    wire::StreamAssembler assembler;
    std::optional<Error> streamError;
    size_t events = 0;
    size_t textSent = 0;
    const CallCallbacks &callbacks;
    const std::atomic<int> *interrupts;

    bool success() const { return status >= 200 && status < 300; }

    // False when the stream cannot be read any further.
    bool addEvent(const wire::SseEvent &event)
    {
        if (assembler.complete())
            return true;
        ++events;
        formats::Status added = assembler.add(event);
        if (!added) {
            streamError = added.error();
            return false;
        }
        const std::string text = assembler.response().text;
        if (text.size() > textSent && callbacks.onText) {
            callbacks.onText(std::string_view(text).substr(textSent));
            textSent = text.size();
        }
        return true;
    }
};

size_t onHeader(char *data, size_t size, size_t count, void *user)
{
    auto *attempt = static_cast<Attempt *>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        attempt->retryAfter.clear();
        attempt->retryAfterMs.clear();
        const size_t space = line.find(' ');
        attempt->status = space == std::string_view::npos
                              ? 0
                              : std::atol(std::string(line.substr(space + 1, 3)).c_str());
        return size * count;
    }
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        const std::string name = lower(trim(line.substr(0, colon)));
        if (name == "retry-after")
            attempt->retryAfter = trim(line.substr(colon + 1));
        else if (name == "retry-after-ms")
            attempt->retryAfterMs = trim(line.substr(colon + 1));
    }
    return size * count;
}

size_t onBody(char *data, size_t size, size_t count, void *user)
{
    auto *attempt = static_cast<Attempt *>(user);
    const std::string_view bytes(data, size * count);
    if (!attempt->success()) {
        const size_t room = kMaxErrorBody - std::min(kMaxErrorBody, attempt->errorBody.size());
        attempt->errorBody.append(bytes.substr(0, room));
        return bytes.size();
    }
    std::vector<wire::SseEvent> events;
    attempt->parser.feed(bytes, events);
    for (const wire::SseEvent &event : events) {
        if (!attempt->addEvent(event))
            return 0; // makes curl stop with CURLE_WRITE_ERROR
    }
    return bytes.size();
}

int onProgress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    const auto *attempt = static_cast<Attempt *>(user);
    return interruptCount(attempt->interrupts) >= 2 ? 1 : 0;
}

std::string apiMessage(long status, const std::string &body)
{
    const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
    if (!parsed.is_discarded()) {
        if (auto error = wire::parseError(static_cast<int>(status), parsed))
            return error->message;
    }
    std::string text = trim(body.substr(0, 500));
    return text.empty() ? std::string("(empty body)") : text;
}

// What went wrong with one attempt, and whether trying again can help.
struct Failure {
    std::string message;
    bool retryable = false;
    std::string retryAfterMs;
    std::string retryAfter;
};

} // namespace

std::string endpointUrl(const std::string &baseUrl, wire::Api api)
{
    std::string base = baseUrl;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    if (base.ends_with("/v1"))
        base.resize(base.size() - 3);
    base.append(api == wire::Api::AnthropicMessages ? "/v1/messages" : "/v1/chat/completions");
    return base;
}

struct ModelClient::Impl {
    ClientConfig config;
    std::string url;
    CURL *curl = nullptr;
    curl_slist *headers = nullptr;

    // An error event of the API in the middle of a stream (Anthropic's overloaded_error,
    // say) is the server failing, so it is retried; a stream that cannot be decoded is not.
    Failure streamFailure(const Error &error) const
    {
        if (error.code == ErrorCode::Io)
            return Failure{"the API reported an error in the stream from " + url + ": " +
                               error.message,
                           true,
                           {},
                           {}};
        return Failure{"unreadable stream from " + url + ": " + error.message, false, {}, {}};
    }

    // One HTTP exchange: the response, or the Failure that ended it.
    std::variant<wire::Response, Failure> attemptOnce(const std::string &body,
                                                      const CallCallbacks &callbacks)
    {
        Attempt attempt(config.api, callbacks, config.interrupts);
        char curlError[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &attempt);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &attempt);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &attempt);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlError);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(config.requestTimeoutSeconds * 1000));
        const CURLcode rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &attempt.status);

        if (rc == CURLE_ABORTED_BY_CALLBACK)
            return Failure{"interrupted while waiting for the model", false, {}, {}};
        if (attempt.streamError)
            return streamFailure(*attempt.streamError);
        if (rc != CURLE_OK) {
            std::string what = attempt.events > 0 ? "stream dropped after " +
                                                        std::to_string(attempt.events) + " events"
                                                  : std::string("connection failed");
            what.append(": ").append(curlError[0] ? curlError : curl_easy_strerror(rc));
            return Failure{what, true, {}, {}};
        }
        if (!attempt.success()) {
            std::string what = "HTTP " + std::to_string(attempt.status) + " from " + url + ": " +
                               apiMessage(attempt.status, attempt.errorBody);
            return Failure{what, retryableStatus(attempt.status), attempt.retryAfterMs,
                           attempt.retryAfter};
        }
        if (auto last = attempt.parser.finish()) {
            if (!attempt.addEvent(*last))
                return streamFailure(*attempt.streamError);
        }
        if (!attempt.assembler.complete())
            return Failure{"stream ended after " + std::to_string(attempt.events) +
                               " events without its last event",
                           true,
                           {},
                           {}};
        return attempt.assembler.response();
    }
};

ModelClient::ModelClient(ClientConfig config) : m_impl(std::make_unique<Impl>())
{
    static std::once_flag curlInit;
    std::call_once(curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    m_impl->config = std::move(config);
    m_impl->url = endpointUrl(m_impl->config.baseUrl, m_impl->config.api);
    m_impl->curl = curl_easy_init();
    auto add = [this](const std::string &header) {
        m_impl->headers = curl_slist_append(m_impl->headers, header.c_str());
    };
    add("Content-Type: application/json");
    add("Accept: text/event-stream");
    add("User-Agent: tapedeck-agent/" TAPEDECK_VERSION);
    if (m_impl->config.api == wire::Api::AnthropicMessages) {
        add(std::string("anthropic-version: ") + kAnthropicVersion);
        if (!m_impl->config.apiKey.empty())
            add("x-api-key: " + m_impl->config.apiKey);
    } else if (!m_impl->config.apiKey.empty()) {
        add("Authorization: Bearer " + m_impl->config.apiKey);
    }
}

ModelClient::~ModelClient()
{
    curl_slist_free_all(m_impl->headers);
    if (m_impl->curl)
        curl_easy_cleanup(m_impl->curl);
}

Result<wire::Response> ModelClient::call(const wire::Request &request,
                                         const CallCallbacks &callbacks)
{
    if (!m_impl->curl)
        return Error{ErrorCode::Io, "could not initialise libcurl"};
    wire::Request streamed = request;
    streamed.stream = true;
    const std::string body = wire::renderRequest(streamed).dump();

    for (int attempt = 0;; ++attempt) {
        auto result = m_impl->attemptOnce(body, callbacks);
        if (auto *response = std::get_if<wire::Response>(&result))
            return std::move(*response);
        const Failure &failure = std::get<Failure>(result);
        if (!failure.retryable || attempt >= m_impl->config.maxRetries) {
            std::string message = failure.message;
            if (failure.retryable)
                message.append(" (gave up after ")
                    .append(std::to_string(attempt))
                    .append(" retries)");
            return Error{ErrorCode::Io, message};
        }
        const double wait = retryDelaySeconds(attempt, failure.retryAfterMs, failure.retryAfter);
        if (callbacks.onRetry) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.1f", wait);
            callbacks.onRetry(failure.message + "; retry " + std::to_string(attempt + 1) + " of " +
                              std::to_string(m_impl->config.maxRetries) + " in " + seconds + "s");
        }
        const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
        while (std::chrono::steady_clock::now() < until) {
            if (interruptCount(m_impl->config.interrupts) >= 2)
                return Error{ErrorCode::Io,
                             "interrupted while waiting to retry: " + failure.message};
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

} // namespace tapedeck::agent
