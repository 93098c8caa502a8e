// What the replayer's end-to-end suites share: `tapedeck` run as a process, files written
// and read back, and a fresh copy of the kernel-tuning workspace.
#pragma once

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTest>

#include <nlohmann/json.hpp>

namespace tapedeck::testutil {

struct Finished {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

inline Finished runTapedeck(const QStringList &args, int timeoutMs = 90000)
{
    QProcess process;
    process.start(QStringLiteral(TAPEDECK_BIN), args);
    Finished f;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        f.err = "timed out: " + process.readAllStandardError();
        return f;
    }
    f.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    f.out = process.readAllStandardOutput();
    f.err = process.readAllStandardError();
    return f;
}

inline void writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

inline nlohmann::json readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return nlohmann::json();
    return nlohmann::json::parse(file.readAll().toStdString(), nullptr, false);
}

// samples/kernel-tuning as a user gets it (no build outputs), copied to `work`.
inline void copyKernelWorkspace(const QString &work)
{
    QDir(work).removeRecursively();
    QVERIFY(QDir().mkpath(work));
    const QDir from(QStringLiteral(KERNEL_TUNING_DIR));
    for (const QString &name : from.entryList(QDir::Files))
        if (name != "run_bench" && name != "best_kernel.c")
            QVERIFY(QFile::copy(from.filePath(name), QDir(work).filePath(name)));
}

} // namespace tapedeck::testutil
