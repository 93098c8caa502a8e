// The app's window as a person uses it, on the offscreen platform: opening tapes (given,
// dropped, damaged, not a tape), selection moving every view, search jumping to a hit,
// playback, bookmarks, recent files and layout; and `tapedeck-gui --screenshot` as a
// process, for every view.
#include "bookmarkspanel.h"
#include "guitestutil.h"
#include "inspectorview.h"
#include "mainwindow.h"
#include "metricsview.h"
#include "searchpanel.h"
#include "steptableview.h"
#include "testutil.h"
#include "timelineview.h"

#include <QDir>
#include <QDropEvent>
#include <QImage>
#include <QLineEdit>
#include <QMimeData>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>
#include <QUrl>

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::StepIndex;

namespace {

// The share of pixels that differ from the most common colour: a blank or one-colour
// picture scores near 0.
double busyness(const QImage &image)
{
    QHash<QRgb, int> counts;
    int total = 0;
    for (int y = 0; y < image.height(); y += 4)
        for (int x = 0; x < image.width(); x += 4, ++total)
            ++counts[image.pixel(x, y)];
    int top = 0;
    for (int c : counts)
        top = std::max(top, c);
    return total ? 1.0 - double(top) / total : 0;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;
    std::string m_sample;
    testutil::SampleTape m_sampleInfo;

    bool openAndWait(MainWindow &window, const std::string &path)
    {
        QSignalSpy opened(&window, &MainWindow::tapeOpened);
        window.openTape(QString::fromStdString(path));
        return opened.wait(30000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(m_tape);
        QVERIFY2(e.empty(), e.c_str());
        m_sample = m_dir.filePath(QStringLiteral("sample.tape")).toStdString();
        auto sample = testutil::writeSampleTape(m_sample);
        QVERIFY(sample);
        m_sampleInfo = *sample;
    }

    void opensInStages()
    {
        MainWindow window;
        window.show();
        QSignalSpy summary(&window, &MainWindow::summaryShown);
        QVERIFY(openAndWait(window, m_tape));
        QCOMPARE(summary.count(), 1);
        auto index = window.state()->index();
        QVERIFY(index);
        QCOMPARE(window.stepTable()->model()->rowCount(), int(index->rowCount()));
        QVERIFY(window.bannerText().isEmpty());
        QVERIFY(window.windowTitle().contains(QStringLiteral("kernel.tape")));
        QCOMPARE(window.timeline()->laneCount(), int(index->summary().threads.size()));
        // The tape is now the first recent file.
        QCOMPARE(QSettings().value(QStringLiteral("recentFiles")).toStringList().value(0),
                 QFileInfo(QString::fromStdString(m_tape)).absoluteFilePath());
    }

    // Choosing a row in the table selects the step everywhere: the inspector shows it and
    // the state holds it; selecting through the state moves the table.
    void selectionMovesEveryView()
    {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, m_tape));
        auto index = window.state()->index();
        int64_t modelCall = -1;
        for (int64_t r = index->rowCount() / 2; r < index->rowCount() && modelCall < 0; ++r)
            if (index->row(r).kind == formats::StepKind::ModelCall)
                modelCall = r;
        QVERIFY(modelCall >= 0);
        const StepIndex step = index->row(modelCall).index;

        QSignalSpy shown(window.inspector(), &InspectorView::stepShown);
        QTableView *table = window.stepTable()->table();
        table->setCurrentIndex(window.stepTable()->model()->index(int(modelCall), 0));
        QCOMPARE(window.state()->currentStep(), step);
        QVERIFY(shown.wait(10000));
        QCOMPARE(shown.last().at(0).value<StepIndex>(), step);
        QVERIFY(!window.inspector()->currentHtml().isEmpty());

        const StepIndex other = index->row(10).index;
        window.state()->setCurrentStep(other);
        QCOMPARE(table->currentIndex().row(), 10);
        QVERIFY(shown.wait(10000));
        QCOMPARE(shown.last().at(0).value<StepIndex>(), other);

        // A filter that hides the selected step clears the table's selection, not the state's.
        StepFilter onlyModelCalls;
        onlyModelCalls.kinds.insert(formats::StepKind::ModelCall);
        window.state()->setFilter(onlyModelCalls);
        window.state()->setCurrentStep(step);
        QCOMPARE(window.stepTable()->model()->stepAt(table->currentIndex().row()), step);
    }

    void searchJumpsToAHit()
    {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, m_sample));
        QSignalSpy finished(window.search()->model(), &SearchModel::finished);
        window.search()->queryField()->setText(QString::fromStdString(m_sampleInfo.uniqueWord));
        QTest::keyClick(window.search()->queryField(), Qt::Key_Return);
        QVERIFY(finished.wait(10000));
        QCOMPARE(window.search()->model()->rowCount(), 1);
        QTableView *results = window.search()->results();
        QTest::mouseClick(results->viewport(), Qt::LeftButton, {},
                          results->visualRect(results->model()->index(0, 2)).center());
        QCOMPARE(window.state()->currentStep(), m_sampleInfo.bigToolResult);
    }

    void bookmarkFromTheWindow()
    {
        const std::string path = m_dir.filePath(QStringLiteral("window-notes.tape")).toStdString();
        QVERIFY(testutil::writeFile(path, testutil::readFile(m_sample)));
        {
            MainWindow window;
            window.show();
            QVERIFY(openAndWait(window, path));
            QSignalSpy loaded(window.bookmarks(), &BookmarkModel::loaded);
            if (window.bookmarks()->rowCount() == 0)
                loaded.wait(2000);
            QSignalSpy saved(window.bookmarks(), &BookmarkModel::saved);
            window.state()->setCurrentStep(m_sampleInfo.errorStep);
            window.bookmarksPanel()->noteField()->setText(QStringLiteral("why did this fail?"));
            QTest::keyClick(window.bookmarksPanel()->noteField(), Qt::Key_Return);
            QVERIFY(saved.wait(10000));
            window.bookmarksPanel()->toggleBookmark();
            QVERIFY(saved.wait(10000));
        }
        auto reader = formats::TapeReader::open(path);
        auto notes = (*reader)->notes();
        QVERIFY(notes && notes->size() == 1);
        QCOMPARE(notes->front().step, m_sampleInfo.errorStep);
        QCOMPARE(notes->front().text, std::string("why did this fail?"));
        QVERIFY(notes->front().bookmarked);
    }

    void playbackMovesTheSelection()
    {
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, m_tape));
        QSignalSpy shown(window.inspector(), &InspectorView::stepShown);
        window.playback()->setSpeed(10000);
        window.playback()->play();
        QTRY_VERIFY_WITH_TIMEOUT(window.state()->currentRow() > 5, 10000);
        window.playback()->pause();
        const int tableRow = window.stepTable()->table()->currentIndex().row();
        QCOMPARE(window.stepTable()->model()->stepAt(tableRow), window.state()->currentStep());
        QVERIFY(shown.count() > 0 || shown.wait(10000));
    }

    // A damaged tape opens up to its last good step, and a banner says so.
    void damagedTapeOpensWithABanner()
    {
        const std::string path = m_dir.filePath(QStringLiteral("damaged.tape")).toStdString();
        QVERIFY(testutil::writeFile(path, testutil::readFile(m_tape)));
        QCOMPARE(testutil::sqlExec(path, "DELETE FROM steps WHERE id > 2000"), std::string());
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, path));
        QCOMPARE(window.state()->index()->rowCount(), int64_t(2000));
        QVERIFY2(window.bannerText().contains(QStringLiteral("damaged")), qPrintable(window.bannerText()));
        QVERIFY2(window.bannerText().contains(QStringLiteral("2000")), qPrintable(window.bannerText()));
    }

    void notATapeShowsTheError()
    {
        const std::string path = m_dir.filePath(QStringLiteral("notes.txt")).toStdString();
        QVERIFY(testutil::writeFile(path, "just some text\n"));
        MainWindow window;
        window.show();
        QSignalSpy failed(&window, &MainWindow::openFailed);
        window.openTape(QString::fromStdString(path));
        QVERIFY(failed.wait(10000));
        QVERIFY2(window.bannerText().contains(QStringLiteral("not a tape")), qPrintable(window.bannerText()));
        QVERIFY(!window.state()->index());
    }

    // A trajectory another agent wrote opens by being imported in the background into a
    // tape in the cache folder, which the next opening of the same file finds again.
    void aTrajectoryOpensByImport()
    {
        const QString cache =
            QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath(QStringLiteral("imported"));
        QDir(cache).removeRecursively();
        const std::string trajectory = TAPEDECK_REAL_DATA "/mini-swe-agent/django__django-13265.deepseek-chat.traj.json";
        MainWindow window;
        window.show();
        QVERIFY(openAndWait(window, trajectory));
        QVERIFY(window.state()->index());
        QCOMPARE(window.state()->index()->summary().stepCount, int64_t(468));
        QCOMPARE(window.state()->index()->summary().stepsByKind[int(formats::StepKind::ModelCall)], int64_t(156));
        QVERIFY(window.bannerText().isEmpty());
        const QStringList tapes = QDir(cache).entryList({QStringLiteral("*.tape")}, QDir::Files);
        QCOMPARE(tapes.size(), 1);
        const QDateTime written = QFileInfo(QDir(cache).filePath(tapes.front())).lastModified();
        QVERIFY(openAndWait(window, trajectory));
        QCOMPARE(QFileInfo(QDir(cache).filePath(tapes.front())).lastModified(), written);
        QCOMPARE(window.state()->index()->summary().stepCount, int64_t(468));
    }

    void dropOpensTheTape()
    {
        MainWindow window;
        window.show();
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(m_sample))});
        QSignalSpy opened(&window, &MainWindow::tapeOpened);
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QVERIFY(opened.wait(10000));
        QCOMPARE(window.tapePath(), QFileInfo(QString::fromStdString(m_sample)).absoluteFilePath());
    }

    void layoutIsRemembered()
    {
        {
            MainWindow window;
            window.show();
            window.resize(1234, 876);
            window.showView(QStringLiteral("bookmarks"));
            window.close();
        }
        MainWindow again;
        QCOMPARE(again.size(), QSize(1234, 876));
    }

    void showViewNames()
    {
        MainWindow window;
        // Every view but the diff, which needs a tape with a fork to compare.
        for (const QString &name : MainWindow::viewNames())
            QVERIFY2(window.showView(name) == (name != QLatin1String("diff")), qPrintable(name));
        QVERIFY(!window.showView(QStringLiteral("nonsense")));
    }

    // tapedeck-gui --screenshot, as a process, for every view: a picture of the right size
    // with something in it.
    void screenshots_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("overview") << QStringList{};
        QTest::newRow("conversation") << QStringList{"--select", "500", "--view", "conversation"};
        QTest::newRow("wire") << QStringList{"--select", "500", "--view", "wire"};
        QTest::newRow("metrics") << QStringList{"--view", "metrics"};
        QTest::newRow("search") << QStringList{"--view", "search", "--search", "benchmark"};
        QTest::newRow("navigator") << QStringList{"--view", "navigator", "--size", "1300x850"};
        QTest::newRow("findings") << QStringList{"--view", "findings"};
    }

    void screenshots()
    {
        QFETCH(QStringList, args);
        const QString out = m_dir.filePath(QStringLiteral("shot-%1.png").arg(QTest::currentDataTag()));
        QProcess gui;
        gui.start(QStringLiteral(TAPEDECK_GUI_BINARY),
                  QStringList{"--screenshot", out} + args + QStringList{QString::fromStdString(m_tape)});
        QVERIFY(gui.waitForFinished(120000));
        const QString err = QString::fromUtf8(gui.readAllStandardError());
        QVERIFY2(gui.exitCode() == 0, qPrintable(err));
        QVERIFY2(QString::fromUtf8(gui.readAllStandardOutput()).contains(out), qPrintable(err));
        QImage image(out);
        QVERIFY(!image.isNull());
        const QSize expected = args.contains(QStringLiteral("--size")) ? QSize(1300, 850) : QSize(1500, 950);
        QCOMPARE(image.size(), expected);
        QVERIFY2(busyness(image) > 0.1, qPrintable(QStringLiteral("%1 looks blank").arg(out)));
    }

    void screenshotErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no such step") << QStringList{"--select", "999999"} << 2 << "no step 999999";
        QTest::newRow("bad step") << QStringList{"--select", "x"} << 2 << "expected a step number";
        QTest::newRow("unknown view") << QStringList{"--view", "nope"} << 2 << "expected one of";
        QTest::newRow("bad size") << QStringList{"--size", "big"} << 2 << "WIDTHxHEIGHT";
    }

    void screenshotErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QProcess gui;
        gui.start(QStringLiteral(TAPEDECK_GUI_BINARY), QStringList{"--screenshot", m_dir.filePath("x.png")} + args +
                                                           QStringList{QString::fromStdString(m_sample)});
        QVERIFY(gui.waitForFinished(60000));
        const QString err = QString::fromUtf8(gui.readAllStandardError());
        QCOMPARE(gui.exitCode(), exitCode);
        QVERIFY2(err.contains(message), qPrintable(err));
    }

    // --view diff: the diff window, the sample's fork against the branch it came from; a
    // tape without a fork says it has nothing to compare.
    void screenshotOfTheDiff()
    {
        const QString out = m_dir.filePath(QStringLiteral("shot-diff.png"));
        QProcess gui;
        gui.start(QStringLiteral(TAPEDECK_GUI_BINARY),
                  {"--screenshot", out, "--view", "diff", QString::fromStdString(m_sample)});
        QVERIFY(gui.waitForFinished(120000));
        QVERIFY2(gui.exitCode() == 0, gui.readAllStandardError().constData());
        QImage image(out);
        QVERIFY(!image.isNull());
        QVERIFY2(busyness(image) > 0.1, qPrintable(QStringLiteral("%1 looks blank").arg(out)));

        QProcess none;
        none.start(QStringLiteral(TAPEDECK_GUI_BINARY),
                   {"--screenshot", m_dir.filePath("none.png"), "--view", "diff", QString::fromStdString(m_tape)});
        QVERIFY(none.waitForFinished(120000));
        QCOMPARE(none.exitCode(), 2);
        QVERIFY(QString::fromUtf8(none.readAllStandardError()).contains(QLatin1String("no fork")));
    }

    void screenshotOfAMissingOrBadFile()
    {
        for (const QString &file : {m_dir.filePath("missing.tape"), QString::fromStdString(m_dir.filePath("notes.txt").toStdString())}) {
            testutil::writeFile(m_dir.filePath("notes.txt").toStdString(), "text");
            QProcess gui;
            gui.start(QStringLiteral(TAPEDECK_GUI_BINARY), {"--screenshot", m_dir.filePath("y.png"), file});
            QVERIFY(gui.waitForFinished(60000));
            QCOMPARE(gui.exitCode(), 3);
            QVERIFY(QString::fromUtf8(gui.readAllStandardError()).contains(file));
        }
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
