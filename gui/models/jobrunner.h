// The one way background work is run in the app: work runs on Qt's thread pool and its
// result is handed back on the runner's thread (the GUI thread) by a queued call. Jobs
// have a kind; starting a job supersedes the running one of the same kind, whose result is
// then dropped, as is every result that arrives after the runner is gone. Nothing waits
// or polls on the GUI thread.
//
// A job must not touch widgets or the runner; it gets what it needs by value (a tape path,
// a shared index) and opens its own TapeReader (readers are not thread-safe, and opening
// one reads nothing, so that is cheap).
#pragma once

#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include <functional>
#include <map>
#include <memory>

namespace tapedeck::gui {

class JobRunner : public QObject {
    Q_OBJECT
public:
    // Interactive jobs (a step for the inspector, a search, a save) answer a click and must
    // not queue behind scans of the whole run (a regex over every tool output, finding the
    // benchmark evaluations), which run on a pool of their own with one thread.
    enum class Lane { Interactive, Background };

    explicit JobRunner(QObject *parent = nullptr, Lane lane = Lane::Interactive)
        : QObject(parent), m_pool(lane == Lane::Background ? backgroundPool() : QThreadPool::globalInstance())
    {
    }

    // Runs `work` off this thread, then `done(result)` on this thread, unless another job
    // of `kind` was started meanwhile or this runner was destroyed.
    template <typename T>
    void start(const QString &kind, std::function<T()> work, std::function<void(T)> done)
    {
        const uint64_t generation = ++m_generations[kind];
        QPointer<JobRunner> self(this);
        m_pool->start([self, kind, generation, work = std::move(work),
                                              done = std::move(done)]() mutable {
            auto result = std::make_shared<T>(work());
            // The result goes by way of the application object, which outlives every
            // runner; `self` is only looked at there, on the GUI thread, where the runner
            // is destroyed, so it cannot vanish between the look and the call.
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [self, kind, generation, result, done = std::move(done)]() {
                    if (self && self->isCurrent(kind, generation))
                        done(std::move(*result));
                },
                Qt::QueuedConnection);
        });
    }

    // Drops the result of the running job of `kind`, if any.
    void cancel(const QString &kind) { ++m_generations[kind]; }

    bool isCurrent(const QString &kind, uint64_t generation) const
    {
        auto it = m_generations.find(kind);
        return it != m_generations.end() && it->second == generation;
    }

private:
    static QThreadPool *backgroundPool()
    {
        static QThreadPool *pool = [] {
            auto *p = new QThreadPool(QCoreApplication::instance());
            p->setMaxThreadCount(1);
            return p;
        }();
        return pool;
    }

    QThreadPool *m_pool;
    std::map<QString, uint64_t> m_generations;
};

} // namespace tapedeck::gui
