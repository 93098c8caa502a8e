#include "steptablemodel.h"

#include "displayformat.h"

#include <QBrush>
#include <QFont>

#include <algorithm>

namespace tapedeck::gui {

using formats::StepKind;
using formats::StepStatus;

StepTableModel::StepTableModel(ViewState *state, QObject *parent)
    : QAbstractTableModel(parent), m_state(state)
{
    connect(state, &ViewState::indexChanged, this, &StepTableModel::rebuild);
    connect(state, &ViewState::filterChanged, this, &StepTableModel::rebuild);
    rebuild();
}

void StepTableModel::rebuild()
{
    beginResetModel();
    m_index = m_state->index();
    m_visible.clear();
    m_tableRowOf.clear();
    if (m_index) {
        const StepFilter &filter = m_state->filter();
        const int64_t n = m_index->rowCount();
        m_tableRowOf.assign(size_t(n), -1);
        m_visible.reserve(size_t(filter.isEmpty() ? n : n / 4));
        for (int64_t r = 0; r < n; ++r) {
            if (filter.matches(m_index->row(r)))
                m_visible.push_back(int32_t(r));
        }
        applySort();
    }
    endResetModel();
}

void StepTableModel::applySort()
{
    const bool ascending = m_sortOrder == Qt::AscendingOrder;
    if (m_sortColumn != Index) {
        // One number per row, then a sort of (number, row) pairs: comparing variants or
        // strings a million times over would take seconds.
        std::vector<int32_t> nameRank;
        if (m_sortColumn == Name) {
            std::vector<int32_t> ids(size_t(m_index->nameCount()));
            for (size_t i = 0; i < ids.size(); ++i)
                ids[i] = int32_t(i);
            std::sort(ids.begin(), ids.end(),
                      [&](int32_t a, int32_t b) { return m_index->name(a) < m_index->name(b); });
            nameRank.assign(ids.size(), 0);
            for (size_t k = 0; k < ids.size(); ++k)
                nameRank[size_t(ids[k])] = int32_t(k) + 1;
        }
        std::vector<std::pair<double, int32_t>> keyed;
        keyed.reserve(m_visible.size());
        for (int32_t r : m_visible) {
            const StepRow &row = m_index->row(r);
            double key = m_sortColumn == Name ? (row.name >= 0 ? nameRank[size_t(row.name)] : 0)
                                              : sortKey(row, m_sortColumn).toDouble();
            keyed.emplace_back(ascending ? key : -key, r);
        }
        std::stable_sort(keyed.begin(), keyed.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        for (size_t i = 0; i < keyed.size(); ++i)
            m_visible[i] = keyed[i].second;
    } else {
        std::sort(m_visible.begin(), m_visible.end());
        if (!ascending)
            std::reverse(m_visible.begin(), m_visible.end());
    }
    std::fill(m_tableRowOf.begin(), m_tableRowOf.end(), -1);
    for (size_t i = 0; i < m_visible.size(); ++i)
        m_tableRowOf[size_t(m_visible[i])] = int32_t(i);
}

void StepTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount)
        return;
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    std::vector<int32_t> stepsBefore;
    for (const QModelIndex &i : before)
        stepsBefore.push_back(m_visible[size_t(i.row())]);
    m_sortColumn = column;
    m_sortOrder = order;
    if (m_index)
        applySort();
    QModelIndexList after;
    for (size_t k = 0; k < stepsBefore.size(); ++k)
        after.push_back(index(m_tableRowOf[size_t(stepsBefore[k])], before[int(k)].column()));
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

int StepTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

int StepTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int StepTableModel::rowOfStep(formats::StepIndex step) const
{
    if (!m_index)
        return -1;
    const int64_t r = m_index->rowOf(step);
    return r < 0 ? -1 : m_tableRowOf[size_t(r)];
}

formats::StepIndex StepTableModel::stepAt(int row) const
{
    if (row < 0 || size_t(row) >= m_visible.size())
        return {};
    return m_index->row(m_visible[size_t(row)]).index;
}

QVariant StepTableModel::display(const StepRow &row, int column) const
{
    const bool modelCall = row.kind == StepKind::ModelCall;
    switch (column) {
    case Index: return QVariant::fromValue<qlonglong>(row.index.value);
    case Time: return formatOffset(row.startedUs - m_index->firstUs());
    case Thread: {
        const formats::ThreadInfo *t = m_index->thread(row.thread);
        return t ? QString::fromStdString(t->label) : QString::number(row.thread);
    }
    case Kind: return stepKindLabel(row.kind);
    case Name: return QString::fromStdString(m_index->nameOf(row));
    case InputTokens: return modelCall ? QVariant(formatCount(row.inputTokens + row.cacheReadTokens)) : QVariant();
    case OutputTokens: return modelCall ? QVariant(formatCount(row.outputTokens)) : QVariant();
    case Latency: return row.durationUs() ? QVariant(formatDuration(row.durationUs())) : QVariant();
    case Cost: return row.hasCost() ? QVariant(formatCost(row.costUsd)) : QVariant();
    case Status: return QString::fromLatin1(formats::stepStatusName(row.status));
    }
    return {};
}

QVariant StepTableModel::sortKey(const StepRow &row, int column) const
{
    switch (column) {
    case Index: return QVariant::fromValue<qlonglong>(row.index.value);
    case Time: return QVariant::fromValue<qlonglong>(row.startedUs);
    case Thread: return row.thread;
    case Kind: return int(row.kind);
    case Name: return QString::fromStdString(m_index->nameOf(row));
    case InputTokens: return QVariant::fromValue<qlonglong>(row.inputTokens + row.cacheReadTokens);
    case OutputTokens: return QVariant::fromValue<qlonglong>(row.outputTokens);
    case Latency: return QVariant::fromValue<qlonglong>(row.durationUs());
    case Cost: return row.hasCost() ? row.costUsd : -1.0;
    case Status: return int(row.status);
    }
    return {};
}

QVariant StepTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const StepRow &row = m_index->row(m_visible[size_t(index.row())]);
    switch (role) {
    case Qt::DisplayRole: return display(row, index.column());
    case SortRole: return sortKey(row, index.column());
    case StepIndexRole: return QVariant::fromValue<qlonglong>(row.index.value);
    case Qt::TextAlignmentRole:
        if (index.column() == Index || (index.column() >= InputTokens && index.column() <= Cost))
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (row.isError() || row.kind == StepKind::Error)
            return QBrush(errorColor());
        if (index.column() == Kind)
            return QBrush(stepKindColor(row.kind).darker(130));
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Time)
            return formatWallClock(row.startedUs);
        return {};
    }
    return {};
}

QVariant StepTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Index: return tr("#");
    case Time: return tr("Time");
    case Thread: return tr("Thread");
    case Kind: return tr("Kind");
    case Name: return tr("Tool / model");
    case InputTokens: return tr("In");
    case OutputTokens: return tr("Out");
    case Latency: return tr("Latency");
    case Cost: return tr("Cost");
    case Status: return tr("Status");
    }
    return {};
}

} // namespace tapedeck::gui
