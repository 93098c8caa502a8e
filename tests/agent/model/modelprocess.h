// A running server process (tapedeck-model, `tapedeck proxy`) and a small libcurl client for
// talking to it, shared by the suites that run servers.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QMap>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <curl/curl.h>

#include <string>
#include <vector>

namespace tapedeck::testutil {

// A server process that prints "listening on http://127.0.0.1:PORT" first (the model
// server, `tapedeck proxy`): started and waited for until that line; SIGTERM stops it.
class ListeningProcess {
public:
    ListeningProcess(const QString &program, const QStringList &args)
    {
        m_process.setProgram(program);
        m_process.setArguments(args);
        m_process.start();
        if (!m_process.waitForStarted(10000))
            return;
        QElapsedTimer timer;
        timer.start();
        while (!m_out.contains('\n') && timer.elapsed() < 15000 &&
               m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(200);
            m_out += m_process.readAllStandardOutput();
        }
        const QByteArray line = m_out.left(m_out.indexOf('\n'));
        const QByteArray prefix = "listening on http://127.0.0.1:";
        if (line.startsWith(prefix))
            m_port = line.mid(prefix.size()).toInt();
    }
    ~ListeningProcess() { stop(); }

    int port() const { return m_port; }
    std::string url(const std::string &path) const
    {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }
    QByteArray firstLine() const { return m_out.left(m_out.indexOf('\n')); }

    // SIGTERM and wait; the exit code, or -1 if it crashed or hung.
    int stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return m_exitCode;
        m_process.terminate();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished();
            return m_exitCode = -1;
        }
        m_err += m_process.readAllStandardError();
        m_exitCode = m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        return m_exitCode;
    }
    // SIGKILL: nothing is given a chance to finish.
    void kill()
    {
        m_process.kill();
        m_process.waitForFinished();
    }
    QByteArray stderrText()
    {
        m_err += m_process.readAllStandardError();
        return m_err;
    }

private:
    QProcess m_process;
    QByteArray m_out;
    QByteArray m_err;
    int m_port = 0;
    int m_exitCode = -1;
};

#ifdef TAPEDECK_MODEL_BIN
// The scripted model server (path from the TAPEDECK_MODEL_BIN definition).
class ModelProcess : public ListeningProcess {
public:
    explicit ModelProcess(const QStringList &args)
        : ListeningProcess(QStringLiteral(TAPEDECK_MODEL_BIN), args)
    {
    }
};
#endif

struct HttpReply {
    CURLcode code = CURLE_OK;
    long status = 0;
    QMap<QByteArray, QByteArray> headers; // names lowercased
    std::string body;
    std::vector<std::string> chunks; // the body as it arrived, one element per read
    std::vector<qint64> chunkAtMs;   // when each element arrived, from the request's start
};

// One request with libcurl; `method` "GET", "HEAD" or "POST" (with `body`).
inline HttpReply
httpRequest(const std::string &method, const std::string &url, const std::string &body = {},
            const std::vector<std::string> &headers = {"content-type: application/json"})
{
    struct Sink {
        HttpReply reply;
        QElapsedTimer timer;
    } sink;
    sink.timer.start();
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_slist *list = nullptr;
    for (const std::string &h : headers)
        list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    if (method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else if (method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    using WriteFn = size_t (*)(char *, size_t, size_t, void *);
    WriteFn onBody = [](char *data, size_t size, size_t n, void *user) -> size_t {
        auto *s = static_cast<Sink *>(user);
        s->reply.body.append(data, size * n);
        s->reply.chunks.emplace_back(data, size * n);
        s->reply.chunkAtMs.push_back(s->timer.elapsed());
        return size * n;
    };
    WriteFn onHeader = [](char *data, size_t size, size_t n, void *user) -> size_t {
        auto *s = static_cast<Sink *>(user);
        const QByteArray line = QByteArray(data, static_cast<qsizetype>(size * n)).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            s->reply.headers.insert(line.left(colon).trimmed().toLower(),
                                    line.mid(colon + 1).trimmed());
        return size * n;
    };
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
    sink.reply.code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &sink.reply.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return sink.reply;
}

inline HttpReply httpPost(const std::string &url, const std::string &body)
{
    return httpRequest("POST", url, body);
}

inline HttpReply httpGet(const std::string &url)
{
    return httpRequest("GET", url);
}

} // namespace tapedeck::testutil
