// `tapedeck diff` as a real process: its text and JSON reports on tapes the real writer
// wrote, its exit codes (0 same, 1 different, 2 and up trouble), and its errors for bad
// sides, missing files and files that are not tapes.
#include "clirunner.h"
#include "difftapes.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace tapedeck;
using testutil::runTapedeck;

class TestDiffCommand : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_fork, m_twoRuns, m_other, m_kernel1, m_kernel2;
    int64_t m_forkBranch = 0;

    QString path(const char *name) const { return m_dir.filePath(QString::fromUtf8(name)); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_fork = path("fork.tape");
        auto tape = testutil::writeForkTape(m_fork.toStdString());
        QVERIFY2(tape, tape ? "" : tape.error().message.c_str());
        m_forkBranch = tape->fork.value;

        m_twoRuns = path("tworuns.tape");
        m_other = path("other.tape");
        {
            auto writer = formats::TapeWriter::create(m_twoRuns.toStdString());
            QVERIFY(writer);
            QVERIFY(testutil::writeAgentRun(**writer, "first"));
            QVERIFY(testutil::writeAgentRun(**writer, "second", "b.cu"));
            auto other = formats::TapeWriter::create(m_other.toStdString());
            QVERIFY(other);
            QVERIFY(testutil::writeAgentRun(**other, "elsewhere"));
        }
        m_kernel1 = path("kernel1.tape");
        m_kernel2 = path("kernel2.tape");
        for (const auto &[file, seed] : {std::pair{m_kernel1, "1"}, {m_kernel2, "2"}}) {
            const auto r = runTapedeck({"sample", "kernel-session", "--scale", "0.2", "--seed", seed, "-o", file},
                                       {}, 120000);
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        }
    }

    void forkAgainstParentText()
    {
        const auto r = runTapedeck({"diff", m_fork + "#" + QString::number(m_forkBranch)});
        QVERIFY2(r.exitCode == 1, qPrintable(r.describe()));
        const QString out = QString::fromUtf8(r.out);
        QVERIFY2(out.contains("A  " + m_fork + "#run:1,branch:1  run 1 \"tune\", original, 10 steps"), qPrintable(out));
        QVERIFY2(out.contains("branch 2 (forked from branch 1 after step 5) \"tool result of step 6 edited\", 11 steps"),
                 qPrintable(out));
        QVERIFY2(out.contains("13 aligned rows: 5 same, 3 changed, 2 only in A, 3 only in B"), qPrintable(out));
        QVERIFY2(out.contains("First divergence, row 7: A step 6 and B step 12, tool_result bash on main: status, "
                              "tool output, tool result: is_error differ"),
                 qPrintable(out));
        QVERIFY2(out.contains("... 3 same steps ..."), qPrintable(out));
        // Removed and inserted rows, with the steps' indexes on their side only.
        QVERIFY2(out.contains(QRegularExpression("\\n- +8 +\\.  tool_call edit on main")), qPrintable(out));
        QVERIFY2(out.contains(QRegularExpression("\\n\\+ +\\. +11  fork_point fork on main")), qPrintable(out));
        QVERIFY2(out.contains(QRegularExpression("\\n\\+ +\\. +14  tool_call bench on main")), qPrintable(out));
        QVERIFY2(out.contains("-error: x undeclared\n") && out.contains("+built ok\n"), qPrintable(out));
        QVERIFY2(out.contains(QRegularExpression("errors +1 +0 +-1")), qPrintable(out));
        QVERIFY2(out.contains(QRegularExpression("time in steps +9\\.5s +18\\.0s +\\+8\\.5s")), qPrintable(out));
        QVERIFY(r.err.isEmpty());
    }

    void forkAgainstParentJson()
    {
        const auto r = runTapedeck({"diff", m_fork + "#1", m_fork + "#" + QString::number(m_forkBranch), "--json"});
        QVERIFY2(r.exitCode == 1, qPrintable(r.describe()));
        const nlohmann::json j = nlohmann::json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!j.is_discarded(), r.out.constData());
        QVERIFY(j["identical"] == false);
        QVERIFY(j["a"]["branch"]["id"] == 1);
        QVERIFY(j["b"]["branch"]["parent"] == 1);
        QVERIFY(j["b"]["branch"]["fork_step"] == 5);
        QVERIFY(j["counts"] == nlohmann::json({{"rows", 13}, {"same", 5}, {"changed", 3}, {"removed", 2}, {"inserted", 3}}));
        QVERIFY(j["first_divergence"]["row"] == 6);
        QVERIFY(j["first_divergence"]["a"]["step"] == 6);
        QVERIFY(j["first_divergence"]["a"]["status"] == "error");
        QVERIFY(j["first_divergence"]["b"]["step"] == 12);
        QVERIFY(j["first_divergence"]["b"]["thread"] == "main");
        QCOMPARE(j["rows"].size(), size_t(8));
        QVERIFY(j["rows"][0]["b"]["kind"] == "fork_point");
        const nlohmann::json &first = j["rows"][1];
        QVERIFY(first["kind"] == "changed");
        QVERIFY(first["differences"][1]["field"] == "tool output");
        QVERIFY(first["differences"][1]["a"] == "error: x undeclared");
        QVERIFY(first["differences"][1]["b"] == "built ok");
        QVERIFY(j["rows"][5]["kind"] == "inserted");
        QVERIFY(j["rows"][5]["a"].is_null());
        QVERIFY(j["rows"][5]["b"]["name"] == "bench");
        QVERIFY(j["totals"]["delta"]["duration_us"] == 8500000);

        const auto all = runTapedeck({"diff", m_fork + "#1", m_fork + "#2", "--json", "--all"});
        QCOMPARE(all.exitCode, 1);
        QCOMPARE(nlohmann::json::parse(all.out.toStdString())["rows"].size(), size_t(13));
    }

    void runsAndFiles_data()
    {
        QTest::addColumn<QStringList>("sides");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("expected");
        QTest::newRow("two runs") << QStringList{"tworuns.tape#run:1", "tworuns.tape#run:2"} << 1
                                  << QString("11 aligned rows: 9 same, 0 changed, 1 only in A, 1 only in B");
        QTest::newRow("a run against itself") << QStringList{"tworuns.tape#run:1", "tworuns.tape#run:1"} << 0
                                              << QString("No difference");
        QTest::newRow("two files, same steps") << QStringList{"tworuns.tape#run:1", "other.tape"} << 0
                                               << QString("10 aligned rows: 10 same");
        QTest::newRow("two files") << QStringList{"other.tape", "tworuns.tape"} << 1
                                   << QString("First divergence, row 8: A step 8, tool_call edit on main, is not in B");
    }
    void runsAndFiles()
    {
        QFETCH(QStringList, sides);
        QFETCH(int, exitCode);
        QFETCH(QString, expected);
        QStringList args{"diff"};
        for (const QString &side : sides)
            args << m_dir.path() + "/" + side;
        const auto r = runTapedeck(args);
        QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
        QVERIFY2(QString::fromUtf8(r.out).contains(expected), qPrintable(r.describe()));
    }

    void badSides_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad spec") << QStringList{"fork.tape#main", "fork.tape"} << 2
                                  << QString("side A (%1/fork.tape#main): \"%1/fork.tape#main\": \"main\" is neither "
                                             "run:R nor branch:N; expected FILE, FILE#N, FILE#run:R or FILE#run:R,branch:N");
        QTest::newRow("missing file") << QStringList{"fork.tape", "missing.tape"} << 3
                                      << QString("side B (%1/missing.tape): ");
        QTest::newRow("not a tape") << QStringList{"notes.txt", "fork.tape"} << 3 << QString("side A (%1/notes.txt): ");
        QTest::newRow("no such branch") << QStringList{"fork.tape", "fork.tape#7"} << 2
                                        << QString("side B (%1/fork.tape#7): %1/fork.tape has no branch 7 (its branches: 1, 2)");
        QTest::newRow("no such run") << QStringList{"fork.tape#run:3", "fork.tape"} << 2
                                     << QString("has no run 3 (its runs: 1)");
        QTest::newRow("original alone") << QStringList{"fork.tape#1"} << 2
                                        << QString("branch 1 of %1/fork.tape is its run's original, forked from "
                                                   "nothing (the run's forks: 2)");
        QTest::newRow("file alone") << QStringList{"fork.tape"} << 2 << QString("names no branch");
    }
    void badSides()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        {
            std::ofstream notes(path("notes.txt").toStdString());
            notes << "these are not the steps you are looking for\n";
        }
        QStringList full{"diff"};
        for (const QString &side : args)
            full << m_dir.path() + "/" + side;
        const auto r = runTapedeck(full);
        QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
        QVERIFY2(QString::fromUtf8(r.err).contains(QString(message).replace("%1", m_dir.path())), qPrintable(r.describe()));
        QVERIFY(r.out.isEmpty());
    }

    void usage()
    {
        const auto none = runTapedeck({"diff"});
        QCOMPARE(none.exitCode, 2);
        const auto three = runTapedeck({"diff", m_fork, m_fork, m_fork});
        QCOMPARE(three.exitCode, 2);
        const auto help = runTapedeck({"diff", "--help"});
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.contains("0 the sides are the same, 1 they differ"), help.out.constData());
    }

    void kernelSession()
    {
        const auto self = runTapedeck({"diff", m_kernel1, m_kernel1});
        QVERIFY2(self.exitCode == 0, qPrintable(self.describe()));
        QVERIFY(self.out.contains("No difference"));

        const auto other = runTapedeck({"diff", m_kernel1, m_kernel2, "--context", "0", "--max-rows", "40"});
        QVERIFY2(other.exitCode == 1, qPrintable(other.describe()));
        const QString out = QString::fromUtf8(other.out);
        QVERIFY2(out.contains("First divergence, row "), qPrintable(out));
        QVERIFY2(out.contains("more rows not listed"), qPrintable(out));
        QVERIFY2(out.contains("--all lists every row"), qPrintable(out));

        const auto json = runTapedeck({"diff", m_kernel1, m_kernel2, "--json", "--max-pairs", "5"});
        QCOMPARE(json.exitCode, 1);
        const nlohmann::json j = nlohmann::json::parse(json.out.toStdString());
        const nlohmann::json &counts = j["counts"];
        QVERIFY(counts["same"].get<int64_t>() + counts["changed"].get<int64_t>() + counts["removed"].get<int64_t>() ==
                j["a"]["steps"].get<int64_t>());
        QVERIFY(counts["same"].get<int64_t>() + counts["changed"].get<int64_t>() + counts["inserted"].get<int64_t>() ==
                j["b"]["steps"].get<int64_t>());
        int withDifferences = 0;
        for (const nlohmann::json &row : j["rows"])
            withDifferences += row.contains("differences");
        QCOMPARE(withDifferences, std::min(5, int(counts["changed"].get<int64_t>())));
    }
};

QTEST_GUILESS_MAIN(TestDiffCommand)
#include "tst_diffcommand.moc"
