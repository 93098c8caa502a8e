// Tells when a tape another process writes has grown: `tapedeck fork` appends the new
// branch's steps while the app shows the tape. SQLite in WAL mode writes the -wal file
// first, and file notifications are not sent on every platform or filesystem, so the
// watcher also polls the sizes and times of both files. Changes come at most once per
// interval. GUI thread.
#pragma once

#include <QDateTime>
#include <QObject>
#include <QTimer>

namespace tapedeck::gui {

class TapeWatcher : public QObject {
    Q_OBJECT
public:
    explicit TapeWatcher(QObject *parent = nullptr);

    // Starts watching `path` (and its -wal); stop() or another watch() ends it.
    void watch(const QString &path, int intervalMs = 500);
    void stop();
    bool isWatching() const { return m_timer.isActive(); }

Q_SIGNALS:
    void changed();

private:
    QString fingerprint() const;
    void poll();

    QString m_path;
    QString m_last;
    QTimer m_timer;
};

} // namespace tapedeck::gui
