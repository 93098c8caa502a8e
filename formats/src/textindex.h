// The full-text index: a contentless FTS5 table over the text of each stored message, tool
// argument list and tool output (each indexed once, when its blob is first stored), and
// text_sources, which says for each indexed blob the step that first held it.
#pragma once

#include "database.h"
#include "schema.h"

#include <string>
#include <unordered_set>

namespace tapedeck::formats {

// The words of a JSON value: every string in it (object keys excepted), one per line.
std::string textOf(const nlohmann::json &value);

// Adds text to the index. text_sources rows are written with the step that holds them;
// the FTS5 inserts themselves are batched, because FTS5 writes a new index segment at
// every commit that touched it, which would make a commit per step several times slower.
// meta 'text_indexed_through' is the highest blob id whose text is in text_index; text
// from blobs above it is found by the reader's scan of the unindexed tail. Must be used
// inside the writer's transactions.
class TextIndexWriter {
public:
    explicit TextIndexWriter(Database &db) : m_db(db) {}
    // Prepares statements and indexes whatever an earlier writer left unindexed.
    Status init(class BlobStore &blobs);
    // Indexes the strings of `value` that no earlier blob held (the same tool output comes
    // back as a message in the next request: it is found at the step that first had it).
    Status add(BlobId blob, StepIndex step, TextField field, const nlohmann::json &value);
    // Writes the queued text to FTS5 when enough is queued, or always with `force`.
    Status flush(bool force);
    // Forgets the queue (after a rollback took the text_sources rows with it).
    void discardQueue()
    {
        m_queue.clear();
        m_queuedBytes = 0;
    }

    // The queue is written when it holds this many blobs' text or this much text, so that
    // large tool outputs are not held long.
    static constexpr size_t kBatch = 1024;
    static constexpr size_t kBatchBytes = size_t(4) << 20;
    // The text of one blob is indexed up to this much: FTS5 holds all the terms of a row in
    // memory while it inserts it (hundreds of megabytes for a 50 MB log pasted into a
    // conversation), and words past the first megabyte of one blob are seldom searched for.
    static constexpr size_t kMaxIndexedBytes = size_t(1) << 20;

private:
    Database &m_db;
    Statement m_insertText;
    Statement m_insertSource;
    Statement m_setWatermark;
    std::vector<std::pair<BlobId, std::string>> m_queue;
    size_t m_queuedBytes = 0;
    std::unordered_set<uint64_t> m_seenStrings;
};

// The highest blob id whose text is in the FTS index.
Result<int64_t> indexedThrough(Database &db);

struct TextMatch {
    BlobId blob;
    StepIndex step;
    TextField field;
};

// Matches of an FTS5 query, in step order. A query that is not valid FTS5 syntax (a stray
// quote, `foo-bar`) is searched again as a phrase of its words. Text not yet in the FTS
// index (a writer's last batch) is scanned: there a blob matches when it holds every word.
Result<std::vector<TextMatch>> searchText(Database &db, class BlobStore &blobs,
                                          const std::string &query, int limit);

// One line of `text` around the first word of `query` found in it.
std::string snippetFor(const std::string &text, const std::string &query, size_t width = 100);

} // namespace tapedeck::formats
