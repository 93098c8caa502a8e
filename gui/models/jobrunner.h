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

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#ifdef __linux__
#include <cerrno>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tapedeck::gui {

class JobRunner : public QObject {
    Q_OBJECT
public:
    // Interactive jobs (a step for the inspector, a search, a save) answer a click and must
    // not queue behind scans of the whole run (a regex over every tool output, finding the
    // benchmark evaluations), which run on a pool of their own with one thread.
    // Prefetch jobs prepare what may be looked at next (the inspector's other sections), on
    // one thread at a low priority, so that they do not slow the GUI thread or an
    // interactive job: stepping through long requests, that parse took a core from the next
    // step's load and paint.
    enum class Lane { Interactive, Background, Prefetch };

    explicit JobRunner(QObject *parent = nullptr, Lane lane = Lane::Interactive)
        : QObject(parent), m_pool(poolFor(lane)), m_lowPriority(lane == Lane::Prefetch)
    {
    }

    // Runs `work` off this thread, then `done(result)` on this thread, unless another job
    // of `kind` was started meanwhile or this runner was destroyed.
    template <typename T>
    void start(const QString &kind, std::function<T()> work, std::function<void(T)> done)
    {
        const uint64_t generation = ++m_generations[kind];
        QPointer<JobRunner> self(this);
        m_pool->start([self, kind, generation, lowPriority = m_lowPriority, work = std::move(work),
                       done = std::move(done)]() mutable {
            if (lowPriority)
                lowerThisThreadsPriority();
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
    // The pools of one thread are made on first use, as children of the application object.
    // As that object is destroyed, before it is gone, every pool (the global one too) is
    // emptied and waited for: a job still running then (a prefetch at its low priority on a
    // busy machine) may still hand its result to the application object, which drops it.
    static QThreadPool *poolFor(Lane lane)
    {
        static const std::array<QThreadPool *, 2> pools = [] {
            std::array<QThreadPool *, 2> made{};
            for (QThreadPool *&p : made) {
                p = new QThreadPool(QCoreApplication::instance());
                p->setMaxThreadCount(1);
            }
            qAddPostRoutine([] {
                for (QThreadPool *p : {pools[0], pools[1], QThreadPool::globalInstance()}) {
                    p->clear();
                    p->waitForDone();
                }
            });
            return made;
        }();
        switch (lane) {
        case Lane::Interactive:
            break;
        case Lane::Background:
            return pools[0];
        case Lane::Prefetch:
            return pools[1];
        }
        return QThreadPool::globalInstance();
    }

    // Linux keeps a nice value per thread. Ten above the GUI thread's, a thread gets about
    // a tenth of a core the GUI thread also wants, and all of an idle one: a long page parsed
    // there still arrives within a second on a busy machine. (QThread's priorities do
    // nothing for ordinary threads there, and its idle priority can leave a thread without
    // any CPU for as long as the machine is busy.)
    static void lowerThisThreadsPriority()
    {
#ifdef __linux__
        static thread_local bool lowered = false;
        if (std::exchange(lowered, true))
            return;
        const auto thread = id_t(syscall(SYS_gettid));
        errno = 0;
        const int nice = getpriority(PRIO_PROCESS, thread); // -1 is a nice value too
        if (errno == 0)
            setpriority(PRIO_PROCESS, thread, std::min(nice + 10, 19));
#endif
    }

    QThreadPool *m_pool;
    bool m_lowPriority;
    std::map<QString, uint64_t> m_generations;
};

} // namespace tapedeck::gui
