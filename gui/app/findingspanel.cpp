#include "findingspanel.h"

#include "displayformat.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace tapedeck::gui {

namespace af = tapedeck::analysis;

FindingsPanel::FindingsPanel(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_model(new FindingsModel(state, this)), m_kinds(new QComboBox(this)),
      m_status(new QLabel(this)), m_list(new QTableView(this)), m_detail(new QLabel(this))
{
    m_kinds->addItem(tr("All kinds"), -1);
    for (int k = 0; k < af::kFindingKindCount; ++k)
        m_kinds->addItem(FindingsModel::kindLabel(af::FindingKind(k)), k);
    m_status->setWordWrap(true);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_detail->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_list->setModel(m_model);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->verticalHeader()->hide();
    m_list->verticalHeader()->setDefaultSectionSize(m_list->fontMetrics().height() + 6);
    m_list->horizontalHeader()->setStretchLastSection(true);
    m_list->setWordWrap(false);
    // What and where first: a narrow dock still shows the kind, the step and the title.
    m_list->setColumnWidth(FindingsModel::Kind, 118);
    m_list->setColumnWidth(FindingsModel::Step, 56);
    m_list->setColumnWidth(FindingsModel::Title, 320);
    m_list->setColumnWidth(FindingsModel::Severity, 64);
    m_list->setColumnWidth(FindingsModel::At, 80);

    auto *top = new QHBoxLayout;
    top->addWidget(m_status, 1);
    top->addWidget(m_kinds);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(top);
    layout->addWidget(m_list, 1);
    layout->addWidget(m_detail);

    connect(m_kinds, &QComboBox::currentIndexChanged, this, [this] {
        const int kind = m_kinds->currentData().toInt();
        m_model->setKindFilter(kind < 0 ? std::nullopt : std::optional(af::FindingKind(kind)));
        m_detail->clear();
    });
    connect(m_model, &FindingsModel::analyzing, this, [this] { m_status->setText(tr("Analysing the run…")); });
    connect(m_model, &FindingsModel::analyzed, this, [this] {
        m_status->setText(m_model->summaryText());
        m_detail->clear();
    });
    connect(m_model, &FindingsModel::failed, this,
            [this](const QString &message) { m_status->setText(tr("Not analysed: %1").arg(message)); });
    connect(m_list, &QTableView::clicked, this, [this](const QModelIndex &i) { showFinding(i.row(), false); });
    connect(m_list, &QTableView::activated, this, [this](const QModelIndex &i) { showFinding(i.row(), true); });
    if (!m_state->index())
        m_status->setText(tr("Open a tape to analyse its run."));
}

QString FindingsPanel::statusText() const
{
    return m_status->text();
}

QString FindingsPanel::detailText() const
{
    return m_detail->text();
}

void FindingsPanel::showFinding(int row, bool fitTimeline)
{
    const af::Finding *f = m_model->findingAt(row);
    if (!f || f->steps.empty())
        return;
    QString steps;
    for (size_t i = 0; i < std::min<size_t>(f->steps.size(), 12); ++i)
        steps += (i ? QStringLiteral(", ") : QString()) + QString::number(f->steps[i].value);
    if (f->steps.size() > 12)
        steps += tr(" … (%1 in all)").arg(f->steps.size());
    m_detail->setText(QStringLiteral("%1\n%2%3")
                          .arg(QString::fromStdString(f->title),
                               f->detail.empty() ? QString() : QString::fromStdString(f->detail) + QLatin1Char('\n'),
                               tr("Steps: %1").arg(steps)));
    m_state->setCurrentStep(f->steps.front());
    if (fitTimeline && f->endUs > f->startUs) {
        // A little room either side, so the first and last steps are not on the edges.
        const int64_t margin = std::max<int64_t>((f->endUs - f->startUs) / 10, 1000000);
        m_state->setVisibleRange(f->startUs - margin, f->endUs + margin);
    }
}

} // namespace tapedeck::gui
