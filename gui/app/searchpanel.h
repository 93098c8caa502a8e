// Full-text search: a query field and the hits (SearchModel). Enter in the field runs the
// query; Enter or a click on a hit selects its step in every view.
#pragma once

#include "searchmodel.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QTableView;

namespace tapedeck::gui {

class SearchPanel : public QWidget {
    Q_OBJECT
public:
    explicit SearchPanel(ViewState *state, QWidget *parent = nullptr);
    SearchModel *model() const { return m_model; }
    QLineEdit *queryField() const { return m_query; }
    QTableView *results() const { return m_results; }
    // Puts `text` in the field and runs it.
    void search(const QString &text);

private:
    void jumpTo(const QModelIndex &hit);

    ViewState *m_state;
    SearchModel *m_model;
    QLineEdit *m_query;
    QLabel *m_status;
    QTableView *m_results;
};

} // namespace tapedeck::gui
