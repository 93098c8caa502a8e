#include "steptableview.h"

#include "displayformat.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace tapedeck::gui {

StepTableView::StepTableView(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_model(new StepTableModel(state, this)), m_table(new QTableView(this)),
      m_kind(new QComboBox(this)), m_name(new QComboBox(this)), m_thread(new QComboBox(this)),
      m_errorsOnly(new QCheckBox(tr("Errors only"), this)), m_count(new QLabel(this))
{
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(4, 4, 4, 0);
    m_kind->setToolTip(tr("Show steps of one kind"));
    m_name->setToolTip(tr("Show the steps of one tool or model"));
    m_thread->setToolTip(tr("Show the steps of one thread"));
    bar->addWidget(m_kind);
    bar->addWidget(m_name, 1);
    bar->addWidget(m_thread, 1);
    bar->addWidget(m_errorsOnly);
    m_count->setMinimumWidth(1);
    m_count->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_count, 1);

    // Tool names and thread labels can be long; the combos must not widen the window.
    for (QComboBox *box : {m_kind, m_name, m_thread}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(6);
    }

    m_table->setModel(m_model);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(StepTableModel::Index, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    // Uniform rows: the view never asks the model for a row's height, so it stays O(visible).
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setStretchLastSection(true);
    const int digit = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const int widths[] = {6, 11, 10, 10, 18, 7, 6, 8, 7, 6};
    for (int c = 0; c < StepTableModel::ColumnCount; ++c)
        m_table->setColumnWidth(c, widths[c] * digit + 12);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(bar);
    layout->addWidget(m_table);

    connect(state, &ViewState::indexChanged, this, &StepTableView::fillFilterChoices);
    connect(state, &ViewState::filterChanged, this, &StepTableView::showFilter);
    connect(state, &ViewState::currentStepChanged, this, &StepTableView::followSelection);
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_count->setText(tr("%1 of %2 steps")
                             .arg(m_model->rowCount())
                             .arg(m_state->index() ? m_state->index()->rowCount() : 0));
        followSelection(m_state->currentStep());
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (!m_syncing && current.isValid())
                    m_state->setCurrentStep(m_model->stepAt(current.row()));
            });
    for (QComboBox *box : {m_kind, m_name, m_thread})
        connect(box, &QComboBox::activated, this, &StepTableView::applyFilterFromControls);
    connect(m_errorsOnly, &QCheckBox::toggled, this, &StepTableView::applyFilterFromControls);
    fillFilterChoices();
}

void StepTableView::fillFilterChoices()
{
    auto index = m_state->index();
    m_kind->clear();
    m_name->clear();
    m_thread->clear();
    m_kind->addItem(tr("all kinds"), 0);
    m_name->addItem(tr("all tools and models"), -1);
    m_thread->addItem(tr("all threads"), 0);
    if (!index)
        return;
    for (int k = 1; k <= formats::kStepKindCount; ++k) {
        const auto kind = formats::StepKind(k);
        if (index->summary().stepsByKind[k] > 0)
            m_kind->addItem(stepKindLabel(kind), k);
    }
    std::vector<int32_t> names(size_t(index->nameCount()));
    for (size_t i = 0; i < names.size(); ++i)
        names[i] = int32_t(i);
    std::sort(names.begin(), names.end(), [&](int32_t a, int32_t b) { return index->name(a) < index->name(b); });
    for (int32_t id : names)
        m_name->addItem(QString::fromStdString(index->name(id)), id);
    for (const formats::ThreadInfo &t : index->summary().threads)
        m_thread->addItem(QStringLiteral("%1 · %2").arg(t.id.value).arg(QString::fromStdString(t.label)),
                          int(t.id.value));
    showFilter();
}

void StepTableView::applyFilterFromControls()
{
    StepFilter filter = m_state->filter();
    filter.kinds.clear();
    if (int k = m_kind->currentData().toInt())
        filter.kinds.insert(formats::StepKind(k));
    filter.name = m_name->currentData().toInt();
    filter.thread = m_thread->currentData().toInt();
    filter.errorsOnly = m_errorsOnly->isChecked();
    m_state->setFilter(filter);
}

void StepTableView::showFilter()
{
    const StepFilter &f = m_state->filter();
    QSignalBlocker blockErrors(m_errorsOnly);
    m_kind->setCurrentIndex(std::max(0, m_kind->findData(f.kinds.size() == 1 ? int(*f.kinds.begin()) : 0)));
    m_name->setCurrentIndex(std::max(0, m_name->findData(f.name)));
    m_thread->setCurrentIndex(std::max(0, m_thread->findData(f.thread)));
    m_errorsOnly->setChecked(f.errorsOnly);
}

void StepTableView::followSelection(formats::StepIndex step)
{
    const int row = m_model->rowOfStep(step);
    m_syncing = true;
    if (row < 0) {
        m_table->selectionModel()->clearSelection();
    } else {
        const QModelIndex at = m_model->index(row, 0);
        m_table->selectionModel()->setCurrentIndex(
            at, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        m_table->scrollTo(at);
    }
    m_syncing = false;
}

} // namespace tapedeck::gui
