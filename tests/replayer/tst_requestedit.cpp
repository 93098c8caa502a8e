// A fork's request edits (replayer/src/requestedit.h) on the request bodies real clients sent
// (../shared/data/wire: Claude Code and the Anthropic SDK for Messages, the openai SDK for
// Chat Completions and Responses) and on built Gemini bodies: each edit shows in the parsed
// request as exactly that change and nothing else, the raw body keeps every other member,
// later requests get the appended message at the same place, and bodies the edits do not
// fit are left alone.
#include "requestedit.h"

#include <QTest>

#include <fstream>

using namespace tapedeck::replayer;
using namespace tapedeck::formats;
using nlohmann::json;
using wire::Api;

namespace {

const std::string kNewOutput = "NEW";
const std::string kUserText = "Stop and check the build log first.";

// The model call on line `line` of `file`, with the path it was sent to.
struct WireRequest {
    Api api = Api::OpenAIChat;
    std::string target;
    json body;
};

WireRequest wireRequest(const std::string &file, int line)
{
    std::ifstream in(std::string(TAPEDECK_WIRE_DATA "/") + file);
    std::string text;
    for (int at = 0; std::getline(in, text); ++at) {
        if (at != line)
            continue;
        const json exchange = json::parse(text);
        const std::string target = exchange.value("path", "");
        const auto api = wire::apiForPath(target);
        if (api && exchange["body"].is_object())
            return {*api, target, exchange["body"]};
    }
    qFatal("no model call on line %d of %s", line, file.c_str());
}

json wireBody(const std::string &file, int line)
{
    return wireRequest(file, line).body;
}

// Gemini's traffic is not in the data: a built request, the model's two calls and their
// results as the codec reads them (the second an error); with or without the call ids
// Gemini lets a client leave out.
json geminiBody(bool withIds)
{
    json ls = {{"name", "bash"}, {"args", {{"command", "ls"}}}};
    json date = {{"name", "bash"}, {"args", {{"command", "date"}}}};
    json lsResult = {{"name", "bash"}, {"response", {{"output", "a.txt\nb.txt\n"}}}};
    json dateResult = {{"name", "bash"}, {"response", {{"error", "date: not found"}}}};
    if (withIds) {
        ls["id"] = lsResult["id"] = "fc-ls";
        date["id"] = dateResult["id"] = "fc-date";
    }
    return {
        {"systemInstruction", {{"parts", json::array({{{"text", "You run commands."}}})}}},
        {"contents",
         json::array(
             {{{"role", "user"}, {"parts", json::array({{{"text", "Run ls, then date."}}})}},
              {{"role", "model"},
               {"parts", json::array({{{"functionCall", ls}}, {{"functionCall", date}}})}},
              {{"role", "user"},
               {"parts", json::array({{{"functionResponse", lsResult}},
                                      {{"functionResponse", dateResult}}})}}})},
        {"tools", json::array({{{"functionDeclarations",
                                 json::array({{{"name", "bash"},
                                               {"description", "Run a shell command"},
                                               {"parameters", {{"type", "object"}}}}})}}})},
        {"generationConfig", {{"temperature", 0.2}, {"thinkingConfig", {{"thinkingBudget", 0}}}}}};
}

const char *kGeminiTarget = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse";

// The id the codec makes up for Gemini's call `call` of the model turn in geminiBody(false).
std::string geminiMadeUpId(size_t call)
{
    auto parsed = wire::parseRequest(Api::Gemini, geminiBody(false));
    if (!parsed)
        qFatal("%s", parsed.error().message.c_str());
    return parsed->messages.at(1).toolCalls.at(call).id;
}

QByteArray bytes(const json &value)
{
    return QByteArray::fromStdString(value.dump());
}

json fromBytes(const QByteArray &text)
{
    return json::parse(text.toStdString());
}

std::string shown(const wire::Request &request)
{
    return wire::renderRequest(request).dump(1);
}

std::string joined(const std::vector<std::string> &lines)
{
    std::string out;
    for (const std::string &line : lines)
        out += line + "\n";
    return out.empty() ? "(nothing changed)" : out;
}

wire::Message userText(const std::string &text)
{
    wire::Message message;
    message.text = text;
    return message;
}

RequestEdit toolResult(const std::string &callId, const std::string &text)
{
    return {RequestEdit::Kind::ToolResult, callId, text, {}};
}

RequestEdit appendUser(const std::string &text)
{
    return {RequestEdit::Kind::AppendUser, {}, text, {}};
}

RequestEdit model(const std::string &name)
{
    return {RequestEdit::Kind::Model, {}, {}, name};
}

} // namespace

// Shows the difference in the failure message when two neutral requests differ.
#define COMPARE_REQUESTS(actual, expected)                                                         \
    QVERIFY2((actual) == (expected),                                                               \
             ("got:\n" + shown(actual) + "\nexpected:\n" + shown(expected)).c_str())

#define COMPARE_LINES(actual, expected)                                                            \
    do {                                                                                           \
        const std::vector<std::string> actualLines = (actual), expectedLines = (expected);         \
        QVERIFY2(                                                                                  \
            actualLines == expectedLines,                                                          \
            ("got:\n" + joined(actualLines) + "expected:\n" + joined(expectedLines)).c_str());     \
    } while (false)

#define PARSE_OR_FAIL(name, api, body)                                                             \
    auto name##Result = wire::parseRequest(api, body);                                             \
    QVERIFY2(name##Result.ok(), name##Result.ok() ? "" : name##Result.error().message.c_str());    \
    const wire::Request name = *name##Result

class TestRequestEdit : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void describeNamesTheEdit()
    {
        QCOMPARE(describe(toolResult("call_7", "x")),
                 std::string("the tool output of call_7 replaced"));
        QCOMPARE(describe(appendUser("x")), std::string("a user message appended"));
        QCOMPARE(describe(model("gpt-5")), std::string("model gpt-5 instead of the recorded one"));
    }

    void toolOutputIsReplaced_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("callId");
        QTest::addColumn<QString>("slot");     // JSON pointer to the output that changes
        QTest::addColumn<QByteArray>("value"); // what it becomes
        QTest::addColumn<QString>("line");
        const auto row = [](const char *name, Api api, const json &body, const std::string &id,
                            const std::string &slot, const json &value, const std::string &line) {
            QTest::newRow(name) << int(api) << bytes(body) << QString::fromStdString(id)
                                << QString::fromStdString(slot) << bytes(value)
                                << QString::fromStdString(line);
        };

        row("claude code: tool_result with is_error and cache_control", Api::AnthropicMessages,
            wireBody("claude.requests.jsonl", 2), "toolu_bf4b7d825f8b48d8959e196c",
            "/messages/2/content/0/content", kNewOutput,
            "tool output of toolu_bf4b7d825f8b48d8959e196c replaced (5 bytes -> 3 bytes)");
        row("anthropic sdk: tool_result", Api::AnthropicMessages,
            wireBody("anthropic_sdk.requests.jsonl", 1), "toolu_094131608f684dab9a683a2e",
            "/messages/2/content/0/content", kNewOutput,
            "tool output of toolu_094131608f684dab9a683a2e replaced (6 bytes -> 3 bytes)");
        json blocks = wireBody("anthropic_sdk.requests.jsonl", 3);
        blocks["messages"][2]["content"][0]["content"] =
            json::array({{{"type", "text"}, {"text", "total 0"}}});
        blocks["messages"][2]["content"][0]["is_error"] = true;
        row("anthropic sdk: tool_result of blocks, an error", Api::AnthropicMessages, blocks,
            "toolu_190450c954f546b1a9d0e1c6", "/messages/2/content/0/content", kNewOutput,
            "tool output of toolu_190450c954f546b1a9d0e1c6 replaced (7 bytes -> 3 bytes)");

        row("openai chat: tool message", Api::OpenAIChat, wireBody("openai.requests.jsonl", 1),
            "call_1aeac4fbce5347079cd95185", "/messages/2/content", kNewOutput,
            "tool output of call_1aeac4fbce5347079cd95185 replaced (6 bytes -> 3 bytes)");
        json parts = wireBody("openai.requests.jsonl", 3);
        parts["messages"][2]["content"] = json::array({{{"type", "text"}, {"text", "hello\n"}}});
        row("openai chat: tool message of content parts", Api::OpenAIChat, parts,
            "call_d5b8eb4a6ff443eebfc91419", "/messages/2/content", kNewOutput,
            "tool output of call_d5b8eb4a6ff443eebfc91419 replaced (6 bytes -> 3 bytes)");

        row("openai responses: function_call_output", Api::OpenAIResponses,
            wireBody("openai.requests.jsonl", 5), "call_a5aeaf14e887486c8c806261",
            "/input/2/output", kNewOutput,
            "tool output of call_a5aeaf14e887486c8c806261 replaced (6 bytes -> 3 bytes)");
        row("openai responses: streaming function_call_output", Api::OpenAIResponses,
            wireBody("openai.requests.jsonl", 7), "call_fad532bf830e474ca0680d47",
            "/input/2/output", kNewOutput,
            "tool output of call_fad532bf830e474ca0680d47 replaced (6 bytes -> 3 bytes)");

        row("gemini: result with its own id", Api::Gemini, geminiBody(true), "fc-ls",
            "/contents/2/parts/0/functionResponse/response", {{"output", kNewOutput}},
            "tool output of fc-ls replaced (12 bytes -> 3 bytes)");
        row("gemini: result matched by the made-up id", Api::Gemini, geminiBody(false),
            geminiMadeUpId(0), "/contents/2/parts/0/functionResponse/response",
            {{"output", kNewOutput}},
            "tool output of " + geminiMadeUpId(0) + " replaced (12 bytes -> 3 bytes)");
        row("gemini: error result stays an error", Api::Gemini, geminiBody(false),
            geminiMadeUpId(1), "/contents/2/parts/1/functionResponse/response",
            {{"error", kNewOutput}},
            "tool output of " + geminiMadeUpId(1) + " replaced (15 bytes -> 3 bytes)");
    }

    void toolOutputIsReplaced()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, body);
        QFETCH(QString, callId);
        QFETCH(QString, slot);
        QFETCH(QByteArray, value);
        QFETCH(QString, line);
        const json original = fromBytes(body);
        const std::string id = callId.toStdString();
        RequestEditor editor({toolResult(id, kNewOutput)});
        json edited = original;
        std::string target = "/unchanged";

        const std::vector<std::string> lines = editor.apply(Api(api), target, edited);
        COMPARE_LINES(lines, std::vector<std::string>{line.toStdString()});
        QCOMPARE(target, std::string("/unchanged"));

        // The raw body: that one output, every other member as it was.
        json expectedBody = original;
        expectedBody[json::json_pointer(slot.toStdString())] = fromBytes(value);
        QVERIFY2(edited == expectedBody, edited.dump(1).c_str());

        // What the model reads: that tool's output, nothing else.
        PARSE_OR_FAIL(before, Api(api), original);
        PARSE_OR_FAIL(after, Api(api), edited);
        wire::Request expected = before;
        int results = 0;
        for (wire::Message &message : expected.messages) {
            if (message.role == wire::Role::Tool && message.toolCallId == id) {
                message.text = kNewOutput;
                ++results;
            }
        }
        QCOMPARE(results, 1);
        COMPARE_REQUESTS(after, expected);
    }

    void customToolOutputIsReplaced()
    {
        // The neutral form has no place for custom tools' results; only the body shows it.
        json body = wireBody("openai.requests.jsonl", 5);
        body["input"][1]["type"] = "custom_tool_call";
        body["input"][2]["type"] = "custom_tool_call_output";
        RequestEditor editor({toolResult("call_a5aeaf14e887486c8c806261", kNewOutput)});
        json edited = body;
        std::string target = "/v1/responses";
        QCOMPARE(editor.apply(Api::OpenAIResponses, target, edited).size(), size_t(1));
        body["input"][2]["output"] = kNewOutput;
        QVERIFY2(edited == body, edited.dump(1).c_str());
    }

    void unknownCallIdChangesNothing_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("claude code")
            << int(Api::AnthropicMessages) << bytes(wireBody("claude.requests.jsonl", 2));
        QTest::newRow("anthropic sdk")
            << int(Api::AnthropicMessages) << bytes(wireBody("anthropic_sdk.requests.jsonl", 1));
        QTest::newRow("openai chat")
            << int(Api::OpenAIChat) << bytes(wireBody("openai.requests.jsonl", 1));
        QTest::newRow("openai responses")
            << int(Api::OpenAIResponses) << bytes(wireBody("openai.requests.jsonl", 5));
        QTest::newRow("gemini with ids") << int(Api::Gemini) << bytes(geminiBody(true));
        QTest::newRow("gemini without ids") << int(Api::Gemini) << bytes(geminiBody(false));
    }

    void unknownCallIdChangesNothing()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, body);
        const json original = fromBytes(body);
        json edited = original;
        std::string target = kGeminiTarget;
        RequestEditor editor({toolResult("call_not_in_this_request", kNewOutput)});
        QVERIFY(editor.apply(Api(api), target, edited).empty());
        QVERIFY(edited == original);
        QCOMPARE(target, std::string(kGeminiTarget));
    }

    void userMessageIsAppended_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("line");
        const auto row = [](const char *name, Api api, const json &body, const char *line) {
            QTest::newRow(name) << int(api) << bytes(body) << QString(line);
        };
        row("claude code: after the tool result, in its turn", Api::AnthropicMessages,
            wireBody("claude.requests.jsonl", 2), "user message appended to message 2");
        row("claude code: first request, in the user's turn", Api::AnthropicMessages,
            wireBody("claude.requests.jsonl", 1), "user message appended to message 0");
        row("anthropic sdk: after the tool result, in its turn", Api::AnthropicMessages,
            wireBody("anthropic_sdk.requests.jsonl", 1), "user message appended to message 2");
        row("anthropic sdk: a string turn becomes blocks", Api::AnthropicMessages,
            wireBody("anthropic_sdk.requests.jsonl", 0), "user message appended to message 0");
        json afterAssistant = wireBody("anthropic_sdk.requests.jsonl", 1);
        afterAssistant["messages"].push_back(
            {{"role", "assistant"}, {"content", "It printed hello."}});
        row("anthropic sdk: after the assistant, a turn of its own", Api::AnthropicMessages,
            afterAssistant, "user message appended as message 4");
        row("openai chat: after the tool message", Api::OpenAIChat,
            wireBody("openai.requests.jsonl", 1), "user message appended as message 3");
        row("openai chat: first request", Api::OpenAIChat, wireBody("openai.requests.jsonl", 0),
            "user message appended as message 1");
        row("openai responses: after the function_call_output", Api::OpenAIResponses,
            wireBody("openai.requests.jsonl", 5), "user message appended as message 3");
        row("gemini: after the function responses, in their turn", Api::Gemini, geminiBody(false),
            "user message appended to message 2");
        json geminiFirst = geminiBody(false);
        geminiFirst["contents"].erase(geminiFirst["contents"].begin() + 1,
                                      geminiFirst["contents"].end());
        row("gemini: first request, in the user's turn", Api::Gemini, geminiFirst,
            "user message appended to message 0");
    }

    void userMessageIsAppended()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, body);
        QFETCH(QString, line);
        const json original = fromBytes(body);
        json edited = original;
        std::string target = "/unchanged";
        RequestEditor editor({appendUser(kUserText)});
        COMPARE_LINES(editor.apply(Api(api), target, edited),
                      std::vector<std::string>{line.toStdString()});

        // One more user text at the end of what the model reads: a message of its own, or,
        // where it went into the user's own turn, a block joined to that turn's text.
        PARSE_OR_FAIL(before, Api(api), original);
        PARSE_OR_FAIL(after, Api(api), edited);
        wire::Request expected = before;
        const bool intoUserText =
            line.contains("appended to") && expected.messages.back().role == wire::Role::User;
        if (intoUserText)
            expected.messages.back().text += "\n\n" + kUserText;
        else
            expected.messages.push_back(userText(kUserText));
        COMPARE_REQUESTS(after, expected);

        // Everything before it stays as the client sent it.
        const char *member = wire::conversationMember(Api(api));
        const size_t kept = original[member].size() - (line.contains("appended to") ? 1 : 0);
        for (size_t i = 0; i < kept; ++i)
            QVERIFY2(edited[member][i] == original[member][i], std::to_string(i).c_str());
        // And every member besides the conversation.
        json editedRest = edited, originalRest = original;
        editedRest.erase(member);
        originalRest.erase(member);
        QVERIFY2(editedRest == originalRest, editedRest.dump().c_str());
    }

    // Responses continued by previous_response_id: the server keeps the conversation, so
    // the message the first request added is not added again.
    void storedResponsesConversationGetsTheMessageOnce()
    {
        RequestEditor editor({appendUser(kUserText)});
        std::string target = "/v1/responses";
        json first = {{"model", "gpt-5"}, {"input", json::array({{{"role", "user"}, {"content", "go"}}})}};
        QCOMPARE(editor.apply(Api::OpenAIResponses, target, first).size(), size_t(1));
        QCOMPARE(first["input"].size(), size_t(2));
        json next = {{"model", "gpt-5"},
                     {"previous_response_id", "resp_1"},
                     {"input", json::array({{{"type", "function_call_output"}, {"call_id", "c1"}, {"output", "ok"}}})}};
        const json before = next;
        QVERIFY(editor.apply(Api::OpenAIResponses, target, next).empty());
        QVERIFY2(next == before, next.dump().c_str());
    }

    void laterRequestsGetTheMessageAtTheSamePlace_data()
    {
        // A first live request, and the agent's next one: the same conversation, without the
        // edit (the agent never saw it), with the model's answer and a further turn after it.
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("first");
        QTest::addColumn<QByteArray>("later");
        const auto row = [](const char *name, Api api, const json &first, const json &tail) {
            json later = first;
            const char *member = wire::conversationMember(api);
            for (const json &item : tail)
                later[member].push_back(item);
            QTest::newRow(name) << int(api) << bytes(first) << bytes(later);
        };
        row("claude code", Api::AnthropicMessages, wireBody("claude.requests.jsonl", 2),
            json::array({{{"role", "assistant"},
                          {"content", json::array({{{"type", "text"}, {"text", "Checked."}}})}},
                         {{"role", "user"}, {"content", "Now run it again."}}}));
        row("openai chat", Api::OpenAIChat, wireBody("openai.requests.jsonl", 1),
            json::array({{{"role", "assistant"}, {"content", "It printed hello."}},
                         {{"role", "user"}, {"content", "Thanks."}}}));
        row("openai responses", Api::OpenAIResponses, wireBody("openai.requests.jsonl", 5),
            json::array({{{"type", "message"},
                          {"role", "assistant"},
                          {"content", json::array({{{"type", "output_text"}, {"text", "Done."}}})}},
                         {{"role", "user"}, {"content", "Thanks."}}}));
        row("gemini", Api::Gemini, geminiBody(false),
            json::array({{{"role", "model"}, {"parts", json::array({{{"text", "Checked."}}})}},
                         {{"role", "user"}, {"parts", json::array({{{"text", "Thanks."}}})}}}));
    }

    void laterRequestsGetTheMessageAtTheSamePlace()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, first);
        QFETCH(QByteArray, later);
        const char *member = wire::conversationMember(Api(api));
        RequestEditor editor({appendUser(kUserText)});
        std::string target = "/unchanged";

        json firstEdited = fromBytes(first);
        const std::vector<std::string> firstLines = editor.apply(Api(api), target, firstEdited);
        QCOMPARE(firstLines.size(), size_t(1));

        // The first request as edited, then the rest of the later one as the agent sent it.
        const json laterOriginal = fromBytes(later);
        json expected = firstEdited;
        for (size_t i = fromBytes(first)[member].size(); i < laterOriginal[member].size(); ++i)
            expected[member].push_back(laterOriginal[member][i]);

        for (int again = 0; again < 2; ++again) {
            json laterEdited = laterOriginal;
            COMPARE_LINES(editor.apply(Api(api), target, laterEdited), firstLines);
            QVERIFY2(laterEdited == expected, laterEdited.dump(1).c_str());
        }
    }

    void shorterRequestGetsTheMessageAtItsEnd()
    {
        // An agent that started a new conversation (or compacted its history) after the fork.
        RequestEditor editor({appendUser(kUserText)});
        std::string target = "/v1/chat/completions";
        json first = wireBody("openai.requests.jsonl", 1);
        COMPARE_LINES(editor.apply(Api::OpenAIChat, target, first),
                      std::vector<std::string>{"user message appended as message 3"});
        json shorter = wireBody("openai.requests.jsonl", 0);
        COMPARE_LINES(editor.apply(Api::OpenAIChat, target, shorter),
                      std::vector<std::string>{"user message appended as message 1"});
        QVERIFY(shorter["messages"][1] == json({{"role", "user"}, {"content", kUserText}}));
    }

    void twoUserMessagesKeepTheirOrder()
    {
        RequestEditor editor({appendUser("first"), appendUser("second")});
        std::string target = "/v1/chat/completions";
        json body = wireBody("openai.requests.jsonl", 1);
        COMPARE_LINES(editor.apply(Api::OpenAIChat, target, body),
                      (std::vector<std::string>{"user message appended as message 3",
                                                "user message appended as message 4"}));
        QCOMPARE(body["messages"][3]["content"].get<std::string>(), std::string("first"));
        QCOMPARE(body["messages"][4]["content"].get<std::string>(), std::string("second"));
    }

    void modelIsReplaced_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("newModel");
        QTest::addColumn<QString>("expectedTarget");
        QTest::addColumn<QString>("line");
        const auto row = [](const char *name, Api api, const json &body, const char *target,
                            const char *model, const char *expectedTarget, const char *line) {
            QTest::newRow(name) << int(api) << bytes(body) << QString(target) << QString(model)
                                << QString(expectedTarget) << QString(line);
        };
        row("claude code", Api::AnthropicMessages, wireBody("claude.requests.jsonl", 2),
            "/v1/messages?beta=true", "claude-opus-4", "/v1/messages?beta=true",
            "model claude-opus-4 instead of claude-sonnet-4-6");
        row("anthropic sdk", Api::AnthropicMessages, wireBody("anthropic_sdk.requests.jsonl", 1),
            "/v1/messages", "claude-haiku-4-5", "/v1/messages",
            "model claude-haiku-4-5 instead of claude-sonnet-4-6");
        row("openai chat", Api::OpenAIChat, wireBody("openai.requests.jsonl", 1),
            "/v1/chat/completions", "gpt-5", "/v1/chat/completions",
            "model gpt-5 instead of gpt-4o");
        row("openai responses", Api::OpenAIResponses, wireBody("openai.requests.jsonl", 5),
            "/v1/responses", "gpt-5-mini", "/v1/responses", "model gpt-5-mini instead of gpt-5");
        row("gemini: in the path", Api::Gemini, geminiBody(false), kGeminiTarget,
            "gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "model gemini-2.5-flash instead of gemini-2.5-pro");
    }

    void modelIsReplaced()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, body);
        QFETCH(QString, target);
        QFETCH(QString, newModel);
        QFETCH(QString, expectedTarget);
        QFETCH(QString, line);
        const json original = fromBytes(body);
        json edited = original;
        std::string path = target.toStdString();
        RequestEditor editor({model(newModel.toStdString())});
        COMPARE_LINES(editor.apply(Api(api), path, edited),
                      std::vector<std::string>{line.toStdString()});
        QCOMPARE(path, expectedTarget.toStdString());

        PARSE_OR_FAIL(before, Api(api), original);
        PARSE_OR_FAIL(after, Api(api), edited);
        wire::Request expected = before;
        if (Api(api) != Api::Gemini)
            expected.model = newModel.toStdString();
        COMPARE_REQUESTS(after, expected);

        // Asking for the model the request already names changes nothing.
        json again = edited;
        QVERIFY(editor.apply(Api(api), path, again).empty());
        QVERIFY(again == edited);
        QCOMPARE(path, expectedTarget.toStdString());
    }

    void editsTogether()
    {
        const WireRequest request = wireRequest("claude.requests.jsonl", 2);
        RequestEditor editor({toolResult("toolu_bf4b7d825f8b48d8959e196c", kNewOutput),
                              appendUser(kUserText), model("claude-opus-4")});
        json edited = request.body;
        std::string target = request.target;
        COMPARE_LINES(
            editor.apply(request.api, target, edited),
            (std::vector<std::string>{
                "tool output of toolu_bf4b7d825f8b48d8959e196c replaced (5 bytes -> 3 bytes)",
                "user message appended to message 2",
                "model claude-opus-4 instead of claude-sonnet-4-6"}));

        PARSE_OR_FAIL(before, request.api, request.body);
        PARSE_OR_FAIL(after, request.api, edited);
        wire::Request expected = before;
        expected.model = "claude-opus-4";
        expected.messages.back().text = kNewOutput;
        expected.messages.push_back(userText(kUserText));
        COMPARE_REQUESTS(after, expected);
    }

    void bodiesTheEditsDoNotFit_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("body");
        for (Api api :
             {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini}) {
            const std::string prefix = std::string(wire::apiName(api)) + ": ";
            const std::string member = wire::conversationMember(api);
            for (const auto &[what, body] : std::vector<std::pair<std::string, std::string>>{
                     {"null", "null"},
                     {"an array", R"([{"role":"user","content":"hi"}])"},
                     {"a string", R"("hello")"},
                     {"a number", "42"},
                     {"an empty object", "{}"},
                     {"no conversation member", R"({"model":"m","prompt":"hi"})"},
                     {"a conversation that is an object",
                      R"({"model":"m",")" + member + R"(":{}})"},
                     {"a conversation that is a string",
                      R"({"model":"m",")" + member + R"(":"hi"})"},
                 }) {
                QTest::newRow((prefix + what).c_str())
                    << int(api) << QByteArray::fromStdString(body);
            }
        }
    }

    void bodiesTheEditsDoNotFit()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, body);
        const json original = fromBytes(body);
        json edited = original;
        std::string target = kGeminiTarget;
        RequestEditor editor(
            {toolResult("call_1", kNewOutput), appendUser(kUserText), model("other-model")});
        QVERIFY(editor.apply(Api(api), target, edited).empty());
        QVERIFY(edited == original);
        QCOMPARE(target, std::string(kGeminiTarget));
    }

    void oddItemsInTheConversationAreSkipped_data()
    {
        QTest::addColumn<int>("api");
        for (Api api : {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini})
            QTest::newRow(wire::apiName(api)) << int(api);
    }

    void oddItemsInTheConversationAreSkipped()
    {
        // Items no client sends: a tool result must not be looked for in them, nor a user
        // turn taken to be one of them.
        QFETCH(int, api);
        const char *member = wire::conversationMember(Api(api));
        const json odd = json::array(
            {nullptr,
             42,
             "text",
             json::array({1}),
             {{"role", "tool"}, {"tool_call_id", 7}},
             {{"type", "function_call_output"}, {"call_id", nullptr}},
             {{"role", "user"}, {"content", 3}},
             {{"role", "user"}, {"content", json::array({1, {{"type", "tool_result"}}})}},
             {{"role", "user"}, {"parts", json::array({nullptr, {{"functionResponse", 1}}})}},
             {{"role", 5}, {"parts", "x"}}});
        json body = {{member, odd}};
        std::string target = kGeminiTarget;
        RequestEditor toolEditor({toolResult("call_1", kNewOutput)});
        QVERIFY(toolEditor.apply(Api(api), target, body).empty());
        QVERIFY(body == json({{member, odd}}));

        RequestEditor appendEditor({appendUser(kUserText)});
        COMPARE_LINES(appendEditor.apply(Api(api), target, body),
                      std::vector<std::string>{"user message appended as message 10"});
        QCOMPARE(body[member].size(), size_t(11));
    }
};

QTEST_GUILESS_MAIN(TestRequestEdit)
#include "tst_requestedit.moc"
