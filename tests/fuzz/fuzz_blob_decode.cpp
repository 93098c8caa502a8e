// Damages one blob of a small tape with fuzz bytes (its data, size, codec, base or
// dictionary columns, written with sqlite3 behind the library's back), then reads every
// step, walks the tape, searches it and verifies it. None of that may crash, throw, trip a
// sanitizer or allocate without bound, whatever the row says.
//
// Input: byte 0 picks the tape (bit 0) and the blob (the rest); byte 1 holds flags:
//   bits 0-1  0: data = payload   1: data ^= payload, from offset payload[0]
//             2: data cut or zero-padded to the length in payload[0..1]   3: data kept
//   bit 2     codec = next byte % 6 (4 and 5 are not codecs)
//   bit 3     size = next 4 bytes, little-endian, as a signed 32-bit number
//   bit 4     base = next byte (0: NULL)
//   bit 5     dict = next byte (0: NULL)
// and the payload is what remains.
#include "testutil.h"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <optional>
#include <string>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;

namespace {

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "fuzz_blob_decode: %s\n", what.c_str());
    std::abort();
}

struct Template {
    std::string bytes;
    int64_t blobs = 0;
};

const std::string &workDir()
{
    static const std::string dir = [] {
        // tmpfs when there is one: each input creates or rewrites a tape, and the disk's
        // syncs would otherwise dominate the time per input.
        char templ[] = "/dev/shm/tapedeck-fuzz-blob-XXXXXX";
        char fallback[] = "/tmp/tapedeck-fuzz-blob-XXXXXX";
        const char *d = mkdtemp(templ);
        if (!d)
            d = mkdtemp(fallback);
        if (!d)
            fail("mkdtemp failed");
        // Removed at exit; libFuzzer leaves through exit() when it is done or finds a crash.
        static std::string created;
        created = d;
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(created, ec);
        });
        return std::string(d);
    }();
    return dir;
}

Template load(const std::string &path)
{
    Template t;
    t.bytes = readFile(path);
    t.blobs = sqlInt(path, "SELECT max(id) FROM blobs").value_or(0);
    if (t.blobs <= 0)
        fail("template tape without blobs");
    return t;
}

// Two tapes: the sample (stored, zstd and delta blobs) and one whose writer trained a
// dictionary early (dictionary-coded blobs, short delta chains).
const std::array<Template, 2> &templates()
{
    static const std::array<Template, 2> tapes = [] {
        const std::string a = workDir() + "/sample.tape";
        if (auto s = writeSampleTape(a); !s)
            fail(s.error().message);
        const std::string b = workDir() + "/dict.tape";
        {
            WriterOptions o;
            o.dictionaryTrainingBytes = 16 << 10;
            o.dictionarySize = 4 << 10;
            o.keyframeInterval = 4;
            auto w = TapeWriter::create(b, o);
            if (!w)
                fail(w.error().message);
            auto sc = beginScaffold(**w);
            if (!sc)
                fail(sc.error().message);
            for (int64_t k = 0; k < 24; ++k) {
                if (auto r = (*w)->append(generatedStep(1, k, sc->thread)); !r)
                    fail(r.error().message);
            }
        }
        return std::array<Template, 2>{load(a), load(b)};
    }();
    return tapes;
}

// Reads the next `n` bytes of the input, or fewer at its end.
struct Cursor {
    const uint8_t *p;
    size_t left;
    uint8_t byte() { return left ? (--left, *p++) : 0; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    Cursor in{data, size};
    const uint8_t pick = in.byte();
    const uint8_t flags = in.byte();
    const Template &t = templates()[pick & 1];
    const int64_t blob = 1 + int64_t(pick >> 1) % t.blobs;

    std::optional<int64_t> codec, rowSize, base, dict;
    if (flags & 4)
        codec = in.byte() % 6;
    if (flags & 8) {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= uint32_t(in.byte()) << (8 * i);
        rowSize = int64_t(int32_t(v));
    }
    if (flags & 16)
        base = in.byte();
    if (flags & 32)
        dict = in.byte();
    const std::string payload(reinterpret_cast<const char *>(in.p), in.left);

    const std::string path = workDir() + "/damaged.tape";
    if (!writeFile(path, t.bytes))
        fail("cannot write " + path);
    auto original = sqlBytes(path, "SELECT data FROM blobs WHERE id = " + std::to_string(blob));
    if (!original)
        return 0; // a gap in the ids: nothing to damage
    std::string bytes = *original;
    switch (flags & 3) {
    case 0:
        bytes = payload;
        break;
    case 1:
        if (!payload.empty()) {
            const size_t from = uint8_t(payload[0]);
            for (size_t i = 1; i < payload.size() && from + i - 1 < bytes.size(); ++i)
                bytes[from + i - 1] ^= payload[i];
        }
        break;
    case 2: {
        const size_t len = payload.size() >= 2 ? uint8_t(payload[0]) | size_t(uint8_t(payload[1])) << 8 : 0;
        bytes.resize(len, '\0');
        break;
    }
    default:
        break;
    }

    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
        fail("cannot open the copy with sqlite3");
    sqlite3_stmt *stmt = nullptr;
    const char *sql =
        "UPDATE blobs SET data = ?1, codec = coalesce(?2, codec), size = coalesce(?3, size), "
        "base = CASE WHEN ?4 IS NULL THEN base WHEN ?4 = 0 THEN NULL ELSE ?4 END, "
        "dict = CASE WHEN ?5 IS NULL THEN dict WHEN ?5 = 0 THEN NULL ELSE ?5 END WHERE id = ?6";
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
        fail(sqlite3_errmsg(db));
    sqlite3_bind_blob64(stmt, 1, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    auto bindOptional = [&](int i, const std::optional<int64_t> &v) {
        if (v)
            sqlite3_bind_int64(stmt, i, *v);
        else
            sqlite3_bind_null(stmt, i);
    };
    bindOptional(2, codec);
    bindOptional(3, rowSize);
    bindOptional(4, base);
    bindOptional(5, dict);
    sqlite3_bind_int64(stmt, 6, blob);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        fail(sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    auto reader = TapeReader::open(path);
    if (!reader)
        fail("the damaged copy does not open: " + reader.error().message);
    const int64_t n = (*reader)->stepCount();
    for (int64_t i = 1; i <= n; ++i) {
        auto s = (*reader)->step(StepIndex{i});
        if (!s && s.error().message.empty())
            fail("an error without a message");
    }
    (void)(*reader)->forEachStep([](const Step &) { return true; });
    (void)(*reader)->search("kernel");
    (void)(*reader)->summary();
    const VerifyReport report = (*reader)->verify();
    if (!report.ok && report.problems.empty())
        fail("verify() failed without naming a problem");
    return 0;
}
