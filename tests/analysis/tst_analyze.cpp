// The drift and recovery rules on tapes the real writer wrote: a loop, an error streak and
// its recovery, a stall, a compaction, and no false loop for distinct calls; the kernel
// session against what its generator knows it put there; `tapedeck analyze` as a real
// process (text, --json, --kind, bad options, a missing file).
#include "clirunner.h"
#include "difftapes.h"

#include <tapedeck/analysis/findings.h>
#include <tapedeck/samples/kernelsession.h>

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using testutil::runTapedeck;

namespace {

// One run on a "main" thread, from the steps `build` makes with the conversation.
formats::Result<std::string> writeRun(const std::string &path,
                                      const std::function<std::vector<formats::Step>(testutil::Conversation &)> &build)
{
    auto writer = formats::TapeWriter::create(path);
    if (!writer)
        return writer.error();
    formats::RunInfo info;
    info.name = "rules";
    info.startedUs = testutil::kDiffT0;
    auto run = (*writer)->beginRun(info);
    if (!run)
        return run.error();
    auto branch = (*writer)->mainBranch(*run);
    if (!branch)
        return branch.error();
    auto thread = (*writer)->addThread({formats::ThreadId(), *branch, std::nullopt, "main", testutil::kDiffT0});
    if (!thread)
        return thread.error();
    testutil::Conversation c(*thread, testutil::kDiffT0);
    if (std::string e = testutil::appendAll(**writer, build(c)); !e.empty())
        return formats::Error{formats::ErrorCode::Io, e};
    if (auto s = (*writer)->endRun(*run, testutil::kDiffT0 + 7200000000LL, "exit 0"); !s)
        return s.error();
    return path;
}

std::vector<analysis::Finding> ofKind(const analysis::AnalysisReport &report, analysis::FindingKind kind)
{
    std::vector<analysis::Finding> out;
    for (const auto &f : report.findings)
        if (f.kind == kind)
            out.push_back(f);
    return out;
}

} // namespace

class TestAnalyze : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string path(const char *name) const { return m_dir.filePath(QString::fromUtf8(name)).toStdString(); }

    formats::Result<analysis::AnalysisReport> analyzeFile(const std::string &file)
    {
        auto reader = formats::TapeReader::open(file);
        if (!reader)
            return reader.error();
        return analysis::analyze(**reader);
    }

private Q_SLOTS:
    void kindNamesRoundTrip()
    {
        for (int k = 0; k < analysis::kFindingKindCount; ++k) {
            const auto kind = analysis::FindingKind(k);
            QCOMPARE(analysis::findingKindFromName(analysis::findingKindName(kind)), std::optional(kind));
        }
        QVERIFY(!analysis::findingKindFromName("no_such_kind"));
    }

    void sameCallFourTimesIsALoop()
    {
        auto file = writeRun(path("loop.tape"), [](testutil::Conversation &c) {
            std::vector<formats::Step> s;
            for (int i = 0; i < 4; ++i) {
                s.push_back(c.model("try the build again"));
                s.push_back(c.call("bash", {{"cmd", "make kernel"}}));
                s.push_back(c.result("bash", "error: x undeclared", true));
            }
            s.push_back(c.model("look at the header"));
            s.push_back(c.call("read_file", {{"path", "kernel.h"}}));
            s.push_back(c.result("read_file", "int x;"));
            return s;
        });
        QVERIFY2(file, file ? "" : file.error().message.c_str());
        auto report = analyzeFile(*file);
        QVERIFY2(report, report ? "" : report.error().message.c_str());
        const auto loops = ofKind(*report, analysis::FindingKind::Loop);
        QCOMPARE(loops.size(), size_t(1));
        QCOMPARE(loops[0].measures.value("count", 0), 4);
        QVERIFY2(loops[0].title.find("make kernel") != std::string::npos, loops[0].title.c_str());
        QCOMPARE(loops[0].steps.front(), formats::StepIndex{2}); // the first make call
    }

    void distinctCallsAreNoLoop()
    {
        auto file = writeRun(path("noloop.tape"), [](testutil::Conversation &c) {
            std::vector<formats::Step> s;
            for (const char *f : {"a.c", "b.c", "c.c", "d.c", "e.c"}) {
                s.push_back(c.model("read the next file"));
                s.push_back(c.call("read_file", {{"path", f}}));
                s.push_back(c.result("read_file", std::string("contents of ") + f));
            }
            return s;
        });
        QVERIFY(file);
        auto report = analyzeFile(*file);
        QVERIFY(report);
        QVERIFY(ofKind(*report, analysis::FindingKind::Loop).empty());
        QVERIFY(ofKind(*report, analysis::FindingKind::ErrorStreak).empty());
    }

    void errorStreakAndItsRecovery()
    {
        int64_t breaking = 0;
        auto file = writeRun(path("streak.tape"), [&](testutil::Conversation &c) {
            std::vector<formats::Step> s;
            for (const char *cmd : {"make a", "make b", "make c"}) {
                s.push_back(c.model("build"));
                s.push_back(c.call("bash", {{"cmd", cmd}}));
                s.push_back(c.result("bash", "error: failed", true));
            }
            s.push_back(c.model("build the fixed one"));
            s.push_back(c.call("bash", {{"cmd", "make fixed"}}));
            s.push_back(c.result("bash", "ok"));
            breaking = int64_t(s.size());
            return s;
        });
        QVERIFY(file);
        auto report = analyzeFile(*file);
        QVERIFY(report);
        const auto streaks = ofKind(*report, analysis::FindingKind::ErrorStreak);
        QCOMPARE(streaks.size(), size_t(1));
        QCOMPARE(streaks[0].measures.value("count", 0), 3);
        QCOMPARE(streaks[0].measures.value("broken_by", int64_t(0)), breaking);
    }

    void longGapIsAStallAndShortOnesAreNot()
    {
        auto file = writeRun(path("stall.tape"), [](testutil::Conversation &c) {
            std::vector<formats::Step> s;
            s.push_back(c.model("run the tests"));
            s.push_back(c.call("bash", {{"cmd", "pytest"}}));
            s.push_back(c.result("bash", "3 passed"));
            formats::Step late = c.model("done");
            late.startedUs += 30LL * 60 * 1000000; // half an hour with nothing happening
            late.endedUs += 30LL * 60 * 1000000;
            s.push_back(late);
            return s;
        });
        QVERIFY(file);
        auto report = analyzeFile(*file);
        QVERIFY(report);
        const auto stalls = ofKind(*report, analysis::FindingKind::Stall);
        QVERIFY(!stalls.empty());
        QVERIFY(stalls[0].measures.value("gap_us", int64_t(0)) >= 30LL * 60 * 1000000);

        auto quick = analyzeFile(path("streak.tape"));
        QVERIFY(quick);
        QVERIFY(ofKind(*quick, analysis::FindingKind::Stall).empty());
    }

    void compactionStepIsFound()
    {
        auto file = writeRun(path("compaction.tape"), [](testutil::Conversation &c) {
            std::vector<formats::Step> s;
            s.push_back(c.model("first"));
            formats::Step compaction = c.call("compact", nlohmann::json::object());
            compaction.kind = formats::StepKind::Compaction;
            compaction.name.clear();
            compaction.callId.clear();
            compaction.payload = {{"messages_before", 40}, {"messages_after", 3}};
            s.push_back(compaction);
            s.push_back(c.model("after"));
            return s;
        });
        QVERIFY2(file, file ? "" : file.error().message.c_str());
        auto report = analyzeFile(*file);
        QVERIFY(report);
        const auto found = ofKind(*report, analysis::FindingKind::Compaction);
        QCOMPARE(found.size(), size_t(1));
        QCOMPARE(found[0].steps.front(), formats::StepIndex{2});
    }

    // The generator knows where it put its loops, compactions and its best speed-up.
    void kernelSessionAgainstItsGenerator()
    {
        const std::string file = path("kernel.tape");
        samples::KernelSessionStats stats;
        {
            auto writer = formats::TapeWriter::create(file);
            QVERIFY(writer);
            auto written = samples::writeKernelSession(**writer, {});
            QVERIFY2(written, written ? "" : written.error().message.c_str());
            stats = *written;
        }
        auto report = analyzeFile(file);
        QVERIFY2(report, report ? "" : report.error().message.c_str());

        const auto loops = ofKind(*report, analysis::FindingKind::Loop);
        QCOMPARE(int64_t(loops.size()), int64_t(stats.loopSpans.size()));
        for (const samples::KernelSessionLoop &span : stats.loopSpans) {
            const bool covered = std::any_of(loops.begin(), loops.end(), [&](const analysis::Finding &f) {
                return f.steps.front() <= span.lastResult && f.steps.back() >= span.firstCall;
            });
            QVERIFY2(covered, qPrintable(QStringLiteral("no loop finding covers steps %1..%2")
                                             .arg(span.firstCall.value).arg(span.lastResult.value)));
        }

        const auto compactions = ofKind(*report, analysis::FindingKind::Compaction);
        QCOMPARE(int64_t(compactions.size()), int64_t(stats.compactionSteps.size()));
        for (size_t i = 0; i < compactions.size(); ++i)
            QCOMPARE(compactions[i].steps.front(), stats.compactionSteps[i]);

        QVERIFY(!report->metric.empty());
        double best = 0;
        for (const auto &[step, value] : report->metric)
            best = std::max(best, value);
        QVERIFY2(std::abs(best - stats.bestSpeedup) < 0.01,
                 qPrintable(QStringLiteral("best %1, the generator's %2").arg(best).arg(stats.bestSpeedup)));
        QVERIFY(!ofKind(*report, analysis::FindingKind::NewBest).empty());

        const nlohmann::json json = analysis::analysisToJson(*report);
        for (const char *key : {"run", "branch", "steps_read", "metric", "summary", "findings"})
            QVERIFY2(json.contains(key), key);
        QCOMPARE(json["findings"].size(), report->findings.size());
        for (const char *key : {"kind", "severity", "title", "detail", "first_step", "last_step", "steps"})
            QVERIFY2(json["findings"][0].contains(key), key);
    }

    void commandTextAndJson()
    {
        const QString file = QString::fromStdString(path("loop.tape"));
        const auto text = runTapedeck({"analyze", file});
        QVERIFY2(text.exitCode == 0, qPrintable(text.describe()));
        const QString out = QString::fromUtf8(text.out);
        QVERIFY2(out.contains("loop"), qPrintable(out));
        QVERIFY2(out.contains("tapedeck dump " + file + " --step 2"), qPrintable(out));

        const auto json = runTapedeck({"analyze", file, "--json", "--kind", "loop"});
        QVERIFY2(json.exitCode == 0, qPrintable(json.describe()));
        const auto doc = nlohmann::json::parse(json.out.toStdString(), nullptr, false);
        QVERIFY(!doc.is_discarded());
        QCOMPARE(doc["findings"].size(), size_t(1));
        QCOMPARE(doc["findings"][0]["kind"].get<std::string>(), std::string("loop"));
    }

    void commandBadInput()
    {
        const QString file = QString::fromStdString(path("loop.tape"));
        const auto kind = runTapedeck({"analyze", file, "--kind", "loopz"});
        QCOMPARE(kind.exitCode, 2);
        QVERIFY2(QString::fromUtf8(kind.err).contains("loopz"), qPrintable(kind.describe()));
        const auto regex = runTapedeck({"analyze", file, "--metric", "(unclosed"});
        QCOMPARE(regex.exitCode, 2);
        QVERIFY2(QString::fromUtf8(regex.err).contains("--metric"), qPrintable(regex.describe()));
        const auto missing = runTapedeck({"analyze", m_dir.filePath("nope.tape")});
        QCOMPARE(missing.exitCode, 3);
        QVERIFY2(QString::fromUtf8(missing.err).contains("nope.tape"), qPrintable(missing.describe()));
    }
};

QTEST_GUILESS_MAIN(TestAnalyze)
#include "tst_analyze.moc"
