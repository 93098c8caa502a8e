#include <tapedeck/recorder/recorder.h>

#include "proxyserver.h"
#include "recordingwriter.h"
#include "redactor.h"
#include "textutil.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <mutex>

namespace tapedeck::recorder {

namespace {

bool isLoopback(const std::string &host)
{
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Adds a fork's branch to its run and opens it with the fork_point step, in a thread of the
// branch that stands for the forked thread of the prefix.
formats::Result<BranchStart> beginForkBranch(formats::TapeWriter &writer, const ForkRecording &fork,
                                             std::vector<ContinuedThread> continued)
{
    formats::BranchInfo info = fork.branch;
    info.createdUs = nowUs();
    formats::Result<formats::BranchId> branch = writer.addBranch(info);
    if (!branch)
        return branch.error();
    formats::ThreadInfo thread;
    thread.branch = *branch;
    thread.label = fork.firstIsForkedThread && !continued.empty() ? continued.front().info.label : "fork";
    thread.startedUs = info.createdUs;
    formats::Result<formats::ThreadId> threadId = writer.addThread(thread);
    if (!threadId)
        return threadId.error();
    formats::Step forkPoint;
    forkPoint.thread = *threadId;
    forkPoint.kind = formats::StepKind::ForkPoint;
    forkPoint.name = "fork";
    forkPoint.startedUs = forkPoint.endedUs = info.createdUs;
    forkPoint.payload = fork.forkPoint;
    if (formats::Result<formats::StepIndex> written = writer.append(forkPoint); !written)
        return written.error();
    // The prefix's open tool calls are run again by the agent during this fork, not when
    // they were recorded: a tool result the branch records is timed from the fork's start.
    for (ContinuedThread &c : continued)
        c.answerEndedUs = info.createdUs;
    const bool continues = fork.firstIsForkedThread && !continued.empty();
    return BranchStart{*branch, std::move(continued), *threadId, continues};
}

} // namespace

Upstreams Upstreams::all(const std::string &url)
{
    Upstreams u;
    u.openai = u.anthropic = u.gemini = url;
    return u;
}

struct Recorder::Impl {
    RecorderOptions options;
    formats::RunId run;
    formats::BranchId branch;
    Redactor redactor; // for the exchanges recordAnswered() is given
    std::unique_ptr<RecordingWriter> writer;
    std::unique_ptr<ProxyServer> server;
    std::once_flag finished;
    formats::Status finishStatus;
};

Recorder::Recorder(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Recorder::~Recorder()
{
    if (m_impl)
        (void)finish("interrupted");
}

formats::Result<std::unique_ptr<Recorder>> Recorder::start(RecorderOptions options)
{
    using formats::Error;
    using formats::ErrorCode;
    if (!isLoopback(options.listenHost) && options.authToken.empty())
        return Error{ErrorCode::InvalidArgument,
                     "listening on " + options.listenHost +
                         " would let other machines use your API keys through this proxy; give "
                         "--auth-token as well, or listen on 127.0.0.1"};
    formats::Result<Redactor> redactor = Redactor::create(options.redactHeaders, options.redactPatterns);
    if (!redactor)
        return redactor.error();

    if (options.fork && options.runPerSession)
        return Error{ErrorCode::InvalidArgument, "a fork records one branch, not a run per session"};
    const bool exists = std::filesystem::exists(options.tapePath);
    if (options.fork && !exists)
        return Error{ErrorCode::NotFound, options.tapePath + " does not exist: a fork is recorded into the tape it forks"};
    formats::Result<std::vector<ContinuedThread>> continued =
        options.fork ? readContinuedThreads(options.tapePath, options.fork->continuedCalls)
                     : std::vector<ContinuedThread>{};
    if (!continued)
        return continued.error();
    // The tape holds what the agent and its model said to each other: readable by its owner
    // only, and so are the -wal and -shm files SQLite makes beside it. The mask is set while
    // the files are created, before any other thread of the recorder exists.
    const mode_t oldMask = ::umask(S_IRWXG | S_IRWXO);
    formats::Result<std::unique_ptr<formats::TapeWriter>> writer =
        (options.appendToExisting || options.fork) && exists ? formats::TapeWriter::openForAppend(options.tapePath)
                                           : formats::TapeWriter::create(options.tapePath);
    ::umask(oldMask);
    if (!writer)
        return writer.error();

    auto impl = std::make_unique<Impl>();
    RunGrouping grouping;
    grouping.perSession = options.runPerSession;
    grouping.idleUs = options.sessionIdleSeconds * 1000000;
    grouping.template_ = options.run;
    std::optional<formats::RunId> firstRun;
    std::optional<BranchStart> branchStart;
    if (options.fork) {
        formats::Result<BranchStart> begun = beginForkBranch(**writer, *options.fork, std::move(*continued));
        if (!begun)
            return begun.error();
        branchStart = std::move(*begun);
        firstRun = impl->run = options.fork->branch.run;
        impl->branch = branchStart->branch;
    } else if (!options.runPerSession) {
        formats::RunInfo run = options.run;
        run.startedUs = nowUs();
        formats::Result<formats::RunId> runId = (*writer)->beginRun(run);
        if (!runId)
            return runId.error();
        firstRun = impl->run = *runId;
        formats::Result<formats::BranchId> branch = (*writer)->mainBranch(*runId);
        if (!branch)
            return branch.error();
        impl->branch = *branch;
    }
    impl->redactor = *redactor;
    impl->writer = std::make_unique<RecordingWriter>(std::move(*writer), firstRun, std::move(grouping),
                                                      *redactor, std::move(branchStart));

    RecordingWriter *sink = impl->writer.get();
    impl->server = std::make_unique<ProxyServer>(
        options.upstreams, std::move(*redactor), options.authToken, options.upstreamTimeoutSeconds,
        [sink](CapturedExchange exchange) { sink->submit(std::move(exchange)); });
    if (formats::Status s = impl->server->start(options.listenHost, options.listenPort); !s)
        return s.error();
    impl->options = std::move(options);
    return std::unique_ptr<Recorder>(new Recorder(std::move(impl)));
}

int Recorder::port() const { return m_impl->server->port(); }

std::string Recorder::baseUrl() const
{
    const std::string &host = m_impl->options.listenHost;
    std::string url = "http://" + (host == "0.0.0.0" ? std::string("127.0.0.1") : host) + ":" +
                      std::to_string(port());
    if (!m_impl->options.authToken.empty())
        url += "/" + m_impl->options.authToken;
    return url;
}

formats::RunId Recorder::run() const { return m_impl->run; }

formats::BranchId Recorder::branch() const { return m_impl->branch; }

void Recorder::recordAnswered(formats::WireExchange wire, int64_t startedUs, int64_t firstByteUs, int64_t endedUs)
{
    CapturedExchange exchange;
    exchange.startedUs = startedUs;
    exchange.firstByteUs = firstByteUs;
    exchange.endedUs = endedUs;
    exchange.api = wire.method == "POST" ? formats::wire::apiForPath(wire.url) : std::nullopt;
    exchange.streamed = !wire.chunks.empty();
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto &[name, value] : wire.requestHeaders.items())
        headers.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
    wire.requestHeaders = m_impl->redactor.headers(headers);
    wire.requestBody = m_impl->redactor.text(wire.requestBody);
    exchange.wire = std::move(wire);
    m_impl->writer->submit(std::move(exchange));
}

const std::string &Recorder::tapePath() const { return m_impl->options.tapePath; }

formats::Status Recorder::finish(const std::string &outcome)
{
    std::call_once(m_impl->finished, [&] {
        m_impl->server->stop();
        m_impl->finishStatus = m_impl->writer->finish(nowUs(), outcome);
    });
    return m_impl->finishStatus;
}

RecorderStats Recorder::stats() const { return m_impl->writer->stats(); }

} // namespace tapedeck::recorder
