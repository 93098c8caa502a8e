#include "blobstore.h"

#include "packing.h"

#include <xxhash.h>
#include <zdict.h>

#include <cstring>

namespace tapedeck::formats {

namespace {

// How much of the base before the cut a delta may refer to. Bigger finds more repeats in
// new content (a benchmark table like the last one) but costs time to index per request.
constexpr size_t kDeltaWindow = 64 << 10;
// Blobs smaller than this are not worth a zstd frame header.
constexpr size_t kMinCompressible = 24;
// Each sample gives the dictionary trainer at most this much of a blob.
constexpr size_t kMaxSample = 16 << 10;
constexpr size_t kCachedBases = 8;

size_t commonPrefix(std::string_view a, std::string_view b)
{
    size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    // Whole blocks first: memcmp is vectorised, a byte loop is not.
    constexpr size_t kBlock = 4096;
    while (i + kBlock <= n && std::memcmp(a.data() + i, b.data() + i, kBlock) == 0)
        i += kBlock;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

size_t commonSuffix(std::string_view a, std::string_view b, size_t limit)
{
    size_t i = 0;
    while (i < limit && a[a.size() - 1 - i] == b[b.size() - 1 - i])
        ++i;
    return i;
}

Error corrupt(const Database &db, BlobId id, const std::string &what)
{
    return Error{ErrorCode::Corrupt,
                 db.path() + ": blob " + std::to_string(id.value) + ": " + what};
}

} // namespace

std::string blobHash(std::string_view bytes)
{
    XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    return std::string(reinterpret_cast<const char *>(c.digest), sizeof c.digest);
}

BlobStore::BlobStore(Database &db) : m_db(db) {}

BlobStore::~BlobStore()
{
    ZSTD_freeCCtx(m_cctx);
    ZSTD_freeDCtx(m_dctx);
    ZSTD_freeCDict(m_cdict);
    for (auto &[id, d] : m_ddicts)
        ZSTD_freeDDict(d);
}

static uint64_t hashKey(std::string_view hash)
{
    uint64_t k = 0;
    std::memcpy(&k, hash.data(), std::min(hash.size(), sizeof k));
    return k;
}

Status BlobStore::init(bool writer, const BlobStoreOptions &options, InsertObserver observer)
{
    m_options = options;
    m_observer = std::move(observer);
    m_dctx = ZSTD_createDCtx();
    auto select = m_db.prepare("SELECT size, codec, dict, base, hash, data FROM blobs WHERE id = ?");
    if (!select)
        return select.error();
    m_select = std::move(*select);
    if (!writer)
        return {};

    m_cctx = ZSTD_createCCtx();
    auto byId = m_db.prepare("SELECT hash FROM blobs WHERE id = ?");
    auto ins = m_db.prepare(
        "INSERT INTO blobs(hash, role, size, codec, dict, base, data) VALUES (?,?,?,?,?,?,?)");
    if (!byId)
        return byId.error();
    if (!ins)
        return ins.error();
    m_hashById = std::move(*byId);
    m_insert = std::move(*ins);

    auto hashes = m_db.prepare("SELECT id, hash FROM blobs");
    if (!hashes)
        return hashes.error();
    for (;;) {
        auto row = hashes->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        m_idByHash.emplace(hashKey(hashes->blob(1)), hashes->int64(0));
    }

    // A file being appended to keeps using the dictionary it was trained with.
    auto dict = m_db.prepare("SELECT id, data FROM dictionaries ORDER BY id DESC LIMIT 1");
    if (!dict)
        return dict.error();
    auto row = dict->step();
    if (!row)
        return row.error();
    if (*row) {
        std::string_view data = dict->blob(1);
        m_cdict = ZSTD_createCDict(data.data(), data.size(), m_options.compressionLevel);
        if (!m_cdict)
            return Error{ErrorCode::Corrupt, m_db.path() + ": the stored dictionary is unusable"};
        m_cdictId = dict->int64(0);
    } else {
        m_training = m_options.dictionaryTrainingBytes > 0;
    }
    return {};
}

std::string BlobStore::compress(std::string_view bytes, BlobCodec &codec, int64_t &dict)
{
    codec = BlobCodec::Stored;
    dict = 0;
    if (bytes.size() < kMinCompressible)
        return std::string(bytes);
    std::string out(ZSTD_compressBound(bytes.size()), '\0');
    size_t n;
    if (m_cdict) {
        n = ZSTD_compress_usingCDict(m_cctx, out.data(), out.size(), bytes.data(), bytes.size(),
                                     m_cdict);
    } else {
        n = ZSTD_compressCCtx(m_cctx, out.data(), out.size(), bytes.data(), bytes.size(),
                              m_options.compressionLevel);
    }
    if (ZSTD_isError(n) || n >= bytes.size())
        return std::string(bytes);
    out.resize(n);
    codec = m_cdict ? BlobCodec::ZstdDict : BlobCodec::Zstd;
    dict = m_cdict ? m_cdictId : 0;
    return out;
}

void BlobStore::collectSample(std::string_view bytes)
{
    if (!m_training || bytes.size() < kMinCompressible)
        return;
    std::string_view sample = bytes.substr(0, kMaxSample);
    m_samples.append(sample);
    m_sampleSizes.push_back(sample.size());
}

Status BlobStore::trainDictionary()
{
    m_training = false;
    std::string dict(size_t(m_options.dictionarySize), '\0');
    size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), m_samples.data(),
                                     m_sampleSizes.data(), unsigned(m_sampleSizes.size()));
    m_samples = {};
    m_sampleSizes = {};
    // Too little or too uniform content to learn from: go on without a dictionary.
    if (ZDICT_isError(n))
        return {};
    dict.resize(n);
    auto ins = m_db.prepare("INSERT INTO dictionaries(data) VALUES (?)");
    if (!ins)
        return ins.error();
    ins->bindBlob(1, dict);
    if (auto s = ins->run(); !s)
        return s;
    m_cdictId = sqlite3_last_insert_rowid(m_db.handle());
    m_cdict = ZSTD_createCDict(dict.data(), dict.size(), m_options.compressionLevel);
    return {};
}

Result<BlobId> BlobStore::insert(BlobRole role, std::string_view bytes, const std::string &hash,
                                 BlobCodec codec, int64_t dict, int64_t base,
                                 std::string_view data)
{
    m_insert.bindBlob(1, hash)
        .bind(2, int(role))
        .bind(3, int64_t(bytes.size()))
        .bind(4, int(codec))
        .bindIdOrNull(5, dict)
        .bindIdOrNull(6, base)
        .bindBlob(7, data);
    if (auto s = m_insert.run(); !s)
        return s.error();
    BlobId id{sqlite3_last_insert_rowid(m_db.handle())};
    m_idByHash.emplace(hashKey(hash), id.value);
    if (m_observer)
        m_observer(role, int64_t(data.size()), int64_t(bytes.size()), id);
    return id;
}

Result<BlobId> BlobStore::put(BlobRole role, std::string_view bytes, bool trainable,
                              bool *inserted)
{
    if (inserted)
        *inserted = false;
    std::string hash = blobHash(bytes);
    auto found = find(hash);
    if (!found)
        return found.error();
    if (*found)
        return BlobId{*found};

    if (trainable)
        collectSample(bytes);
    if (m_training && int64_t(m_samples.size()) >= m_options.dictionaryTrainingBytes) {
        if (auto s = trainDictionary(); !s)
            return s.error();
    }
    BlobCodec codec;
    int64_t dict;
    std::string data = compress(bytes, codec, dict);
    auto id = insert(role, bytes, hash, codec, dict, 0, data);
    if (id && inserted)
        *inserted = true;
    return id;
}

Result<BlobId> BlobStore::putDelta(BlobRole role, std::string_view bytes, BlobId base,
                                   std::string_view baseBytes)
{
    std::string hash = blobHash(bytes);
    auto found = find(hash);
    if (!found)
        return found.error();
    if (*found)
        return BlobId{*found};

    size_t prefix = commonPrefix(bytes, baseBytes);
    size_t suffix = commonSuffix(bytes, baseBytes,
                                 std::min(bytes.size(), baseBytes.size()) - prefix);
    std::string_view middle = bytes.substr(prefix, bytes.size() - prefix - suffix);
    size_t window = std::min(prefix, kDeltaWindow);

    std::string data;
    appendVarint(data, prefix);
    appendVarint(data, suffix);
    appendVarint(data, window);
    size_t header = data.size();
    data.resize(header + ZSTD_compressBound(middle.size()));
    ZSTD_CCtx_reset(m_cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_compressionLevel, m_options.compressionLevel);
    ZSTD_CCtx_refPrefix(m_cctx, baseBytes.data() + prefix - window, window);
    size_t n = ZSTD_compress2(m_cctx, data.data() + header, data.size() - header, middle.data(),
                              middle.size());
    if (ZSTD_isError(n))
        return Error{ErrorCode::Io, m_db.path() + ": zstd: " + ZSTD_getErrorName(n)};
    data.resize(header + n);
    return insert(role, bytes, hash, BlobCodec::Delta, 0, base.value, data);
}

Result<int64_t> BlobStore::find(const std::string &hash)
{
    auto it = m_idByHash.find(hashKey(hash));
    if (it == m_idByHash.end())
        return int64_t(0);
    m_hashById.bind(1, it->second);
    auto row = m_hashById.step();
    if (!row) {
        m_hashById.reset();
        return row.error();
    }
    // Two contents whose hashes share their first 8 bytes: store the new one anew.
    int64_t id = *row && m_hashById.blob(0) == hash ? it->second : 0;
    m_hashById.reset();
    return id;
}

Result<BlobStore::Row> BlobStore::readRow(BlobId id)
{
    m_select.bind(1, id.value);
    auto found = m_select.step();
    if (!found) {
        m_select.reset();
        return found.error();
    }
    if (!*found) {
        m_select.reset();
        return Error{ErrorCode::NotFound,
                     m_db.path() + ": no blob " + std::to_string(id.value)};
    }
    Row row;
    row.size = m_select.int64(0);
    row.codec = BlobCodec(m_select.int64(1));
    row.dict = m_select.int64(2);
    row.base = m_select.int64(3);
    row.hash = std::string(m_select.blob(4));
    row.data = std::string(m_select.blob(5));
    m_select.reset();
    return row;
}

Result<ZSTD_DDict *> BlobStore::ddict(int64_t dictId)
{
    if (auto it = m_ddicts.find(dictId); it != m_ddicts.end())
        return it->second;
    auto stmt = m_db.prepare("SELECT data FROM dictionaries WHERE id = ?");
    if (!stmt)
        return stmt.error();
    stmt->bind(1, dictId);
    auto row = stmt->step();
    if (!row)
        return row.error();
    if (!*row)
        return Error{ErrorCode::Corrupt,
                     m_db.path() + ": dictionary " + std::to_string(dictId) + " is missing"};
    std::string_view data = stmt->blob(0);
    ZSTD_DDict *d = ZSTD_createDDict(data.data(), data.size());
    if (!d)
        return Error{ErrorCode::Corrupt,
                     m_db.path() + ": dictionary " + std::to_string(dictId) + " is unusable"};
    m_ddicts[dictId] = d;
    return d;
}

Result<std::string> BlobStore::decodeRow(BlobId id, const Row &row, std::string_view baseBytes)
{
    // Sizes come from the file: bound them before allocating, so a damaged row cannot ask
    // for terabytes.
    constexpr int64_t kMaxBlob = int64_t(1) << 34;
    if (row.size < 0 || row.size > kMaxBlob)
        return corrupt(m_db, id, "implausible size " + std::to_string(row.size));
    std::string out;
    switch (row.codec) {
    case BlobCodec::Stored:
        out = row.data;
        break;
    case BlobCodec::Zstd:
    case BlobCodec::ZstdDict: {
        out.resize(size_t(row.size));
        size_t n;
        if (row.codec == BlobCodec::ZstdDict) {
            auto d = ddict(row.dict);
            if (!d)
                return d.error();
            n = ZSTD_decompress_usingDDict(m_dctx, out.data(), out.size(), row.data.data(),
                                           row.data.size(), *d);
        } else {
            n = ZSTD_decompressDCtx(m_dctx, out.data(), out.size(), row.data.data(),
                                    row.data.size());
        }
        if (ZSTD_isError(n))
            return corrupt(m_db, id, std::string("cannot decompress: ") + ZSTD_getErrorName(n));
        out.resize(n);
        break;
    }
    case BlobCodec::Delta: {
        size_t pos = 0;
        uint64_t prefix, suffix, window;
        if (!readVarint(row.data, pos, prefix) || !readVarint(row.data, pos, suffix) ||
            !readVarint(row.data, pos, window) || prefix + suffix > baseBytes.size() ||
            window > prefix || prefix + suffix > uint64_t(row.size))
            return corrupt(m_db, id, "bad delta header");
        size_t middleSize = size_t(row.size) - prefix - suffix;
        out.resize(size_t(row.size));
        std::memcpy(out.data(), baseBytes.data(), prefix);
        ZSTD_DCtx_reset(m_dctx, ZSTD_reset_session_and_parameters);
        ZSTD_DCtx_refPrefix(m_dctx, baseBytes.data() + prefix - window, window);
        size_t n = ZSTD_decompressDCtx(m_dctx, out.data() + prefix, middleSize,
                                       row.data.data() + pos, row.data.size() - pos);
        if (ZSTD_isError(n))
            return corrupt(m_db, id, std::string("cannot decompress delta: ") +
                                         ZSTD_getErrorName(n));
        if (n != middleSize)
            return corrupt(m_db, id, "delta decodes to the wrong size");
        std::memcpy(out.data() + prefix + middleSize,
                    baseBytes.data() + baseBytes.size() - suffix, suffix);
        break;
    }
    default:
        return corrupt(m_db, id, "unknown codec " + std::to_string(int(row.codec)));
    }
    if (int64_t(out.size()) != row.size)
        return corrupt(m_db, id, "decodes to " + std::to_string(out.size()) + " bytes, not " +
                                     std::to_string(row.size));
    return out;
}

const std::string *BlobStore::cached(BlobId id) const
{
    for (const auto &[cid, bytes] : m_cache) {
        if (cid == id)
            return &bytes;
    }
    return nullptr;
}

void BlobStore::remember(BlobId id, const std::string &bytes)
{
    if (cached(id))
        return;
    m_cache.emplace_front(id, bytes);
    if (m_cache.size() > kCachedBases)
        m_cache.pop_back();
}

Result<std::string> BlobStore::get(BlobId id)
{
    if (const std::string *hit = cached(id))
        return *hit;
    // Walk down the delta chain to a blob that decodes on its own (or one in the cache),
    // then decode back up. Bases always have smaller ids, which also rules out cycles.
    std::vector<std::pair<BlobId, Row>> chain;
    std::string base;
    BlobId current = id;
    for (;;) {
        auto row = readRow(current);
        if (!row)
            return row.error();
        bool isDelta = row->codec == BlobCodec::Delta;
        int64_t next = row->base;
        chain.emplace_back(current, std::move(*row));
        if (!isDelta)
            break;
        if (next <= 0 || next >= current.value)
            return corrupt(m_db, current, "delta base " + std::to_string(next) + " is invalid");
        current = BlobId{next};
        if (const std::string *hit = cached(current)) {
            base = *hit;
            break;
        }
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        auto decoded = decodeRow(it->first, it->second, base);
        if (!decoded)
            return decoded.error();
        base = std::move(*decoded);
        if (chain.size() > 1 || it->second.codec == BlobCodec::Delta)
            remember(it->first, base);
    }
    return base;
}

std::string BlobStore::verifyBlob(BlobId id)
{
    auto row = readRow(id);
    if (!row)
        return row.error().message;
    auto bytes = get(id);
    if (!bytes)
        return bytes.error().message;
    if (blobHash(*bytes) != row->hash)
        return m_db.path() + ": blob " + std::to_string(id.value) +
               ": content does not match its hash";
    return {};
}

} // namespace tapedeck::formats
