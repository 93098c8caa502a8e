// The tape's runs, their branch trees (each fork under the branch it was forked from, with
// its fork point and edit) and the branches' threads, each with its duration, steps,
// tokens, cost and outcome, computed in one pass over the index when it
// changes. A few items per thread, so a QStandardItemModel is the right size. GUI thread.
#pragma once

#include "viewstate.h"

#include <QStandardItemModel>

namespace tapedeck::gui {

class NavigatorModel : public QStandardItemModel {
    Q_OBJECT
public:
    enum Column { Name, Steps, Duration, Tokens, Cost, Outcome, ColumnCount };
    enum class Level { Run = 1, Branch = 2, Thread = 3 };
    static constexpr int LevelRole = Qt::UserRole + 1;  // Level
    static constexpr int IdRole = Qt::UserRole + 2;     // the run, branch or thread id
    static constexpr int RunRole = Qt::UserRole + 3;    // the run it belongs to
    static constexpr int BranchRole = Qt::UserRole + 4; // the branch (0 for a run)
    static constexpr int ParentBranchRole = Qt::UserRole + 5; // branches: the one forked from, 0 for an original

    explicit NavigatorModel(ViewState *state, QObject *parent = nullptr);

    // The filter that shows only what `item` stands for.
    StepFilter filterFor(const QModelIndex &item) const;

Q_SIGNALS:
    // The tree was built again for a new index (after the reset and the inserts).
    void rebuilt();

private:
    void rebuild();
    ViewState *m_state;
};

} // namespace tapedeck::gui
