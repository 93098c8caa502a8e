// Content-addressed blobs: every piece of content (a message, a tool output, a request
// body) is stored once, keyed by the XXH3-64 hash of its bytes, as a zstd frame.
//
// Codecs (FORMAT.md, "Blobs"):
//   0 stored as is (when compression would not make it smaller)
//   1 zstd frame
//   2 zstd frame compressed with the file's trained dictionary `dict`
//   3 delta against blob `base`: the common prefix and suffix of the two, and the middle
//     as a zstd frame whose prefix dictionary is the reference blobs followed by the
//     `window` bytes of the base that end where the common prefix ends
//   4 zstd frame whose prefix dictionary is the concatenated content of reference blobs
//   5 as 4, but the frame holds the split form of an event stream (eventsplit.h)
// A reference blob always has a smaller id than the blob that uses it, so decoding always
// ends, and the writer keeps the depth of references small.
//
// The writer side trains the dictionary from the file's own early content. The reader side
// keeps a small cache of decoded blobs that others are built on, so reading the requests of
// a thread in order decodes each one once. Not thread-safe; one per Database.
#pragma once

#include "database.h"
#include "schema.h"

// Magicless frames (ZSTD_c_format) and reading their headers are declared with zstd's
// advanced API; the shared library exports them.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tapedeck::formats {

enum class BlobCodec : int {
    Stored = 0,
    Zstd = 1,
    ZstdDict = 2,
    Delta = 3,
    Referenced = 4,
    Events = 5,
};

struct BlobStoreOptions {
    int compressionLevel = 6;
    int64_t dictionaryTrainingBytes = 2 << 20;
    int64_t dictionarySize = 32 << 10;
};

// Content the writer already holds, named as a reference for a new blob.
struct BlobRef {
    BlobId id;
    std::string_view bytes;
};

// The 8-byte canonical (big-endian) XXH3-64 of `bytes`. Dedup never trusts the hash
// alone: a hit is confirmed by comparing content.
std::string blobHash(std::string_view bytes);

class BlobStore {
public:
    explicit BlobStore(Database &db);
    ~BlobStore();
    BlobStore(const BlobStore &) = delete;
    BlobStore &operator=(const BlobStore &) = delete;

    // Told of every blob the writer inserts (for the running totals).
    using InsertObserver =
        std::function<void(BlobRole, int64_t storedBytes, int64_t rawBytes, BlobId)>;

    // Prepares statements and loads the dictionary if the file has one. A writer also
    // loads the hash of every blob: the file keeps no index on hashes, since an index
    // keyed by random hashes costs a randomly placed page write on every insert.
    Status init(bool writer, const BlobStoreOptions &options = {}, InsertObserver observer = {});

    // Writer: stores `bytes` unless a blob with the same content exists; returns its id.
    // `inserted` tells whether it was new. `trainable` content feeds the dictionary.
    // With `refs`, the blob is compressed against their content (codec 4).
    Result<BlobId> put(BlobRole role, std::string_view bytes, bool trainable = true,
                       bool *inserted = nullptr, const std::vector<BlobRef> &refs = {});
    // Writer: as put(), but stores a delta against `base` (and `refs`).
    Result<BlobId> putDelta(BlobRole role, std::string_view bytes, BlobRef base,
                            const std::vector<BlobRef> &refs = {});

    // Writer: as put() with `refs`, for a body that is a stream of events (codec 5); falls
    // back to put() when the body holds too few events for the split form to pay.
    Result<BlobId> putEvents(BlobRole role, std::string_view bytes,
                             const std::vector<BlobRef> &refs = {});

    // The decoded content of a blob, checked against its hash.
    Result<std::string> get(BlobId id);
    // Decodes one blob: the problem, or an empty string when it is intact.
    std::string verifyBlob(BlobId id);

private:
    struct Row {
        int64_t size = 0;
        BlobCodec codec = BlobCodec::Stored;
        int64_t dict = 0;
        int64_t base = 0;
        std::string hash;
        std::string data;
    };
    Result<Row> readRow(BlobId id);
    Result<std::string> decode(BlobId id, int depth);
    Result<std::string> decodeRow(BlobId id, const Row &row, int depth);
    Result<std::string> referenceText(BlobId id, std::string_view data, size_t &pos, int depth);
    // The id of a stored blob with exactly this content, 0 if none.
    Result<int64_t> find(const std::string &hash, std::string_view bytes);
    Result<BlobId> insert(BlobRole role, std::string_view bytes, const std::string &hash,
                          BlobCodec codec, int64_t dict, int64_t base, std::string_view data);
    std::string compress(std::string_view bytes, BlobCodec &codec, int64_t &dict);
    Result<std::string> compressWithPrefix(std::string_view bytes, std::string_view prefix);
    void collectSample(std::string_view bytes);
    Status trainDictionary();
    Result<ZSTD_DDict *> ddict(int64_t dictId);
    void remember(BlobId id, const std::string &bytes);
    const std::string *cached(BlobId id) const;

    Database &m_db;
    BlobStoreOptions m_options;
    Statement m_hashById;
    Statement m_insert;
    Statement m_select;
    Statement m_sizeById;
    InsertObserver m_observer;
    // Hash of each stored blob -> its id (writer only).
    std::unordered_map<uint64_t, int64_t> m_idByHash;
    ZSTD_CCtx *m_cctx = nullptr;
    // Room for one compressed frame of at least `capacity` bytes, kept between blobs so it
    // is not allocated for each; releaseLargeBuffer() frees it once used if it is large,
    // and the compression context's tables with it.
    char *frameBuffer(size_t capacity);
    void releaseLargeBuffer();
    std::unique_ptr<char[]> m_buffer;
    size_t m_bufferSize = 0;
    ZSTD_DCtx *m_dctx = nullptr;
    ZSTD_CDict *m_cdict = nullptr;
    int64_t m_cdictId = 0;
    std::map<int64_t, ZSTD_DDict *> m_ddicts;
    bool m_training = false;
    std::string m_samples;
    std::vector<size_t> m_sampleSizes;
    // Recently decoded blobs that others refer to, newest first, and their total size.
    std::list<std::pair<BlobId, std::string>> m_cache;
    size_t m_cachedBytes = 0;
};

} // namespace tapedeck::formats
