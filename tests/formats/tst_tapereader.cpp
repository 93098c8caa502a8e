// The reader's API on a tape of known content, and the writer's argument checks and
// appending to an existing tape.
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

Q_DECLARE_METATYPE(ErrorCode)

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

class TestTapeReader : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string m_path;
    SampleTape m_sample;
    std::unique_ptr<TapeReader> m_reader;
    int m_files = 0;

    std::string freshPath() { return m_dir.filePath(QStringLiteral("r%1.tape").arg(++m_files)).toStdString(); }

    std::string copyOfSample()
    {
        const std::string path = freshPath();
        writeFile(path, readFile(m_path));
        return path;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_path = freshPath();
        auto sample = writeSampleTape(m_path);
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        auto reader = TapeReader::open(m_path);
        QVERIFY(reader);
        m_reader = std::move(*reader);
    }

    void cleanupTestCase() { m_reader.reset(); }

    void metadata()
    {
        QCOMPARE(m_reader->formatVersion(), currentFormatVersion());
        QCOMPARE(q(m_reader->path()), q(m_path));
        auto runs = m_reader->runs();
        QVERIFY(runs);
        QCOMPARE(runs->size(), size_t(1));
        const RunInfo &r = runs->front();
        QCOMPARE(r.id.value, m_sample.run.value);
        QCOMPARE(q(r.name), QStringLiteral("sample run"));
        QCOMPARE(q(r.agent), QStringLiteral("claude-code"));
        QCOMPARE(r.command, (std::vector<std::string>{"claude", "-p", "make the tests pass"}));
        QCOMPARE(q(r.cwd), QStringLiteral("/work/project"));
        QCOMPARE(q(r.labels.dump()), q(json{{"task", "tests"}, {"attempt", 1}}.dump()));
        QCOMPARE(r.startedUs, kT0);
        QVERIFY(r.endedUs > r.startedUs);
        QCOMPARE(q(r.outcome), QStringLiteral("exit 1"));

        auto branches = m_reader->branches();
        QVERIFY(branches);
        QCOMPARE(branches->size(), size_t(2));
        QVERIFY(!(*branches)[0].parent);
        QVERIFY(!(*branches)[0].forkStep);
        QCOMPARE((*branches)[1].id.value, m_sample.forkedBranch.value);
        QCOMPARE((*branches)[1].parent->value, m_sample.mainBranch.value);
        QCOMPARE((*branches)[1].forkStep->value, m_sample.forkStep.value);
        QCOMPARE(q((*branches)[1].description), QStringLiteral("edited the result of `make test`"));

        auto threads = m_reader->threads();
        QVERIFY(threads);
        QCOMPARE(threads->size(), size_t(3));
        QCOMPARE((*threads)[1].id.value, m_sample.subThread.value);
        QCOMPARE((*threads)[1].parent->value, m_sample.mainThread.value);
        QCOMPARE(q((*threads)[1].label), QStringLiteral("subagent: tests"));
        QCOMPARE((*threads)[2].branch.value, m_sample.forkedBranch.value);
    }

    void stepCount()
    {
        QCOMPARE(m_reader->stepCount(), int64_t(m_sample.written.size()));
        QCOMPARE(m_reader->stepCount(), m_sample.lastStep.value);

        const std::string empty = freshPath();
        QVERIFY(TapeWriter::create(empty));
        auto reader = TapeReader::open(empty);
        QVERIFY(reader);
        QCOMPARE((*reader)->stepCount(), int64_t(0));
        auto summaries = (*reader)->stepSummaries(StepIndex{1}, 10);
        QVERIFY(summaries);
        QVERIFY(summaries->empty());
        int visits = 0;
        QVERIFY((*reader)->forEachStep([&](const Step &) { return ++visits, true; }));
        QCOMPARE(visits, 0);
    }

    void stepSummaries_data()
    {
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("count");
        QTest::addColumn<qint64>("expectedFirst");
        QTest::addColumn<qint64>("expectedCount");
        const qint64 n = qint64(m_sample.written.size());
        QTest::newRow("the first five") << qint64(1) << qint64(5) << qint64(1) << qint64(5);
        QTest::newRow("from the middle") << qint64(4) << qint64(3) << qint64(4) << qint64(3);
        QTest::newRow("all of them") << qint64(1) << n << qint64(1) << n;
        QTest::newRow("more than there are") << qint64(1) << n + 100 << qint64(1) << n;
        QTest::newRow("running off the end") << n - 1 << qint64(10) << n - 1 << qint64(2);
        QTest::newRow("the last one") << n << qint64(1) << n << qint64(1);
        QTest::newRow("past the end") << n + 1 << qint64(5) << qint64(0) << qint64(0);
        QTest::newRow("count 0") << qint64(1) << qint64(0) << qint64(0) << qint64(0);
        QTest::newRow("negative count") << qint64(1) << qint64(-1) << qint64(0) << qint64(0);
    }

    void stepSummaries()
    {
        QFETCH(qint64, first);
        QFETCH(qint64, count);
        QFETCH(qint64, expectedFirst);
        QFETCH(qint64, expectedCount);
        auto r = m_reader->stepSummaries(StepIndex{first}, count);
        QVERIFY2(r, r ? "" : r.error().message.c_str());
        QCOMPARE(qint64(r->size()), expectedCount);
        for (size_t i = 0; i < r->size(); ++i) {
            const StepSummary &s = (*r)[i];
            const Step &e = m_sample.written[size_t(expectedFirst - 1) + i];
            QCOMPARE(s.index.value, expectedFirst + qint64(i));
            QCOMPARE(s.index.value, e.index.value);
            QCOMPARE(s.run.value, e.run.value);
            QCOMPARE(s.branch.value, e.branch.value);
            QCOMPARE(s.thread.value, e.thread.value);
            QCOMPARE(s.seq, e.seq);
            QCOMPARE(int(s.kind), int(e.kind));
            QCOMPARE(int(s.status), int(e.status));
            QCOMPARE(q(s.name), q(e.name));
            QCOMPARE(s.parent.has_value(), e.parent.has_value());
            QCOMPARE(s.startedUs, e.startedUs);
            QCOMPARE(s.firstTokenUs, e.firstTokenUs);
            QCOMPARE(s.endedUs, e.endedUs);
            QVERIFY(s.usage == e.usage);
            QVERIFY(s.costUsd == e.costUsd);
            QCOMPARE(s.messageCount, int64_t(e.requestMessages.size()));
            QCOMPARE(s.requestBytes, e.wire ? int64_t(e.wire->requestBody.size()) : 0);
            QCOMPARE(s.responseBytes, e.wire ? int64_t(e.wire->responseBody.size()) : 0);
            // One summary and the range agree.
            auto one = m_reader->stepSummary(s.index);
            QVERIFY(one);
            QCOMPARE(one->seq, s.seq);
        }
    }

    void noSuchStep_data()
    {
        QTest::addColumn<qint64>("index");
        QTest::newRow("0") << qint64(0);
        QTest::newRow("-1") << qint64(-1);
        QTest::newRow("one past the end") << qint64(m_sample.written.size() + 1);
        QTest::newRow("far past the end") << qint64(INT64_MAX);
    }

    void noSuchStep()
    {
        QFETCH(qint64, index);
        const qint64 i = index;
        auto s = m_reader->step(StepIndex{i});
        QVERIFY(!s);
        QCOMPARE(s.error().code, ErrorCode::NotFound);
        auto summary = m_reader->stepSummary(StepIndex{i});
        QVERIFY(!summary);
        QCOMPARE(summary.error().code, ErrorCode::NotFound);
    }

    // The lighter detail levels leave out exactly what they say and keep the rest.
    void detailLevels()
    {
        int checked = 0;
        for (const Step &written : m_sample.written) {
            if (written.requestMessages.empty())
                continue;
            auto full = m_reader->step(written.index);
            auto light = m_reader->step(written.index, TapeReader::Detail::WithoutMessages);
            auto wire = m_reader->step(written.index, TapeReader::Detail::WireOnly);
            QVERIFY(full && light && wire);
            QVERIFY(!full->requestMessages.empty());
            QVERIFY(light->requestMessages.empty());
            QVERIFY(light->requestParams == full->requestParams);
            QVERIFY(light->payload == full->payload);
            QVERIFY(light->wire == full->wire);
            QCOMPARE(light->callId, full->callId);
            QVERIFY(wire->requestMessages.empty() && wire->payload.is_null());
            QVERIFY(wire->wire == full->wire);
            auto bodiless = m_reader->step(written.index, TapeReader::Detail::WithoutRequestBody);
            QVERIFY(bodiless);
            QVERIFY(bodiless->requestMessages == full->requestMessages);
            QVERIFY(bodiless->payload == full->payload);
            if (full->wire) {
                QVERIFY(bodiless->wire && bodiless->wire->requestBody.empty());
                QCOMPARE(bodiless->wire->omittedRequestBodySize,
                         std::optional<int64_t>(int64_t(full->wire->requestBody.size())));
                QCOMPARE(bodiless->wire->responseBody, full->wire->responseBody);
                QVERIFY(bodiless->wire->requestHeaders == full->wire->requestHeaders);
                QVERIFY(!full->wire->omittedRequestBodySize);
            }
            ++checked;
        }
        QVERIFY(checked > 0);
    }

    void forEachStep()
    {
        std::vector<int64_t> seen;
        Status s = m_reader->forEachStep([&](const Step &step) {
            seen.push_back(step.index.value);
            const std::string diff = stepDifference(m_sample.written[seen.size() - 1], step);
            if (!diff.empty())
                qWarning("step %lld: %s", (long long)step.index.value, diff.c_str());
            return diff.empty();
        });
        QVERIFY2(s, s ? "" : s.error().message.c_str());
        QCOMPARE(seen.size(), m_sample.written.size());
        for (size_t i = 0; i < seen.size(); ++i)
            QCOMPARE(seen[i], int64_t(i + 1));

        // Returning false stops the walk at once.
        int visits = 0;
        QVERIFY(m_reader->forEachStep([&](const Step &) { return ++visits < 4; }));
        QCOMPARE(visits, 4);
    }

    void search_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<qint64>("firstStep");   // 0: no hits
        QTest::addColumn<QString>("field");
        QTest::addColumn<int>("hits");           // -1: at least one
        QTest::addColumn<QString>("inSnippet");
        const qint64 big = m_sample.bigToolResult.value;
        const qint64 failed = m_sample.forkStep.value + 1;
        QTest::newRow("a word found once") << QString::fromStdString(m_sample.uniqueWord) << big
                                           << "tool_output" << 1 << QString::fromStdString(m_sample.uniqueWord);
        QTest::newRow("case does not matter") << "ZYZZOGETON" << big << "tool_output" << 1 << "zyzzogeton";
        QTest::newRow("a prefix") << "zyzzog*" << big << "tool_output" << 1 << "zyzzogeton";
        QTest::newRow("two words, both must appear") << "tests pass" << qint64(m_sample.firstModelCall.value)
                                                     << "message" << -1 << "tests pass";
        QTest::newRow("a phrase") << "\"careful engineer\"" << qint64(m_sample.firstModelCall.value)
                                  << "message" << 1 << "careful engineer";
        QTest::newRow("a phrase that is not there") << "\"engineer careful\"" << qint64(0) << "" << 0 << "";
        QTest::newRow("tool arguments") << "\"make test\"" << qint64(m_sample.forkStep.value)
                                        << "tool_arguments" << 1 << "make test";
        QTest::newRow("a free-form payload") << "rate limited" << qint64(m_sample.errorStep.value)
                                             << "payload" << 1 << "rate limited";
        QTest::newRow("OR") << "xylophone OR retrying" << qint64(m_sample.errorStep.value) << "payload" << 1
                            << "retrying";
        QTest::newRow("not FTS5: foo-bar falls back to a phrase")
            << "tile-bounds" << failed << "tool_output" << 1 << "tile-bounds check";
        QTest::newRow("not FTS5: a stray quote falls back to a phrase")
            << "\"rate limited" << qint64(m_sample.errorStep.value) << "payload" << 1 << "rate limited";
        QTest::newRow("not FTS5: a lone operator") << "AND" << qint64(0) << "" << -2 << "";
        QTest::newRow("not FTS5: punctuation only") << "---" << qint64(0) << "" << 0 << "";
        QTest::newRow("no hits") << "xylophone" << qint64(0) << "" << 0 << "";
        QTest::newRow("empty query") << "" << qint64(0) << "" << 0 << "";
        QTest::newRow("non-ASCII") << "✓" << qint64(0) << "" << 0 << "";
    }

    void search()
    {
        QFETCH(QString, query);
        QFETCH(qint64, firstStep);
        QFETCH(QString, field);
        QFETCH(int, hits);
        QFETCH(QString, inSnippet);
        auto r = m_reader->search(query.toStdString());
        QVERIFY2(r, r ? "" : r.error().message.c_str());
        if (hits == -2)
            return; // anything but an error or a crash
        if (hits >= 0)
            QCOMPARE(int(r->size()), hits);
        else
            QVERIFY(!r->empty());
        if (r->empty())
            return;
        const SearchHit &h = r->front();
        QCOMPARE(h.step.value, firstStep);
        QCOMPARE(q(h.field), field);
        QVERIFY2(q(h.snippet).contains(inSnippet, Qt::CaseInsensitive), h.snippet.c_str());
        for (const SearchHit &hit : *r) {
            QVERIFY2(!q(hit.snippet).contains(QLatin1Char('\n')), "a snippet spans lines");
            QVERIFY(hit.step.value >= 1 && hit.step.value <= m_reader->stepCount());
        }
        for (size_t i = 1; i < r->size(); ++i)
            QVERIFY((*r)[i - 1].step <= (*r)[i].step); // in step order
    }

    void searchLimit()
    {
        auto all = m_reader->search("the");
        QVERIFY(all);
        QVERIFY(all->size() > 2);
        auto two = m_reader->search("the", 2);
        QVERIFY(two);
        QCOMPARE(two->size(), size_t(2));
        QCOMPARE(two->front().step.value, all->front().step.value);
    }

    void summaryTotals()
    {
        auto s = m_reader->summary();
        QVERIFY(s);
        Usage usage;
        double cost = 0;
        int64_t errors = 0;
        int64_t byKind[kStepKindCount + 1] = {};
        int64_t firstUs = INT64_MAX, lastUs = 0, refs = 0;
        for (const Step &e : m_sample.written) {
            usage.inputTokens += e.usage.inputTokens;
            usage.outputTokens += e.usage.outputTokens;
            usage.cacheReadTokens += e.usage.cacheReadTokens;
            usage.cacheWriteTokens += e.usage.cacheWriteTokens;
            cost += e.costUsd.value_or(0);
            errors += e.status != StepStatus::Ok;
            ++byKind[int(e.kind)];
            firstUs = std::min(firstUs, e.startedUs);
            lastUs = std::max({lastUs, e.endedUs, e.startedUs});
            refs += int64_t(e.requestMessages.size());
        }
        QCOMPARE(s->formatVersion, currentFormatVersion());
        QCOMPARE(s->runs.size(), size_t(1));
        QCOMPARE(s->branches.size(), size_t(2));
        QCOMPARE(s->threads.size(), size_t(3));
        QCOMPARE(s->stepCount, int64_t(m_sample.written.size()));
        for (int k = 1; k <= kStepKindCount; ++k) {
            QVERIFY2(byKind[k] > 0, stepKindName(StepKind(k))); // the sample has every kind
            QCOMPARE(s->stepsByKind[k], byKind[k]);
        }
        QCOMPARE(s->errorSteps, errors);
        QCOMPARE(s->usage.inputTokens, usage.inputTokens);
        QCOMPARE(s->usage.outputTokens, usage.outputTokens);
        QCOMPARE(s->usage.cacheReadTokens, usage.cacheReadTokens);
        QCOMPARE(s->usage.cacheWriteTokens, usage.cacheWriteTokens);
        QVERIFY(s->costUsd);
        QVERIFY(qAbs(*s->costUsd - cost) < 1e-12);
        QCOMPARE(s->firstUs, firstUs);
        QCOMPARE(s->lastUs, lastUs);
        QCOMPARE(s->messageReferences, refs);
        QVERIFY(s->blobCount > 0);
        QVERIFY(s->messageCount > 0 && s->messageCount < refs);

        auto split = m_reader->byteSplit();
        QVERIFY(split);
        QVERIFY(split->fileBytes > 0);
        QVERIFY(split->contentBytes > 0);
        QVERIFY(split->wireBytes > 0);
        QVERIFY(split->indexBytes > 0);
        QCOMPARE(split->fileBytes, split->contentBytes + split->wireBytes + split->indexBytes + split->otherBytes);
    }

    void summaryWithoutCosts()
    {
        const std::string path = freshPath();
        {
            auto writer = TapeWriter::create(path);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            Step s = generatedStep(1, 1, sc->thread); // a tool call: no cost
            QVERIFY(!s.costUsd);
            QVERIFY((*writer)->append(s));
        }
        auto reader = TapeReader::open(path);
        QVERIFY(reader);
        auto s = (*reader)->summary();
        QVERIFY(s);
        QVERIFY2(!s->costUsd, "a tape where no step knew its cost reports a cost");
        QCOMPARE(s->stepCount, int64_t(1));
        QCOMPARE(s->stepsByKind[int(StepKind::ToolCall)], int64_t(1));
        QCOMPARE(s->errorSteps, int64_t(0));

        const std::string empty = freshPath();
        QVERIFY(TapeWriter::create(empty));
        auto er = TapeReader::open(empty);
        QVERIFY(er);
        auto es = (*er)->summary();
        QVERIFY(es);
        QVERIFY(!es->costUsd);
        QCOMPARE(es->stepCount, int64_t(0));
        QCOMPARE(es->firstUs, int64_t(0));
        QCOMPARE(es->lastUs, int64_t(0));
        QVERIFY(es->runs.empty());
    }

    // A second session appends a second run and carries on the first run's main thread.
    void openForAppend()
    {
        const std::string path = copyOfSample();
        const int64_t n = int64_t(m_sample.written.size());
        Step continued = m_sample.written[size_t(m_sample.lastStep.value - 1)];
        QCOMPARE(continued.thread.value, m_sample.forkThread.value);
        // Continue the recorded main thread with a model call that resends its conversation.
        Step onMain;
        for (const Step &s : m_sample.written) {
            if (s.thread == m_sample.mainThread && s.kind == StepKind::ModelCall)
                onMain = s;
        }
        onMain.index = StepIndex{};
        onMain.seq = 0;
        onMain.run = RunId{};
        onMain.branch = BranchId{};
        onMain.requestMessages.push_back({{"role", "user"}, {"content", "one more thing"}});
        onMain.wire->requestBody += " "; // a body the delta chain must continue from
        int64_t lastMainSeq = 0;
        for (const Step &s : m_sample.written) {
            if (s.thread == m_sample.mainThread)
                lastMainSeq = s.seq;
        }
        RunId second;
        ThreadId secondThread;
        {
            auto writer = TapeWriter::openForAppend(path);
            QVERIFY2(writer, writer ? "" : writer.error().message.c_str());
            QCOMPARE(q((*writer)->path()), q(path));
            auto index = (*writer)->append(onMain);
            QVERIFY2(index, index ? "" : index.error().message.c_str());
            QCOMPARE(index->value, n + 1);

            auto sc = beginScaffold(**writer, "second session");
            QVERIFY(sc);
            second = sc->run;
            secondThread = sc->thread;
            QCOMPARE(second.value, m_sample.run.value + 1);
            for (int64_t k = 0; k < 4; ++k) {
                auto r = (*writer)->append(generatedStep(8, k, secondThread));
                QVERIFY(r);
                QCOMPARE(r->value, n + 2 + k);
            }
            QVERIFY((*writer)->endRun(second, kT0 + 999, "exit 0"));
        }
        auto reader = TapeReader::open(path);
        QVERIFY(reader);
        const VerifyReport report = (*reader)->verify();
        QVERIFY2(report.ok, report.problems.empty() ? "" : report.problems.front().c_str());
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->runs.size(), size_t(2));
        QCOMPARE(q(summary->runs[1].name), QStringLiteral("second session"));
        QCOMPARE(q(summary->runs[1].outcome), QStringLiteral("exit 0"));
        QCOMPARE(summary->stepCount, n + 5);

        auto s = (*reader)->step(StepIndex{n + 1});
        QVERIFY2(s, s ? "" : s.error().message.c_str());
        QCOMPARE(s->run.value, m_sample.run.value);
        QCOMPARE(s->branch.value, m_sample.mainBranch.value);
        QCOMPARE(s->thread.value, m_sample.mainThread.value);
        QCOMPARE(s->seq, lastMainSeq + 1);
        onMain.index = StepIndex{n + 1};
        onMain.seq = lastMainSeq + 1;
        const std::string diff = stepDifference(onMain, *s);
        QVERIFY2(diff.empty(), diff.c_str());

        for (int64_t k = 0; k < 4; ++k) {
            auto g = (*reader)->step(StepIndex{n + 2 + k});
            QVERIFY(g);
            QCOMPARE(g->run.value, second.value);
            QCOMPARE(g->seq, k);
            const std::string d = stepDifference(generatedStep(8, k, secondThread), *g);
            QVERIFY2(d.empty(), d.c_str());
        }
    }

    // A reader opened while the writer is still recording sees each step once committed.
    void readerFollowsALiveWriter()
    {
        const std::string path = freshPath();
        auto writer = TapeWriter::create(path);
        QVERIFY(writer);
        auto sc = beginScaffold(**writer);
        QVERIFY(sc);
        auto reader = TapeReader::open(path);
        QVERIFY2(reader, reader ? "" : reader.error().message.c_str());
        QCOMPARE((*reader)->stepCount(), int64_t(0));
        for (int64_t k = 0; k < 5; ++k) {
            QVERIFY((*writer)->append(generatedStep(6, k, sc->thread)));
            QCOMPARE((*reader)->stepCount(), k + 1);
            auto s = (*reader)->step(StepIndex{k + 1});
            QVERIFY2(s, s ? "" : s.error().message.c_str());
            QVERIFY(stepDifference(generatedStep(6, k, sc->thread), *s).empty());
        }
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->stepCount, int64_t(5));
        QCOMPARE(summary->runs.front().endedUs, int64_t(0)); // still recording
    }

    void invalidArguments_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<ErrorCode>("code");
        QTest::newRow("addBranch: no such run") << 0 << ErrorCode::InvalidArgument;
        QTest::newRow("addBranch: no such parent branch") << 1 << ErrorCode::InvalidArgument;
        QTest::newRow("addBranch: parent branch of another run") << 2 << ErrorCode::InvalidArgument;
        QTest::newRow("addBranch: fork step not on the parent branch") << 3 << ErrorCode::InvalidArgument;
        QTest::newRow("addBranch: no such fork step") << 4 << ErrorCode::InvalidArgument;
        QTest::newRow("addThread: no such branch") << 5 << ErrorCode::InvalidArgument;
        QTest::newRow("addThread: no such parent thread") << 6 << ErrorCode::InvalidArgument;
        QTest::newRow("append: no such thread") << 7 << ErrorCode::InvalidArgument;
        QTest::newRow("append: run is not the thread's") << 8 << ErrorCode::InvalidArgument;
        QTest::newRow("append: branch is not the thread's") << 9 << ErrorCode::InvalidArgument;
        QTest::newRow("append: parent is the step itself") << 10 << ErrorCode::InvalidArgument;
        QTest::newRow("append: parent in the future") << 11 << ErrorCode::InvalidArgument;
        QTest::newRow("append: parent 0") << 12 << ErrorCode::InvalidArgument;
        QTest::newRow("append: kind 0") << 13 << ErrorCode::InvalidArgument;
        QTest::newRow("append: kind 10") << 14 << ErrorCode::InvalidArgument;
        QTest::newRow("append: chunks do not add up to the body") << 15 << ErrorCode::InvalidArgument;
        QTest::newRow("appendBatch: one bad step fails the batch") << 16 << ErrorCode::InvalidArgument;
        QTest::newRow("endRun: no such run") << 17 << ErrorCode::NotFound;
        QTest::newRow("mainBranch: no such run") << 18 << ErrorCode::NotFound;
    }

    void invalidArguments()
    {
        QFETCH(int, which);
        QFETCH(ErrorCode, code);
        const std::string path = freshPath();
        auto writer = TapeWriter::create(path);
        QVERIFY(writer);
        TapeWriter &w = **writer;
        auto sc = beginScaffold(w, "one");
        QVERIFY(sc);
        auto other = beginScaffold(w, "two");
        QVERIFY(other);
        QCOMPARE(w.append(generatedStep(1, 1, sc->thread)).value().value, int64_t(1));
        QCOMPARE(w.append(generatedStep(1, 2, other->thread)).value().value, int64_t(2));

        Step step = generatedStep(1, 4, sc->thread);
        std::optional<Error> error;
        auto keep = [&](const auto &r) {
            if (!r)
                error = r.error();
        };
        switch (which) {
        case 0:
            keep(w.addBranch(BranchInfo{{}, RunId{99}, sc->branch, StepIndex{1}, "x", 0}));
            break;
        case 1:
            keep(w.addBranch(BranchInfo{{}, sc->run, BranchId{99}, StepIndex{1}, "x", 0}));
            break;
        case 2:
            keep(w.addBranch(BranchInfo{{}, sc->run, other->branch, StepIndex{2}, "x", 0}));
            break;
        case 3:
            keep(w.addBranch(BranchInfo{{}, sc->run, sc->branch, StepIndex{2}, "x", 0}));
            break;
        case 4:
            keep(w.addBranch(BranchInfo{{}, sc->run, sc->branch, StepIndex{42}, "x", 0}));
            break;
        case 5:
            keep(w.addThread(ThreadInfo{{}, BranchId{99}, std::nullopt, "x", 0}));
            break;
        case 6:
            keep(w.addThread(ThreadInfo{{}, sc->branch, ThreadId{99}, "x", 0}));
            break;
        case 7:
            step.thread = ThreadId{99};
            keep(w.append(step));
            break;
        case 8:
            step.run = other->run;
            keep(w.append(step));
            break;
        case 9:
            step.branch = other->branch;
            keep(w.append(step));
            break;
        case 10:
            step.parent = StepIndex{3};
            keep(w.append(step));
            break;
        case 11:
            step.parent = StepIndex{10};
            keep(w.append(step));
            break;
        case 12:
            step.parent = StepIndex{0};
            keep(w.append(step));
            break;
        case 13:
            step.kind = StepKind(0);
            keep(w.append(step));
            break;
        case 14:
            step.kind = StepKind(10);
            keep(w.append(step));
            break;
        case 15:
            step = generatedStep(1, 3, sc->thread);
            step.wire->chunks.back().length += 1;
            keep(w.append(step));
            break;
        case 16: {
            Step bad = generatedStep(1, 5, sc->thread);
            bad.kind = StepKind(0);
            keep(w.appendBatch({generatedStep(1, 3, sc->thread), bad}));
            break;
        }
        case 17:
            if (Status s = w.endRun(RunId{99}, 1, "x"); !s)
                error = s.error();
            break;
        case 18:
            keep(w.mainBranch(RunId{99}));
            break;
        }
        QVERIFY2(error, "the call succeeded");
        QCOMPARE(error->code, code);
        QVERIFY2(q(error->message).contains(q(path)), error->message.c_str());

        // Nothing of the failed call is left behind, and the writer carries on: the next
        // step gets the next index and the thread's next seq.
        auto next = w.append(generatedStep(1, 6, sc->thread));
        QVERIFY2(next, next ? "" : next.error().message.c_str());
        QCOMPARE(next->value, int64_t(3));
        writer->reset();
        auto reader = TapeReader::open(path);
        QVERIFY(reader);
        QVERIFY((*reader)->verify().ok);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->stepCount, int64_t(3));
        QCOMPARE(summary->branches.size(), size_t(2));
        QCOMPARE(summary->threads.size(), size_t(2));
        auto s = (*reader)->step(StepIndex{3});
        QVERIFY(s);
        QCOMPARE(s->seq, int64_t(1));
        QVERIFY(stepDifference(generatedStep(1, 6, sc->thread), *s).empty());
    }
};

QTEST_GUILESS_MAIN(TestTapeReader)
#include "tst_tapereader.moc"
