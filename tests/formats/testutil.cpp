#include "testutil.h"

#include <sqlite3.h>

#include <array>
#include <csignal>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace tapedeck::testutil {

using namespace tapedeck::formats;
using nlohmann::json;

uint64_t Rng::next()
{
    uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t Rng::between(int64_t lo, int64_t hi)
{
    return lo + int64_t(next() % uint64_t(hi - lo + 1));
}

std::string prose(uint64_t seed, size_t words)
{
    static constexpr std::array<const char *, 64> kWords = {
        "the",      "kernel",   "tile",     "shared",    "memory",  "warp",     "register",
        "spill",    "compile",  "error",    "benchmark", "speedup", "latency",  "throughput",
        "matrix",   "vector",   "load",     "store",     "barrier", "thread",   "block",
        "grid",     "cache",    "line",     "bank",      "conflict", "unroll",  "loop",
        "pointer",  "offset",   "stride",   "alignment", "float",   "half",     "precision",
        "reduce",   "scan",     "sort",     "test",      "passes",  "fails",    "because",
        "we",       "should",   "try",      "instead",   "of",      "and",      "then",
        "a",        "faster",   "slower",   "version",   "commit",  "revert",   "profile",
        "occupancy", "bound",   "is",       "not",       "with",    "for",      "in",
        "output",
    };
    Rng rng(seed * 0x100000001b3ull + 17);
    std::string out;
    out.reserve(words * 7);
    for (size_t i = 0; i < words; ++i) {
        if (i)
            out += (rng.next() % 13 == 0) ? ".\n" : " ";
        out += kWords[rng.next() % kWords.size()];
        // Numbers make the text less repetitive, as in real tool output.
        if (rng.next() % 9 == 0)
            out += std::to_string(rng.next() % 100000);
    }
    return out;
}

std::string noise(uint64_t seed, size_t n)
{
    Rng rng(seed ^ 0x5bd1e995u);
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i)
        out[i] = char(rng.next() & 0xff);
    // Make sure it is not UTF-8 even when short.
    if (n)
        out[0] = char(0xff);
    return out;
}

Result<Scaffold> beginScaffold(TapeWriter &writer, const std::string &runName)
{
    RunInfo info;
    info.name = runName;
    info.agent = "test-agent";
    info.command = {"agent", "--task", "tests"};
    info.cwd = "/work/project";
    info.startedUs = kT0;
    auto run = writer.beginRun(info);
    if (!run)
        return run.error();
    auto branch = writer.mainBranch(*run);
    if (!branch)
        return branch.error();
    ThreadInfo t;
    t.branch = *branch;
    t.label = "main";
    t.startedUs = kT0;
    auto thread = writer.addThread(t);
    if (!thread)
        return thread.error();
    return Scaffold{*run, *branch, *thread};
}

namespace {

// A request body the way an HTTP client sends it: the whole conversation every time.
std::string requestBodyFor(const std::string &model, const std::vector<json> &messages,
                           const json &params)
{
    json body = params;
    body["model"] = model;
    body["messages"] = messages;
    return body.dump();
}

// Splits `body` into `n` stream chunks starting at `fromUs`, one every `everyUs`.
std::vector<StreamChunk> chunksOf(const std::string &body, int n, int64_t fromUs, int64_t everyUs)
{
    std::vector<StreamChunk> chunks;
    size_t done = 0;
    for (int i = 0; i < n; ++i) {
        size_t len = i + 1 == n ? body.size() - done : body.size() / size_t(n);
        chunks.push_back(StreamChunk{uint32_t(len), fromUs + i * everyUs});
        done += len;
    }
    return chunks;
}

} // namespace

Step generatedStep(uint64_t series, int64_t k, ThreadId thread)
{
    Rng rng(series * 1000003 + uint64_t(k));
    Step s;
    s.thread = thread;
    s.callId = "gen-" + std::to_string(series) + "-" + std::to_string(k);
    s.startedUs = kT0 + int64_t(series) * 3600'000'000 + k * 1'000'000;
    s.endedUs = s.startedUs + 200'000 + int64_t(rng.next() % 800'000);
    switch (k % 3) {
    case 0: {
        s.kind = StepKind::ModelCall;
        s.name = "model-" + std::to_string(series % 3);
        s.requestMessages.push_back({{"role", "system"}, {"content", prose(series, 60)}});
        for (int64_t j = 0; j <= k / 3; ++j) {
            s.requestMessages.push_back(
                {{"role", j % 2 ? "assistant" : "user"},
                 {"content", prose(series * 7919 + uint64_t(j), size_t(40 + (j % 5) * 10))}});
        }
        s.requestParams = {{"max_tokens", 1024}, {"temperature", 0.5}};
        s.payload = {{"role", "assistant"}, {"content", prose(series * 31 + uint64_t(k), 30)}};
        s.usage = Usage{100 * (k / 3 + 1), 50 + k, k * 3, k % 5};
        if (k % 2)
            s.costUsd = 0.001 * double(k);
        s.firstTokenUs = s.startedUs + 100'000;
        WireExchange w;
        w.method = "POST";
        w.url = "/v1/messages";
        w.status = 200;
        w.requestHeaders = {{"content-type", "application/json"}, {"x-series", series}};
        w.responseHeaders = {{"content-type", "text/event-stream"}};
        w.requestBody = requestBodyFor(s.name, s.requestMessages, s.requestParams);
        w.responseBody = "data: " + prose(series * 131 + uint64_t(k), 25) + "\n\n";
        if (k % 6 == 0)
            w.responseBody += noise(uint64_t(k), 16);
        w.chunks = chunksOf(w.responseBody, 3, s.firstTokenUs, 20'000);
        s.wire = std::move(w);
        break;
    }
    case 1:
        s.kind = StepKind::ToolCall;
        s.name = "bash";
        s.payload = {{"cmd", "make -j" + std::to_string(k % 8)}, {"note", prose(uint64_t(k), 8)}};
        break;
    default:
        s.kind = StepKind::ToolResult;
        s.name = "bash";
        s.status = k % 7 == 0 ? StepStatus::Error : StepStatus::Ok;
        s.payload = {{"output", prose(series * 17 + uint64_t(k), 150)}, {"is_error", k % 7 == 0}};
        break;
    }
    return s;
}

bool parseGeneratedCallId(const std::string &callId, uint64_t &series, int64_t &k)
{
    if (callId.rfind("gen-", 0) != 0)
        return false;
    size_t dash = callId.find('-', 4);
    if (dash == std::string::npos)
        return false;
    const char *begin = callId.data() + 4;
    auto r1 = std::from_chars(begin, callId.data() + dash, series);
    auto r2 = std::from_chars(callId.data() + dash + 1, callId.data() + callId.size(), k);
    return r1.ec == std::errc() && r1.ptr == callId.data() + dash && r2.ec == std::errc() &&
           r2.ptr == callId.data() + callId.size();
}

namespace {

std::string show(const json &j)
{
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

std::string show(const std::string &bytes)
{
    std::string s = bytes.size() > 80 ? bytes.substr(0, 80) + "..." : bytes;
    return "\"" + s + "\" (" + std::to_string(bytes.size()) + " bytes)";
}

template <typename T>
std::string differ(const char *field, const T &expected, const T &actual)
{
    std::ostringstream out;
    out << field << ": expected " << expected << ", got " << actual;
    return out.str();
}

std::string optionalText(const std::optional<StepIndex> &v)
{
    return v ? std::to_string(v->value) : "none";
}

std::string optionalText(const std::optional<double> &v)
{
    if (!v)
        return "none";
    std::ostringstream out;
    out.precision(17);
    out << *v;
    return out.str();
}

} // namespace

std::string stepDifference(const Step &e, const Step &a)
{
    if (e.index.value && e.index != a.index)
        return differ("index", e.index.value, a.index.value);
    if (e.run.value && e.run != a.run)
        return differ("run", e.run.value, a.run.value);
    if (e.branch.value && e.branch != a.branch)
        return differ("branch", e.branch.value, a.branch.value);
    if (e.thread != a.thread)
        return differ("thread", e.thread.value, a.thread.value);
    if (e.seq && e.seq != a.seq)
        return differ("seq", e.seq, a.seq);
    if (e.kind != a.kind)
        return differ("kind", stepKindName(e.kind), stepKindName(a.kind));
    if (e.status != a.status)
        return differ("status", stepStatusName(e.status), stepStatusName(a.status));
    if (e.name != a.name)
        return differ("name", e.name, a.name);
    if (e.callId != a.callId)
        return differ("callId", e.callId, a.callId);
    if (e.parent != a.parent)
        return differ("parent", optionalText(e.parent), optionalText(a.parent));
    if (e.startedUs != a.startedUs)
        return differ("startedUs", e.startedUs, a.startedUs);
    if (e.firstTokenUs != a.firstTokenUs)
        return differ("firstTokenUs", e.firstTokenUs, a.firstTokenUs);
    if (e.endedUs != a.endedUs)
        return differ("endedUs", e.endedUs, a.endedUs);
    if (e.usage != a.usage)
        return "usage differs";
    if (e.costUsd != a.costUsd)
        return differ("costUsd", optionalText(e.costUsd), optionalText(a.costUsd));
    if (e.requestMessages.size() != a.requestMessages.size())
        return differ("requestMessages.size", e.requestMessages.size(), a.requestMessages.size());
    for (size_t i = 0; i < e.requestMessages.size(); ++i) {
        if (e.requestMessages[i] != a.requestMessages[i])
            return "requestMessages[" + std::to_string(i) + "]: expected " +
                   show(e.requestMessages[i]) + ", got " + show(a.requestMessages[i]);
    }
    if (e.requestParams != a.requestParams)
        return "requestParams: expected " + show(e.requestParams) + ", got " + show(a.requestParams);
    if (e.payload != a.payload)
        return "payload: expected " + show(e.payload) + ", got " + show(a.payload);
    if (e.wire.has_value() != a.wire.has_value())
        return std::string("wire: expected ") + (e.wire ? "an exchange" : "none") + ", got " +
               (a.wire ? "an exchange" : "none");
    if (e.wire) {
        const WireExchange &ew = *e.wire, &aw = *a.wire;
        if (ew.method != aw.method)
            return differ("wire.method", ew.method, aw.method);
        if (ew.url != aw.url)
            return differ("wire.url", ew.url, aw.url);
        if (ew.status != aw.status)
            return differ("wire.status", ew.status, aw.status);
        if (ew.requestHeaders != aw.requestHeaders)
            return "wire.requestHeaders: expected " + show(ew.requestHeaders) + ", got " +
                   show(aw.requestHeaders);
        if (ew.responseHeaders != aw.responseHeaders)
            return "wire.responseHeaders: expected " + show(ew.responseHeaders) + ", got " +
                   show(aw.responseHeaders);
        if (ew.requestBody != aw.requestBody)
            return "wire.requestBody: expected " + show(ew.requestBody) + ", got " +
                   show(aw.requestBody);
        if (ew.responseBody != aw.responseBody)
            return "wire.responseBody: expected " + show(ew.responseBody) + ", got " +
                   show(aw.responseBody);
        if (ew.chunks != aw.chunks)
            return differ("wire.chunks.size", ew.chunks.size(), aw.chunks.size()) +
                   " (or their contents differ)";
    }
    return {};
}

std::string tapeDifference(const std::string &path, const std::vector<Step> &expected)
{
    auto reader = TapeReader::open(path);
    if (!reader)
        return reader.error().message;
    if ((*reader)->stepCount() != int64_t(expected.size()))
        return std::to_string((*reader)->stepCount()) + " steps, not " + std::to_string(expected.size());
    for (const Step &e : expected) {
        auto a = (*reader)->step(e.index);
        if (!a)
            return a.error().message;
        if (std::string diff = stepDifference(e, *a); !diff.empty())
            return "step " + std::to_string(e.index.value) + ": " + diff;
    }
    return {};
}

Result<SampleTape> writeSampleTape(const std::string &path)
{
    WriterOptions options;
    options.overwrite = true;
    auto created = TapeWriter::create(path, options);
    if (!created)
        return created.error();
    TapeWriter &w = **created;
    SampleTape out;

    RunInfo info;
    info.name = "sample run";
    info.agent = "claude-code";
    info.command = {"claude", "-p", "make the tests pass"};
    info.cwd = "/work/project";
    info.labels = {{"task", "tests"}, {"attempt", 1}};
    info.startedUs = kT0;
    auto run = w.beginRun(info);
    if (!run)
        return run.error();
    out.run = *run;
    auto main = w.mainBranch(out.run);
    if (!main)
        return main.error();
    out.mainBranch = *main;
    auto mainThread = w.addThread(ThreadInfo{{}, out.mainBranch, std::nullopt, "main", kT0});
    if (!mainThread)
        return mainThread.error();
    out.mainThread = *mainThread;

    std::map<int64_t, int64_t> seqs;
    int64_t clock = kT0;
    std::optional<Error> failure;
    auto add = [&](Step s) -> StepIndex {
        if (failure)
            return StepIndex{};
        if (!s.startedUs) {
            clock += 1'500'000;
            s.startedUs = clock;
            s.endedUs = clock + 700'000;
        }
        auto r = w.append(s);
        if (!r) {
            failure = r.error();
            return StepIndex{};
        }
        s.index = *r;
        s.run = out.run;
        s.seq = seqs[s.thread.value]++;
        out.written.push_back(s);
        return *r;
    };
    auto branchOf = [&](ThreadId t) {
        return t == out.forkThread && out.forkThread.value ? out.forkedBranch : out.mainBranch;
    };

    const json system = {{"role", "system"}, {"content", "You are a careful engineer. " + prose(1, 80)}};
    const json user = {{"role", "user"}, {"content", "Make the tests pass, then report."}};
    const json params = {{"max_tokens", 4096},
                         {"temperature", 0.2},
                         {"tools", json::array({{{"name", "read_file"}}, {{"name", "bash"}}})}};

    Step note;
    note.thread = out.mainThread;
    note.kind = StepKind::Annotation;
    note.payload = {{"text", "session started"}};
    add(note);

    Step call;
    call.thread = out.mainThread;
    call.kind = StepKind::ModelCall;
    call.name = "claude-sonnet-4";
    call.requestMessages = {system, user};
    call.requestParams = params;
    call.payload = {{"role", "assistant"},
                    {"content", json::array({{{"type", "text"}, {"text", "I will read the Makefile."}},
                                             {{"type", "tool_use"}, {"id", "toolu_01"},
                                              {"name", "read_file"},
                                              {"input", {{"path", "Makefile"}}}}})}};
    call.usage = Usage{1200, 80, 0, 1200};
    call.costUsd = 0.0123;
    clock += 1'000'000;
    call.startedUs = clock;
    call.firstTokenUs = clock + 400'000;
    call.endedUs = clock + 1'900'000;
    WireExchange wire;
    wire.method = "POST";
    wire.url = "/v1/messages?beta=true";
    wire.status = 200;
    wire.requestHeaders = {{"content-type", "application/json"}, {"anthropic-version", "2023-06-01"}};
    wire.responseHeaders = {{"content-type", "application/json"}, {"request-id", "req_1"}};
    wire.requestBody = requestBodyFor(call.name, call.requestMessages, params);
    wire.responseBody = call.payload.dump();
    call.wire = wire;
    out.firstModelCall = add(call);
    clock = call.endedUs;

    Step tool;
    tool.thread = out.mainThread;
    tool.kind = StepKind::ToolCall;
    tool.name = "read_file";
    tool.callId = "toolu_01";
    tool.parent = out.firstModelCall;
    tool.payload = {{"path", "Makefile"}};
    StepIndex readCall = add(tool);

    out.uniqueWord = "zyzzogeton";
    Step result;
    result.thread = out.mainThread;
    result.kind = StepKind::ToolResult;
    result.name = "read_file";
    result.callId = "toolu_01";
    result.parent = readCall;
    result.payload = {{"output", prose(2, 2000) + " " + out.uniqueWord + " " + prose(3, 200)},
                      {"is_error", false}};
    out.bigToolResult = add(result);

    Step streamed = call;
    streamed.requestMessages.push_back({{"role", "assistant"}, {"content", "I will read the Makefile."}});
    streamed.requestMessages.push_back(
        {{"role", "user"}, {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", "toolu_01"},
                                                     {"content", "(the Makefile)"}}})}});
    streamed.payload = {{"role", "assistant"},
                        {"content", "Spawning a sub-agent to write the tests, then running them."}};
    streamed.usage = Usage{2400, 150, 1200, 0};
    streamed.costUsd = 0.0211;
    clock += 1'000'000;
    streamed.startedUs = clock;
    streamed.firstTokenUs = clock + 350'000;
    streamed.endedUs = clock + 2'400'000;
    streamed.wire->url = "/v1/messages";
    streamed.wire->requestBody = requestBodyFor(call.name, streamed.requestMessages, params);
    // A server-sent event stream with a few bytes that are not UTF-8 in the middle.
    streamed.wire->responseBody = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
                                  noise(7, 24) + "\nevent: message_stop\ndata: {}\n\n";
    streamed.wire->responseHeaders = {{"content-type", "text/event-stream"}};
    streamed.wire->chunks = chunksOf(streamed.wire->responseBody, 4, streamed.firstTokenUs, 150'000);
    out.streamedModelCall = add(streamed);
    clock = streamed.endedUs;

    Step spawn;
    spawn.thread = out.mainThread;
    spawn.kind = StepKind::ToolCall;
    spawn.name = "spawn_agent";
    spawn.callId = "toolu_02";
    spawn.parent = out.streamedModelCall;
    spawn.payload = {{"task", "write tests for the tile kernel"}};
    StepIndex spawnCall = add(spawn);

    auto sub = w.addThread(ThreadInfo{{}, out.mainBranch, out.mainThread, "subagent: tests", clock});
    if (!sub)
        return sub.error();
    out.subThread = *sub;

    Step subCall;
    subCall.thread = out.subThread;
    subCall.kind = StepKind::ModelCall;
    subCall.name = "claude-haiku-4";
    subCall.requestMessages = {{{"role", "user"}, {"content", "write tests for the tile kernel"}}};
    subCall.requestParams = {{"max_tokens", 1024}};
    subCall.payload = {{"role", "assistant"}, {"content", "Searching for existing tests."}};
    subCall.usage = Usage{300, 40, 0, 0};
    add(subCall); // no cost known

    Step mcp;
    mcp.thread = out.subThread;
    mcp.kind = StepKind::McpCall;
    mcp.name = "github.search_code";
    mcp.payload = {{"server", "github"},
                   {"method", "tools/call"},
                   {"arguments", {{"q", "tile kernel test"}}},
                   {"result", {{"total_count", 3}}}};
    add(mcp);

    Step http;
    http.thread = out.subThread;
    http.kind = StepKind::HttpExchange;
    http.status = StepStatus::Error;
    http.name = "GET https://example.com/missing.bin";
    WireExchange get;
    get.method = "GET";
    get.url = "https://example.com/missing.bin";
    get.status = 404;
    get.responseHeaders = {{"content-type", "application/octet-stream"}};
    get.responseBody = noise(9, 300);
    http.wire = get;
    out.httpExchange = add(http);

    Step spawnResult;
    spawnResult.thread = out.mainThread;
    spawnResult.kind = StepKind::ToolResult;
    spawnResult.name = "spawn_agent";
    spawnResult.callId = "toolu_02";
    spawnResult.parent = spawnCall;
    spawnResult.payload = {{"output", "ok"}, {"is_error", false}};
    out.smallToolResult = add(spawnResult);

    Step compaction;
    compaction.thread = out.mainThread;
    compaction.kind = StepKind::Compaction;
    compaction.payload = {{"summary", "Read the Makefile; a sub-agent wrote tests."},
                          {"dropped_messages", 4}};
    add(compaction);

    Step error;
    error.thread = out.mainThread;
    error.kind = StepKind::Error;
    error.status = StepStatus::Error;
    error.name = "rate_limit_error";
    error.payload = {{"message", "rate limited, retrying in 20s"}, {"http_status", 429}};
    out.errorStep = add(error);

    Step bash;
    bash.thread = out.mainThread;
    bash.kind = StepKind::ToolCall;
    bash.name = "bash";
    bash.callId = "toolu_03";
    bash.parent = out.streamedModelCall;
    bash.payload = {{"command", "make test"}};
    out.forkStep = add(bash);

    Step failed;
    failed.thread = out.mainThread;
    failed.kind = StepKind::ToolResult;
    failed.status = StepStatus::Error;
    failed.name = "bash";
    failed.callId = "toolu_03";
    failed.parent = out.forkStep;
    failed.payload = {{"output", "FAIL: 2 of 14 tests failed: out-of-bounds write in the tile-bounds check"},
                      {"is_error", true}};
    add(failed);

    Step answer = call;
    answer.requestMessages = streamed.requestMessages;
    answer.requestMessages.push_back({{"role", "user"}, {"content", "FAIL: 2 of 14 tests failed"}});
    answer.payload = {{"role", "assistant"}, {"content", "Two tests fail; giving up."}};
    answer.startedUs = 0;
    answer.firstTokenUs = 0;
    answer.costUsd = 0.0302;
    answer.wire->requestBody = requestBodyFor(call.name, answer.requestMessages, params);
    answer.wire->responseBody = answer.payload.dump();
    add(answer);

    if (failure)
        return *failure;
    if (auto s = w.endRun(out.run, clock + 60'000'000, "exit 1"); !s)
        return s.error();

    // A replay that edited the failing tool result: a forked branch continuing after the
    // `make test` tool call, with its own thread.
    BranchInfo fork;
    fork.run = out.run;
    fork.parent = out.mainBranch;
    fork.forkStep = out.forkStep;
    fork.description = "edited the result of `make test`";
    fork.createdUs = clock + 120'000'000;
    auto forked = w.addBranch(fork);
    if (!forked)
        return forked.error();
    out.forkedBranch = *forked;
    auto forkThread = w.addThread(ThreadInfo{{}, out.forkedBranch, std::nullopt, "main", fork.createdUs});
    if (!forkThread)
        return forkThread.error();
    out.forkThread = *forkThread;

    clock = fork.createdUs;
    Step forkPoint;
    forkPoint.thread = out.forkThread;
    forkPoint.kind = StepKind::ForkPoint;
    forkPoint.parent = out.forkStep;
    forkPoint.payload = {{"from_step", out.forkStep.value}, {"edit", "tool output replaced"}};
    add(forkPoint);

    Step edited = failed;
    edited.thread = out.forkThread;
    edited.status = StepStatus::Ok;
    edited.payload = {{"output", "ok: 14 of 14 passed"}, {"is_error", false}};
    add(edited);

    Step replayed = answer;
    replayed.thread = out.forkThread;
    replayed.requestMessages.back() = {{"role", "user"}, {"content", "ok: 14 of 14 passed"}};
    replayed.payload = {{"role", "assistant"}, {"content", "All tests pass."}};
    replayed.startedUs = 0;
    replayed.wire->requestBody = requestBodyFor(call.name, replayed.requestMessages, params);
    replayed.wire->responseBody = replayed.payload.dump();
    out.lastStep = add(replayed);
    if (failure)
        return *failure;

    for (Step &s : out.written)
        s.branch = branchOf(s.thread);
    return out;
}

namespace {

struct Connection {
    sqlite3 *db = nullptr;
    explicit Connection(const std::string &path)
    {
        if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            sqlite3_close(db);
            db = nullptr;
        }
    }
    ~Connection() { sqlite3_close(db); }
};

} // namespace

std::string sqlExec(const std::string &path, const std::string &sql)
{
    Connection c(path);
    if (!c.db)
        return "cannot open " + path;
    char *err = nullptr;
    if (sqlite3_exec(c.db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "error";
        sqlite3_free(err);
        return msg;
    }
    return {};
}

std::optional<std::string> sqlBytes(const std::string &path, const std::string &sql)
{
    Connection c(path);
    if (!c.db)
        return std::nullopt;
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        return std::nullopt;
    std::optional<std::string> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(stmt, 0);
        int n = sqlite3_column_bytes(stmt, 0);
        out = p ? std::string(static_cast<const char *>(p), size_t(n)) : std::string();
    }
    sqlite3_finalize(stmt);
    return out;
}

std::optional<int64_t> sqlInt(const std::string &path, const std::string &sql)
{
    Connection c(path);
    if (!c.db)
        return std::nullopt;
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        return std::nullopt;
    std::optional<int64_t> out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return out;
}

std::string sqlSetBlobColumn(const std::string &path, int64_t blob, const std::string &column,
                             const std::string &value)
{
    Connection c(path);
    if (!c.db)
        return "cannot open " + path;
    std::string sql = "UPDATE blobs SET " + column + " = ? WHERE id = ?";
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        return sqlite3_errmsg(c.db);
    sqlite3_bind_blob64(stmt, 1, value.data(), value.size(), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, blob);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return sqlite3_errmsg(c.db);
    if (sqlite3_changes(c.db) != 1)
        return "no blob " + std::to_string(blob);
    return {};
}

void restoreCrashSignals()
{
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP})
        std::signal(sig, SIG_DFL);
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return bool(out);
}

} // namespace tapedeck::testutil
