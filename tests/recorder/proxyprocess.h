// A running `tapedeck proxy` (path from the TAPEDECK_BIN definition) in front of an
// upstream, for the recorder's suites.
#pragma once

#include "modelprocess.h"
#include "recordedsteps.h"

namespace tapedeck::testutil {

inline QStringList proxyArguments(const QString &tape, const QString &upstream, const QStringList &extra)
{
    QStringList args{QStringLiteral("proxy"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("-o"), tape};
    if (!upstream.isEmpty())
        args << QStringLiteral("--upstream") << upstream;
    return args + extra;
}

// SIGTERM makes the proxy commit what it has, end the run and exit 0.
class ProxyProcess : public ListeningProcess {
public:
    ProxyProcess(const QString &tape, const QString &upstream, const QStringList &extra = {})
        : ListeningProcess(QStringLiteral(TAPEDECK_BIN), proxyArguments(tape, upstream, extra))
    {
    }
};

} // namespace tapedeck::testutil
