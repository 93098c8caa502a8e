// The metrics plots: context size, tokens, latency, cumulative cost and tool error rate per
// step, and a metric the user defines with a regex over tool outputs (by default the
// kernel session's geometric-mean speed-up, with its new bests marked). The plots share
// one time axis, ViewState's visible window (so they follow the timeline's zoom) unless
// "Whole run" is on; the selected step is marked, hovering shows the values under the
// pointer and clicking a point selects its step.
//
// The index's series are computed in a JobRunner job when the index changes, the regex
// metric in another (superseded and cancelled when the regex changes, progress in the
// status line). Painting costs the plot width: series are reduced to pixel columns once
// per change of window, size or data, never per paint. Lives on the GUI thread; the plots
// are a child widget this view owns.
#pragma once

#include "jobrunner.h"
#include "metricseries.h"
#include "viewstate.h"

#include <QPoint>
#include <QWidget>

#include <atomic>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

namespace tapedeck::gui {

class MetricsCanvas;

class MetricsView : public QWidget {
    Q_OBJECT
public:
    explicit MetricsView(ViewState *state, QWidget *parent = nullptr);
    ~MetricsView() override;

    int plotCount() const;
    // Puts `pattern` in the regex field and computes its series (even when unchanged).
    void setRegex(const QString &pattern);
    // Where the point of `row` is drawn in plot `plot`, in this view's coordinates; empty
    // when that plot has no point for the row or the point is outside the window.
    std::optional<QPoint> pointPosition(int plot, int64_t row) const;

Q_SIGNALS:
    // The series of the current index are computed and shown.
    void metricsReady();
    // The regex metric is computed and shown with `points` values.
    void regexSeriesReady(int points);

private:
    void resetForIndex();
    void startRegexJob();
    void showRegexProgress(int64_t done, int64_t total);
    void fillToolChoices(const std::vector<int32_t> &tools);

    ViewState *m_state;
    JobRunner m_jobs;
    MetricsCanvas *m_canvas;
    QCheckBox *m_wholeRun;
    QLineEdit *m_regex;
    QComboBox *m_tool;
    QComboBox *m_direction;
    QLabel *m_status;
    // Raised to stop the running regex job; each job has its own flag, so a new job never
    // clears the flag of the one it supersedes.
    std::shared_ptr<std::atomic<bool>> m_regexCancel;
    uint64_t m_regexGeneration = 0;
};

} // namespace tapedeck::gui
