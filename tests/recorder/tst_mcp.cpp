// `tapedeck mcp` end to end: the test is the MCP client, on the relay's stdin and stdout,
// in front of the real @modelcontextprotocol/server-filesystem (node); the answers are
// checked against what the server sends when talked to directly, and the tape (written by
// the relay itself with -o, or by `tapedeck record` around it) against what was said.
#include "lineprocess.h"
#include "recordedsteps.h"

#include <tapedeck/formats/tape.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <csignal>
#include <map>
#include <optional>

using namespace tapedeck;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {


QString serverScript()
{
    return QStringLiteral(TAPEDECK_MCP_FILESYSTEM_SERVER);
}

// The server's command line, allowed to touch `dir` only.
QStringList serverCommand(const QString &dir)
{
    return {QStringLiteral(TAPEDECK_NODE_BIN), serverScript(), dir};
}

// The exchange every case has: what was sent for each request id and the answer that came.
struct Exchange {
    std::map<std::string, std::string> requests;  // id (as JSON text) -> the line sent
    std::map<std::string, std::string> responses; // id -> the line that came back
    QString file;    // written by the test inside the allowed directory
    QString outside; // a file outside it
};

json request(const json &id, const std::string &method, const json &params = nullptr)
{
    json r = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null())
        r["params"] = params;
    return r;
}

// initialize, initialized, a line that is not JSON, tools/list, a read that works, one that
// the server refuses (outside the allowed directory), and a call with a string id.
bool talk(LineProcess &client, const QString &allowed, const QString &outside, Exchange &out)
{
    out.file = allowed + "/hello.txt";
    out.outside = outside;
    const std::vector<json> requests = {
        request(1, "initialize",
                {{"protocolVersion", "2025-06-18"},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "tst_mcp"}, {"version", "1"}}}}),
        request(2, "tools/list"),
        request(3, "tools/call",
                {{"name", "read_text_file"}, {"arguments", {{"path", out.file.toStdString()}}}}),
        request(4, "tools/call",
                {{"name", "read_text_file"}, {"arguments", {{"path", outside.toStdString()}}}}),
        request("five", "tools/call",
                {{"name", "list_directory"}, {"arguments", {{"path", allowed.toStdString()}}}}),
    };
    for (const json &r : requests) {
        const std::optional<std::string> answer = client.call(r);
        if (!answer)
            return false;
        out.requests[r["id"].dump()] = r.dump();
        out.responses[r["id"].dump()] = *answer;
        if (r["method"] == "initialize") {
            client.send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                        "\n");
            client.send("this line is not JSON\n");
        }
    }
    return true;
}

// A temporary directory with an allowed folder (holding hello.txt) and a file outside it.
struct Workspace {
    QTemporaryDir dir;
    QString allowed;
    QString outside;
    Workspace()
    {
        allowed = QFileInfo(dir.filePath("allowed")).absoluteFilePath();
        QDir().mkpath(allowed);
        QFile hello(allowed + "/hello.txt");
        hello.open(QIODevice::WriteOnly);
        hello.write("hello from the allowed directory\n");
        outside = dir.filePath("outside.txt");
        QFile secret(outside);
        secret.open(QIODevice::WriteOnly);
        secret.write("not for the server\n");
    }
};

} // namespace

class TestMcp : public QObject {
    Q_OBJECT

private:
    // The tape's MCP steps against the exchange: one thread named after the server, the
    // listing, then a tool_call and its tool_result per tools/call.
    void checkTape(const QString &tape, const Exchange &x)
    {
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY2(reader.ok(), reader.ok() ? "" : reader.error().message.c_str());
        auto threads = (*reader)->threads();
        QVERIFY(threads.ok());
        const auto mcpThread =
            std::find_if(threads->begin(), threads->end(), [](const formats::ThreadInfo &t) {
                return t.label == "mcp: server-filesystem";
            });
        QVERIFY2(mcpThread != threads->end(), "no thread labelled \"mcp: server-filesystem\"");

        std::vector<formats::Step> steps;
        for (const formats::Step &s : allSteps(tape))
            if (s.thread == mcpThread->id)
                steps.push_back(s);
        QCOMPARE(steps.size(), size_t(7)); // tools/list, then 3 x (tool_call, tool_result)

        const formats::Step &list = steps[0];
        QCOMPARE(list.kind, formats::StepKind::McpCall);
        QCOMPARE(list.name, std::string("tools/list"));
        QVERIFY(list.endedUs > list.startedUs);
        bool listsReadTextFile = false;
        for (const json &tool : list.payload["result"]["tools"])
            listsReadTextFile = listsReadTextFile || tool["name"] == "read_text_file";
        QVERIFY2(listsReadTextFile, list.payload.dump().substr(0, 300).c_str());
        QCOMPARE(list.payload["server_info"]["name"].get<std::string>(),
                 std::string("secure-filesystem-server"));
        QVERIFY(list.wire.has_value());
        QCOMPARE(list.wire->requestBody, x.requests.at("2"));
        QCOMPARE(list.wire->responseBody, x.responses.at("2"));

        struct Expected {
            std::string id;
            std::string tool;
            json arguments;
            bool isError;
        };
        // In the order the test asked, which is the order the answers came in.
        const std::vector<Expected> calls = {
            {"3", "read_text_file", {{"path", x.file.toStdString()}}, false},
            {"4", "read_text_file", {{"path", x.outside.toStdString()}}, true},
            {"\"five\"",
             "list_directory",
             {{"path", QFileInfo(x.file).path().toStdString()}},
             false},
        };
        for (size_t k = 0; k < calls.size(); ++k) {
            const Expected &e = calls[k];
            const formats::Step &call = steps[1 + 2 * k];
            const formats::Step &result = steps[2 + 2 * k];
            const std::string where = "call id " + e.id;
            QVERIFY2(call.kind == formats::StepKind::ToolCall, where.c_str());
            QCOMPARE(call.name, e.tool);
            QVERIFY2(call.payload == e.arguments, (where + ": " + call.payload.dump()).c_str());
            QCOMPARE(call.callId, e.id == "\"five\"" ? std::string("five") : e.id);
            QVERIFY2(result.kind == formats::StepKind::ToolResult, where.c_str());
            QVERIFY2(result.parent && *result.parent == call.index,
                     (where + ": result not linked to its call").c_str());
            QCOMPARE(result.name, e.tool);
            QCOMPARE(result.payload["is_error"].get<bool>(), e.isError);
            QCOMPARE(result.status,
                     e.isError ? formats::StepStatus::Error : formats::StepStatus::Ok);
            QVERIFY2(result.endedUs > result.startedUs, (where + ": no duration").c_str());
            QCOMPARE(result.startedUs, call.startedUs);
            QVERIFY(result.wire.has_value());
            QCOMPARE(result.wire->requestBody, x.requests.at(e.id));
            QCOMPARE(result.wire->responseBody, x.responses.at(e.id));
            const std::string output = result.payload["output"].get<std::string>();
            const json answer = json::parse(x.responses.at(e.id))["result"];
            QCOMPARE(output, answer["content"][0]["text"].get<std::string>());
        }
        QCOMPARE(steps[2].payload["output"].get<std::string>(),
                 std::string("hello from the allowed directory\n"));
        QVERIFY2(steps[4].payload["output"].get<std::string>().find("outside") != std::string::npos,
                 steps[4].payload.dump().c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFileInfo::exists(serverScript()))
            QSKIP("@modelcontextprotocol/server-filesystem is not installed: run npm ci --prefix "
                  "tests/npm");
        if (!QFileInfo(QStringLiteral(TAPEDECK_NODE_BIN)).isExecutable())
            QSKIP("node was not found when this build was configured");
    }

    // -o FILE: the client gets what the server sends when talked to directly, byte for byte,
    // and the relay's own tape (mode 0600) holds the calls.
    void relayIntoItsOwnTape()
    {
        Workspace ws;
        Exchange direct, relayed;
        {
            LineProcess server(serverCommand(ws.allowed).front(), serverCommand(ws.allowed).mid(1));
            QVERIFY2(talk(server, ws.allowed, ws.outside, direct), server.stderrText().constData());
            QCOMPARE(server.closeAndWait(), 0);
        }
        const QString tape = ws.dir.filePath("mcp.tape");
        LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                          QStringList{"mcp", "-o", tape, "--"} + serverCommand(ws.allowed),
                          LineProcess::ownEnvironment());
        QVERIFY2(talk(relay, ws.allowed, ws.outside, relayed), relay.stderrText().constData());
        QCOMPARE(relay.closeAndWait(), 0);
        for (const auto &[id, line] : direct.responses)
            QVERIFY2(relayed.responses[id] == line,
                     ("the answer to id " + id + " differs from the server's").c_str());
        QVERIFY2(!relay.stderrText().contains("not taking"), relay.stderrText().constData());

        struct stat st {};
        QCOMPARE(::stat(tape.toLocal8Bit().constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
        checkTape(tape, relayed);

        auto reader = formats::TapeReader::open(tape.toStdString());
        auto runs = (*reader)->runs();
        QVERIFY(runs.ok());
        QCOMPARE(runs->size(), size_t(1));
        QCOMPARE(runs->front().name, std::string("mcp: server-filesystem"));
        QCOMPARE(runs->front().outcome, std::string("exit 0"));
        QVERIFY(runs->front().endedUs > 0);
    }

    // A second relay with the same -o adds a run named by --run-name.
    void appendsARun()
    {
        Workspace ws;
        const QString tape = ws.dir.filePath("mcp.tape");
        for (const char *name : {"first", "second"}) {
            LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                              QStringList{"mcp", "-o", tape, "--run-name", name, "--"} +
                                  serverCommand(ws.allowed),
                              LineProcess::ownEnvironment());
            QVERIFY(relay.call(request(1, "tools/list")).has_value());
            QCOMPARE(relay.closeAndWait(), 0);
        }
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader.ok());
        auto runs = (*reader)->runs();
        QCOMPARE(runs->size(), size_t(2));
        QCOMPARE(runs->at(1).name, std::string("second"));
        QCOMPARE((*reader)->stepCount(), int64_t(2));
    }

    // Under `tapedeck record` (whose child inherits its stdio): the relay reports to the
    // recorder, and the MCP steps are in the run it records.
    void relayUnderRecord()
    {
        Workspace ws;
        const QString tape = ws.dir.filePath("record.tape");
        LineProcess record(QStringLiteral(TAPEDECK_BIN),
                           QStringList{"record", "-o", tape, "--upstream", "http://127.0.0.1:1",
                                       "--", QStringLiteral(TAPEDECK_BIN), "mcp", "--"} +
                               serverCommand(ws.allowed),
                           LineProcess::ownEnvironment());
        Exchange x;
        QVERIFY2(talk(record, ws.allowed, ws.outside, x), record.stderrText().constData());
        QCOMPARE(record.closeAndWait(), 0);
        QVERIFY2(record.restOfStdout().isEmpty(), record.restOfStdout().constData());
        QVERIFY2(record.stderrText().contains("tool calls    3"), record.stderrText().constData());
        checkTape(tape, x);
        auto reader = formats::TapeReader::open(tape.toStdString());
        auto runs = (*reader)->runs();
        QCOMPARE(runs->size(), size_t(1));
        QCOMPARE(runs->front().outcome, std::string("exit 0"));
    }

    // A recorder with an auth token takes reports only under the token's path, which
    // TAPEDECK_PROXY_URL carries: the route honours it like any other.
    void reportsUnderTheAuthToken()
    {
        Workspace ws;
        const QString tape = ws.dir.filePath("proxy.tape");
        QProcess proxy;
        proxy.start(QStringLiteral(TAPEDECK_BIN), {"proxy", "--listen", "127.0.0.1:0",
                                                   "--auth-token", "tok3n", "-o", tape, "-q"});
        QVERIFY(proxy.waitForStarted(10000));
        QByteArray first;
        while (!first.contains('\n') && proxy.waitForReadyRead(10000))
            first += proxy.readAllStandardOutput();
        const QByteArray prefix = "listening on ";
        QVERIFY2(first.startsWith(prefix), first.constData());
        const QString base =
            QString::fromUtf8(first.mid(prefix.size(), first.indexOf('\n') - prefix.size()));
        QVERIFY2(base.endsWith("/tok3n"), qPrintable(base));

        for (const QString &url : {base, base.left(base.size() - int(strlen("/tok3n")))}) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("TAPEDECK_PROXY_URL"), url);
            LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                              QStringList{"mcp", "--"} + serverCommand(ws.allowed), env);
            QVERIFY(relay.call(request(1, "tools/list")).has_value());
            QCOMPARE(relay.closeAndWait(), 0);
            const bool withToken = url == base;
            QVERIFY2(relay.stderrText().contains("401") != withToken,
                     relay.stderrText().constData());
        }
        proxy.terminate();
        QVERIFY(proxy.waitForFinished(10000));
        QCOMPARE(proxy.exitCode(), 0);
        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(steps.size(), size_t(1)); // the report with the token; the other was refused
        QCOMPARE(steps[0].name, std::string("tools/list"));
    }

    // A recorder that is gone: one warning, and the relay goes on relaying.
    void recorderGone()
    {
        Workspace ws;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TAPEDECK_PROXY_URL"), QStringLiteral("http://127.0.0.1:1"));
        LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                          QStringList{"mcp", "--"} + serverCommand(ws.allowed), env);
        Exchange x;
        QVERIFY2(talk(relay, ws.allowed, ws.outside, x), relay.stderrText().constData());
        QCOMPARE(relay.closeAndWait(), 0);
        const QByteArray err = relay.stderrText();
        QCOMPARE(err.count("is not taking MCP calls"), qsizetype(1));
        QVERIFY2(err.contains("4 of 4 MCP calls were not recorded"), err.constData());
    }

    // Bytes that are not JSON-RPC, lines without a newline at the end, a carriage return:
    // all reach the server as they were (`cat` sends them back), and nothing is recorded.
    void nonJsonPassesUnchanged()
    {
        QTemporaryDir dir;
        const QString tape = dir.filePath("cat.tape");
        LineProcess relay(QStringLiteral(TAPEDECK_BIN), {"mcp", "-o", tape, "--", "cat"},
                          LineProcess::ownEnvironment());
        const std::string bytes =
            std::string("not json at all\r\n{\"broken\": \n\t\x01 binary \xff\xfe\n") +
            R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})" + "\n" + std::string(200000, 'x') +
            "\nno newline at the end";
        relay.send(bytes);
        QCOMPARE(relay.closeAndWait(), 0);
        QVERIFY2(relay.restOfStdout() == QByteArray::fromStdString(bytes),
                 "the relay changed the bytes");
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader.ok());
        // The echoed request is a request, not an answer: the unanswered call is recorded as
        // cancelled, and nothing else.
        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(steps.size(), size_t(1));
        QCOMPARE(steps[0].status, formats::StepStatus::Cancelled);
    }

    // SIGTERM reaches the server; the relay exits with the server's status and ends the run.
    void sigtermIsForwarded()
    {
        Workspace ws;
        const QString tape = ws.dir.filePath("mcp.tape");
        LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                          QStringList{"mcp", "-o", tape, "--"} + serverCommand(ws.allowed),
                          LineProcess::ownEnvironment());
        QVERIFY(relay.call(request(1, "tools/list")).has_value());
        relay.terminate();
        QVERIFY(relay.waitForFinished(10000));
        QCOMPARE(relay.exitCode(), 128 + SIGTERM);
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader.ok());
        QCOMPARE((*reader)->runs()->front().outcome, std::string("exit 143"));
        QCOMPARE((*reader)->stepCount(), int64_t(1));
    }

    void badCommandLines_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no --") << QStringList{"mcp", "-o", "x.tape", "node", "index.js"} << 2
                               << "after --";
        QTest::newRow("nowhere to record")
            << QStringList{"mcp", "--", "cat"} << 2 << "give -o FILE";
        QTest::newRow("no server") << QStringList{"mcp", "-o", "x.tape", "--"} << 2 << "SERVER";
        QTest::newRow("server not found")
            << QStringList{"mcp", "-o", "x.tape", "--", "no-such-mcp-server"} << 2
            << "cannot run 'no-such-mcp-server'";
    }
    void badCommandLines()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QProcess p;
        p.setWorkingDirectory(dir.path());
        p.setProcessEnvironment(LineProcess::ownEnvironment());
        p.start(QStringLiteral(TAPEDECK_BIN), args);
        QVERIFY(p.waitForFinished(20000));
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(p.exitCode(), exitCode);
        QVERIFY2(err.contains(message.toUtf8()), err.constData());
    }
};

QTEST_GUILESS_MAIN(TestMcp)
#include "tst_mcp.moc"
