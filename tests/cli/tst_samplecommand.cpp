// `tapedeck sample kernel-session` writes a tape that the other commands accept, and the
// same seed writes the same session.
#include "clirunner.h"
#include "testutil.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

class TestSampleCommand : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_tape;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape"));
        const CliRun r = runTapedeck({"sample", "kernel-session", "-o", m_tape, "--scale", "0.05", "--seed", "7"},
                                     {}, 180000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains(" steps, "), r.out.constData());
        QVERIFY(QFile::exists(m_tape));
    }

    void infoAndVerify()
    {
        const CliRun info = runTapedeck({"info", m_tape});
        QVERIFY2(info.exitCode == 0, qPrintable(info.describe()));
        QVERIFY2(info.out.contains("model_call"), info.out.constData());
        QVERIFY2(info.out.contains("tool_call"), info.out.constData());

        const CliRun verify = runTapedeck({"verify", m_tape}, {}, 120000);
        QVERIFY2(verify.exitCode == 0, qPrintable(verify.describe()));
        QVERIFY2(verify.out.contains(": ok ("), verify.out.constData());
    }

    void infoJsonAgreesWithTheLibrary()
    {
        const CliRun r = runTapedeck({"info", "--json", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        json j = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!j.is_discarded(), r.out.constData());
        auto reader = TapeReader::open(m_tape.toStdString());
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QVERIFY(summary->stepCount > 0);
        QCOMPARE(j["steps"].get<int64_t>(), summary->stepCount);
        QCOMPARE(j["threads"].get<int64_t>(), int64_t(summary->threads.size()));
        QVERIFY(summary->stepsByKind[int(StepKind::ModelCall)] > 0);
        QVERIFY(summary->stepsByKind[int(StepKind::ToolCall)] > 0);
        QCOMPARE(summary->runs.size(), size_t(1));
        QVERIFY(summary->runs.front().endedUs > summary->runs.front().startedUs);
        // A session resends its conversation: far more references than stored messages.
        QVERIFY(summary->messageReferences > 2 * summary->messageCount);
    }

    void searchAndDump()
    {
        const CliRun dump = runTapedeck({"dump", m_tape, "--step", "2"});
        QVERIFY2(dump.exitCode == 0, qPrintable(dump.describe()));
        QVERIFY(dump.out.startsWith("step 2 "));
        const CliRun search = runTapedeck({"search", m_tape, "error"});
        QVERIFY2(search.exitCode == 0 || search.exitCode == 1, qPrintable(search.describe()));
    }

    // Same seed and scale, same session: the JSONL exports match byte for byte.
    void sameSeedSameSession()
    {
        const QString again = m_dir.filePath(QStringLiteral("again.tape"));
        const CliRun r = runTapedeck({"sample", "kernel-session", "-o", again, "--scale", "0.05", "--seed", "7"},
                                     {}, 180000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const CliRun a = runTapedeck({"export", "--jsonl", m_tape}, {}, 120000);
        const CliRun b = runTapedeck({"export", "--jsonl", again}, {}, 120000);
        QCOMPARE(a.exitCode, 0);
        QCOMPARE(b.exitCode, 0);
        QVERIFY(a.out.size() > 1000);
        QVERIFY2(a.out == b.out, "two sessions from seed 7 differ");
    }

    void refusesToReplaceWithoutForce()
    {
        const QByteArray before = QByteArray::fromStdString(readFile(m_tape.toStdString()));
        const CliRun r = runTapedeck({"sample", "kernel-session", "-o", m_tape, "--scale", "0.05"});
        QVERIFY2(r.exitCode == 5, qPrintable(r.describe()));
        QCOMPARE(QByteArray::fromStdString(readFile(m_tape.toStdString())), before);
    }

    void badScale_data()
    {
        QTest::addColumn<QString>("scale");
        QTest::newRow("0") << "0";
        QTest::newRow("negative") << "-1";
        QTest::newRow("below the library's range (0.01)") << "0.005";
        QTest::newRow("above the range") << "5000";
        QTest::newRow("not a number") << "big";
    }

    // A scale the generator does not accept is a bad command line (2), and leaves no file.
    void badScale()
    {
        QFETCH(QString, scale);
        const QString out = m_dir.filePath(QStringLiteral("bad-scale.tape"));
        QFile::remove(out);
        const CliRun r = runTapedeck({"sample", "kernel-session", "-o", out, "--scale", scale});
        QVERIFY2(r.exitCode == 2, qPrintable(r.describe()));
        QVERIFY2(!QFile::exists(out), "a rejected command left a tape behind");
    }
};

QTEST_GUILESS_MAIN(TestSampleCommand)
#include "tst_samplecommand.moc"
