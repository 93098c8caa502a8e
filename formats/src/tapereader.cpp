#include "tapedeck/formats/tape.h"

#include "blobstore.h"
#include "database.h"
#include "packing.h"
#include "schema.h"
#include "stepnotes.h"
#include "textindex.h"
#include "totals.h"

#include <filesystem>
#include <unordered_map>
#include <set>

namespace tapedeck::formats {

namespace {

constexpr const char *kSummaryColumns =
    "s.id, s.run, s.branch, s.thread, s.seq, s.kind, s.status, coalesce(n.value, ''), s.parent, "
    "s.started_us, s.first_token_us, s.ended_us, s.input_tokens, s.output_tokens, "
    "s.cache_read_tokens, s.cache_write_tokens, s.cost_usd, s.message_count, s.request_bytes, "
    "s.response_bytes";

StepSummary readSummary(const Statement &q)
{
    StepSummary s;
    s.index = StepIndex{q.int64(0)};
    s.run = RunId{q.int64(1)};
    s.branch = BranchId{q.int64(2)};
    s.thread = ThreadId{q.int64(3)};
    s.seq = q.int64(4);
    s.kind = StepKind(q.int64(5));
    s.status = StepStatus(q.int64(6));
    s.name = q.text(7);
    if (!q.isNull(8))
        s.parent = StepIndex{q.int64(8)};
    s.startedUs = q.int64(9);
    s.firstTokenUs = q.int64(10);
    s.endedUs = q.int64(11);
    s.usage = Usage{q.int64(12), q.int64(13), q.int64(14), q.int64(15)};
    if (!q.isNull(16))
        s.costUsd = q.real(16);
    s.messageCount = q.int64(17);
    s.requestBytes = q.int64(18);
    s.responseBytes = q.int64(19);
    return s;
}

Error notFound(const std::string &path, const std::string &what)
{
    return Error{ErrorCode::NotFound, path + ": " + what};
}

Error corruptStep(const std::string &path, StepIndex i, const std::string &what)
{
    return Error{ErrorCode::Corrupt, path + ": step " + std::to_string(i.value) + ": " + what};
}

} // namespace

struct TapeReader::Impl {
    std::unique_ptr<Database> db;
    std::unique_ptr<BlobStore> blobs;
    int version = 0;
    Statement summaryById;
    Statement summaryRange;
    Statement detailById;
    Statement wireById;
    Statement maxStep;
    Statement fingerprintRange;

    // A blob a step refers to; one that is missing means the tape is damaged.
    Result<std::string> blob(int64_t id)
    {
        auto bytes = blobs->get(BlobId{id});
        if (!bytes && bytes.error().code == ErrorCode::NotFound)
            return Error{ErrorCode::Corrupt, bytes.error().message + " (a step refers to it)"};
        return bytes;
    }
    Result<nlohmann::json> jsonBlob(StepIndex step, int64_t id, const char *what);
    // The request messages of the last model call step() read, parsed, by blob id: at
    // most one request's worth.
    std::unordered_map<int64_t, nlohmann::json> lastMessages;
};

Result<nlohmann::json> TapeReader::Impl::jsonBlob(StepIndex step, int64_t id, const char *what)
{
    auto bytes = blob(id);
    if (!bytes)
        return bytes.error();
    auto v = nlohmann::json::parse(*bytes, nullptr, false);
    if (v.is_discarded())
        return corruptStep(db->path(), step, std::string(what) + " is not valid JSON");
    return v;
}

TapeReader::TapeReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TapeReader::~TapeReader() = default;

Result<std::unique_ptr<TapeReader>> TapeReader::open(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Error{ErrorCode::Io, path + ": no such file"};
    if (std::filesystem::is_directory(path, ec))
        return Error{ErrorCode::Io, path + ": is a directory, not a tape"};
    auto db = Database::open(path, Database::Mode::ReadOnly);
    if (!db)
        return db.error();
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(*db);
    auto version = checkSchema(*impl->db);
    if (!version)
        return version.error();
    impl->version = *version;
    if (auto s = configureConnection(*impl->db, false); !s)
        return s.error();
    impl->blobs = std::make_unique<BlobStore>(*impl->db);
    if (auto s = impl->blobs->init(false); !s)
        return s.error();

    std::string byId = std::string("SELECT ") + kSummaryColumns +
                       " FROM steps s LEFT JOIN strings n ON n.id = s.name WHERE s.id = ?";
    std::string range = std::string("SELECT ") + kSummaryColumns +
                        " FROM steps s LEFT JOIN strings n ON n.id = s.name "
                        "WHERE s.id >= ? ORDER BY s.id LIMIT ?";
    struct {
        Statement *stmt;
        std::string sql;
    } statements[] = {
        {&impl->summaryById, byId},
        {&impl->summaryRange, range},
        {&impl->detailById, "SELECT call_id, messages, params, payload FROM steps WHERE id = ?"},
        {&impl->wireById,
         "SELECT method, url, status, meta, request_body, response_body FROM wire WHERE step = ?"},
        {&impl->maxStep, "SELECT coalesce(max(id), 0) FROM steps"},
        {&impl->fingerprintRange,
         "SELECT s.id, p.hash, q.hash, m.hash FROM steps s LEFT JOIN blobs p ON p.id = s.payload "
         "LEFT JOIN blobs q ON q.id = s.params LEFT JOIN blobs m ON m.id = s.messages "
         "WHERE s.id >= ? ORDER BY s.id LIMIT ?"},
    };
    for (auto &[stmt, sql] : statements) {
        auto p = impl->db->prepare(sql);
        if (!p) {
            Error e = p.error();
            // A tape whose tables are missing is damaged, not unreadable for other reasons.
            e.code = ErrorCode::Corrupt;
            return e;
        }
        *stmt = std::move(*p);
    }
    return std::unique_ptr<TapeReader>(new TapeReader(std::move(impl)));
}

const std::string &TapeReader::path() const
{
    return m_impl->db->path();
}

int TapeReader::formatVersion() const
{
    return m_impl->version;
}

Result<std::vector<RunInfo>> TapeReader::runs() const
{
    auto q = m_impl->db->prepare("SELECT id, name, agent, command, cwd, labels, started_us, "
                                 "ended_us, outcome FROM runs ORDER BY id");
    if (!q)
        return q.error();
    std::vector<RunInfo> out;
    for (;;) {
        auto row = q->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        RunInfo r;
        r.id = RunId{q->int64(0)};
        r.name = q->text(1);
        r.agent = q->text(2);
        auto cmd = nlohmann::json::parse(q->text(3), nullptr, false);
        if (cmd.is_array()) {
            for (const auto &a : cmd) {
                if (a.is_string())
                    r.command.push_back(a.get<std::string>());
            }
        }
        r.cwd = q->text(4);
        auto labels = nlohmann::json::parse(q->text(5), nullptr, false);
        r.labels = labels.is_object() ? labels : nlohmann::json::object();
        r.startedUs = q->int64(6);
        r.endedUs = q->int64(7);
        r.outcome = q->text(8);
        out.push_back(std::move(r));
    }
    return out;
}

Result<std::vector<BranchInfo>> TapeReader::branches() const
{
    auto q = m_impl->db->prepare(
        "SELECT id, run, parent, fork_step, description, created_us FROM branches ORDER BY id");
    if (!q)
        return q.error();
    std::vector<BranchInfo> out;
    for (;;) {
        auto row = q->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        BranchInfo b;
        b.id = BranchId{q->int64(0)};
        b.run = RunId{q->int64(1)};
        if (!q->isNull(2))
            b.parent = BranchId{q->int64(2)};
        if (!q->isNull(3))
            b.forkStep = StepIndex{q->int64(3)};
        b.description = q->text(4);
        b.createdUs = q->int64(5);
        out.push_back(std::move(b));
    }
    return out;
}

Result<std::vector<ThreadInfo>> TapeReader::threads() const
{
    auto q = m_impl->db->prepare(
        "SELECT id, branch, parent, label, started_us FROM threads ORDER BY id");
    if (!q)
        return q.error();
    std::vector<ThreadInfo> out;
    for (;;) {
        auto row = q->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        ThreadInfo t;
        t.id = ThreadId{q->int64(0)};
        t.branch = BranchId{q->int64(1)};
        if (!q->isNull(2))
            t.parent = ThreadId{q->int64(2)};
        t.label = q->text(3);
        t.startedUs = q->int64(4);
        out.push_back(std::move(t));
    }
    return out;
}

Result<TapeSummary> TapeReader::summary() const
{
    TapeSummary s;
    s.formatVersion = m_impl->version;
    auto r = runs();
    if (!r)
        return r.error();
    s.runs = std::move(*r);
    auto b = branches();
    if (!b)
        return b.error();
    s.branches = std::move(*b);
    auto t = threads();
    if (!t)
        return t.error();
    s.threads = std::move(*t);
    s.stepCount = stepCount();

    auto totals = readTotals(*m_impl->db);
    if (!totals)
        return totals.error();
    KindTotals all;
    for (const auto &[key, k] : totals->byRunKind) {
        if (key.second >= 1 && key.second <= kStepKindCount)
            s.stepsByKind[key.second] += k.steps;
        all.add(k);
    }
    s.errorSteps = all.errors;
    s.usage = all.usage;
    if (all.costedSteps > 0)
        s.costUsd = all.costUsd;
    s.firstUs = all.firstUs;
    s.lastUs = all.lastUs;
    s.messageReferences = all.messageRefs;
    for (const auto &[role, r] : totals->byRole) {
        s.blobCount += r.blobs;
        if (BlobRole(role) == BlobRole::Message)
            s.messageCount += r.blobs;
    }
    return s;
}

Result<ByteSplit> TapeReader::byteSplit() const
{
    ByteSplit split;
    std::error_code ec;
    for (const char *suffix : {"", "-wal"}) {
        auto size = std::filesystem::file_size(path() + suffix, ec);
        if (!ec)
            split.fileBytes += int64_t(size);
    }
    auto totals = readTotals(*m_impl->db);
    if (!totals)
        return totals.error();
    for (const auto &[role, r] : totals->byRole) {
        if (BlobRole(role) == BlobRole::Wire)
            split.wireBytes += r.storedBytes;
        else
            split.contentBytes += r.storedBytes;
        split.rawContentBytes += r.rawBytes;
    }
    // The index: FTS5's shadow tables and every b-tree that is an index, not a table.
    auto pages = m_impl->db->prepare(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'text_index%' OR "
        "name IN (SELECT name FROM sqlite_schema WHERE type = 'index') OR "
        "name LIKE 'sqlite_autoindex%'");
    if (!pages)
        return pages.error();
    auto row = pages->step();
    if (!row)
        return row.error();
    split.indexBytes = pages->int64(0);
    split.otherBytes =
        std::max<int64_t>(0, split.fileBytes - split.contentBytes - split.wireBytes - split.indexBytes);
    return split;
}

Result<std::vector<StepNote>> TapeReader::notes() const
{
    return readStepNotes(*m_impl->db);
}

int64_t TapeReader::stepCount() const
{
    auto row = m_impl->maxStep.step();
    int64_t n = row && *row ? m_impl->maxStep.int64(0) : 0;
    m_impl->maxStep.reset();
    return n;
}

Result<StepSummary> TapeReader::stepSummary(StepIndex index) const
{
    Statement &q = m_impl->summaryById;
    q.bind(1, index.value);
    auto row = q.step();
    if (!row) {
        q.reset();
        return row.error();
    }
    if (!*row) {
        q.reset();
        return notFound(path(), "no step " + std::to_string(index.value) + " (the tape has " +
                                    std::to_string(stepCount()) + ")");
    }
    StepSummary s = readSummary(q);
    q.reset();
    return s;
}

Result<std::vector<StepSummary>> TapeReader::stepSummaries(StepIndex first, int64_t count) const
{
    if (count <= 0)
        return std::vector<StepSummary>{};
    Statement &q = m_impl->summaryRange;
    q.bind(1, first.value).bind(2, count);
    std::vector<StepSummary> out;
    out.reserve(size_t(std::max<int64_t>(0, std::min<int64_t>(count, 1 << 16))));
    for (;;) {
        auto row = q.step();
        if (!row) {
            q.reset();
            return row.error();
        }
        if (!*row)
            break;
        out.push_back(readSummary(q));
    }
    q.reset();
    return out;
}

Result<std::vector<StepFingerprint>> TapeReader::stepFingerprints(StepIndex first, int64_t count) const
{
    if (count <= 0)
        return std::vector<StepFingerprint>{};
    // The blob table keeps the canonical (big-endian) 8 bytes of each hash.
    auto hashAt = [](const Statement &q, int column) -> uint64_t {
        if (q.isNull(column))
            return 0;
        std::string_view bytes = q.blob(column);
        uint64_t value = 0;
        for (unsigned char c : bytes.substr(0, 8))
            value = (value << 8) | c;
        return value;
    };
    Statement &q = m_impl->fingerprintRange;
    q.bind(1, first.value).bind(2, count);
    std::vector<StepFingerprint> out;
    out.reserve(size_t(std::max<int64_t>(0, std::min<int64_t>(count, 1 << 16))));
    for (;;) {
        auto row = q.step();
        if (!row) {
            q.reset();
            return row.error();
        }
        if (!*row)
            break;
        out.push_back({StepIndex{q.int64(0)}, hashAt(q, 1), hashAt(q, 2), hashAt(q, 3)});
    }
    q.reset();
    return out;
}

Result<Step> TapeReader::step(StepIndex index, Detail detail) const
{
    ReadTransaction reading(*m_impl->db);
    auto summary = stepSummary(index);
    if (!summary)
        return summary.error();
    Step s;
    s.index = summary->index;
    s.run = summary->run;
    s.branch = summary->branch;
    s.thread = summary->thread;
    s.seq = summary->seq;
    s.kind = summary->kind;
    s.status = summary->status;
    s.name = summary->name;
    s.parent = summary->parent;
    s.startedUs = summary->startedUs;
    s.firstTokenUs = summary->firstTokenUs;
    s.endedUs = summary->endedUs;
    s.usage = summary->usage;
    s.costUsd = summary->costUsd;

    Statement &d = m_impl->detailById;
    d.bind(1, index.value);
    auto row = d.step();
    if (!row || !*row) {
        d.reset();
        return row ? notFound(path(), "no step " + std::to_string(index.value)) : row.error();
    }
    s.callId = d.text(0);
    int64_t messages = d.int64(1), params = d.int64(2), payload = d.int64(3);
    d.reset();
    if (detail == Detail::WireOnly)
        messages = params = payload = 0;
    if (detail == Detail::WithoutMessages)
        messages = 0;

    if (messages) {
        auto packed = m_impl->blob(messages);
        if (!packed)
            return packed.error();
        auto ids = unpackIds(*packed);
        if (!ids)
            return corruptStep(path(), index, "its message list is damaged");
        s.requestMessages.reserve(ids->size());
        // A request resends the messages of the one before it: those the last model call
        // read had are copied as parsed rather than decoded and parsed again.
        std::unordered_map<int64_t, nlohmann::json> parsed;
        for (int64_t id : *ids) {
            const nlohmann::json *known = nullptr;
            if (auto it = parsed.find(id); it != parsed.end())
                known = &it->second;
            else if (auto last = m_impl->lastMessages.find(id); last != m_impl->lastMessages.end())
                known = &parsed.emplace(id, std::move(last->second)).first->second;
            if (known) {
                s.requestMessages.push_back(*known);
                continue;
            }
            auto m = m_impl->jsonBlob(index, id, "a request message");
            if (!m)
                return m.error();
            s.requestMessages.push_back(std::move(*m));
            parsed.emplace(id, s.requestMessages.back());
        }
        m_impl->lastMessages = std::move(parsed);
    }
    if (params) {
        auto p = m_impl->jsonBlob(index, params, "the request parameters");
        if (!p)
            return p.error();
        s.requestParams = std::move(*p);
    }
    if (payload) {
        auto p = m_impl->jsonBlob(index, payload, "the payload");
        if (!p)
            return p.error();
        s.payload = std::move(*p);
    }

    Statement &w = m_impl->wireById;
    w.bind(1, index.value);
    auto wrow = w.step();
    if (!wrow) {
        w.reset();
        return wrow.error();
    }
    if (*wrow) {
        WireExchange x;
        x.method = w.text(0);
        x.url = w.text(1);
        x.status = int(w.int64(2));
        int64_t metaId = w.int64(3), requestId = w.int64(4), responseId = w.int64(5);
        w.reset();
        auto packed = m_impl->blob(metaId);
        if (!packed)
            return packed.error();
        auto meta = unpackWireMeta(*packed, s.startedUs);
        if (!meta)
            return corruptStep(path(), index, "its wire headers and chunk map are damaged");
        x.requestHeaders = std::move(meta->requestHeaders);
        x.responseHeaders = std::move(meta->responseHeaders);
        x.chunks = std::move(meta->chunks);
        if (detail == Detail::WithoutRequestBody) {
            x.omittedRequestBodySize = summary->requestBytes;
        } else {
            auto reqBody = m_impl->blob(requestId);
            if (!reqBody)
                return reqBody.error();
            x.requestBody = std::move(*reqBody);
        }
        auto respBody = m_impl->blob(responseId);
        if (!respBody)
            return respBody.error();
        x.responseBody = std::move(*respBody);
        s.wire = std::move(x);
    } else {
        w.reset();
    }
    return s;
}

Status TapeReader::forEachStep(const std::function<bool(const Step &)> &visit) const
{
    const int64_t n = stepCount();
    for (int64_t i = 1; i <= n; ++i) {
        auto s = step(StepIndex{i});
        if (!s) {
            // Step ids are dense, but a tape imported from elsewhere may have gaps.
            if (s.error().code == ErrorCode::NotFound)
                continue;
            return s.error();
        }
        if (!visit(*s))
            break;
    }
    return {};
}

Result<std::vector<SearchHit>> TapeReader::search(const std::string &query, int limit) const
{
    auto matches = searchText(*m_impl->db, *m_impl->blobs, query, limit);
    if (!matches)
        return matches.error();
    std::vector<SearchHit> hits;
    for (const TextMatch &m : *matches) {
        auto bytes = m_impl->blob(m.blob.value);
        if (!bytes)
            return bytes.error();
        auto v = nlohmann::json::parse(*bytes, nullptr, false);
        std::string text = v.is_discarded() ? *bytes : textOf(v);
        hits.push_back(SearchHit{m.step, textFieldName(m.field), snippetFor(text, query)});
    }
    return hits;
}

VerifyReport TapeReader::verify(const std::function<void(int64_t, int64_t)> &progress) const
{
    VerifyReport report;
    auto problem = [&](std::string p) {
        report.ok = false;
        report.problems.push_back(std::move(p));
    };
    Database &db = *m_impl->db;

    for (const char *table : {"meta", "dictionaries", "blobs", "strings", "runs", "branches",
                              "threads", "steps", "wire", "totals", "blob_totals", "text_sources",
                              "text_index"}) {
        auto q = db.prepare(std::string("SELECT 1 FROM sqlite_schema WHERE name = '") + table + "'");
        auto row = q ? q->step() : Result<bool>(q.error());
        if (!row || !*row)
            problem(path() + ": schema: table " + table + " is missing");
    }
    if (auto q = db.prepare("PRAGMA integrity_check(20)")) {
        for (;;) {
            auto row = q->step();
            if (!row) {
                problem(row.error().message);
                break;
            }
            if (!*row)
                break;
            std::string line = q->text(0);
            if (line != "ok")
                problem(path() + ": sqlite integrity: " + line);
        }
    } else {
        problem(q.error().message);
    }

    // Every blob decodes to content with its recorded hash.
    int64_t total = 0;
    std::set<int64_t> blobIds;
    if (auto q = db.prepare("SELECT id FROM blobs ORDER BY id")) {
        for (;;) {
            auto row = q->step();
            if (!row) {
                problem(row.error().message);
                break;
            }
            if (!*row)
                break;
            blobIds.insert(q->int64(0));
        }
    }
    total = int64_t(blobIds.size());
    int64_t done = 0;
    for (int64_t id : blobIds) {
        std::string p = m_impl->blobs->verifyBlob(BlobId{id});
        if (!p.empty())
            problem(p);
        ++done;
        ++report.blobsChecked;
        if (progress && (done % 4096 == 0 || done == total))
            progress(done, total);
    }

    // Every reference a step holds points at a row that exists.
    auto dangling = [&](const char *what, const char *sql) {
        auto q = db.prepare(sql);
        if (!q) {
            problem(q.error().message);
            return;
        }
        for (int shown = 0;; ++shown) {
            auto row = q->step();
            if (!row) {
                problem(row.error().message);
                return;
            }
            if (!*row)
                return;
            if (shown < 20)
                problem(path() + ": step " + std::to_string(q->int64(0)) + ": " + what);
        }
    };
    dangling("its thread does not exist",
             "SELECT id FROM steps WHERE thread NOT IN (SELECT id FROM threads)");
    dangling("its branch does not exist",
             "SELECT id FROM steps WHERE branch NOT IN (SELECT id FROM branches)");
    dangling("its parent step does not exist",
             "SELECT id FROM steps WHERE parent IS NOT NULL AND parent NOT IN (SELECT id FROM steps)");
    dangling("refers to a missing blob",
             "SELECT id FROM steps WHERE (messages IS NOT NULL AND messages NOT IN (SELECT id FROM blobs)) "
             "OR (params IS NOT NULL AND params NOT IN (SELECT id FROM blobs)) "
             "OR (payload IS NOT NULL AND payload NOT IN (SELECT id FROM blobs))");
    dangling("its wire bytes refer to a missing blob",
             "SELECT step FROM wire WHERE meta NOT IN (SELECT id FROM blobs) "
             "OR request_body NOT IN (SELECT id FROM blobs) "
             "OR response_body NOT IN (SELECT id FROM blobs)");
    dangling("has wire bytes but no step row",
             "SELECT step FROM wire WHERE step NOT IN (SELECT id FROM steps)");

    // Message lists refer to stored messages.
    if (auto q = db.prepare("SELECT id, messages FROM steps WHERE messages IS NOT NULL ORDER BY id")) {
        for (;;) {
            auto row = q->step();
            if (!row) {
                problem(row.error().message);
                break;
            }
            if (!*row)
                break;
            StepIndex step{q->int64(0)};
            auto packed = m_impl->blob(q->int64(1));
            if (!packed)
                continue; // already reported with the blob
            auto ids = unpackIds(*packed);
            if (!ids) {
                problem(path() + ": step " + std::to_string(step.value) + ": message list is damaged");
                continue;
            }
            for (int64_t id : *ids) {
                if (!blobIds.count(id)) {
                    problem(path() + ": step " + std::to_string(step.value) + ": message blob " +
                            std::to_string(id) + " is missing");
                    break;
                }
            }
        }
    }
    report.stepsChecked = stepCount();
    if (report.problems.size() > 200)
        report.problems.resize(200);
    return report;
}

} // namespace tapedeck::formats
