#include "blobstore.h"

#include "eventsplit.h"
#include "packing.h"

#include <xxhash.h>
// The fastCover trainer with fixed parameters is declared in zdict.h's experimental part.
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

#include <algorithm>
#include <cstring>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace tapedeck::formats {

namespace {

// How much of the base before the cut a delta may refer to. Bigger finds more repeats in
// new content (a benchmark table like the last one) but costs time to index per request:
// on the sample session 64 KiB made request deltas larger (the window crowds the new
// messages' references) and cost five times the instructions of 8 KiB.
constexpr size_t kDeltaWindow = 8 << 10;
// A stream with fewer events than this is stored as other content is.
constexpr size_t kMinEvents = 4;
// Blobs smaller than this are not worth a zstd frame header.
constexpr size_t kMinCompressible = 24;
// Each sample gives the dictionary trainer at most this much of a blob.
constexpr size_t kMaxSample = 16 << 10;
// The cache of decoded blobs holds at most this many, and this many bytes: enough for a
// thread's requests read in order (each one's base is the one before), not a copy of every
// large body met. A step's request and its streamed response each sit at the end of a
// chain of up to 63 blobs: the count holds both chains, so that walking the response's
// does not push out the request the thread's next step is a delta on.
constexpr size_t kCachedBlobs = 160;
constexpr size_t kCachedBytes = size_t(64) << 20;
// The compression buffer kept between blobs; a larger blob gets one of its own.
constexpr size_t kKeptBuffer = size_t(1) << 20;
// See referencesToUse().
constexpr size_t kLargeReferences = size_t(8) << 20;
// A blob that its references make this many times smaller is not compressed on its own as
// well, to compare: on the sample session, compressed alone (with the dictionary) such a
// blob came out smaller in 120 cases of 2,570, by 1.5 KB in all, and trying them was half
// the second compressions; a blob of 1 MiB or more is tried alone only when its references
// do worse than 1/16, as that costs a second of compression for a few bytes.
constexpr size_t kSmallerWithReferences = 5;
constexpr size_t kLargeBlob = size_t(1) << 20;
constexpr size_t kLargeSmallerWithReferences = 16;
// The largest window a frame may need: zstd decoders accept up to 2^27 by default.
constexpr int kMaxWindowLog = 27;
// Reference chains are short by construction (the writer bounds delta chains by its
// keyframe interval); this only guards against a damaged file that loops.
constexpr int kMaxDepth = 1024;

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

uint64_t hashKey(std::string_view hash)
{
    uint64_t k = 0;
    for (size_t i = 0; i < hash.size() && i < 8; ++i)
        k = k << 8 | uint8_t(hash[i]);
    return k;
}

// Frames are stored without zstd's magic number and dictionary id: the codec column says
// what they are and which dictionary they need, and the 4 to 8 bytes are a large part of a
// small blob.
void setFrameFormat(ZSTD_CCtx *cctx)
{
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
}

void setFrameFormat(ZSTD_DCtx *dctx)
{
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
}

// The content size a frame declares, ZSTD_CONTENTSIZE_ERROR when it is no frame.
unsigned long long frameContentSize(std::string_view frame)
{
    ZSTD_frameHeader header;
    if (ZSTD_getFrameHeader_advanced(&header, frame.data(), frame.size(),
                                     ZSTD_f_zstd1_magicless) != 0)
        return ZSTD_CONTENTSIZE_ERROR;
    if (header.frameType != ZSTD_frame)
        return ZSTD_CONTENTSIZE_ERROR;
    return header.frameContentSize;
}

// Appends the reference list of `refs` to `header` and their content to `prefix`.
void appendReferences(const std::vector<BlobRef> &refs, std::string &header, std::string &prefix)
{
    appendVarint(header, refs.size());
    for (const BlobRef &r : refs) {
        appendVarint(header, uint64_t(r.id.value));
        prefix.append(r.bytes);
    }
}

// References that add up to more than kLargeReferences are cut to the largest alone, whose
// content is then the prefix as it lies: joining it with the others would copy tens of
// megabytes, for the little the small ones add.
std::vector<BlobRef> referencesToUse(const std::vector<BlobRef> &refs)
{
    size_t total = 0;
    for (const BlobRef &r : refs)
        total += r.bytes.size();
    if (total <= kLargeReferences)
        return refs;
    return {*std::max_element(refs.begin(), refs.end(), [](const BlobRef &a, const BlobRef &b) {
        return a.bytes.size() < b.bytes.size();
    })};
}

// As appendReferences(), but the prefix is returned: `storage` holds it only when there are
// several references.
std::string_view appendReferencesAsPrefix(const std::vector<BlobRef> &refs, std::string &header,
                                          std::string &storage)
{
    if (refs.size() != 1) {
        appendReferences(refs, header, storage);
        return storage;
    }
    appendVarint(header, 1);
    appendVarint(header, uint64_t(refs[0].id.value));
    return refs[0].bytes;
}

int windowLogFor(size_t bytes)
{
    int log = 10;
    while (log < kMaxWindowLog && (size_t(1) << log) < bytes)
        ++log;
    return log;
}

} // namespace

std::string blobHash(std::string_view bytes)
{
    XXH64_canonical_t c;
    XXH64_canonicalFromHash(&c, XXH3_64bits(bytes.data(), bytes.size()));
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

Status BlobStore::init(bool writer, const BlobStoreOptions &options, InsertObserver observer)
{
    m_options = options;
    m_observer = std::move(observer);
    m_dctx = ZSTD_createDCtx();
    auto select = m_db.prepare("SELECT size, codec, dict, base, hash, data FROM blobs WHERE id = ?");
    if (!select)
        return select.error();
    m_select = std::move(*select);
    auto size = m_db.prepare("SELECT size FROM blobs WHERE id = ?");
    if (!size)
        return size.error();
    m_sizeById = std::move(*size);
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
    char *buffer = frameBuffer(ZSTD_compressBound(bytes.size()));
    ZSTD_CCtx_reset(m_cctx, ZSTD_reset_session_and_parameters);
    setFrameFormat(m_cctx);
    if (m_cdict)
        ZSTD_CCtx_refCDict(m_cctx, m_cdict);
    else
        ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_compressionLevel, m_options.compressionLevel);
    size_t n = ZSTD_compress2(m_cctx, buffer, m_bufferSize, bytes.data(), bytes.size());
    const bool smaller = !ZSTD_isError(n) && n < bytes.size();
    std::string out = smaller ? std::string(buffer, n) : std::string(bytes);
    releaseLargeBuffer();
    if (!smaller)
        return out;
    codec = m_cdict ? BlobCodec::ZstdDict : BlobCodec::Zstd;
    dict = m_cdict ? m_cdictId : 0;
    return out;
}

Result<std::string> BlobStore::compressWithPrefix(std::string_view bytes, std::string_view prefix)
{
    char *buffer = frameBuffer(ZSTD_compressBound(bytes.size()));
    ZSTD_CCtx_reset(m_cctx, ZSTD_reset_session_and_parameters);
    setFrameFormat(m_cctx);
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_compressionLevel, m_options.compressionLevel);
    // The prefix counts against the window: make the window hold all of it.
    ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_windowLog, windowLogFor(prefix.size() + bytes.size()));
    // The level's match finder indexes too few positions to find a repeat tens of megabytes
    // back (a large message in the request that holds it); long-distance matching does.
    // Decoders need nothing for it.
    if (prefix.size() + bytes.size() > kLargeReferences)
        ZSTD_CCtx_setParameter(m_cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_refPrefix(m_cctx, prefix.data(), prefix.size());
    size_t n = ZSTD_compress2(m_cctx, buffer, m_bufferSize, bytes.data(), bytes.size());
    ZSTD_CCtx_reset(m_cctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(n)) {
        releaseLargeBuffer();
        return Error{ErrorCode::Io, m_db.path() + ": zstd: " + ZSTD_getErrorName(n)};
    }
    std::string out(buffer, n);
    releaseLargeBuffer();
    return out;
}

char *BlobStore::frameBuffer(size_t capacity)
{
    // Not initialised: only the pages a frame reaches are ever touched.
    if (capacity > m_bufferSize) {
        m_buffer.reset(new char[capacity]);
        m_bufferSize = capacity;
    }
    return m_buffer.get();
}

void BlobStore::releaseLargeBuffer()
{
    if (m_bufferSize > kKeptBuffer) {
        m_buffer.reset();
        m_bufferSize = 0;
        // The context keeps the tables it sized for that blob (tens of megabytes for a
        // large window) for many compressions more: a fresh one sizes them anew.
        ZSTD_freeCCtx(m_cctx);
        m_cctx = ZSTD_createCCtx();
    }
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
    // One pass of fastCover with fixed parameters. ZDICT_trainFromBuffer searches four
    // segment sizes and compresses the samples to score each, five times the work; on the
    // sample session and the tau-bench import these parameters gave dictionaries that
    // compress as well (the tapes within 0.3% of its size), a fifth of the time spent.
    ZDICT_fastCover_params_t params{};
    params.k = 1024; // segment size
    params.d = 8;    // d-mer size
    params.f = 20;   // log2 of the frequency table: 6 MiB while training
    params.accel = 4;
    params.splitPoint = 1.0; // no samples set aside to score parameters with
    params.zParams.compressionLevel = m_options.compressionLevel;
    size_t n = ZDICT_trainFromBuffer_fastCover(dict.data(), dict.size(), m_samples.data(),
                                               m_sampleSizes.data(),
                                               unsigned(m_sampleSizes.size()), params);
    m_samples = {};
    m_sampleSizes = {};
#ifdef __GLIBC__
    // The trainer's tables (several times the samples) were freed, but glibc keeps such
    // memory for the process unless told: a long-running writer would carry it all along.
    malloc_trim(0);
#endif
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

Result<int64_t> BlobStore::find(const std::string &hash, std::string_view bytes)
{
    auto it = m_idByHash.find(hashKey(hash));
    if (it == m_idByHash.end())
        return int64_t(0);
    // A hash names content only probably: make sure, byte for byte.
    auto stored = get(BlobId{it->second});
    if (!stored) {
        // Rolled back with a failed transaction, or damaged: store the content anew.
        if (stored.error().code == ErrorCode::NotFound)
            return int64_t(0);
        return stored.error();
    }
    return *stored == bytes ? it->second : 0;
}

Result<BlobId> BlobStore::put(BlobRole role, std::string_view bytes, bool trainable,
                              bool *inserted, const std::vector<BlobRef> &refs)
{
    if (inserted)
        *inserted = false;
    std::string hash = blobHash(bytes);
    auto found = find(hash, bytes);
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
    // Against references, and on its own: whichever is smaller.
    BlobCodec codec = BlobCodec::Referenced;
    int64_t dict = 0;
    std::string data;
    const std::vector<BlobRef> used = referencesToUse(refs);
    size_t refBytes = 0;
    for (const BlobRef &r : used)
        refBytes += r.bytes.size();
    if (!used.empty() && bytes.size() >= kMinCompressible &&
        refBytes + bytes.size() < (size_t(1) << kMaxWindowLog)) {
        std::string storage;
        const std::string_view prefix = appendReferencesAsPrefix(used, data, storage);
        auto frame = compressWithPrefix(bytes, prefix);
        if (!frame)
            return frame.error();
        data += *frame;
    }
    const size_t enough =
        bytes.size() / (bytes.size() <= kLargeBlob ? kSmallerWithReferences : kLargeSmallerWithReferences);
    if (data.empty() || data.size() >= enough) {
        BlobCodec plainCodec;
        int64_t plainDict;
        std::string plain = compress(bytes, plainCodec, plainDict);
        if (data.empty() || plain.size() <= data.size()) {
            data = std::move(plain);
            codec = plainCodec;
            dict = plainDict;
        }
    }
    auto id = insert(role, bytes, hash, codec, dict, 0, data);
    if (id && inserted)
        *inserted = true;
    return id;
}

Result<BlobId> BlobStore::putDelta(BlobRole role, std::string_view bytes, BlobRef base,
                                   const std::vector<BlobRef> &refs)
{
    std::string hash = blobHash(bytes);
    auto found = find(hash, bytes);
    if (!found)
        return found.error();
    if (*found)
        return BlobId{*found};

    const std::string_view baseBytes = base.bytes;
    size_t prefix = commonPrefix(bytes, baseBytes);
    size_t suffix = commonSuffix(bytes, baseBytes,
                                 std::min(bytes.size(), baseBytes.size()) - prefix);
    std::string_view middle = bytes.substr(prefix, bytes.size() - prefix - suffix);
    size_t window = std::min(prefix, kDeltaWindow);

    std::string dictionary;
    std::string data;
    appendVarint(data, prefix);
    appendVarint(data, suffix);
    appendVarint(data, window);
    appendReferences(referencesToUse(refs), data, dictionary);
    dictionary.append(baseBytes.substr(prefix - window, window));
    auto frame = compressWithPrefix(middle, dictionary);
    if (!frame)
        return frame.error();
    data += *frame;
    return insert(role, bytes, hash, BlobCodec::Delta, 0, base.id.value, data);
}

Result<BlobId> BlobStore::putEvents(BlobRole role, std::string_view bytes,
                                    const std::vector<BlobRef> &refs)
{
    if (countEvents(bytes) < kMinEvents)
        return put(role, bytes, true, nullptr, refs);
    collectSample(bytes);
    std::string hash = blobHash(bytes);
    auto found = find(hash, bytes);
    if (!found)
        return found.error();
    if (*found)
        return BlobId{*found};

    std::string data;
    std::string storage;
    const std::vector<BlobRef> used = referencesToUse(refs);
    const std::string_view dictionary = appendReferencesAsPrefix(used, data, storage);
    auto frame = compressWithPrefix(splitEvents(bytes), dictionary);
    if (!frame)
        return frame.error();
    data += *frame;
    return insert(role, bytes, hash, BlobCodec::Events, 0, 0, data);
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
        return Error{ErrorCode::NotFound, m_db.path() + ": no blob " + std::to_string(id.value)};
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

// Reads a reference list at `pos` and returns the referenced blobs' content, concatenated.
Result<std::string> BlobStore::referenceText(BlobId id, std::string_view data, size_t &pos,
                                             int depth)
{
    uint64_t n;
    if (!readVarint(data, pos, n) || n > data.size())
        return corrupt(m_db, id, "bad reference list");
    // Add up the sizes before decoding anything: a damaged list must not make us decode
    // gigabytes. No writer makes a prefix larger than a zstd window.
    std::vector<int64_t> refs;
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t ref;
        if (!readVarint(data, pos, ref))
            return corrupt(m_db, id, "bad reference list");
        if (ref == 0 || ref >= uint64_t(id.value))
            return corrupt(m_db, id, "refers to blob " + std::to_string(ref) + ", not an earlier one");
        m_sizeById.bind(1, int64_t(ref));
        auto row = m_sizeById.step();
        int64_t size = row && *row ? m_sizeById.int64(0) : -1;
        m_sizeById.reset();
        if (!row)
            return row.error();
        if (size < 0)
            return corrupt(m_db, id, "refers to blob " + std::to_string(ref) + ", which is missing");
        total += uint64_t(size);
        if (total > (uint64_t(1) << kMaxWindowLog))
            return corrupt(m_db, id, "its references add up to more than a zstd window");
        refs.push_back(int64_t(ref));
    }
    std::string text;
    text.reserve(total);
    for (int64_t ref : refs) {
        auto bytes = decode(BlobId{ref}, depth + 1);
        if (!bytes)
            return bytes.error();
        text += *bytes;
    }
    return text;
}

Result<std::string> BlobStore::decodeRow(BlobId id, const Row &row, int depth)
{
    // Sizes come from the file: bound them before allocating, so a damaged row cannot ask
    // for terabytes.
    constexpr int64_t kMaxBlob = int64_t(1) << 34;
    if (row.size < 0 || row.size > kMaxBlob)
        return corrupt(m_db, id, "implausible size " + std::to_string(row.size));
    std::string out;
    // A frame declares its content size: check it against the row before allocating.
    auto frameSizeIs = [&](std::string_view frame, uint64_t expected) {
        return frameContentSize(frame) == expected;
    };
    auto decompress = [&](std::string_view frame, std::string_view prefix, char *dst,
                          size_t capacity) -> Result<size_t> {
        ZSTD_DCtx_reset(m_dctx, ZSTD_reset_session_and_parameters);
        setFrameFormat(m_dctx);
        if (!prefix.empty())
            ZSTD_DCtx_refPrefix(m_dctx, prefix.data(), prefix.size());
        size_t n = ZSTD_decompressDCtx(m_dctx, dst, capacity, frame.data(), frame.size());
        if (ZSTD_isError(n))
            return corrupt(m_db, id, std::string("cannot decompress: ") + ZSTD_getErrorName(n));
        return n;
    };
    switch (row.codec) {
    case BlobCodec::Stored:
        out = row.data;
        break;
    case BlobCodec::Zstd:
    case BlobCodec::ZstdDict: {
        if (!frameSizeIs(row.data, uint64_t(row.size)))
            return corrupt(m_db, id, "its frame does not hold " + std::to_string(row.size) + " bytes");
        out.resize(size_t(row.size));
        ZSTD_DCtx_reset(m_dctx, ZSTD_reset_session_and_parameters);
        setFrameFormat(m_dctx);
        if (row.codec == BlobCodec::ZstdDict) {
            auto d = ddict(row.dict);
            if (!d)
                return d.error();
            ZSTD_DCtx_refDDict(m_dctx, *d);
        }
        size_t n = ZSTD_decompressDCtx(m_dctx, out.data(), out.size(), row.data.data(),
                                       row.data.size());
        if (ZSTD_isError(n))
            return corrupt(m_db, id, std::string("cannot decompress: ") + ZSTD_getErrorName(n));
        out.resize(n);
        break;
    }
    case BlobCodec::Referenced: {
        size_t pos = 0;
        auto prefix = referenceText(id, row.data, pos, depth);
        if (!prefix)
            return prefix.error();
        if (!frameSizeIs(std::string_view(row.data).substr(pos), uint64_t(row.size)))
            return corrupt(m_db, id, "its frame does not hold " + std::to_string(row.size) + " bytes");
        out.resize(size_t(row.size));
        auto n = decompress(std::string_view(row.data).substr(pos), *prefix, out.data(), out.size());
        if (!n)
            return n.error();
        out.resize(*n);
        break;
    }
    case BlobCodec::Events: {
        size_t pos = 0;
        auto prefix = referenceText(id, row.data, pos, depth);
        if (!prefix)
            return prefix.error();
        std::string_view frame = std::string_view(row.data).substr(pos);
        // The split form is at most 2.5 times the body (three one-byte varints for an event of
        // two bytes) and a count.
        unsigned long long declared = frameContentSize(frame);
        if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR ||
            declared > 4 * uint64_t(row.size) + 16)
            return corrupt(m_db, id, "its frame does not hold the split form of " +
                                         std::to_string(row.size) + " bytes");
        std::string split(size_t(declared), '\0');
        auto n = decompress(frame, *prefix, split.data(), split.size());
        if (!n)
            return n.error();
        split.resize(*n);
        auto joined = joinEvents(split, size_t(row.size));
        if (!joined)
            return corrupt(m_db, id, "its split event stream is malformed");
        out = std::move(*joined);
        break;
    }
    case BlobCodec::Delta: {
        if (row.base <= 0 || row.base >= id.value)
            return corrupt(m_db, id, "delta base " + std::to_string(row.base) + " is invalid");
        auto base = decode(BlobId{row.base}, depth + 1);
        if (!base)
            return base.error();
        size_t pos = 0;
        uint64_t prefix, suffix, window;
        // Each length is checked on its own first, so that their sum cannot wrap.
        if (!readVarint(row.data, pos, prefix) || !readVarint(row.data, pos, suffix) ||
            !readVarint(row.data, pos, window) || prefix > base->size() ||
            suffix > base->size() || prefix + suffix > base->size() || window > prefix ||
            prefix + suffix > uint64_t(row.size))
            return corrupt(m_db, id, "bad delta header");
        auto refs = referenceText(id, row.data, pos, depth);
        if (!refs)
            return refs.error();
        std::string dictionary = std::move(*refs);
        dictionary.append(std::string_view(*base).substr(prefix - window, window));
        size_t middleSize = size_t(row.size) - prefix - suffix;
        if (!frameSizeIs(std::string_view(row.data).substr(pos), middleSize))
            return corrupt(m_db, id, "its delta frame does not hold the middle");
        out.resize(size_t(row.size));
        std::memcpy(out.data(), base->data(), prefix);
        auto n = decompress(std::string_view(row.data).substr(pos), dictionary,
                            out.data() + prefix, middleSize);
        if (!n)
            return n.error();
        if (*n != middleSize)
            return corrupt(m_db, id, "delta decodes to the wrong size");
        std::memcpy(out.data() + prefix + middleSize, base->data() + base->size() - suffix,
                    suffix);
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
    if (cached(id) || bytes.size() > kCachedBytes / 2)
        return;
    m_cache.emplace_front(id, bytes);
    m_cachedBytes += bytes.size();
    while (m_cache.size() > kCachedBlobs || m_cachedBytes > kCachedBytes) {
        m_cachedBytes -= m_cache.back().second.size();
        m_cache.pop_back();
    }
}

Result<std::string> BlobStore::decode(BlobId id, int depth)
{
    if (const std::string *hit = cached(id))
        return *hit;
    if (depth > kMaxDepth)
        return corrupt(m_db, id, "references nest too deep");
    auto row = readRow(id);
    if (!row)
        return row.error();
    auto bytes = decodeRow(id, *row, depth);
    if (!bytes)
        return bytes;
    // Stored blobs and zstd frames carry no checksum of their own: the hash is it.
    if (blobHash(*bytes) != row->hash)
        return corrupt(m_db, id, "content does not match its hash");
    // What other blobs are built on is likely to be asked for again soon.
    if (depth > 0)
        remember(id, *bytes);
    return bytes;
}

Result<std::string> BlobStore::get(BlobId id)
{
    auto bytes = decode(id, 0);
    // A delta is the base of the thread's next request.
    if (bytes && bytes->size() > 4096)
        remember(id, *bytes);
    return bytes;
}

std::string BlobStore::verifyBlob(BlobId id)
{
    auto bytes = get(id);
    return bytes ? std::string() : bytes.error().message;
}

} // namespace tapedeck::formats
