// The app's diff of two runs (or branches, or runs in two files): the aligned rows of
// analysis::diffSides() as a table, one row per AlignedRow, A's step on the left, a mark,
// B's step on the right, and the text of the pair the user picks.
//
// Loading reads both sides' step summaries and fingerprints and aligns them; reading a
// pair decodes two steps. Both run as JobRunner jobs that open their own TapeReaders, so
// the GUI thread never reads the tape; a newer load (or pair) supersedes a running one.
// Errors name the side ("side B (run.tape#3): ...") and what went wrong. GUI thread.
#pragma once

#include "jobrunner.h"

#include <tapedeck/analysis/diff.h>

#include <QAbstractTableModel>
#include <QColor>

#include <optional>
#include <vector>

namespace tapedeck::gui {

class DiffModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { StepA, WhatA, TokensA, TimeA, Mark, StepB, WhatB, TokensB, TimeB, ColumnCount };
    static constexpr int RowKindRole = Qt::UserRole + 1;         // analysis::RowKind as int
    static constexpr int StepARole = Qt::UserRole + 2;           // A's StepIndex (qlonglong), 0 when absent
    static constexpr int StepBRole = Qt::UserRole + 3;           // B's StepIndex (qlonglong), 0 when absent
    static constexpr int FirstDivergenceRole = Qt::UserRole + 4; // bool: the row is the first divergence

    // One part of the selected pair as the side-by-side view shows it: A's text and B's,
    // and which of their lines are not common to both (a line diff).
    struct PairField {
        QString field;   // "tool output", "response", "message 5 (tool)", ...
        QString a, b;    // empty when the part is absent on that side
        std::vector<bool> changedA, changedB; // per line of a / b (split at '\n')
    };

    explicit DiffModel(QObject *parent = nullptr);

    // Compares the two sides in the background: loading(), then loaded() with the new rows,
    // or failed() with no rows.
    void load(const analysis::SideSpec &a, const analysis::SideSpec &b);
    bool isLoading() const { return m_loading; }
    // The sides as asked for (before and while loading) or as resolved (once loaded).
    const analysis::SideSpec &specA() const { return m_specA; }
    const analysis::SideSpec &specB() const { return m_specB; }

    // The last report loaded; empty before the first and after a failure.
    const std::optional<analysis::DiffReport> &report() const { return m_report; }
    // The first row that is not the same, or -1 (no report, or identical sides).
    int firstDivergenceRow() const;
    // Rows of `kind` (0 without a report).
    int64_t count(analysis::RowKind kind) const;
    // The totals of side 0 (A) or 1 (B); zeros without a report.
    analysis::SideTotals totals(int side) const;
    // "5 same, 3 changed, 2 removed, 3 inserted" or "no differences: 10 steps the same".
    QString countsText() const;
    // B - A: "tokens +1.2k, cost +$0.0040, time in steps +8.50 s".
    QString totalsDeltaText() const;

    const analysis::AlignedRow *rowAt(int row) const;
    // The step of `side` (0 = A, 1 = B) in `row`; nullptr when the row has none there.
    const formats::StepSummary *summaryAt(int row, int side) const;

    // Reads the pair in `row` in the background: pairLoaded(row) when pairFields() hold it.
    // A changed pair lists what differs (analysis::compareSteps); any other row shows each
    // present step's parts, A's or B's side empty where the row has no step.
    void loadPair(int row);
    int pairRow() const { return m_pairRow; } // the row pairFields() are of, -1 for none
    const std::vector<PairField> &pairFields() const { return m_pairFields; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // How rows of a kind are marked and tinted, here and in the diff view's lanes.
    static QString kindMark(analysis::RowKind kind);
    static QColor kindColor(analysis::RowKind kind);

Q_SIGNALS:
    void loading();
    void loaded();
    void failed(const QString &message);
    void pairLoaded(int row);
    void pairFailed(int row, const QString &message);

private:
    QVariant cellText(const analysis::AlignedRow &row, int column) const;

    JobRunner m_jobs;
    analysis::SideSpec m_specA, m_specB;
    bool m_loading = false;
    std::optional<analysis::DiffReport> m_report;
    int m_pairRow = -1;
    std::vector<PairField> m_pairFields;
};

} // namespace tapedeck::gui
