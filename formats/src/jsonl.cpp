// JSONL interchange: a tape as one JSON object per line (FORMAT.md, "JSONL interchange").
#include "tapedeck/formats/tape.h"

#include "base64.h"
#include "jsonhash.h"

#include <istream>
#include <map>
#include <set>
#include <ostream>

namespace tapedeck::formats {

using nlohmann::json;

namespace {

constexpr int kJsonlVersion = 1;

json idOrNull(const std::optional<int64_t> &v)
{
    return v ? json(*v) : json(nullptr);
}

// Wire bodies are bytes: a JSON string when they are UTF-8, base64 otherwise.
void putBytes(json &out, const char *key, const std::string &bytes)
{
    if (isValidUtf8(bytes))
        out[key] = bytes;
    else
        out[std::string(key) + "_base64"] = base64Encode(bytes);
}

} // namespace

json runToJson(const RunInfo &r)
{
    return {{"id", r.id.value},         {"name", r.name},   {"agent", r.agent},
            {"command", r.command},     {"cwd", r.cwd},     {"labels", r.labels},
            {"started_us", r.startedUs}, {"ended_us", r.endedUs}, {"outcome", r.outcome}};
}

json stepToJson(const Step &s)
{
    json j = {
        {"type", "step"},
        {"index", s.index.value},
        {"run", s.run.value},
        {"branch", s.branch.value},
        {"thread", s.thread.value},
        {"seq", s.seq},
        {"kind", stepKindName(s.kind)},
        {"status", stepStatusName(s.status)},
        {"name", s.name},
        {"call_id", s.callId},
        {"parent", idOrNull(s.parent ? std::optional<int64_t>(s.parent->value) : std::nullopt)},
        {"started_us", s.startedUs},
        {"first_token_us", s.firstTokenUs},
        {"ended_us", s.endedUs},
        {"usage",
         {{"input_tokens", s.usage.inputTokens},
          {"output_tokens", s.usage.outputTokens},
          {"cache_read_tokens", s.usage.cacheReadTokens},
          {"cache_write_tokens", s.usage.cacheWriteTokens}}},
        {"cost_usd", s.costUsd ? json(*s.costUsd) : json(nullptr)},
        {"request_messages", s.requestMessages},
        {"request_params", s.requestParams},
        {"payload", s.payload},
    };
    if (s.wire) {
        const WireExchange &w = *s.wire;
        json wire = {{"method", w.method},
                     {"url", w.url},
                     {"status", w.status},
                     {"request_headers", w.requestHeaders},
                     {"response_headers", w.responseHeaders}};
        putBytes(wire, "request_body", w.requestBody);
        putBytes(wire, "response_body", w.responseBody);
        json chunks = json::array();
        for (const StreamChunk &c : w.chunks)
            chunks.push_back({c.length, c.atUs});
        wire["chunks"] = std::move(chunks);
        j["wire"] = std::move(wire);
    } else {
        j["wire"] = nullptr;
    }
    return j;
}

namespace {

void writeLine(std::ostream &out, const json &j)
{
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
}

} // namespace

Status exportJsonl(const TapeReader &reader, std::ostream &out)
{
    auto runs = reader.runs();
    if (!runs)
        return runs.error();
    auto branches = reader.branches();
    if (!branches)
        return branches.error();
    auto threads = reader.threads();
    if (!threads)
        return threads.error();

    writeLine(out, {{"type", "tape"},
                    {"format", "tapedeck-jsonl"},
                    {"version", kJsonlVersion},
                    {"tape_format_version", reader.formatVersion()}});
    // Branches and threads are written in id order, each as early as it can be: a branch
    // that forks at step N after step N's line, a thread after its branch, a step after
    // its thread. An importer then gives them the same ids, in the same order.
    // A run line creates the run's original branch, so it goes just before that branch.
    std::set<int64_t> runsWritten;
    auto writeRun = [&](RunId id) {
        if (!runsWritten.insert(id.value).second)
            return;
        for (const RunInfo &r : *runs) {
            if (r.id != id)
                continue;
            json line = runToJson(r);
            line["type"] = "run";
            writeLine(out, line);
        }
    };
    size_t nextBranch = 0, nextThread = 0;
    std::set<int64_t> branchesWritten;
    auto writeReady = [&](int64_t stepsWritten) {
        for (bool progress = true; progress;) {
            progress = false;
            if (nextBranch < branches->size()) {
                const BranchInfo &b = (*branches)[nextBranch];
                if (!b.forkStep || b.forkStep->value <= stepsWritten) {
                    writeRun(b.run);
                    writeLine(out, {{"type", "branch"},
                                    {"id", b.id.value},
                                    {"run", b.run.value},
                                    {"parent", idOrNull(b.parent ? std::optional<int64_t>(b.parent->value)
                                                                 : std::nullopt)},
                                    {"fork_step", idOrNull(b.forkStep ? std::optional<int64_t>(b.forkStep->value)
                                                                      : std::nullopt)},
                                    {"description", b.description},
                                    {"created_us", b.createdUs}});
                    branchesWritten.insert(b.id.value);
                    ++nextBranch;
                    progress = true;
                }
            }
            if (nextThread < threads->size()) {
                const ThreadInfo &t = (*threads)[nextThread];
                if (branchesWritten.count(t.branch.value)) {
                    writeLine(out, {{"type", "thread"},
                                    {"id", t.id.value},
                                    {"branch", t.branch.value},
                                    {"parent", idOrNull(t.parent ? std::optional<int64_t>(t.parent->value)
                                                                 : std::nullopt)},
                                    {"label", t.label},
                                    {"started_us", t.startedUs}});
                    ++nextThread;
                    progress = true;
                }
            }
        }
    };
    int64_t stepsWritten = 0;
    writeReady(stepsWritten);
    Status status = reader.forEachStep([&](const Step &s) {
        writeReady(stepsWritten);
        writeLine(out, stepToJson(s));
        stepsWritten = s.index.value;
        return bool(out);
    });
    if (!status)
        return status;
    writeReady(INT64_MAX);
    for (const RunInfo &r : *runs)
        writeRun(r.id);
    if (!out)
        return Error{ErrorCode::Io, "cannot write the JSONL output"};
    return {};
}

namespace {

// Reads the fields of one line, remembering the first problem with the line and field.
class LineReader {
public:
    LineReader(const json &j, std::string where) : m_j(j), m_where(std::move(where)) {}

    bool failed() const { return m_error.has_value(); }
    Error error() const { return *m_error; }
    void fail(const std::string &what)
    {
        if (!m_error)
            m_error = Error{ErrorCode::Parse, m_where + ": " + what};
    }

    const json *field(const char *key)
    {
        auto it = m_j.find(key);
        if (it == m_j.end()) {
            fail(std::string("missing field \"") + key + "\"");
            return nullptr;
        }
        return &*it;
    }
    int64_t integer(const char *key)
    {
        const json *v = field(key);
        if (v && !v->is_number_integer()) {
            fail(std::string("field \"") + key + "\" must be an integer");
            return 0;
        }
        return v ? v->get<int64_t>() : 0;
    }
    std::optional<int64_t> optionalInteger(const char *key)
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return std::nullopt;
        if (!it->is_number_integer()) {
            fail(std::string("field \"") + key + "\" must be an integer or null");
            return std::nullopt;
        }
        return it->get<int64_t>();
    }
    std::string string(const char *key)
    {
        const json *v = field(key);
        if (v && !v->is_string()) {
            fail(std::string("field \"") + key + "\" must be a string");
            return {};
        }
        return v ? v->get<std::string>() : std::string();
    }
    json any(const char *key)
    {
        auto it = m_j.find(key);
        return it == m_j.end() ? json(nullptr) : *it;
    }
    std::string bytes(const json &obj, const char *key)
    {
        if (auto it = obj.find(key); it != obj.end()) {
            if (!it->is_string()) {
                fail(std::string("wire field \"") + key + "\" must be a string");
                return {};
            }
            return it->get<std::string>();
        }
        std::string b64 = std::string(key) + "_base64";
        if (auto it = obj.find(b64); it != obj.end() && it->is_string()) {
            auto decoded = base64Decode(it->get<std::string>());
            if (!decoded)
                fail("wire field \"" + b64 + "\" is not valid base64");
            return decoded.value_or(std::string());
        }
        fail(std::string("wire is missing \"") + key + "\" (or \"" + b64 + "\")");
        return {};
    }

private:
    const json &m_j;
    std::string m_where;
    std::optional<Error> m_error;
};

} // namespace

Result<ImportStats> importJsonl(std::istream &in, TapeWriter &writer, const std::string &sourceName)
{
    ImportStats stats;
    std::map<int64_t, RunId> runs;
    std::map<int64_t, BranchId> branches;
    std::map<int64_t, ThreadId> threads;
    std::map<int64_t, StepIndex> steps;
    std::string line;
    int64_t lineNo = 0;
    bool sawHeader = false;
    // Steps go in batches: one transaction per step would make a large import slow. The
    // new index of a batched step is known once the batch is written.
    constexpr size_t kBatch = 512;
    std::vector<Step> batch;
    std::vector<int64_t> batchOriginal;
    std::set<int64_t> batchPending;
    auto flush = [&]() -> Status {
        if (batch.empty())
            return {};
        auto r = writer.appendBatch(batch);
        if (!r)
            return r.error();
        for (size_t i = 0; i < r->size(); ++i)
            steps[batchOriginal[i]] = (*r)[i];
        batch.clear();
        batchOriginal.clear();
        batchPending.clear();
        return {};
    };

    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty() || line == "\r")
            continue;
        const std::string where = sourceName + ":" + std::to_string(lineNo);
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return Error{ErrorCode::Parse, where + ": not a JSON object"};
        if (jsonNestsDeeperThan(j, kMaxJsonDepth))
            return Error{ErrorCode::Parse, where + ": nests deeper than " +
                                               std::to_string(kMaxJsonDepth) + " levels"};
        LineReader r(j, where);
        std::string type = r.string("type");
        if (r.failed())
            return r.error();
        if (!sawHeader) {
            auto format = j.find("format");
            if (type != "tape" || format == j.end() || !format->is_string() ||
                format->get<std::string>() != "tapedeck-jsonl")
                return Error{ErrorCode::Parse,
                             where + ": expected the header line {\"type\":\"tape\",\"format\":"
                                     "\"tapedeck-jsonl\",...}; this is not a Tapedeck JSONL file"};
            int64_t version = r.integer("version");
            if (r.failed())
                return r.error();
            if (version > kJsonlVersion)
                return Error{ErrorCode::FutureVersion,
                             where + ": JSONL version " + std::to_string(version) +
                                 " is newer than this build reads (" +
                                 std::to_string(kJsonlVersion) + ")"};
            sawHeader = true;
            continue;
        }
        if (type != "step") {
            if (auto s = flush(); !s)
                return s.error();
        }
        if (type == "run") {
            RunInfo info;
            int64_t id = r.integer("id");
            info.name = r.string("name");
            info.agent = r.string("agent");
            json cmd = r.any("command");
            if (cmd.is_array()) {
                for (const auto &a : cmd) {
                    if (!a.is_string())
                        r.fail("field \"command\" must be an array of strings");
                    else
                        info.command.push_back(a.get<std::string>());
                }
            } else {
                r.fail("field \"command\" must be an array of strings");
            }
            info.cwd = r.string("cwd");
            json labels = r.any("labels");
            info.labels = labels.is_object() ? labels : json::object();
            info.startedUs = r.integer("started_us");
            info.endedUs = r.integer("ended_us");
            info.outcome = r.string("outcome");
            if (r.failed())
                return r.error();
            auto run = writer.beginRun(info);
            if (!run)
                return run.error();
            runs[id] = *run;
            ++stats.runs;
        } else if (type == "branch") {
            int64_t id = r.integer("id");
            int64_t run = r.integer("run");
            auto parent = r.optionalInteger("parent");
            auto fork = r.optionalInteger("fork_step");
            std::string description = r.string("description");
            int64_t created = r.integer("created_us");
            if (r.failed())
                return r.error();
            if (!runs.count(run))
                return Error{ErrorCode::Parse, where + ": branch " + std::to_string(id) +
                                                   " names run " + std::to_string(run) +
                                                   ", which no earlier line defines"};
            if (!parent) {
                // beginRun made the original branch already.
                auto main = writer.mainBranch(runs[run]);
                if (!main)
                    return main.error();
                branches[id] = *main;
            } else {
                if (!branches.count(*parent) || (fork && !steps.count(*fork)))
                    return Error{ErrorCode::Parse, where + ": branch " + std::to_string(id) +
                                                       " forks from a branch or step that no "
                                                       "earlier line defines"};
                BranchInfo info;
                info.run = runs[run];
                info.parent = branches[*parent];
                if (fork)
                    info.forkStep = steps[*fork];
                info.description = description;
                info.createdUs = created;
                auto b = writer.addBranch(info);
                if (!b)
                    return b.error();
                branches[id] = *b;
            }
            ++stats.branches;
        } else if (type == "thread") {
            int64_t id = r.integer("id");
            int64_t branch = r.integer("branch");
            auto parent = r.optionalInteger("parent");
            ThreadInfo info;
            info.label = r.string("label");
            info.startedUs = r.integer("started_us");
            if (r.failed())
                return r.error();
            if (!branches.count(branch) || (parent && !threads.count(*parent)))
                return Error{ErrorCode::Parse, where + ": thread " + std::to_string(id) +
                                                   " names a branch or parent thread that no "
                                                   "earlier line defines"};
            info.branch = branches[branch];
            if (parent)
                info.parent = threads[*parent];
            auto t = writer.addThread(info);
            if (!t)
                return t.error();
            threads[id] = *t;
            ++stats.threads;
        } else if (type == "step") {
            Step s;
            int64_t index = r.integer("index");
            int64_t thread = r.integer("thread");
            std::string kind = r.string("kind");
            std::string status = r.string("status");
            s.name = r.string("name");
            s.callId = r.string("call_id");
            auto parent = r.optionalInteger("parent");
            s.startedUs = r.integer("started_us");
            s.firstTokenUs = r.integer("first_token_us");
            s.endedUs = r.integer("ended_us");
            json usage = r.any("usage");
            if (usage.is_object()) {
                LineReader u(usage, where + ": usage");
                s.usage = Usage{u.integer("input_tokens"), u.integer("output_tokens"),
                                u.integer("cache_read_tokens"), u.integer("cache_write_tokens")};
                if (u.failed())
                    return u.error();
            }
            json cost = r.any("cost_usd");
            if (cost.is_number())
                s.costUsd = cost.get<double>();
            json messages = r.any("request_messages");
            if (messages.is_array())
                s.requestMessages.assign(messages.begin(), messages.end());
            else if (!messages.is_null())
                r.fail("field \"request_messages\" must be an array");
            s.requestParams = r.any("request_params");
            s.payload = r.any("payload");
            json wire = r.any("wire");
            if (wire.is_object()) {
                LineReader w(wire, where + ": wire");
                WireExchange x;
                x.method = w.string("method");
                x.url = w.string("url");
                x.status = int(w.integer("status"));
                x.requestHeaders = w.any("request_headers");
                x.responseHeaders = w.any("response_headers");
                x.requestBody = w.bytes(wire, "request_body");
                x.responseBody = w.bytes(wire, "response_body");
                json chunks = w.any("chunks");
                if (chunks.is_array()) {
                    for (const auto &c : chunks) {
                        if (!c.is_array() || c.size() != 2 || !c[0].is_number_unsigned() ||
                            !c[1].is_number_integer() || c[0].get<uint64_t>() > UINT32_MAX) {
                            w.fail("each chunk must be [length, at_us]");
                            break;
                        }
                        x.chunks.push_back(StreamChunk{c[0].get<uint32_t>(), c[1].get<int64_t>()});
                    }
                }
                uint64_t chunked = 0;
                for (const StreamChunk &c : x.chunks)
                    chunked += c.length;
                if (!x.chunks.empty() && chunked != x.responseBody.size())
                    w.fail("the chunks add up to " + std::to_string(chunked) +
                           " bytes, the response body has " + std::to_string(x.responseBody.size()));
                if (w.failed())
                    return w.error();
                s.wire = std::move(x);
            }
            if (r.failed())
                return r.error();
            auto k = stepKindFromName(kind);
            if (!k)
                return Error{ErrorCode::Parse, where + ": unknown step kind \"" + kind + "\""};
            s.kind = *k;
            auto st = stepStatusFromName(status);
            if (!st)
                return Error{ErrorCode::Parse, where + ": unknown step status \"" + status + "\""};
            s.status = *st;
            if (!threads.count(thread))
                return Error{ErrorCode::Parse, where + ": step " + std::to_string(index) +
                                                   " names thread " + std::to_string(thread) +
                                                   ", which no earlier line defines"};
            s.thread = threads[thread];
            if (parent && batchPending.count(*parent)) {
                if (auto f = flush(); !f)
                    return f.error();
            }
            if (parent) {
                if (!steps.count(*parent))
                    return Error{ErrorCode::Parse, where + ": step " + std::to_string(index) +
                                                       " names parent step " +
                                                       std::to_string(*parent) +
                                                       ", which no earlier line defines"};
                s.parent = steps[*parent];
            }
            if (steps.count(index) || batchPending.count(index))
                return Error{ErrorCode::Parse, where + ": step " + std::to_string(index) +
                                                   " is defined twice"};
            batch.push_back(std::move(s));
            batchOriginal.push_back(index);
            batchPending.insert(index);
            if (batch.size() >= kBatch) {
                if (auto f = flush(); !f)
                    return f.error();
            }
            ++stats.steps;
        } else {
            return Error{ErrorCode::Parse, where + ": unknown record type \"" + type + "\""};
        }
    }
    if (auto s = flush(); !s)
        return s.error();
    if (!sawHeader)
        return Error{ErrorCode::Parse, sourceName + ": empty input, expected a Tapedeck JSONL file"};
    return stats;
}

} // namespace tapedeck::formats
