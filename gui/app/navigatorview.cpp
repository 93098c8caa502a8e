#include "navigatorview.h"

#include <QHeaderView>
#include <QMenu>
#include <QPushButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace tapedeck::gui {

using Level = NavigatorModel::Level;

constexpr int kMaxNameWidth = 240;

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
        // A fork's edit can be long: it is cut (its tooltip has it all) so the numbers and
        // the outcome stay in view.
        m_tree->setColumnWidth(NavigatorModel::Name, std::min(m_tree->columnWidth(NavigatorModel::Name), kMaxNameWidth));
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
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_tree, &QTreeView::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex item = m_tree->indexAt(pos).siblingAtColumn(0);
        const int32_t parent = item.data(NavigatorModel::ParentBranchRole).toInt();
        if (Level(item.data(NavigatorModel::LevelRole).toInt()) != Level::Branch || !parent)
            return;
        const int32_t run = item.data(NavigatorModel::RunRole).toInt();
        const int32_t branch = item.data(NavigatorModel::IdRole).toInt();
        QMenu menu(this);
        menu.addAction(tr("Compare #%1 with #%2, Its Parent").arg(branch).arg(parent), this,
                       [this, run, parent, branch] { Q_EMIT compareRequested(run, parent, branch); });
        menu.exec(m_tree->viewport()->mapToGlobal(pos));
    });
    connect(showAll, &QPushButton::clicked, this, [this] {
        m_tree->clearSelection();
        m_state->setFilter(StepFilter{});
    });
}

} // namespace tapedeck::gui
