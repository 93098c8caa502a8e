// `tapedeck` end to end: each subcommand run as a process on a tape the test wrote, its
// output checked against the library's own answers, and every documented exit code.
#include "clirunner.h"
#include "testutil.h"

#include <QFile>
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <sstream>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

QList<QByteArray> nonEmptyLines(const QByteArray &text)
{
    QList<QByteArray> out;
    for (const QByteArray &l : text.split('\n')) {
        if (!l.isEmpty())
            out.push_back(l);
    }
    return out;
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_tape;
    SampleTape m_sample;
    std::string m_export; // exportJsonl() of m_tape, in process

    QString file(const QString &name) const { return m_dir.filePath(name); }

    QString damagedCopy()
    {
        const QString path = file(QStringLiteral("damaged.tape"));
        QFile::remove(path);
        QFile::copy(m_tape, path);
        // Change a byte of a compressed blob behind SQLite's back.
        const int64_t blob = sqlInt(path.toStdString(), "SELECT payload FROM steps WHERE id = " +
                                                            std::to_string(m_sample.bigToolResult.value))
                                 .value_or(-1);
        auto data = sqlBytes(path.toStdString(), "SELECT data FROM blobs WHERE id = " + std::to_string(blob));
        if (!data || data->size() < 100)
            return {};
        (*data)[data->size() / 2] ^= 0x55;
        if (!sqlSetBlobColumn(path.toStdString(), blob, "data", *data).empty())
            return {};
        return path;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(QStringLiteral(TAPEDECK_BIN)), TAPEDECK_BIN);
        m_tape = file(QStringLiteral("sample.tape"));
        auto sample = writeSampleTape(m_tape.toStdString());
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        auto reader = TapeReader::open(m_tape.toStdString());
        QVERIFY(reader);
        std::ostringstream out;
        QVERIFY(exportJsonl(**reader, out));
        m_export = out.str();
    }

    void help_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("tapedeck") << QStringList{"--help"}
                                  << QStringList{"info", "dump", "search", "verify", "export", "import",
                                                 "sample", "demo", "Exit codes"};
        QTest::newRow("info") << QStringList{"info", "--help"} << QStringList{"FILE", "--json"};
        QTest::newRow("dump") << QStringList{"dump", "--help"}
                              << QStringList{"FILE", "--step", "--json", "--raw", "--from", "--limit"};
        QTest::newRow("search") << QStringList{"search", "--help"}
                                << QStringList{"FILE", "QUERY", "--limit", "--json"};
        QTest::newRow("verify") << QStringList{"verify", "--help"} << QStringList{"FILE", "--quiet"};
        QTest::newRow("export") << QStringList{"export", "--help"} << QStringList{"FILE", "--jsonl", "--output"};
        QTest::newRow("import") << QStringList{"import", "--help"}
                                << QStringList{"INPUT", "--jsonl", "--output", "--force"};
        QTest::newRow("sample") << QStringList{"sample", "--help"} << QStringList{"kernel-session"};
        QTest::newRow("sample kernel-session")
            << QStringList{"sample", "kernel-session", "--help"}
            << QStringList{"--output", "--seed", "--scale", "--raw-log", "--force"};
        QTest::newRow("demo") << QStringList{"demo", "--help"}
                              << QStringList{"--seed", "--evals", "--workdir", "--keep", "--api", "--workspace",
                                             "sample kernel-session", "Exit codes"};
    }

    void help()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, mentions);
        const CliRun r = runTapedeck(args);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QString text = QString::fromUtf8(r.out + r.err);
        for (const QString &m : mentions)
            QVERIFY2(text.contains(m), qPrintable(QStringLiteral("no \"%1\" in:\n").arg(m) + text));
    }

    void version()
    {
        const CliRun r = runTapedeck({"--version"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(r.out.startsWith("tapedeck "));
    }

    void info()
    {
        const CliRun r = runTapedeck({"info", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QString text = QString::fromUtf8(r.out);
        QVERIFY2(text.contains(QLatin1String("sample run")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("model_call")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("fork_point")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("1 forked")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("subagent: tests")), qPrintable(text));
    }

    void infoJson()
    {
        const CliRun r = runTapedeck({"info", "--json", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        json j = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!j.is_discarded(), r.out.constData());
        auto reader = TapeReader::open(m_tape.toStdString());
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(j["steps"].get<int64_t>(), summary->stepCount);
        QCOMPARE(j["branches"].get<int64_t>(), int64_t(2));
        QCOMPARE(j["threads"].get<int64_t>(), int64_t(3));
        QCOMPARE(j["error_steps"].get<int64_t>(), summary->errorSteps);
        QCOMPARE(j["usage"]["input_tokens"].get<int64_t>(), summary->usage.inputTokens);
        QCOMPARE(j["messages_stored"].get<int64_t>(), summary->messageCount);
        QCOMPARE(j["message_references"].get<int64_t>(), summary->messageReferences);
        for (int k = 1; k <= kStepKindCount; ++k)
            QCOMPARE(j["steps_by_kind"][stepKindName(StepKind(k))].get<int64_t>(), summary->stepsByKind[k]);
        QCOMPARE(q(j["runs"][0]["name"].get<std::string>()), QStringLiteral("sample run"));
        QVERIFY(j["bytes"]["file"].get<int64_t>() > 0);
    }

    void dumpList()
    {
        const CliRun r = runTapedeck({"dump", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QList<QByteArray> lines = nonEmptyLines(r.out);
        // The tape has a fork: the branch tree comes first, the original and its child.
        QVERIFY2(lines.size() > 2 && lines[0].startsWith("run 1: #1 as recorded") && lines[1].startsWith("└─ #2 after step"),
                 r.out.left(400).constData());
        lines.remove(0, 2);
        QCOMPARE(lines.size(), int(m_sample.written.size()) + 1); // a header line, then one per step
        QVERIFY(lines[0].contains("kind"));
        QVERIFY(lines[1].trimmed().startsWith("1 "));
        QVERIFY(lines[1].contains("annotation"));
        QVERIFY(lines.last().trimmed().startsWith(QByteArray::number(m_sample.lastStep.value) + " "));
        QVERIFY(lines[int(m_sample.errorStep.value)].contains("error"));
    }

    void dumpListRange()
    {
        const CliRun r = runTapedeck({"dump", m_tape, "--json", "--from", "3", "--limit", "4"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QList<QByteArray> lines = nonEmptyLines(r.out);
        QCOMPARE(lines.size(), 4);
        for (int i = 0; i < 4; ++i) {
            json j = json::parse(lines[i].toStdString(), nullptr, false);
            QVERIFY(!j.is_discarded());
            QCOMPARE(j["index"].get<int64_t>(), int64_t(3 + i));
        }
    }

    void dumpJsonList()
    {
        const CliRun r = runTapedeck({"dump", "--json", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QList<QByteArray> lines = nonEmptyLines(r.out);
        QCOMPARE(lines.size(), int(m_sample.written.size()));
        for (int i = 0; i < lines.size(); ++i) {
            json j = json::parse(lines[i].toStdString(), nullptr, false);
            QVERIFY2(!j.is_discarded(), lines[i].constData());
            const Step &e = m_sample.written[size_t(i)];
            QCOMPARE(j["index"].get<int64_t>(), e.index.value);
            QCOMPARE(q(j["kind"].get<std::string>()), QString::fromUtf8(stepKindName(e.kind)));
            QCOMPARE(j["thread"].get<int64_t>(), e.thread.value);
            QCOMPARE(j["message_count"].get<int64_t>(), int64_t(e.requestMessages.size()));
            QCOMPARE(j["response_bytes"].get<int64_t>(), e.wire ? int64_t(e.wire->responseBody.size()) : 0);
        }
    }

    void dumpStep()
    {
        const int64_t i = m_sample.streamedModelCall.value;
        const CliRun r = runTapedeck({"dump", m_tape, "--step", QString::number(i)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QString text = QString::fromUtf8(r.out);
        QVERIFY2(text.startsWith(QStringLiteral("step %1  model_call").arg(i)), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("claude-sonnet-4")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("4 chunks")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("$0.0211")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("messages")), qPrintable(text));
    }

    void dumpStepJson()
    {
        const int64_t i = m_sample.streamedModelCall.value;
        const CliRun r = runTapedeck({"dump", m_tape, "--step", QString::number(i), "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        json j = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!j.is_discarded(), r.out.constData());
        auto reader = TapeReader::open(m_tape.toStdString());
        QVERIFY(reader);
        auto s = (*reader)->step(StepIndex{i});
        QVERIFY(s);
        QCOMPARE(q(j.dump()), q(stepToJson(*s).dump()));
    }

    // Messages are free-form JSON: a role that is not a string, a message that is a bare
    // string or a number must print, not crash the command.
    void dumpStepOfUnusualMessages()
    {
        const QString path = file(QStringLiteral("unusual.tape"));
        {
            WriterOptions o;
            o.overwrite = true;
            auto writer = TapeWriter::create(path.toStdString(), o);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            Step s;
            s.thread = sc->thread;
            s.kind = StepKind::ModelCall;
            s.requestMessages = {{{"role", 5}, {"content", "numeric role"}},
                                 "a bare string message",
                                 42,
                                 {{"role", "user"}, {"content", {{"type", "image"}}}},
                                 {{"content", nullptr}}};
            s.payload = json::array({1, 2});
            QVERIFY((*writer)->append(s));
        }
        const CliRun r = runTapedeck({"dump", path, "--step", "1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("a bare string message"), r.out.constData());
    }

    // --raw writes the exact wire bytes, which here are not UTF-8.
    void dumpRaw_data()
    {
        QTest::addColumn<QString>("which");
        QTest::newRow("response") << "response";
        QTest::newRow("request") << "request";
    }

    void dumpRaw()
    {
        QFETCH(QString, which);
        const Step &e = m_sample.written[size_t(m_sample.streamedModelCall.value - 1)];
        const CliRun r = runTapedeck({"dump", m_tape, "--step", QString::number(e.index.value), "--raw", which});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const std::string &expected = which == QLatin1String("response") ? e.wire->responseBody : e.wire->requestBody;
        QCOMPARE(r.out, QByteArray::fromStdString(expected));
    }

    void search()
    {
        const CliRun r = runTapedeck({"search", m_tape, q(m_sample.uniqueWord)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QList<QByteArray> lines = nonEmptyLines(r.out);
        QCOMPARE(lines.size(), 1);
        QVERIFY2(lines[0].startsWith("step " + QByteArray::number(m_sample.bigToolResult.value) + " "), lines[0].constData());
        QVERIFY(lines[0].contains("tool_output"));
        QVERIFY(lines[0].contains(QByteArray::fromStdString(m_sample.uniqueWord)));

        const CliRun j = runTapedeck({"search", "--json", m_tape, "tile-bounds"});
        QVERIFY2(j.exitCode == 0, qPrintable(j.describe()));
        const QList<QByteArray> hits = nonEmptyLines(j.out);
        QVERIFY(!hits.isEmpty());
        for (const QByteArray &h : hits) {
            json hit = json::parse(h.toStdString(), nullptr, false);
            QVERIFY2(!hit.is_discarded(), h.constData());
            QVERIFY(hit.contains("step") && hit.contains("field") && hit.contains("snippet"));
        }

        const CliRun limited = runTapedeck({"search", "-n", "1", m_tape, "the"});
        QVERIFY2(limited.exitCode == 0, qPrintable(limited.describe()));
        QCOMPARE(nonEmptyLines(limited.out).size(), 1);
    }

    void verifyIntact()
    {
        const CliRun r = runTapedeck({"verify", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains(": ok ("), r.out.constData());
        const CliRun quiet = runTapedeck({"verify", "-q", m_tape});
        QCOMPARE(quiet.exitCode, 0);
        QVERIFY(quiet.out.isEmpty());
        QVERIFY(quiet.err.isEmpty());
    }

    void verifyDamaged()
    {
        const QString damaged = damagedCopy();
        QVERIFY(!damaged.isEmpty());
        const CliRun r = runTapedeck({"verify", damaged});
        QVERIFY2(r.exitCode == 4, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("DAMAGED"), r.out.constData());
        QVERIFY2(r.err.contains("blob"), r.err.constData());
        const CliRun quiet = runTapedeck({"verify", "--quiet", damaged});
        QCOMPARE(quiet.exitCode, 4);
        QVERIFY(quiet.out.isEmpty());
    }

    void exportCommand()
    {
        const CliRun r = runTapedeck({"export", "--jsonl", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QByteArray::fromStdString(m_export));

        const QString out = file(QStringLiteral("export.jsonl"));
        const CliRun toFile = runTapedeck({"export", "--jsonl", m_tape, "-o", out});
        QVERIFY2(toFile.exitCode == 0, qPrintable(toFile.describe()));
        QCOMPARE(QByteArray::fromStdString(readFile(out.toStdString())), QByteArray::fromStdString(m_export));
    }

    void importCommand()
    {
        const QString input = file(QStringLiteral("in.jsonl"));
        QVERIFY(writeFile(input.toStdString(), m_export));
        const QString out = file(QStringLiteral("imported.tape"));
        const CliRun r = runTapedeck({"import", "--jsonl", input, "-o", out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("imported 1 runs, 2 branches, 3 threads"), r.out.constData());
        QVERIFY(!QFile::exists(out + QStringLiteral(".partial")));
        const CliRun again = runTapedeck({"export", "--jsonl", out});
        QVERIFY2(again.exitCode == 0, qPrintable(again.describe()));
        QCOMPARE(again.out, QByteArray::fromStdString(m_export));

        // The default output name: INPUT with .tape in place of its extension.
        const CliRun implicit = runTapedeck({"import", "--jsonl", input});
        QVERIFY2(implicit.exitCode == 0, qPrintable(implicit.describe()));
        QVERIFY(QFile::exists(file(QStringLiteral("in.tape"))));

        // From stdin.
        const QString piped = file(QStringLiteral("piped.tape"));
        const CliRun fromStdin = runTapedeck({"import", "--jsonl", "-", "-o", piped},
                                             QByteArray::fromStdString(m_export));
        QVERIFY2(fromStdin.exitCode == 0, qPrintable(fromStdin.describe()));
        const CliRun verify = runTapedeck({"verify", piped});
        QCOMPARE(verify.exitCode, 0);

        // --force replaces an existing output.
        const CliRun forced = runTapedeck({"import", "--jsonl", input, "-o", out, "--force"});
        QVERIFY2(forced.exitCode == 0, qPrintable(forced.describe()));
    }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        const QString missing = file(QStringLiteral("missing.tape"));
        const QString notATape = file(QStringLiteral("not-a-tape.tape"));
        const QString future = file(QStringLiteral("future.tape"));
        const QString dir = m_dir.path();
        const QString n = QString::number(m_sample.lastStep.value);
        QTest::newRow("no subcommand") << QStringList{} << 2;
        QTest::newRow("unknown subcommand") << QStringList{"rewind", m_tape} << 2;
        QTest::newRow("bad flag") << QStringList{"info", "--bogus", m_tape} << 2;
        QTest::newRow("missing FILE argument") << QStringList{"info"} << 2;
        QTest::newRow("dump --step 0") << QStringList{"dump", m_tape, "--step", "0"} << 2;
        QTest::newRow("dump --step not a number") << QStringList{"dump", m_tape, "--step", "seven"} << 2;
        QTest::newRow("dump --raw without --step") << QStringList{"dump", m_tape, "--raw", "request"} << 2;
        QTest::newRow("dump --raw of something else") << QStringList{"dump", m_tape, "--step", "2", "--raw", "headers"} << 2;
        QTest::newRow("export without --jsonl") << QStringList{"export", m_tape} << 2;
        QTest::newRow("import from stdin without -o") << QStringList{"import", "--jsonl", "-"} << 2;
        QTest::newRow("search --limit 0") << QStringList{"search", "-n", "0", m_tape, "kernel"} << 2;
        QTest::newRow("dump of a step past the end") << QStringList{"dump", m_tape, "--step", n + "0"} << 1;
        QTest::newRow("dump --raw of a step without wire bytes")
            << QStringList{"dump", m_tape, "--step", "1", "--raw", "response"} << 1;
        QTest::newRow("search with no hit") << QStringList{"search", m_tape, "xylophone"} << 1;
        QTest::newRow("search --json with no hit") << QStringList{"search", "--json", m_tape, "xylophone"} << 1;
        for (const char *cmd : {"info", "dump", "verify"}) {
            QTest::addRow("%s of a missing file", cmd) << QStringList{cmd, missing} << 3;
            QTest::addRow("%s of a file that is not a tape", cmd) << QStringList{cmd, notATape} << 3;
            QTest::addRow("%s of a tape from a newer version", cmd) << QStringList{cmd, future} << 3;
            QTest::addRow("%s of a directory", cmd) << QStringList{cmd, dir} << 3;
        }
        QTest::newRow("verify -q of a missing file") << QStringList{"verify", "-q", missing} << 3;
        QTest::newRow("search in a missing file") << QStringList{"search", missing, "x"} << 3;
        QTest::newRow("export of a missing file") << QStringList{"export", "--jsonl", missing} << 3;
        QTest::newRow("import of a missing file") << QStringList{"import", "--jsonl", missing + ".jsonl", "-o", file("x.tape")} << 3;
        QTest::newRow("export into a directory that does not exist")
            << QStringList{"export", "--jsonl", m_tape, "-o", file(QStringLiteral("no/such/dir/out.jsonl"))} << 5;
    }

    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        if (!QFile::exists(file(QStringLiteral("not-a-tape.tape"))))
            QVERIFY(writeFile(file(QStringLiteral("not-a-tape.tape")).toStdString(), noise(3, 5000)));
        const QString future = file(QStringLiteral("future.tape"));
        if (!QFile::exists(future)) {
            QVERIFY(QFile::copy(m_tape, future));
            QVERIFY(sqlExec(future.toStdString(), "PRAGMA user_version = 99").empty());
        }
        const CliRun r = runTapedeck(args);
        QVERIFY2(r.exitCode == code, qPrintable(QStringLiteral("expected exit %1, got ").arg(code) + r.describe()));
        if (code == 3 || code == 4 || code == 5)
            QVERIFY2(r.err.startsWith("tapedeck: ") || args.contains(QStringLiteral("-q")), r.err.constData());
        if (args.contains(future))
            QVERIFY2(r.err.contains("upgrade"), r.err.constData());
    }

    // A damaged import exits 4, names the line, and leaves no output file, not even a
    // partial one, and never harms an existing output.
    void damagedImport_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("line");   // 0: no line to name
        QTest::addColumn<bool>("force"); // import over an existing output with --force
        QByteArray good = QByteArray::fromStdString(m_export);
        QList<QByteArray> lines = good.split('\n');
        QByteArray badLine5 = good;
        {
            QList<QByteArray> l = lines;
            l[4] = "{\"type\": \"thread\", oops";
            badLine5 = l.join('\n');
        }
        QByteArray truncated = good.left(good.size() - 40);
        QByteArray badLast;
        {
            QList<QByteArray> l = lines;
            while (!l.isEmpty() && l.last().isEmpty())
                l.removeLast();
            json j = json::parse(l.last().toStdString());
            j["kind"] = "telepathy";
            l.last() = QByteArray::fromStdString(j.dump());
            badLast = l.join('\n') + '\n';
        }
        const int lastLine = int(nonEmptyLines(good).size());
        QTest::newRow("not JSON at line 5") << badLine5 << 5 << false;
        QTest::newRow("cut in the middle of the last line") << truncated << lastLine << false;
        QTest::newRow("unknown kind on the last line, after many good steps") << badLast << lastLine << false;
        QTest::newRow("empty file") << QByteArray() << 0 << false;
        QTest::newRow("not JSONL at all") << QByteArray("PK\x03\x04 zip bytes") << 1 << false;
        QTest::newRow("--force over an existing tape, damaged input") << badLast << lastLine << true;
    }

    void damagedImport()
    {
        QFETCH(QByteArray, input);
        QFETCH(int, line);
        QFETCH(bool, force);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString in = dir.filePath(QStringLiteral("bad.jsonl"));
        QVERIFY(writeFile(in.toStdString(), input.toStdString()));
        const QString out = dir.filePath(QStringLiteral("out.tape"));
        QStringList args{"import", "--jsonl", in, "-o", out};
        if (force) {
            QVERIFY(QFile::copy(m_tape, out));
            args << QStringLiteral("--force");
        }
        const CliRun r = runTapedeck(args);
        QVERIFY2(r.exitCode == 4, qPrintable(r.describe()));
        if (line)
            QVERIFY2(r.err.contains((in + QStringLiteral(":%1:").arg(line)).toUtf8()), r.err.constData());
        // Nothing half-made is left behind.
        const QStringList left = QDir(dir.path()).entryList(QDir::Files);
        if (force) {
            QCOMPARE(left, (QStringList{"bad.jsonl", "out.tape"}));
            const CliRun still = runTapedeck({"export", "--jsonl", out});
            QCOMPARE(still.out, QByteArray::fromStdString(m_export)); // untouched
        } else {
            QCOMPARE(left, QStringList{"bad.jsonl"});
        }
    }

    void importRefusesToReplaceWithoutForce()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString in = dir.filePath(QStringLiteral("good.jsonl"));
        QVERIFY(writeFile(in.toStdString(), m_export));
        const QString out = dir.filePath(QStringLiteral("out.tape"));
        QVERIFY(writeFile(out.toStdString(), "precious"));
        const CliRun r = runTapedeck({"import", "--jsonl", in, "-o", out});
        QVERIFY2(r.exitCode == 5, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("--force"), r.err.constData());
        QCOMPARE(QByteArray::fromStdString(readFile(out.toStdString())), QByteArray("precious"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
