// The diff view: two runs (or branches, or runs in two files) side by side. A header names
// both sides with the counts and the totals' deltas; a strip draws both runs as lanes over
// the alignment (a mark per row, coloured by what happened to it, and the first divergence);
// the aligned table (DiffModel) marks inserted, removed and changed steps; below it, the
// selected pair as a side-by-side text diff, one part at a time (tool output, response,
// message N...). Opens scrolled to the first divergence. GUI thread.
#pragma once

#include "diffmodel.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;
class QTextBrowser;

namespace tapedeck::gui {

// Both sides as two lanes over the aligned rows: a row's mark is on A's lane when it has a
// step of A, on B's when it has one of B. A click picks the row under it.
class DiffLanes : public QWidget {
    Q_OBJECT
public:
    explicit DiffLanes(DiffModel *model, QWidget *parent = nullptr);
    // The row drawn at widget x (-1 when there are no rows).
    int rowAt(int x) const;
    QSize sizeHint() const override;

Q_SIGNALS:
    void rowClicked(int row);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;

private:
    DiffModel *m_model;
};

class DiffView : public QWidget {
    Q_OBJECT
public:
    explicit DiffView(QWidget *parent = nullptr);

    // Compares `a` with `b` (in the background; the view says so meanwhile).
    void compare(const analysis::SideSpec &a, const analysis::SideSpec &b);

    DiffModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    DiffLanes *lanes() const { return m_lanes; }
    QTextBrowser *leftText() const { return m_left; }
    QTextBrowser *rightText() const { return m_right; }
    QComboBox *fieldChooser() const { return m_fields; }
    // The header's text: the sides, the counts and deltas, or why the diff failed.
    QString headerText() const;
    // Selects and shows the first divergence (nothing when the sides are the same).
    void showFirstDivergence();

Q_SIGNALS:
    // A double-click on a step of side 0 (A) or 1 (B): the main window selects it.
    void stepActivated(int side, tapedeck::formats::StepIndex step);

private:
    void showLoaded();
    void selectRow(int row);
    void showPair();
    void showField(int field);

    DiffModel *m_model;
    QLabel *m_header;
    QPushButton *m_first;
    DiffLanes *m_lanes;
    QTableView *m_table;
    QComboBox *m_fields;
    QLabel *m_pairCaption;
    QTextBrowser *m_left;
    QTextBrowser *m_right;
};

} // namespace tapedeck::gui
