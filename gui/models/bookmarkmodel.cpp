#include "bookmarkmodel.h"


#include <algorithm>

namespace tapedeck::gui {

BookmarkModel::BookmarkModel(ViewState *state, QObject *parent) : QAbstractTableModel(parent), m_state(state)
{
    connect(state, &ViewState::indexChanged, this, &BookmarkModel::reload);
    reload();
}

void BookmarkModel::reload()
{
    // Saves still queued belong to the tape that was open.
    m_jobs.cancel(QStringLiteral("save"));
    m_queue.clear();
    m_saving = false;
    beginResetModel();
    m_notes.clear();
    endResetModel();
    auto index = m_state->index();
    if (!index)
        return;
    using Outcome = formats::Result<std::vector<formats::StepNote>>;
    const std::string path = index->path();
    m_jobs.start<Outcome>(
        QStringLiteral("load"),
        [path]() -> Outcome {
            auto reader = formats::TapeReader::open(path);
            if (!reader)
                return reader.error();
            return (*reader)->notes();
        },
        [this](Outcome outcome) {
            if (!outcome) {
                Q_EMIT failed(QString::fromStdString(outcome.error().message));
                return;
            }
            beginResetModel();
            m_notes = std::move(*outcome);
            endResetModel();
            Q_EMIT loaded();
        });
}

const formats::StepNote *BookmarkModel::noteFor(formats::StepIndex step) const
{
    auto it = std::lower_bound(m_notes.begin(), m_notes.end(), step,
                               [](const formats::StepNote &n, formats::StepIndex s) { return n.step < s; });
    return it != m_notes.end() && it->step == step ? &*it : nullptr;
}

void BookmarkModel::toggleBookmark(formats::StepIndex step)
{
    formats::StepNote note;
    if (const formats::StepNote *existing = noteFor(step))
        note = *existing;
    note.step = step;
    note.bookmarked = !note.bookmarked;
    note.updatedUs = 0;
    setNote(note);
}

void BookmarkModel::setNote(const formats::StepNote &note)
{
    if (!m_state->index() || !note.step.value)
        return;
    m_queue.push_back(note);
    if (!m_saving)
        saveNext();
}

void BookmarkModel::saveNext()
{
    auto index = m_state->index();
    if (m_queue.empty() || !index) {
        m_saving = false;
        return;
    }
    m_saving = true;
    const formats::StepNote note = m_queue.front();
    m_queue.pop_front();
    const std::string path = index->path();
    m_jobs.start<formats::Status>(
        QStringLiteral("save"), [path, note]() { return formats::saveStepNote(path, note); },
        [this, note](formats::Status status) {
            if (status) {
                apply(note);
                Q_EMIT saved(note.step);
            } else {
                Q_EMIT failed(QString::fromStdString(status.error().message));
            }
            saveNext();
        });
}

void BookmarkModel::apply(const formats::StepNote &note)
{
    auto it = std::lower_bound(m_notes.begin(), m_notes.end(), note.step,
                               [](const formats::StepNote &n, formats::StepIndex s) { return n.step < s; });
    const int row = int(it - m_notes.begin());
    const bool present = it != m_notes.end() && it->step == note.step;
    const bool keep = note.bookmarked || !note.text.empty();
    if (present && keep) {
        *it = note;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    } else if (present) {
        beginRemoveRows({}, row, row);
        m_notes.erase(it);
        endRemoveRows();
    } else if (keep) {
        beginInsertRows({}, row, row);
        m_notes.insert(it, note);
        endInsertRows();
    }
}

int BookmarkModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_notes.size());
}

int BookmarkModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

formats::StepIndex BookmarkModel::stepAt(int row) const
{
    return row >= 0 && size_t(row) < m_notes.size() ? m_notes[size_t(row)].step : formats::StepIndex{};
}

QVariant BookmarkModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const formats::StepNote &note = m_notes[size_t(index.row())];
    if (role == StepIndexRole)
        return QVariant::fromValue<qlonglong>(note.step.value);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Step: return QVariant::fromValue<qlonglong>(note.step.value);
    case Bookmarked: return note.bookmarked ? QStringLiteral("★") : QString();
    case Note: return QString::fromStdString(note.text);
    }
    return {};
}

QVariant BookmarkModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Step: return tr("Step");
    case Bookmarked: return tr("★");
    case Note: return tr("Note");
    }
    return {};
}

} // namespace tapedeck::gui
