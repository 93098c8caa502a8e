#include "searchpanel.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

namespace tapedeck::gui {

SearchPanel::SearchPanel(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_model(new SearchModel(state, this)), m_query(new QLineEdit(this)),
      m_status(new QLabel(this)), m_results(new QTableView(this))
{
    m_query->setPlaceholderText(tr("Search messages, tool calls and outputs (Enter)"));
    m_query->setClearButtonEnabled(true);
    m_results->setModel(m_model);
    m_results->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_results->setSelectionMode(QAbstractItemView::SingleSelection);
    m_results->setWordWrap(false);
    m_results->verticalHeader()->hide();
    m_results->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_results->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_results->horizontalHeader()->setStretchLastSection(true);
    m_results->setColumnWidth(SearchModel::Step, 70);
    m_results->setColumnWidth(SearchModel::Field, 100);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_query);
    layout->addWidget(m_status);
    layout->addWidget(m_results);

    connect(m_query, &QLineEdit::returnPressed, this, [this] { m_model->search(m_query->text()); });
    connect(m_model, &SearchModel::finished, this, [this](const QString &query, int hits, bool capped) {
        m_status->setText(hits == 0 ? tr("No match for “%1”").arg(query)
                          : capped  ? tr("First %1 matches for “%2”").arg(hits).arg(query)
                                    : tr("%1 matches for “%2”").arg(hits).arg(query));
        if (hits > 0)
            m_results->selectRow(0);
    });
    connect(m_model, &SearchModel::failed, this, [this](const QString &query, const QString &message) {
        m_status->setText(tr("“%1”: %2").arg(query, message));
    });
    connect(m_results, &QTableView::activated, this, &SearchPanel::jumpTo);
    connect(m_results, &QTableView::clicked, this, &SearchPanel::jumpTo);
}

void SearchPanel::search(const QString &text)
{
    m_query->setText(text);
    m_model->search(text);
}

void SearchPanel::jumpTo(const QModelIndex &hit)
{
    if (hit.isValid())
        m_state->setCurrentStep(m_model->stepAt(hit.row()));
}

} // namespace tapedeck::gui
