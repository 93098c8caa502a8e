// The wire codecs' bodies (formats/wire.h): every request and response the real clients
// sent in ../shared/data/wire parses, with what is in it counted; render and parse are
// inverse on the neutral form for each API; API-specific shapes (several Anthropic tool
// results in one message, Gemini's missing call ids, arguments that are not JSON) come out
// as documented; malformed bodies fail with the field named.
#include "wirefixtures.h"

#include <QFile>
#include <QTest>

#include <fstream>

using namespace tapedeck::formats;
using namespace tapedeck::formats::wire;
using namespace tapedeck::wirefixtures;
using nlohmann::json;

Q_DECLARE_METATYPE(tapedeck::formats::wire::Api)

// QCOMPARE cannot print a json (it converts to too many things); this shows the value.
#define COMPARE_JSON(actual, expected)                                                         \
    QVERIFY2((actual) == (expected), ("got " + json(actual).dump()).c_str())

namespace {

std::vector<json> readExchanges(const QString &name) {
    std::vector<json> out;
    std::ifstream in(QStringLiteral(TAPEDECK_WIRE_DATA "/%1").arg(name).toStdString());
    std::string line;
    while (std::getline(in, line))
        out.push_back(json::parse(line));
    return out;
}

int countToolCalls(const Request &request) {
    int n = 0;
    for (const Message &m : request.messages)
        n += int(m.toolCalls.size());
    return n;
}

int countRole(const Request &request, Role role) {
    int n = 0;
    for (const Message &m : request.messages)
        n += m.role == role;
    return n;
}

// Parses `body` as `api`, failing the test with the error when it does not parse.
Request parsed(Api api, const json &body) {
    Result<Request> request = parseRequest(api, body);
    if (!request) {
        qWarning("%s", request.error().message.c_str());
        return {};
    }
    return *request;
}

} // namespace

class TestWire : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void apiNamesRoundTrip() {
        for (Api api : kAllApis)
            QVERIFY(apiFromName(apiName(api)) == std::optional<Api>(api));
        QVERIFY(!apiFromName("openai"));
        QCOMPARE(std::string(apiName(Api::AnthropicMessages)), std::string("anthropic-messages"));
    }

    void apiForPath_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("api"); // -1: not a model call
        QTest::newRow("chat") << "/v1/chat/completions" << int(Api::OpenAIChat);
        QTest::newRow("chat without v1") << "/chat/completions" << int(Api::OpenAIChat);
        QTest::newRow("chat under a proxy prefix") << "/api/v1/chat/completions?x=1"
                                                   << int(Api::OpenAIChat);
        QTest::newRow("responses") << "/v1/responses" << int(Api::OpenAIResponses);
        QTest::newRow("one response") << "/v1/responses/resp_123" << -1;
        QTest::newRow("messages") << "/v1/messages" << int(Api::AnthropicMessages);
        QTest::newRow("claude code's") << "/v1/messages?beta=true" << int(Api::AnthropicMessages);
        QTest::newRow("count tokens") << "/v1/messages/count_tokens" << -1;
        QTest::newRow("model list") << "/v1/models" << -1;
        QTest::newRow("root") << "/" << -1;
        QTest::newRow("gemini") << "/v1beta/models/gemini-2.5-pro:generateContent"
                                << int(Api::Gemini);
        QTest::newRow("gemini stream") << "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
                                       << int(Api::Gemini);
        QTest::newRow("gemini count") << "/v1beta/models/gemini-2.5-pro:countTokens" << -1;
    }
    void apiForPath() {
        QFETCH(QString, path);
        QFETCH(int, api);
        std::optional<Api> found = wire::apiForPath(path.toStdString());
        QCOMPARE(found ? int(*found) : -1, api);
    }

    void geminiTarget_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("stream");
        QTest::addColumn<bool>("sse");
        QTest::newRow("whole") << "/v1beta/models/gemini-2.5-pro:generateContent" << true
                               << "gemini-2.5-pro" << false << false;
        QTest::newRow("sse") << "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
                             << true << "gemini-2.5-pro" << true << true;
        QTest::newRow("array stream") << "/v1/models/g:streamGenerateContent?key=k" << true << "g"
                                      << true << false;
        QTest::newRow("sse after key") << "/v1beta/models/g:streamGenerateContent?key=k&alt=sse"
                                       << true << "g" << true << true;
        QTest::newRow("not a call") << "/v1beta/models/g:countTokens" << false << "" << false
                                    << false;
        QTest::newRow("openai") << "/v1/chat/completions" << false << "" << false << false;
    }
    void geminiTarget() {
        QFETCH(QString, path);
        QFETCH(bool, valid);
        auto target = wire::geminiTarget(path.toStdString());
        QCOMPARE(target.has_value(), valid);
        if (!valid)
            return;
        QFETCH(QString, model);
        QFETCH(bool, stream);
        QFETCH(bool, sse);
        QCOMPARE(QString::fromStdString(target->model), model);
        QCOMPARE(target->stream, stream);
        QCOMPARE(target->sse, sse);
    }

    // Each row: one request line of the recorded traffic and what is in it.
    void realRequests_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("messages");
        QTest::addColumn<int>("toolCalls");
        QTest::addColumn<int>("toolResults");
        QTest::addColumn<int>("tools");
        QTest::addColumn<bool>("stream");
        const QString openai = "openai.requests.jsonl", sdk = "anthropic_sdk.requests.jsonl",
                      claude = "claude.requests.jsonl";
        QTest::newRow("chat first") << openai << 0 << 1 << 0 << 0 << 1 << false;
        QTest::newRow("chat second") << openai << 1 << 3 << 1 << 1 << 1 << false;
        QTest::newRow("chat stream first") << openai << 2 << 1 << 0 << 0 << 1 << true;
        QTest::newRow("chat stream second") << openai << 3 << 3 << 1 << 1 << 1 << true;
        QTest::newRow("responses stream first") << openai << 4 << 1 << 0 << 0 << 1 << true;
        QTest::newRow("responses stream second") << openai << 5 << 3 << 1 << 1 << 1 << true;
        QTest::newRow("responses first") << openai << 6 << 1 << 0 << 0 << 1 << false;
        QTest::newRow("responses second") << openai << 7 << 3 << 1 << 1 << 1 << false;
        QTest::newRow("anthropic sdk first") << sdk << 0 << 1 << 0 << 0 << 1 << false;
        QTest::newRow("anthropic sdk second") << sdk << 1 << 3 << 1 << 1 << 1 << false;
        QTest::newRow("anthropic sdk stream first") << sdk << 2 << 1 << 0 << 0 << 1 << true;
        QTest::newRow("anthropic sdk stream second") << sdk << 3 << 3 << 1 << 1 << 1 << true;
        QTest::newRow("count tokens, as a messages body") << sdk << 4 << 1 << 0 << 0 << 0 << false;
        QTest::newRow("claude code first") << claude << 1 << 1 << 0 << 0 << 24 << true;
        QTest::newRow("claude code second") << claude << 2 << 3 << 1 << 1 << 24 << true;
    }
    void realRequests() {
        QFETCH(QString, file);
        QFETCH(int, line);
        QFETCH(int, messages);
        QFETCH(int, toolCalls);
        QFETCH(int, toolResults);
        QFETCH(int, tools);
        QFETCH(bool, stream);
        const json exchange = readExchanges(file).at(line);
        std::string path = exchange["path"];
        Api api = wire::apiForPath(path).value_or(Api::AnthropicMessages); // count_tokens
        Result<Request> request = parseRequest(api, exchange["body"]);
        QVERIFY2(request.ok(), request.ok() ? "" : request.error().message.c_str());
        QCOMPARE(int(request->messages.size()), messages);
        QCOMPARE(countToolCalls(*request), toolCalls);
        QCOMPARE(countRole(*request, Role::Tool), toolResults);
        QCOMPARE(int(request->tools.size()), tools);
        QCOMPARE(request->stream, stream);
        QCOMPARE(request->api, api);
        QVERIFY(!request->model.empty());
        QCOMPARE(request->messages.front().role, Role::User);
        QVERIFY(!request->messages.front().text.empty());
        for (const Message &m : request->messages) {
            for (const ToolCall &call : m.toolCalls) {
                QVERIFY(!call.id.empty());
                COMPARE_JSON(call.arguments, json({{"command", "echo hello"}}));
            }
            if (m.role == Role::Tool) {
                QCOMPARE(m.toolCallId, request->messages[1].toolCalls.at(0).id);
                QVERIFY(QString::fromStdString(m.text).startsWith("hello"));
            }
        }

        // Parsing what render made of it gives the same neutral form, and the members the
        // neutral form has no field for went through unchanged.
        json rendered = renderRequest(*request);
        Result<Request> again = parseRequest(api, rendered);
        QVERIFY2(again.ok(), again.ok() ? "" : again.error().message.c_str());
        QVERIFY(*again == *request);
        for (auto it = request->extra.begin(); it != request->extra.end(); ++it)
            COMPARE_JSON(rendered.at(it.key()), it.value());
    }

    void claudeCodeRequestInDetail() {
        const json exchange = readExchanges("claude.requests.jsonl").at(2);
        Request request = parsed(Api::AnthropicMessages, exchange["body"]);
        // Four system blocks, joined; the billing line is the first of them.
        QVERIFY(request.system.starts_with("x-anthropic-billing-header"));
        QVERIFY(request.system.find("\n\nYou are a Claude agent") != std::string::npos);
        QCOMPARE(request.maxTokens, int64_t(32000));
        // The user's four text blocks became one text, the task last.
        QVERIFY(request.messages[0].text.ends_with(
            "Run the shell command: echo hello. Then tell me what it printed."));
        QCOMPARE(request.messages[1].toolCalls.at(0).name, std::string("Bash"));
        QCOMPARE(request.messages[2].text, std::string("hello"));
        QCOMPARE(request.messages[2].isError, false);
        for (const char *member : {"metadata", "thinking", "context_management", "output_config"})
            QVERIFY2(request.extra.contains(member), member);
        COMPARE_JSON(request.extra["output_config"], json({{"effort", "high"}}));
        QVERIFY(request.responseSchema.is_null());
        QCOMPARE(request.tools.at(1).name, std::string("Bash"));
        QVERIFY(request.tools.at(1).parameters.contains("properties"));
    }

    void realResponses_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("toolCalls");
        QTest::addColumn<int>("stopReason");
        QTest::addColumn<qint64>("inputTokens");
        QTest::addColumn<qint64>("outputTokens");
        const QString openai = "openai.requests.jsonl", sdk = "anthropic_sdk.requests.jsonl";
        QTest::newRow("chat call") << openai << 0 << 1 << int(StopReason::ToolUse) << 79ll << 12ll;
        QTest::newRow("chat answer") << openai << 1 << 0 << int(StopReason::EndTurn) << 149ll << 12ll;
        QTest::newRow("responses call") << openai << 6 << 1 << int(StopReason::ToolUse) << 78ll << 12ll;
        QTest::newRow("responses answer") << openai << 7 << 0 << int(StopReason::EndTurn) << 151ll
                                          << 12ll;
        QTest::newRow("anthropic call") << sdk << 0 << 1 << int(StopReason::ToolUse) << 78ll << 12ll;
        QTest::newRow("anthropic answer") << sdk << 1 << 0 << int(StopReason::EndTurn) << 148ll
                                          << 12ll;
    }
    void realResponses() {
        QFETCH(QString, file);
        QFETCH(int, line);
        QFETCH(int, toolCalls);
        QFETCH(int, stopReason);
        QFETCH(qint64, inputTokens);
        QFETCH(qint64, outputTokens);
        const json exchange = readExchanges(file).at(line);
        Api api = *wire::apiForPath(exchange["path"].get<std::string>());
        Result<Response> response = parseResponse(api, exchange["response"]["body"]);
        QVERIFY2(response.ok(), response.ok() ? "" : response.error().message.c_str());
        QCOMPARE(int(response->toolCalls.size()), toolCalls);
        QCOMPARE(int(response->stopReason), stopReason);
        QCOMPARE(response->usage.inputTokens, inputTokens);
        QCOMPARE(response->usage.outputTokens, outputTokens);
        QVERIFY(!response->id.empty());
        if (toolCalls == 0)
            QCOMPARE(response->text, std::string("MOCK FINAL ANSWER: the tool ran and returned: hello"));
        else
            COMPARE_JSON(response->toolCalls[0].arguments, json({{"command", "echo hello"}}));
        Result<Response> again = parseResponse(api, renderResponse(api, *response));
        QVERIFY(again.ok());
        QVERIFY(*again == *response);
    }

    void requestRoundTrip_data() {
        QTest::addColumn<Api>("api");
        for (Api api : kAllApis)
            QTest::newRow(apiName(api)) << api;
    }
    void requestRoundTrip() {
        QFETCH(Api, api);
        const Request original = richRequest(api);
        Result<Request> back = parseRequest(api, renderRequest(original));
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        QCOMPARE(back->messages.size(), original.messages.size());
        for (size_t i = 0; i < original.messages.size(); ++i)
            QVERIFY2(back->messages[i] == original.messages[i], std::to_string(i).c_str());
        QCOMPARE(back->system, original.system);
        QVERIFY(back->tools == original.tools);
        QCOMPARE(back->maxTokens, original.maxTokens);
        QVERIFY(back->temperature == original.temperature);
        COMPARE_JSON(back->responseSchema, original.responseSchema);
        COMPARE_JSON(back->extra, original.extra);
        QVERIFY(*back == original);
    }

    void responseRoundTrip_data() { requestRoundTrip_data(); }
    void responseRoundTrip() {
        QFETCH(Api, api);
        const Response original = richResponse(api);
        Result<Response> back = parseResponse(api, renderResponse(api, original));
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        QCOMPARE(back->text, original.text);
        QCOMPARE(back->thinking, original.thinking);
        QVERIFY(back->toolCalls == original.toolCalls);
        QVERIFY(back->usage == original.usage);
        QVERIFY(*back == original);
    }

    void plainJsonMode_data() { requestRoundTrip_data(); }
    void plainJsonMode() {
        QFETCH(Api, api);
        Request request = richRequest(api);
        request.responseSchema = {{"type", "object"}};
        Result<Request> back = parseRequest(api, renderRequest(request));
        QVERIFY(back.ok());
        COMPARE_JSON(back->responseSchema, request.responseSchema);
        request.responseSchema = nullptr;
        back = parseRequest(api, renderRequest(request));
        QVERIFY(back.ok());
        QVERIFY(back->responseSchema.is_null());
    }

    void anthropicToolResultsShareOneMessage() {
        const json body = json::parse(R"({
            "model": "claude-test", "max_tokens": 100,
            "messages": [
                {"role": "user", "content": "Run both."},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "a"}},
                    {"type": "tool_use", "id": "t2", "name": "bash", "input": {"command": "b"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "out a"},
                    {"type": "tool_result", "tool_use_id": "t2", "is_error": true,
                     "content": [{"type": "text", "text": "failed"}, {"type": "text", "text": "b"}]},
                    {"type": "text", "text": "Now explain."}]}]})");
        Request request = parsed(Api::AnthropicMessages, body);
        QCOMPARE(request.messages.size(), size_t(5));
        QCOMPARE(request.messages[2].role, Role::Tool);
        QCOMPARE(request.messages[2].toolCallId, std::string("t1"));
        QCOMPARE(request.messages[2].text, std::string("out a"));
        QCOMPARE(request.messages[3].role, Role::Tool);
        QCOMPARE(request.messages[3].toolCallId, std::string("t2"));
        QCOMPARE(request.messages[3].isError, true);
        QCOMPARE(request.messages[3].text, std::string("failed\n\nb"));
        QCOMPARE(request.messages[4].role, Role::User);
        QCOMPARE(request.messages[4].text, std::string("Now explain."));

        const json rendered = renderRequest(request);
        COMPARE_JSON(rendered["messages"].size(), size_t(3));
        const json &results = rendered["messages"][2];
        COMPARE_JSON(results["role"], json("user"));
        COMPARE_JSON(results["content"].size(), size_t(3));
        COMPARE_JSON(results["content"][0]["tool_use_id"], json("t1"));
        COMPARE_JSON(results["content"][1]["is_error"], json(true));
        COMPARE_JSON(results["content"][2], json({{"type", "text"}, {"text", "Now explain."}}));
        QVERIFY(parsed(Api::AnthropicMessages, rendered) == request);
    }

    void geminiMakesUpCallIds() {
        const json body = json::parse(R"({
            "contents": [
                {"role": "user", "parts": [{"text": "List and count."}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "bash", "args": {"command": "ls"}}},
                    {"functionCall": {"name": "bash", "args": {"command": "wc -l"}}},
                    {"functionCall": {"name": "read", "args": {"path": "x"}}}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "read", "response": {"output": "x!"}}},
                    {"functionResponse": {"name": "bash", "response": {"output": "a b"}}},
                    {"functionResponse": {"name": "bash", "response": {"error": "no wc"}}}]}]})");
        Request request = parsed(Api::Gemini, body);
        QCOMPARE(request.messages.size(), size_t(5));
        const std::vector<ToolCall> &calls = request.messages[1].toolCalls;
        QCOMPARE(calls.size(), size_t(3));
        QVERIFY(!calls[0].id.empty());
        QVERIFY(calls[0].id != calls[1].id);
        // Each result answers the first unanswered call of its name.
        QCOMPARE(request.messages[2].toolCallId, calls[2].id);
        QCOMPARE(request.messages[2].toolName, std::string("read"));
        QCOMPARE(request.messages[3].toolCallId, calls[0].id);
        QCOMPARE(request.messages[4].toolCallId, calls[1].id);
        QCOMPARE(request.messages[4].isError, true);
        QCOMPARE(request.messages[4].text, std::string("no wc"));
        // The same body gives the same ids, and they survive a round trip.
        QVERIFY(parsed(Api::Gemini, body) == request);
        QVERIFY(parsed(Api::Gemini, renderRequest(request)) == request);

        const json answer = json::parse(R"({"responseId": "r1", "candidates": [{"content":
            {"role": "model", "parts": [{"functionCall": {"name": "bash", "args": {"c": 1}}},
                                        {"functionCall": {"name": "bash", "args": {"c": 1}}}]},
            "finishReason": "STOP"}]})");
        Result<Response> response = parseResponse(Api::Gemini, answer);
        QVERIFY(response.ok());
        QCOMPARE(response->stopReason, StopReason::ToolUse);
        QCOMPARE(response->toolCalls.size(), size_t(2));
        QVERIFY(response->toolCalls[0].id != response->toolCalls[1].id);
        QVERIFY(parseResponse(Api::Gemini, answer)->toolCalls == response->toolCalls);
        json otherTurn = answer;
        otherTurn["responseId"] = "r2";
        QVERIFY(parseResponse(Api::Gemini, otherTurn)->toolCalls[0].id != response->toolCalls[0].id);
    }

    void argumentsThatAreNotJsonStayText() {
        auto call = [](const char *id, const char *name, const char *arguments) {
            return json{{"id", id},
                        {"type", "function"},
                        {"function", {{"name", name}, {"arguments", arguments}}}};
        };
        const json body = {
            {"model", "m"},
            {"messages",
             {{{"role", "user"}, {"content", "go"}},
              {{"role", "assistant"},
               {"content", nullptr},
               {"tool_calls",
                {call("c1", "bash", "{\"command\": \"ls"), call("c2", "bash", "[1, 2]"),
                 call("c3", "noargs", "")}}}}}};
        Request request = parsed(Api::OpenAIChat, body);
        const std::vector<ToolCall> &calls = request.messages[1].toolCalls;
        COMPARE_JSON(calls[0].arguments, json("{\"command\": \"ls"));
        COMPARE_JSON(calls[1].arguments, json("[1, 2]"));
        COMPARE_JSON(calls[2].arguments, json::object());
        const json rendered = renderRequest(request);
        COMPARE_JSON(rendered["messages"][1]["tool_calls"][0]["function"]["arguments"],
                 json("{\"command\": \"ls"));
        COMPARE_JSON(rendered["messages"][1]["tool_calls"][1]["function"]["arguments"], json("[1, 2]"));
    }

    void usageCountsCachedInputOnce() {
        const json chat = json::parse(R"({"id": "x", "model": "m", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "hi"}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 7,
                      "prompt_tokens_details": {"cached_tokens": 60}}})");
        Result<Response> response = parseResponse(Api::OpenAIChat, chat);
        QVERIFY(response.ok());
        QCOMPARE(response->usage.inputTokens, int64_t(40));
        QCOMPARE(response->usage.cacheReadTokens, int64_t(60));
        QCOMPARE(response->stopReason, StopReason::MaxTokens);
        COMPARE_JSON(renderResponse(Api::OpenAIChat, *response)["usage"]["prompt_tokens"], json(100));

        const json gemini = json::parse(R"({"candidates": [{"content": {"role": "model",
            "parts": [{"text": "Thinking...", "thought": true}, {"text": "hi"}]},
            "finishReason": "MAX_TOKENS"}], "usageMetadata": {"promptTokenCount": 50,
            "cachedContentTokenCount": 20, "candidatesTokenCount": 5, "thoughtsTokenCount": 3}})");
        response = parseResponse(Api::Gemini, gemini);
        QVERIFY(response.ok());
        QCOMPARE(response->usage.inputTokens, int64_t(30));
        QCOMPARE(response->usage.cacheReadTokens, int64_t(20));
        QCOMPARE(response->usage.outputTokens, int64_t(8));
        QCOMPARE(response->thinking, std::string("Thinking..."));
        QCOMPARE(response->text, std::string("hi"));
        QCOMPARE(response->stopReason, StopReason::MaxTokens);
    }

    void systemMessagesAndInstructions() {
        Request chat = parsed(Api::OpenAIChat, json::parse(R"({"model": "m", "messages": [
            {"role": "system", "content": "one"}, {"role": "developer",
             "content": [{"type": "text", "text": "two"}]},
            {"role": "user", "content": [{"type": "text", "text": "a"},
                                         {"type": "image_url", "image_url": {"url": "x"}},
                                         {"type": "text", "text": "b"}]},
            {"role": "system", "content": "later"}]})"));
        QCOMPARE(chat.system, std::string("one\n\ntwo"));
        QCOMPARE(chat.messages.size(), size_t(2));
        QCOMPARE(chat.messages[0].text, std::string("a\n\nb"));
        QCOMPARE(chat.messages[1].role, Role::System);

        Request responses = parsed(Api::OpenAIResponses, json::parse(
            R"({"model": "m", "instructions": "be brief", "input": "hello"})"));
        QCOMPARE(responses.system, std::string("be brief"));
        QCOMPARE(responses.messages.size(), size_t(1));
        QCOMPARE(responses.messages[0].text, std::string("hello"));

        Request gemini = parsed(Api::Gemini, json::parse(R"({"systemInstruction": {"parts":
            [{"text": "s1"}, {"text": "s2"}]}, "contents": [{"parts": [{"text": "hi"}]}],
            "generationConfig": {"maxOutputTokens": 9, "responseMimeType": "application/json",
                                 "topK": 3}})"));
        QCOMPARE(gemini.system, std::string("s1\n\ns2"));
        QCOMPARE(gemini.maxTokens, int64_t(9));
        COMPARE_JSON(gemini.responseSchema, json({{"type", "object"}}));
        COMPARE_JSON(gemini.extra, json({{"generationConfig", {{"topK", 3}}}}));
    }

    void malformed_data() {
        QTest::addColumn<Api>("api");
        QTest::addColumn<bool>("isRequest");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");
        auto row = [](const char *name, Api api, bool isRequest, const char *body,
                      const char *message) {
            QTest::newRow(name) << api << isRequest << QString(body) << QString(message);
        };
        const Api chat = Api::OpenAIChat, responses = Api::OpenAIResponses,
                  anthropic = Api::AnthropicMessages, gemini = Api::Gemini;
        row("chat: not an object", chat, true, "[1]",
            "openai-chat request: (the body): expected an object, got an array");
        row("chat: no messages", chat, true, R"({"model": "m"})",
            R"((the body): expected a member "messages")");
        row("chat: messages not a list", chat, true, R"({"messages": {}})",
            "/messages: expected an array, got an object");
        row("chat: unknown role", chat, true, R"({"messages": [{"role": "robot"}]})",
            R"(/messages/0/role: expected one of "system", "developer", "user", "assistant", "tool", got a string "robot")");
        row("chat: role not a string", chat, true, R"({"messages": [{"role": 7}]})",
            "/messages/0/role: expected a string, got an integer");
        row("chat: tool without its call", chat, true,
            R"({"messages": [{"role": "tool", "content": "x"}]})",
            R"(/messages/0: expected a member "tool_call_id")");
        row("chat: part without type", chat, true,
            R"({"messages": [{"role": "user", "content": [{"text": "x"}]}]})",
            R"(/messages/0/content/0: expected a member "type")");
        row("chat: arguments a number", chat, true,
            R"({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": 5}}]}]})",
            "/messages/0/tool_calls/0/function/arguments: expected a string of JSON, got an integer");
        row("chat: max_tokens text", chat, true, R"({"messages": [], "max_tokens": "many"})",
            R"(/max_tokens: expected an integer, got a string "many")");
        row("chat: unknown response format", chat, true,
            R"({"messages": [], "response_format": {"type": "yaml"}})",
            R"(/response_format/type: expected one of "text", "json_object", "json_schema")");
        row("chat response: no choices", chat, false, R"({"choices": []})",
            "openai-chat response: /choices: expected at least one choice");
        row("chat response: content a number", chat, false,
            R"({"choices": [{"message": {"content": 3}}]})",
            "/choices/0/message/content: expected a string or an array of content parts");
        row("anthropic: no content", anthropic, true, R"({"messages": [{"role": "user"}]})",
            R"(anthropic-messages request: /messages/0: expected a member "content")");
        row("anthropic: system role", anthropic, true,
            R"({"messages": [{"role": "system", "content": "x"}]})",
            R"(/messages/0/role: expected one of "user", "assistant", got a string "system")");
        row("anthropic: tool_use without id", anthropic, true,
            R"({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "name": "f"}]}]})",
            R"(/messages/0/content/0: expected a member "id")");
        row("anthropic: tool_result without its call", anthropic, true,
            R"({"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]})",
            R"(/messages/0/content/0: expected a member "tool_use_id")");
        row("anthropic: system a number", anthropic, true, R"({"system": 1, "messages": []})",
            "/system: expected an array, got an integer");
        row("anthropic: tool name missing", anthropic, true,
            R"({"messages": [], "tools": [{"input_schema": {}}]})",
            R"(/tools/0: expected a member "name")");
        row("anthropic response: no content", anthropic, false, R"({"id": "x"})",
            R"(anthropic-messages response: (the body): expected a member "content")");
        row("responses: input a number", responses, true, R"({"input": 5})",
            "openai-responses request: /input: expected an array, got an integer");
        row("responses: output without its call", responses, true,
            R"({"input": [{"type": "function_call_output", "output": "x"}]})",
            R"(/input/0: expected a member "call_id")");
        row("responses: item of nothing", responses, true, R"({"input": [{"content": "x"}]})",
            R"(/input/0: expected an item with a "type" or a "role")");
        row("responses: tool without type", responses, true, R"({"input": [], "tools": [{"name": "f"}]})",
            R"(/tools/0: expected a member "type")");
        row("responses response: output not a list", responses, false, R"({"output": "x"})",
            "/output: expected an array, got a string");
        row("gemini: no parts", gemini, true, R"({"contents": [{"role": "user"}]})",
            R"(gemini request: /contents/0: expected a member "parts")");
        row("gemini: unknown role", gemini, true, R"({"contents": [{"role": "bot", "parts": []}]})",
            R"(/contents/0/role: expected one of "user", "model", got a string "bot")");
        row("gemini: response without name", gemini, true,
            R"({"contents": [{"parts": [{"functionResponse": {"response": {}}}]}]})",
            R"(/contents/0/parts/0/functionResponse: expected a member "name")");
        row("gemini response: parts not a list", gemini, false,
            R"({"candidates": [{"content": {"parts": {}}}]})",
            "gemini response: /candidates/0/content/parts: expected an array, got an object");
    }
    void malformed() {
        QFETCH(Api, api);
        QFETCH(bool, isRequest);
        QFETCH(QString, body);
        QFETCH(QString, message);
        const json document = json::parse(body.toStdString());
        Error error{ErrorCode::Io, {}};
        if (isRequest) {
            Result<Request> result = parseRequest(api, document);
            QVERIFY(!result.ok());
            error = result.error();
        } else {
            Result<Response> result = parseResponse(api, document);
            QVERIFY(!result.ok());
            error = result.error();
        }
        QCOMPARE(error.code, ErrorCode::Parse);
        QVERIFY2(QString::fromStdString(error.message).contains(message),
                 error.message.c_str());
    }

    void deepNestingIsRefused() {
        json deep = json::array();
        for (int i = 0; i < 400; ++i)
            deep = json::array({deep});
        Result<Request> result = parseRequest(Api::OpenAIChat, {{"messages", deep}});
        QVERIFY(!result.ok());
        QVERIFY(QString::fromStdString(result.error().message).contains("nests deeper"));
    }

    void errors_data() {
        QTest::addColumn<Api>("api");
        QTest::addColumn<QString>("madeUpType");
        QTest::newRow("openai-chat") << Api::OpenAIChat << "rate_limit_exceeded";
        QTest::newRow("openai-responses") << Api::OpenAIResponses << "rate_limit_exceeded";
        QTest::newRow("anthropic-messages") << Api::AnthropicMessages << "rate_limit_error";
        QTest::newRow("gemini") << Api::Gemini << "RESOURCE_EXHAUSTED";
    }
    void errors() {
        QFETCH(Api, api);
        QFETCH(QString, madeUpType);
        ApiError error{429, "", "slow down"};
        const json body = renderError(api, error);
        if (api == Api::AnthropicMessages)
            COMPARE_JSON(body["type"], json("error"));
        std::optional<ApiError> back = parseError(429, body);
        QVERIFY(back);
        QCOMPARE(back->httpStatus, 429);
        QCOMPARE(back->message, std::string("slow down"));
        QCOMPARE(QString::fromStdString(back->type), madeUpType);
        error.type = "overloaded_error";
        QCOMPARE(parseError(529, renderError(api, error))->type, std::string("overloaded_error"));
        QVERIFY(!parseError(200, json({{"id", "x"}})));
        QVERIFY(!parseError(500, json("text")));
    }
};

QTEST_GUILESS_MAIN(TestWire)
#include "tst_wire.moc"
