// tapedeck-model end to end: the real binary on loopback, spoken to over real HTTP with
// libcurl, in each of the four APIs, streamed and not; its answers read back with the wire
// codecs and checked against the script that drove them, its faults seen as a client sees
// them, and its --log read as a test of what arrived.
#include "modelprocess.h"

#include <tapedeck/formats/wire.h>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::formats::wire;
using namespace tapedeck::testutil;
using nlohmann::json;

Q_DECLARE_METATYPE(tapedeck::formats::wire::Api)

namespace {

const char *const kSummaryPrompt =
    "Write a summary of the conversation so far, for continuing from it.";

Message message(Role role, const std::string &text)
{
    Message m;
    m.role = role;
    m.text = text;
    return m;
}

ToolSpec toolSpec(const json &tool)
{
    ToolSpec spec;
    spec.name = tool["name"];
    spec.description = tool.value("description", "");
    spec.parameters = tool["parameters"];
    return spec;
}

std::string modelPath(Api api, bool stream)
{
    switch (api) {
    case Api::OpenAIChat:
        return "/v1/chat/completions";
    case Api::OpenAIResponses:
        return "/v1/responses";
    case Api::AnthropicMessages:
        return "/v1/messages?beta=true";
    case Api::Gemini:
        return stream ? "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
                      : "/v1beta/models/gemini-2.5-pro:generateContent";
    }
    return {};
}

// A request body in the API's own shape: one user message, optionally tools.
std::string requestBody(Api api, bool stream, const std::string &userText,
                        const json &tools = json::array())
{
    Request request;
    request.api = api;
    request.model = api == Api::AnthropicMessages ? "claude-sonnet-4-6" : "gpt-4o";
    request.stream = stream;
    request.maxTokens = 256;
    request.messages.push_back(message(Role::User, userText));
    for (const json &t : tools)
        request.tools.push_back(toolSpec(t));
    return renderRequest(request).dump();
}

std::string conversationBody(Api api, const std::vector<Message> &messages,
                             const json &tools = json::array())
{
    Request request;
    request.api = api;
    request.model = "gpt-4o";
    request.maxTokens = 256;
    request.messages = messages;
    for (const json &t : tools)
        request.tools.push_back(toolSpec(t));
    return renderRequest(request).dump();
}

std::vector<SseEvent> sseEvents(const std::string &body)
{
    SseParser parser;
    std::vector<SseEvent> events;
    parser.feed(body, events);
    if (auto last = parser.finish())
        events.push_back(*last);
    return events;
}

bool isJson(const std::string &text)
{
    return json::accept(text);
}

// The response a reply carries, whole or streamed; streams must complete.
Result<Response> decode(Api api, bool stream, const HttpReply &reply)
{
    if (!stream) {
        if (!isJson(reply.body))
            return Error{ErrorCode::Parse, "not JSON: " + reply.body.substr(0, 200)};
        return parseResponse(api, json::parse(reply.body));
    }
    StreamAssembler assembler(api);
    for (const SseEvent &e : sseEvents(reply.body)) {
        if (Status s = assembler.add(e); !s)
            return s.error();
    }
    if (!assembler.complete())
        return Error{ErrorCode::Parse, "the stream did not complete"};
    return assembler.response();
}

std::string apiErrorMessage(const HttpReply &reply)
{
    if (!isJson(reply.body))
        return "(not JSON) " + reply.body;
    auto error = parseError(static_cast<int>(reply.status), json::parse(reply.body));
    return error ? error->message : "(not an API error body) " + reply.body;
}

void addApiRows(bool withStream)
{
    QTest::addColumn<Api>("api");
    QTest::addColumn<bool>("stream");
    for (Api api : {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini}) {
        QTest::addRow("%s", apiName(api)) << api << false;
        if (withStream)
            QTest::addRow("%s-stream", apiName(api)) << api << true;
    }
}

const json kBashTool = {
    {"name", "bash"},
    {"description", "Run a shell command"},
    {"parameters",
     {{"type", "object"},
      {"properties", {{"command", {{"type", "string"}}}, {"timeout", {{"type", "integer"}}}}},
      {"required", {"command"}}}}};

} // namespace

class TestModelServer : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString writeScript(const QString &name, const std::string &content)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return {};
        f.write(content.data(), static_cast<qint64>(content.size()));
        return path;
    }

    static QStringList scriptArgs(const QString &script, const QStringList &more = {})
    {
        return QStringList{"--listen", "127.0.0.1:0", "--policy", "script",
                           "--script", script,        "--quiet"} +
               more;
    }

    static QByteArray run(const QStringList &args, int *exitCode, QByteArray *out = nullptr)
    {
        QProcess p;
        p.start(QStringLiteral(TAPEDECK_MODEL_BIN), args);
        if (!p.waitForFinished(15000)) {
            p.kill();
            p.waitForFinished();
            *exitCode = -1;
            return "timed out";
        }
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        if (out)
            *out = p.readAllStandardOutput();
        return p.readAllStandardError();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        curl_global_init(CURL_GLOBAL_DEFAULT);
    }
    void cleanupTestCase() { curl_global_cleanup(); }

    void helpListsPoliciesEndpointsAndExitCodes()
    {
        int code = 0;
        QByteArray out;
        run({"--help"}, &code, &out);
        QCOMPARE(code, 0);
        for (const char *needle :
             {"script", "generic", "kernel-tuner", "/v1/chat/completions", "/v1/responses",
              "/v1/messages", "streamGenerateContent", "count_tokens", "/v1/models", "--ttft-ms",
              "--chunk-ms", "--tokens-per-second", "--log", "Exit codes"})
            QVERIFY2(out.contains(needle), needle);
    }

    void badScriptIsRefusedNamingLineAndField_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("text not a string")
            << QByteArray("{\"text\": 1}\n")
            << QByteArray("bad.jsonl:1: /text: expected a string, got 1");
        QTest::newRow("comments count as lines")
            << QByteArray("# first a comment\n\n{\"tool_calls\": [{\"name\": 3}]}\n")
            << QByteArray("bad.jsonl:3: /tool_calls/0/name: expected a string, got 3");
        QTest::newRow("unknown fault kind")
            << QByteArray("{\"fault\": {\"kind\": \"timeout\"}}")
            << QByteArray("bad.jsonl:1: /fault/kind: expected \"http\", \"drop\" or \"malformed\", "
                          "got \"timeout\"");
        QTest::newRow("misspelt field") << QByteArray("{}\n{\"colour\": \"red\"}")
                                        << QByteArray("bad.jsonl:2: /colour: unknown field");
        QTest::newRow("not JSON") << QByteArray("{\"text\": \"a\"\n")
                                  << QByteArray("bad.jsonl:1: not valid JSON");
        QTest::newRow("status out of range")
            << QByteArray("{\"fault\": {\"kind\": \"http\", \"status\": 200}}")
            << QByteArray(
                   "bad.jsonl:1: /fault/status: expected an integer from 400 to 599, got 200");
    }
    void badScriptIsRefusedNamingLineAndField()
    {
        QFETCH(QByteArray, content);
        QFETCH(QByteArray, expected);
        const QString path = writeScript("bad.jsonl", content.toStdString());
        int code = 0;
        const QByteArray err = run(scriptArgs(path), &code);
        QCOMPARE(code, 2);
        QVERIFY2(err.contains(expected), err.constData());
    }

    void badUsageExitsTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("script without file")
            << QStringList{"--policy", "script"} << QByteArray("needs --script");
        QTest::newRow("unknown policy")
            << QStringList{"--policy", "oracle"} << QByteArray("unknown policy \"oracle\"");
        QTest::newRow("missing script file")
            << QStringList{"--policy", "script", "--script", "/nonexistent/s.jsonl"}
            << QByteArray("/nonexistent/s.jsonl");
        QTest::newRow("bad listen")
            << QStringList{"--listen", "nowhere"} << QByteArray("expected HOST:PORT");
        QTest::newRow("unknown option") << QStringList{"--colour"} << QByteArray("colour");
    }
    void badUsageExitsTwo()
    {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, expected);
        int code = 0;
        const QByteArray err = run(args, &code);
        QCOMPARE(code, 2);
        QVERIFY2(err.contains(expected), err.constData());
    }

    void portInUseExitsOne()
    {
        ModelProcess first({"--quiet"});
        QVERIFY(first.port() > 0);
        int code = 0;
        const QByteArray err =
            run({"--listen", QStringLiteral("127.0.0.1:%1").arg(first.port())}, &code);
        QCOMPARE(code, 1);
        QVERIFY2(err.contains("cannot listen"), err.constData());
    }

    void printsPortAndStopsOnSigterm()
    {
        ModelProcess server({"--quiet"});
        QVERIFY2(server.port() > 0, server.firstLine().constData());
        QCOMPARE(server.firstLine(),
                 QByteArray("listening on http://127.0.0.1:") + QByteArray::number(server.port()));
        QCOMPARE(httpRequest("HEAD", server.url("/")).status, 200L);
        const HttpReply root = httpGet(server.url("/"));
        QCOMPARE(root.status, 200L);
        QVERIFY(isJson(root.body));
        QCOMPARE(server.stop(), 0);
    }

    void modelLists()
    {
        ModelProcess server({"--quiet", "--models", "alpha,claude-sonnet-4-6"});
        for (const char *path : {"/v1/models", "/models"}) {
            const HttpReply r = httpGet(server.url(path));
            QCOMPARE(r.status, 200L);
            const json body = json::parse(r.body);
            QCOMPARE(body["object"].dump(), json("list").dump());
            QCOMPARE(body["data"].size(), size_t(2));
            QCOMPARE(body["data"][0]["id"].dump(), json("alpha").dump());
            QCOMPARE(body["data"][0]["object"].dump(), json("model").dump()); // OpenAI reads these
            QCOMPARE(body["data"][1]["type"].dump(), json("model").dump()); // Anthropic reads these
            QCOMPARE(body["data"][1]["display_name"].dump(), json("claude-sonnet-4-6").dump());
            QCOMPARE(body["has_more"].dump(), json(false).dump());
            QCOMPARE(body["last_id"].dump(), json("claude-sonnet-4-6").dump());
        }
        const json one = json::parse(httpGet(server.url("/v1/models/alpha")).body);
        QCOMPARE(one["id"].dump(), json("alpha").dump());
        const json gemini = json::parse(httpGet(server.url("/v1beta/models")).body);
        QCOMPARE(gemini["models"][1]["name"].dump(), json("models/claude-sonnet-4-6").dump());
        QVERIFY(gemini["models"][0]["supportedGenerationMethods"].dump().find("generateContent") !=
                std::string::npos);
    }

    void scriptedToolCallThenText_data() { addApiRows(true); }
    void scriptedToolCallThenText()
    {
        QFETCH(Api, api);
        QFETCH(bool, stream);
        const QString script = writeScript(
            "toolcall.jsonl", "# a tool call, then an answer\n"
                              "{\"text\": \"Let me look.\", \"tool_calls\": [{\"name\": \"bash\", "
                              "\"arguments\": {\"command\": \"ls -la\"}}]}\n"
                              "{\"text\": \"There are three files.\", \"usage\": "
                              "{\"input_tokens\": 321, \"output_tokens\": 7}}\n");
        ModelProcess server(scriptArgs(script, {"--chars-per-delta", "4"}));
        QVERIFY(server.port() > 0);

        const HttpReply first =
            httpPost(server.url(modelPath(api, stream)),
                     requestBody(api, stream, "list files", json::array({kBashTool})));
        QCOMPARE(first.code, CURLE_OK);
        QCOMPARE(first.status, 200L);
        QVERIFY(first.headers.contains("request-id"));
        QVERIFY(first.headers.contains("x-request-id"));
        QCOMPARE(first.headers.value("content-type").startsWith("text/event-stream"), stream);
        auto call = decode(api, stream, first);
        QVERIFY2(call.ok(), call.ok() ? "" : call.error().message.c_str());
        QCOMPARE(call->text, std::string("Let me look."));
        QCOMPARE(call->toolCalls.size(), size_t(1));
        QCOMPARE(call->toolCalls[0].name, std::string("bash"));
        QCOMPARE(call->toolCalls[0].arguments.dump(), json({{"command", "ls -la"}}).dump());
        QVERIFY(!call->toolCalls[0].id.empty());
        if (api != Api::Gemini) // Gemini has no tool-use stop reason: a call ends with STOP
            QCOMPARE(call->stopReason, StopReason::ToolUse);
        QVERIFY(call->usage.inputTokens > 0); // estimated, the script gave none
        QVERIFY(call->usage.outputTokens > 0);
        if (stream) // cut into several events at 4 characters a delta (Gemini sends a call whole)
            QVERIFY(sseEvents(first.body).size() >= (api == Api::Gemini ? 3u : 5u));

        std::vector<Message> conversation = {message(Role::User, "list files")};
        Message assistant = message(Role::Assistant, call->text);
        assistant.toolCalls = call->toolCalls;
        conversation.push_back(assistant);
        Message result = message(Role::Tool, "a\nb\nc");
        result.toolCallId = call->toolCalls[0].id;
        result.toolName = "bash";
        conversation.push_back(result);
        json second = json::parse(conversationBody(api, conversation, json::array({kBashTool})));
        if (api != Api::Gemini)
            second["stream"] = stream;
        const HttpReply answer = httpPost(server.url(modelPath(api, stream)), second.dump());
        QCOMPARE(answer.status, 200L);
        auto text = decode(api, stream, answer);
        QVERIFY2(text.ok(), text.ok() ? "" : text.error().message.c_str());
        QCOMPARE(text->text, std::string("There are three files."));
        QVERIFY(text->toolCalls.empty());
        QCOMPARE(text->stopReason, StopReason::EndTurn);
        QCOMPARE(text->usage.inputTokens, int64_t(321));
        QCOMPARE(text->usage.outputTokens, int64_t(7));
    }

    void rawShapesAreTheApis()
    {
        const QString script = writeScript(
            "shapes.jsonl", std::string(8, '\n') +
                                "{\"tool_calls\": [{\"name\": \"bash\", \"arguments\": {}}]}\n"
                                "{\"tool_calls\": [{\"name\": \"bash\", \"arguments\": {}}]}\n"
                                "{\"tool_calls\": [{\"name\": \"bash\", \"arguments\": {}}]}\n"
                                "{\"tool_calls\": [{\"name\": \"bash\", \"arguments\": {}}]}\n");
        ModelProcess server(scriptArgs(script));
        const json chat = json::parse(
            httpPost(server.url("/chat/completions"), requestBody(Api::OpenAIChat, false, "x"))
                .body);
        QCOMPARE(chat["object"].dump(), json("chat.completion").dump());
        QCOMPARE(chat["choices"][0]["finish_reason"].dump(), json("tool_calls").dump());
        QCOMPARE(chat["choices"][0]["message"]["tool_calls"][0]["function"]["name"].dump(),
                 json("bash").dump());
        const json responses = json::parse(
            httpPost(server.url("/responses"), requestBody(Api::OpenAIResponses, false, "x")).body);
        QCOMPARE(responses["object"].dump(), json("response").dump());
        QVERIFY(responses["output"].dump().find("\"function_call\"") != std::string::npos);
        const json messages = json::parse(
            httpPost(server.url("/messages"), requestBody(Api::AnthropicMessages, false, "x"))
                .body);
        QCOMPARE(messages["type"].dump(), json("message").dump());
        QCOMPARE(messages["stop_reason"].dump(), json("tool_use").dump());
        QCOMPARE(messages["content"].back()["type"].dump(), json("tool_use").dump());
        const json gemini =
            json::parse(httpPost(server.url("/v1beta/models/gemini-2.5-pro:generateContent"),
                                 requestBody(Api::Gemini, false, "x"))
                            .body);
        QVERIFY(gemini["candidates"][0]["content"]["parts"].dump().find("functionCall") !=
                std::string::npos);
    }

    void geminiStreamsAJsonArrayWithoutAltSse()
    {
        const QString script =
            writeScript("gemini.jsonl", "{\"text\": \"one two three four five six\"}\n");
        ModelProcess server(scriptArgs(script, {"--chars-per-delta", "8", "--chunk-ms", "20"}));
        const HttpReply r =
            httpPost(server.url("/v1beta/models/gemini-2.5-pro:streamGenerateContent"),
                     requestBody(Api::Gemini, true, "count"));
        QCOMPARE(r.status, 200L);
        QVERIFY(r.headers.value("content-type").startsWith("application/json"));
        QVERIFY2(isJson(r.body), r.body.c_str());
        const json array = json::parse(r.body);
        QVERIFY(array.is_array());
        QVERIFY(array.size() >= 3);
        QVERIFY(r.chunks.size() >= 3); // paced: the elements arrive one by one
        StreamAssembler assembler(Api::Gemini);
        for (const json &element : array)
            QVERIFY(assembler.add(SseEvent{"", element.dump()}).ok());
        QCOMPARE(assembler.response().text, std::string("one two three four five six"));
    }

    void httpFaultCarriesStatusRetryAfterAndMessage_data() { addApiRows(true); }
    void httpFaultCarriesStatusRetryAfterAndMessage()
    {
        QFETCH(Api, api);
        QFETCH(bool, stream);
        const QString script =
            writeScript("http.jsonl", "{\"fault\": {\"kind\": \"http\", \"status\": 429, "
                                      "\"message\": \"slow down\", \"retry_after\": 2}}\n"
                                      "{\"fault\": {\"kind\": \"http\", \"status\": 503}}\n"
                                      "{\"text\": \"recovered\"}\n");
        ModelProcess server(scriptArgs(script));
        const std::string path = modelPath(api, stream);
        const HttpReply limited = httpPost(server.url(path), requestBody(api, stream, "hi"));
        QCOMPARE(limited.status, 429L);
        QCOMPARE(limited.headers.value("retry-after"), QByteArray("2"));
        QCOMPARE(apiErrorMessage(limited), std::string("slow down"));
        if (api == Api::AnthropicMessages)
            QCOMPARE(json::parse(limited.body)["type"].dump(), json("error").dump());
        else
            QVERIFY(json::parse(limited.body).contains("error"));
        const HttpReply unavailable = httpPost(server.url(path), requestBody(api, stream, "hi"));
        QCOMPARE(unavailable.status, 503L);
        QVERIFY(!unavailable.headers.contains("retry-after"));
        QCOMPARE(apiErrorMessage(unavailable), std::string("scripted fault"));
        auto recovered =
            decode(api, stream, httpPost(server.url(path), requestBody(api, stream, "hi")));
        QVERIFY(recovered.ok());
        QCOMPARE(recovered->text, std::string("recovered"));
    }

    void droppedStreamIsCutShort_data() { addApiRows(true); }
    void droppedStreamIsCutShort()
    {
        QFETCH(Api, api);
        QFETCH(bool, stream);
        const QString script = writeScript(
            "drop.jsonl", "{\"text\": \"this answer is long enough to need many deltas\", "
                          "\"fault\": {\"kind\": \"drop\", \"after_events\": 2}}\n");
        ModelProcess server(scriptArgs(script, {"--chars-per-delta", "4"}));
        const HttpReply r =
            httpPost(server.url(modelPath(api, stream)), requestBody(api, stream, "hi"));
        QCOMPARE(r.status, 200L);
        QVERIFY2(r.code == CURLE_PARTIAL_FILE || r.code == CURLE_RECV_ERROR,
                 curl_easy_strerror(r.code));
        if (!stream) {
            QVERIFY(!isJson(r.body));
            return;
        }
        const auto events = sseEvents(r.body);
        QCOMPARE(events.size(), size_t(2));
        StreamAssembler assembler(api);
        for (const SseEvent &e : events)
            QVERIFY(assembler.add(e).ok());
        QVERIFY(!assembler.complete());
    }

    void malformedEventIsOneBadEvent_data() { addApiRows(true); }
    void malformedEventIsOneBadEvent()
    {
        QFETCH(Api, api);
        QFETCH(bool, stream);
        const std::string text = "an answer with one broken event in it";
        const QString script =
            writeScript("malformed.jsonl",
                        "{\"text\": \"" + text +
                            "\", \"fault\": {\"kind\": \"malformed\", \"after_events\": 2}}\n");
        ModelProcess server(scriptArgs(script, {"--chars-per-delta", "8"}));
        const HttpReply r =
            httpPost(server.url(modelPath(api, stream)), requestBody(api, stream, "hi"));
        QCOMPARE(r.code, CURLE_OK);
        QCOMPARE(r.status, 200L);
        if (!stream) {
            QVERIFY2(!isJson(r.body), r.body.c_str());
            return;
        }
        const auto events = sseEvents(r.body);
        QVERIFY(events.size() > 3);
        StreamAssembler assembler(api);
        int broken = 0;
        for (size_t i = 0; i < events.size(); ++i) {
            if (events[i].data != "[DONE]" && !isJson(events[i].data)) {
                ++broken;
                QCOMPARE(i, size_t(2));
                QVERIFY(!assembler.add(events[i]).ok()); // a client's parser fails on it
                continue;
            }
            QVERIFY(assembler.add(events[i]).ok());
        }
        QCOMPARE(broken, 1);
        QVERIFY(assembler.complete()); // the rest of the stream still came
        QCOMPARE(assembler.response().text, text);
    }

    void scriptRunOutIsA500NamingTheFile_data() { addApiRows(false); }
    void scriptRunOutIsA500NamingTheFile()
    {
        QFETCH(Api, api);
        const QString script = writeScript("short.jsonl", "{\"text\": \"only one\"}\n");
        ModelProcess server(scriptArgs(script));
        QCOMPARE(httpPost(server.url(modelPath(api, false)), requestBody(api, false, "1")).status,
                 200L);
        for (int n : {2, 3}) {
            const HttpReply r =
                httpPost(server.url(modelPath(api, false)), requestBody(api, false, "again"));
            QCOMPARE(r.status, 500L);
            const std::string message = apiErrorMessage(r);
            const std::string expected = "script " + script.toStdString() +
                                         " has 1 turns, all used; request " + std::to_string(n) +
                                         " has no turn to answer it";
            QCOMPARE(message, expected);
        }
    }

    void expectMismatchIsA500NamingTheLine()
    {
        const QString script =
            writeScript("expect.jsonl", "\n{\"expect\": \"hello\", \"text\": \"ok\"}\n{\"expect\": "
                                        "\"hello\", \"text\": \"ok\"}\n");
        ModelProcess server(scriptArgs(script));
        const HttpReply wrong = httpPost(server.url("/v1/chat/completions"),
                                         requestBody(Api::OpenAIChat, false, "goodbye"));
        QCOMPARE(wrong.status, 500L);
        const std::string message = apiErrorMessage(wrong);
        QVERIFY2(message.find("expect.jsonl:2 expected the last message to contain \"hello\"") !=
                     std::string::npos,
                 message.c_str());
        QVERIFY2(message.find("goodbye") != std::string::npos, message.c_str());
        const HttpReply right = httpPost(server.url("/v1/chat/completions"),
                                         requestBody(Api::OpenAIChat, false, "well hello"));
        QCOMPARE(right.status, 200L);
    }

    void badBodyIsA400SayingWhy_data()
    {
        QTest::addColumn<Api>("api");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("expected");
        for (Api api :
             {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini}) {
            QTest::addRow("%s-not-json", apiName(api))
                << api << QByteArray("{\"model\": ") << QByteArray("not valid JSON");
            QTest::addRow("%s-array", apiName(api))
                << api << QByteArray("[1, 2]") << QByteArray("not an object");
            QTest::addRow("%s-empty", apiName(api)) << api << QByteArray() << QByteArray("empty");
        }
        QTest::newRow("chat-messages-not-array")
            << Api::OpenAIChat << QByteArray(R"({"model": "m", "messages": "hi"})")
            << QByteArray("/messages");
        QTest::newRow("anthropic-bad-role")
            << Api::AnthropicMessages
            << QByteArray(
                   R"({"model": "m", "max_tokens": 5, "messages": [{"role": 7, "content": "x"}]})")
            << QByteArray("/messages/0/role");
    }
    void badBodyIsA400SayingWhy()
    {
        QFETCH(Api, api);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, expected);
        ModelProcess server({"--quiet"});
        const HttpReply r = httpPost(server.url(modelPath(api, false)), body.toStdString());
        QCOMPARE(r.status, 400L);
        const std::string message = apiErrorMessage(r);
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
        if (api == Api::AnthropicMessages)
            QCOMPARE(json::parse(r.body)["type"].dump(), json("error").dump());
    }

    void unknownPathIsA404InTheApisShape()
    {
        ModelProcess server({"--quiet"});
        const HttpReply openai = httpPost(server.url("/v1/completions/legacy"), "{}");
        QCOMPARE(openai.status, 404L);
        QVERIFY(json::parse(openai.body).contains("error"));
        QVERIFY2(apiErrorMessage(openai).find("no such endpoint: POST /v1/completions/legacy") !=
                     std::string::npos,
                 openai.body.c_str());
        const HttpReply anthropic = httpRequest("GET", server.url("/v1/messages/batches"), {},
                                                {"anthropic-version: 2023-06-01"});
        QCOMPARE(anthropic.status, 404L);
        QCOMPARE(json::parse(anthropic.body)["type"].dump(), json("error").dump());
    }

    void countTokens()
    {
        ModelProcess server({"--quiet"});
        json small = json::parse(requestBody(Api::AnthropicMessages, false, "hi"));
        small.erase("max_tokens"); // count_tokens bodies have none
        json large = small;
        large["messages"][0]["content"] = std::string(4000, 'x');
        for (const char *path : {"/v1/messages/count_tokens", "/messages/count_tokens"}) {
            const HttpReply a = httpPost(server.url(path), small.dump());
            const HttpReply b = httpPost(server.url(path), large.dump());
            QCOMPARE(a.status, 200L);
            const int64_t few = json::parse(a.body)["input_tokens"];
            const int64_t many = json::parse(b.body)["input_tokens"];
            QVERIFY(few > 0);
            QVERIFY(many >= 1000); // about 4 characters a token
        }
        const HttpReply responses = httpPost(server.url("/v1/responses/input_tokens"),
                                             requestBody(Api::OpenAIResponses, false, "hi"));
        QCOMPARE(responses.status, 200L);
        QVERIFY(json::parse(responses.body)["input_tokens"].get<int64_t>() > 0);
        const HttpReply gemini = httpPost(server.url("/v1beta/models/gemini-2.5-pro:countTokens"),
                                          requestBody(Api::Gemini, false, "hi"));
        QCOMPARE(gemini.status, 200L);
        QVERIFY(json::parse(gemini.body)["totalTokens"].get<int64_t>() > 0);
        QCOMPARE(httpPost(server.url("/v1/messages/count_tokens"), "nope").status, 400L);
    }

    void compactionTurnsAreKeptAside()
    {
        const QString script =
            writeScript("compaction.jsonl", "{\"text\": \"main one\"}\n"
                                            "{\"on\": \"compaction\", \"text\": \"SUMMARY ONE\"}\n"
                                            "{\"text\": \"main two\"}\n");
        ModelProcess server(scriptArgs(script));
        const auto ask = [&](const std::vector<Message> &messages) {
            return decode(Api::OpenAIChat, false,
                          httpPost(server.url("/v1/chat/completions"),
                                   conversationBody(Api::OpenAIChat, messages)));
        };
        Message call = message(Role::Assistant, "");
        ToolCall make;
        make.id = "call_1";
        make.name = "bash";
        make.arguments = {{"command", "make"}};
        call.toolCalls.push_back(make);
        Message result = message(Role::Tool, "build ok\nmore");
        result.toolCallId = "call_1";
        const std::vector<Message> history = {message(Role::User, "build the project"), call,
                                              result, message(Role::User, kSummaryPrompt)};
        QCOMPARE(ask({message(Role::User, "a")})->text, std::string("main one"));
        QCOMPARE(ask(history)->text, std::string("SUMMARY ONE"));
        QCOMPARE(ask({message(Role::User, "b")})->text, std::string("main two"));
        const auto written = ask(history); // no compaction turn left: the server writes one
        QVERIFY(written.ok());
        QVERIFY2(written->text.starts_with("The user asked: build the project"),
                 written->text.c_str());
        QVERIFY2(written->text.find("bash {\"command\":\"make\"} -> build ok") != std::string::npos,
                 written->text.c_str());
    }

    void genericPolicyRunsTheNamedCommandThenQuotesItsOutput_data() { addApiRows(true); }
    void genericPolicyRunsTheNamedCommandThenQuotesItsOutput()
    {
        QFETCH(Api, api);
        QFETCH(bool, stream);
        ModelProcess server({"--quiet", "--policy", "generic"});
        const json tools = json::array({{{"name", "read_file"},
                                         {"parameters",
                                          {{"type", "object"},
                                           {"properties", {{"path", {{"type", "string"}}}}},
                                           {"required", {"path"}}}}},
                                        kBashTool});
        const HttpReply first =
            httpPost(server.url(modelPath(api, stream)),
                     requestBody(api, stream, "Please run `uname -s` and tell me", tools));
        auto call = decode(api, stream, first);
        QVERIFY2(call.ok(), first.body.c_str());
        QCOMPARE(call->toolCalls.size(), size_t(1));
        QCOMPARE(call->toolCalls[0].name, std::string("bash"));
        QCOMPARE(call->toolCalls[0].arguments.dump(), json({{"command", "uname -s"}}).dump());

        Message assistant = message(Role::Assistant, "");
        assistant.toolCalls = call->toolCalls;
        Message result = message(Role::Tool, "Linux\n");
        result.toolCallId = call->toolCalls[0].id;
        result.toolName = "bash";
        json second = json::parse(conversationBody(
            api, {message(Role::User, "Please run `uname -s`"), assistant, result}, tools));
        if (api != Api::Gemini)
            second["stream"] = stream;
        auto answer =
            decode(api, stream, httpPost(server.url(modelPath(api, stream)), second.dump()));
        QVERIFY(answer.ok());
        QVERIFY(answer->toolCalls.empty());
        QCOMPARE(answer->text, std::string("The bash tool returned: Linux"));
    }

    void genericPolicyChoosesAndFillsTools()
    {
        ModelProcess server({"--quiet", "--policy", "generic"});
        const auto ask = [&](const std::string &user, const json &tools) {
            return decode(Api::OpenAIChat, false,
                          httpPost(server.url("/v1/chat/completions"),
                                   requestBody(Api::OpenAIChat, false, user, tools)));
        };
        // No command named: echo hello. Claude Code's BashOutput is not the shell.
        const json claudeLike = json::array(
            {{{"name", "BashOutput"}, {"parameters", {{"type", "object"}}}},
             {{"name", "Bash"},
              {"parameters",
               {{"type", "object"},
                {"properties",
                 {{"command", {{"type", "string"}}}, {"description", {{"type", "string"}}}}},
                {"required", {"command"}}}}}});
        auto hello = ask("say something", claudeLike);
        QCOMPARE(hello->toolCalls[0].name, std::string("Bash"));
        QCOMPARE(hello->toolCalls[0].arguments.dump(), json({{"command", "echo hello"}}).dump());
        QCOMPARE(
            ask("now run ls -1 /tmp, please", claudeLike)->toolCalls[0].arguments["command"].dump(),
            json("ls -1 /tmp").dump());
        // Not a shell: the required properties from their types and enums.
        const json weather = json::array({{{"name", "get_weather"},
                                           {"parameters",
                                            {{"type", "object"},
                                             {"properties",
                                              {{"city", {{"type", "string"}}},
                                               {"unit", {{"enum", {"celsius", "fahrenheit"}}}},
                                               {"days", {{"type", "integer"}, {"minimum", 3}}},
                                               {"note", {{"type", "string"}}}}},
                                             {"required", {"city", "unit", "days"}}}}}});
        auto filled = ask("weather?", weather);
        QCOMPARE(filled->toolCalls[0].name, std::string("get_weather"));
        const json args = filled->toolCalls[0].arguments;
        QVERIFY(args["city"].is_string());
        QCOMPARE(args["unit"].dump(), json("celsius").dump());
        QCOMPARE(args["days"].dump(), json(3).dump());
        QVERIFY(!args.contains("note"));
        // Without tools: text.
        auto text = ask("hello there", json::array());
        QVERIFY(text->toolCalls.empty());
        QVERIFY2(text->text.find("hello there") != std::string::npos, text->text.c_str());
    }

    void genericPolicyAnswersJsonForASchema()
    {
        ModelProcess server({"--quiet", "--policy", "generic"});
        json body = json::parse(requestBody(Api::OpenAIChat, false, "extract"));
        body["response_format"] = {
            {"type", "json_schema"},
            {"json_schema",
             {{"name", "person"},
              {"schema",
               {{"type", "object"},
                {"properties",
                 {{"name", {{"type", "string"}}},
                  {"age", {{"type", "integer"}, {"minimum", 0}}},
                  {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
                {"required", {"name", "age", "tags"}}}}}}};
        auto answer = decode(Api::OpenAIChat, false,
                             httpPost(server.url("/v1/chat/completions"), body.dump()));
        QVERIFY(answer.ok());
        QVERIFY2(isJson(answer->text), answer->text.c_str());
        const json value = json::parse(answer->text);
        QVERIFY(value["name"].is_string());
        QVERIFY(value["age"].is_number_integer());
        QVERIFY(value["tags"].is_array());
    }

    void logRecordsWhatArrivedWithKeysMasked()
    {
        const QString log = m_dir.filePath("requests.log");
        const QString script = writeScript(
            "log.jsonl",
            "{\"tool_calls\": [{\"name\": \"bash\", \"arguments\": {\"command\": \"pwd\"}}]}\n");
        {
            ModelProcess server(scriptArgs(script, {"--log", log}));
            const HttpReply r = httpRequest(
                "POST", server.url("/v1/messages?beta=true"),
                requestBody(Api::AnthropicMessages, true, "where am I"),
                {"content-type: application/json", "x-api-key: sk-ant-very-secret-key",
                 "authorization: Bearer sk-also-secret", "anthropic-version: 2023-06-01"});
            QCOMPARE(r.status, 200L);
            QCOMPARE(httpPost(server.url("/v1/messages"), "{oops").status, 400L);
            QCOMPARE(server.stop(), 0);
        }
        QFile f(log);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY(!lines[0].contains("secret"));
        const json first = json::parse(lines[0].toStdString());
        QCOMPARE(first["seq"].dump(), json(1).dump());
        QCOMPARE(first["method"].dump(), json("POST").dump());
        QCOMPARE(first["path"].dump(), json("/v1/messages?beta=true").dump());
        QCOMPARE(first["headers"]["x-api-key"].dump(), json("sk-a***(len=22)").dump());
        QCOMPARE(first["headers"]["authorization"].dump(), json("Bearer sk-a***(len=14)").dump());
        QCOMPARE(first["headers"]["anthropic-version"].dump(), json("2023-06-01").dump());
        QVERIFY(first["body"]["messages"][0]["content"].dump().find("where am I") !=
                std::string::npos);
        QCOMPARE(first["response"]["status"].dump(), json(200).dump());
        QCOMPARE(first["response"]["decision"].dump(), json("tool:bash").dump());
        QCOMPARE(first["response"]["sse_events"].front().dump(), json("message_start").dump());
        QCOMPARE(first["response"]["sse_events"].back().dump(), json("message_stop").dump());
        const json second = json::parse(lines[1].toStdString());
        QCOMPARE(second["response"]["status"].dump(), json(400).dump());
        QCOMPARE(second["body"].dump(), json("{oops").dump());
        QVERIFY(second["response"]["error"].get<std::string>().find("not valid JSON") !=
                std::string::npos);
    }

    void stderrHasATerseLinePerRequest()
    {
        ModelProcess server({"--policy", "generic"});
        QCOMPARE(httpGet(server.url("/v1/models")).status, 200L);
        QCOMPARE(server.stop(), 0);
        const QByteArray err = server.stderrText();
        QVERIFY2(err.contains("GET /v1/models 200 models"), err.constData());
    }

    void pacingFollowsTheOptions()
    {
        const std::string text(64, 'a');
        const QString script = writeScript("pace.jsonl", "{\"text\": \"" + text +
                                                             "\"}\n{\"text\": \"" + text + "\"}\n");
        ModelProcess server(scriptArgs(
            script, {"--ttft-ms", "300", "--chunk-ms", "60", "--chars-per-delta", "16"}));
        const HttpReply r = httpPost(server.url(modelPath(Api::AnthropicMessages, true)),
                                     requestBody(Api::AnthropicMessages, true, "go"));
        QCOMPARE(r.status, 200L);
        const size_t events = sseEvents(r.body).size();
        QVERIFY(events >= 6);
        QVERIFY2(r.chunkAtMs.front() >= 290, QByteArray::number(r.chunkAtMs.front()).constData());
        const qint64 spread = r.chunkAtMs.back() - r.chunkAtMs.front();
        QVERIFY2(spread >= qint64(events - 1) * 60 * 9 / 10,
                 QByteArray::number(spread).constData());
        QVERIFY(r.chunks.size() >= events - 1); // each event its own write, seen apart

        ModelProcess fast(
            scriptArgs(script, {"--tokens-per-second", "100", "--chars-per-delta", "16"}));
        const HttpReply quick = httpPost(fast.url(modelPath(Api::AnthropicMessages, true)),
                                         requestBody(Api::AnthropicMessages, true, "go"));
        const qint64 quickSpread = quick.chunkAtMs.back() - quick.chunkAtMs.front();
        // 16 characters a delta are 4 tokens: 40 ms between events at 100 tokens a second.
        QVERIFY2(quickSpread >= qint64(sseEvents(quick.body).size() - 1) * 40 * 9 / 10,
                 QByteArray::number(quickSpread).constData());
    }
};

QTEST_GUILESS_MAIN(TestModelServer)
#include "tst_modelserver.moc"
