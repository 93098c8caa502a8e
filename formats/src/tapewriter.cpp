#include "tapedeck/formats/tape.h"

#include "blobstore.h"
#include "database.h"
#include "jsonhash.h"
#include "packing.h"
#include "schema.h"
#include "textindex.h"
#include "totals.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

namespace tapedeck::formats {

namespace {

Error invalid(const std::string &path, const std::string &what)
{
    return Error{ErrorCode::InvalidArgument, path + ": " + what};
}

TextField payloadField(StepKind kind)
{
    switch (kind) {
    case StepKind::ModelCall:
        return TextField::Message;
    case StepKind::ToolCall:
        return TextField::ToolArguments;
    case StepKind::ToolResult:
        return TextField::ToolOutput;
    default:
        return TextField::Payload;
    }
}

// How many blobs are compressed against one base (a payload, wire metadata) before the
// next one becomes the base, so that the base stays like what comes.
constexpr int kBaseUses = 16;

// Bounds on what the writer keeps between steps, so that its memory stays flat over a run
// of any length, however many threads it has and however large their bodies: the state of
// at most kThreadStates threads, the most recently written ones, while they add up to no
// more than kThreadStateBytes; no content larger than kMaxBaseBytes kept as a base for
// the next blobs; at most kPayloadBases payload bases. A thread whose state was dropped is
// looked up in the file again when it is next written, and its next request, list and
// response start new chains (stored whole, a request against its own messages), as they do
// at the start of a thread: the file reads the same, it is only a little larger.
constexpr size_t kThreadStates = 64;
constexpr size_t kThreadStateBytes = size_t(64) << 20;
constexpr size_t kMaxBaseBytes = size_t(8) << 20;
constexpr size_t kPayloadBases = 256;

// Keeps `bytes` as the next base in `slot` if it is small enough; false (and `slot` left
// empty) if not. A fresh string, so that a large earlier base does not stay allocated.
bool keepBase(std::string &slot, std::string_view bytes)
{
    if (bytes.size() > kMaxBaseBytes) {
        std::string().swap(slot);
        return false;
    }
    slot = std::string(bytes);
    return true;
}

} // namespace

// What the writer remembers of a thread between steps: where the next step goes and the
// request body the next one is stored as a delta against.
struct ThreadState {
    RunId run;
    BranchId branch;
    int64_t nextSeq = 0;
    BlobId lastRequest;
    std::string lastRequestBytes;
    int requestsSinceKeyframe = 0;
    std::vector<int64_t> lastMessageIds;
    // The packed message list of the previous request: the next list starts with it.
    BlobId lastList;
    std::string lastListBytes;
    int listsSinceKeyframe = 0;
    // The thread's previous response body: the framing of a stream (event names, ids,
    // the JSON around each delta) repeats from one response to the next.
    BlobId lastResponse;
    std::string lastResponseBytes;
    int responsesSinceKeyframe = 0;
    // The parameters of the thread's previous request (model, system prompt, tools): the
    // next request nearly always sends the same, which a comparison of the trees finds
    // without serialising and hashing them again.
    nlohmann::json lastParams;
    BlobId lastParamsId;
    std::string lastParamsBytes;
    // A recent wire metadata blob of the thread, stored on its own: the next ones repeat
    // most of its headers. Used as a base 16 times, as payload bases are.
    BlobId metaBase;
    std::string metaBaseBytes;
    int metaBaseUses = 0;
    // Payloads of the thread's steps since its last model call, and that call's response:
    // what the next request's new messages repeat, so they are compressed against them.
    std::vector<std::pair<BlobId, std::string>> recentPayloads;
    // When the writer last wrote to the thread (its own count of steps): the least recent
    // state is dropped first.
    int64_t lastUse = 0;

    // Roughly what the state holds in memory: the parameters count three times, their text
    // and their tree.
    size_t retainedBytes() const
    {
        size_t n = lastRequestBytes.capacity() + lastListBytes.capacity() +
                   lastResponseBytes.capacity() + 3 * lastParamsBytes.capacity() +
                   metaBaseBytes.capacity() + lastMessageIds.capacity() * sizeof(int64_t);
        for (const auto &[id, bytes] : recentPayloads)
            n += bytes.capacity();
        return n;
    }
};

// Request and response bodies larger than kMaxBaseBytes, stored before the rest of their
// step, each on its own, so that the messages and the payload that repeat them are stored
// against them rather than the other way round: the writer then holds a body and one
// serialised message at a time, not also that message's compressed copies. Unset for
// bodies of ordinary size.
struct LargeBodies {
    BlobId request;
    BlobId response;
};

// The messages of the request being appended, with the bytes of those at hand.
struct RequestMessages {
    std::vector<int64_t> ids;
    std::vector<std::string> bytes;  // empty where the message was stored earlier
};

struct TapeWriter::Impl {
    std::unique_ptr<Database> db;
    std::unique_ptr<BlobStore> blobs;
    std::unique_ptr<TextIndexWriter> text;
    std::unique_ptr<TotalsWriter> totals;
    WriterOptions options;
    Statement insertStep;
    Statement insertWire;
    Statement findString;
    Statement insertString;
    std::unordered_map<int64_t, ThreadState> threads;
    std::unordered_map<JsonHash, BlobId, JsonHashHasher> messageIds;
    std::unordered_map<std::string, int64_t> stringIds;
    // A recent payload of each step kind and name (a tool's arguments, its output), stored
    // on its own: the next ones of that kind and name mostly repeat it, so they are
    // compressed against it. Always against such a base, never against each other, so
    // that a reader decodes one blob more at most.
    struct PayloadBase {
        BlobId id;
        std::string bytes;
        int uses = 0;
        int64_t lastUse = 0;
    };
    std::map<std::pair<int, std::string>, PayloadBase> payloadBases;
    int64_t nextStep = 1;

    Status init(bool created);
    Status reloadAfterRollback();
    Result<ThreadState *> thread(ThreadId id);
    void boundCaches(ThreadId current);
    Result<int64_t> internString(const std::string &s);
    Result<BlobId> putJson(const nlohmann::json &v, StepIndex step, TextField field, bool index,
                           std::string &bytes, const std::vector<BlobRef> &refs = {});
    Result<StepIndex> appendOne(const Step &step);
    Status putLargeBodies(const Step &step, LargeBodies &large);
    Result<RequestMessages> putMessages(const Step &step, ThreadState &t, StepIndex index,
                                        const LargeBodies &large);
    Result<BlobId> putRequestBody(ThreadState &t, const std::string &body, const Step &step,
                                  RequestMessages &messages, BlobRef params);
    Status writeWire(StepIndex index, const Step &step, ThreadState &t,
                     RequestMessages &messages, BlobRef params, BlobRef payload,
                     const LargeBodies &large);

    // With a commitInterval: whether appends are held in an open transaction, since when.
    bool holding = false;
    std::chrono::steady_clock::time_point holdingSince;

    // Commits what is held; on failure nothing is, and the caller reloads the caches.
    Status commitHeld()
    {
        if (!holding)
            return {};
        holding = false;
        if (!db->inTransaction()) // SQLite rolled it back after an I/O or full-disk error
            return Error{ErrorCode::Io, db->path() + ": the appends since the last commit were lost"};
        if (auto s = db->commit(); !s) {
            db->rollback();
            return s;
        }
        return {};
    }

    // commitHeld(), with the caches reloaded when it fails.
    Status commitHeldOrReload()
    {
        Status s = commitHeld();
        if (!s)
            (void)reloadAfterRollback();
        return s;
    }

    template <typename Fn>
    auto inTransaction(Fn &&fn) -> decltype(fn())
    {
        if (options.commitInterval.count() > 0)
            return inHeldTransaction(std::forward<Fn>(fn));
        if (auto s = db->begin(); !s)
            return s.error();
        auto r = fn();
        if (!r) {
            db->rollback();
            // What the caches learnt inside the failed transaction is gone from the file.
            if (auto s = reloadAfterRollback(); !s)
                return s.error();
            return r;
        }
        if (auto s = db->commit(); !s) {
            db->rollback();
            (void)reloadAfterRollback();
            return s.error();
        }
        return r;
    }

    // One part of the transaction held open for commitInterval. A part that fails is undone
    // alone: what came before it is committed, as it would have been without the interval.
    template <typename Fn>
    auto inHeldTransaction(Fn &&fn) -> decltype(fn())
    {
        if (!holding) {
            if (auto s = db->begin(); !s)
                return s.error();
            holding = true;
            holdingSince = std::chrono::steady_clock::now();
        }
        if (auto s = db->savepoint(); !s)
            return s.error();
        auto r = fn();
        const Status released = r ? db->releaseSavepoint() : Status{};
        if (!r || !released) {
            const Status kept = undoPartAndCommit();
            if (auto s = reloadAfterRollback(); !s)
                return s.error();
            const Error cause = !r ? r.error() : released.error();
            if (!kept) // what came before the part was lost too
                return Error{kept.error().code, kept.error().message + " (after " + cause.message + ")"};
            return cause;
        }
        if (std::chrono::steady_clock::now() - holdingSince >= options.commitInterval) {
            if (auto s = commitHeldOrReload(); !s)
                return s.error();
        }
        return r;
    }

    Status undoPartAndCommit()
    {
        if (db->inTransaction()) {
            if (auto s = db->rollbackToSavepoint(); !s) {
                db->rollback();
                holding = false;
                return s;
            }
        }
        return commitHeld();
    }
};

Status TapeWriter::Impl::init(bool created)
{
    if (auto s = configureConnection(*db, true); !s)
        return s;
    if (created) {
        if (auto s = db->begin(); !s)
            return s;
        if (auto s = createSchema(*db); !s) {
            db->rollback();
            return s;
        }
        if (auto s = db->commit(); !s)
            return s;
        // Move the new schema from the WAL into the database file at once: a power loss
        // before the first checkpoint must not leave an empty file that is not a tape.
        if (auto s = db->exec("PRAGMA wal_checkpoint(TRUNCATE);"); !s)
            return s;
    } else {
        auto version = checkSchema(*db);
        if (!version)
            return version.error();
        if (*version != kFormatVersion)
            return Error{ErrorCode::FutureVersion,
                         db->path() + ": format version " + std::to_string(*version) +
                             " can be read but not appended to by this build"};
    }
    struct {
        Statement *stmt;
        const char *sql;
    } statements[] = {
        {&insertStep,
         "INSERT INTO steps(id, run, branch, thread, seq, kind, status, name, call_id, parent, "
         "started_us, first_token_us, ended_us, input_tokens, output_tokens, cache_read_tokens, "
         "cache_write_tokens, cost_usd, message_count, request_bytes, response_bytes, messages, "
         "params, payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
        {&insertWire,
         "INSERT INTO wire(step, method, url, status, meta, request_body, response_body) "
         "VALUES (?,?,?,?,?,?,?)"},
        {&findString, "SELECT id FROM strings WHERE value = ?"},
        {&insertString, "INSERT INTO strings(value) VALUES (?)"},
    };
    for (auto &[stmt, sql] : statements) {
        auto p = db->prepare(sql);
        if (!p)
            return p.error();
        *stmt = std::move(*p);
    }
    BlobStoreOptions blobOptions{options.compressionLevel, options.dictionaryTrainingBytes,
                                 options.dictionarySize};
    totals = std::make_unique<TotalsWriter>(*db);
    if (auto s = totals->init(); !s)
        return s;
    blobs = std::make_unique<BlobStore>(*db);
    auto observer = [t = totals.get()](BlobRole role, int64_t stored, int64_t raw, BlobId id) {
        t->addBlob(role, stored, raw, id);
    };
    if (auto s = blobs->init(true, blobOptions, observer); !s)
        return s;
    text = std::make_unique<TextIndexWriter>(*db);
    if (auto s = text->init(*blobs); !s)
        return s;
    auto last = db->prepare("SELECT coalesce(max(id), 0) FROM steps");
    if (!last)
        return last.error();
    auto row = last->step();
    if (!row)
        return row.error();
    nextStep = last->int64(0) + 1;
    return {};
}

Status TapeWriter::Impl::reloadAfterRollback()
{
    threads.clear();
    messageIds.clear();
    payloadBases.clear();
    stringIds.clear();
    return init(false);
}

Result<ThreadState *> TapeWriter::Impl::thread(ThreadId id)
{
    if (auto it = threads.find(id.value); it != threads.end())
        return &it->second;
    auto stmt = db->prepare(
        "SELECT t.branch, b.run, (SELECT coalesce(max(seq) + 1, 0) FROM steps WHERE thread = t.id) "
        "FROM threads t JOIN branches b ON b.id = t.branch WHERE t.id = ?");
    if (!stmt)
        return stmt.error();
    stmt->bind(1, id.value);
    auto row = stmt->step();
    if (!row)
        return row.error();
    if (!*row)
        return invalid(db->path(), "no thread " + std::to_string(id.value));
    ThreadState state;
    state.branch = BranchId{stmt->int64(0)};
    state.run = RunId{stmt->int64(1)};
    state.nextSeq = stmt->int64(2);
    // A thread of an existing file, or one whose state was dropped (kThreadStates): its
    // chains start anew, since the old ones' depth is not known without walking them.
    return &threads.emplace(id.value, std::move(state)).first->second;
}

void TapeWriter::Impl::boundCaches(ThreadId current)
{
    for (;;) {
        size_t bytes = 0;
        auto oldest = threads.end();
        for (auto it = threads.begin(); it != threads.end(); ++it) {
            bytes += it->second.retainedBytes();
            if (it->first != current.value &&
                (oldest == threads.end() || it->second.lastUse < oldest->second.lastUse))
                oldest = it;
        }
        if (oldest == threads.end() || (threads.size() <= kThreadStates && bytes <= kThreadStateBytes))
            break;
        threads.erase(oldest);
    }
    while (payloadBases.size() > kPayloadBases) {
        auto oldest = std::min_element(payloadBases.begin(), payloadBases.end(), [](const auto &a, const auto &b) {
            return a.second.lastUse < b.second.lastUse;
        });
        payloadBases.erase(oldest);
    }
}

Result<int64_t> TapeWriter::Impl::internString(const std::string &s)
{
    if (s.empty())
        return int64_t(0);
    if (auto it = stringIds.find(s); it != stringIds.end())
        return it->second;
    findString.bindText(1, s);
    auto row = findString.step();
    if (!row) {
        findString.reset();
        return row.error();
    }
    int64_t id = 0;
    if (*row)
        id = findString.int64(0);
    findString.reset();
    if (!id) {
        insertString.bindText(1, s);
        if (auto st = insertString.run(); !st)
            return st.error();
        id = sqlite3_last_insert_rowid(db->handle());
    }
    stringIds.emplace(s, id);
    return id;
}

Result<BlobId> TapeWriter::Impl::putJson(const nlohmann::json &v, StepIndex step,
                                         TextField field, bool index, std::string &bytes,
                                         const std::vector<BlobRef> &refs)
{
    std::string problem;
    auto dumped = safeDump(v, problem);
    if (!dumped)
        return invalid(db->path(), "step " + std::to_string(step.value) + ": its " +
                                       textFieldName(field) + " " + problem);
    bytes = std::move(*dumped);
    bool inserted = false;
    auto id = blobs->put(BlobRole::Content, bytes, true, &inserted, refs);
    if (!id)
        return id;
    if (inserted && index) {
        if (auto s = text->add(*id, step, field, v); !s)
            return s.error();
    }
    return id;
}

Status TapeWriter::Impl::putLargeBodies(const Step &step, LargeBodies &large)
{
    if (!step.wire)
        return {};
    if (step.wire->requestBody.size() > kMaxBaseBytes) {
        auto id = blobs->put(BlobRole::Wire, step.wire->requestBody, false);
        if (!id)
            return id.error();
        large.request = *id;
    }
    if (step.wire->responseBody.size() > kMaxBaseBytes) {
        auto id = blobs->putEvents(BlobRole::Wire, step.wire->responseBody);
        if (!id)
            return id.error();
        large.response = *id;
    }
    return {};
}

Result<RequestMessages> TapeWriter::Impl::putMessages(const Step &step, ThreadState &t,
                                                      StepIndex index, const LargeBodies &large)
{
    RequestMessages out;
    out.ids.reserve(step.requestMessages.size());
    out.bytes.resize(step.requestMessages.size());
    std::vector<BlobRef> refs;
    for (const auto &[id, bytes] : t.recentPayloads)
        refs.push_back(BlobRef{id, bytes});
    if (large.request.value)
        refs.push_back(BlobRef{large.request, step.wire->requestBody});
    for (size_t i = 0; i < step.requestMessages.size(); ++i) {
        const nlohmann::json &m = step.requestMessages[i];
        const std::optional<JsonHash> hash = jsonTreeHash(m);
        if (!hash)
            return invalid(db->path(), "step " + std::to_string(index.value) + ": request message " +
                                           std::to_string(i) + " nests deeper than " +
                                           std::to_string(kMaxJsonDepth) + " levels");
        const JsonHash h = *hash;
        auto it = messageIds.find(h);
        if (it == messageIds.end()) {
            std::string problem;
            auto dumped = safeDump(m, problem);
            if (!dumped)
                return invalid(db->path(), "step " + std::to_string(index.value) +
                                               ": request message " + std::to_string(i) + " " +
                                               problem);
            std::string bytes = std::move(*dumped);
            bool inserted = false;
            auto id = blobs->put(BlobRole::Message, bytes, true, &inserted, refs);
            if (!id)
                return id.error();
            if (inserted) {
                if (auto s = text->add(*id, index, TextField::Message, m); !s)
                    return s.error();
            }
            it = messageIds.emplace(h, *id).first;
            out.bytes[i] = std::move(bytes);
        }
        out.ids.push_back(it->second.value);
    }
    return out;
}

Result<BlobId> TapeWriter::Impl::putRequestBody(ThreadState &t, const std::string &body,
                                                const Step &step, RequestMessages &messages,
                                                BlobRef params)
{
    // The message blobs at `from` and after, as references; those stored by earlier steps
    // are serialised again, which costs what storing them did.
    auto messageRefs = [&](size_t from) {
        std::vector<BlobRef> refs;
        for (size_t i = from; i < messages.ids.size(); ++i) {
            // Dumped once already when it was stored, so it cannot fail now.
            if (messages.bytes[i].empty())
                messages.bytes[i] = step.requestMessages[i].dump();
            refs.push_back(BlobRef{BlobId{messages.ids[i]}, messages.bytes[i]});
        }
        return refs;
    };
    Result<BlobId> id = Error{ErrorCode::Io, ""};
    bool keyframe = !t.lastRequest.value || t.requestsSinceKeyframe + 1 >= options.keyframeInterval;
    if (keyframe) {
        // Stored whole, but against the request's own messages and parameters, which hold
        // nearly all of its text.
        std::vector<BlobRef> refs;
        if (params.id.value)
            refs.push_back(params);
        for (const BlobRef &r : messageRefs(0))
            refs.push_back(r);
        id = blobs->put(BlobRole::Wire, body, false, nullptr, refs);
        t.requestsSinceKeyframe = 0;
    } else {
        // Against the previous request, and the messages that are new since it.
        size_t same = 0;
        while (same < messages.ids.size() && same < t.lastMessageIds.size() &&
               messages.ids[same] == t.lastMessageIds[same])
            ++same;
        id = blobs->putDelta(BlobRole::Wire, body, BlobRef{t.lastRequest, t.lastRequestBytes},
                             messageRefs(same));
        ++t.requestsSinceKeyframe;
    }
    if (!id)
        return id;
    // Too large a body to keep: the next request is stored whole.
    t.lastRequest = keepBase(t.lastRequestBytes, body) ? *id : BlobId{};
    return id;
}

Status TapeWriter::Impl::writeWire(StepIndex index, const Step &step, ThreadState &t,
                                   RequestMessages &messages, BlobRef params, BlobRef payload,
                                   const LargeBodies &large)
{
    const WireExchange &w = *step.wire;
    if (!w.chunks.empty()) {
        uint64_t total = 0;
        for (const StreamChunk &c : w.chunks)
            total += c.length;
        if (total != w.responseBody.size())
            return invalid(db->path(), "step " + std::to_string(index.value) +
                                           ": stream chunks add up to " + std::to_string(total) +
                                           " bytes, the response body has " +
                                           std::to_string(w.responseBody.size()));
    }
    std::string metaBytes =
        packWireMeta(WireMeta{w.requestHeaders, w.responseHeaders, w.chunks}, step.startedUs);
    const bool newMetaBase = !t.metaBase.value || t.metaBaseUses >= kBaseUses;
    std::vector<BlobRef> metaRefs;
    if (!newMetaBase)
        metaRefs.push_back(BlobRef{t.metaBase, t.metaBaseBytes});
    auto meta = blobs->put(BlobRole::Wire, metaBytes, true, nullptr, metaRefs);
    if (!meta)
        return meta.error();
    if (newMetaBase) {
        t.metaBase = keepBase(t.metaBaseBytes, metaBytes) ? *meta : BlobId{};
        t.metaBaseUses = 0;
    } else {
        ++t.metaBaseUses;
    }
    Result<BlobId> reqBody = large.request;
    if (large.request.value)
        t.lastRequest = BlobId{}; // too large to keep: the next request is stored whole
    else
        reqBody = putRequestBody(t, w.requestBody, step, messages, params);
    if (!reqBody)
        return reqBody.error();
    // A streamed response repeats its normalized form between the framing of each event,
    // and the framing repeats the previous response's. The chain of previous responses is
    // cut every keyframeInterval responses, as requests' is.
    std::vector<BlobRef> refs;
    if (t.lastResponse.value && t.responsesSinceKeyframe + 1 < options.keyframeInterval) {
        refs.push_back(BlobRef{t.lastResponse, t.lastResponseBytes});
        ++t.responsesSinceKeyframe;
    } else {
        t.responsesSinceKeyframe = 0;
    }
    if (payload.id.value)
        refs.push_back(payload);
    Result<BlobId> respBody =
        large.response.value ? Result<BlobId>(large.response) : blobs->putEvents(BlobRole::Wire, w.responseBody, refs);
    if (!respBody)
        return respBody.error();
    if (!w.responseBody.empty())
        t.lastResponse = keepBase(t.lastResponseBytes, w.responseBody) ? *respBody : BlobId{};
    insertWire.bind(1, index.value)
        .bindText(2, w.method)
        .bindText(3, w.url)
        .bind(4, w.status)
        .bind(5, meta->value)
        .bind(6, reqBody->value)
        .bind(7, respBody->value);
    return insertWire.run();
}

Result<StepIndex> TapeWriter::Impl::appendOne(const Step &step)
{
    StepIndex index{nextStep};
    auto t = thread(step.thread);
    if (!t)
        return t.error();
    ThreadState &ts = **t;
    if (step.run.value && step.run != ts.run)
        return invalid(db->path(), "step for thread " + std::to_string(step.thread.value) +
                                       " names run " + std::to_string(step.run.value) +
                                       ", but the thread belongs to run " +
                                       std::to_string(ts.run.value));
    if (step.branch.value && step.branch != ts.branch)
        return invalid(db->path(), "step for thread " + std::to_string(step.thread.value) +
                                       " names branch " + std::to_string(step.branch.value) +
                                       ", but the thread belongs to branch " +
                                       std::to_string(ts.branch.value));
    if (step.parent && (step.parent->value <= 0 || step.parent->value >= index.value))
        return invalid(db->path(), "step " + std::to_string(index.value) + ": parent step " +
                                       std::to_string(step.parent->value) + " does not precede it");
    if (int(step.kind) < 1 || int(step.kind) > kStepKindCount)
        return invalid(db->path(), "unknown step kind " + std::to_string(int(step.kind)));

    auto name = internString(step.name);
    if (!name)
        return name.error();

    LargeBodies large;
    if (auto s = putLargeBodies(step, large); !s)
        return s.error();
    RequestMessages messages;
    int64_t messagesBlob = 0;
    if (!step.requestMessages.empty()) {
        auto m = putMessages(step, ts, index, large);
        if (!m)
            return m.error();
        messages = std::move(*m);
        // Lists are small: a short chain costs a reader little.
        constexpr int kListKeyframeInterval = 16;
        std::string list = packIds(messages.ids);
        Result<BlobId> packed = Error{ErrorCode::Io, ""};
        if (ts.lastList.value && ts.listsSinceKeyframe + 1 < kListKeyframeInterval) {
            packed = blobs->putDelta(BlobRole::Content, list,
                                     BlobRef{ts.lastList, ts.lastListBytes});
            ++ts.listsSinceKeyframe;
        } else {
            packed = blobs->put(BlobRole::Content, list, false);
            ts.listsSinceKeyframe = 0;
        }
        if (!packed)
            return packed.error();
        messagesBlob = packed->value;
        ts.lastList = *packed;
        ts.lastListBytes = std::move(list);
    }
    BlobRef params;
    if (!step.requestParams.is_null()) {
        if (!ts.lastParamsId.value || !jsonIdentical(step.requestParams, ts.lastParams)) {
            std::string bytes;
            auto p = putJson(step.requestParams, index, TextField::Payload, false, bytes);
            if (!p)
                return p.error();
            ts.lastParamsId = *p;
            ts.lastParamsBytes = std::move(bytes);
            ts.lastParams = step.requestParams;
        }
        params = BlobRef{ts.lastParamsId, ts.lastParamsBytes};
    }
    std::string payloadBytes;
    BlobRef payload;
    if (!step.payload.is_null()) {
        PayloadBase &base = payloadBases[{int(step.kind), step.name}];
        // A new base now and then, so that it stays like what comes.
        const bool newBase = !base.id.value || base.uses >= kBaseUses;
        std::vector<BlobRef> refs;
        if (!newBase)
            refs.push_back(BlobRef{base.id, base.bytes});
        if (large.response.value)
            refs.push_back(BlobRef{large.response, step.wire->responseBody});
        auto p = putJson(step.payload, index, payloadField(step.kind), true, payloadBytes, refs);
        if (!p)
            return p.error();
        payload = BlobRef{*p, payloadBytes};
        if (newBase) {
            base.id = keepBase(base.bytes, payloadBytes) ? *p : BlobId{};
            base.uses = 0;
        } else {
            ++base.uses;
        }
        base.lastUse = index.value;
    }
    if (step.wire) {
        if (auto s = writeWire(index, step, ts, messages, params, payload, large); !s)
            return s.error();
    }
    if (step.kind == StepKind::ModelCall) {
        ts.recentPayloads.clear();
        ts.lastMessageIds = std::move(messages.ids);
    }
    if (payload.id.value && payloadBytes.size() <= kMaxBaseBytes) {
        ts.recentPayloads.emplace_back(payload.id, std::move(payloadBytes));
        // Many tool calls between two model calls: the last ones are what the next request
        // adds.
        constexpr size_t kRecentPayloads = 16;
        if (ts.recentPayloads.size() > kRecentPayloads)
            ts.recentPayloads.erase(ts.recentPayloads.begin());
    }

    const int64_t requestBytes = step.wire ? int64_t(step.wire->requestBody.size()) : 0;
    const int64_t responseBytes = step.wire ? int64_t(step.wire->responseBody.size()) : 0;
    insertStep.bind(1, index.value)
        .bind(2, ts.run.value)
        .bind(3, ts.branch.value)
        .bind(4, step.thread.value)
        .bind(5, ts.nextSeq)
        .bind(6, int(step.kind))
        .bind(7, int(step.status))
        .bindIdOrNull(8, *name)
        .bindText(9, step.callId)
        .bindIdOrNull(10, step.parent ? step.parent->value : 0)
        .bind(11, step.startedUs)
        .bind(12, step.firstTokenUs)
        .bind(13, step.endedUs)
        .bind(14, step.usage.inputTokens)
        .bind(15, step.usage.outputTokens)
        .bind(16, step.usage.cacheReadTokens)
        .bind(17, step.usage.cacheWriteTokens);
    if (step.costUsd)
        insertStep.bind(18, *step.costUsd);
    else
        insertStep.bindNull(18);
    insertStep.bind(19, int64_t(step.requestMessages.size()))
        .bind(20, requestBytes)
        .bind(21, responseBytes)
        .bindIdOrNull(22, messagesBlob)
        .bindIdOrNull(23, params.id.value)
        .bindIdOrNull(24, payload.id.value);
    if (auto s = insertStep.run(); !s)
        return s.error();

    KindTotals stepTotals;
    stepTotals.steps = 1;
    stepTotals.errors = step.status == StepStatus::Ok ? 0 : 1;
    stepTotals.usage = step.usage;
    stepTotals.costUsd = step.costUsd.value_or(0.0);
    stepTotals.costedSteps = step.costUsd ? 1 : 0;
    stepTotals.messageRefs = int64_t(step.requestMessages.size());
    stepTotals.firstUs = step.startedUs;
    stepTotals.lastUs = std::max(step.endedUs, step.startedUs);
    totals->addStep(ts.run, step.kind, stepTotals, index);
    if (auto s = totals->flush(false); !s)
        return s.error();

    ++ts.nextSeq;
    ++nextStep;
    ts.lastUse = index.value;
    boundCaches(step.thread);
    return index;
}

TapeWriter::TapeWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

TapeWriter::~TapeWriter()
{
    // The last batch of text goes into the index and the last totals into their tables; if
    // this fails, the next writer to open the file does it, and readers add up the tail.
    (void)m_impl->inTransaction([&]() -> Result<bool> {
        if (auto s = m_impl->text->flush(true); !s)
            return s.error();
        if (auto s = m_impl->totals->flush(true); !s)
            return s.error();
        return true;
    });
    (void)m_impl->commitHeld();
}

Status TapeWriter::commit()
{
    return m_impl->commitHeldOrReload();
}

Result<std::unique_ptr<TapeWriter>> TapeWriter::create(const std::string &path,
                                                       WriterOptions options)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return Error{ErrorCode::Io, path + ": is a directory"};
    if (std::filesystem::exists(path, ec)) {
        if (!options.overwrite)
            return Error{ErrorCode::Io, path + ": already exists (pass overwrite to replace it)"};
        for (const char *suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix, ec);
    }
    auto db = Database::open(path, Database::Mode::Create);
    if (!db)
        return db.error();
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(*db);
    impl->options = options;
    if (auto s = impl->init(true); !s)
        return s.error();
    return std::unique_ptr<TapeWriter>(new TapeWriter(std::move(impl)));
}

Result<std::unique_ptr<TapeWriter>> TapeWriter::openForAppend(const std::string &path,
                                                              WriterOptions options)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Error{ErrorCode::Io, path + ": no such file"};
    auto db = Database::open(path, Database::Mode::ReadWrite);
    if (!db)
        return db.error();
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(*db);
    impl->options = options;
    if (auto s = impl->init(false); !s)
        return s.error();
    return std::unique_ptr<TapeWriter>(new TapeWriter(std::move(impl)));
}

const std::string &TapeWriter::path() const
{
    return m_impl->db->path();
}

Result<RunId> TapeWriter::beginRun(const RunInfo &info)
{
    return m_impl->inTransaction([&]() -> Result<RunId> {
        auto run = m_impl->db->prepare(
            "INSERT INTO runs(name, agent, command, cwd, labels, started_us, ended_us, outcome) "
            "VALUES (?,?,?,?,?,?,?,?)");
        if (!run)
            return run.error();
        run->bindText(1, info.name)
            .bindText(2, info.agent)
            .bindText(3, nlohmann::json(info.command).dump())
            .bindText(4, info.cwd)
            .bindText(5, info.labels.dump())
            .bind(6, info.startedUs)
            .bind(7, info.endedUs)
            .bindText(8, info.outcome);
        if (auto s = run->run(); !s)
            return s.error();
        RunId id{sqlite3_last_insert_rowid(m_impl->db->handle())};
        auto branch = m_impl->db->prepare(
            "INSERT INTO branches(run, parent, fork_step, description, created_us) "
            "VALUES (?, NULL, NULL, 'recorded', ?)");
        if (!branch)
            return branch.error();
        branch->bind(1, id.value).bind(2, info.startedUs);
        if (auto s = branch->run(); !s)
            return s.error();
        return id;
    });
}

Result<BranchId> TapeWriter::mainBranch(RunId run) const
{
    auto stmt = m_impl->db->prepare(
        "SELECT id FROM branches WHERE run = ? AND parent IS NULL ORDER BY id LIMIT 1");
    if (!stmt)
        return stmt.error();
    stmt->bind(1, run.value);
    auto row = stmt->step();
    if (!row)
        return row.error();
    if (!*row)
        return Error{ErrorCode::NotFound, path() + ": no run " + std::to_string(run.value)};
    return BranchId{stmt->int64(0)};
}

Status TapeWriter::endRun(RunId run, int64_t endedUs, const std::string &outcome)
{
    auto r = m_impl->inTransaction([&]() -> Result<bool> {
        auto stmt = m_impl->db->prepare("UPDATE runs SET ended_us = ?, outcome = ? WHERE id = ?");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, endedUs).bindText(2, outcome).bind(3, run.value);
        if (auto s = stmt->run(); !s)
            return s.error();
        if (sqlite3_changes(m_impl->db->handle()) == 0)
            return Error{ErrorCode::NotFound, path() + ": no run " + std::to_string(run.value)};
        return true;
    });
    if (!r)
        return r.error();
    return {};
}

Result<BranchId> TapeWriter::addBranch(const BranchInfo &info)
{
    return m_impl->inTransaction([&]() -> Result<BranchId> {
        auto check = m_impl->db->prepare(
            "SELECT (SELECT count(*) FROM runs WHERE id = ?1), "
            "(SELECT count(*) FROM branches WHERE id = ?2 AND run = ?1), "
            "(SELECT count(*) FROM steps WHERE id = ?3 AND branch = ?2)");
        if (!check)
            return check.error();
        check->bind(1, info.run.value)
            .bind(2, info.parent ? info.parent->value : 0)
            .bind(3, info.forkStep ? info.forkStep->value : 0);
        auto row = check->step();
        if (!row)
            return row.error();
        if (check->int64(0) == 0)
            return invalid(path(), "no run " + std::to_string(info.run.value));
        if (info.parent && check->int64(1) == 0)
            return invalid(path(), "no branch " + std::to_string(info.parent->value) + " in run " +
                                       std::to_string(info.run.value));
        if (info.forkStep && check->int64(2) == 0)
            return invalid(path(), "no step " + std::to_string(info.forkStep->value) +
                                       " on the parent branch");
        auto stmt = m_impl->db->prepare(
            "INSERT INTO branches(run, parent, fork_step, description, created_us) "
            "VALUES (?,?,?,?,?)");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, info.run.value)
            .bindIdOrNull(2, info.parent ? info.parent->value : 0)
            .bindIdOrNull(3, info.forkStep ? info.forkStep->value : 0)
            .bindText(4, info.description)
            .bind(5, info.createdUs);
        if (auto s = stmt->run(); !s)
            return s.error();
        return BranchId{sqlite3_last_insert_rowid(m_impl->db->handle())};
    });
}

Result<ThreadId> TapeWriter::addThread(const ThreadInfo &info)
{
    return m_impl->inTransaction([&]() -> Result<ThreadId> {
        auto check = m_impl->db->prepare(
            "SELECT (SELECT count(*) FROM branches WHERE id = ?1), "
            "(SELECT count(*) FROM threads WHERE id = ?2)");
        if (!check)
            return check.error();
        check->bind(1, info.branch.value).bind(2, info.parent ? info.parent->value : 0);
        auto row = check->step();
        if (!row)
            return row.error();
        if (check->int64(0) == 0)
            return invalid(path(), "no branch " + std::to_string(info.branch.value));
        if (info.parent && check->int64(1) == 0)
            return invalid(path(), "no parent thread " + std::to_string(info.parent->value));
        auto stmt = m_impl->db->prepare(
            "INSERT INTO threads(branch, parent, label, started_us) VALUES (?,?,?,?)");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, info.branch.value)
            .bindIdOrNull(2, info.parent ? info.parent->value : 0)
            .bindText(3, info.label)
            .bind(4, info.startedUs);
        if (auto s = stmt->run(); !s)
            return s.error();
        return ThreadId{sqlite3_last_insert_rowid(m_impl->db->handle())};
    });
}

Result<StepIndex> TapeWriter::append(const Step &step)
{
    return m_impl->inTransaction([&] { return m_impl->appendOne(step); });
}

StepIndex TapeWriter::nextStepIndex() const
{
    return StepIndex{m_impl->nextStep};
}

Result<std::vector<StepIndex>> TapeWriter::appendBatch(const std::vector<Step> &steps)
{
    return m_impl->inTransaction([&]() -> Result<std::vector<StepIndex>> {
        std::vector<StepIndex> out;
        out.reserve(steps.size());
        for (const Step &s : steps) {
            auto r = m_impl->appendOne(s);
            if (!r)
                return r.error();
            out.push_back(*r);
        }
        return out;
    });
}

} // namespace tapedeck::formats
