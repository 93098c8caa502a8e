// `tapedeck export` run as a process: every output format and flag against the library's
// own answers, bad paths and URLs with their exit codes, and --otlp-endpoint against a real
// HTTP collector on loopback (cpp-httplib) that records what arrived.
#include "clirunner.h"
#include "testutil.h"

#include <tapedeck/formats/exporters.h>

#include <httplib.h>

#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::vector<json> spansOf(const json &doc)
{
    std::vector<json> spans;
    for (const json &rs : doc.at("resourceSpans"))
        for (const json &ss : rs.at("scopeSpans"))
            for (const json &span : ss.at("spans"))
                spans.push_back(span);
    return spans;
}

// An OTLP/HTTP collector on a loopback port: answers each POST as `reply` says and keeps
// what it was sent.
class LoopbackCollector {
public:
    struct Request {
        std::string path;
        std::string contentType;
        std::string authorization;
        std::string body;
    };
    struct Reply {
        int status = 200;
        std::string body = "{}";
    };
    using Policy = std::function<Reply(int requestNumber)>;

    explicit LoopbackCollector(Policy reply = {}) : m_reply(std::move(reply))
    {
        m_server.Post(".*", [this](const httplib::Request &req, httplib::Response &res) {
            std::lock_guard lock(m_mutex);
            m_requests.push_back({req.path, req.get_header_value("Content-Type"),
                                  req.get_header_value("Authorization"), req.body});
            const Reply r = m_reply ? m_reply(int(m_requests.size())) : Reply{};
            res.status = r.status;
            res.set_content(r.body, "application/json");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~LoopbackCollector()
    {
        m_server.stop();
        m_thread.join();
    }

    QString url(const QString &path = {}) const
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path);
    }
    std::vector<Request> requests()
    {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    httplib::Server m_server;
    Policy m_reply;
    int m_port = 0;
    std::thread m_thread;
    std::mutex m_mutex;
    std::vector<Request> m_requests;
};

// A loopback port nobody listens on (bound, then closed).
int closedPort()
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

} // namespace

class TestExportCommand : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_tape;
    SampleTape m_sample;
    std::unique_ptr<TapeReader> m_reader;
    std::string m_otlp;   // exportOtlp() of m_tape, in process
    std::string m_chrome; // exportChromeTrace()
    std::string m_jsonl;  // exportJsonl()

    QString file(const QString &name) const { return m_dir.filePath(name); }

    std::string otlpOf(const OtlpOptions &options) const
    {
        std::ostringstream out;
        return exportOtlp(*m_reader, out, options) ? out.str() : std::string();
    }

    // The spans a series of request bodies held, as the set of their JSON texts.
    static std::set<std::string> spanTexts(const std::vector<std::string> &bodies)
    {
        std::set<std::string> out;
        for (const std::string &body : bodies)
            for (const json &span : spansOf(json::parse(body)))
                out.insert(span.dump());
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = file(QStringLiteral("sample.tape"));
        auto sample = writeSampleTape(m_tape.toStdString());
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        auto reader = TapeReader::open(m_tape.toStdString());
        QVERIFY(reader);
        m_reader = std::move(*reader);
        m_otlp = otlpOf({});
        QVERIFY(!m_otlp.empty());
        std::ostringstream chrome, jsonl;
        QVERIFY(exportChromeTrace(*m_reader, chrome));
        QVERIFY(exportJsonl(*m_reader, jsonl));
        m_chrome = chrome.str();
        m_jsonl = jsonl.str();
    }

    void help()
    {
        const CliRun r = runTapedeck({"export", "--help"});
        QCOMPARE(r.exitCode, 0);
        for (const char *word :
             {"--jsonl", "--otlp", "--otlp-endpoint", "--otlp-content", "--otlp-header",
              "--chrome-trace", "--run", "--branch", kOtelSemconvVersion, kOtelSchemaUrl})
            QVERIFY2(r.out.contains(word), word);
    }

    // Each format to a file and to stdout ("-"), the same bytes the library writes.
    void formats_data()
    {
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("kind");
        QTest::newRow("otlp") << QStringList{"--otlp"} << "otlp";
        QTest::newRow("chrome trace") << QStringList{"--chrome-trace"} << "chrome";
    }
    void formats()
    {
        QFETCH(QStringList, flags);
        QFETCH(QString, kind);
        const QByteArray expected = QByteArray::fromStdString(kind == "otlp" ? m_otlp : m_chrome);
        const QString out = file(kind + ".json");
        const CliRun toFile = runTapedeck(QStringList{"export", m_tape} << flags << out);
        QVERIFY2(toFile.exitCode == 0, qPrintable(toFile.describe()));
        QCOMPARE(QByteArray::fromStdString(readFile(out.toStdString())), expected);
        QVERIFY(toFile.err.contains(out.toUtf8()));
        QVERIFY(toFile.out.isEmpty());

        const CliRun toStdout = runTapedeck(QStringList{"export", m_tape} << flags << "-");
        QVERIFY2(toStdout.exitCode == 0, qPrintable(toStdout.describe()));
        QCOMPARE(toStdout.out, expected);
    }

    void jsonlKeepsWorking()
    {
        const CliRun r = runTapedeck({"export", "--jsonl", m_tape});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QByteArray::fromStdString(m_jsonl));
    }

    // Several outputs in one run of the command.
    void severalAtOnce()
    {
        const QString otlp = file("both.otlp.json"), chrome = file("both.chrome.json");
        const CliRun r =
            runTapedeck({"export", m_tape, "--otlp", otlp, "--chrome-trace", chrome, "--jsonl"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(readFile(otlp.toStdString()), m_otlp);
        QCOMPARE(readFile(chrome.toStdString()), m_chrome);
        QCOMPARE(r.out, QByteArray::fromStdString(m_jsonl));
    }

    void contentIsOptIn()
    {
        const CliRun plain = runTapedeck({"export", m_tape, "--otlp", "-"});
        QCOMPARE(plain.exitCode, 0);
        QVERIFY(!plain.out.contains("gen_ai.input.messages"));
        QVERIFY(!plain.out.contains(QByteArray::fromStdString(m_sample.uniqueWord)));
        const CliRun content = runTapedeck({"export", m_tape, "--otlp", "-", "--otlp-content"});
        QCOMPARE(content.exitCode, 0);
        OtlpOptions options;
        options.includeContent = true;
        QCOMPARE(content.out, QByteArray::fromStdString(otlpOf(options)));
        QVERIFY(content.out.contains("gen_ai.input.messages"));
        QVERIFY(content.out.contains(QByteArray::fromStdString(m_sample.uniqueWord)));
    }

    void selection()
    {
        const QString branch = QString::number(m_sample.forkedBranch.value);
        const CliRun r = runTapedeck({"export", m_tape, "--otlp", "-", "--branch", branch});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        OtlpOptions options;
        options.selection.branch = m_sample.forkedBranch;
        QCOMPARE(r.out, QByteArray::fromStdString(otlpOf(options)));

        const CliRun run = runTapedeck({"export", m_tape, "--chrome-trace", "-", "--run", "1"});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray::fromStdString(m_chrome)); // the tape's only run

        const CliRun missing = runTapedeck({"export", m_tape, "--otlp", "-", "--run", "7"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains("no run 7"));
        QVERIFY(missing.err.contains(m_tape.toUtf8()));
        QVERIFY(missing.out.isEmpty());
    }

    void badCommandLines_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        const QString tape = file("sample.tape");
        QTest::newRow("no format") << QStringList{"export", tape} << 2 << "at least one of";
        QTest::newRow("two outputs on stdout")
            << QStringList{"export", tape, "--otlp", "-", "--chrome-trace", "-"} << 2 << "stdout";
        QTest::newRow("content without otlp")
            << QStringList{"export", tape, "--chrome-trace", "-", "--otlp-content"} << 2
            << "--otlp-content";
        QTest::newRow("--run with --jsonl")
            << QStringList{"export", tape, "--jsonl", "--run", "1"} << 2 << "--run";
        QTest::newRow("endpoint not http")
            << QStringList{"export", tape, "--otlp-endpoint", "ftp://example.com"} << 2
            << "ftp://example.com";
        QTest::newRow("endpoint not a URL")
            << QStringList{"export", tape, "--otlp-endpoint", "localhost:4318"} << 2
            << "localhost:4318";
        QTest::newRow("header without a value")
            << QStringList{"export",        tape,           "--otlp-endpoint", "http://127.0.0.1:1",
                           "--otlp-header", "Authorization"}
            << 2 << "NAME: VALUE";
        QTest::newRow("missing tape")
            << QStringList{"export", file("nope.tape"), "--otlp", "-"} << 3 << "nope.tape";
        QTest::newRow("otlp into a missing directory")
            << QStringList{"export", tape, "--otlp", file("no/such/dir/out.json")} << 5
            << "no/such/dir/out.json";
        QTest::newRow("trace into a missing directory")
            << QStringList{"export", tape, "--chrome-trace", file("no/such/dir/t.json")} << 5
            << "no/such/dir/t.json";
    }
    void badCommandLines()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const CliRun r = runTapedeck(args);
        QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(message.toUtf8()), qPrintable(r.describe()));
    }

    // ---- --otlp-endpoint -------------------------------------------------------------

    // A URL without a path gets /v1/traces; what arrives is JSON with the right content type
    // and holds the spans the file export holds.
    void endpointReceivesTheSpans()
    {
        LoopbackCollector collector;
        const CliRun r = runTapedeck({"export", m_tape, "--otlp-endpoint", collector.url()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const auto requests = collector.requests();
        QCOMPARE(requests.size(), size_t(1));
        QCOMPARE(q(requests[0].path), QStringLiteral("/v1/traces"));
        QCOMPARE(q(requests[0].contentType), QStringLiteral("application/json"));
        QVERIFY(spanTexts({requests[0].body}) == spanTexts({m_otlp}));
        QVERIFY2(r.err.contains("sent 14 spans in 1 traces (1 request)"), qPrintable(r.describe()));
        QVERIFY(r.err.contains(collector.url(QStringLiteral("/v1/traces")).toUtf8()));
    }

    void endpointWithPathAndHeaders()
    {
        LoopbackCollector collector;
        const CliRun r = runTapedeck(
            {"export", m_tape, "--otlp-endpoint", collector.url(QStringLiteral("/otlp/v1/traces")),
             "--otlp-header", "Authorization: Basic dGFwZTpkZWNr", "--otlp-content"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const auto requests = collector.requests();
        QCOMPARE(requests.size(), size_t(1));
        QCOMPARE(q(requests[0].path), QStringLiteral("/otlp/v1/traces"));
        QCOMPARE(q(requests[0].authorization), QStringLiteral("Basic dGFwZTpkZWNr"));
        QVERIFY(requests[0].body.find("gen_ai.input.messages") != std::string::npos);
    }

    // Large tapes go in batches of --otlp-batch spans, the same the library makes.
    void endpointBatches()
    {
        LoopbackCollector collector;
        const CliRun r = runTapedeck(
            {"export", m_tape, "--otlp-endpoint", collector.url(), "--otlp-batch", "4"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        OtlpOptions options;
        options.maxBatchSpans = 4;
        std::vector<std::string> expected;
        QVERIFY(exportOtlpBatches(*m_reader, options, [&](const std::string &body, int64_t) {
            expected.push_back(body);
            return Status{};
        }));
        const auto requests = collector.requests();
        QCOMPARE(requests.size(), expected.size());
        QCOMPARE(requests.size(), size_t(4)); // 14 spans
        std::vector<std::string> bodies;
        for (size_t i = 0; i < requests.size(); ++i) {
            QCOMPARE(requests[i].body, expected[i]);
            QVERIFY(spansOf(json::parse(requests[i].body)).size() <= 4);
            bodies.push_back(requests[i].body);
        }
        QVERIFY(spanTexts(bodies) == spanTexts({m_otlp}));
    }

    // Refusals name the URL and the status and end with exit 5.
    void endpointRefuses_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("400") << 400 << "{\"error\":\"unknown field kind\"}"
                             << "HTTP 400: {\"error\":\"unknown field kind\"}";
        QTest::newRow("500") << 500 << ""
                             << "HTTP 500";
        QTest::newRow("partial success")
            << 200 << "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"too old\"}}"
            << "the collector rejected 3 spans: too old";
    }
    void endpointRefuses()
    {
        QFETCH(int, status);
        QFETCH(QString, body);
        QFETCH(QString, message);
        LoopbackCollector collector([&](int) {
            return LoopbackCollector::Reply{status, body.toStdString()};
        });
        const CliRun r = runTapedeck({"export", m_tape, "--otlp-endpoint", collector.url()});
        QVERIFY2(r.exitCode == 5, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(collector.url(QStringLiteral("/v1/traces")).toUtf8()),
                 qPrintable(r.describe()));
        QVERIFY2(r.err.contains(message.toUtf8()), qPrintable(r.describe()));
        QCOMPARE(collector.requests().size(), size_t(1)); // not retried
    }

    // 503 is worth another try (the OTLP/HTTP spec's retryable statuses).
    void endpointRetries()
    {
        LoopbackCollector collector([](int n) {
            return n == 1 ? LoopbackCollector::Reply{503, "busy"} : LoopbackCollector::Reply{};
        });
        const CliRun r = runTapedeck({"export", m_tape, "--otlp-endpoint", collector.url()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const auto requests = collector.requests();
        QCOMPARE(requests.size(), size_t(2));
        QCOMPARE(requests[0].body, requests[1].body);
    }

    void endpointUnreachable()
    {
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(closedPort());
        const CliRun r = runTapedeck({"export", m_tape, "--otlp-endpoint", url});
        QVERIFY2(r.exitCode == 5, qPrintable(r.describe()));
        QVERIFY2(r.err.contains((url + "/v1/traces").toUtf8()), qPrintable(r.describe()));
    }
};

QTEST_GUILESS_MAIN(TestExportCommand)
#include "tst_exportcommand.moc"
