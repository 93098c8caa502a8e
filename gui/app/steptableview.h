// The step table with its filter bar: kind, tool/model name, thread, errors only. The table
// is a QTableView over StepTableModel with uniform row heights, so a million rows scroll
// like a hundred. Selection is two-way with ViewState. GUI thread.
#pragma once

#include "steptablemodel.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QTableView;

namespace tapedeck::gui {

class StepTableView : public QWidget {
    Q_OBJECT
public:
    explicit StepTableView(ViewState *state, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    StepTableModel *model() const { return m_model; }

private:
    void fillFilterChoices();
    void applyFilterFromControls();
    void showFilter();
    void followSelection(formats::StepIndex step);

    ViewState *m_state;
    StepTableModel *m_model;
    QTableView *m_table;
    QComboBox *m_kind;
    QComboBox *m_name;
    QComboBox *m_thread;
    QCheckBox *m_errorsOnly;
    QLabel *m_count;
    bool m_syncing = false;
};

} // namespace tapedeck::gui
