#include "modelserver.h"

#include "compaction.h"
#include "modelcatalog.h"
#include "tokenestimate.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace tapedeck::model {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
using formats::Status;
using namespace formats::wire;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

std::string utcNow()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return text;
}

void sleepMs(int64_t ms)
{
    if (ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// The part of a path after its API version prefix: "/v1/models" and "/models" are both
// "/models".
std::string unversioned(const std::string &path)
{
    for (const char *prefix : {"/v1beta", "/v1alpha", "/v1"}) {
        const std::string p = prefix;
        if (path.starts_with(p) && (path.size() == p.size() || path[p.size()] == '/'))
            return path.substr(p.size());
    }
    return path;
}

// The API whose error shape suits a request that is not (or not yet known to be) a model call.
Api apiForErrors(const httplib::Request &req)
{
    if (auto api = apiForPath(req.target))
        return *api;
    if (req.path.starts_with("/v1beta") || req.path.find(':') != std::string::npos)
        return Api::Gemini;
    if (req.path.find("/messages") != std::string::npos || req.has_header("anthropic-version"))
        return Api::AnthropicMessages;
    if (req.path.find("/responses") != std::string::npos)
        return Api::OpenAIResponses;
    return Api::OpenAIChat;
}

std::string errorType(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 404:
        return "not_found_error";
    case 429:
        return "rate_limit_error";
    case 529:
        return "overloaded_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

std::string decisionFor(const Request &request, const Turn &turn)
{
    switch (turn.fault.kind) {
    case Fault::Kind::HttpError:
        return "fault:http";
    case Fault::Kind::DropMidStream:
        return "fault:drop";
    case Fault::Kind::MalformedChunk:
        return "fault:malformed";
    case Fault::Kind::None:
        break;
    }
    if (isCompactionRequest(request))
        return "compaction";
    if (turn.response.toolCalls.empty())
        return "text";
    std::string names;
    for (const ToolCall &call : turn.response.toolCalls)
        names.append(names.empty() ? "" : ",").append(call.name);
    return "tool:" + names;
}

// A body parsed as JSON, or the reason it is not.
Result<json> parseBody(const std::string &body)
{
    if (body.empty())
        return Error{ErrorCode::Parse, "the request body is empty; expected a JSON object"};
    try {
        json parsed = json::parse(body);
        if (!parsed.is_object())
            return Error{ErrorCode::Parse,
                         "the request body is JSON but not an object; expected a JSON object"};
        return parsed;
    } catch (const json::parse_error &e) {
        return Error{ErrorCode::Parse,
                     std::string("the request body is not valid JSON: ") + e.what()};
    }
}

// The bytes a streamed answer is written as, one element per chunk, and the names the log
// shows for them.
struct StreamPlan {
    std::vector<std::string> chunks;
    std::vector<std::string> names;
    bool dropAfterChunks =
        false; // close the connection after the chunks instead of ending the stream
    std::string contentType;
};

// What a malformed event carries: the start of a JSON object that never closes.
constexpr const char *kMalformedData = "{\"tapedeck_malformed\": tru";

StreamPlan planStream(Api api, bool jsonArray, const Response &response, const Fault &fault,
                      const StreamOptions &streamOptions)
{
    std::vector<SseEvent> events = renderStream(api, response, streamOptions);
    const size_t cut = std::min(events.size(), static_cast<size_t>(std::max(0, fault.afterEvents)));
    if (fault.kind == Fault::Kind::MalformedChunk) {
        // Named like the event it stands in front of, so that a client dispatches it and
        // tries to parse it.
        SseEvent broken{cut < events.size() ? events[cut].event : std::string(), kMalformedData};
        events.insert(events.begin() + static_cast<std::ptrdiff_t>(cut), broken);
    }
    StreamPlan plan;
    if (fault.kind == Fault::Kind::DropMidStream) {
        events.resize(cut);
        plan.dropAfterChunks = true;
    }
    // With a charset the type is not one httplib compresses, which would hold events back.
    plan.contentType = jsonArray ? "application/json; charset=UTF-8" : "text/event-stream";
    for (size_t i = 0; i < events.size(); ++i) {
        const SseEvent &e = events[i];
        plan.names.push_back(e.event.empty() ? (e.data == "[DONE]" ? e.data : std::string("data"))
                                             : e.event);
        if (!jsonArray) {
            plan.chunks.push_back(encodeSse(e));
            continue;
        }
        // Gemini without alt=sse streams one JSON array, an element per chunk.
        std::string chunk = i == 0 ? "[" : ",\r\n";
        chunk.append(e.data);
        if (i + 1 == events.size() && !plan.dropAfterChunks)
            chunk.append("]");
        plan.chunks.push_back(std::move(chunk));
    }
    if (jsonArray && events.empty() && !plan.dropAfterChunks)
        plan.chunks.push_back("[]");
    return plan;
}

} // namespace

class ModelServer::Impl {
public:
    Impl(Policy &policy, RequestLog &log, ServerOptions options)
        : m_policy(policy), m_log(log), m_options(std::move(options))
    {
        // httplib's default sets SO_REUSEPORT, which lets a second server bind the same port
        // and share its connections; one server per port, as a user expects.
        m_http.set_socket_options([](socket_t sock) {
            int yes = 1;
            setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        });
        m_http.set_keep_alive_max_count(1000);
        // Headers and body (and each streamed event) are separate small writes; with Nagle's
        // algorithm the second waits for the client's delayed ACK, about 40 ms a call.
        m_http.set_tcp_nodelay(true);
        // Short, so that a stop is not held up by idle connections (httplib waits them out);
        // clients read the Keep-Alive header and close idle connections before the server does.
        m_http.set_keep_alive_timeout(2);
        m_http.set_read_timeout(600);
        m_http.set_write_timeout(600);
        const auto handler = [this](const httplib::Request &req, httplib::Response &res) {
            handle(req, res);
        };
        m_http.Get(".*", handler);
        m_http.Post(".*", handler);
        m_http.Put(".*", handler);
        m_http.Delete(".*", handler);
        m_http.Patch(".*", handler);
    }

    httplib::Server m_http;
    std::atomic<bool> m_stopRequested = false;
    std::atomic<bool> m_serving = false;

private:
    struct Pending {
        Exchange exchange;
        Clock::time_point start;
        bool logged = false;
        bool deferred = false; // the answer is written by a content provider, which logs it
    };
    using PendingPtr = std::shared_ptr<Pending>;

    Policy &m_policy;
    RequestLog &m_log;
    ServerOptions m_options;
    std::mutex m_policyMutex;
    std::atomic<int64_t> m_seq = 0;

    void finish(Pending &pending)
    {
        if (pending.logged)
            return;
        pending.logged = true;
        pending.exchange.ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - pending.start)
                .count();
        m_log.write(pending.exchange);
    }

    void handle(const httplib::Request &req, httplib::Response &res)
    {
        auto pending = std::make_shared<Pending>();
        pending->start = Clock::now();
        Exchange &ex = pending->exchange;
        ex.seq = ++m_seq;
        ex.ts = utcNow();
        ex.method = req.method;
        ex.path = req.target;
        ex.headers = loggedHeaders({req.headers.begin(), req.headers.end()});
        ex.requestBytes = req.body;
        if (!req.body.empty()) {
            ex.body = json::parse(req.body, nullptr, false);
            if (ex.body.is_discarded())
                ex.body = req.body;
        }
        char requestId[40];
        std::snprintf(requestId, sizeof requestId, "req_%024llx",
                      static_cast<unsigned long long>(ex.seq));
        res.set_header("request-id", requestId);
        res.set_header("x-request-id", requestId);

        route(req, res, pending);
        if (!pending->deferred) {
            ex.status = res.status;
            // httplib compresses it later, when it writes it; an answer to HEAD has no body.
            if (req.method != "HEAD")
                ex.sentBytes = res.body;
            finish(*pending);
        }
    }

    void route(const httplib::Request &req, httplib::Response &res, const PendingPtr &pending)
    {
        const std::string path = unversioned(req.path);
        const bool gemini = req.path.starts_with("/v1beta");
        if (req.method == "GET" || req.method == "HEAD") {
            if (req.path == "/" || req.path.empty())
                return answerJson(res, *pending, "probe",
                                  {{"ok", true}, {"server", "tapedeck-model"}});
            if (path == "/models")
                return answerJson(res, *pending, "models",
                                  gemini ? geminiModelListBody(m_options.models)
                                         : modelListBody(m_options.models));
            if (path.starts_with("/models/") && path.size() > 8) {
                const std::string id = path.substr(8);
                return answerJson(res, *pending, "models",
                                  gemini ? geminiModelBody(id) : modelBody(id));
            }
        }
        if (req.method == "POST") {
            if (path == "/messages/count_tokens")
                return countTokens(req, res, *pending, Api::AnthropicMessages);
            if (path == "/responses/input_tokens")
                return countTokens(req, res, *pending, Api::OpenAIResponses);
            if (path.starts_with("/models/") && path.ends_with(":countTokens"))
                return countTokens(req, res, *pending, Api::Gemini);
            if (auto api = apiForPath(req.target))
                return modelCall(req, res, pending, *api);
        }
        answerError(res, *pending, apiForErrors(req), 404, "not_found",
                    "no such endpoint: " + req.method + " " + req.path +
                        " (see tapedeck-model --help)");
    }

    void answerJson(httplib::Response &res, Pending &pending, const std::string &decision,
                    const json &body)
    {
        res.status = 200;
        res.set_content(body.dump(), "application/json");
        pending.exchange.decision = decision;
        pending.exchange.responseBody = body;
    }

    void answerError(httplib::Response &res, Pending &pending, Api api, int status,
                     const std::string &decision, const std::string &message,
                     const std::string &type = {})
    {
        const json body =
            renderError(api, ApiError{status, type.empty() ? errorType(status) : type, message});
        res.status = status;
        res.set_content(body.dump(), "application/json");
        pending.exchange.decision = decision;
        pending.exchange.responseBody = body;
        pending.exchange.error = message;
    }

    Result<Request> parseModelRequest(const httplib::Request &req, Api api, json body)
    {
        if (api == Api::AnthropicMessages && !body.contains("max_tokens"))
            body["max_tokens"] = 1; // count_tokens bodies leave it out
        auto request = parseRequest(api, body);
        if (!request)
            return request.error();
        if (api == Api::Gemini) {
            if (auto target = geminiTarget(req.target)) {
                request->model = target->model;
                request->stream = target->stream;
            }
        }
        return request;
    }

    void countTokens(const httplib::Request &req, httplib::Response &res, Pending &pending, Api api)
    {
        auto body = parseBody(req.body);
        if (!body)
            return answerError(res, pending, api, 400, "bad_request", body.error().message);
        // Gemini may wrap the request: {"generateContentRequest": {...}}.
        json inner = api == Api::Gemini && body->contains("generateContentRequest")
                         ? body->at("generateContentRequest")
                         : *body;
        auto request = parseModelRequest(req, api, std::move(inner));
        if (!request)
            return answerError(res, pending, api, 400, "bad_request", request.error().message);
        const int64_t tokens = estimateInputTokens(*request);
        if (api == Api::Gemini)
            return answerJson(res, pending, "count_tokens", {{"totalTokens", tokens}});
        if (api == Api::OpenAIResponses)
            return answerJson(res, pending, "count_tokens",
                              {{"object", "response.input_tokens"}, {"input_tokens", tokens}});
        answerJson(res, pending, "count_tokens", {{"input_tokens", tokens}});
    }

    void modelCall(const httplib::Request &req, httplib::Response &res, const PendingPtr &pending,
                   Api api)
    {
        auto body = parseBody(req.body);
        if (!body)
            return answerError(res, *pending, api, 400, "bad_request", body.error().message);
        auto request = parseModelRequest(req, api, std::move(*body));
        if (!request)
            return answerError(res, *pending, api, 400, "bad_request", request.error().message);

        Result<Turn> answered = Error{ErrorCode::InvalidArgument, ""};
        {
            std::lock_guard lock(m_policyMutex);
            answered = m_policy.answer(*request);
        }
        if (!answered)
            return answerError(res, *pending, api, 500, "error", answered.error().message);
        Turn turn = std::move(*answered);
        completeResponse(*request, turn.response, pending->exchange.seq);
        pending->exchange.decision = decisionFor(*request, turn);

        sleepMs(turn.delayMs + m_options.ttftMs);
        const Fault &fault = turn.fault;
        if (fault.kind == Fault::Kind::HttpError) {
            if (fault.retryAfterSeconds > 0)
                res.set_header("retry-after", std::to_string(fault.retryAfterSeconds));
            answerError(res, *pending, api, fault.status, pending->exchange.decision,
                        fault.message);
            return;
        }
        const auto gemini = api == Api::Gemini ? geminiTarget(req.target) : std::nullopt;
        if (request->stream)
            return stream(
                res, pending,
                planStream(api, gemini && !gemini->sse, turn.response, fault, streamOptions()));
        whole(res, pending, renderResponse(api, turn.response), fault);
    }

    StreamOptions streamOptions() const
    {
        StreamOptions options;
        options.charsPerDelta = std::max<size_t>(1, m_options.charsPerDelta);
        return options;
    }

    // The policy's response made whole: the request's model, tool-call ids, usage.
    void completeResponse(const Request &request, Response &response, int64_t seq) const
    {
        if (response.model.empty())
            response.model = request.model;
        const char *prefix = request.api == Api::AnthropicMessages ? "toolu_" : "call_";
        for (size_t i = 0; i < response.toolCalls.size(); ++i) {
            ToolCall &call = response.toolCalls[i];
            if (call.id.empty()) {
                char id[48];
                std::snprintf(id, sizeof id, "%stapedeck%06lld%02zu", prefix,
                              static_cast<long long>(seq), i);
                call.id = id;
            }
        }
        fillUsage(request, response);
    }

    int64_t gapBetweenEvents() const
    {
        if (m_options.tokensPerSecond > 0) {
            const double tokensPerEvent =
                std::max(1.0, static_cast<double>(m_options.charsPerDelta) / 4.0);
            return static_cast<int64_t>(1000.0 * tokensPerEvent / m_options.tokensPerSecond);
        }
        return m_options.chunkMs;
    }

    void whole(httplib::Response &res, const PendingPtr &pending, const json &body,
               const Fault &fault)
    {
        Exchange &ex = pending->exchange;
        ex.status = 200;
        ex.responseBody = body;
        std::string text = body.dump();
        res.status = 200;
        if (fault.kind == Fault::Kind::MalformedChunk) {
            res.set_content(text.substr(0, text.size() / 2), "application/json");
            return;
        }
        if (fault.kind != Fault::Kind::DropMidStream) {
            res.set_content(text, "application/json");
            return;
        }
        // Promise the whole body, send half, and hang up.
        pending->deferred = true;
        const size_t length = text.size();
        res.set_content_provider(
            length, "application/json",
            [this, pending, text = std::move(text)](size_t, size_t, httplib::DataSink &sink) {
                sink.write(text.data(), text.size() / 2);
                pending->exchange.sentBytes = text.substr(0, text.size() / 2);
                pending->exchange.error = "connection dropped after " +
                                          std::to_string(text.size() / 2) + " of " +
                                          std::to_string(text.size()) + " bytes";
                finish(*pending);
                return false;
            },
            [this, pending](bool) { finish(*pending); });
    }

    void stream(httplib::Response &res, const PendingPtr &pending, StreamPlan plan)
    {
        Exchange &ex = pending->exchange;
        ex.status = 200;
        ex.streamed = true;
        ex.sseEvents = plan.names;
        pending->deferred = true;
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        const std::string contentType = plan.contentType;
        const int64_t gap = gapBetweenEvents();
        res.set_chunked_content_provider(
            contentType,
            [this, pending, plan = std::move(plan), gap](size_t, httplib::DataSink &sink) {
                for (size_t i = 0; i < plan.chunks.size(); ++i) {
                    if (i > 0)
                        sleepMs(gap);
                    if (!sink.write(plan.chunks[i].data(), plan.chunks[i].size())) {
                        pending->exchange.error = "the client closed the connection after " +
                                                  std::to_string(i) + " of " +
                                                  std::to_string(plan.chunks.size()) + " events";
                        finish(*pending);
                        return false;
                    }
                    pending->exchange.sentBytes += plan.chunks[i];
                }
                if (plan.dropAfterChunks) {
                    pending->exchange.error = "connection dropped after " +
                                              std::to_string(plan.chunks.size()) + " events";
                    finish(*pending);
                    return false;
                }
                finish(*pending);
                sink.done();
                return true;
            },
            [this, pending](bool) { finish(*pending); });
    }
};

ModelServer::ModelServer(Policy &policy, RequestLog &log, ServerOptions options)
    : m_impl(std::make_unique<Impl>(policy, log, std::move(options)))
{
}

ModelServer::~ModelServer() = default;

Result<int> ModelServer::bind(const std::string &host, int port)
{
    if (port < 0 || port > 65535)
        return Error{ErrorCode::InvalidArgument,
                     "port " + std::to_string(port) + " is not in 0..65535"};
    if (port == 0) {
        const int bound = m_impl->m_http.bind_to_any_port(host);
        if (bound <= 0)
            return Error{ErrorCode::Io, "cannot listen on " + host + ": no free port"};
        return bound;
    }
    if (!m_impl->m_http.bind_to_port(host, port))
        return Error{ErrorCode::Io, "cannot listen on " + host + ":" + std::to_string(port) +
                                        " (in use, or not an address of this machine)"};
    return port;
}

Status ModelServer::serve()
{
    m_impl->m_serving = true;
    if (m_impl->m_stopRequested)
        return {};
    const bool ok = m_impl->m_http.listen_after_bind();
    m_impl->m_serving = false;
    if (!ok && !m_impl->m_stopRequested)
        return Error{ErrorCode::Io, "the listening socket failed"};
    return {};
}

void ModelServer::stop()
{
    m_impl->m_stopRequested = true;
    // serve() may be between its start and httplib's accept loop; wait for the loop so that
    // the stop is not lost.
    for (int i = 0; i < 500 && m_impl->m_serving && !m_impl->m_http.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m_impl->m_http.stop();
}

} // namespace tapedeck::model
