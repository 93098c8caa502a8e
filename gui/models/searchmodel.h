// Full-text search over the open tape (the store's FTS index), as a list of hits. A query
// runs as a background job; typing a new query supersedes the running one. GUI thread.
#pragma once

#include "jobrunner.h"
#include "viewstate.h"

#include <QAbstractTableModel>

#include <vector>

namespace tapedeck::gui {

class SearchModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Step, Field, Snippet, ColumnCount };
    static constexpr int StepIndexRole = Qt::UserRole + 1;
    static constexpr int kMaxHits = 1000;

    explicit SearchModel(ViewState *state, QObject *parent = nullptr);

    // Starts a search; an empty query clears the hits.
    void search(const QString &query);
    QString query() const { return m_query; }
    bool isSearching() const { return m_searching; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    formats::StepIndex stepAt(int row) const;

Q_SIGNALS:
    // The hits of `query` are in (there may be none); `capped` when there were more than
    // kMaxHits.
    void finished(const QString &query, int hits, bool capped);
    void failed(const QString &query, const QString &message);

private:
    void setHits(std::vector<formats::SearchHit> hits);

    ViewState *m_state;
    JobRunner m_jobs;
    QString m_query;
    bool m_searching = false;
    std::vector<formats::SearchHit> m_hits;
};

} // namespace tapedeck::gui
