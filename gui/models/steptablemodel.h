// Every step of the open tape as a table: a model over the packed TapeIndex, never a copy
// of it. Filtering and sorting keep one permutation of row numbers (4 bytes a step) and
// its inverse, so a 1,000,000-step run filters and sorts without a proxy model and
// `rowOfStep` is O(1). Follows ViewState's index and filter. GUI thread only.
#pragma once

#include "viewstate.h"

#include <QAbstractTableModel>

#include <memory>
#include <vector>

namespace tapedeck::gui {

class StepTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Index, Time, Thread, Kind, Name, InputTokens, OutputTokens, Latency, Cost, Status, ColumnCount };
    // The step a row shows (formats::StepIndex value), for any column.
    static constexpr int StepIndexRole = Qt::UserRole + 1;
    // The value a column sorts by (a number for the numeric columns).
    static constexpr int SortRole = Qt::UserRole + 2;

    explicit StepTableModel(ViewState *state, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // The table row showing `step`, or -1 when the filter hides it.
    int rowOfStep(formats::StepIndex step) const;
    formats::StepIndex stepAt(int row) const;
    // The index row (TapeIndex::row) behind a table row.
    int64_t indexRowAt(int row) const { return m_visible[size_t(row)]; }

private:
    void rebuild();
    void applySort();
    QVariant display(const StepRow &row, int column) const;
    QVariant sortKey(const StepRow &row, int column) const;

    ViewState *m_state;
    std::shared_ptr<const TapeIndex> m_index;
    std::vector<int32_t> m_visible;    // table row -> index row
    std::vector<int32_t> m_tableRowOf; // index row -> table row, -1 when filtered out
    int m_sortColumn = Index;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
};

} // namespace tapedeck::gui
