// ReplayServer (replayer.h): the HTTP side and the matching of each request against the
// recorded exchanges. One mutex guards the tape reader and the record of what was served;
// answers are sent outside it, so a slow-paced stream does not hold up other threads.
#include "divergencereport.h"
#include "liveforwarding.h"
#include "matchrules.h"
#include "recordedanswer.h"
#include "recordedexchanges.h"
#include "requestedit.h"

#include <tapedeck/formats/wire.h>
#include <tapedeck/replayer/replayer.h>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using nlohmann::json;

namespace {

std::string pathOf(const std::string &target)
{
    return target.substr(0, target.find('?'));
}

// The error an API client understands, in the shape of the API its path names (OpenAI's
// for any other path).
std::string refusal(const std::string &target, const std::string &message)
{
    fw::ApiError error;
    error.httpStatus = 400;
    error.type = "invalid_request_error";
    error.message = message;
    return fw::renderError(fw::apiForPath(target).value_or(fw::Api::OpenAIChat), error).dump();
}

// Each message of the request's conversation that is the first of a pair becomes the
// second; true when one did.
bool replaceMessages(fw::Api api, json &request, const std::vector<std::pair<json, json>> &pairs)
{
    if (pairs.empty())
        return false;
    auto conversation = request.find(fw::conversationMember(api));
    if (conversation == request.end() || !conversation->is_array())
        return false;
    bool changed = false;
    for (json &message : *conversation)
        for (const auto &[now, was] : pairs)
            if (message == now) {
                message = was;
                changed = true;
                break;
            }
    return changed;
}

int64_t wallClockUs()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// A live request as it goes out: a fork's edits made; or the fork's own answer to give.
struct LiveRequest {
    std::string target;
    std::string body;
    std::optional<formats::WireExchange> answered;
};

// The exchange of a model call answered with `response`, in the API and the streaming the
// request asked for; Gemini's stream without alt=sse is one JSON array.
formats::WireExchange answeredExchange(fw::Api api, const httplib::Request &req, const std::string &target,
                                       std::string body, fw::Response response)
{
    formats::WireExchange wire;
    wire.method = req.method;
    wire.url = target;
    wire.status = 200;
    for (const auto &[name, value] : req.headers)
        if (name != "LOCAL_ADDR" && name != "LOCAL_PORT" && name != "REMOTE_ADDR" && name != "REMOTE_PORT")
            wire.requestHeaders[name] = value;
    const json request = json::parse(body, nullptr, false);
    bool stream = request.is_object() && request.contains("stream") && request["stream"].is_boolean() &&
                  request["stream"].get<bool>();
    bool sse = true;
    if (api == fw::Api::Gemini) {
        const std::optional<fw::GeminiTarget> gemini = fw::geminiTarget(target);
        stream = gemini && gemini->stream;
        sse = gemini && gemini->sse;
    }
    if (response.model.empty() && request.is_object() && request.contains("model") && request["model"].is_string())
        response.model = request["model"].get<std::string>();
    wire.requestBody = std::move(body);
    if (!stream) {
        wire.responseHeaders = json{{"content-type", "application/json"}};
        wire.responseBody = fw::renderResponse(api, response).dump();
        return wire;
    }
    const int64_t at = wallClockUs();
    const std::vector<fw::SseEvent> events = fw::renderStream(api, response);
    if (!sse) {
        json array = json::array();
        for (const fw::SseEvent &event : events)
            array.push_back(json::parse(event.data, nullptr, false));
        wire.responseHeaders = json{{"content-type", "application/json"}};
        wire.responseBody = array.dump();
        return wire;
    }
    wire.responseHeaders = json{{"content-type", "text/event-stream"}};
    for (const fw::SseEvent &event : events) {
        const std::string encoded = fw::encodeSse(event);
        wire.responseBody += encoded;
        wire.chunks.push_back({static_cast<uint32_t>(encoded.size()), at});
    }
    return wire;
}

} // namespace

struct ReplayServer::Impl {
    ReplayOptions options;
    std::unique_ptr<formats::TapeReader> reader;
    MatchRules rules;
    std::optional<RecordedExchanges> exchanges;
    std::map<formats::ThreadId, std::string> threadLabels;

    httplib::Server server;
    std::thread thread;
    int port = 0;

    mutable std::mutex mutex; // everything below, and reader and exchanges
    ReplayStats stats;
    std::vector<Divergence> divergences;
    // Tool outputs a replay went on with (--tool-drift allow): each message as this run sent
    // it, and as it was recorded. Later requests carry the same message again, which is the
    // drift already reported, not a new one.
    std::vector<std::pair<json, json>> acceptedDrift;
    // The same messages as the bodies held them: a fork sends the model the recorded ones,
    // so that the prefix its branch continues is the one recorded.
    std::vector<std::pair<json, json>> acceptedRawDrift;
    bool wentLive = false;
    std::optional<formats::ThreadId> forkedThread; // a fork's: the thread of its step
    std::string liveUrl; // what options.goLive gave
    std::optional<formats::StepIndex> liveAt; // the step it went live at, when known
    // The edits to make to each model call, each set once every recorded call up to its
    // fork step is served.
    struct PendingEdits {
        RequestEditor everywhere;    // tool results, the model
        RequestEditor forkedThread;  // a user message
        formats::StepIndex after;
        // The normalised conversation of the forked thread's last call before the fork,
        // which its later requests start with; null when unknown (any request is its).
        json threadStart;
    };
    std::vector<PendingEdits> editors;
    std::optional<fw::Response> forkAnswer; // until the forked thread's first live call takes it
    json forkAnswerThreadStart;              // as PendingEdits::threadStart
    std::function<void(const Divergence &)> divergenceCallback;
    std::function<void()> stopCallback;
    // What handle() tells the callbacks once it has let go of the mutex.
    struct Notice {
        std::optional<Divergence> divergence;
        bool stopped = false;
        bool goLive = false; // the request that missed went live (OnMiss::Live)
    };
    Notice notice; // of the request being matched; under the mutex

    void handle(const httplib::Request &req, httplib::Response &res);
    // Under the mutex: whether the replay is live for this request, going live when a fork's
    // prefix is all served.
    bool isLive(int64_t number, const std::string &target, httplib::Response &res);
    // Under the mutex: goes live at the recorded step `at` (options.goLive). False, with
    // `res` refused and the replay stopped, when what live requests go to cannot be started.
    bool goLive(int64_t number, std::optional<formats::StepIndex> at, const std::string &target,
                httplib::Response &res);
    // Under the mutex: the request as it goes out live.
    LiveRequest liveRequest(std::optional<fw::Api> api, std::string target, std::string body,
                            const httplib::Request &req);
    // Under the mutex: a fork's edits, made to a model call's body once the replay is past
    // the fork (fork.h); false when none applies yet.
    // Live, the tool outputs the replay went on with are sent as recorded, too.
    bool edit(fw::Api api, bool live, std::string &target, const std::string &body,
              std::optional<std::string> &edited);
    // The normalised conversation of a recorded model call's request; null for none.
    formats::Result<json> conversationOf(std::optional<formats::StepIndex> call) const;
    // Whether a request (`incoming`, normalised) continues the conversation `start`.
    bool continues(fw::Api api, const json &incoming, const json &start) const;
    // Under the mutex. What to answer `req` with: a recorded step, or null with `res`
    // already filled (a refusal).
    std::shared_ptr<const formats::Step> matchModelCall(int64_t number, fw::Api api, const std::string &target,
                                                        const std::string &method, const std::string &body,
                                                        httplib::Response &res);
    std::shared_ptr<const formats::Step> matchOther(int64_t number, const std::string &target,
                                                    const httplib::Request &req, httplib::Response &res);
    // Records the divergence; returns the step to serve anyway, or null after refusing.
    // `incoming` is the normalised request, when it is a model call's.
    std::shared_ptr<const formats::Step> diverged(Divergence divergence, std::optional<fw::Api> api,
                                                  std::optional<size_t> nearest, httplib::Response &res,
                                                  const json *incoming = nullptr,
                                                  const std::string *incomingBody = nullptr);
    ComparedCandidate compared(size_t position, fw::Api api, const json &incoming);
    void acceptDrift(fw::Api api, const DecodedExchange &recorded, const json &incoming,
                     const std::string &incomingBody);
};

ReplayServer::ReplayServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

ReplayServer::~ReplayServer() { stop(); }

formats::Result<std::unique_ptr<ReplayServer>> ReplayServer::start(ReplayOptions options)
{
    auto impl = std::make_unique<Impl>();
    formats::Result<std::unique_ptr<formats::TapeReader>> reader = formats::TapeReader::open(options.tapePath);
    if (!reader)
        return reader.error();
    impl->reader = std::move(*reader);
    if (options.matchRulesFile.empty()) {
        impl->rules = MatchRules::builtIn();
    } else {
        formats::Result<MatchRules> rules = MatchRules::builtInPlus(options.matchRulesFile);
        if (!rules)
            return rules.error();
        impl->rules = std::move(*rules);
    }
    formats::Result<RecordedExchanges> exchanges =
        RecordedExchanges::load(*impl->reader, options.run, options.branch, options.forkAt);
    if (!exchanges)
        return exchanges.error();
    impl->exchanges = std::move(*exchanges);
    impl->stats.recordedExchanges = static_cast<int64_t>(impl->exchanges->all().size());
    if (options.forkAt) {
        formats::Result<formats::StepSummary> at = impl->reader->stepSummary(*options.forkAt);
        if (!at)
            return at.error();
        impl->forkedThread = at->thread;
    }
    if ((options.onMiss == OnMiss::Live || options.forkAt) && !options.goLive)
        return formats::Error{formats::ErrorCode::InvalidArgument,
                              "a replay that goes live needs somewhere to send live requests to"};
    // A forked branch replays with the edits it was made with, and so does a fork of it.
    formats::Result<std::vector<BranchEdits>> lineageEdits = editsOfLineage(*impl->reader, impl->exchanges->branch());
    if (!lineageEdits)
        return lineageEdits.error();
    // A fork at a step before one of the branch's own fork steps leaves that fork's edits out.
    if (options.forkAt)
        std::erase_if(*lineageEdits, [&](const BranchEdits &set) { return !(set.after < *options.forkAt); });
    lineageEdits->insert(lineageEdits->end(), options.edits.begin(), options.edits.end());
    for (BranchEdits &set : *lineageEdits) {
        formats::Result<json> threadStart = impl->conversationOf(set.forkedCall);
        if (!threadStart)
            return threadStart.error();
        std::vector<RequestEdit> everywhere, forkedThread;
        for (RequestEdit &e : set.edits)
            (e.kind == RequestEdit::Kind::AppendUser ? forkedThread : everywhere).push_back(std::move(e));
        impl->editors.push_back({RequestEditor(std::move(everywhere)), RequestEditor(std::move(forkedThread)),
                                 set.after, std::move(*threadStart)});
    }
    if (options.answer) {
        const std::optional<formats::StepIndex> forkedCall =
            options.edits.empty() ? std::nullopt : options.edits.back().forkedCall;
        formats::Result<json> threadStart = impl->conversationOf(forkedCall);
        if (!threadStart)
            return threadStart.error();
        impl->forkAnswerThreadStart = std::move(*threadStart);
    }
    impl->forkAnswer = options.answer;
    if (formats::Result<std::vector<formats::ThreadInfo>> threads = impl->reader->threads())
        for (const formats::ThreadInfo &t : *threads)
            impl->threadLabels[t.id] = t.label;

    // A client that goes away mid-answer raises SIGPIPE on the next write: ignored, the
    // write fails and ends that one answer, not the replay.
    std::signal(SIGPIPE, SIG_IGN);
    Impl &d = *impl;
    d.server.new_task_queue = [] { return new httplib::ThreadPool(32); };
    d.server.set_keep_alive_max_count(1000000);
    // An answer's headers and body go out in separate writes; without this, Nagle's
    // algorithm holds the body until the client's delayed ACK (40 ms a request).
    d.server.set_tcp_nodelay(true);
    d.server.set_payload_max_length(size_t(1) << 31);
    auto handler = [&d](const httplib::Request &req, httplib::Response &res) { d.handle(req, res); };
    d.server.Get(".*", handler); // GET and HEAD
    d.server.Post(".*", handler);
    d.server.Put(".*", handler);
    d.server.Patch(".*", handler);
    d.server.Delete(".*", handler);
    d.server.Options(".*", handler);
    d.port = options.listenPort == 0 ? d.server.bind_to_any_port(options.listenHost)
                                     : (d.server.bind_to_port(options.listenHost, options.listenPort)
                                            ? options.listenPort
                                            : -1);
    if (d.port <= 0)
        return formats::Error{formats::ErrorCode::Io,
                              "cannot listen on " + options.listenHost + ":" + std::to_string(options.listenPort) +
                                  " (is the address in use, or not one of this machine's?)"};
    d.options = std::move(options);
    d.thread = std::thread([&d] { d.server.listen_after_bind(); });
    // httplib's stop() before its loop has begun is lost, and the loop would then run for
    // ever: wait until it is listening.
    while (!d.server.is_running())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return std::unique_ptr<ReplayServer>(new ReplayServer(std::move(impl)));
}

int ReplayServer::port() const { return m_impl->port; }

std::string ReplayServer::baseUrl() const
{
    const std::string &host = m_impl->options.listenHost;
    return "http://" + (host == "0.0.0.0" ? std::string("127.0.0.1") : host) + ":" + std::to_string(port());
}

formats::RunId ReplayServer::run() const { return m_impl->exchanges->run(); }
formats::BranchId ReplayServer::branch() const { return m_impl->exchanges->branch(); }

void ReplayServer::onDivergence(std::function<void(const Divergence &)> callback)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->divergenceCallback = std::move(callback);
}

void ReplayServer::onStop(std::function<void()> callback)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->stopCallback = std::move(callback);
}

void ReplayServer::stop()
{
    if (m_impl->thread.joinable()) {
        m_impl->server.stop();
        m_impl->thread.join();
    }
}

ReplayStats ReplayServer::stats() const
{
    std::lock_guard lock(m_impl->mutex);
    ReplayStats out = m_impl->stats;
    out.unusedExchanges = m_impl->exchanges->unservedModelCalls();
    return out;
}

std::vector<Divergence> ReplayServer::divergences() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->divergences;
}

void ReplayServer::Impl::handle(const httplib::Request &req, httplib::Response &res)
{
    const int64_t arrived = nowUs();
    const int64_t arrivedWallClock = wallClockUs();
    const std::string target = req.target.empty() ? req.path : req.target;
    const std::optional<fw::Api> api = req.method == "POST" ? fw::apiForPath(target) : std::nullopt;
    std::shared_ptr<const formats::Step> answer;
    std::optional<LiveRequest> outgoing;
    Notice told;
    std::function<void(const Divergence &)> onDivergence;
    std::function<void()> onStop;
    {
        std::lock_guard lock(mutex);
        const int64_t number = ++stats.requests;
        if (stats.stopped) {
            // Not a status clients retry: the replay is over.
            res.status = 400;
            res.set_content(refusal(target, "tapedeck replay has stopped at a divergence"), "application/json");
            return;
        }
        // Decided once, before this request is matched: serving it may use up the prefix,
        // which makes the next request, not this one, the first live one.
        bool live = isLive(number, target, res);
        // Refused when the live side could not be started (the notice tells the agent's stop).
        const bool refused = stats.stopped;
        std::string editedTarget = target;
        std::optional<std::string> editedBody;
        if (api && !refused)
            edit(*api, live, editedTarget, req.body, editedBody);
        const std::string &body = editedBody ? *editedBody : req.body; // not used once reset below
        if (!live && !refused) {
            answer = api ? matchModelCall(number, *api, editedTarget, req.method, body, res)
                         : matchOther(number, target, req, res);
            live = notice.goLive;
            // It went live at its miss: it goes out as a live request is made.
            if (live && api) {
                editedTarget = target;
                editedBody.reset();
                edit(*api, true, editedTarget, req.body, editedBody);
            }
        }
        if (live)
            outgoing = liveRequest(api, std::move(editedTarget), editedBody ? std::move(*editedBody) : req.body, req);
        told = std::move(notice);
        notice = {};
        onDivergence = divergenceCallback;
        onStop = stopCallback;
    }
    if (told.divergence && onDivergence)
        onDivergence(*told.divergence);
    if (told.stopped && onStop)
        onStop();
    if (answer) {
        sendRecordedAnswer(std::move(answer), options.speed, arrived, res);
    } else if (outgoing && outgoing->answered) {
        res.status = outgoing->answered->status;
        res.set_content(outgoing->answered->responseBody,
                        outgoing->answered->responseHeaders.value("content-type", "application/json"));
        if (options.recordAnswered)
            options.recordAnswered(std::move(*outgoing->answered), arrivedWallClock, wallClockUs());
    } else if (outgoing) {
        forwardLive(liveUrl, req, outgoing->target, std::move(outgoing->body), res);
    }
}

bool ReplayServer::Impl::isLive(int64_t number, const std::string &target, httplib::Response &res)
{
    if (!wentLive && options.forkAt && exchanges->unservedModelCalls() == 0)
        return goLive(number, options.forkAt, target, res);
    return wentLive;
}

bool ReplayServer::Impl::goLive(int64_t number, std::optional<formats::StepIndex> at, const std::string &target,
                                httplib::Response &res)
{
    formats::Result<std::string> url = options.goLive(at);
    if (!url) {
        stats.stopped = true;
        notice.stopped = true;
        res.status = 400;
        res.set_content(refusal(target, "tapedeck replay could not go live: " + url.error().message),
                        "application/json");
        stats.liveError = url.error().message;
        return false;
    }
    liveUrl = std::move(*url);
    liveAt = at;
    wentLive = true;
    stats.liveFrom = number;
    return true;
}

LiveRequest ReplayServer::Impl::liveRequest(std::optional<fw::Api> api, std::string target, std::string body,
                                            const httplib::Request &req)
{
    ++stats.live;
    LiveRequest out{std::move(target), std::move(body), std::nullopt};
    if (api && forkAnswer) {
        const json parsed = json::parse(out.body, nullptr, false);
        const bool ofThread = forkAnswerThreadStart.is_null() ||
                              (parsed.is_object() && continues(*api, rules.normalise(*api, parsed), forkAnswerThreadStart));
        if (ofThread) {
            out.answered = answeredExchange(*api, req, out.target, out.body, std::move(*forkAnswer));
            forkAnswer.reset();
        }
    }
    return out;
}

bool ReplayServer::Impl::edit(fw::Api api, bool live, std::string &target, const std::string &body,
                              std::optional<std::string> &edited)
{
    // Live, the replay is past every fork step before the step it went live at.
    std::vector<PendingEdits *> due;
    for (PendingEdits &pending : editors)
        if (live ? !liveAt || pending.after < *liveAt : exchanges->unservedModelCallsUpTo(pending.after) == 0)
            due.push_back(&pending);
    if (due.empty() && !(live && !acceptedRawDrift.empty()))
        return false;
    json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object())
        return false;
    bool changed = live && replaceMessages(api, parsed, acceptedRawDrift);
    std::optional<json> normalised; // made once, when a thread's edits need it
    auto inThread = [&](const json &start) {
        if (start.is_null())
            return true;
        if (!normalised)
            normalised = rules.normalise(api, parsed);
        return continues(api, *normalised, start);
    };
    for (PendingEdits *pending : due) {
        const bool ofThread = inThread(pending->threadStart);
        for (RequestEditor *editor : {&pending->everywhere, &pending->forkedThread}) {
            if (editor == &pending->forkedThread && !ofThread)
                continue;
            std::vector<std::string> lines = editor->apply(api, target, parsed);
            if (!lines.empty())
                normalised.reset(); // a later fork recorded the request with this edit made
            changed = changed || !lines.empty();
            if (stats.edited.empty())
                stats.edited = std::move(lines);
        }
    }
    if (changed)
        edited = parsed.dump();
    return changed;
}

formats::Result<json> ReplayServer::Impl::conversationOf(std::optional<formats::StepIndex> call) const
{
    if (!call)
        return json();
    formats::Result<formats::Step> step = reader->step(*call, formats::TapeReader::Detail::WireOnly);
    if (!step)
        return step.error();
    const std::optional<fw::Api> api = step->wire ? fw::apiForPath(step->wire->url) : std::nullopt;
    json body = step->wire ? json::parse(step->wire->requestBody, nullptr, false) : json();
    if (!api || !body.is_object())
        return json();
    json normalised = rules.normalise(*api, std::move(body));
    const char *member = fw::conversationMember(*api);
    return normalised.contains(member) ? normalised[member] : json();
}

namespace {

// `value` without its cache_control markers, which clients move to the newest message with
// each request: a conversation is continued whatever marker its earlier messages carried.
json withoutCacheControl(json value)
{
    if (value.is_object()) {
        value.erase("cache_control");
        for (auto &[key, member] : value.items())
            member = withoutCacheControl(std::move(member));
    } else if (value.is_array()) {
        for (json &item : value)
            item = withoutCacheControl(std::move(item));
    }
    return value;
}

} // namespace

bool ReplayServer::Impl::continues(fw::Api api, const json &incoming, const json &start) const
{
    const char *member = fw::conversationMember(api);
    if (!incoming.contains(member) || !incoming[member].is_array() || !start.is_array())
        return false;
    const json &conversation = incoming[member];
    if (conversation.size() < start.size())
        return false;
    for (size_t i = 0; i < start.size(); ++i)
        if (conversation[i] != start[i] && withoutCacheControl(conversation[i]) != withoutCacheControl(start[i]))
            return false;
    return true;
}

ComparedCandidate ReplayServer::Impl::compared(size_t position, fw::Api api, const json &incoming)
{
    ComparedCandidate c;
    const RecordedExchange &e = exchanges->all()[position];
    c.step.index = e.step;
    c.step.thread = e.thread;
    c.step.kind = e.kind;
    c.step.name = e.name;
    c.threadLabel = threadLabels.count(e.thread) ? threadLabels[e.thread] : "";
    if (e.kind == formats::StepKind::ModelCall)
        c.callInThread = exchanges->callNumberInThread(position);
    formats::Result<std::shared_ptr<const DecodedExchange>> decoded = exchanges->decoded(position, *reader);
    if (decoded) {
        c.comparison = compareRequests(api, (*decoded)->normalised(rules), incoming);
    } else {
        c.comparison.similarity = 0;
    }
    return c;
}

std::shared_ptr<const formats::Step> ReplayServer::Impl::matchModelCall(int64_t number, fw::Api api,
                                                                       const std::string &target,
                                                                       const std::string &method,
                                                                       const std::string &requestBody,
                                                                       httplib::Response &res)
{
    // The recorded calls on this route that may come next; one sent byte for byte as
    // recorded matches without being parsed.
    std::vector<std::shared_ptr<const DecodedExchange>> sameRoute;
    std::vector<size_t> sameRoutePositions;
    for (size_t position : exchanges->modelCallCandidates()) {
        formats::Result<std::shared_ptr<const DecodedExchange>> decoded = exchanges->decoded(position, *reader);
        if (!decoded || (*decoded)->api != api || pathOf((*decoded)->step.wire->url) != pathOf(target))
            continue;
        sameRoute.push_back(*decoded);
        sameRoutePositions.push_back(position);
    }
    auto serve = [&](size_t i) {
        exchanges->markServed(sameRoutePositions[i]);
        ++stats.served;
        return std::shared_ptr<const formats::Step>(sameRoute[i], &sameRoute[i]->step);
    };
    for (size_t i = 0; i < sameRoute.size(); ++i)
        if (sameRoute[i]->step.wire->requestBody == requestBody)
            return serve(i);
    json body = json::parse(requestBody, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        DivergenceInput input{number, method, target, "the request body is not a JSON object", {}};
        return diverged(describeDivergence(input), api, std::nullopt, res);
    }
    json incoming = rules.normalise(api, std::move(body));
    for (size_t i = 0; i < sameRoute.size(); ++i)
        if (sameRoute[i]->normalised(rules) == incoming)
            return serve(i);
    // The same request again with the tool outputs this replay already went on with put
    // back as recorded; only after the request as it is, which another thread may send.
    if (replaceMessages(api, incoming, acceptedDrift))
        for (size_t i = 0; i < sameRoute.size(); ++i)
            if (sameRoute[i]->normalised(rules) == incoming)
                return serve(i);

    // A miss: the frontier's calls on this route and the next ones of their threads, nearest
    // first.
    std::vector<ComparedCandidate> ranked;
    std::vector<size_t> positions;
    // The frontier first, so that on a tie the call that was due is the one named.
    auto add = [&positions](size_t p) {
        if (std::find(positions.begin(), positions.end(), p) == positions.end())
            positions.push_back(p);
    };
    for (size_t position : sameRoutePositions)
        add(position);
    for (size_t position : sameRoutePositions)
        for (size_t p : exchanges->laterInThread(position, 2))
            add(p);
    for (size_t position : positions)
        ranked.push_back(compared(position, api, incoming));
    std::vector<size_t> order(ranked.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return ranked[a].comparison.similarity > ranked[b].comparison.similarity;
    });
    DivergenceInput input{number, method, target, {}, {}};
    std::optional<size_t> nearest;
    for (size_t i = 0; i < order.size() && i < 3; ++i) {
        input.candidates.push_back(ranked[order[i]]);
        if (i == 0)
            nearest = positions[order[i]];
    }
    if (sameRoutePositions.empty())
        input.problem = "no recorded call to " + pathOf(target) + " is left to answer it";
    return diverged(describeDivergence(input), api, nearest, res, &incoming, &requestBody);
}

void ReplayServer::Impl::acceptDrift(fw::Api api, const DecodedExchange &recorded, const json &incoming,
                                     const std::string &incomingBody)
{
    const char *member = fw::conversationMember(api);
    const json &recordedNormalised = recorded.normalised(rules);
    if (!recordedNormalised.contains(member) || !incoming.contains(member))
        return;
    const json &was = recordedNormalised[member];
    const json &now = incoming[member];
    if (!was.is_array() || !now.is_array())
        return;
    const json wasRaw = json::parse(recorded.step.wire->requestBody, nullptr, false);
    const json nowRaw = json::parse(incomingBody, nullptr, false);
    const bool rawAligned = wasRaw.is_object() && nowRaw.is_object() && wasRaw.contains(member) &&
                            nowRaw.contains(member) && wasRaw[member].size() == was.size() &&
                            nowRaw[member].size() == now.size();
    for (size_t i = 0; i < was.size() && i < now.size(); ++i) {
        if (was[i] == now[i])
            continue;
        acceptedDrift.emplace_back(now[i], was[i]);
        if (rawAligned)
            acceptedRawDrift.emplace_back(nowRaw[member][i], wasRaw[member][i]);
    }
}

std::shared_ptr<const formats::Step> ReplayServer::Impl::matchOther(int64_t number, const std::string &target,
                                                                   const httplib::Request &req,
                                                                   httplib::Response &res)
{
    // Other traffic is matched on method and URL alone, in any order; once every recorded
    // one is served, the last one is served again (a client may ask for the model list
    // more often than it did).
    for (size_t position : exchanges->otherCandidates(req.method + " " + target)) {
        formats::Result<std::shared_ptr<const DecodedExchange>> decoded = exchanges->decoded(position, *reader);
        if (!decoded)
            continue;
        const formats::WireExchange &wire = *(*decoded)->step.wire;
        if (wire.method != req.method || wire.url != target)
            continue;
        exchanges->markServed(position);
        ++stats.served;
        return std::shared_ptr<const formats::Step>(*decoded, &(*decoded)->step);
    }
    DivergenceInput input{number, req.method, target, req.method + " " + pathOf(target) + " was not recorded", {}};
    return diverged(describeDivergence(input), std::nullopt, std::nullopt, res);
}

std::shared_ptr<const formats::Step> ReplayServer::Impl::diverged(Divergence divergence, std::optional<fw::Api> api,
                                                                 std::optional<size_t> nearest,
                                                                 httplib::Response &res, const json *incoming,
                                                                 const std::string *incomingBody)
{
    // A fork whose thread has had all its recorded calls goes live at a miss rather than wait
    // for another thread's last calls before the fork, which may not come as recorded: the
    // miss is the fork, not a divergence.
    if (forkedThread && exchanges->modelCallsOf(*forkedThread) > 0 &&
        exchanges->unservedModelCallsOf(*forkedThread) == 0) {
        notice.goLive = goLive(divergence.request, options.forkAt, divergence.path, res);
        return nullptr;
    }
    ++stats.divergences;
    std::shared_ptr<const formats::Step> serve;
    const bool drift = divergence.environmentDrift && options.allowToolDrift;
    if (nearest && (drift || options.onMiss == OnMiss::Nearest)) {
        if (formats::Result<std::shared_ptr<const DecodedExchange>> decoded =
                exchanges->decoded(*nearest, *reader)) {
            if (drift && api && incoming && incomingBody)
                acceptDrift(*api, **decoded, *incoming, *incomingBody);
            serve = std::shared_ptr<const formats::Step>(*decoded, &(*decoded)->step);
            exchanges->markServed(*nearest);
            divergence.served = true;
            stats.driftServed += drift;
        }
    }
    if (!serve && options.onMiss == OnMiss::Live) {
        // handle() sends this request on; the branch goes on from the step it stood for.
        notice.goLive = goLive(divergence.request, divergence.expected, divergence.path, res);
    } else if (!serve) {
        stats.stopped = options.onMiss == OnMiss::Fail;
        res.status = 400;
        std::string first = divergence.report.substr(0, divergence.report.find('\n'));
        res.set_content(refusal(divergence.path, "tapedeck replay: " + first), "application/json");
    }
    divergences.push_back(divergence);
    notice.divergence = divergence;
    notice.stopped = stats.stopped;
    return serve;
}

} // namespace tapedeck::replayer
