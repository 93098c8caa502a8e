// A process a test talks to over its stdin and stdout a line at a time: an MCP server, or
// `tapedeck mcp` in front of one or in its place.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tapedeck::testutil {

// A process the test talks to over its stdin and stdout, a line at a time.
class LineProcess {
public:
    // This process's environment, less TAPEDECK_PROXY_URL: a `tapedeck mcp` under test
    // reports to no recorder unless the test says so.
    static QProcessEnvironment ownEnvironment()
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("TAPEDECK_PROXY_URL"));
        return environment;
    }

    LineProcess(const QString &program, const QStringList &args,
                const QProcessEnvironment &environment = ownEnvironment())
    {
        m_process.setProcessEnvironment(environment);
        m_process.start(program, args);
        m_process.waitForStarted(10000);
    }
    ~LineProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    void send(const std::string &bytes)
    {
        m_process.write(bytes.data(), static_cast<qint64>(bytes.size()));
        m_process.waitForBytesWritten(5000);
    }

    // The next line on stdout (without its newline), or nothing after `timeoutMs`.
    std::optional<std::string> readLine(int timeoutMs = 20000)
    {
        QElapsedTimer timer;
        timer.start();
        while (!m_out.contains('\n')) {
            if (timer.elapsed() > timeoutMs || m_process.state() == QProcess::NotRunning)
                return std::nullopt;
            m_process.waitForReadyRead(100);
            m_out += m_process.readAllStandardOutput();
        }
        const qsizetype end = m_out.indexOf('\n');
        std::string line = m_out.left(end).toStdString();
        m_out.remove(0, end + 1);
        return line;
    }

    // Sends `request` and returns the line that answers it (same id), skipping the rest.
    std::optional<std::string> call(const nlohmann::json &request)
    {
        send(request.dump() + "\n");
        while (std::optional<std::string> line = readLine()) {
            const nlohmann::json message = nlohmann::json::parse(*line, nullptr, false);
            if (message.is_object() && message.value("id", nlohmann::json()) == request["id"] &&
                !message.contains("method"))
                return line;
        }
        return std::nullopt;
    }

    // Closes stdin and waits; the exit code, or -1 when it did not end by itself.
    int closeAndWait(int timeoutMs = 20000)
    {
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(timeoutMs))
            return -1;
        m_out += m_process.readAllStandardOutput();
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }
    void terminate() { m_process.terminate(); }
    bool waitForFinished(int timeoutMs) { return m_process.waitForFinished(timeoutMs); }
    int exitCode() const { return m_process.exitCode(); }

    QByteArray restOfStdout() { return m_out += m_process.readAllStandardOutput(); }
    QByteArray stderrText() { return m_err += m_process.readAllStandardError(); }

private:
    QProcess m_process;
    QByteArray m_out;
    QByteArray m_err;
};

} // namespace tapedeck::testutil
