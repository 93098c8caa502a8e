// The app's models over a real tape: the step table (filter, sort, selection mapping), the
// navigator, search, bookmarks kept in the tape, and playback. Each model also runs under
// QAbstractItemModelTester, which checks every call against the model contract.
#include "bookmarkmodel.h"
#include "guitestutil.h"
#include "jobrunner.h"
#include "navigatormodel.h"
#include "playbackcontroller.h"
#include "searchmodel.h"
#include "steptablemodel.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <cerrno>
#include <map>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::StepIndex;
using formats::StepKind;

class TestGuiModels : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;      // the kernel session
    std::string m_sample;    // every step kind, two branches
    testutil::SampleTape m_sampleInfo;
    std::shared_ptr<const TapeIndex> m_index;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(m_tape);
        QVERIFY2(e.empty(), e.c_str());
        m_index = test::loadIndex(m_tape);
        QVERIFY(m_index);
        m_sample = m_dir.filePath(QStringLiteral("sample.tape")).toStdString();
        auto sample = testutil::writeSampleTape(m_sample);
        QVERIFY(sample);
        m_sampleInfo = *sample;
    }

    void stepTableFollowsTheIndex()
    {
        ViewState state;
        StepTableModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        state.setIndex(m_index);
        QCOMPARE(model.rowCount(), int(m_index->rowCount()));
        QCOMPARE(model.columnCount(), int(StepTableModel::ColumnCount));
        QCOMPARE(model.stepAt(0), StepIndex{1});
        QCOMPARE(model.data(model.index(0, StepTableModel::Index)).toLongLong(), 1LL);
        QCOMPARE(model.rowOfStep(StepIndex{42}), 41);
        QVERIFY(!model.headerData(StepTableModel::Latency, Qt::Horizontal).toString().isEmpty());
    }

    void stepTableFilters_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("errorsOnly");
        QTest::newRow("model calls") << int(StepKind::ModelCall) << false;
        QTest::newRow("tool results") << int(StepKind::ToolResult) << false;
        QTest::newRow("failed tool results") << int(StepKind::ToolResult) << true;
        QTest::newRow("errors of any kind") << 0 << true;
    }

    void stepTableFilters()
    {
        QFETCH(int, kind);
        QFETCH(bool, errorsOnly);
        ViewState state;
        StepTableModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        state.setIndex(m_index);
        StepFilter filter;
        if (kind)
            filter.kinds.insert(StepKind(kind));
        filter.errorsOnly = errorsOnly;
        state.setFilter(filter);
        int64_t expected = 0;
        for (const StepRow &row : m_index->rows())
            expected += filter.matches(row) ? 1 : 0;
        QVERIFY(expected > 0);
        QCOMPARE(int64_t(model.rowCount()), expected);
        for (int r = 0; r < model.rowCount(); ++r) {
            const StepRow &row = m_index->row(model.indexRowAt(r));
            if (kind)
                QCOMPARE(int(row.kind), kind);
            if (errorsOnly)
                QVERIFY(row.isError() || row.kind == StepKind::Error);
            QCOMPARE(model.rowOfStep(row.index), r);
        }
        // A step the filter hides has no row.
        for (const StepRow &row : m_index->rows()) {
            if (!filter.matches(row)) {
                QCOMPARE(model.rowOfStep(row.index), -1);
                break;
            }
        }
    }

    void stepTableFiltersByToolAndThread()
    {
        ViewState state;
        StepTableModel model(&state);
        state.setIndex(m_index);
        const StepRow *tool = nullptr;
        for (const StepRow &row : m_index->rows())
            if (row.kind == StepKind::ToolCall && !tool)
                tool = &row;
        QVERIFY(tool);
        StepFilter filter;
        filter.name = tool->name;
        filter.thread = tool->thread;
        state.setFilter(filter);
        QVERIFY(model.rowCount() > 0);
        for (int r = 0; r < model.rowCount(); ++r) {
            const StepRow &row = m_index->row(model.indexRowAt(r));
            QCOMPARE(row.name, tool->name);
            QCOMPARE(row.thread, tool->thread);
        }
    }

    void stepTableSorts_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<int>("order");
        for (int c : {int(StepTableModel::Latency), int(StepTableModel::InputTokens), int(StepTableModel::Cost),
                      int(StepTableModel::Name), int(StepTableModel::Index)})
            for (int o : {int(Qt::AscendingOrder), int(Qt::DescendingOrder)})
                QTest::addRow("column %d %s", c, o == Qt::AscendingOrder ? "ascending" : "descending") << c << o;
    }

    void stepTableSorts()
    {
        QFETCH(int, column);
        QFETCH(int, order);
        ViewState state;
        StepTableModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        state.setIndex(m_index);
        // A selection kept across the sort stays on its step.
        const QPersistentModelIndex kept = model.index(100, StepTableModel::Name);
        const StepIndex keptStep = model.stepAt(100);
        model.sort(column, Qt::SortOrder(order));
        QCOMPARE(model.stepAt(kept.row()), keptStep);
        QCOMPARE(model.rowCount(), int(m_index->rowCount()));
        for (int r = 1; r < model.rowCount(); ++r) {
            const QVariant a = model.data(model.index(r - 1, column), StepTableModel::SortRole);
            const QVariant b = model.data(model.index(r, column), StepTableModel::SortRole);
            const auto c = QVariant::compare(a, b);
            if (order == Qt::AscendingOrder)
                QVERIFY2(c != QPartialOrdering::Greater, qPrintable(QStringLiteral("row %1").arg(r)));
            else
                QVERIFY2(c != QPartialOrdering::Less, qPrintable(QStringLiteral("row %1").arg(r)));
            QCOMPARE(model.rowOfStep(model.stepAt(r)), r);
        }
    }

    // Runs, branches and threads with their tallies; picking one gives its filter.
    void navigatorTree()
    {
        ViewState state;
        NavigatorModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto index = test::loadIndex(m_sample);
        QVERIFY(index);
        state.setIndex(index);
        QCOMPARE(model.rowCount(), int(index->summary().runs.size()));
        const QModelIndex run = model.index(0, 0);
        QCOMPARE(model.data(run, NavigatorModel::LevelRole).toInt(), int(NavigatorModel::Level::Run));
        QCOMPARE(model.data(model.index(0, NavigatorModel::Steps)).toString(), QString::number(index->rowCount()));
        QCOMPARE(model.rowCount(run), 1); // the recorded branch; the fork hangs under it
        const QModelIndex mainBranch = model.index(0, 0, run);
        QVERIFY2(model.data(mainBranch).toString().contains(QLatin1String("as recorded")),
                 qPrintable(model.data(mainBranch).toString()));
        QCOMPARE(model.data(mainBranch, NavigatorModel::ParentBranchRole).toInt(), 0);
        QCOMPARE(model.rowCount(mainBranch), 3); // main thread, its sub-agent, then the fork
        const QModelIndex fork = model.index(2, 0, mainBranch);
        QCOMPARE(model.data(fork, NavigatorModel::LevelRole).toInt(), int(NavigatorModel::Level::Branch));
        QVERIFY2(model.data(fork).toString().contains(QStringLiteral("after step %1").arg(m_sampleInfo.forkStep.value)),
                 qPrintable(model.data(fork).toString()));
        QCOMPARE(model.data(fork, NavigatorModel::ParentBranchRole).toInt(),
                 model.data(mainBranch, NavigatorModel::IdRole).toInt());
        // The sample's fork was written by hand, with no "branch outcome" step: still open.
        QCOMPARE(model.data(model.index(2, NavigatorModel::Outcome, mainBranch)).toString(), QStringLiteral("recording"));
        const QModelIndex sub = model.index(1, 0, mainBranch);
        const StepFilter filter = model.filterFor(sub);
        QCOMPARE(int64_t(filter.thread), m_sampleInfo.subThread.value);
        int64_t inThread = 0;
        for (const StepRow &row : index->rows())
            inThread += row.thread == filter.thread ? 1 : 0;
        QCOMPARE(model.data(model.index(1, NavigatorModel::Steps, mainBranch)).toString(), QString::number(inThread));
    }

    void search()
    {
        ViewState state;
        SearchModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto index = test::loadIndex(m_sample);
        state.setIndex(index);
        QSignalSpy finished(&model, &SearchModel::finished);
        model.search(QString::fromStdString(m_sampleInfo.uniqueWord));
        QVERIFY(model.isSearching());
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.at(0).at(1).toInt(), 1);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.stepAt(0), m_sampleInfo.bigToolResult);
        QVERIFY(model.data(model.index(0, SearchModel::Snippet)).toString().contains(
            QString::fromStdString(m_sampleInfo.uniqueWord)));
        // Nothing found, then a bad FTS query: an empty list and a message, no crash.
        model.search(QStringLiteral("zzzqqqnotthere"));
        QVERIFY(finished.wait(10000));
        QCOMPARE(model.rowCount(), 0);
        QSignalSpy failed(&model, &SearchModel::failed);
        const int finishedBefore = int(finished.count());
        model.search(QStringLiteral("\"unbalanced"));
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() + finished.count() > finishedBefore, 10000);
        if (!failed.isEmpty())
            QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        model.search(QString());
        QCOMPARE(model.rowCount(), 0);
    }

    // Bookmarks and notes are written into the tape and are there when it is opened again.
    void bookmarksPersist()
    {
        const std::string path = m_dir.filePath(QStringLiteral("notes.tape")).toStdString();
        QVERIFY(testutil::writeFile(path, testutil::readFile(m_sample)));
        auto index = test::loadIndex(path);
        {
            ViewState state;
            BookmarkModel model(&state);
            QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
            QSignalSpy loaded(&model, &BookmarkModel::loaded);
            QSignalSpy saved(&model, &BookmarkModel::saved);
            state.setIndex(index);
            QVERIFY(loaded.wait(10000));
            QCOMPARE(model.rowCount(), 0);
            model.toggleBookmark(m_sampleInfo.errorStep);
            model.setNote({m_sampleInfo.forkStep, false, "the fork goes wrong after this", 0});
            model.setNote({m_sampleInfo.firstModelCall, true, "first call", 0});
            QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 3, 10000);
            QCOMPARE(model.rowCount(), 3);
            model.toggleBookmark(m_sampleInfo.firstModelCall); // keeps its note
            model.setNote({m_sampleInfo.forkStep, false, "", 0}); // removed
            QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 5, 10000);
            QCOMPARE(model.rowCount(), 2);
        }
        auto reader = formats::TapeReader::open(path);
        QVERIFY(reader);
        auto notes = (*reader)->notes();
        QVERIFY(notes);
        QCOMPARE(notes->size(), size_t(2));
        const formats::StepNote *first = nullptr, *error = nullptr;
        for (const auto &n : *notes) {
            if (n.step == m_sampleInfo.firstModelCall)
                first = &n;
            if (n.step == m_sampleInfo.errorStep)
                error = &n;
            QVERIFY(n.updatedUs > 0);
        }
        QVERIFY(first && error);
        QCOMPARE(first->text, std::string("first call"));
        QVERIFY(!first->bookmarked);
        QVERIFY(error->bookmarked);
        QVERIFY((*reader)->verify().ok);

        // Opened again, the model shows what was saved.
        ViewState state;
        BookmarkModel model(&state);
        QSignalSpy loaded(&model, &BookmarkModel::loaded);
        state.setIndex(test::loadIndex(path));
        QVERIFY(loaded.wait(10000));
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(model.noteFor(m_sampleInfo.errorStep));
        QVERIFY(model.noteFor(m_sampleInfo.errorStep)->bookmarked);
    }

    // A tape that went away after it was opened: the save fails with the file named.
    void bookmarkOnAVanishedTapeFails()
    {
        const std::string path = m_dir.filePath(QStringLiteral("vanished.tape")).toStdString();
        QVERIFY(testutil::writeFile(path, testutil::readFile(m_sample)));
        ViewState state;
        BookmarkModel model(&state);
        QSignalSpy failed(&model, &BookmarkModel::failed);
        state.setIndex(test::loadIndex(path));
        QVERIFY(QFile::remove(QString::fromStdString(path)));
        model.toggleBookmark(m_sampleInfo.errorStep);
        QVERIFY(failed.wait(10000));
        const QString message = failed.last().at(0).toString();
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        QCOMPARE(model.rowCount(), 0);
    }

    // The cursor moves at speed × real time, the step under it is selected, long idle
    // stretches are skipped, and playback stops at the end.
    void playback()
    {
        ViewState state;
        PlaybackController playback(&state);
        state.setIndex(m_index);
        QCOMPARE(state.cursorUs(), m_index->firstUs());
        playback.setSpeed(1000);
        playback.setMaxIdleUs(int64_t(3600) * 1000'000); // an hour: skip nothing shorter
        playback.advance(1000'000);                      // one real second
        QCOMPARE(state.cursorUs(), m_index->firstUs() + 1000 * 1000'000LL);
        const int64_t row = state.currentRow();
        QVERIFY(row >= 0);
        QVERIFY(m_index->row(row).startedUs <= state.cursorUs());
        QVERIFY(row + 1 == m_index->rowCount() || m_index->row(row + 1).startedUs > state.cursorUs());

        playback.stepForward();
        QCOMPARE(state.currentRow(), row + 1);
        QCOMPARE(state.cursorUs(), m_index->row(row + 1).startedUs);
        playback.stepBack();
        playback.stepBack();
        QCOMPARE(state.currentRow(), row - 1);

        // Idle gaps: with a 1 s limit, a slow real second still crosses many gaps.
        playback.setMaxIdleUs(1000'000);
        playback.setSpeed(1);
        const int64_t before = state.cursorUs();
        playback.advance(1000);
        QVERIFY(state.cursorUs() > before);

        QSignalSpy finished(&playback, &PlaybackController::finished);
        playback.setSpeed(1e6);
        for (int i = 0; i < 1000 && finished.isEmpty(); ++i)
            playback.advance(1000'000);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(state.currentRow(), m_index->rowCount() - 1);
        QCOMPARE(state.cursorUs(), m_index->lastUs());
    }

    void playbackTimer()
    {
        ViewState state;
        PlaybackController playback(&state);
        state.setIndex(m_index);
        QSignalSpy playing(&playback, &PlaybackController::playingChanged);
        QSignalSpy moved(&state, &ViewState::cursorChanged);
        playback.setSpeed(10000);
        playback.play();
        QVERIFY(playback.isPlaying());
        QTRY_VERIFY_WITH_TIMEOUT(moved.count() >= 3, 5000);
        playback.togglePlay();
        QVERIFY(!playback.isPlaying());
        QCOMPARE(playing.count(), 2);
        QVERIFY(state.currentStep().value > 0);
    }

    // Prefetch jobs run at a low priority, and lowering it leaves the other lanes as they
    // were; every lane hands its result back on the GUI thread.
    void jobLanes()
    {
#ifndef __linux__
        QSKIP("the prefetch lane's priority is a Linux thread's nice value");
#else
        const auto niceOfThisThread = [] {
            errno = 0;
            return getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)));
        };
        const int ours = niceOfThisThread();
        std::map<JobRunner::Lane, int> nice;
        for (auto lane : {JobRunner::Lane::Prefetch, JobRunner::Lane::Interactive,
                          JobRunner::Lane::Background}) {
            JobRunner jobs(nullptr, lane);
            bool done = false;
            jobs.start<int>(QStringLiteral("nice"), niceOfThisThread, [&](int n) {
                QCOMPARE(QThread::currentThread(), qApp->thread());
                nice[lane] = n;
                done = true;
            });
            QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        }
        QCOMPARE(nice[JobRunner::Lane::Prefetch], std::min(ours + 10, 19));
        QCOMPARE(nice[JobRunner::Lane::Interactive], ours);
        QCOMPARE(nice[JobRunner::Lane::Background], ours);
        QCOMPARE(niceOfThisThread(), ours);
#endif
    }
};

QTEST_MAIN(TestGuiModels)
#include "tst_guimodels.moc"
