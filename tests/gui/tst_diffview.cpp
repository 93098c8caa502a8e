// The diff view over a real tape with a fork (the diff suites' ten-step agent run, forked
// after its failing build): DiffModel under QAbstractItemModelTester and against
// analysis::align on the same sides, the view opening at the first divergence with the
// pair's text side by side, identical sides, a side that cannot be opened, and a picture.
#include "../analysis/difftapes.h"
#include "diffview.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTextBrowser>

using namespace tapedeck;
using namespace tapedeck::gui;
namespace af = tapedeck::analysis;

class TestDiffView : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;
    testutil::ForkTape m_fork;

    af::SideSpec spec(const std::string &suffix)
    {
        auto parsed = af::parseSideSpec(m_tape + suffix);
        return parsed ? *parsed : af::SideSpec{};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("fork.tape")).toStdString();
        auto fork = testutil::writeForkTape(m_tape);
        QVERIFY2(fork, fork ? "" : fork.error().message.c_str());
        m_fork = *fork;
    }

    void modelMatchesTheAlignment()
    {
        DiffModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy loaded(&model, &DiffModel::loaded);
        const af::SideSpec a = spec("#" + std::to_string(m_fork.original.branch.value));
        const af::SideSpec b = spec("#" + std::to_string(m_fork.fork.value));
        model.load(a, b);
        QVERIFY(model.isLoading());
        QVERIFY(loaded.wait(10000));

        auto reader = formats::TapeReader::open(m_tape);
        QVERIFY(reader);
        auto sideA = af::loadSide(**reader, a);
        auto sideB = af::loadSide(**reader, b);
        QVERIFY(sideA && sideB);
        const af::Alignment expected = af::align(*sideA, *sideB);
        QCOMPARE(model.rowCount(), int(expected.rows.size()));
        for (int r = 0; r < model.rowCount(); ++r)
            QCOMPARE(model.data(model.index(r, 0), DiffModel::RowKindRole).toInt(), int(expected.rows[size_t(r)].kind));
        QVERIFY(expected.firstDivergence);
        QCOMPARE(model.firstDivergenceRow(), int(*expected.firstDivergence));
        QVERIFY(model.data(model.index(model.firstDivergenceRow(), 0), DiffModel::FirstDivergenceRole).toBool());
        QCOMPARE(model.count(af::RowKind::Inserted), expected.inserted);
        QCOMPARE(model.count(af::RowKind::Removed), expected.removed);
        QVERIFY2(model.countsText().contains(QStringLiteral("%1 removed").arg(expected.removed)), qPrintable(model.countsText()));
        // The ten recorded steps against five shared plus the fork's own.
        QCOMPARE(model.totals(0).steps, int64_t(10));
        QVERIFY(model.data(model.index(0, DiffModel::StepA)).toLongLong() == 1);
    }

    // Opens at the first divergence: the failed build against the fork's good one.
    void viewShowsThePairSideBySide()
    {
        DiffView view;
        view.resize(1200, 700);
        view.show();
        QSignalSpy pair(view.model(), &DiffModel::pairLoaded);
        view.compare(spec("#" + std::to_string(m_fork.original.branch.value)),
                     spec("#" + std::to_string(m_fork.fork.value)));
        QVERIFY(pair.wait(10000));
        const int first = view.model()->firstDivergenceRow();
        QCOMPARE(view.table()->currentIndex().row(), first);
        QVERIFY2(view.headerText().contains(QLatin1String("changed")), qPrintable(view.headerText()));
        QVERIFY(view.model()->pairRow() == first);
        QVERIFY(!view.model()->pairFields().empty());
        const QString left = view.leftText()->toPlainText(), right = view.rightText()->toPlainText();
        QVERIFY2(left.contains(QLatin1String("error: x undeclared")), qPrintable(left));
        QVERIFY2(right.contains(QLatin1String("built ok")), qPrintable(right));

        // An inserted row shows B's step only.
        int inserted = -1;
        for (int r = 0; r < view.model()->rowCount(); ++r)
            if (view.model()->rowAt(r)->kind == af::RowKind::Inserted)
                inserted = r;
        QVERIFY(inserted >= 0);
        view.table()->setCurrentIndex(view.model()->index(inserted, DiffModel::Mark));
        QVERIFY(pair.wait(10000));
        QVERIFY2(view.leftText()->toPlainText().contains(QLatin1String("absent")), qPrintable(view.leftText()->toPlainText()));
        QVERIFY(!view.rightText()->toPlainText().isEmpty());

        // A double-click on B's side names B's step.
        QSignalSpy activated(&view, &DiffView::stepActivated);
        const QRect cell = view.table()->visualRect(view.model()->index(inserted, DiffModel::StepB));
        QTest::mouseClick(view.table()->viewport(), Qt::LeftButton, {}, cell.center());
        QTest::mouseDClick(view.table()->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.at(0).at(0).toInt(), 1);
        QCOMPARE(activated.at(0).at(1).value<formats::StepIndex>().value,
                 view.model()->data(view.model()->index(inserted, 0), DiffModel::StepBRole).toLongLong());

        // Both runs as lanes, the first divergence drawn; saved for a look.
        QVERIFY(view.lanes()->rowAt(view.lanes()->width() - 1) == view.model()->rowCount() - 1);
        view.table()->setCurrentIndex(view.model()->index(first, DiffModel::Mark));
        QVERIFY(pair.wait(10000));
        const QImage image = view.grab().toImage();
        QVERIFY(image.save(m_dir.filePath(QStringLiteral("diffview.png"))));
        if (qEnvironmentVariableIsSet("TAPEDECK_SCREENSHOT_DIR"))
            image.save(qEnvironmentVariable("TAPEDECK_SCREENSHOT_DIR") + QStringLiteral("/gui-diff.png"));
    }

    void identicalSides()
    {
        DiffView view;
        QSignalSpy loaded(view.model(), &DiffModel::loaded);
        const std::string original = "#" + std::to_string(m_fork.original.branch.value);
        view.compare(spec(original), spec(original));
        QVERIFY(loaded.wait(10000));
        QCOMPARE(view.model()->firstDivergenceRow(), -1);
        QVERIFY2(view.headerText().contains(QLatin1String("no differences")), qPrintable(view.headerText()));
    }

    void missingFile()
    {
        DiffView view;
        QSignalSpy failed(view.model(), &DiffModel::failed);
        const std::string missing = m_dir.filePath(QStringLiteral("gone.tape")).toStdString();
        auto b = af::parseSideSpec(missing);
        QVERIFY(b);
        view.compare(spec(""), *b);
        QVERIFY(failed.wait(10000));
        const QString message = failed.at(0).at(0).toString();
        QVERIFY2(message.contains(QLatin1String("side B")) && message.contains(QLatin1String("gone.tape")),
                 qPrintable(message));
        QVERIFY2(view.headerText().contains(QLatin1String("Could not compare")), qPrintable(view.headerText()));
        QCOMPARE(view.model()->rowCount(), 0);
    }
};

QTEST_MAIN(TestDiffView)
#include "tst_diffview.moc"
