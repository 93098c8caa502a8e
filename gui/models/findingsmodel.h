// The drift and recovery findings of the run in view (tapedeck_analysis's analyze(): loops,
// error streaks, stalls, context, progress, early stop) as a list. The analysis reads every
// step of one branch, so it runs as a background job when the tape opens and again when the
// navigator's filter moves to another run or branch; a newer request supersedes a running
// one. Rows can be narrowed to one kind of finding. GUI thread.
#pragma once

#include "jobrunner.h"
#include "viewstate.h"

#include <tapedeck/analysis/findings.h>

#include <QAbstractTableModel>
#include <QColor>

#include <optional>
#include <vector>

namespace tapedeck::gui {

class FindingsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Kind, Step, Title, Severity, At, Span, ColumnCount };
    static constexpr int StepIndexRole = Qt::UserRole + 1; // the finding's first step (qlonglong)
    static constexpr int KindRole = Qt::UserRole + 2;      // analysis::FindingKind as int

    explicit FindingsModel(ViewState *state, QObject *parent = nullptr);

    // Analyses the run and branch the filter names (the tape's last run and its original
    // when it names none) unless that is what the findings already are.
    void refresh();
    bool isAnalyzing() const { return m_analyzing; }

    // Only findings of this kind (none: all of them).
    void setKindFilter(std::optional<analysis::FindingKind> kind);
    std::optional<analysis::FindingKind> kindFilter() const { return m_kindFilter; }

    // The whole report of the last analysis (every kind), empty before the first.
    const std::optional<analysis::AnalysisReport> &report() const { return m_report; }
    // The finding shown in `row`, or nullptr.
    const analysis::Finding *findingAt(int row) const;
    // "241 findings: 15 loops, 51 stalls, ..." for the report; "" before the first.
    QString summaryText() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // How findings of a kind are named and drawn, here and on the timeline.
    static QString kindLabel(analysis::FindingKind kind);
    static QColor kindColor(analysis::FindingKind kind);

Q_SIGNALS:
    void analyzing();
    // The rows are those of a new report.
    void analyzed(int findings);
    void failed(const QString &message);

private:
    struct Target {
        std::string path;
        int32_t run = 0, branch = 0;
        bool operator==(const Target &) const = default;
    };
    Target targetOf(const TapeIndex &index) const;
    void setReport(std::optional<analysis::AnalysisReport> report);
    void refilter();

    ViewState *m_state;
    JobRunner m_jobs{nullptr, JobRunner::Lane::Background};
    std::optional<Target> m_target; // what the report (or the running job) is of
    bool m_analyzing = false;
    std::optional<analysis::AnalysisReport> m_report;
    std::optional<analysis::FindingKind> m_kindFilter;
    std::vector<int> m_rows; // indices into m_report->findings shown
};

} // namespace tapedeck::gui
