// JSONL interchange: export -> import -> export is the identity, and malformed input is
// refused with ErrorCode::Parse and a message that names the file and the line.
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::vector<std::string> splitLines(const std::string &text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

std::string joinLines(const std::vector<std::string> &lines)
{
    std::string out;
    for (const std::string &l : lines)
        out += l + "\n";
    return out;
}

// The index of the first line whose JSON satisfies `pred`, or -1.
template <typename Pred>
int findLine(const std::vector<std::string> &lines, Pred pred)
{
    for (size_t i = 0; i < lines.size(); ++i) {
        json j = json::parse(lines[i], nullptr, false);
        if (!j.is_discarded() && pred(j))
            return int(i);
    }
    return -1;
}

} // namespace

class TestJsonl : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    std::string m_sampleExport; // export of writeSampleTape()
    SampleTape m_sample;

    std::string freshPath()
    {
        return m_dir.filePath(QStringLiteral("j%1.tape").arg(++m_files)).toStdString();
    }

    static Result<std::string> exportOf(const std::string &path)
    {
        auto reader = TapeReader::open(path);
        if (!reader)
            return reader.error();
        std::ostringstream out;
        if (auto s = exportJsonl(**reader, out); !s)
            return s.error();
        return out.str();
    }

    // Imports `text` into a new tape; the import's result.
    Result<ImportStats> importText(const std::string &text, std::string *pathOut = nullptr)
    {
        const std::string path = freshPath();
        if (pathOut)
            *pathOut = path;
        auto writer = TapeWriter::create(path);
        if (!writer)
            return writer.error();
        std::istringstream in(text);
        return importJsonl(in, **writer, "src.jsonl");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const std::string path = freshPath();
        auto sample = writeSampleTape(path);
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        auto text = exportOf(path);
        QVERIFY2(text, text ? "" : text.error().message.c_str());
        m_sampleExport = std::move(*text);
    }

    // The export says what the tape holds, in an order an importer can replay: the forked
    // branch and its thread come after the step they fork at and before the next one.
    void exportShape()
    {
        const std::vector<std::string> lines = splitLines(m_sampleExport);
        QVERIFY(!lines.empty());
        json header = json::parse(lines[0]);
        QCOMPARE(q(header.value("type", "")), QStringLiteral("tape"));
        QCOMPARE(q(header.value("format", "")), QStringLiteral("tapedeck-jsonl"));
        QVERIFY(header.value("version", 0) >= 1);

        auto count = [&](const char *type) {
            int n = 0;
            for (const std::string &l : lines)
                n += json::parse(l).value("type", "") == type;
            return n;
        };
        QCOMPARE(count("run"), 1);
        QCOMPARE(count("branch"), 2);
        QCOMPARE(count("thread"), 3);
        QCOMPARE(count("step"), int(m_sample.written.size()));

        const int forkLine = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "step" && j.value("index", 0) == m_sample.forkStep.value;
        });
        const int branchLine = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "branch" && !j["parent"].is_null();
        });
        const int nextLine = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "step" && j.value("index", 0) == m_sample.forkStep.value + 1;
        });
        QVERIFY(forkLine > 0 && branchLine > 0 && nextLine > 0);
        QVERIFY(forkLine < branchLine);
        QVERIFY(branchLine < nextLine);
        json branch = json::parse(lines[size_t(branchLine)]);
        QCOMPARE(branch["fork_step"].get<int64_t>(), m_sample.forkStep.value);

        // Bytes that are not UTF-8 travel as base64.
        const int binary = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "step" && j.value("index", 0) == m_sample.streamedModelCall.value;
        });
        QVERIFY(binary > 0);
        json wire = json::parse(lines[size_t(binary)])["wire"];
        QVERIFY(wire.contains("response_body_base64"));
        QVERIFY(wire.contains("request_body"));
        QCOMPARE(wire["chunks"].size(), size_t(4));
    }

    void roundTrip_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("sample: fork, fork step, sub-thread, binary wire") << 0;
        QTest::newRow("a tape with no runs") << 1;
        QTest::newRow("a run with no steps") << 2;
        QTest::newRow("two runs, the second appended later") << 3;
        QTest::newRow("a thread started on the recorded branch after the fork") << 4;
        QTest::newRow("a fork of a fork") << 5;
        QTest::newRow("a fork, then a second run appended") << 6;
    }

    void roundTrip()
    {
        QFETCH(int, which);
        std::string first;
        if (which == 0) {
            first = m_sampleExport;
        } else {
            const std::string path = freshPath();
            {
                auto writer = TapeWriter::create(path);
                QVERIFY(writer);
                if (which >= 2) {
                    auto sc = beginScaffold(**writer, "first");
                    QVERIFY(sc);
                    if (which >= 3) {
                        for (int64_t k = 0; k < 6; ++k)
                            QVERIFY((*writer)->append(generatedStep(1, k, sc->thread)));
                    }
                    if (which == 4 || which == 5 || which == 6) {
                        BranchInfo b{{}, sc->run, sc->branch, StepIndex{3}, "edit", kT0 + 5};
                        auto fork = (*writer)->addBranch(b);
                        QVERIFY(fork);
                        auto ft = (*writer)->addThread(ThreadInfo{{}, *fork, std::nullopt, "main", kT0 + 6});
                        QVERIFY(ft);
                        QVERIFY((*writer)->append(generatedStep(2, 0, *ft)));
                        if (which == 4) {
                            // Recording goes on after the replay started: a new sub-agent on
                            // the recorded branch gets a thread id after the fork's thread.
                            auto late = (*writer)->addThread(
                                ThreadInfo{{}, sc->branch, sc->thread, "subagent: late", kT0 + 7});
                            QVERIFY(late);
                            QVERIFY((*writer)->append(generatedStep(3, 1, *late)));
                            QVERIFY((*writer)->append(generatedStep(1, 6, sc->thread)));
                        } else if (which == 5) {
                            BranchInfo bb{{}, sc->run, *fork, StepIndex{7}, "edit of the edit", kT0 + 8};
                            auto fork2 = (*writer)->addBranch(bb);
                            QVERIFY2(fork2, fork2 ? "" : fork2.error().message.c_str());
                            auto ft2 = (*writer)->addThread(ThreadInfo{{}, *fork2, std::nullopt, "main", kT0 + 9});
                            QVERIFY(ft2);
                            QVERIFY((*writer)->append(generatedStep(4, 0, *ft2)));
                        }
                    }
                }
            }
            if (which == 3 || which == 6) {
                auto writer = TapeWriter::openForAppend(path);
                QVERIFY(writer);
                auto sc = beginScaffold(**writer, "second");
                QVERIFY(sc);
                QVERIFY((*writer)->append(generatedStep(9, 0, sc->thread)));
            }
            auto text = exportOf(path);
            QVERIFY2(text, text ? "" : text.error().message.c_str());
            first = *text;
        }

        std::string imported;
        auto stats = importText(first, &imported);
        QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        auto reader = TapeReader::open(imported);
        QVERIFY(reader);
        const VerifyReport report = (*reader)->verify();
        QVERIFY2(report.ok, report.problems.empty() ? "" : report.problems.front().c_str());
        QCOMPARE(stats->steps, (*reader)->stepCount());

        auto second = exportOf(imported);
        QVERIFY2(second, second ? "" : second.error().message.c_str());
        if (*second != first) {
            // Show the first line that differs rather than two walls of text.
            const auto a = splitLines(first), b = splitLines(*second);
            for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
                const std::string la = i < a.size() ? a[i] : "(none)";
                const std::string lb = i < b.size() ? b[i] : "(none)";
                if (la != lb)
                    QFAIL(qPrintable(QStringLiteral("line %1 differs:\n  first:  %2\n  second: %3")
                                         .arg(i + 1).arg(q(la.substr(0, 300)), q(lb.substr(0, 300)))));
            }
        }
        QCOMPARE(q(*second), q(first));
    }

    // Ids are remapped: the same export imported twice into one tape makes two runs whose
    // steps both read back whole.
    void importTwiceIntoOneTape()
    {
        const std::string path = freshPath();
        auto writer = TapeWriter::create(path);
        QVERIFY(writer);
        for (int i = 0; i < 2; ++i) {
            std::istringstream in(m_sampleExport);
            auto stats = importJsonl(in, **writer, "sample.jsonl");
            QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
            QCOMPARE(stats->runs, int64_t(1));
            QCOMPARE(stats->branches, int64_t(2));
            QCOMPARE(stats->threads, int64_t(3));
            QCOMPARE(stats->steps, int64_t(m_sample.written.size()));
        }
        writer->reset();
        auto reader = TapeReader::open(path);
        QVERIFY(reader);
        QVERIFY((*reader)->verify().ok);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->runs.size(), size_t(2));
        QCOMPARE(summary->branches.size(), size_t(4));
        QCOMPARE(summary->threads.size(), size_t(6));
        const int64_t n = int64_t(m_sample.written.size());
        QCOMPARE(summary->stepCount, 2 * n);
        for (const Step &e : m_sample.written) {
            auto again = (*reader)->step(StepIndex{e.index.value + n});
            QVERIFY(again);
            Step expected = e;
            expected.index = StepIndex{e.index.value + n};
            expected.run = RunId{2};
            expected.branch = BranchId{e.branch.value + 2};
            expected.thread = ThreadId{e.thread.value + 3};
            if (expected.parent)
                expected.parent = StepIndex{expected.parent->value + n};
            const std::string diff = stepDifference(expected, *again);
            QVERIFY2(diff.empty(), qPrintable(QStringLiteral("step %1: ").arg(expected.index.value) + q(diff)));
        }
        // The forked branch of the second copy forks at the second copy's step.
        QCOMPARE(summary->branches[3].forkStep->value, m_sample.forkStep.value + n);
        QCOMPARE(summary->branches[3].parent->value, int64_t(3));
    }

    // Line endings written on Windows import the same.
    void crlfLineEndings()
    {
        std::string crlf;
        for (const std::string &l : splitLines(m_sampleExport))
            crlf += l + "\r\n";
        auto stats = importText(crlf);
        QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        QCOMPARE(stats->steps, int64_t(m_sample.written.size()));
    }

    void malformed_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("not JSON") << 0;
        QTest::newRow("a JSON array, not an object") << 1;
        QTest::newRow("missing field") << 2;
        QTest::newRow("wrong type") << 3;
        QTest::newRow("wrong type in usage") << 4;
        QTest::newRow("unknown kind") << 5;
        QTest::newRow("unknown status") << 6;
        QTest::newRow("unknown record type") << 7;
        QTest::newRow("step naming an undefined thread") << 8;
        QTest::newRow("branch naming an undefined run") << 9;
        QTest::newRow("thread naming an undefined branch") << 10;
        QTest::newRow("step naming an undefined parent step") << 11;
        QTest::newRow("bad base64") << 12;
        QTest::newRow("base64 of the wrong length") << 13;
        QTest::newRow("step defined twice") << 14;
        QTest::newRow("header missing") << 15;
        QTest::newRow("header of another format") << 16;
        QTest::newRow("a chunk that is not [length, at]") << 17;
        QTest::newRow("stream chunks that do not add up to the body") << 18;
        QTest::newRow("command not an array of strings") << 19;
        QTest::newRow("truncated last line") << 20;
        QTest::newRow("blank lines count as lines") << 21;
        QTest::newRow("wire without a request body") << 22;
        QTest::newRow("thread naming an undefined parent thread") << 23;
        QTest::newRow("branch forking at an undefined step") << 24;
        QTest::newRow("header whose format is not a string") << 25;
        QTest::newRow("type that is not a string") << 26;
        QTest::newRow("request_messages that is not an array") << 27;
    }

    void malformed()
    {
        QFETCH(int, which);
        std::vector<std::string> lines = splitLines(m_sampleExport);
        auto stepLine = [&](int64_t index) {
            return findLine(lines, [&](const json &j) {
                return j.value("type", "") == "step" && j.value("index", 0) == index;
            });
        };
        auto edit = [&](int at, const std::function<void(json &)> &fn) {
            json j = json::parse(lines[size_t(at)]);
            fn(j);
            lines[size_t(at)] = j.dump();
        };
        const int firstStep = stepLine(1);
        const int withParent = stepLine(m_sample.forkStep.value);
        const int streamed = stepLine(m_sample.streamedModelCall.value);
        const int subThread = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "thread" && !j["parent"].is_null();
        });
        const int forkBranch = findLine(lines, [&](const json &j) {
            return j.value("type", "") == "branch" && !j["parent"].is_null();
        });
        QVERIFY(firstStep > 0 && withParent > 0 && streamed > 0 && subThread > 0 && forkBranch > 0);
        int bad = firstStep; // the 0-based line the error must name
        switch (which) {
        case 0:
            lines[size_t(bad)] = "{\"type\": \"step\", oops";
            break;
        case 1:
            lines[size_t(bad)] = "[1, 2, 3]";
            break;
        case 2:
            edit(bad, [](json &j) { j.erase("kind"); });
            break;
        case 3:
            edit(bad, [](json &j) { j["index"] = "one"; });
            break;
        case 4:
            edit(bad, [](json &j) { j["usage"]["input_tokens"] = "many"; });
            break;
        case 5:
            edit(bad, [](json &j) { j["kind"] = "telepathy"; });
            break;
        case 6:
            edit(bad, [](json &j) { j["status"] = "maybe"; });
            break;
        case 7:
            edit(bad, [](json &j) { j["type"] = "checkpoint"; });
            break;
        case 8:
            edit(bad, [](json &j) { j["thread"] = 999; });
            break;
        case 9:
            bad = 2;
            edit(bad, [](json &j) { j["run"] = 42; });
            break;
        case 10:
            bad = 3;
            edit(bad, [](json &j) { j["branch"] = 42; });
            break;
        case 11:
            bad = withParent;
            edit(bad, [](json &j) { j["parent"] = 99999; });
            break;
        case 12:
            bad = streamed;
            edit(bad, [](json &j) { j["wire"]["response_body_base64"] = "@@@@"; });
            break;
        case 13:
            bad = streamed;
            edit(bad, [](json &j) { j["wire"]["response_body_base64"] = "QUJD="; });
            break;
        case 14:
            bad = firstStep + 1;
            lines.insert(lines.begin() + bad, lines[size_t(firstStep)]);
            break;
        case 15:
            lines.erase(lines.begin());
            bad = 0;
            break;
        case 16:
            bad = 0;
            lines[0] = R"({"type":"tape","format":"otel-jsonl","version":1})";
            break;
        case 17:
            bad = streamed;
            edit(bad, [](json &j) { j["wire"]["chunks"][0] = json::array({12}); });
            break;
        case 18:
            bad = streamed;
            edit(bad, [](json &j) { j["wire"]["chunks"][0][0] = j["wire"]["chunks"][0][0].get<int64_t>() + 1; });
            break;
        case 19:
            bad = 1;
            edit(bad, [](json &j) { j["command"] = "claude -p"; });
            break;
        case 20:
            bad = int(lines.size()) - 1;
            lines[size_t(bad)] = lines[size_t(bad)].substr(0, lines[size_t(bad)].size() / 2);
            break;
        case 21:
            lines.insert(lines.begin() + firstStep, {"", "", ""});
            bad = firstStep + 3;
            edit(bad, [](json &j) { j["kind"] = 7; });
            break;
        case 22:
            bad = streamed;
            edit(bad, [](json &j) { j["wire"].erase("request_body"); });
            break;
        case 23:
            bad = subThread;
            edit(bad, [](json &j) { j["parent"] = 77; });
            break;
        case 24:
            bad = forkBranch;
            edit(bad, [](json &j) { j["fork_step"] = 99999; });
            break;
        case 25:
            bad = 0;
            edit(bad, [](json &j) { j["format"] = 1; });
            break;
        case 26:
            edit(bad, [](json &j) { j["type"] = 5; });
            break;
        case 27:
            edit(bad, [](json &j) { j["request_messages"] = "hello"; });
            break;
        }
        Result<ImportStats> stats = Error{ErrorCode::Io, "not run"};
        QVERIFY_THROWS_NO_EXCEPTION(stats = importText(joinLines(lines)));
        QVERIFY2(!stats, "malformed input was imported");
        const QString message = q(stats.error().message);
        QVERIFY2(stats.error().code == ErrorCode::Parse,
                 qPrintable(QStringLiteral("%1 instead of parse: ").arg(QString::fromUtf8(errorCodeName(stats.error().code))) + message));
        const QString where = QStringLiteral("src.jsonl:%1:").arg(bad + 1);
        QVERIFY2(message.contains(where), qPrintable(QStringLiteral("expected \"%1\" in: ").arg(where) + message));
    }

    // Valid JSON nested a million deep is still input the importer must survive: refused
    // or imported, but not a stack overflow. Runs in a child so a crash fails only this.
    void deeplyNestedValue()
    {
        std::vector<std::string> lines = splitLines(m_sampleExport);
        const int at = findLine(lines, [](const json &j) { return j.value("type", "") == "step"; });
        QVERIFY(at > 0);
        const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
        std::string line = lines[size_t(at)];
        const size_t payload = line.find("\"payload\":");
        QVERIFY(payload != std::string::npos);
        const size_t value = payload + 10;
        const size_t end = line.find(",\"request_messages\"", value);
        QVERIFY(end != std::string::npos);
        lines[size_t(at)] = line.substr(0, value) + deep + line.substr(end);
        const std::string text = joinLines(lines);
        const std::string path = freshPath();
        fflush(nullptr);
        const pid_t pid = fork();
        if (pid == 0) {
            restoreCrashSignals();
            alarm(60);
            auto writer = TapeWriter::create(path);
            if (!writer)
                _exit(3);
            std::istringstream in(text);
            try {
                auto stats = importJsonl(in, **writer, "deep.jsonl");
                _exit(stats ? 0 : 1);
            } catch (...) {
                _exit(2);
            }
        }
        int status = 0;
        QCOMPARE(waitpid(pid, &status, 0), pid);
        QVERIFY2(!WIFSIGNALED(status), qPrintable(QStringLiteral("the import died of signal %1").arg(WTERMSIG(status))));
        QVERIFY2(WEXITSTATUS(status) <= 1, qPrintable(QStringLiteral("the import ended with %1 (2: threw)").arg(WEXITSTATUS(status))));
    }

    void emptyInput_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("nothing") << QString();
        QTest::newRow("blank lines only") << QStringLiteral("\n\n\r\n");
    }

    void emptyInput()
    {
        QFETCH(QString, text);
        auto stats = importText(text.toStdString());
        QVERIFY(!stats);
        QCOMPARE(stats.error().code, ErrorCode::Parse);
        const QString message = q(stats.error().message);
        QVERIFY2(message.startsWith(QLatin1String("src.jsonl:")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("empty")), qPrintable(message));
    }

    void futureJsonlVersion()
    {
        std::vector<std::string> lines = splitLines(m_sampleExport);
        json header = json::parse(lines[0]);
        header["version"] = 99;
        lines[0] = header.dump();
        auto stats = importText(joinLines(lines));
        QVERIFY(!stats);
        QCOMPARE(stats.error().code, ErrorCode::FutureVersion);
        QVERIFY2(q(stats.error().message).contains(QLatin1String("src.jsonl:1:")), stats.error().message.c_str());
    }

    // stepToJson is the form `dump --json` prints: the same object as the step's line.
    void stepToJsonMatchesExportLine()
    {
        const std::vector<std::string> lines = splitLines(m_sampleExport);
        for (const Step &s : m_sample.written) {
            const int at = findLine(lines, [&](const json &j) {
                return j.value("type", "") == "step" && j.value("index", 0) == s.index.value;
            });
            QVERIFY(at > 0);
            QCOMPARE(q(stepToJson(s).dump(-1, ' ', false, json::error_handler_t::replace)),
                     q(lines[size_t(at)]));
        }
    }
};

QTEST_GUILESS_MAIN(TestJsonl)
#include "tst_jsonl.moc"
