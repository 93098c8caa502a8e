#include "searchmodel.h"

namespace tapedeck::gui {

SearchModel::SearchModel(ViewState *state, QObject *parent) : QAbstractTableModel(parent), m_state(state)
{
    connect(state, &ViewState::indexChanged, this, [this] { search(QString()); });
}

void SearchModel::setHits(std::vector<formats::SearchHit> hits)
{
    beginResetModel();
    m_hits = std::move(hits);
    endResetModel();
}

void SearchModel::search(const QString &query)
{
    m_query = query.trimmed();
    auto index = m_state->index();
    if (m_query.isEmpty() || !index) {
        m_jobs.cancel(QStringLiteral("search"));
        m_searching = false;
        setHits({});
        return;
    }
    m_searching = true;
    using Outcome = formats::Result<std::vector<formats::SearchHit>>;
    const std::string path = index->path();
    const std::string text = m_query.toStdString();
    const QString asked = m_query;
    m_jobs.start<Outcome>(
        QStringLiteral("search"),
        [path, text]() -> Outcome {
            auto reader = formats::TapeReader::open(path);
            if (!reader)
                return reader.error();
            return (*reader)->search(text, kMaxHits + 1);
        },
        [this, asked](Outcome outcome) {
            m_searching = false;
            if (!outcome) {
                setHits({});
                Q_EMIT failed(asked, QString::fromStdString(outcome.error().message));
                return;
            }
            std::vector<formats::SearchHit> hits = std::move(*outcome);
            const bool capped = hits.size() > size_t(kMaxHits);
            if (capped)
                hits.resize(kMaxHits);
            setHits(std::move(hits));
            Q_EMIT finished(asked, int(m_hits.size()), capped);
        });
}

int SearchModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_hits.size());
}

int SearchModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

formats::StepIndex SearchModel::stepAt(int row) const
{
    return row >= 0 && size_t(row) < m_hits.size() ? m_hits[size_t(row)].step : formats::StepIndex{};
}

QVariant SearchModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const formats::SearchHit &hit = m_hits[size_t(index.row())];
    if (role == StepIndexRole)
        return QVariant::fromValue<qlonglong>(hit.step.value);
    if (role == Qt::ToolTipRole && index.column() == Snippet)
        return QString::fromStdString(hit.snippet);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Step: return QVariant::fromValue<qlonglong>(hit.step.value);
    case Field: return QString::fromStdString(hit.field).replace(QLatin1Char('_'), QLatin1Char(' '));
    case Snippet: return QString::fromStdString(hit.snippet);
    }
    return {};
}

QVariant SearchModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Step: return tr("Step");
    case Field: return tr("Where");
    case Snippet: return tr("Text");
    }
    return {};
}

} // namespace tapedeck::gui
