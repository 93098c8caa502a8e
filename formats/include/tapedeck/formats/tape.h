// The public boundary of tapedeck_formats: the event model, the .tape writer and reader,
// and JSONL interchange. Nothing else in formats/ is meant to be included from outside.
//
// Conventions that hold for every declaration below:
// - Times are microseconds since the Unix epoch (int64), 0 meaning "not known".
// - Nothing here throws on bad input or damaged files: fallible calls return Result<T>
//   (or Status), whose Error names what went wrong and where. A Result must be looked at.
// - Writer and reader objects are not thread-safe; use one per thread. Several readers
//   (in any processes) may read a tape while one writer appends to it (SQLite WAL).
// - Ids are typed: a StepIndex cannot be passed where a RunId is expected.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tapedeck::formats {

// ---------------------------------------------------------------------------------------
// Errors as values

enum class ErrorCode {
    Io,              // the file could not be opened, read or written
    NotATape,        // the file is not a .tape (wrong application_id, not SQLite)
    FutureVersion,   // written by a newer Tapedeck whose format this reader does not know
    Corrupt,         // the file is damaged: SQLite reports corruption or a blob fails its hash
    NotFound,        // no run, branch, thread or step with that id
    InvalidArgument, // the caller passed something that makes no sense (an unknown run, ...)
    Parse,           // interchange input is malformed (the message names line and field)
};

const char *errorCodeName(ErrorCode code);

struct Error {
    ErrorCode code;
    std::string message;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Error error) : m_value(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return ok(); }

    // Precondition: ok().
    T &value() & { return std::get<T>(m_value); }
    const T &value() const & { return std::get<T>(m_value); }
    T &&value() && { return std::get<T>(std::move(m_value)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T &&operator*() && { return std::move(*this).value(); }

    // Precondition: !ok().
    const Error &error() const { return std::get<Error>(m_value); }

private:
    std::variant<T, Error> m_value;
};

// A Result that carries no value.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : m_error(std::move(error)) {}
    static Status success() { return {}; }

    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

// ---------------------------------------------------------------------------------------
// Typed ids

template <typename Tag>
struct Id {
    int64_t value = 0;
    constexpr Id() = default;
    constexpr explicit Id(int64_t v) : value(v) {}
    auto operator<=>(const Id &) const = default;
};

using RunId = Id<struct RunTag>;
using BranchId = Id<struct BranchTag>;
using ThreadId = Id<struct ThreadTag>;
// The position of a step in the tape: 1-based, in the order steps were appended, unique
// across all runs of the file.
using StepIndex = Id<struct StepTag>;
using BlobId = Id<struct BlobTag>;

// ---------------------------------------------------------------------------------------
// The event model

struct RunInfo {
    RunId id;                          // assigned by the writer
    std::string name;                  // user-given or generated
    std::string agent;                 // e.g. "claude-code", "tapedeck-agent", "" if unknown
    std::vector<std::string> command;  // the command line that was recorded
    std::string cwd;
    nlohmann::json labels = nlohmann::json::object();
    int64_t startedUs = 0;
    int64_t endedUs = 0;               // 0 while the run is being recorded
    std::string outcome;               // free text: "exit 0", "budget exhausted", ...
};

struct BranchInfo {
    BranchId id;
    RunId run;
    std::optional<BranchId> parent;    // empty for the recorded original
    std::optional<StepIndex> forkStep; // the parent's step this branch continues after
    std::string description;           // what edit made this branch
    int64_t createdUs = 0;
};

struct ThreadInfo {
    ThreadId id;
    BranchId branch;
    std::optional<ThreadId> parent;    // the thread that spawned this one (sub-agents)
    std::string label;                 // "main", "subagent: tests", "title", ...
    int64_t startedUs = 0;
};

enum class StepKind : int {
    ModelCall = 1,
    ToolCall = 2,
    ToolResult = 3,
    McpCall = 4,
    HttpExchange = 5,
    Compaction = 6,
    Error = 7,
    Annotation = 8,
    ForkPoint = 9,
};
inline constexpr int kStepKindCount = 9;

const char *stepKindName(StepKind kind);                      // "model_call", ...
std::optional<StepKind> stepKindFromName(std::string_view name);

enum class StepStatus : int {
    Ok = 0,
    Error = 1,     // a failed tool call, an HTTP error, a model error
    Cancelled = 2, // interrupted: a dropped stream, a killed tool
};
const char *stepStatusName(StepStatus status);
std::optional<StepStatus> stepStatusFromName(std::string_view name);

struct Usage {
    int64_t inputTokens = 0;
    int64_t outputTokens = 0;
    int64_t cacheReadTokens = 0;
    int64_t cacheWriteTokens = 0;
    auto operator<=>(const Usage &) const = default;
};

// One piece of a streamed response as it arrived: `length` bytes of the response body,
// received at `atUs`. The chunks of a step concatenate to its response body exactly.
struct StreamChunk {
    uint32_t length = 0;
    int64_t atUs = 0;
    auto operator<=>(const StreamChunk &) const = default;
};

// What crossed the wire, byte for byte (headers with secrets already removed by the
// recorder).
struct WireExchange {
    std::string method;                // "POST"
    std::string url;                   // path and query as the client sent it
    int status = 0;                    // HTTP status, 0 when the connection failed
    nlohmann::json requestHeaders = nlohmann::json::object();
    nlohmann::json responseHeaders = nlohmann::json::object();
    std::string requestBody;           // exact bytes, not necessarily UTF-8 (a compressed
                                       // body decoded; its content-encoding header stays)
    std::string responseBody;          // exact bytes, not necessarily UTF-8
    std::vector<StreamChunk> chunks;   // empty when the response was not streamed
    // The request body's size when the step was read without it
    // (TapeReader::Detail::WithoutRequestBody): requestBody is then empty.
    std::optional<int64_t> omittedRequestBodySize;
    bool operator==(const WireExchange &) const = default;
};

// A step: one event of a thread. Which fields are meaningful depends on `kind`:
// - ModelCall: name = model; requestMessages and requestParams are the normalized request
//   (the message list, and everything else: system, tools, sampling parameters); payload
//   is the normalized response; usage, firstTokenUs and costUsd are filled when known.
// - ToolCall: name = tool; payload = the arguments; callId; parent = the ModelCall.
// - ToolResult: name = tool; payload = {"output": ..., "is_error": bool}; callId;
//   parent = the ToolCall; endedUs - startedUs is how long the tool ran.
// - the other kinds: payload holds what the kind needs (free-form JSON).
// Any kind may carry the exact wire exchange.
struct Step {
    StepIndex index;                   // assigned by the writer
    RunId run;
    BranchId branch;
    ThreadId thread;
    int64_t seq = 0;                   // position within the thread, assigned by the writer
    StepKind kind = StepKind::Annotation;
    StepStatus status = StepStatus::Ok;
    std::string name;
    std::string callId;
    std::optional<StepIndex> parent;
    int64_t startedUs = 0;
    int64_t firstTokenUs = 0;
    int64_t endedUs = 0;
    Usage usage;
    std::optional<double> costUsd;
    std::vector<nlohmann::json> requestMessages;
    nlohmann::json requestParams;      // null when not a model call
    nlohmann::json payload;
    std::optional<WireExchange> wire;
};

// The columns of a step that are kept uncompressed, for tables, timelines and metrics.
// Reading them never decompresses a blob.
struct StepSummary {
    StepIndex index;
    RunId run;
    BranchId branch;
    ThreadId thread;
    int64_t seq = 0;
    StepKind kind = StepKind::Annotation;
    StepStatus status = StepStatus::Ok;
    std::string name;
    std::optional<StepIndex> parent;
    int64_t startedUs = 0;
    int64_t firstTokenUs = 0;
    int64_t endedUs = 0;
    Usage usage;
    std::optional<double> costUsd;
    int64_t messageCount = 0;          // messages in the request (model calls)
    int64_t requestBytes = 0;          // size of the exact request body, 0 if none
    int64_t responseBytes = 0;
};

// What a step's stored content is, without decoding it: the XXH3-64 hashes of its blobs.
// The store is content-addressed, so two steps with equal payloads (or parameters) have
// equal hashes, in one tape or in two. The message list is stored as references to the
// tape's messages, so its hash compares requests within one tape only. 0 when the step
// has no such blob. For aligning and comparing runs cheaply (tapedeck diff).
struct StepFingerprint {
    StepIndex index;
    uint64_t payload = 0;
    uint64_t params = 0;
    uint64_t messages = 0;
};

struct ByteSplit {
    int64_t fileBytes = 0;             // the database and its WAL
    int64_t contentBytes = 0;          // normalized content: messages, params, payloads
    int64_t wireBytes = 0;             // exact request/response bodies, headers, chunk maps
    int64_t indexBytes = 0;            // full-text index and SQLite indexes
    int64_t otherBytes = 0;            // step rows, dictionaries, free pages, headers
    int64_t rawContentBytes = 0;       // what the stored blobs hold once decompressed
};

struct TapeSummary {
    int formatVersion = 0;
    std::vector<RunInfo> runs;
    std::vector<BranchInfo> branches;
    std::vector<ThreadInfo> threads;
    int64_t stepCount = 0;
    int64_t stepsByKind[kStepKindCount + 1] = {};  // indexed by int(StepKind)
    int64_t errorSteps = 0;
    Usage usage;
    std::optional<double> costUsd;     // empty when no step knew its cost
    int64_t firstUs = 0;               // earliest step start
    int64_t lastUs = 0;                // latest step end
    int64_t blobCount = 0;
    int64_t messageCount = 0;          // distinct messages stored
    int64_t messageReferences = 0;     // messages referenced by requests, duplicates counted
};

struct SearchHit {
    StepIndex step;                    // the first step whose content holds the match
    std::string field;                 // "message", "tool_arguments", "tool_output", ...
    std::string snippet;               // the matching text with some context, one line
};

// A person's mark on a step: a bookmark, a note, or both. Kept in the tape (the table
// `step_notes`, formats/FORMAT.md); the desktop app's only writes go here.
struct StepNote {
    StepIndex step;
    bool bookmarked = false;
    std::string text;
    int64_t updatedUs = 0;
    bool operator==(const StepNote &) const = default;
};

struct VerifyReport {
    bool ok = true;
    int64_t blobsChecked = 0;
    int64_t stepsChecked = 0;
    std::vector<std::string> problems; // each names the table, row or blob concerned
};

// ---------------------------------------------------------------------------------------
// Writing

struct WriterOptions {
    bool overwrite = false;            // replace an existing file instead of failing
    int compressionLevel = 6;          // zstd level for blobs
    // Train a dictionary once this much sample content has been written (0: never).
    int64_t dictionaryTrainingBytes = 2 << 20;
    int64_t dictionarySize = 32 << 10;
    // The exact request body of a thread is stored as a delta against the thread's
    // previous request; every `keyframeInterval`-th one is stored whole, which bounds the
    // work of reading any one request.
    int keyframeInterval = 64;
    // How long appends may wait to be committed together. Zero: each append is committed
    // before it returns, so a crash loses at most the step in flight (a recording). An
    // import into a file it renames once done sets it: a commit per model call was a
    // fifth of the import's time and wrote the tape's pages to the WAL some thirty times
    // over. A crash then loses what came within the interval; the file still opens.
    std::chrono::milliseconds commitInterval{0};
};

// Appends runs, branches, threads and steps to a tape. Every append is committed before
// it returns (or within WriterOptions::commitInterval), so a crash loses at most the step
// in flight and the file always opens. A failed append leaves no trace and the writer
// usable. Owns its SQLite connection; not thread-safe.
class TapeWriter {
public:
    // Creates a new tape (fails if `path` exists, unless options.overwrite).
    static Result<std::unique_ptr<TapeWriter>> create(const std::string &path,
                                                      WriterOptions options = {});
    // Opens an existing tape to append to it (new runs, new branches, more steps).
    static Result<std::unique_ptr<TapeWriter>> openForAppend(const std::string &path,
                                                             WriterOptions options = {});
    ~TapeWriter();

    // Starts a run and its original branch (branch 0 of the run). Returns the run id;
    // mainBranch() gives the branch.
    Result<RunId> beginRun(const RunInfo &info);
    Result<BranchId> mainBranch(RunId run) const;
    Status endRun(RunId run, int64_t endedUs, const std::string &outcome);

    Result<BranchId> addBranch(const BranchInfo &info);
    Result<ThreadId> addThread(const ThreadInfo &info);

    // Appends a step and commits. index and seq are assigned and returned; the run is
    // taken from the thread when step.run is 0.
    Result<StepIndex> append(const Step &step);

    // Appends several steps in one transaction (faster; a crash loses the whole batch).
    Result<std::vector<StepIndex>> appendBatch(const std::vector<Step> &steps);

    // The index the next appended step will get: lets a caller that batches steps link a
    // step to a parent in the same batch.
    StepIndex nextStepIndex() const;

    // Commits the appends that commitInterval holds (none without it). The destructor
    // commits them too, but cannot say when that fails.
    Status commit();

    const std::string &path() const;

private:
    struct Impl;
    explicit TapeWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// ---------------------------------------------------------------------------------------
// Reading

// Random access to a tape. Opening reads no step and no blob, so it costs the same for any
// length of run. Owns its read-only SQLite connection and a small cache of decoded
// requests; not thread-safe.
class TapeReader {
public:
    static Result<std::unique_ptr<TapeReader>> open(const std::string &path);
    ~TapeReader();

    int formatVersion() const;
    // Reads only running totals kept by the writer: the same cost for any length of run.
    Result<TapeSummary> summary() const;
    // Where the file's bytes go (walks SQLite's page map: costs time in the file's size).
    Result<ByteSplit> byteSplit() const;
    Result<std::vector<RunInfo>> runs() const;
    Result<std::vector<BranchInfo>> branches() const;
    Result<std::vector<ThreadInfo>> threads() const;

    int64_t stepCount() const;         // the highest step index; 0 for an empty tape
    Result<StepSummary> stepSummary(StepIndex index) const;
    // Summaries of steps first .. first+count-1 (fewer at the end of the tape).
    Result<std::vector<StepSummary>> stepSummaries(StepIndex first, int64_t count) const;
    // Fingerprints of steps first .. first+count-1 (fewer at the end of the tape): one
    // indexed read, no blob decoded.
    Result<std::vector<StepFingerprint>> stepFingerprints(StepIndex first, int64_t count) const;
    // Decodes a whole step: payload, request, wire bytes. With WireOnly, the step's
    // summary fields and its wire bytes, without the normalized request and payload (what
    // replay needs: far cheaper for a model call whose request holds hundreds of messages).
    // WithoutMessages is everything but the request's messages (what an export of spans
    // without their content needs). WithoutRequestBody is everything but the exact request
    // body, whose size it gives instead: a request is a delta on the thread's one before it,
    // and reaching it can mean decoding a chain of dozens (what a view of the conversation
    // needs, until someone asks for the bytes).
    enum class Detail { Everything, WithoutMessages, WireOnly, WithoutRequestBody };
    Result<Step> step(StepIndex index, Detail detail = Detail::Everything) const;
    // Calls `visit` for each step in order until it returns false. Stops at the first
    // step that cannot be decoded and returns its error.
    Status forEachStep(const std::function<bool(const Step &)> &visit) const;

    // Full-text search (SQLite FTS5 query syntax; plain words match words). At most
    // `limit` hits, in step order.
    Result<std::vector<SearchHit>> search(const std::string &query, int limit = 100) const;

    // Every bookmark and note, in step order; empty when the tape has none.
    Result<std::vector<StepNote>> notes() const;

    // Checks the schema, SQLite's integrity check, every blob against its hash and every
    // step's references. Never stops at the first problem.
    VerifyReport verify(const std::function<void(int64_t done, int64_t total)> &progress = {}) const;

    const std::string &path() const;

private:
    struct Impl;
    explicit TapeReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Sets the note on a step, or removes it when it holds neither a bookmark nor text.
// Opens the tape for writing for the length of the call only, so it may run while a
// recorder appends to the same tape (SQLite WAL). updatedUs is set to now when 0.
Status saveStepNote(const std::string &path, const StepNote &note);

// ---------------------------------------------------------------------------------------
// JSONL interchange (formats/FORMAT.md, "JSONL interchange")

// A step as the interchange writes it (a "step" line): the form `tapedeck dump --json`
// prints too.
nlohmann::json stepToJson(const Step &step);
// A run as the interchange writes it (a "run" line, without "type").
nlohmann::json runToJson(const RunInfo &run);

// Writes every run, branch, thread and step of the tape, one JSON object per line.
Status exportJsonl(const TapeReader &reader, std::ostream &out);

struct ImportStats {
    int64_t runs = 0;
    int64_t branches = 0;
    int64_t threads = 0;
    int64_t steps = 0;
};

// Reads JSONL written by exportJsonl into the writer's tape. Ids are remapped, so the
// input may be added to a tape that already holds runs. `sourceName` names the input in
// error messages ("run.jsonl:12: ...").
Result<ImportStats> importJsonl(std::istream &in, TapeWriter &writer,
                                const std::string &sourceName);

// The format version this build writes (formats/FORMAT.md has the table).
int currentFormatVersion();

} // namespace tapedeck::formats
