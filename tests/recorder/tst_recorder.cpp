// The recording proxy end to end: the real `tapedeck proxy` / `tapedeck record` between a
// real client (libcurl, the reference agent) and the real scripted model server, over
// loopback; what the client received and what the tape holds are checked against each other
// and against the model server's own log of what it was sent.
#include "modelprocess.h"
#include "proxyprocess.h"

#include <tapedeck/formats/tape.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>

using namespace tapedeck;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

const char *kSecret = "sk-test-SECRET-4242-do-not-store";

std::string chatBody(const std::string &userText, bool stream, const json &extraMessages = json::array())
{
    json body = {{"model", "gpt-4o"},
                 {"stream", stream},
                 {"messages", json::array({{{"role", "user"}, {"content", userText}}})},
                 {"tools", json::array({{{"type", "function"},
                                         {"function",
                                          {{"name", "bash"},
                                           {"description", "run a command"},
                                           {"parameters",
                                            {{"type", "object"},
                                             {"properties", {{"command", {{"type", "string"}}}}},
                                             {"required", {"command"}}}}}}}})}};
    for (const json &m : extraMessages)
        body["messages"].push_back(m);
    return body.dump();
}

HttpReply post(const ProxyProcess &proxy, const std::string &path, const std::string &body)
{
    return httpRequest("POST", proxy.url(path), body,
                       {"content-type: application/json", std::string("authorization: Bearer ") + kSecret});
}

std::vector<json> logLines(const QString &path)
{
    std::vector<json> lines;
    std::ifstream in(path.toStdString());
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            lines.push_back(json::parse(line));
    return lines;
}

std::string gzipCompress(const std::string &plain)
{
    z_stream z{};
    deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, plain.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(plain.data()));
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string zstdCompress(const std::string &plain)
{
    std::string out(ZSTD_compressBound(plain.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3));
    return out;
}

int countKind(const std::vector<formats::Step> &steps, formats::StepKind kind)
{
    return static_cast<int>(std::count_if(steps.begin(), steps.end(),
                                          [&](const formats::Step &s) { return s.kind == kind; }));
}

} // namespace

class TestRecorder : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { curl_global_init(CURL_GLOBAL_DEFAULT); }

    // A streamed tool call and the request that brings its result: the client gets the
    // upstream's bytes, the tape holds both calls in one thread with the tool call and its
    // result linked.
    void streamAndToolResult()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"tool_calls":[{"id":"call_1","name":"bash","arguments":{"command":"echo hi"}}]})",
                             R"({"expect":"hi","text":"It printed hi."})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--log", dir.filePath("model.log"),
                            "--chunk-ms", "5"});
        QVERIFY(model.port() > 0);
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);

        const HttpReply first = post(proxy, "/v1/chat/completions", chatBody("Run echo hi", true));
        QCOMPARE(first.status, 200L);
        QVERIFY2(first.chunks.size() > 3, "the stream arrived in one piece: not passed through as it came");
        QVERIFY(first.body.find("data: [DONE]") != std::string::npos);

        const json assistant = {{"role", "assistant"},
                                {"content", nullptr},
                                {"tool_calls", json::array({{{"id", "call_1"},
                                                             {"type", "function"},
                                                             {"function", {{"name", "bash"}, {"arguments", "{\"command\":\"echo hi\"}"}}}}})}};
        const json tool = {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "hi\n"}};
        const HttpReply second = post(proxy, "/v1/chat/completions", chatBody("Run echo hi", false, {assistant, tool}));
        QCOMPARE(second.status, 200L);
        QVERIFY2(second.body.find("It printed hi.") != std::string::npos, second.body.c_str());
        QCOMPARE(proxy.stop(), 0);

        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(countKind(steps, formats::StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, formats::StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, formats::StepKind::ToolResult), 1);
        const formats::Step *call = nullptr, *toolCall = nullptr, *result = nullptr;
        for (const formats::Step &s : steps) {
            if (s.kind == formats::StepKind::ModelCall && !call)
                call = &s;
            if (s.kind == formats::StepKind::ToolCall)
                toolCall = &s;
            if (s.kind == formats::StepKind::ToolResult)
                result = &s;
        }
        QVERIFY(call && toolCall && result);
        // The exact bytes the client received, with the chunking they arrived in.
        QVERIFY(call->wire.has_value());
        QCOMPARE(call->wire->responseBody, first.body);
        QVERIFY(call->wire->chunks.size() > 3);
        QCOMPARE(call->wire->status, 200);
        QCOMPARE(toolCall->callId, std::string("call_1"));
        QCOMPARE(toolCall->payload["command"].get<std::string>(), std::string("echo hi"));
        QCOMPARE(toolCall->parent, std::optional(call->index));
        QCOMPARE(result->parent, std::optional(toolCall->index));
        QCOMPARE(result->payload["output"].get<std::string>(), std::string("hi\n"));
        QCOMPARE(result->thread, call->thread);
        QVERIFY(result->endedUs >= result->startedUs);

        // What the model server was sent is what the tape holds, request for request.
        const std::vector<json> log = logLines(dir.filePath("model.log"));
        QCOMPARE(log.size(), size_t(2));
        std::vector<const formats::Step *> calls;
        for (const formats::Step &s : steps)
            if (s.kind == formats::StepKind::ModelCall)
                calls.push_back(&s);
        for (size_t i = 0; i < calls.size(); ++i)
            QVERIFY2(json::parse(calls[i]->wire->requestBody) == log[i]["body"], "the tape's request differs from what the model got");
    }

    // 429 with retry-after and a stream dropped mid-way reach the client as the upstream
    // sent them and are recorded as failed calls.
    void faultsPassThrough()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"fault":{"kind":"http","status":429,"message":"slow down","retry_after":7}})",
                             R"({"text":"this is cut short, very short indeed","fault":{"kind":"drop","after_events":2}})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);

        const HttpReply limited = post(proxy, "/v1/chat/completions", chatBody("hello", false));
        QCOMPARE(limited.status, 429L);
        QCOMPARE(limited.headers.value("retry-after"), QByteArray("7"));
        QVERIFY(limited.body.find("slow down") != std::string::npos);

        const HttpReply dropped = post(proxy, "/v1/chat/completions", chatBody("hello again", true));
        QCOMPARE(dropped.status, 200L);
        QVERIFY2(dropped.body.find("[DONE]") == std::string::npos, "the dropped stream was completed");
        QCOMPARE(proxy.stop(), 0);

        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(countKind(steps, formats::StepKind::ModelCall), 2);
        QCOMPARE(steps[0].status, formats::StepStatus::Error);
        QCOMPARE(steps[0].wire->status, 429);
        QCOMPARE(steps[0].wire->responseHeaders["retry-after"].get<std::string>(), std::string("7"));
        QVERIFY(steps[1].status != formats::StepStatus::Ok);
        QCOMPARE(steps[1].wire->responseBody, dropped.body);
    }

    // Compressed request bodies go upstream as the client sent them and land in the tape
    // decoded. The model server (httplib) decodes gzip itself but not zstd: it is handed the
    // zstd bytes as they were sent and answers that they are not JSON.
    void compressedRequestBodies()
    {
        QTemporaryDir dir;
        ModelProcess model({"--policy", "generic", "--quiet", "--log", dir.filePath("model.log")});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);

        const std::string gzipPlain = chatBody("gzip says hello", false);
        const HttpReply gzipped = httpRequest("POST", proxy.url("/v1/chat/completions"), gzipCompress(gzipPlain),
                                              {"content-type: application/json", "content-encoding: gzip"});
        QCOMPARE(gzipped.status, 200L);
        const std::string zstdPlain = chatBody("zstd says hello", false);
        const HttpReply zstded = httpRequest("POST", proxy.url("/v1/chat/completions"), zstdCompress(zstdPlain),
                                             {"content-type: application/json", "content-encoding: zstd"});
        QCOMPARE(zstded.status, 400L);
        QVERIFY2(zstded.body.find("not valid JSON") != std::string::npos, zstded.body.c_str());
        QCOMPARE(proxy.stop(), 0);

        const std::vector<json> log = logLines(dir.filePath("model.log"));
        QCOMPARE(log.size(), size_t(2));
        QCOMPARE(log[0]["headers"].value("Content-Encoding", std::string()), std::string("gzip"));
        QCOMPARE(log[1]["headers"].value("Content-Encoding", std::string()), std::string("zstd"));

        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(countKind(steps, formats::StepKind::ModelCall), 2);
        const formats::Step &first = steps.front();
        QCOMPARE(first.wire->requestBody, gzipPlain);
        QCOMPARE(first.wire->requestHeaders.value("content-encoding", std::string()), std::string("gzip"));
        QCOMPARE(first.requestMessages.at(0).dump(), json({{"role", "user"}, {"content", "gzip says hello"}}).dump());
        const auto zstdStep = std::find_if(steps.begin(), steps.end(), [](const formats::Step &s) {
            return s.kind == formats::StepKind::ModelCall && s.wire->status == 400;
        });
        QVERIFY(zstdStep != steps.end());
        QCOMPARE(zstdStep->wire->requestBody, zstdPlain);
        QCOMPARE(zstdStep->status, formats::StepStatus::Error);
    }

    // `tapedeck proxy` records a run per client session: the session a client names in a
    // header, else a stretch of calls without a long pause.
    void proxyRunPerSession()
    {
        QTemporaryDir dir;
        ModelProcess model({"--policy", "generic", "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")), {"--session-idle", "1"});
        QVERIFY(proxy.port() > 0);
        auto call = [&](const std::string &text, const std::string &session) {
            std::vector<std::string> headers = {"content-type: application/json"};
            if (!session.empty())
                headers.push_back("x-claude-code-session-id: " + session);
            return httpRequest("POST", proxy.url("/v1/chat/completions"), chatBody(text, false), headers).status;
        };
        QCOMPARE(call("first of A", "aaaaaaaa-1111"), 200L);
        QCOMPARE(call("first of B", "bbbbbbbb-2222"), 200L);
        QCOMPARE(call("second of A", "aaaaaaaa-1111"), 200L);
        QCOMPARE(call("no session, one", ""), 200L);
        QCOMPARE(call("no session, two", ""), 200L);
        QTest::qWait(1500); // past --session-idle: the next anonymous call begins a run
        QCOMPARE(call("no session, after a pause", ""), 200L);
        QCOMPARE(proxy.stop(), 0);

        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader);
        const auto runs = (*reader)->runs();
        QVERIFY(runs);
        QCOMPARE(runs->size(), size_t(4));
        std::map<int64_t, std::vector<std::string>> textsByRun;
        for (const formats::Step &s : allSteps(tape)) {
            if (s.kind == formats::StepKind::ModelCall && !s.requestMessages.empty())
                textsByRun[s.run.value].push_back(s.requestMessages[0].value("content", std::string()));
        }
        std::vector<std::vector<std::string>> grouped;
        for (const formats::RunInfo &run : *runs) {
            QVERIFY2(run.endedUs > 0, run.name.c_str());
            grouped.push_back(textsByRun[run.id.value]);
        }
        QVERIFY(grouped[0] == std::vector<std::string>({"first of A", "second of A"}));
        QVERIFY(grouped[1] == std::vector<std::string>({"first of B"}));
        QVERIFY(grouped[2] == std::vector<std::string>({"no session, one", "no session, two"}));
        QVERIFY(grouped[3] == std::vector<std::string>({"no session, after a pause"}));
        QCOMPARE((*runs)[0].labels.value("client_session", std::string()), std::string("aaaaaaaa-1111"));
        QVERIFY2((*runs)[0].name.find("session aaaaaaaa") != std::string::npos, (*runs)[0].name.c_str());
    }

    // An upstream nobody listens on: a 502 whose JSON says why, and an error step.
    void unreachableUpstream()
    {
        QTemporaryDir dir;
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QStringLiteral("http://127.0.0.1:9"));
        QVERIFY(proxy.port() > 0);
        const HttpReply reply = post(proxy, "/v1/chat/completions", chatBody("hello", false));
        QCOMPARE(reply.status, 502L);
        const json body = json::parse(reply.body, nullptr, false);
        QVERIFY2(body.contains("error"), reply.body.c_str());
        QVERIFY(body["error"]["message"].get<std::string>().find("127.0.0.1:9") != std::string::npos);
        QCOMPARE(proxy.stop(), 0);
        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(countKind(steps, formats::StepKind::Error), 1);
    }

    // The API key never reaches the file, nor text matching --redact; the tape is 0600.
    void secretsStayOut()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"text":"ok"})", R"({"text":"ok"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")),
                           {"--redact", "ticket-[0-9]+", "--redact-header", "x-team"});
        QVERIFY(proxy.port() > 0);
        QCOMPARE(httpRequest("POST", proxy.url("/v1/messages"),
                             json({{"model", "claude-sonnet-4-6"},
                                   {"max_tokens", 100},
                                   {"messages", {{{"role", "user"}, {"content", "about ticket-9981"}}}}})
                                 .dump(),
                             {"content-type: application/json", std::string("x-api-key: ") + kSecret,
                              "anthropic-version: 2023-06-01", "x-team: team-secret-77"})
                     .status,
                 200L);
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("again ticket-9981", false)).status, 200L);
        QCOMPARE(proxy.stop(), 0);

        struct stat st{};
        QCOMPARE(::stat(tape.toLocal8Bit().constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);

        // Decompressed, through the export, and in the raw file bytes.
        QProcess exporter;
        exporter.start(QStringLiteral(TAPEDECK_BIN), {"export", "--jsonl", tape, "-o", dir.filePath("all.jsonl")});
        QVERIFY(exporter.waitForFinished(30000));
        QCOMPARE(exporter.exitCode(), 0);
        QFile exported(dir.filePath("all.jsonl"));
        QVERIFY(exported.open(QIODevice::ReadOnly));
        const QByteArray text = exported.readAll();
        QVERIFY(text.contains("<redacted>"));
        QVERIFY(!text.contains(kSecret));
        QVERIFY(!text.contains("team-secret-77"));
        QVERIFY(!text.contains("ticket-9981"));
        QVERIFY(text.contains("<redacted:"));
        for (const QString &file : {tape, tape + "-wal"}) {
            QFile raw(file);
            if (raw.open(QIODevice::ReadOnly))
                QVERIFY(!raw.readAll().contains(kSecret));
        }
    }

    // Two unrelated conversations are two threads; the models list is an http_exchange.
    void threadsByPrefix()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"text":"a1"})", R"({"text":"b1"})", R"({"text":"a2"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        const json a1 = {{"role", "assistant"}, {"content", "a1"}};
        const json more = {{"role", "user"}, {"content", "go on"}};
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("conversation A", false)).status, 200L);
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("conversation B", false)).status, 200L);
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("conversation A", false, {a1, more})).status, 200L);
        QCOMPARE(httpRequest("GET", proxy.url("/v1/models")).status, 200L);
        QCOMPARE(proxy.stop(), 0);
        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(steps.size(), size_t(4));
        QCOMPARE(steps[2].thread, steps[0].thread);
        QVERIFY(steps[1].thread != steps[0].thread);
        QCOMPARE(steps[3].kind, formats::StepKind::HttpExchange);
    }

    // An agent that compacts its conversation sends a summary and the latest turn: the
    // request after the compaction stays in the thread.
    void compactionKeepsTheThread()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"tool_calls":[{"id":"call_7","name":"bash","arguments":{"command":"ls"}}]})",
                             R"({"on":"compaction","text":"The user wants a listing; ls ran."})",
                             R"({"text":"All done."})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        const json call = {{"role", "assistant"},
                           {"content", nullptr},
                           {"tool_calls", json::array({{{"id", "call_7"},
                                                        {"type", "function"},
                                                        {"function", {{"name", "bash"}, {"arguments", "{\"command\":\"ls\"}"}}}}})}};
        const json result = {{"role", "tool"}, {"tool_call_id", "call_7"}, {"content", "README.md\n"}};
        const json ask = {{"role", "user"}, {"content", "Write a summary of the conversation so far."}};
        const json summary = {{"role", "user"}, {"content", "[Summary of the earlier conversation] The user wants a listing; ls ran."}};
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("list the files", false)).status, 200L);
        QCOMPARE(post(proxy, "/v1/chat/completions", chatBody("list the files", false, {call, result, ask})).status, 200L);
        json after = json::parse(chatBody("unused", false));
        after["messages"] = json::array({summary, call, result});
        QCOMPARE(post(proxy, "/v1/chat/completions", after.dump()).status, 200L);
        QCOMPARE(proxy.stop(), 0);
        const std::vector<formats::Step> steps = allSteps(tape);
        QCOMPARE(countKind(steps, formats::StepKind::ModelCall), 3);
        QCOMPARE(countKind(steps, formats::StepKind::ToolResult), 1); // linked once, not again
        for (const formats::Step &s : steps)
            QCOMPARE(s.thread, steps.front().thread);
    }

    // SIGKILL of the proxy after some calls: the tape opens and holds every finished call.
    void killedProxyLosesNothingFinished()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"text":"one"})", R"({"text":"two"})", R"({"text":"three"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        for (const char *text : {"first", "second", "third"})
            QCOMPARE(post(proxy, "/v1/chat/completions", chatBody(text, true)).status, 200L);
        QTest::qWait(300); // the writer commits within milliseconds; 100 ms is the promise
        proxy.kill();
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY2(reader.ok(), reader.ok() ? "" : reader.error().message.c_str());
        QCOMPARE(countKind(allSteps(tape), formats::StepKind::ModelCall), 3);
        QVERIFY((*reader)->verify().ok);
    }

    // `tapedeck record` around the reference agent: the agent's calls reach the model
    // through the proxy, the tape holds each one, and tapedeck exits with the agent's status.
    void recordTheReferenceAgent()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"tool_calls":[{"name":"write_file","arguments":{"path":"note.txt","content":"hello\n"}}]})",
                             R"({"tool_calls":[{"name":"bash","arguments":{"command":"cat note.txt"}}]})",
                             R"({"expect":"hello","text":"Done: note.txt says hello."})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--log", dir.filePath("model.log")});
        const QString work = dir.filePath("work");
        QVERIFY(QDir().mkpath(work));
        const QString tape = dir.filePath("agent.tape");
        QProcess record;
        record.start(QStringLiteral(TAPEDECK_BIN),
                     {"record", "-o", tape, "--upstream", QString::fromStdString(model.url("")), "--",
                      QStringLiteral(TAPEDECK_AGENT_BIN), "--api", "anthropic", "--model", "claude-sonnet-4-6",
                      "--workdir", work, "write a note and read it back"});
        QVERIFY(record.waitForFinished(60000));
        const QByteArray err = record.readAllStandardError();
        QVERIFY2(record.exitCode() == 0, err.constData());
        QVERIFY(err.contains("recorded"));
        QCOMPARE(QFile(work + "/note.txt").exists(), true);

        const std::vector<formats::Step> steps = allSteps(tape);
        const std::vector<json> log = logLines(dir.filePath("model.log"));
        QCOMPARE(countKind(steps, formats::StepKind::ModelCall), int(log.size()));
        QCOMPARE(countKind(steps, formats::StepKind::ToolCall), 2);
        QCOMPARE(countKind(steps, formats::StepKind::ToolResult), 2);
        size_t k = 0;
        for (const formats::Step &s : steps) {
            if (s.kind != formats::StepKind::ModelCall)
                continue;
            QVERIFY2(json::parse(s.wire->requestBody) == log[k]["body"], "the tape's request differs from what the model got");
            QCOMPARE(s.wire->status, log[k]["response"]["status"].get<int>());
            ++k;
        }
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader.ok());
        auto runs = (*reader)->runs();
        QVERIFY(runs.ok());
        QCOMPARE(runs->size(), size_t(1));
        QCOMPARE(runs->front().outcome, std::string("exit 0"));
    }

    void badCommandLines_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("beyond loopback without a token")
            << QStringList{"proxy", "--listen", "0.0.0.0:0", "-o", "x.tape"} << 2 << "--auth-token";
        QTest::newRow("listen not host:port") << QStringList{"proxy", "--listen", "nonsense", "-o", "x.tape"} << 2
                                              << "HOST:PORT";
        QTest::newRow("bad redact regex") << QStringList{"record", "-o", "x.tape", "--redact", "([", "--", "true"}
                                          << 2 << "regular expression";
        QTest::newRow("command not found")
            << QStringList{"record", "-o", "x.tape", "--", "no-such-command-here"} << 2 << "no-such-command-here";
    }
    void badCommandLines()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QProcess p;
        p.setWorkingDirectory(dir.path());
        p.start(QStringLiteral(TAPEDECK_BIN), args);
        QVERIFY(p.waitForFinished(20000));
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(p.exitCode(), exitCode);
        QVERIFY2(err.contains(message.toUtf8()), err.constData());
    }
};

QTEST_GUILESS_MAIN(TestRecorder)
#include "tst_recorder.moc"
