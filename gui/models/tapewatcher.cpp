#include "tapewatcher.h"

#include <QFileInfo>

namespace tapedeck::gui {

TapeWatcher::TapeWatcher(QObject *parent) : QObject(parent)
{
    connect(&m_timer, &QTimer::timeout, this, &TapeWatcher::poll);
}

void TapeWatcher::watch(const QString &path, int intervalMs)
{
    m_path = path;
    m_last = fingerprint();
    m_timer.start(intervalMs);
}

void TapeWatcher::stop()
{
    m_timer.stop();
}

QString TapeWatcher::fingerprint() const
{
    QString out;
    for (const QString &file : {m_path, m_path + QStringLiteral("-wal")}) {
        const QFileInfo info(file);
        out += QStringLiteral("%1:%2;").arg(info.exists() ? info.size() : -1).arg(
            info.exists() ? info.lastModified().toMSecsSinceEpoch() : 0);
    }
    return out;
}

void TapeWatcher::poll()
{
    const QString now = fingerprint();
    if (now == m_last)
        return;
    m_last = now;
    Q_EMIT changed();
}

} // namespace tapedeck::gui
