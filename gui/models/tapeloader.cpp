#include "tapeloader.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QThreadPool>

#include <chrono>

namespace tapedeck::gui {

TapeLoader::TapeLoader(QObject *parent) : QObject(parent) {}

TapeLoader::~TapeLoader()
{
    cancel();
}

void TapeLoader::cancel()
{
    ++m_generation;
    if (m_cancel)
        m_cancel->store(true);
    m_cancel.reset();
    m_loading = false;
}

void TapeLoader::open(const QString &path)
{
    cancel();
    const uint64_t generation = m_generation;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    m_cancel = cancelFlag;
    m_loading = true;
    QPointer<TapeLoader> self(this);

    // Runs `deliver` on the GUI thread if this load is still the current one. Results go
    // by way of the application object, which outlives the loader, and `self` is only
    // looked at on the GUI thread, where the loader is destroyed.
    auto post = [self, generation](std::function<void(TapeLoader *)> deliver) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, generation, deliver = std::move(deliver)]() {
                if (self && self->m_generation == generation)
                    deliver(self.data());
            },
            Qt::QueuedConnection);
    };

    const std::string file = path.toStdString();
    QThreadPool::globalInstance()->start([file, cancelFlag, post]() {
        auto reader = formats::TapeReader::open(file);
        if (!reader) {
            const QString message = QString::fromStdString(reader.error().message);
            post([message](TapeLoader *l) {
                l->m_loading = false;
                Q_EMIT l->loadFailed(message);
            });
            return;
        }
        auto summary = (*reader)->summary();
        if (!summary) {
            const QString message = QString::fromStdString(summary.error().message);
            post([message](TapeLoader *l) {
                l->m_loading = false;
                Q_EMIT l->loadFailed(message);
            });
            return;
        }
        auto first = std::make_shared<const TapeIndex>(file, std::move(*summary), std::vector<StepRow>{},
                                                       std::vector<std::string>{});
        post([first](TapeLoader *l) { Q_EMIT l->summaryAvailable(first); });

        // Progress is posted a few times a second at most: a queued call per batch of rows
        // would flood the GUI thread on a fast disk.
        auto lastPost = std::chrono::steady_clock::now();
        auto index = TapeIndex::load(
            **reader,
            [&](int64_t done, int64_t total) {
                auto now = std::chrono::steady_clock::now();
                if (now - lastPost < std::chrono::milliseconds(100))
                    return;
                lastPost = now;
                post([done, total](TapeLoader *l) { Q_EMIT l->progress(done, total); });
            },
            cancelFlag.get());
        if (cancelFlag->load())
            return;
        if (!index) {
            const QString message = QString::fromStdString(index.error().message);
            post([message](TapeLoader *l) {
                l->m_loading = false;
                Q_EMIT l->loadFailed(message);
            });
            return;
        }
        auto loaded = std::move(*index);
        post([loaded](TapeLoader *l) {
            l->m_loading = false;
            Q_EMIT l->indexAvailable(loaded);
        });
    });
}

} // namespace tapedeck::gui
