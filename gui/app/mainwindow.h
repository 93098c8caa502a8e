// The app's window: the views over one ViewState, docked around the timeline, the step
// table and the inspector; menus; recent files and window layout kept in QSettings; a
// banner for tapes that are damaged or cannot be opened. Owns everything it shows. GUI
// thread.
#pragma once

#include "bookmarkmodel.h"
#include "jobrunner.h"
#include "playbackcontroller.h"
#include "tapeloader.h"
#include "tapewatcher.h"
#include "viewstate.h"

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;

namespace tapedeck::gui {

class BookmarksPanel;
class DiffView;
class FindingsPanel;
class InspectorView;
class MetricsView;
class NavigatorView;
class PlaybackBar;
class SearchPanel;
class StepTableView;
class TimelineView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Starts opening a tape; tapeOpened or openFailed follows.
    void openTape(const QString &path);
    QString tapePath() const { return m_path; }

    // Brings a view to the front: "timeline", "table", "navigator", "branches" (the
    // navigator, widened to show the branch tree), "search", "bookmarks", "metrics",
    // "findings", "diff" (the diff window; when it is not open, the newest fork against its
    // parent: false for a tape without forks), or the inspector ("inspector",
    // "conversation", "new", "response", "usage", "wire"). False for an unknown name.
    bool showView(const QString &name);
    static QStringList viewNames();

    ViewState *state() const { return m_state; }
    PlaybackController *playback() const { return m_playback; }
    BookmarkModel *bookmarks() const { return m_bookmarks; }
    TimelineView *timeline() const { return m_timeline; }
    StepTableView *stepTable() const { return m_table; }
    InspectorView *inspector() const { return m_inspector; }
    MetricsView *metrics() const { return m_metrics; }
    SearchPanel *search() const { return m_search; }
    NavigatorView *navigator() const { return m_navigator; }
    BookmarksPanel *bookmarksPanel() const { return m_bookmarksPanel; }
    FindingsPanel *findings() const { return m_findings; }
    // The diff window (created hidden; compare() or showView("diff") shows it).
    DiffView *diffView() const { return m_diff; }

    // Shows the diff window comparing `a` with `b` (FILE, FILE#N, FILE#run:R,branch:N).
    // False, with the reason in the status bar, when a spec cannot be read.
    bool compare(const QString &a, const QString &b);
    // Compares the tape's newest fork with the branch it was forked from; false when the
    // tape has no fork.
    bool compareLatestFork();
    // "Fork from here…" on the selected step: reads what the step holds, then opens the
    // fork dialog; while the fork records, the tape is read again as it grows.
    void forkFromCurrentStep();
    // The banner's text ("" when hidden): damage and load errors.
    QString bannerText() const;

Q_SIGNALS:
    // The summary is on screen; the steps are still loading.
    void summaryShown(const QString &path);
    // Every view has the tape.
    void tapeOpened(const QString &path);
    void openFailed(const QString &path, const QString &message);

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildMenus();
    QDockWidget *addDock(const QString &title, const QString &name, QWidget *widget, Qt::DockWidgetArea area);
    void showSummary(const std::shared_ptr<const TapeIndex> &summary);
    void showIndex(const std::shared_ptr<const TapeIndex> &index);
    void showFailure(const QString &message);
    void setBanner(const QString &text, bool error);
    void rememberRecent(const QString &path);
    void fillRecentMenu();
    void chooseFile();
    void jumpToStep();
    void jumpToError(int direction);
    void restoreLayout();
    void showFindingsOnTimeline();
    void chooseComparison();
    void openForkDialog(const formats::Step &step);
    // Reads the open tape again (another process wrote to it), keeping the selection and
    // the filter.
    void reloadTape();

    ViewState *m_state;
    TapeLoader *m_loader;
    PlaybackController *m_playback;
    BookmarkModel *m_bookmarks;
    TimelineView *m_timeline;
    StepTableView *m_table;
    InspectorView *m_inspector;
    MetricsView *m_metrics;
    SearchPanel *m_search;
    NavigatorView *m_navigator;
    BookmarksPanel *m_bookmarksPanel;
    FindingsPanel *m_findings;
    DiffView *m_diff;
    PlaybackBar *m_playbackBar;
    QLabel *m_banner;
    QLabel *m_summary;
    QProgressBar *m_progress;
    QMenu *m_recentMenu = nullptr;
    QDockWidget *m_navigatorDock = nullptr;
    QDockWidget *m_searchDock = nullptr;
    QDockWidget *m_bookmarksDock = nullptr;
    QDockWidget *m_metricsDock = nullptr;
    QDockWidget *m_findingsDock = nullptr;
    QString m_path;
    QByteArray m_defaultState;
    JobRunner m_jobs;
    TapeWatcher m_watcher;
    formats::StepIndex m_reselect;  // the step to select again after a reload
    StepFilter m_refilter;
};

} // namespace tapedeck::gui
