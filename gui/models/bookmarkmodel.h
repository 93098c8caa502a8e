// The bookmarks and notes of the open tape: read when the tape opens, written back to the
// tape (formats::saveStepNote) each time one changes — the only writes the app makes.
// Writes run as background jobs, one after another in the order they were asked for; the
// list shows a change once it is saved.
// GUI thread.
#pragma once

#include "jobrunner.h"
#include "viewstate.h"

#include <QAbstractTableModel>

#include <deque>
#include <vector>

namespace tapedeck::gui {

class BookmarkModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Step, Bookmarked, Note, ColumnCount };
    static constexpr int StepIndexRole = Qt::UserRole + 1;

    explicit BookmarkModel(ViewState *state, QObject *parent = nullptr);

    // The note on `step`, or nullptr.
    const formats::StepNote *noteFor(formats::StepIndex step) const;
    // Saves the note (an empty one removes it).
    void setNote(const formats::StepNote &note);
    void toggleBookmark(formats::StepIndex step);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    formats::StepIndex stepAt(int row) const;

Q_SIGNALS:
    void loaded();
    void saved(tapedeck::formats::StepIndex step);
    // The tape could not be read or written (read-only file, damaged, locked).
    void failed(const QString &message);

private:
    void reload();
    void apply(const formats::StepNote &note);

    ViewState *m_state;
    JobRunner m_jobs;
    std::vector<formats::StepNote> m_notes; // in step order
    void saveNext();
    std::deque<formats::StepNote> m_queue; // changes not yet saved, oldest first
    bool m_saving = false;
};

} // namespace tapedeck::gui
