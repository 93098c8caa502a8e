// The navigator: the tape's runs, branches and threads (NavigatorModel) as a tree. Picking
// an item filters every view to it; picking it again, or "Show all", clears the filter. A
// fork's context menu compares it with the branch it was forked from.
#pragma once

#include "navigatormodel.h"

#include <QWidget>

class QTreeView;

namespace tapedeck::gui {

class NavigatorView : public QWidget {
    Q_OBJECT
public:
    explicit NavigatorView(ViewState *state, QWidget *parent = nullptr);
    QTreeView *tree() const { return m_tree; }
    NavigatorModel *model() const { return m_model; }

Q_SIGNALS:
    // "Compare with the branch it was forked from" on a fork, in run `run`.
    void compareRequested(int32_t run, int32_t parentBranch, int32_t branch);

private:
    ViewState *m_state;
    NavigatorModel *m_model;
    QTreeView *m_tree;
};

} // namespace tapedeck::gui
