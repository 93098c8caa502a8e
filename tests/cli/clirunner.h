// Runs the built `tapedeck` binary (its path comes from the TAPEDECK_BIN definition) and
// collects what it printed and how it ended.
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace tapedeck::testutil {

struct CliRun {
    int exitCode = -1;      // -1 when the process crashed, could not start or timed out
    QByteArray out;
    QByteArray err;
    QString describe() const
    {
        return QStringLiteral("exit %1\n--- stdout:\n%2\n--- stderr:\n%3")
            .arg(exitCode)
            .arg(QString::fromUtf8(out.left(2000)), QString::fromUtf8(err.left(2000)));
    }
};

inline CliRun runTapedeck(const QStringList &args, const QByteArray &input = {}, int timeoutMs = 60000)
{
    QProcess p;
    p.setProgram(QStringLiteral(TAPEDECK_BIN));
    p.setArguments(args);
    p.start();
    CliRun r;
    if (!p.waitForStarted(10000))
        return r;
    if (!input.isEmpty())
        p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

} // namespace tapedeck::testutil
