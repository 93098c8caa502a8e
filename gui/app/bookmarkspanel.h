// Bookmarks and notes: the list (BookmarkModel) and an editor for the note on the selected
// step. A click on a bookmark selects its step; edits are saved into the tape.
#pragma once

#include "bookmarkmodel.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace tapedeck::gui {

class BookmarksPanel : public QWidget {
    Q_OBJECT
public:
    BookmarksPanel(ViewState *state, BookmarkModel *model, QWidget *parent = nullptr);

    QTableView *list() const { return m_list; }
    QLineEdit *noteField() const { return m_note; }

public Q_SLOTS:
    void toggleBookmark();
    void saveNote();

private:
    void showCurrent();

    ViewState *m_state;
    BookmarkModel *m_model;
    QTableView *m_list;
    QLabel *m_caption;
    QLineEdit *m_note;
    QPushButton *m_toggle;
    QLabel *m_status;
};

} // namespace tapedeck::gui
