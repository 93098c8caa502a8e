#include "mainwindow.h"

#include "bookmarkspanel.h"
#include "diffview.h"
#include "displayformat.h"
#include "findingspanel.h"
#include "forkdialog.h"
#include "inspectorview.h"
#include "metricsview.h"
#include "navigatorview.h"
#include "playbackbar.h"
#include "searchpanel.h"
#include "steptableview.h"
#include "timelineview.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QVBoxLayout>

namespace tapedeck::gui {

namespace {

constexpr int kMaxRecent = 10;
const char *const kRecentKey = "recentFiles";
const char *const kGeometryKey = "window/geometry";
const char *const kStateKey = "window/state";
// Bumped when the docks change, so an old saved layout is not applied to new docks.
constexpr int kLayoutVersion = 2;

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_state(new ViewState(this)), m_loader(new TapeLoader(this)),
      m_playback(new PlaybackController(m_state, this)), m_bookmarks(new BookmarkModel(m_state, this)),
      m_banner(new QLabel(this)), m_summary(new QLabel(this)), m_progress(new QProgressBar(this))
{
    setWindowTitle(tr("Tapedeck"));
    setAcceptDrops(true);
    resize(1500, 950);

    m_timeline = new TimelineView(m_state, this);
    m_table = new StepTableView(m_state, this);
    m_inspector = new InspectorView(m_state, this);
    m_metrics = new MetricsView(m_state, this);
    m_search = new SearchPanel(m_state, this);
    m_navigator = new NavigatorView(m_state, this);
    m_bookmarksPanel = new BookmarksPanel(m_state, m_bookmarks, this);
    m_findings = new FindingsPanel(m_state, this);
    m_diff = new DiffView(this);
    m_diff->setWindowFlag(Qt::Window);
    m_diff->resize(1200, 760);
    m_playbackBar = new PlaybackBar(m_state, m_playback, this);
    addToolBar(Qt::TopToolBarArea, m_playbackBar);

    m_banner->setWordWrap(true);
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_banner->setContentsMargins(10, 6, 10, 6);
    m_banner->hide();

    auto *lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(m_table);
    lower->addWidget(m_inspector);
    lower->setStretchFactor(0, 1);
    lower->setStretchFactor(1, 1);
    lower->setSizes({560, 480});
    auto *upper = new QSplitter(Qt::Vertical, this);
    upper->addWidget(m_timeline);
    upper->addWidget(lower);
    upper->setStretchFactor(0, 1);
    upper->setStretchFactor(1, 3);
    upper->setSizes({240, 620});
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_banner);
    layout->addWidget(upper, 1);
    setCentralWidget(central);

    m_navigatorDock = addDock(tr("Runs"), QStringLiteral("navigator"), m_navigator, Qt::LeftDockWidgetArea);
    m_searchDock = addDock(tr("Search"), QStringLiteral("search"), m_search, Qt::LeftDockWidgetArea);
    m_bookmarksDock = addDock(tr("Bookmarks"), QStringLiteral("bookmarks"), m_bookmarksPanel, Qt::LeftDockWidgetArea);
    tabifyDockWidget(m_navigatorDock, m_searchDock);
    tabifyDockWidget(m_searchDock, m_bookmarksDock);
    m_navigatorDock->raise();
    m_metricsDock = addDock(tr("Metrics"), QStringLiteral("metrics"), m_metrics, Qt::RightDockWidgetArea);
    m_findingsDock = addDock(tr("Findings"), QStringLiteral("findings"), m_findings, Qt::RightDockWidgetArea);
    tabifyDockWidget(m_metricsDock, m_findingsDock);
    m_metricsDock->raise();
    resizeDocks({m_navigatorDock, m_metricsDock}, {250, 360}, Qt::Horizontal);

    // The summary may be long; it gives way rather than widen the window.
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_progress->setMaximumWidth(220);
    m_progress->hide();
    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(m_progress);

    buildMenus();
    m_defaultState = saveState(kLayoutVersion);
    restoreLayout();

    connect(m_loader, &TapeLoader::summaryAvailable, this, &MainWindow::showSummary);
    connect(m_loader, &TapeLoader::progress, this, [this](qint64 done, qint64 total) {
        m_progress->setRange(0, 1000);
        m_progress->setValue(total > 0 ? int(done * 1000 / total) : 0);
        m_progress->setFormat(tr("steps %1 of %2").arg(formatCount(done), formatCount(total)));
    });
    connect(m_loader, &TapeLoader::indexAvailable, this, &MainWindow::showIndex);
    connect(m_loader, &TapeLoader::loadFailed, this, &MainWindow::showFailure);
    connect(m_loader, &TapeLoader::importProgress, this,
            [this](const QString &format, qint64 done, qint64 total) {
                m_summary->setText(tr("Importing %1 (%2)…").arg(QFileInfo(m_path).fileName(), format));
                m_progress->setRange(0, 1000);
                m_progress->setValue(total > 0 ? int(done * 1000 / total) : 0);
                m_progress->setFormat(tr("importing %p%"));
            });
    connect(m_navigator, &NavigatorView::compareRequested, this, [this](int32_t run, int32_t parent, int32_t branch) {
        compare(QStringLiteral("%1#run:%2,branch:%3").arg(m_path).arg(run).arg(parent),
                QStringLiteral("%1#run:%2,branch:%3").arg(m_path).arg(run).arg(branch));
    });
    // "Fork from here…" on a step of the table, too.
    auto *forkHere = new QAction(tr("Fork from Here…"), this);
    connect(forkHere, &QAction::triggered, this, &MainWindow::forkFromCurrentStep);
    m_table->table()->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->table()->addAction(forkHere);
    connect(&m_watcher, &TapeWatcher::changed, this, &MainWindow::reloadTape);
    // A step of this tape picked in the diff selects it here.
    connect(m_diff, &DiffView::stepActivated, this, [this](int side, formats::StepIndex step) {
        const analysis::SideSpec &spec = side == 0 ? m_diff->model()->specA() : m_diff->model()->specB();
        if (QFileInfo(QString::fromStdString(spec.path)).absoluteFilePath() == m_path) {
            m_state->setCurrentStep(step);
            activateWindow();
        }
    });
    // The timeline marks what the findings panel lists, narrowed to the same kind.
    connect(m_findings->model(), &QAbstractItemModel::modelReset, this, &MainWindow::showFindingsOnTimeline);
    connect(m_bookmarks, &BookmarkModel::failed, this,
            [this](const QString &message) { statusBar()->showMessage(tr("Bookmarks: %1").arg(message), 10000); });
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addDock(const QString &title, const QString &name, QWidget *widget, Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(widget);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseFile);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    fillRecentMenu();
    file->addSeparator();
    file->addAction(tr("&Compare With…"), QKeySequence(Qt::CTRL | Qt::Key_D), this, &MainWindow::chooseComparison);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *go = menuBar()->addMenu(tr("&Go"));
    go->addAction(tr("&Jump to Step…"), QKeySequence(Qt::CTRL | Qt::Key_G), this, &MainWindow::jumpToStep);
    go->addAction(tr("&Next Error"), QKeySequence(Qt::Key_F8), this, [this] { jumpToError(+1); });
    go->addAction(tr("&Previous Error"), QKeySequence(Qt::SHIFT | Qt::Key_F8), this, [this] { jumpToError(-1); });
    go->addSeparator();
    go->addAction(tr("&Search…"), QKeySequence::Find, this, [this] {
        m_searchDock->show();
        m_searchDock->raise();
        m_search->queryField()->setFocus();
        m_search->queryField()->selectAll();
    });
    go->addAction(tr("&Fork from Selected Step…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F), this,
                  &MainWindow::forkFromCurrentStep);
    go->addAction(tr("&Bookmark Step"), QKeySequence(Qt::CTRL | Qt::Key_B), m_bookmarksPanel,
                  &BookmarksPanel::toggleBookmark);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *dock : {m_navigatorDock, m_searchDock, m_bookmarksDock, m_metricsDock, m_findingsDock})
        view->addAction(dock->toggleViewAction());
    view->addAction(m_playbackBar->toggleViewAction());
    view->addSeparator();
    view->addAction(tr("&Fit Timeline to Run"), QKeySequence(Qt::CTRL | Qt::Key_0), this, [this] {
        if (auto index = m_state->index())
            m_state->setVisibleRange(index->firstUs(), index->lastUs());
    });
    view->addAction(tr("&Reset Layout"), this, [this] { restoreState(m_defaultState, kLayoutVersion); });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Tapedeck"), this, [this] {
        QMessageBox::about(this, tr("About Tapedeck"),
                           tr("<b>Tapedeck %1</b><p>A flight recorder and time-travel debugger for LLM "
                              "agents.</p>")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::restoreLayout()
{
    QSettings settings;
    restoreGeometry(settings.value(kGeometryKey).toByteArray());
    restoreState(settings.value(kStateKey).toByteArray(), kLayoutVersion);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState(kLayoutVersion));
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        openTape(urls.first().toLocalFile());
        event->acceptProposedAction();
    }
}

void MainWindow::chooseFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Tape"), QFileInfo(m_path).absolutePath(),
                                                      tr("Tapes (*.tape);;Trajectories (*.jsonl *.json *.traj *.eval);;All files (*)"));
    if (!path.isEmpty())
        openTape(path);
}

void MainWindow::openTape(const QString &path)
{
    m_path = QFileInfo(path).absoluteFilePath();
    setWindowTitle(tr("%1 — Tapedeck").arg(QFileInfo(path).fileName()));
    setBanner(QString(), false);
    m_summary->setText(tr("Opening %1…").arg(path));
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("opening"));
    m_progress->show();
    m_state->setIndex(nullptr);
    m_loader->open(m_path);
}

void MainWindow::showSummary(const std::shared_ptr<const TapeIndex> &summary)
{
    const formats::TapeSummary &s = summary->summary();
    QStringList parts;
    parts << tr("%n run(s)", nullptr, int(s.runs.size())) << tr("%1 steps").arg(formatCount(s.stepCount));
    if (s.lastUs > s.firstUs)
        parts << formatDuration(s.lastUs - s.firstUs);
    parts << tr("%1 tokens in, %2 out").arg(formatCount(s.usage.inputTokens + s.usage.cacheReadTokens),
                                            formatCount(s.usage.outputTokens));
    if (s.costUsd)
        parts << formatCost(*s.costUsd);
    if (s.errorSteps)
        parts << tr("%1 errors").arg(formatCount(s.errorSteps));
    m_summary->setText(parts.join(QStringLiteral(" · ")));
    Q_EMIT summaryShown(m_path);
}

void MainWindow::showIndex(const std::shared_ptr<const TapeIndex> &index)
{
    m_progress->hide();
    m_state->setIndex(index);
    if (index->damage()) {
        const QString last = index->rowCount() ? QString::number(index->rows().back().index.value) : tr("none");
        setBanner(tr("This tape is damaged: it is shown up to its last good step (%1 of %2 steps read, last "
                     "step %3). %4")
                      .arg(index->rowCount())
                      .arg(index->summary().stepCount)
                      .arg(last, QString::fromStdString(*index->damage())),
                  false);
    }
    rememberRecent(m_path);
    Q_EMIT tapeOpened(m_path);
}

void MainWindow::showFailure(const QString &message)
{
    m_progress->hide();
    m_summary->setText(tr("Not opened."));
    setBanner(tr("Could not open the tape: %1").arg(message), true);
    Q_EMIT openFailed(m_path, message);
}

void MainWindow::setBanner(const QString &text, bool error)
{
    m_banner->setText(text);
    m_banner->setVisible(!text.isEmpty());
    m_banner->setStyleSheet(error ? QStringLiteral("background:#fde2e2; color:#7f1d1d; border-bottom:1px solid #f5a3a3;")
                                  : QStringLiteral("background:#fef3c7; color:#78350f; border-bottom:1px solid #f3cf73;"));
}

QString MainWindow::bannerText() const
{
    return m_banner->isHidden() ? QString() : m_banner->text();
}

void MainWindow::rememberRecent(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(kRecentKey).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(kRecentKey, recent);
    fillRecentMenu();
}

void MainWindow::fillRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(kRecentKey).toStringList();
    for (const QString &path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openTape(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::jumpToStep()
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0)
        return;
    bool ok = false;
    const int step = QInputDialog::getInt(this, tr("Jump to Step"), tr("Step:"),
                                          int(std::max<int64_t>(m_state->currentStep().value, 1)), 1,
                                          int(index->rows().back().index.value), 1, &ok);
    if (ok && index->rowOf(formats::StepIndex{step}) >= 0)
        m_state->setCurrentStep(formats::StepIndex{step});
}

void MainWindow::jumpToError(int direction)
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0)
        return;
    const int64_t n = index->rowCount();
    int64_t r = m_state->currentRow();
    for (int64_t k = 0; k < n; ++k) {
        r = r < 0 ? (direction > 0 ? 0 : n - 1) : (r + direction + n) % n;
        const StepRow &row = index->row(r);
        if (row.isError() || row.kind == formats::StepKind::Error) {
            m_state->setCurrentStep(row.index);
            return;
        }
    }
    statusBar()->showMessage(tr("No failed step in this tape."), 5000);
}

bool MainWindow::compare(const QString &a, const QString &b)
{
    auto specA = analysis::parseSideSpec(a.toStdString());
    auto specB = analysis::parseSideSpec(b.toStdString());
    if (!specA || !specB) {
        statusBar()->showMessage(QString::fromStdString((!specA ? specA.error() : specB.error()).message), 10000);
        return false;
    }
    m_diff->compare(*specA, *specB);
    m_diff->show();
    m_diff->raise();
    return true;
}

bool MainWindow::compareLatestFork()
{
    auto index = m_state->index();
    if (!index)
        return false;
    const auto &branches = index->summary().branches;
    for (auto b = branches.rbegin(); b != branches.rend(); ++b)
        if (b->parent)
            return compare(QStringLiteral("%1#run:%2,branch:%3").arg(m_path).arg(b->run.value).arg(b->parent->value),
                           QStringLiteral("%1#run:%2,branch:%3").arg(m_path).arg(b->run.value).arg(b->id.value));
    return false;
}

void MainWindow::chooseComparison()
{
    if (m_path.isEmpty())
        return;
    // What is in view is side A: the branch (or run) the navigator picked, else the tape.
    const StepFilter &filter = m_state->filter();
    QString mine = m_path;
    if (auto index = m_state->index(); index && filter.branch)
        if (const formats::BranchInfo *branch = index->branch(filter.branch))
            mine += QStringLiteral("#run:%1,branch:%2").arg(branch->run.value).arg(branch->id.value);
    bool ok = false;
    QString other = QInputDialog::getText(
        this, tr("Compare With"),
        tr("Compare %1 with (another tape FILE, FILE#N for its branch N, or #N for branch N of this tape):")
            .arg(QFileInfo(mine).fileName()),
        QLineEdit::Normal, QString(), &ok);
    other = other.trimmed();
    if (!ok || other.isEmpty())
        return;
    if (other.startsWith(QLatin1Char('#')))
        other.prepend(m_path);
    compare(mine, other);
}

void MainWindow::forkFromCurrentStep()
{
    const formats::StepIndex step = m_state->currentStep();
    if (m_path.isEmpty() || !step.value) {
        statusBar()->showMessage(tr("Select the step to fork from first."), 5000);
        return;
    }
    using Outcome = formats::Result<formats::Step>;
    const std::string path = m_path.toStdString();
    m_jobs.start<Outcome>(
        QStringLiteral("fork-step"),
        [path, step]() -> Outcome {
            auto reader = formats::TapeReader::open(path);
            if (!reader)
                return reader.error();
            return (*reader)->step(step, formats::TapeReader::Detail::WithoutMessages);
        },
        [this](Outcome outcome) {
            if (!outcome) {
                statusBar()->showMessage(tr("Cannot fork: %1").arg(QString::fromStdString(outcome.error().message)), 10000);
                return;
            }
            openForkDialog(*outcome);
        });
}

void MainWindow::openForkDialog(const formats::Step &step)
{
    // What the step holds now, offered for editing: a tool's output, the model's answer.
    QString recorded;
    if (step.kind == formats::StepKind::ToolResult && step.payload.is_object()) {
        const nlohmann::json output = step.payload.value("output", nlohmann::json());
        recorded = QString::fromStdString(output.is_string() ? output.get<std::string>() : output.dump(2));
    } else if (step.kind == formats::StepKind::ModelCall && step.payload.is_object()) {
        recorded = QString::fromStdString(step.payload.value("text", std::string()));
    }
    QStringList command;
    if (auto index = m_state->index())
        if (const int64_t row = index->rowOf(step.index); row >= 0)
            if (const formats::RunInfo *run = index->run(index->row(row).run))
                for (const std::string &word : run->command)
                    command << QString::fromStdString(word);
    const int32_t branch = m_state->index() && m_state->currentRow() >= 0 ? m_state->index()->row(m_state->currentRow()).branch : 0;
    auto *dialog = new ForkDialog(m_path, step.index, branch, step.kind, recorded, command, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ForkDialog::forkStarted, this, [this] { m_watcher.watch(m_path, 1000); });
    connect(dialog, &ForkDialog::forkFinished, this, [this](bool ok, const QString &message) {
        m_watcher.stop();
        reloadTape();
        statusBar()->showMessage(ok ? tr("Fork: %1").arg(message) : tr("Fork failed: %1").arg(message), 10000);
    });
    dialog->show();
}

void MainWindow::reloadTape()
{
    if (m_path.isEmpty())
        return;
    m_reselect = m_state->currentStep();
    m_refilter = m_state->filter();
    connect(this, &MainWindow::tapeOpened, this, [this] {
        m_state->setFilter(m_refilter);
        if (m_reselect.value)
            m_state->setCurrentStep(m_reselect);
    }, Qt::SingleShotConnection);
    // The views keep the old index until the new one is read: no blank between reloads.
    m_loader->open(m_path);
}

void MainWindow::showFindingsOnTimeline()
{
    const FindingsModel *model = m_findings->model();
    std::vector<TimelineFinding> marks;
    marks.reserve(size_t(model->rowCount()));
    for (int r = 0; r < model->rowCount(); ++r) {
        const analysis::Finding *f = model->findingAt(r);
        if (f->steps.empty())
            continue;
        marks.push_back({f->startUs, f->endUs, FindingsModel::kindColor(f->kind),
                         FindingsModel::kindLabel(f->kind) + QStringLiteral(": ") + QString::fromStdString(f->title),
                         f->steps.front()});
    }
    m_timeline->setFindings(std::move(marks));
}

QStringList MainWindow::viewNames()
{
    return {QStringLiteral("timeline"),     QStringLiteral("table"),    QStringLiteral("navigator"),
            QStringLiteral("branches"),     QStringLiteral("search"),   QStringLiteral("bookmarks"),
            QStringLiteral("metrics"),      QStringLiteral("findings"), QStringLiteral("diff"),
            QStringLiteral("inspector"),    QStringLiteral("conversation"), QStringLiteral("new"),
            QStringLiteral("response"),     QStringLiteral("usage"),    QStringLiteral("wire")};
}

bool MainWindow::showView(const QString &name)
{
    auto raise = [](QDockWidget *dock) {
        dock->show();
        dock->raise();
    };
    if (name == QLatin1String("navigator"))
        raise(m_navigatorDock);
    else if (name == QLatin1String("branches")) {
        // The tree at a width that shows each fork's point, edit and outcome.
        raise(m_navigatorDock);
        resizeDocks({m_navigatorDock}, {std::max(width() / 3, 420)}, Qt::Horizontal);
    }
    else if (name == QLatin1String("findings"))
        raise(m_findingsDock);
    else if (name == QLatin1String("diff"))
        return m_diff->isVisible() || compareLatestFork();
    else if (name == QLatin1String("search"))
        raise(m_searchDock);
    else if (name == QLatin1String("bookmarks"))
        raise(m_bookmarksDock);
    else if (name == QLatin1String("metrics"))
        raise(m_metricsDock);
    else if (name == QLatin1String("timeline"))
        m_timeline->setFocus();
    else if (name == QLatin1String("table"))
        m_table->table()->setFocus();
    else if (name == QLatin1String("inspector"))
        m_inspector->showTab(QStringLiteral("conversation"));
    else if (viewNames().contains(name))
        m_inspector->showTab(name);
    else
        return false;
    return true;
}

} // namespace tapedeck::gui
