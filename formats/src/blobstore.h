// Content-addressed blobs: every piece of content (a message, a tool output, a request
// body) is stored once, keyed by the XXH3-128 hash of its bytes, as a zstd frame.
//
// Codecs (FORMAT.md, "Blobs"):
//   0 stored as is (when compression would not make it smaller)
//   1 zstd frame
//   2 zstd frame compressed with the file's trained dictionary `dict`
//   3 delta against blob `base`: varint prefix length, varint suffix length, varint window
//     length, then a zstd frame of the middle, compressed with the `window` bytes of the
//     base that end where the common prefix ends as its prefix dictionary.
//
// The writer side trains the dictionary from the file's own early content. The reader side
// keeps a small cache of decoded blobs that deltas are built on, so reading the requests of
// a thread in order decodes each one once. Not thread-safe; one per Database.
#pragma once

#include "database.h"
#include "schema.h"

#include <zstd.h>

#include <functional>
#include <list>
#include <map>
#include <unordered_map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats {

enum class BlobCodec : int { Stored = 0, Zstd = 1, ZstdDict = 2, Delta = 3 };

struct BlobStoreOptions {
    int compressionLevel = 6;
    int64_t dictionaryTrainingBytes = 2 << 20;
    int64_t dictionarySize = 112 << 10;
};

// The 16-byte canonical (big-endian) XXH3-128 of `bytes`.
std::string blobHash(std::string_view bytes);

class BlobStore {
public:
    explicit BlobStore(Database &db);
    ~BlobStore();
    BlobStore(const BlobStore &) = delete;
    BlobStore &operator=(const BlobStore &) = delete;

    // Told of every blob the writer inserts (for the running totals).
    using InsertObserver = std::function<void(BlobRole, int64_t storedBytes, int64_t rawBytes, BlobId)>;

    // Prepares statements and loads the dictionary if the file has one. A writer also
    // loads the hash of every blob: the file keeps no index on hashes, since an index
    // keyed by random hashes costs a randomly placed page write on every insert.
    Status init(bool writer, const BlobStoreOptions &options = {}, InsertObserver observer = {});

    // Writer: stores `bytes` unless a blob with the same content exists; returns its id.
    // `inserted` tells whether it was new. `trainable` content feeds the dictionary.
    Result<BlobId> put(BlobRole role, std::string_view bytes, bool trainable = true,
                       bool *inserted = nullptr);
    // Writer: as put(), but stores a delta against `base`, whose content is `baseBytes`.
    Result<BlobId> putDelta(BlobRole role, std::string_view bytes, BlobId base,
                            std::string_view baseBytes);

    // Reader and writer: the decoded content of a blob, its hash checked only by verify().
    Result<std::string> get(BlobId id);
    // Decodes and re-hashes one blob: the problem, or an empty string when it is intact.
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
    // The id of a stored blob with this hash, 0 if none.
    Result<int64_t> find(const std::string &hash);
    Result<std::string> decodeRow(BlobId id, const Row &row, std::string_view baseBytes);
    Result<BlobId> insert(BlobRole role, std::string_view bytes, const std::string &hash,
                          BlobCodec codec, int64_t dict, int64_t base, std::string_view data);
    std::string compress(std::string_view bytes, BlobCodec &codec, int64_t &dict);
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
    InsertObserver m_observer;
    // First 8 bytes of each stored blob's hash -> its id. A hit is confirmed against the
    // full hash in the file.
    std::unordered_map<uint64_t, int64_t> m_idByHash;
    ZSTD_CCtx *m_cctx = nullptr;
    ZSTD_DCtx *m_dctx = nullptr;
    ZSTD_CDict *m_cdict = nullptr;
    int64_t m_cdictId = 0;
    std::map<int64_t, ZSTD_DDict *> m_ddicts;
    bool m_training = false;
    std::string m_samples;
    std::vector<size_t> m_sampleSizes;
    // Most recently decoded delta bases, newest first.
    std::list<std::pair<BlobId, std::string>> m_cache;
};

} // namespace tapedeck::formats
