// TapeIndex: the packed step index every view draws from, on the kernel session and on
// damaged tapes; and TapeLoader, which builds it off the GUI thread in stages.
#include "guitestutil.h"
#include "tapeloader.h"
#include "testutil.h"

#include <QSignalSpy>
#include <QTest>

using namespace tapedeck;
using namespace tapedeck::gui;

class TestTapeIndex : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(m_tape);
        QVERIFY2(e.empty(), e.c_str());
    }

    // Every step has its row, in step order, with the summary columns the store holds.
    void rowsMatchTheStore()
    {
        auto reader = formats::TapeReader::open(m_tape);
        QVERIFY(reader);
        std::vector<std::pair<int64_t, int64_t>> progress;
        auto loaded = TapeIndex::load(**reader, [&](int64_t done, int64_t total) { progress.emplace_back(done, total); });
        QVERIFY(loaded);
        const TapeIndex &index = **loaded;
        QCOMPARE(index.rowCount(), (*reader)->stepCount());
        QVERIFY(!index.damage());
        QVERIFY(!progress.empty());
        QCOMPARE(progress.back().first, index.rowCount());
        int64_t tokens = 0;
        for (int64_t r = 0; r < index.rowCount(); ++r) {
            const StepRow &row = index.row(r);
            QCOMPARE(row.index.value, r + 1);
            QCOMPARE(index.rowOf(row.index), r);
            tokens += row.inputTokens;
        }
        QCOMPARE(tokens, index.summary().usage.inputTokens);
        // Spot checks against the store's own summaries.
        for (int64_t step : {int64_t(1), index.rowCount() / 2, index.rowCount()}) {
            auto s = (*reader)->stepSummary(formats::StepIndex{step});
            QVERIFY(s);
            const StepRow &row = index.row(index.rowOf(s->index));
            QCOMPARE(row.kind, s->kind);
            QCOMPARE(row.startedUs, s->startedUs);
            QCOMPARE(row.endedUs, s->endedUs);
            QCOMPARE(row.thread, int32_t(s->thread.value));
            QCOMPARE(index.nameOf(row), s->name);
            QCOMPARE(row.hasCost(), s->costUsd.has_value());
        }
        QCOMPARE(index.rowOf(formats::StepIndex{index.rowCount() + 1}), int64_t(-1));
        QCOMPARE(index.firstUs(), index.summary().firstUs);
        QCOMPARE(index.lastUs(), index.summary().lastUs);
        QVERIFY(index.lastUs() - index.firstUs() > int64_t(30) * 3600 * 1000'000); // a 35-hour run
        QVERIFY(index.thread(index.row(0).thread));
        QVERIFY(index.run(index.row(0).run));
        QVERIFY(index.branch(index.row(0).branch));
    }

    // Names are stored once: far fewer names than steps, and each found again by value.
    void namesAreInterned()
    {
        auto index = test::loadIndex(m_tape);
        QVERIFY(index);
        QVERIFY(index->nameCount() > 2);
        QVERIFY(index->nameCount() < 100);
        for (int32_t id = 0; id < index->nameCount(); ++id)
            QCOMPARE(index->findName(index->name(id)), id);
        QCOMPARE(index->findName("no such tool"), -1);
        QCOMPARE(index->name(-1), std::string());
    }

    void previousModelCallInThread()
    {
        auto index = test::loadIndex(m_tape);
        QVERIFY(index);
        int checked = 0;
        int64_t lastCallOfThread[64];
        std::fill(std::begin(lastCallOfThread), std::end(lastCallOfThread), int64_t(-1));
        for (int64_t r = 0; r < index->rowCount(); ++r) {
            const StepRow &row = index->row(r);
            QVERIFY(row.thread > 0 && row.thread < 64);
            if (row.kind != formats::StepKind::ModelCall)
                continue;
            QCOMPARE(index->previousModelCallInThread(r), lastCallOfThread[row.thread]);
            lastCallOfThread[row.thread] = r;
            ++checked;
        }
        QVERIFY(checked > 1000);
        QCOMPARE(index->previousModelCallInThread(-1), int64_t(-1));
    }

    void rowAtOrAfter()
    {
        auto index = test::loadIndex(m_tape);
        QVERIFY(index);
        QCOMPARE(index->rowAtOrAfter(0), int64_t(0));
        QCOMPARE(index->rowAtOrAfter(index->lastUs() + 1), index->rowCount());
        const StepRow &mid = index->row(index->rowCount() / 2);
        const int64_t r = index->rowAtOrAfter(mid.startedUs);
        QVERIFY(index->row(r).startedUs >= mid.startedUs);
        QVERIFY(r == 0 || index->row(r - 1).startedUs < mid.startedUs);
    }

    // A tape that lost step rows opens with the rows it has, and says what is missing.
    void lostRowsAreDamage()
    {
        const std::string path = m_dir.filePath(QStringLiteral("lost.tape")).toStdString();
        QVERIFY(testutil::writeFile(path, testutil::readFile(m_tape)));
        QCOMPARE(testutil::sqlExec(path, "DELETE FROM steps WHERE id > 1000"), std::string());
        auto index = test::loadIndex(path);
        QVERIFY(index);
        QCOMPARE(index->rowCount(), int64_t(1000));
        QVERIFY(index->damage());
        QVERIFY2(QString::fromStdString(*index->damage()).contains(QStringLiteral("only 1000 could be read")),
                 index->damage()->c_str());
    }

    // A cut file: either it does not open, with an error naming it, or it opens with what
    // could be read; never a crash, never rows past the damage.
    void truncatedTapes_data()
    {
        QTest::addColumn<double>("fraction");
        QTest::newRow("a tenth") << 0.1;
        QTest::newRow("half") << 0.5;
        QTest::newRow("nine tenths") << 0.9;
    }

    void truncatedTapes()
    {
        QFETCH(double, fraction);
        const std::string bytes = testutil::readFile(m_tape);
        const std::string path = m_dir.filePath(QStringLiteral("cut-%1.tape").arg(fraction)).toStdString();
        QVERIFY(testutil::writeFile(path, bytes.substr(0, size_t(double(bytes.size()) * fraction))));
        std::string error;
        auto index = test::loadIndex(path, &error);
        if (!index) {
            QVERIFY2(QString::fromStdString(error).contains(QString::fromStdString(path)), error.c_str());
            return;
        }
        auto full = test::loadIndex(m_tape);
        QVERIFY(index->rowCount() <= full->rowCount());
        if (index->rowCount() < index->summary().stepCount)
            QVERIFY(index->damage());
    }

    // The loader publishes the summary first, then the whole index, on the GUI thread.
    void loaderStages()
    {
        TapeLoader loader;
        QSignalSpy summary(&loader, &TapeLoader::summaryAvailable);
        QSignalSpy index(&loader, &TapeLoader::indexAvailable);
        QSignalSpy failed(&loader, &TapeLoader::loadFailed);
        loader.open(QString::fromStdString(m_tape));
        QVERIFY(loader.isLoading());
        QVERIFY(index.wait(30000));
        QCOMPARE(summary.count(), 1);
        QCOMPARE(failed.count(), 0);
        auto first = summary.at(0).at(0).value<std::shared_ptr<const TapeIndex>>();
        auto whole = index.at(0).at(0).value<std::shared_ptr<const TapeIndex>>();
        QCOMPARE(first->rowCount(), int64_t(0));
        QCOMPARE(first->summary().stepCount, whole->rowCount());
        QVERIFY(!loader.isLoading());
    }

    // Opening a second tape drops the first load's results.
    void loaderSupersedes()
    {
        const std::string other = m_dir.filePath(QStringLiteral("small.tape")).toStdString();
        QVERIFY(testutil::writeSampleTape(other));
        TapeLoader loader;
        QSignalSpy index(&loader, &TapeLoader::indexAvailable);
        loader.open(QString::fromStdString(m_tape));
        loader.open(QString::fromStdString(other));
        QVERIFY(index.wait(30000));
        QTest::qWait(200);
        QCOMPARE(index.count(), 1);
        QCOMPARE(index.at(0).at(0).value<std::shared_ptr<const TapeIndex>>()->path(), other);
    }

    void loaderFailures_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing") << QString() << "no such file";
        QTest::newRow("not a tape") << "hello, this is text" << "not a tape";
    }

    void loaderFailures()
    {
        QFETCH(QString, content);
        QFETCH(QString, message);
        const std::string path = m_dir.filePath(QStringLiteral("bad-%1.tape").arg(QTest::currentDataTag())).toStdString();
        if (!content.isNull())
            QVERIFY(testutil::writeFile(path, content.toStdString()));
        TapeLoader loader;
        QSignalSpy failed(&loader, &TapeLoader::loadFailed);
        loader.open(QString::fromStdString(path));
        QVERIFY(failed.wait(10000));
        const QString text = failed.at(0).at(0).toString();
        QVERIFY2(text.contains(message) && text.contains(QString::fromStdString(path)), qPrintable(text));
    }
};


QTEST_GUILESS_MAIN(TestTapeIndex)
#include "tst_tapeindex.moc"
