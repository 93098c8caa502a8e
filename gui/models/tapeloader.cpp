#include "tapeloader.h"

#include "tapedeck/formats/importers.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>
#include <QStandardPaths>
#include <QThreadPool>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace tapedeck::gui {

namespace {

// The tape an imported file becomes: named after the file, its place, size and time, so an
// edited or moved file is imported anew.
std::string importedTapePath(const QString &folder, const QString &path)
{
    const QFileInfo info(path);
    const QByteArray key = (info.absoluteFilePath() + QLatin1Char('|') + QString::number(info.size()) +
                            QLatin1Char('|') + QString::number(info.lastModified().toMSecsSinceEpoch()))
                               .toUtf8();
    const QString hash = QString::fromLatin1(
        QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex().left(16));
    return QDir(folder).filePath(info.completeBaseName() + QLatin1Char('-') + hash +
                                 QStringLiteral(".tape"))
        .toStdString();
}

// Imports `file` into `tape` unless that was done before. Written beside it and renamed
// at the end, so a tape found in the cache is always a whole import.
formats::Result<formats::ImportFormat> importToCache(
    const std::string &file, const std::string &tape, std::string_view head,
    const std::function<void(formats::ImportFormat, int64_t, int64_t)> &progress)
{
    auto format = formats::detectImportFormat(head, file);
    if (!format)
        return format.error();
    std::error_code ec;
    if (std::filesystem::exists(tape, ec))
        return *format;
    std::filesystem::create_directories(std::filesystem::path(tape).parent_path(), ec);
    const std::string partial = tape + ".partial";
    formats::WriterOptions options;
    options.overwrite = true;
    options.commitInterval = formats::kImportCommitInterval;
    {
        auto writer = formats::TapeWriter::create(partial, options);
        if (!writer)
            return writer.error();
        formats::ImportOptions io;
        io.progress = [&](int64_t done, int64_t total) { progress(*format, done, total); };
        auto report = formats::importFile(file, *format, **writer, io);
        if (!report) {
            writer->reset();
            std::filesystem::remove(partial, ec);
            return report.error();
        }
    }
    std::filesystem::rename(partial, tape, ec);
    if (ec)
        return formats::Error{formats::ErrorCode::Io, tape + ": " + ec.message()};
    return *format;
}

std::string headOf(const std::string &file)
{
    std::ifstream in(file, std::ios::binary);
    std::string head(formats::kDetectBytes, '\0');
    in.read(head.data(), std::streamsize(head.size()));
    head.resize(size_t(in.gcount()));
    return head;
}

} // namespace

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

QString TapeLoader::importCache() const
{
    if (!m_importCache.isEmpty())
        return m_importCache;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation))
        .filePath(QStringLiteral("imported"));
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

    const std::string requested = path.toStdString();
    const std::string cached = importedTapePath(importCache(), path);
    QThreadPool::globalInstance()->start([requested, cached, cancelFlag, post]() {
        std::string file = requested;
        auto reader = formats::TapeReader::open(file);
        // Not a tape: perhaps a trajectory that can be imported.
        if (!reader && reader.error().code == formats::ErrorCode::NotATape) {
            auto lastPost = std::chrono::steady_clock::now();
            auto imported = importToCache(
                requested, cached, headOf(requested),
                [&](formats::ImportFormat format, int64_t done, int64_t total) {
                    auto now = std::chrono::steady_clock::now();
                    if (now - lastPost < std::chrono::milliseconds(100) && done != total)
                        return;
                    lastPost = now;
                    const QString name = QString::fromLatin1(formats::importFormatName(format));
                    post([name, done, total](TapeLoader *l) { Q_EMIT l->importProgress(name, done, total); });
                });
            if (imported) {
                file = cached;
                reader = formats::TapeReader::open(file);
            } else if (imported.error().code != formats::ErrorCode::Parse ||
                       imported.error().message.find("not a format Tapedeck imports") == std::string::npos) {
                reader = imported.error(); // a trajectory, but it could not be imported
            }
        }
        if (cancelFlag->load())
            return;
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
