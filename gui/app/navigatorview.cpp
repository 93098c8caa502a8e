#include "navigatorview.h"

#include <QHeaderView>
#include <QPushButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace tapedeck::gui {

NavigatorView::NavigatorView(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_model(new NavigatorModel(state, this)), m_tree(new QTreeView(this))
{
    m_tree->setModel(m_model);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *showAll = new QPushButton(tr("Show all"), this);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree);
    layout->addWidget(showAll);

    connect(m_model, &NavigatorModel::rebuilt, this, [this] {
        m_tree->expandAll();
        for (int c = 0; c < NavigatorModel::ColumnCount; ++c)
            m_tree->resizeColumnToContents(c);
    });
    connect(m_tree, &QTreeView::clicked, this, [this](const QModelIndex &item) {
        StepFilter filter = m_model->filterFor(item);
        const StepFilter &now = m_state->filter();
        StepFilter next = now;
        next.run = filter.run;
        next.branch = filter.branch;
        next.thread = filter.thread;
        if (next == now) { // the same item again: show everything
            next.run = next.branch = next.thread = 0;
            m_tree->clearSelection();
        }
        m_state->setFilter(next);
    });
    connect(showAll, &QPushButton::clicked, this, [this] {
        m_tree->clearSelection();
        m_state->setFilter(StepFilter{});
    });
}

} // namespace tapedeck::gui
