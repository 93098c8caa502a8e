// Opens a tape off the GUI thread and publishes it in stages, as heaptrack's parser does:
// first the summary (the running totals the writer keeps: the same cost for any length of
// run, so the window has something to show at once), then the packed step index with
// progress on the way. Opening another tape supersedes a load in progress, whose results
// are dropped. A file that is not a tape but a trajectory another agent wrote (importers.h)
// is imported first, in the same background job, into a tape kept in the user's cache
// folder and found there again the next time the same unchanged file is opened. Lives on
// the GUI thread; its signals are emitted there.
#pragma once

#include "tapeindex.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

namespace tapedeck::gui {

class TapeLoader : public QObject {
    Q_OBJECT
public:
    explicit TapeLoader(QObject *parent = nullptr);
    ~TapeLoader() override;

    void open(const QString &path);
    // Where imported trajectories are kept as tapes (default: the cache folder's "imported").
    void setImportCache(const QString &folder) { m_importCache = folder; }
    QString importCache() const;
    // Stops the load in progress; nothing more is emitted for it.
    void cancel();
    bool isLoading() const { return m_loading; }

Q_SIGNALS:
    // An index holding the summary and no rows yet.
    void summaryAvailable(std::shared_ptr<const tapedeck::gui::TapeIndex> summary);
    void progress(qint64 done, qint64 total);
    // A trajectory of `format` is being imported: `done` of `total` bytes read.
    void importProgress(const QString &format, qint64 done, qint64 total);
    // The whole index; when the tape is damaged it holds the rows up to the last good step
    // and says why in damage().
    void indexAvailable(std::shared_ptr<const tapedeck::gui::TapeIndex> index);
    // The tape could not be opened at all (not a tape, a newer format, no such file).
    void loadFailed(const QString &message);

private:
    uint64_t m_generation = 0;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    bool m_loading = false;
    QString m_importCache;
};

} // namespace tapedeck::gui
