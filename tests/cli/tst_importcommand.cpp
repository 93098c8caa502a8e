// `tapedeck import` as a user runs it: every real trajectory of ../shared/data/real into a
// tape whose `tapedeck info` gives the counts the data README states; several inputs into
// one tape; stdin; the errors of bad input and bad flags; what a partly broken file says.
#include "clirunner.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>

using namespace tapedeck::testutil;

namespace {

QString realData(const QString &relative)
{
    return QStringLiteral(TAPEDECK_REAL_DATA "/") + relative;
}

// The count `tapedeck info` prints on the line that starts with `key`, -1 when absent.
qint64 infoCount(const QByteArray &info, const QByteArray &key)
{
    for (const QByteArray &line : info.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if (!trimmed.startsWith(key + ' '))
            continue;
        QByteArray number = trimmed.mid(key.size()).trimmed();
        number = number.left(number.indexOf(' ') < 0 ? number.size() : number.indexOf(' '));
        return number.replace(",", "").toLongLong();
    }
    return -1;
}

} // namespace

class ImportCommandTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // The counts are those of ../shared/data/README.md.
    void realTrajectories_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::addColumn<qint64>("runs");
        QTest::addColumn<QByteArray>("kind");
        QTest::addColumn<qint64>("count");
        QTest::newRow("claude code: 39 tool calls") << "claude-code/python-to-rust-port.transcript.jsonl" << "claude-code" << qint64(1) << QByteArray("tool_call") << qint64(39);
        QTest::newRow("claude code 2.1.197: one Bash call") << "claude-code/echo-hello.claude-2.1.197.jsonl" << "claude-code" << qint64(1) << QByteArray("tool_call") << qint64(1);
        QTest::newRow("codex: one exec_command") << "codex/echo-hello.rollout.codex-0.171.0.jsonl" << "codex" << qint64(1) << QByteArray("tool_call") << qint64(1);
        QTest::newRow("swe-agent: 12 steps") << "swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj" << "swe-agent" << qint64(1) << QByteArray("model_call") << qint64(12);
        QTest::newRow("mini-swe-agent: 156 model calls") << "mini-swe-agent/django__django-13265.deepseek-chat.traj.json" << "mini-swe-agent" << qint64(1) << QByteArray("model_call") << qint64(156);
        QTest::newRow("mini-swe-agent: 156 tool calls") << "mini-swe-agent/django__django-13265.deepseek-chat.traj.json" << "mini-swe-agent" << qint64(1) << QByteArray("tool_call") << qint64(156);
        QTest::newRow("tau-bench: 1,164 tool results") << "tau-bench/gpt-4o-airline.json" << "openai-messages" << qint64(200) << QByteArray("tool_result") << qint64(1164);
        QTest::newRow("openhands") << "openhands/basic_gui_mode.trajectory.json" << "openhands" << qint64(1) << QByteArray("steps") << qint64(-2);
        QTest::newRow("inspect") << "inspect/2025-05-12T20-27-36-04-00_browser.json" << "inspect" << qint64(1) << QByteArray("steps") << qint64(-2);
    }
    void realTrajectories()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        QFETCH(qint64, runs);
        QFETCH(QByteArray, kind);
        QFETCH(qint64, count);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("t.tape"));
        const CliRun imported = runTapedeck({"import", realData(file), "-o", out});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.describe()));
        QVERIFY2(imported.out.contains("imported " + QByteArray::number(runs) + " runs"), qPrintable(imported.describe()));
        const CliRun info = runTapedeck({"info", out});
        QVERIFY2(info.exitCode == 0, qPrintable(info.describe()));
        QCOMPARE(infoCount(info.out, "runs"), runs);
        if (count == -2) // the format has no count of steps to hold it to: some steps came in
            QVERIFY2(infoCount(info.out, kind) > 0, info.out.constData());
        else
            QCOMPARE(infoCount(info.out, kind), count);
        const CliRun verify = runTapedeck({"verify", out});
        QVERIFY2(verify.exitCode == 0, qPrintable(verify.describe()));
        // --format names the same format and gives the same result.
        const CliRun named = runTapedeck({"import", realData(file), "-o", out, "--force", "--format", format});
        QVERIFY2(named.exitCode == 0, qPrintable(named.describe()));
        QCOMPARE(named.out, imported.out);
    }

    void severalInputsGoIntoOneTape()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("all.tape"));
        const CliRun r = runTapedeck({"import", realData("codex/echo-hello.rollout.codex-0.171.0.jsonl"),
                                      realData("swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj"), "-o", out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("echo-hello.rollout.codex-0.171.0.jsonl: codex, 1 runs"), r.out.constData());
        QVERIFY2(r.out.contains("swe-agent, 1 runs"), r.out.constData());
        QVERIFY2(r.out.contains("imported 2 runs"), r.out.constData());

        const CliRun noOutput = runTapedeck({"import", realData("codex/echo-hello.rollout.codex-0.171.0.jsonl"),
                                             realData("swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj")});
        QCOMPARE(noOutput.exitCode, 2);
        QVERIFY2(noOutput.err.contains("several inputs needs -o"), qPrintable(noOutput.describe()));
    }

    void stdinNeedsOutputAndDetects()
    {
        QTemporaryDir dir;
        QFile file(realData("codex/echo-hello.rollout.codex-0.171.0.jsonl"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        const QString out = dir.filePath(QStringLiteral("stdin.tape"));
        const CliRun r = runTapedeck({"import", "-", "-o", out}, bytes);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("imported 1 runs"), r.out.constData());
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("not a trajectory") << QByteArray("hello\nworld\n") << QStringList{} << 4 << QByteArray("in.json: not a format Tapedeck imports");
        QTest::newRow("empty") << QByteArray("\n") << QStringList{} << 4 << QByteArray("in.json: the file is empty");
        QTest::newRow("unknown --format") << QByteArray("[]") << QStringList{"--format", "word"} << 2 << QByteArray("--format word: unknown");
        QTest::newRow("wrong --format") << QByteArray("{\"role\":\"user\",\"content\":\"x\"}\n") << QStringList{"--format", "codex"} << 4 << QByteArray("in.json");
    }
    void badInput()
    {
        QFETCH(QByteArray, content);
        QFETCH(QStringList, extra);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, message);
        QTemporaryDir dir;
        const QString in = dir.filePath(QStringLiteral("in.json"));
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();
        const QString out = dir.filePath(QStringLiteral("out.tape"));
        const CliRun r = runTapedeck(QStringList{"import", in, "-o", out} + extra);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(message), qPrintable(r.describe()));
        QVERIFY2(!QFile::exists(out) && !QFile::exists(out + ".partial"), "a failed import left a file");
    }

    // A file with a broken line in it: what is good comes in, the broken line is named.
    void partlyBrokenFileSaysWhatItSkipped()
    {
        QTemporaryDir dir;
        QFile source(realData("claude-code/python-to-rust-port.transcript.jsonl"));
        QVERIFY(source.open(QIODevice::ReadOnly));
        QList<QByteArray> lines = source.readAll().split('\n');
        lines[10] = "{\"type\": \"assistant\", \"message\": tru";
        const QString in = dir.filePath(QStringLiteral("broken.jsonl"));
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(lines.join('\n'));
        f.close();
        const QString out = dir.filePath(QStringLiteral("broken.tape"));
        const CliRun r = runTapedeck({"import", in, "-o", out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("skipped 1 record"), qPrintable(r.describe()));
        QVERIFY2(r.err.contains("broken.jsonl:11:"), qPrintable(r.describe()));
        QVERIFY2(r.out.contains("imported 1 runs"), qPrintable(r.describe()));
    }

    void helpListsTheFormats()
    {
        const CliRun r = runTapedeck({"import", "--help"});
        QCOMPARE(r.exitCode, 0);
        for (const char *name : {"claude-code", "codex", "swe-agent", "mini-swe-agent", "openhands", "inspect",
                                 "openai-messages", "jsonl"})
            QVERIFY2(r.out.contains(name), r.out.constData());
    }
};

QTEST_GUILESS_MAIN(ImportCommandTest)
#include "tst_importcommand.moc"
