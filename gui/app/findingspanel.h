// The findings panel: what the drift and recovery rules found in the run in view
// (FindingsModel), narrowed by kind. A click selects the finding's first step in every
// view; a double-click also fits the timeline to the steps it covers.
#pragma once

#include "findingsmodel.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QTableView;

namespace tapedeck::gui {

class FindingsPanel : public QWidget {
    Q_OBJECT
public:
    explicit FindingsPanel(ViewState *state, QWidget *parent = nullptr);

    FindingsModel *model() const { return m_model; }
    QTableView *list() const { return m_list; }
    QComboBox *kindChooser() const { return m_kinds; }
    // The summary line ("241 findings: ...", "Analysing…", or why the analysis failed).
    QString statusText() const;
    // The detail of the selected finding: how it ended, what it measured.
    QString detailText() const;

private:
    void showFinding(int row, bool fitTimeline);

    ViewState *m_state;
    FindingsModel *m_model;
    QComboBox *m_kinds;
    QLabel *m_status;
    QTableView *m_list;
    QLabel *m_detail;
};

} // namespace tapedeck::gui
