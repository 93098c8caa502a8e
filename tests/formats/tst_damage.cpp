// Damaged and foreign files give a clear error value, never a crash.
//
// The cases that could crash or exhaust memory run in a forked child, so that one bad
// case fails its own row instead of taking the whole suite down with it.
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;

Q_DECLARE_METATYPE(ErrorCode)

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

// Exit codes of a child that ran a read of a damaged tape.
enum ChildOutcome : int {
    kGotCorrupt = 20,     // the expected answer
    kGotOtherError = 21,  // an error value, but not Corrupt
    kGotValue = 22,       // the damage went unnoticed
    kTooMuchMemory = 23,  // answered, but allocated far more than the tape holds
    kThrew = 24,          // an exception escaped the library
};

// Runs `fn` in a forked child and returns its exit code, or -signal when it died of one.
int runInChild(const std::function<int()> &fn)
{
    fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        restoreCrashSignals();
        alarm(60);
        // Nothing may unwind out of the child into QtTest's loop, which would go on to run
        // the rest of the suite in the child.
        try {
            _exit(fn());
        } catch (const std::exception &e) {
            std::fprintf(stderr, "exception: %s\n", e.what());
        } catch (...) {
        }
        _exit(kThrew);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1000;
    return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

const char *outcomeName(int rc)
{
    switch (rc) {
    case kGotCorrupt:
        return "Corrupt";
    case kGotOtherError:
        return "an error, but not Corrupt";
    case kGotValue:
        return "a value: the damage went unnoticed";
    case kTooMuchMemory:
        return "Corrupt, after allocating hundreds of MiB";
    case kThrew:
        return "an exception";
    }
    return rc < 0 ? "a crash (signal)" : "a crash (sanitizer or unexpected exit)";
}

int64_t maxRssKiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

// Finds `needle` in `hay`; the position of its only occurrence, or npos if there are none
// or several.
size_t uniqueFind(const std::string &hay, const std::string &needle)
{
    size_t at = hay.find(needle);
    if (at == std::string::npos || hay.find(needle, at + 1) != std::string::npos)
        return std::string::npos;
    return at;
}

} // namespace

class TestDamage : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string m_original;    // an intact sample tape, checkpointed (no -wal)
    SampleTape m_sample;
    int m_copies = 0;

    std::string copyOfOriginal()
    {
        const std::string path = m_dir.filePath(QStringLiteral("copy%1.tape").arg(++m_copies)).toStdString();
        writeFile(path, readFile(m_original));
        return path;
    }

    // Reads every step and the summary of an opened tape; none may crash, and every error
    // must say something.
    static void readEverything(const TapeReader &reader)
    {
        (void)reader.summary();
        (void)reader.byteSplit();
        (void)reader.stepSummaries(StepIndex{1}, 1000);
        const int64_t n = reader.stepCount();
        for (int64_t i = 1; i <= n; ++i) {
            auto s = reader.step(StepIndex{i});
            if (!s)
                QVERIFY2(!s.error().message.empty(), "an error with an empty message");
        }
        (void)reader.search("kernel");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_original = m_dir.filePath(QStringLiteral("original.tape")).toStdString();
        auto sample = writeSampleTape(m_original);
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        QVERIFY2(!QFile::exists(q(m_original + "-wal")), "the closed writer left a WAL behind");
        auto reader = TapeReader::open(m_original);
        QVERIFY(reader);
        QVERIFY((*reader)->verify().ok);
    }

    void truncated_data()
    {
        QTest::addColumn<double>("fraction");
        QTest::addColumn<int>("offset");
        QTest::newRow("0 bytes") << 0.0 << 0;
        QTest::newRow("50 bytes: half the header") << 0.0 << 50;
        QTest::newRow("100 bytes: the header only") << 0.0 << 100;
        QTest::newRow("one page and a bit") << 0.0 << 4096 + 100;
        QTest::newRow("a quarter") << 0.25 << 0;
        QTest::newRow("half") << 0.5 << 0;
        QTest::newRow("three quarters, mid-page") << 0.75 << 777;
        QTest::newRow("the last page missing") << 1.0 << -4096;
        QTest::newRow("one byte short") << 1.0 << -1;
    }

    void truncated()
    {
        QFETCH(double, fraction);
        QFETCH(int, offset);
        const std::string bytes = readFile(m_original);
        const int64_t cut = int64_t(double(bytes.size()) * fraction) + offset;
        QVERIFY(cut >= 0 && cut < int64_t(bytes.size()));
        const std::string path = m_dir.filePath(QStringLiteral("cut%1.tape").arg(cut)).toStdString();
        QVERIFY(writeFile(path, bytes.substr(0, size_t(cut))));

        auto reader = TapeReader::open(path);
        if (!reader) {
            const Error &e = reader.error();
            QVERIFY2(e.code == ErrorCode::NotATape || e.code == ErrorCode::Corrupt || e.code == ErrorCode::Io,
                     errorCodeName(e.code));
            QVERIFY2(q(e.message).contains(q(path)), qPrintable(q(e.message)));
            return;
        }
        const VerifyReport report = (*reader)->verify();
        readEverything(**reader);
        if (!report.ok) {
            QVERIFY(!report.problems.empty());
            return;
        }
        // verify() found nothing wrong: then nothing may be lost either.
        auto original = TapeReader::open(m_original);
        QVERIFY(original);
        QCOMPARE((*reader)->stepCount(), (*original)->stepCount());
        for (int64_t i = 1; i <= (*original)->stepCount(); ++i) {
            auto a = (*reader)->step(StepIndex{i});
            auto e = (*original)->step(StepIndex{i});
            QVERIFY2(a, qPrintable(QStringLiteral("verify() passed, but step %1: ").arg(i) +
                                   q(a ? "" : a.error().message)));
            const std::string diff = stepDifference(*e, *a);
            QVERIFY2(diff.empty(), qPrintable(QStringLiteral("verify() passed, but step %1: ").arg(i) + q(diff)));
        }
    }

    // A WAL cut in the middle of a frame (a torn write): SQLite ignores the incomplete
    // commit, so the tape opens, verifies, and keeps every step of the complete ones.
    void tornWal_data()
    {
        QTest::addColumn<double>("fraction");
        QTest::newRow("WAL cut at 10%") << 0.1;
        QTest::newRow("WAL cut at 50%") << 0.5;
        QTest::newRow("WAL cut at 90%") << 0.9;
        QTest::newRow("WAL one byte short") << -1.0;
    }

    void tornWal()
    {
        QFETCH(double, fraction);
        const std::string live = m_dir.filePath(QStringLiteral("live%1.tape").arg(++m_copies)).toStdString();
        ThreadId thread;
        {
            // The schema, the run and the thread reach the main file when this writer
            // closes; what follows lives in the WAL only.
            auto writer = TapeWriter::create(live);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            thread = sc->thread;
        }
        auto writer = TapeWriter::openForAppend(live);
        QVERIFY(writer);
        std::vector<Step> written;
        for (int64_t k = 0; k < 30; ++k) {
            Step s = generatedStep(3, k, thread);
            QVERIFY((*writer)->append(s));
            written.push_back(s);
        }
        // The writer is idle between transactions: copying now is like a crash.
        const std::string wal = readFile(live + "-wal");
        QVERIFY2(wal.size() > 10000, "expected the steps to be in the WAL still");
        const std::string copy = m_dir.filePath(QStringLiteral("torn%1.tape").arg(m_copies)).toStdString();
        QVERIFY(writeFile(copy, readFile(live)));
        const size_t cut = fraction < 0 ? wal.size() - 1 : size_t(double(wal.size()) * fraction);
        QVERIFY(writeFile(copy + "-wal", wal.substr(0, cut)));
        writer->reset();

        auto reader = TapeReader::open(copy);
        QVERIFY2(reader, reader ? "" : reader.error().message.c_str());
        const VerifyReport report = (*reader)->verify();
        QVERIFY2(report.ok, report.problems.empty() ? "" : report.problems.front().c_str());
        const int64_t n = (*reader)->stepCount();
        QVERIFY(n <= int64_t(written.size()));
        for (int64_t i = 1; i <= n; ++i) {
            auto s = (*reader)->step(StepIndex{i});
            QVERIFY2(s, s ? "" : s.error().message.c_str());
            const std::string diff = stepDifference(written[size_t(i - 1)], *s);
            QVERIFY2(diff.empty(), diff.c_str());
        }
        // And a writer can carry on from there.
        auto again = TapeWriter::openForAppend(copy);
        QVERIFY2(again, again ? "" : again.error().message.c_str());
        auto next = (*again)->append(generatedStep(3, 99, thread));
        QVERIFY2(next, next ? "" : next.error().message.c_str());
        QCOMPARE(next->value, n + 1);
    }

    // One byte of a blob flipped on disk: verify() names the blob, and step() of a step
    // that uses it returns Corrupt naming the blob or the step.
    void flippedBlobByte_data()
    {
        // Rows by role, whatever codec the writer chose for each (the row logs it); between
        // them they cover stored, zstd and delta-coded blobs.
        QTest::addColumn<QString>("blobQuery"); // %1 is the step
        QTest::addColumn<qint64>("step");
        QTest::newRow("large tool output")
            << "SELECT payload FROM steps WHERE id = %1" << qint64(m_sample.bigToolResult.value);
        QTest::newRow("small tool output")
            << "SELECT payload FROM steps WHERE id = %1" << qint64(m_sample.smallToolResult.value);
        QTest::newRow("request body, second of a thread")
            << "SELECT request_body FROM wire WHERE step = %1" << qint64(m_sample.streamedModelCall.value);
        QTest::newRow("request message")
            << "SELECT blob FROM text_sources WHERE step = %1 AND field = 1 ORDER BY blob LIMIT 1"
            << qint64(m_sample.firstModelCall.value);
        QTest::newRow("incompressible response body")
            << "SELECT response_body FROM wire WHERE step = %1" << qint64(m_sample.httpExchange.value);
    }

    void flippedBlobByte()
    {
        QFETCH(QString, blobQuery);
        QFETCH(qint64, step);
        const std::string path = copyOfOriginal();
        auto blob = sqlInt(path, blobQuery.arg(step).toStdString());
        QVERIFY(blob);
        auto codec = sqlInt(path, "SELECT codec FROM blobs WHERE id = " + std::to_string(*blob));
        QVERIFY(codec);
        qInfo("blob %lld, codec %lld", (long long)*blob, (long long)*codec);
        auto data = sqlBytes(path, "SELECT data FROM blobs WHERE id = " + std::to_string(*blob));
        QVERIFY(data && data->size() >= 16);

        // Flip a byte in the middle of the blob's bytes as they lie in the file.
        std::string file = readFile(path);
        // A window of the blob's bytes long enough to occur only once.
        const size_t mid = data->size() / 2;
        const size_t from = data->size() <= 64 ? 0 : mid - 24;
        const size_t at = uniqueFind(file, data->substr(from, 48));
        QVERIFY2(at != std::string::npos, "cannot find the blob's bytes in the file");
        file[at + (mid - from)] ^= 0x20;
        QVERIFY(writeFile(path, file));

        auto reader = TapeReader::open(path);
        QVERIFY2(reader, reader ? "" : reader.error().message.c_str());
        const VerifyReport report = (*reader)->verify();
        QVERIFY(!report.ok);
        const QString blobName = QStringLiteral("blob %1").arg(*blob);
        bool named = false;
        for (const std::string &p : report.problems)
            named = named || q(p).contains(blobName);
        QVERIFY2(named, qPrintable(QStringLiteral("verify() does not name %1: ").arg(blobName) +
                                   q(report.problems.empty() ? "" : report.problems.front())));

        auto s = (*reader)->step(StepIndex{step});
        QVERIFY2(!s, "step() returned the damaged step as if it were intact");
        QCOMPARE(s.error().code, ErrorCode::Corrupt);
        const QString message = q(s.error().message);
        QVERIFY2(message.contains(blobName) || message.contains(QStringLiteral("step %1").arg(step)),
                 qPrintable(message));
        // Steps that do not use the blob are untouched.
        auto first = (*reader)->step(StepIndex{1});
        QVERIFY2(first, first ? "" : first.error().message.c_str());
    }

    // Rows of the blobs table damaged in ways a flipped bit in SQLite's b-tree could
    // produce, or a buggy writer. step() must answer Corrupt, in bounded memory.
    void damagedBlobRow_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("delta header lengths that wrap around 2^64") << 0;
        QTest::newRow("delta window larger than the base") << 1;
        QTest::newRow("codec 99") << 2;
        QTest::newRow("negative size") << 3;
        QTest::newRow("size 512 MiB on a small zstd blob") << 4;
        QTest::newRow("dictionary codec naming a missing dictionary") << 5;
        QTest::newRow("delta whose base is itself") << 6;
        QTest::newRow("truncated zstd frame") << 7;
        QTest::newRow("message list that is not varints") << 8;
        QTest::newRow("wire headers and chunk map that are not varints") << 9;
        QTest::newRow("a payload blob that is missing") << 10;
        QTest::newRow("a request message blob that is missing") << 11;
        QTest::newRow("payload that is not JSON") << 12;
        QTest::newRow("reference list naming one big blob 20,000 times") << 13;
    }

    void damagedBlobRow()
    {
        QFETCH(int, which);
        const std::string path = copyOfOriginal();
        const std::string streamed = std::to_string(m_sample.streamedModelCall.value);
        const std::string big = std::to_string(m_sample.bigToolResult.value);
        int64_t step = m_sample.streamedModelCall.value;
        auto blobOf = [&](const std::string &sql) { return sqlInt(path, sql).value_or(-1); };
        const int64_t delta = blobOf("SELECT request_body FROM wire WHERE step = " + streamed);
        const int64_t payload = blobOf("SELECT payload FROM steps WHERE id = " + big);
        auto set = [&](int64_t blob, const std::string &assignments) {
            return sqlExec(path, "UPDATE blobs SET " + assignments + " WHERE id = " + std::to_string(blob));
        };
        std::string error;
        switch (which) {
        case 0: {
            // prefix = 2^64 - 1 and suffix = 1 add up to 0, which passes a naive bounds check.
            std::string header(9, char(0xff));
            header += char(0x01);
            header += char(0x01);
            header += char(0x00);
            header += char(0x00); // an empty reference list
            error = sqlSetBlobColumn(path, delta, "data", header + std::string(32, 'x'));
            break;
        }
        case 1:
            error = sqlSetBlobColumn(path, delta, "data", std::string("\x05\x00\x7f", 3) + std::string(32, 'x'));
            break;
        case 2:
            step = m_sample.bigToolResult.value;
            error = set(payload, "codec = 99");
            break;
        case 3:
            step = m_sample.bigToolResult.value;
            error = set(payload, "size = -5");
            break;
        case 4:
            step = m_sample.bigToolResult.value;
            error = set(payload, "size = 536870912");
            break;
        case 5:
            step = m_sample.bigToolResult.value;
            error = set(payload, "codec = 2, dict = 777");
            break;
        case 6:
            error = set(delta, "base = id");
            break;
        case 7: {
            step = m_sample.bigToolResult.value;
            auto data = sqlBytes(path, "SELECT data FROM blobs WHERE id = " + std::to_string(payload));
            QVERIFY(data);
            error = sqlSetBlobColumn(path, payload, "data", data->substr(0, data->size() / 2));
            break;
        }
        case 8: {
            step = m_sample.firstModelCall.value;
            const int64_t list = blobOf("SELECT messages FROM steps WHERE id = " + std::to_string(step));
            error = sqlSetBlobColumn(path, list, "data", std::string(12, char(0xff)));
            if (error.empty())
                error = set(list, "codec = 0, size = 12");
            break;
        }
        case 9: {
            const int64_t chunks = blobOf("SELECT meta FROM wire WHERE step = " + streamed);
            error = sqlSetBlobColumn(path, chunks, "data", std::string("\x09\x01", 2));
            if (error.empty())
                error = set(chunks, "codec = 0, size = 2");
            break;
        }
        case 10:
            step = m_sample.bigToolResult.value;
            error = sqlExec(path, "DELETE FROM blobs WHERE id = " + std::to_string(payload));
            break;
        case 11: {
            step = m_sample.firstModelCall.value;
            const int64_t message =
                blobOf("SELECT blob FROM text_sources WHERE step = " + std::to_string(step) +
                       " AND field = 1 ORDER BY blob LIMIT 1");
            error = sqlExec(path, "DELETE FROM blobs WHERE id = " + std::to_string(message));
            break;
        }
        case 12: {
            step = m_sample.bigToolResult.value;
            const std::string notJson = "{\"output\": not json";
            error = sqlSetBlobColumn(path, payload, "data", notJson);
            if (error.empty())
                error = set(payload, "codec = 0, size = " + std::to_string(notJson.size()));
            break;
        }
        case 13: {
            // Codec 4 (zstd with the content of earlier blobs as its prefix dictionary):
            // 20,000 references to a 15 KB tool output would make a 300 MB dictionary.
            step = m_sample.smallToolResult.value;
            const int64_t small = blobOf("SELECT payload FROM steps WHERE id = " + std::to_string(step));
            QVERIFY(small > payload);
            std::string refs;
            auto varint = [&](uint64_t v) {
                while (v >= 0x80) {
                    refs += char(v | 0x80);
                    v >>= 7;
                }
                refs += char(v);
            };
            varint(20000);
            for (int i = 0; i < 20000; ++i)
                varint(uint64_t(payload));
            error = sqlSetBlobColumn(path, small, "data", refs + std::string(16, 'z'));
            if (error.empty())
                error = set(small, "codec = 4, size = 31");
            break;
        }
        }
        QVERIFY2(error.empty(), error.c_str());

        const int rc = runInChild([&] {
            const int64_t rssBefore = maxRssKiB();
            auto reader = TapeReader::open(path);
            if (!reader)
                return int(kGotOtherError);
            auto s = (*reader)->step(StepIndex{step});
            if (s)
                return int(kGotValue);
            std::fprintf(stderr, "step %lld: %s: %s\n", (long long)step,
                         errorCodeName(s.error().code), s.error().message.c_str());
            if (s.error().code != ErrorCode::Corrupt)
                return int(kGotOtherError);
            return maxRssKiB() - rssBefore > 128 * 1024 ? int(kTooMuchMemory) : int(kGotCorrupt);
        });
        // verify() reports it, and the whole-tape walk (what export uses) stops at it.
        const int verifyRc = runInChild([&] {
            auto reader = TapeReader::open(path);
            if (!reader)
                return int(kGotOtherError);
            return (*reader)->verify().ok ? int(kGotValue) : int(kGotCorrupt);
        });
        const int walkRc = runInChild([&] {
            auto reader = TapeReader::open(path);
            if (!reader)
                return int(kGotOtherError);
            Status walked = (*reader)->forEachStep([](const Step &) { return true; });
            if (walked)
                return int(kGotValue);
            return walked.error().code == ErrorCode::Corrupt ? int(kGotCorrupt) : int(kGotOtherError);
        });
        const QString outcome = QStringLiteral("step(): %1 [%2]; verify(): %3 [%4]; forEachStep(): %5 [%6]")
                                    .arg(QString::fromUtf8(outcomeName(rc))).arg(rc)
                                    .arg(QString::fromUtf8(outcomeName(verifyRc))).arg(verifyRc)
                                    .arg(QString::fromUtf8(outcomeName(walkRc))).arg(walkRc);
        QVERIFY2(rc == kGotCorrupt && verifyRc == kGotCorrupt && walkRc == kGotCorrupt, qPrintable(outcome));
    }

    void futureVersion()
    {
        const std::string path = copyOfOriginal();
        QCOMPARE(q(sqlExec(path, "PRAGMA user_version = 99")), QString());
        auto reader = TapeReader::open(path);
        QVERIFY(!reader);
        QCOMPARE(reader.error().code, ErrorCode::FutureVersion);
        const QString message = q(reader.error().message);
        QVERIFY2(message.contains(QLatin1String("99")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("upgrade"), Qt::CaseInsensitive), qPrintable(message));
        QVERIFY2(message.contains(q(path)), qPrintable(message));

        auto writer = TapeWriter::openForAppend(path);
        QVERIFY(!writer);
        QCOMPARE(writer.error().code, ErrorCode::FutureVersion);
        QVERIFY2(q(writer.error().message).contains(QLatin1String("upgrade"), Qt::CaseInsensitive),
                 writer.error().message.c_str());
    }

    void notATape_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("random bytes") << 0;
        QTest::newRow("a text file") << 1;
        QTest::newRow("an SQLite database of another application") << 2;
        QTest::newRow("an SQLite database with a foreign application_id") << 3;
        QTest::newRow("an empty file") << 4;
        QTest::newRow("the SQLite magic followed by noise") << 5;
    }

    void notATape()
    {
        QFETCH(int, which);
        const std::string path = m_dir.filePath(QStringLiteral("foreign%1.db").arg(which)).toStdString();
        switch (which) {
        case 0:
            QVERIFY(writeFile(path, noise(1, 64 * 1024)));
            break;
        case 1:
            QVERIFY(writeFile(path, "run,model,tokens\n1,claude,1200\n"));
            break;
        case 2:
        case 3: {
            QVERIFY(writeFile(path, ""));
            std::string sql = "CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT);"
                              "INSERT INTO contacts(name) VALUES ('Ada'), ('Grace');";
            if (which == 3)
                sql += "PRAGMA application_id = 1179406129;"; // 'FSL1', some other format
            QCOMPARE(q(sqlExec(path, sql)), QString());
            break;
        }
        case 4:
            QVERIFY(writeFile(path, ""));
            break;
        case 5:
            QVERIFY(writeFile(path, std::string("SQLite format 3\0", 16) + noise(2, 8192)));
            break;
        }
        auto reader = TapeReader::open(path);
        QVERIFY(!reader);
        QCOMPARE(reader.error().code, ErrorCode::NotATape);
        QVERIFY2(q(reader.error().message).contains(q(path)), reader.error().message.c_str());
        QVERIFY2(q(reader.error().message).contains(QLatin1String("not a tape")), reader.error().message.c_str());

        auto writer = TapeWriter::openForAppend(path);
        QVERIFY(!writer);
        QCOMPARE(writer.error().code, ErrorCode::NotATape);
        // And the foreign file is left as it was.
        if (which == 2 || which == 3)
            QCOMPARE(sqlInt(path, "SELECT count(*) FROM contacts").value_or(-1), int64_t(2));
    }

    void damagedSchema_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::newRow("user_version 0") << "PRAGMA user_version = 0";
        QTest::newRow("the steps table dropped") << "DROP TABLE steps";
        QTest::newRow("the wire table dropped") << "DROP TABLE wire";
    }

    void damagedSchema()
    {
        QFETCH(QString, sql);
        const std::string path = copyOfOriginal();
        QCOMPARE(q(sqlExec(path, sql.toStdString())), QString());
        auto reader = TapeReader::open(path);
        QVERIFY(!reader);
        QCOMPARE(reader.error().code, ErrorCode::Corrupt);
        QVERIFY(!reader.error().message.empty());
    }

    void missingFileAndDirectory()
    {
        const std::string missing = m_dir.filePath(QStringLiteral("no-such.tape")).toStdString();
        auto reader = TapeReader::open(missing);
        QVERIFY(!reader);
        QCOMPARE(reader.error().code, ErrorCode::Io);
        QVERIFY2(q(reader.error().message).contains(q(missing)), reader.error().message.c_str());
        QVERIFY2(!QFile::exists(q(missing)), "opening a missing tape created it");

        auto writer = TapeWriter::openForAppend(missing);
        QVERIFY(!writer);
        QCOMPARE(writer.error().code, ErrorCode::Io);
        QVERIFY2(!QFile::exists(q(missing)), "openForAppend created the missing tape");

        const std::string directory = m_dir.path().toStdString();
        auto dirReader = TapeReader::open(directory);
        QVERIFY(!dirReader);
        QCOMPARE(dirReader.error().code, ErrorCode::Io);
        QVERIFY2(q(dirReader.error().message).contains(QLatin1String("directory")),
                 dirReader.error().message.c_str());
        auto dirWriter = TapeWriter::openForAppend(directory);
        QVERIFY(!dirWriter);
        QVERIFY(!dirWriter.error().message.empty());

        // Creating in a directory that does not exist, or over a directory.
        auto nowhere = TapeWriter::create(m_dir.filePath(QStringLiteral("no/such/dir/x.tape")).toStdString());
        QVERIFY(!nowhere);
        QCOMPARE(nowhere.error().code, ErrorCode::Io);
        WriterOptions overwrite;
        overwrite.overwrite = true;
        const std::string sub = m_dir.filePath(QStringLiteral("subdir")).toStdString();
        QVERIFY(QDir().mkpath(q(sub)));
        auto overDir = TapeWriter::create(sub, overwrite);
        QVERIFY(!overDir);
        QVERIFY(!overDir.error().message.empty());

        // Creating over an existing tape without `overwrite` refuses and keeps it.
        const std::string existing = copyOfOriginal();
        auto refused = TapeWriter::create(existing);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::Io);
        auto still = TapeReader::open(existing);
        QVERIFY(still);
        QCOMPARE((*still)->stepCount(), m_sample.lastStep.value);
    }
};

QTEST_GUILESS_MAIN(TestDamage)
#include "tst_damage.moc"
