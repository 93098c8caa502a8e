// Replay matching as functions (replayer/src/matchrules.h, requestcomparison.h), on the
// request bodies real clients sent (../shared/data/wire): different requests stay
// different; the same request with what legitimately changes between runs changed (session
// ids, billing suffix, tool-call and item ids, dates, temporary directories) normalises to
// the same thing; a changed word, tool output, tool list, message count or parameter is
// reported as exactly that part, with a diff that shows it; rules files and their errors;
// and how long a 200 KB request takes.
#include "matchrules.h"
#include "requestcomparison.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace tapedeck::replayer;
using namespace tapedeck::formats;
using nlohmann::json;
using wire::Api;
using Kind = PartDifference::Kind;

namespace {

struct WireRequest {
    std::string file;
    int line = 0;
    Api api = Api::OpenAIChat;
    json body;
};

// Every model call in the recorded traffic, in file order.
std::vector<WireRequest> wireRequests()
{
    std::vector<WireRequest> out;
    for (const char *file :
         {"claude.requests.jsonl", "openai.requests.jsonl", "anthropic_sdk.requests.jsonl"}) {
        std::ifstream in(std::string(TAPEDECK_WIRE_DATA "/") + file);
        std::string text;
        for (int line = 0; std::getline(in, text); ++line) {
            const json exchange = json::parse(text);
            auto api = wire::apiForPath(exchange.value("path", ""));
            if (api && exchange.value("method", "") == "POST" && exchange["body"].is_object())
                out.push_back({file, line, *api, exchange["body"]});
        }
    }
    return out;
}

// One request of that traffic: line `line` of `file`.
json wireBody(const std::string &file, int line)
{
    for (const WireRequest &r : wireRequests())
        if (r.file == file && r.line == line)
            return r.body;
    qFatal("no model call on line %d of %s", line, file.c_str());
}

std::string replaced(std::string text, const std::string &from, const std::string &to)
{
    const size_t at = text.find(from);
    if (at == std::string::npos)
        qFatal("\"%s\" not found", from.c_str());
    return text.replace(at, from.size(), to);
}

// The body with `from` replaced by `to` in the string at `pointer`.
json edited(json body, const std::string &pointer, const std::string &from, const std::string &to)
{
    json &value = body[json::json_pointer(pointer)];
    value = replaced(value.get<std::string>(), from, to);
    return body;
}

std::string describe(const RequestComparison &c)
{
    std::string out;
    for (const PartDifference &d : c.differences)
        out += d.where + ":\n" + d.diff;
    return out.empty() ? "(no differences)" : out;
}

const MatchRules &rules()
{
    static const MatchRules r = MatchRules::builtIn();
    return r;
}

RequestComparison compared(Api api, const json &recorded, const json &incoming)
{
    return compareRequests(api, rules().normalise(api, recorded), rules().normalise(api, incoming));
}

// Claude Code's second request (after its Bash call) with its volatile fields made anew,
// as the next run of the same session would send them.
json claudeNextRun(json body)
{
    body["metadata"]["user_id"] =
        "{\"device_id\":\"969fe64a8b2631f2d9c1b7d7a1aa2776548ce69fd7ed098e8f8ec4d670c40c3c\","
        "\"account_uuid\":\"\",\"session_id\":\"0c1e5a7d-3b52-4f0e-9d4e-6f1a2b3c4d5e\"}";
    body = edited(body, "/system/0/text", "cc_version=2.1.197.fbe;",
                  "cc_version=2.1.197.a3c; cch=7f21e;");
    body = edited(body, "/messages/0/content/2/text", "2026-12-01", "2026-12-02");
    body["messages"][1]["content"][0]["id"] = "toolu_01XyZ9aBcDeFgHiJkLmNoPq";
    body["messages"][2]["content"][0]["tool_use_id"] = "toolu_01XyZ9aBcDeFgHiJkLmNoPq";
    return body;
}

// The same request with its working directory in a fresh temporary directory, a session
// uuid and the time it started in the system prompt, as harnesses write them.
json withSessionInSystem(json body, const std::string &tmp, const std::string &uuid,
                         const std::string &time, const std::string &date)
{
    body = edited(body, "/system/2/text", "Primary working directory: /home/user/project/work",
                  "Primary working directory: " + tmp + "/work\n - Session: " + uuid +
                      ", started " + time + " (" + date + ")");
    return body;
}

void writeFile(const QString &path, const std::string &text)
{
    std::ofstream out(path.toStdString());
    out << text;
}

} // namespace

class TestMatchRules : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theTrafficIsThere()
    {
        // 2 Claude Code calls, 4 Chat Completions, 4 Responses, 4 Anthropic SDK (and one
        // count_tokens, which is not a model call).
        QCOMPARE(int(wireRequests().size()), 14);
    }

    void differentRequestsStayDifferent()
    {
        const std::vector<WireRequest> all = wireRequests();
        int pairs = 0;
        for (size_t i = 0; i < all.size(); ++i)
            for (size_t j = i + 1; j < all.size(); ++j) {
                if (all[i].api != all[j].api || all[i].body == all[j].body)
                    continue;
                ++pairs;
                const json a = rules().normalise(all[i].api, all[i].body);
                const json b = rules().normalise(all[j].api, all[j].body);
                QVERIFY2(a != b, (all[i].file + ":" + std::to_string(all[i].line) + " and line " +
                                  std::to_string(all[j].line) + " normalise to the same")
                                     .c_str());
                QVERIFY(!compareRequests(all[i].api, a, b).same());
            }
        // Claude Code 1, Chat 6, Responses 6, Anthropic SDK 6, Claude Code with the SDK 8.
        QCOMPARE(pairs, 1 + 6 + 6 + 6 + 8);
    }

    void toolCallIdsAreRenamedInOrder()
    {
        const json n =
            rules().normalise(Api::AnthropicMessages, wireBody("claude.requests.jsonl", 2));
        QCOMPARE(n["messages"][1]["content"][0]["id"].get<std::string>(), std::string("call#1"));
        QCOMPARE(n["messages"][2]["content"][0]["tool_use_id"].get<std::string>(),
                 std::string("call#1"));
        QCOMPARE(n["system"][0]["text"].get<std::string>(),
                 std::string("x-anthropic-billing-header: <ignored>"));
        QVERIFY(!n["metadata"].contains("user_id"));

        const json r =
            rules().normalise(Api::OpenAIResponses, wireBody("openai.requests.jsonl", 5));
        QVERIFY(!r["input"][1].contains("id")); // the fc_ item id
        QCOMPARE(r["input"][1]["call_id"].get<std::string>(), std::string("call#1"));
        QCOMPARE(r["input"][2]["call_id"].get<std::string>(), std::string("call#1"));
    }

    void volatileFieldsAreIgnored_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("recorded");
        QTest::addColumn<QByteArray>("incoming");
        auto row = [](const char *name, Api api, const json &a, const json &b) {
            QTest::newRow(name) << int(api) << QByteArray::fromStdString(a.dump())
                                << QByteArray::fromStdString(b.dump());
        };
        const json claude = wireBody("claude.requests.jsonl", 2);
        row("claude code: session id, billing suffix, date, tool-call id", Api::AnthropicMessages,
            claude, claudeNextRun(claude));
        row("claude code: first call of the next run", Api::AnthropicMessages,
            wireBody("claude.requests.jsonl", 1), [&] {
                json b = wireBody("claude.requests.jsonl", 1);
                b["metadata"]["user_id"] =
                    "{\"session_id\":\"0c1e5a7d-3b52-4f0e-9d4e-6f1a2b3c4d5e\"}";
                return edited(b, "/system/0/text", ".fbe;", ".9d0;");
            }());
        auto withMemoryDirectory = [&](const std::string &home, const std::string &project) {
            return edited(claude, "/system/2/text", "Primary working directory: /home/user/project/work",
                          "Primary working directory: /home/user/project/work\n - Memory: " + home +
                              "/.claude/projects/" + project + "/memory/");
        };
        row("claude code's memory directory, named after a temporary working directory",
            Api::AnthropicMessages, withMemoryDirectory("/tmp/home-0FP4Ma", "-tmp-home-0FP4Ma"),
            withMemoryDirectory("/tmp/home-NKXoW2", "-tmp-home-NKXoW2"));
        row("temporary directory, uuid, timestamp and date in the system prompt",
            Api::AnthropicMessages,
            withSessionInSystem(claude, "/tmp/claude.AbC123",
                                "f94b6706-c34d-4fc0-802f-ccd814ebca7f", "2026-12-01T15:06:07.123Z",
                                "Tuesday, December 1, 2026"),
            withSessionInSystem(claudeNextRun(claude), "/tmp/claude.xYz789",
                                "0c1e5a7d-3b52-4f0e-9d4e-6f1a2b3c4d5e", "2026-12-02T09:41:00+01:00",
                                "Wednesday, December 2, 2026"));

        const json chat = wireBody("openai.requests.jsonl", 1);
        json chatNext = chat;
        chatNext["messages"][1]["tool_calls"][0]["id"] = "call_17330512219_x";
        chatNext["messages"][2]["tool_call_id"] = "call_17330512219_x";
        chatNext["user"] = "session-4711";
        chatNext["metadata"] = {{"run", "b"}};
        chatNext["prompt_cache_key"] = "pck-2";
        chatNext["safety_identifier"] = "user-hash-2";
        json chatRecorded = chat;
        chatRecorded["user"] = "session-4242";
        chatRecorded["metadata"] = {{"run", "a"}};
        row("chat completions: tool-call id, user, metadata, cache key, safety id", Api::OpenAIChat,
            chatRecorded, chatNext);

        const json responses = wireBody("openai.requests.jsonl", 5);
        json responsesNext = responses;
        responsesNext["input"][1]["id"] = "fc_0123456789abcdef01234567";
        responsesNext["input"][1]["call_id"] = "call_fresh_1";
        responsesNext["input"][2]["call_id"] = "call_fresh_1";
        responsesNext["input"][2]["id"] = "fco_1"; // an item id the client added
        responsesNext["prompt_cache_key"] = "conversation-9";
        row("responses: item ids, call ids, cache key", Api::OpenAIResponses, responses,
            responsesNext);

        const json sdk = wireBody("anthropic_sdk.requests.jsonl", 3);
        json sdkNext = sdk;
        sdkNext["messages"][1]["content"][0]["id"] = "toolu_new";
        sdkNext["messages"][2]["content"][0]["tool_use_id"] = "toolu_new";
        row("anthropic sdk: tool-call id", Api::AnthropicMessages, sdk, sdkNext);

        // Gemini, rendered by the real codec from the SDK's conversation.
        wire::Request neutral = *wire::parseRequest(Api::AnthropicMessages, sdk);
        neutral.api = Api::Gemini;
        neutral.model.clear();
        neutral.temperature = 0.2;
        neutral.system = "You are a helpful agent. Today is 2026-12-01; work in /tmp/gem.AAAAAA.";
        const json gemini = wire::renderRequest(neutral);
        neutral.system = "You are a helpful agent. Today is 2026-12-02; work in /tmp/gem.BBBBBB.";
        row("gemini: date and temporary directory in systemInstruction", Api::Gemini, gemini,
            wire::renderRequest(neutral));
    }

    void volatileFieldsAreIgnored()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, recorded);
        QFETCH(QByteArray, incoming);
        const json a = json::parse(recorded.toStdString());
        const json b = json::parse(incoming.toStdString());
        QVERIFY(a != b);
        const RequestComparison c = compared(Api(api), a, b);
        QVERIFY2(c.same(), describe(c).c_str());
        QVERIFY(rules().normalise(Api(api), a) == rules().normalise(Api(api), b));
        QCOMPARE(c.similarity, 1.0);
    }

    void changeIsReportedAsItsPart_data()
    {
        QTest::addColumn<int>("api");
        QTest::addColumn<QByteArray>("recorded");
        QTest::addColumn<QByteArray>("incoming");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("where");
        QTest::addColumn<int>("messageIndex");
        // Text on a removed and on an added line of the diff ("": not checked); for the
        // tool list, `added` is a whole line of the diff's summary.
        QTest::addColumn<QString>("removed");
        QTest::addColumn<QString>("added");
        auto row = [](const char *name, Api api, const json &a, const json &b, Kind kind,
                      const char *where, int index, const char *removed, const char *added) {
            QTest::newRow(name) << int(api) << QByteArray::fromStdString(a.dump())
                                << QByteArray::fromStdString(b.dump()) << int(kind)
                                << QString(where) << index << QString(removed) << QString(added);
        };
        const json claude = wireBody("claude.requests.jsonl", 2);
        const json next = claudeNextRun(claude); // every row also carries the volatile changes

        row("claude code: a word of the prompt", Api::AnthropicMessages, claude,
            edited(next, "/messages/0/content/3/text", "echo hello", "echo hullo"), Kind::Message,
            "message 0 (user)", 0, "\"text\": \"Run the shell command: echo hello. Then",
            "\"text\": \"Run the shell command: echo hullo. Then");
        row("claude code: a word of the system prompt", Api::AnthropicMessages, claude,
            edited(next, "/system/2/text", "Prefer editing existing files",
                   "Prefer replacing existing files"),
            Kind::System, "system prompt", -1,
            " - Prefer editing existing files to creating new ones.\\n",
            " - Prefer replacing existing files to creating new ones.\\n");
        row("claude code: a tool output", Api::AnthropicMessages, claude,
            edited(next, "/messages/2/content/0/content", "hello", "hello world"), Kind::ToolOutput,
            "tool output of call#1 (message 2)", 2, "\"content\": \"hello\",",
            "\"content\": \"hello world\",");
        json withoutWebSearch = next;
        auto &tools = withoutWebSearch["tools"];
        tools.erase(std::find_if(tools.begin(), tools.end(),
                                 [](const json &t) { return t["name"] == "WebSearch"; }));
        row("claude code: a tool removed", Api::AnthropicMessages, claude, withoutWebSearch,
            Kind::Tools, "tools", -1, "", "tool WebSearch: removed");
        json bashChanged = next;
        for (json &t : bashChanged["tools"])
            if (t["name"] == "Bash")
                t["input_schema"]["properties"]["timeout"]["description"] = "Timeout in seconds";
        row("claude code: a tool changed", Api::AnthropicMessages, claude, bashChanged, Kind::Tools,
            "tools", -1, "", "tool Bash: changed");
        row(
            "claude code: max_tokens", Api::AnthropicMessages, claude,
            [&] {
                json b = next;
                b["max_tokens"] = 16000;
                return b;
            }(),
            Kind::Parameter, "parameter max_tokens", -1, "32000", "16000");

        const json chat = wireBody("openai.requests.jsonl", 1);
        row("chat: a tool output", Api::OpenAIChat, chat,
            edited(chat, "/messages/2/content", "hello\n", "hello\nworld\n"), Kind::ToolOutput,
            "tool output of call#1 (message 2)", 2, "", "    world\\n");
        json chatTool = chat;
        chatTool["tools"].push_back(
            {{"type", "function"},
             {"function", {{"name", "read_file"}, {"parameters", json::object()}}}});
        row("chat: a tool added", Api::OpenAIChat, chat, chatTool, Kind::Tools, "tools", -1, "",
            "tool read_file: added");
        json chatTemperature = chat;
        chatTemperature["temperature"] = 0.7;
        row("chat: temperature set", Api::OpenAIChat, chat, chatTemperature, Kind::Parameter,
            "parameter temperature", -1, "", "0.7");
        row(
            "chat: the model", Api::OpenAIChat, chat,
            [&] {
                json b = chat;
                b["model"] = "gpt-4o-mini";
                return b;
            }(),
            Kind::Model, "model", -1, "gpt-4o", "gpt-4o-mini");

        const json responses = wireBody("openai.requests.jsonl", 7);
        row("responses: a tool output", Api::OpenAIResponses, responses,
            edited(responses, "/input/2/output", "hello", "goodbye"), Kind::ToolOutput,
            "tool output of call#1 (message 2)", 2, "\"output\": \"hello\\n",
            "\"output\": \"goodbye\\n");
        row("responses: a word of the prompt", Api::OpenAIResponses, responses,
            edited(responses, "/input/0/content", "Run echo", "Run printf"), Kind::Message,
            "message 0 (user)", 0, "\"content\": \"Run echo hello and tell me",
            "\"content\": \"Run printf hello and tell me");

        const json sdk = wireBody("anthropic_sdk.requests.jsonl", 1);
        json sdkTemperature = sdk;
        sdkTemperature["temperature"] = 0.2;
        json sdkTemperature2 = sdk;
        sdkTemperature2["temperature"] = 0.7;
        row("anthropic sdk: temperature changed", Api::AnthropicMessages, sdkTemperature,
            sdkTemperature2, Kind::Parameter, "parameter temperature", -1, "0.2", "0.7");

        wire::Request neutral = *wire::parseRequest(Api::AnthropicMessages, sdk);
        neutral.api = Api::Gemini;
        neutral.model.clear();
        neutral.temperature = 0.2;
        const json gemini = wire::renderRequest(neutral);
        neutral.temperature = 0.9;
        row("gemini: temperature changed", Api::Gemini, gemini, wire::renderRequest(neutral),
            Kind::Parameter, "parameter generationConfig.temperature", -1, "0.2", "0.9");
    }

    void changeIsReportedAsItsPart()
    {
        QFETCH(int, api);
        QFETCH(QByteArray, recorded);
        QFETCH(QByteArray, incoming);
        QFETCH(int, kind);
        QFETCH(QString, where);
        QFETCH(int, messageIndex);
        QFETCH(QString, removed);
        QFETCH(QString, added);
        const RequestComparison c = compared(Api(api), json::parse(recorded.toStdString()),
                                             json::parse(incoming.toStdString()));
        QVERIFY2(c.differences.size() == 1, describe(c).c_str());
        const PartDifference &d = c.differences.front();
        QCOMPARE(int(d.kind), kind);
        QCOMPARE(QString::fromStdString(d.where), where);
        QCOMPARE(d.messageIndex, messageIndex);
        const QStringList lines = QString::fromStdString(d.diff).split('\n');
        auto hasLine = [&](QChar sign, const QString &text) {
            return std::any_of(lines.begin(), lines.end(), [&](const QString &l) {
                return l.startsWith(sign) && l.contains(text);
            });
        };
        if (!removed.isEmpty())
            QVERIFY2(hasLine('-', removed), d.diff.c_str());
        if (kind == int(Kind::Tools))
            QVERIFY2(lines.contains(added), d.diff.c_str());
        else
            QVERIFY2(hasLine('+', added), d.diff.c_str());
        QVERIFY(d.diff.size() < 8000);
        QVERIFY(c.similarity < 1.0 && c.similarity > 0.5);
        QCOMPARE(c.onlyToolOutputs(), kind == int(Kind::ToolOutput));
    }

    void addedMessageIsReported()
    {
        const json chat = wireBody("openai.requests.jsonl", 1);
        json more = chat;
        more["messages"].push_back({{"role", "user"}, {"content", "Now run it again."}});
        const RequestComparison c = compared(Api::OpenAIChat, chat, more);
        QVERIFY2(c.differences.size() == 2, describe(c).c_str());
        QCOMPARE(int(c.differences[0].kind), int(Kind::MessageCount));
        QCOMPARE(c.differences[0].recorded, std::string("3"));
        QCOMPARE(c.differences[0].incoming, std::string("4"));
        const PartDifference &m = c.differences[1];
        QCOMPARE(int(m.kind), int(Kind::Message));
        QCOMPARE(m.where, std::string("message 3 (user)"));
        QCOMPARE(m.messageIndex, 3);
        QVERIFY(m.recorded.empty());
        QVERIFY2(m.diff.find("+  \"content\": \"Now run it again.\",") != std::string::npos,
                 m.diff.c_str());
        QVERIFY(!c.onlyToolOutputs());

        // The other way round: the recorded request had the extra message.
        const RequestComparison back = compared(Api::OpenAIChat, more, chat);
        QCOMPARE(int(back.differences.size()), 2);
        QVERIFY(back.differences[1].incoming.empty());
        QVERIFY(back.differences[1].diff.find("-  \"content\": \"Now run it again.\",") !=
                std::string::npos);
    }

    void onlyToolOutputs()
    {
        const json claude = wireBody("claude.requests.jsonl", 2);
        const json drifted = edited(claude, "/messages/2/content/0/content", "hello", "hello2");
        QVERIFY(compared(Api::AnthropicMessages, claude, drifted).onlyToolOutputs());
        // A tool that failed this time is drift too.
        json failed = claude;
        failed["messages"][2]["content"][0]["is_error"] = true;
        QVERIFY(compared(Api::AnthropicMessages, claude, failed).onlyToolOutputs());
        // Drift and a prompt change together are not only drift.
        const json both = edited(drifted, "/messages/0/content/3/text", "echo", "print");
        const RequestComparison c = compared(Api::AnthropicMessages, claude, both);
        QCOMPARE(int(c.differences.size()), 2);
        QVERIFY(!c.onlyToolOutputs());
        QVERIFY(!compared(Api::AnthropicMessages, claude, claude).onlyToolOutputs());
    }

    // Ids, times and temporary paths in a tool's output are environment, and a change there
    // must be seen: the built-in rules do not touch tool outputs.
    void builtInsLeaveToolOutputsAlone()
    {
        const json claude = wireBody("claude.requests.jsonl", 2);
        auto withOutput = [&](const std::string &output) {
            json b = claude;
            b["messages"][2]["content"][0]["content"] = output;
            return b;
        };
        const json a = withOutput("made /tmp/tmp.AbC123 at 2026-12-01T10:00:00Z, id "
                                  "f94b6706-c34d-4fc0-802f-ccd814ebca7f");
        const json b = withOutput("made /tmp/tmp.XyZ789 at 2026-12-02T11:00:00Z, id "
                                  "0c1e5a7d-3b52-4f0e-9d4e-6f1a2b3c4d5e");
        const RequestComparison c = compared(Api::AnthropicMessages, a, b);
        QCOMPARE(int(c.differences.size()), 1);
        QVERIFY(c.onlyToolOutputs());
        QVERIFY(c.differences[0].diff.find("XyZ789") != std::string::npos);
    }

    void rulesFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("rules.jsonl");
        writeFile(path,
                  "# pids and times in this project's tool outputs\n"
                  "\n"
                  "{\"name\": \"pids\", \"part\": \"tool_outputs\", \"pattern\": \"pid [0-9]+\", "
                  "\"replace\": \"pid <pid>\"}\n"
                  "{\"api\": \"anthropic-messages\", \"ignore\": \"temperature\"}\n"
                  "{\"part\": \"tool_outputs\", \"pattern\": \"(took|in) [0-9.]+ ?ms\", "
                  "\"replace\": \"$1 N ms\"}\n");
        Result<MatchRules> loaded = MatchRules::builtInPlus(path.toStdString());
        QVERIFY2(loaded.ok(), loaded ? "" : loaded.error().message.c_str());
        const std::vector<MatchRule> &all = loaded->rules();
        QCOMPARE(all.size(), MatchRules::builtIn().rules().size() + 3);
        QCOMPARE(all[all.size() - 3].name, std::string("pids"));
        QCOMPARE(all[all.size() - 3].origin, path.toStdString() + ":3");
        QCOMPARE(int(all[all.size() - 3].part), int(RequestPart::ToolOutputs));
        QCOMPARE(all[all.size() - 2].name, std::string("ignore temperature"));
        QCOMPARE(all[all.size() - 2].origin, path.toStdString() + ":4");
        QVERIFY(all[all.size() - 2].api == std::optional<Api>(Api::AnthropicMessages));

        auto same = [&](Api api, const json &x, const json &y) {
            return compareRequests(api, loaded->normalise(api, x), loaded->normalise(api, y))
                .same();
        };
        const json claude = wireBody("claude.requests.jsonl", 2);
        const json pid1 =
            edited(claude, "/messages/2/content/0/content", "hello", "hello (pid 4711)");
        const json pid2 =
            edited(claude, "/messages/2/content/0/content", "hello", "hello (pid 815)");
        QVERIFY(same(Api::AnthropicMessages, pid1, pid2));
        // A pattern with alternatives (no literal start), and $1 in the replacement.
        QVERIFY(
            same(Api::AnthropicMessages,
                 edited(claude, "/messages/2/content/0/content", "hello", "hello, took 12 ms"),
                 edited(claude, "/messages/2/content/0/content", "hello", "hello, took 7.5ms")));
        QVERIFY(!same(Api::AnthropicMessages,
                      edited(claude, "/messages/2/content/0/content", "hello", "hello, took 12 ms"),
                      edited(claude, "/messages/2/content/0/content", "hello", "hello, in 12 ms")));
        QVERIFY(!compared(Api::AnthropicMessages, pid1, pid2).same()); // not a built-in
        // The pattern is for tool outputs: the same text in the prompt still counts.
        QVERIFY(!same(Api::AnthropicMessages,
                      edited(claude, "/messages/0/content/3/text", "echo hello", "pid 1"),
                      edited(claude, "/messages/0/content/3/text", "echo hello", "pid 2")));

        json t1 = wireBody("anthropic_sdk.requests.jsonl", 1), t2 = t1;
        t1["temperature"] = 0.1;
        t2["temperature"] = 0.9;
        QVERIFY(same(Api::AnthropicMessages, t1, t2));
        json c1 = wireBody("openai.requests.jsonl", 1), c2 = c1;
        c1["temperature"] = 0.1;
        c2["temperature"] = 0.9;
        QVERIFY(!same(Api::OpenAIChat, c1, c2)); // the rule names another api
    }

    void rulesFileErrors_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("expected"); // part of the message after FILE:3:
        QTest::newRow("not json") << "{\"ignore\": \"user\""
                                  << "not valid JSON; expected one rule";
        QTest::newRow("not an object") << "[\"user\"]"
                                       << "not a JSON object";
        QTest::newRow("bad regex") << "{\"pattern\": \"pid ([0-9]+\", \"replace\": \"pid\"}"
                                   << "pattern \"pid ([0-9]+\" is not a valid regular expression";
        QTest::newRow("unknown part")
            << "{\"pattern\": \"x\", \"replace\": \"y\", \"part\": \"tool_output\"}"
            << "unknown part \"tool_output\"; expected everything, system, messages";
        QTest::newRow("unknown api") << "{\"api\": \"openai\", \"ignore\": \"user\"}"
                                     << "unknown api \"openai\"; expected openai-chat";
        QTest::newRow("neither ignore nor pattern") << "{\"name\": \"x\"}"
                                                    << "missing \"ignore\" or \"pattern\"";
        QTest::newRow("pattern without replace") << "{\"pattern\": \"x\"}"
                                                 << "missing \"replace\"";
        QTest::newRow("unknown member") << "{\"ignore\": \"user\", \"apis\": \"gemini\"}"
                                        << "unknown member \"apis\"";
        QTest::newRow("not a string") << "{\"ignore\": 3}"
                                      << "\"ignore\" must be a string";
        QTest::newRow("both") << "{\"ignore\": \"user\", \"pattern\": \"x\", \"replace\": \"\"}"
                              << "\"ignore\" or \"pattern\", not both";
        QTest::newRow("empty path member") << "{\"ignore\": \"metadata..user_id\"}"
                                           << "has an empty member name";
        QTest::newRow("part with ignore") << "{\"ignore\": \"user\", \"part\": \"system\"}"
                                          << "go with \"pattern\", not with \"ignore\"";
    }

    void rulesFileErrors()
    {
        QFETCH(QString, line);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath("bad-rules.jsonl");
        writeFile(path, "# line 1\n{\"ignore\": \"user\"}\n" + line.toStdString() + "\n");
        Result<MatchRules> loaded = MatchRules::builtInPlus(path.toStdString());
        QVERIFY(!loaded.ok());
        const QString message = QString::fromStdString(loaded.error().message);
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.startsWith(path + ":3: "), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
        QCOMPARE(int(loaded.error().code), int(ErrorCode::Parse));
    }

    void rulesFileMissing()
    {
        Result<MatchRules> loaded = MatchRules::builtInPlus("/nonexistent/rules.jsonl");
        QVERIFY(!loaded.ok());
        QCOMPARE(int(loaded.error().code), int(ErrorCode::Io));
        QVERIFY(QString::fromStdString(loaded.error().message)
                    .startsWith("/nonexistent/rules.jsonl: "));
    }

    void unifiedDiffFormat()
    {
        const std::string a = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";
        const std::string b = "one\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\nnine\nten\neleven\n";
        QCOMPARE(unifiedDiff(a, b, 1), std::string("@@ -4,3 +4,3 @@\n four\n-five\n+FIVE\n six\n"
                                                   "@@ -10,1 +10,2 @@\n ten\n+eleven\n"));
        QCOMPARE(unifiedDiff(b, a, 1), std::string("@@ -4,3 +4,3 @@\n four\n-FIVE\n+five\n six\n"
                                                   "@@ -10,2 +10,1 @@\n ten\n-eleven\n"));
        QCOMPARE(unifiedDiff(a, a), std::string());
        QCOMPARE(unifiedDiff("", "new\n"), std::string("@@ -0,0 +1,1 @@\n+new\n"));
        // A long line is cut around where it changed.
        const std::string longA(5000, 'x');
        const std::string longB = std::string(3000, 'x') + "CHANGED" + std::string(2000, 'x');
        const std::string d = unifiedDiff(longA, longB);
        QVERIFY2(d.find("CHANGED") != std::string::npos && d.size() < 600, d.c_str());
    }

    void longDiffsAreCut()
    {
        const json claude = wireBody("claude.requests.jsonl", 2);
        json changed = claude;
        changed["system"][2]["text"] = "A different prompt altogether.";
        const RequestComparison c = compared(Api::AnthropicMessages, claude, changed);
        QCOMPARE(int(c.differences.size()), 1);
        const std::string &diff = c.differences[0].diff;
        QVERIFY(std::count(diff.begin(), diff.end(), '\n') <= 41);
        QVERIFY(diff.size() >= 4 && diff.substr(diff.size() - 4) == "...\n");
        QVERIFY(c.differences[0].recorded.size() > 20000); // the part itself is whole
    }

    void speed()
    {
        // Claude Code's request grown past 200 KB with more turns of tool calls and outputs.
        json big = wireBody("claude.requests.jsonl", 2);
        for (int i = 0; big.dump().size() < 200 * 1024; ++i) {
            const std::string id = "toolu_" + std::to_string(1000 + i);
            big["messages"].push_back(
                {{"role", "assistant"},
                 {"content",
                  {{{"type", "tool_use"},
                    {"id", id},
                    {"name", "Bash"},
                    {"input", {{"command", "cat src/file" + std::to_string(i) + ".c"}}}}}}});
            std::string output;
            for (int l = 0; l < 60; ++l)
                output +=
                    "static int line_" + std::to_string(l) + " = " + std::to_string(i * l) + ";\n";
            big["messages"].push_back(
                {{"role", "user"},
                 {"content",
                  {{{"type", "tool_result"}, {"tool_use_id", id}, {"content", output}}}}});
        }
        const json incoming =
            edited(claudeNextRun(big), "/messages/0/content/3/text", "hello", "hullo");
        qInfo("request: %zu bytes, %zu messages", incoming.dump().size(),
              incoming["messages"].size());

        const int rounds = 20;
        QElapsedTimer timer;
        timer.start();
        size_t differences = 0;
        for (int i = 0; i < rounds; ++i) {
            const json a = rules().normalise(Api::AnthropicMessages, big);
            const json b = rules().normalise(Api::AnthropicMessages, incoming);
            differences += compareRequests(Api::AnthropicMessages, a, b).differences.size();
        }
        const double ms = double(timer.nsecsElapsed()) / 1e6 / rounds;
        QCOMPARE(differences, size_t(rounds));
        qInfo("normalise both and compare a 200 KB request: %.2f ms", ms);

        timer.restart();
        for (int i = 0; i < rounds; ++i)
            (void)rules().normalise(Api::AnthropicMessages, incoming);
        qInfo("normalise one 200 KB request: %.2f ms", double(timer.nsecsElapsed()) / 1e6 / rounds);
    }
};

QTEST_GUILESS_MAIN(TestMatchRules)
#include "tst_matchrules.moc"
