// The app's analysis views over real tapes: the findings panel (FindingsModel under
// QAbstractItemModelTester, checked against analysis::analyze on the same tape, its kind
// filter, a click and a double-click moving the other views), the findings band on the
// timeline, and the navigator's branch tree (forks under their parents, with the outcome
// `tapedeck fork` writes when a branch ends).
#include "findingspanel.h"
#include "guitestutil.h"
#include "navigatormodel.h"
#include "navigatorview.h"
#include "testutil.h"
#include "timelineview.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTreeView>

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::StepIndex;
namespace af = tapedeck::analysis;

class TestAnalysisViews : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;
    std::shared_ptr<const TapeIndex> m_index;
    samples::KernelSessionStats m_stats;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        auto writer = formats::TapeWriter::create(m_tape, formats::WriterOptions{.overwrite = true});
        QVERIFY(writer);
        samples::KernelSessionOptions options;
        options.scale = 0.25;
        auto stats = samples::writeKernelSession(**writer, options);
        QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        m_stats = *stats;
        writer->reset();
        m_index = test::loadIndex(m_tape);
        QVERIFY(m_index);
    }

    // The model lists what analyze() finds, in its order, and narrows to one kind.
    void findingsModelMatchesTheAnalysis()
    {
        ViewState state;
        FindingsModel model(&state);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy analyzed(&model, &FindingsModel::analyzed);
        state.setIndex(m_index);
        QVERIFY(model.isAnalyzing());
        QVERIFY(analyzed.wait(30000));

        auto reader = formats::TapeReader::open(m_tape);
        QVERIFY(reader);
        auto expected = af::analyze(**reader);
        QVERIFY(expected);
        QCOMPARE(model.rowCount(), int(expected->findings.size()));
        QVERIFY(model.rowCount() > 0);
        int loops = 0;
        for (int r = 0; r < model.rowCount(); ++r) {
            const af::Finding &want = expected->findings[size_t(r)];
            QCOMPARE(model.data(model.index(r, FindingsModel::Title)).toString(), QString::fromStdString(want.title));
            QCOMPARE(model.data(model.index(r, 0), FindingsModel::StepIndexRole).toLongLong(), want.steps.front().value);
            loops += want.kind == af::FindingKind::Loop ? 1 : 0;
        }
        QCOMPARE(loops, int(m_stats.loopSpans.size()));
        QVERIFY2(model.summaryText().contains(QStringLiteral("%1 loop").arg(loops)), qPrintable(model.summaryText()));

        model.setKindFilter(af::FindingKind::Loop);
        QCOMPARE(model.rowCount(), loops);
        for (int r = 0; r < model.rowCount(); ++r)
            QCOMPARE(model.data(model.index(r, 0), FindingsModel::KindRole).toInt(), int(af::FindingKind::Loop));
        model.setKindFilter(std::nullopt);
        QCOMPARE(model.rowCount(), int(expected->findings.size()));

        // A filter that names no other run or branch (here: errors only) analyses nothing again.
        StepFilter errors;
        errors.errorsOnly = true;
        state.setFilter(errors);
        QVERIFY(!model.isAnalyzing());
    }

    // A click selects the finding's first step; a double-click fits the window to it.
    void findingsPanelMovesTheViews()
    {
        ViewState state;
        FindingsPanel panel(&state);
        panel.resize(700, 400);
        panel.show();
        QSignalSpy analyzed(panel.model(), &FindingsModel::analyzed);
        state.setIndex(m_index);
        QVERIFY(panel.statusText().contains(QLatin1String("Analysing")));
        QVERIFY(analyzed.wait(30000));
        QVERIFY2(panel.statusText().contains(QLatin1String("findings")), qPrintable(panel.statusText()));

        panel.kindChooser()->setCurrentIndex(panel.kindChooser()->findData(int(af::FindingKind::Loop)));
        QCOMPARE(panel.model()->rowCount(), int(m_stats.loopSpans.size()));
        const af::Finding loop = *panel.model()->findingAt(0);
        QCOMPARE(loop.steps.front(), m_stats.loopSpans.front().firstCall);

        QTableView *list = panel.list();
        const QRect cell = list->visualRect(panel.model()->index(0, FindingsModel::Title));
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(state.currentStep(), loop.steps.front());
        QVERIFY2(panel.detailText().contains(QString::fromStdString(loop.title)), qPrintable(panel.detailText()));

        state.setCurrentStep(StepIndex{1});
        QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(state.currentStep(), loop.steps.front());
        QVERIFY(state.visibleStartUs() <= loop.startUs);
        QVERIFY(state.visibleEndUs() >= loop.endUs);
        QVERIFY(state.visibleEndUs() - state.visibleStartUs() < (m_index->lastUs() - m_index->firstUs()) / 4);
    }

    // The band above the lanes: marks where findings are, a tooltip's worth of titles, and
    // a click on a mark selects its step.
    void timelineDrawsFindings()
    {
        ViewState state;
        TimelineView timeline(&state);
        timeline.resize(1000, 300);
        timeline.show();
        state.setIndex(m_index);
        QVERIFY(timeline.findingsRect().isEmpty());
        const int lanesTopBefore = timeline.laneRect(0).top();

        const int64_t mid = (m_index->firstUs() + m_index->lastUs()) / 2;
        const StepIndex target = m_index->row(m_index->rowAtOrAfter(mid)).index;
        timeline.setFindings({{mid, mid + 60'000'000, Qt::red, QStringLiteral("loop: something 4 times"), target}});
        const QRect band = timeline.findingsRect();
        QVERIFY(!band.isEmpty());
        QVERIFY(timeline.laneRect(0).top() > lanesTopBefore); // the lanes make room for it
        const double x = timeline.geometry().mapTimeToX(double(mid)) + 1;
        QCOMPARE(timeline.findingsAt(x).size(), size_t(1));
        QVERIFY(timeline.findingsAt(x + 200).empty());

        const QImage image = timeline.grab().toImage();
        QCOMPARE(image.pixelColor(band.left() + int(x) + 1, band.center().y()), QColor(Qt::red));

        QTest::mouseClick(&timeline, Qt::LeftButton, {}, QPoint(band.left() + int(x) + 1, band.center().y()));
        QCOMPARE(state.currentStep(), target);
        timeline.setFindings({});
        QCOMPARE(timeline.laneRect(0).top(), lanesTopBefore);
    }

    // Forks hang under the branch they came from, with their fork point, edit and outcome;
    // the context menu's "compare" names both branches.
    void branchTree()
    {
        const std::string path = m_dir.filePath(QStringLiteral("forks.tape")).toStdString();
        auto sample = testutil::writeSampleTape(path);
        QVERIFY(sample);
        {
            // What `tapedeck fork` appends when a branch ends.
            auto writer = formats::TapeWriter::openForAppend(path);
            QVERIFY2(writer, writer ? "" : writer.error().message.c_str());
            formats::Step end;
            end.thread = sample->forkThread;
            end.kind = formats::StepKind::Annotation;
            end.name = "branch outcome";
            end.startedUs = end.endedUs = sample->written.back().endedUs + 1000;
            end.payload = {{"branch_outcome", "exit 0"}};
            QVERIFY((*writer)->append(end));
        }
        auto index = test::loadIndex(path);
        QVERIFY(index);
        QCOMPARE(index->branchOutcome(int32_t(sample->forkedBranch.value)), std::string("exit 0"));
        QCOMPARE(index->branchOutcome(int32_t(sample->mainBranch.value)), std::string());

        ViewState state;
        NavigatorView view(&state);
        QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        state.setIndex(index);
        NavigatorModel *model = view.model();
        const QModelIndex original = model->index(0, 0, model->index(0, 0));
        QVERIFY(model->data(original).toString().contains(QLatin1String("as recorded")));
        QModelIndex fork;
        for (int r = 0; r < model->rowCount(original); ++r) {
            const QModelIndex child = model->index(r, 0, original);
            if (NavigatorModel::Level(child.data(NavigatorModel::LevelRole).toInt()) == NavigatorModel::Level::Branch)
                fork = child;
        }
        QVERIFY(fork.isValid());
        QCOMPARE(fork.data(NavigatorModel::IdRole).toLongLong(), sample->forkedBranch.value);
        const QString name = fork.data().toString();
        QVERIFY2(name.contains(QStringLiteral("after step %1").arg(sample->forkStep.value)), qPrintable(name));
        QVERIFY2(name.contains(QLatin1String("edited the result")), qPrintable(name));
        QCOMPARE(fork.siblingAtColumn(NavigatorModel::Outcome).data().toString(), QStringLiteral("exit 0"));

        // Picking the fork filters every view to it.
        view.resize(600, 300);
        view.show();
        QTreeView *tree = view.tree();
        tree->scrollTo(fork);
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualRect(fork).center());
        QCOMPARE(int64_t(state.filter().branch), sample->forkedBranch.value);
    }
};

QTEST_MAIN(TestAnalysisViews)
#include "tst_analysisviews.moc"
