// tapedeck-gui: the desktop app.
//   tapedeck-gui [FILE]
//   tapedeck-gui --screenshot OUT.png [--select STEP] [--view NAME] [--search TEXT] FILE
// (--view diff: the diff window, the tape's newest fork against its parent)
// The screenshot mode renders the window offscreen once the tape, the selected step and
// the named view are ready, saves it and exits: for the README and for tests.
#include "diffview.h"
#include "findingspanel.h"
#include "inspectorview.h"
#include "mainwindow.h"
#include "metricsview.h"
#include "searchpanel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QImage>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstdlib>

using namespace tapedeck::gui;

namespace {

// Exit codes, as the `tapedeck` command documents them (README, "Exit codes").
constexpr int kExitNotReady = 1;
constexpr int kExitUsage = 2;
constexpr int kExitOpen = 3;
constexpr int kExitScreenshot = 5;

void fail(const QString &message)
{
    std::fprintf(stderr, "tapedeck-gui: %s\n", qPrintable(message));
}

// What the screenshot waits for before it grabs the window: each piece of work that the
// options started, counted down as its signal arrives.
class ScreenshotTaker : public QObject {
public:
    ScreenshotTaker(MainWindow *window, QString out, qint64 select, QString view, QString search)
        : m_window(window), m_out(std::move(out)), m_select(select), m_view(std::move(view)),
          m_search(std::move(search))
    {
        connect(window, &MainWindow::tapeOpened, this, &ScreenshotTaker::opened);
        connect(window, &MainWindow::openFailed, this, [](const QString &, const QString &message) {
            fail(message);
            QCoreApplication::exit(kExitOpen);
        });
        // A tape that never finishes loading, or a view that never says it is ready, must
        // not hang a test or a script.
        QTimer::singleShot(120'000, this, [] {
            fail(QStringLiteral("timed out waiting for the window to be ready"));
            QCoreApplication::exit(kExitNotReady);
        });
    }

private:
    void opened()
    {
        auto index = m_window->state()->index();
        if (m_select > 0 && index->rowOf(tapedeck::formats::StepIndex{m_select}) < 0) {
            fail(QStringLiteral("--select %1: the tape has no step %1 (it has %2)")
                     .arg(m_select)
                     .arg(index->rowCount()));
            QCoreApplication::exit(kExitUsage);
            return;
        }
        if (!m_search.isEmpty()) {
            ++m_pending;
            connect(m_window->search()->model(), &SearchModel::finished, this, &ScreenshotTaker::oneReady,
                    Qt::SingleShotConnection);
            m_window->search()->search(m_search);
        }
        if (m_view == QLatin1String("metrics")) {
            ++m_pending;
            connect(m_window->metrics(), &MetricsView::regexSeriesReady, this, &ScreenshotTaker::oneReady,
                    Qt::SingleShotConnection);
        }
        if (m_view == QLatin1String("findings")) {
            ++m_pending;
            connect(m_window->findings()->model(), &FindingsModel::analyzed, this, &ScreenshotTaker::oneReady,
                    Qt::SingleShotConnection);
        }
        if (m_view == QLatin1String("diff")) {
            ++m_pending;
            connect(m_window->diffView()->model(), &DiffModel::pairLoaded, this, &ScreenshotTaker::oneReady,
                    Qt::SingleShotConnection);
            connect(m_window->diffView()->model(), &DiffModel::failed, this, [](const QString &message) {
                fail(message);
                QCoreApplication::exit(kExitOpen);
            });
        }
        if (!m_view.isEmpty() && !m_window->showView(m_view)) {
            fail(QStringLiteral("--view %1: %2 has nothing to show there (it has no fork to compare)")
                     .arg(m_view, m_window->tapePath()));
            QCoreApplication::exit(kExitUsage);
            return;
        }
        // Selected once the view is shown: the inspector reads what its visible tab needs
        // (the exact request body only for the wire tab).
        if (m_select > 0) {
            ++m_pending;
            connect(m_window->inspector(), &InspectorView::stepShown, this, &ScreenshotTaker::oneReady,
                    Qt::SingleShotConnection);
            m_window->state()->setCurrentStep(tapedeck::formats::StepIndex{m_select});
        }
        if (m_pending == 0)
            grabSoon();
    }

    void oneReady()
    {
        if (--m_pending == 0)
            grabSoon();
    }

    // One more turn of the event loop lets the views lay out and paint what just arrived.
    void grabSoon()
    {
        QTimer::singleShot(200, this, [this] {
            // The diff is a window of its own: the picture is of it.
            QWidget *shown = m_view == QLatin1String("diff") ? static_cast<QWidget *>(m_window->diffView()) : m_window;
            const QImage image = shown->grab().toImage();
            if (image.isNull() || !image.save(m_out)) {
                fail(QStringLiteral("could not write the screenshot to %1").arg(m_out));
                QCoreApplication::exit(kExitScreenshot);
                return;
            }
            std::printf("%s: %dx%d screenshot of %s\n", qPrintable(m_out), image.width(), image.height(),
                        qPrintable(m_window->tapePath()));
            QCoreApplication::exit(0);
        });
    }

    MainWindow *m_window;
    QString m_out;
    qint64 m_select;
    QString m_view;
    QString m_search;
    int m_pending = 0;
};

bool wantsScreenshot(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--screenshot" || arg.startsWith("--screenshot="))
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    // A screenshot needs no display: render offscreen unless the caller chose a platform.
    if (wantsScreenshot(argc, argv) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("tapedeck"));
    QApplication::setOrganizationName(QStringLiteral("tapedeck"));
    QApplication::setApplicationVersion(QStringLiteral(TAPEDECK_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Tapedeck's desktop app: look inside a recorded agent run (a .tape file): timeline, steps, "
        "the conversation as the model saw it, metrics, search, playback, bookmarks."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The tape to open."));
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Render the window offscreen to OUT.png once ready, then exit."),
                                  QStringLiteral("OUT.png"));
    QCommandLineOption select(QStringLiteral("select"), QStringLiteral("Select step STEP."), QStringLiteral("STEP"));
    QCommandLineOption view(QStringLiteral("view"),
                            QStringLiteral("Bring a view to the front: %1.")
                                .arg(MainWindow::viewNames().join(QStringLiteral(", "))),
                            QStringLiteral("NAME"));
    QCommandLineOption search(QStringLiteral("search"), QStringLiteral("Run a full-text search for TEXT."),
                              QStringLiteral("TEXT"));
    QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size, default 1500x950."),
                            QStringLiteral("WxH"));
    parser.addOptions({screenshot, select, view, search, size});
    parser.process(app);

    const QStringList files = parser.positionalArguments();
    if (files.size() > 1) {
        fail(QStringLiteral("one tape at a time: got %1 files").arg(files.size()));
        return kExitUsage;
    }
    qint64 selected = 0;
    if (parser.isSet(select)) {
        bool ok = false;
        selected = parser.value(select).toLongLong(&ok);
        if (!ok || selected < 1) {
            fail(QStringLiteral("--select %1: expected a step number (1 or more)").arg(parser.value(select)));
            return kExitUsage;
        }
    }
    const QString viewName = parser.value(view);
    if (!viewName.isEmpty() && !MainWindow::viewNames().contains(viewName)) {
        fail(QStringLiteral("--view %1: expected one of %2")
                 .arg(viewName, MainWindow::viewNames().join(QStringLiteral(", "))));
        return kExitUsage;
    }
    QSize windowSize(1500, 950);
    if (parser.isSet(size)) {
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        bool okW = false, okH = false;
        if (wh.size() == 2)
            windowSize = QSize(wh[0].toInt(&okW), wh[1].toInt(&okH));
        if (!okW || !okH || windowSize.width() < 200 || windowSize.height() < 200) {
            fail(QStringLiteral("--size %1: expected WIDTHxHEIGHT, e.g. 1500x950").arg(parser.value(size)));
            return kExitUsage;
        }
    }
    if (parser.isSet(screenshot) && files.isEmpty()) {
        fail(QStringLiteral("--screenshot needs a tape to open"));
        return kExitUsage;
    }
    if (!files.isEmpty() && !QFileInfo::exists(files.first())) {
        fail(QStringLiteral("%1: no such file").arg(files.first()));
        return kExitOpen;
    }

    // The same layout on every machine: a screenshot reads no saved settings and leaves none.
    QTemporaryDir screenshotSettings;
    if (parser.isSet(screenshot))
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, screenshotSettings.path());

    MainWindow window;
    std::unique_ptr<ScreenshotTaker> taker;
    if (parser.isSet(screenshot)) {
        window.resize(windowSize);
        taker = std::make_unique<ScreenshotTaker>(&window, parser.value(screenshot), selected, viewName,
                                                  parser.value(search));
    } else if (parser.isSet(size)) {
        window.resize(windowSize);
    }
    window.show();
    if (!files.isEmpty()) {
        window.openTape(files.first());
        if (!taker && (selected || !viewName.isEmpty() || parser.isSet(search))) {
            QObject::connect(&window, &MainWindow::tapeOpened, &window, [&] {
                if (selected)
                    window.state()->setCurrentStep(tapedeck::formats::StepIndex{selected});
                if (!viewName.isEmpty())
                    window.showView(viewName);
                if (parser.isSet(search))
                    window.search()->search(parser.value(search));
            });
        }
    }
    return app.exec();
}
