// The Claude Code session importer: the real sessions of ../shared/data/real/claude-code
// (2.1.14 and 2.1.197), sessions written here in the shapes Claude Code writes (a response
// split over records, sub-agents in the session file and in files of their own, compaction,
// a rewound prompt, API errors), and damaged copies.
#include "importtestutil.h"
#include "testutil.h"

#include "tapedeck/formats/importers.h"

#include <QtTest>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

using namespace tapedeck;
using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

const char *const kPortSession = "claude-code/python-to-rust-port.transcript.jsonl";
const char *const kEchoSession = "claude-code/echo-hello.claude-2.1.197.jsonl";
const char *const kPortSessionId = "c7d3d95c-57f0-4359-8f4b-926a9bef5a3f";
// 2026-02-01T10:00:00Z, the minute in which the sessions written here take place.
constexpr int64_t kMinute = 1769940000000000;

int64_t second(int s)
{
    return kMinute + int64_t(s) * 1000000;
}

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

std::string jsonl(const std::vector<json> &records)
{
    std::string out;
    for (const json &record : records)
        out += record.dump() + "\n";
    return out;
}

// Records in the shape Claude Code writes them.
json base(const std::string &type, const std::string &uuid, const std::string &parent,
          const std::string &time)
{
    return {{"type", type},
            {"uuid", uuid},
            {"parentUuid", parent.empty() ? json() : json(parent)},
            {"isSidechain", false},
            {"sessionId", "s-1"},
            {"cwd", "/work/project"},
            {"version", "2.1.30"},
            {"timestamp", "2026-02-01T10:00:" + time + "Z"}};
}

json prompt(const std::string &uuid, const std::string &parent, const std::string &text,
            const std::string &time)
{
    json r = base("user", uuid, parent, time);
    r["message"] = {{"role", "user"}, {"content", text}};
    return r;
}

json answer(const std::string &uuid, const std::string &parent, const std::string &messageId,
            const json &block, const std::string &time, int outputTokens = 5)
{
    json r = base("assistant", uuid, parent, time);
    r["message"] = {{"id", messageId},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", "claude-sonnet-4-6"},
                    {"content", json::array({block})},
                    {"stop_reason", nullptr},
                    {"usage",
                     {{"input_tokens", 10},
                      {"output_tokens", outputTokens},
                      {"cache_read_input_tokens", 100},
                      {"cache_creation_input_tokens", 7}}}};
    return r;
}

json text(const std::string &value)
{
    return {{"type", "text"}, {"text", value}};
}

json toolUse(const std::string &id, const std::string &name, const json &input)
{
    return {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", input}};
}

json result(const std::string &uuid, const std::string &parent, const std::string &toolUseId,
            const std::string &output, const std::string &time, bool isError = false)
{
    json r = base("user", uuid, parent, time);
    r["message"] = {{"role", "user"},
                    {"content", json::array({{{"type", "tool_result"},
                                              {"tool_use_id", toolUseId},
                                              {"content", output},
                                              {"is_error", isError}}})}};
    return r;
}

json sidechain(json record, const std::string &agentId = {})
{
    record["isSidechain"] = true;
    if (!agentId.empty())
        record["agentId"] = agentId;
    return record;
}

std::vector<Step> ofKind(const std::vector<Step> &steps, StepKind kind)
{
    std::vector<Step> out;
    for (const Step &s : steps) {
        if (s.kind == kind)
            out.push_back(s);
    }
    return out;
}

const Step *stepAt(const std::vector<Step> &steps, std::optional<StepIndex> index)
{
    if (!index)
        return nullptr;
    for (const Step &s : steps) {
        if (s.index == *index)
            return &s;
    }
    return nullptr;
}

// Every tool result hangs from the tool call of its id, and every tool call from a model
// call of its thread whose answer holds the tool_use block.
void checkLinks(const std::vector<Step> &steps)
{
    for (const Step &s : steps) {
        if (s.kind == StepKind::ToolResult) {
            const Step *call = stepAt(steps, s.parent);
            QVERIFY2(call, qPrintable(qs("result without its call: " + s.callId)));
            QCOMPARE(call->kind, StepKind::ToolCall);
            QCOMPARE(qs(call->callId), qs(s.callId));
            QCOMPARE(qs(call->name), qs(s.name));
            QVERIFY(s.endedUs >= s.startedUs);
        } else if (s.kind == StepKind::ToolCall) {
            const Step *model = stepAt(steps, s.parent);
            QVERIFY(model && model->kind == StepKind::ModelCall);
            QCOMPARE(model->thread, s.thread);
            bool found = false;
            for (const json &block : model->payload["content"])
                found = found || block.value("id", "") == s.callId;
            QVERIFY2(found, qPrintable(qs("the answer has no tool_use " + s.callId)));
        }
    }
}

// The conversation as the Messages API takes it: user first, the roles alternating.
void checkAlternates(const Step &call)
{
    QVERIFY(!call.requestMessages.empty());
    std::string expected = "user";
    for (const json &message : call.requestMessages) {
        QCOMPARE(qs(message.value("role", "")), qs(expected));
        expected = expected == "user" ? "assistant" : "user";
    }
}






} // namespace

class TestImportClaudeCode : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string write(const std::string &name, const std::string &bytes)
    {
        const std::string path = m_dir.filePath(qs(name)).toStdString();
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        writeAll(path, bytes);
        return path;
    }

    // Imports the file and reads back every step; fails the test when the import fails.
    std::vector<Step> importSteps(const std::string &path, Imported &imported,
                                  const std::string &name = "t")
    {
        imported = importInto(m_dir, path, std::nullopt, name);
        if (!imported.report || !imported.reader)
            qWarning("import failed: %s",
                     imported.report ? "no reader" : imported.report.error().message.c_str());
        return imported.reader ? allSteps(*imported.reader) : std::vector<Step>();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void portSessionCounts()
    {
        Imported imported;
        const auto steps = importSteps(realData(kPortSession), imported, "port");
        QVERIFY(imported.report);
        QCOMPARE(imported.report->format, ImportFormat::ClaudeCode);
        QVERIFY2(imported.report->skipped.empty(), joined(imported.report->skipped).c_str());
        // 97 records: 55 assistant records holding 39 responses, 39 tool results, 2
        // prompts (which are in the requests) and a queue operation.
        QCOMPARE(countKind(steps, StepKind::ModelCall), 39);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 39);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 39);
        QCOMPARE(countKind(steps, StepKind::Annotation), 1);
        QCOMPARE(int64_t(steps.size()), 118);
        QCOMPARE(imported.report->stats.steps, 118);
        QCOMPARE(imported.report->stats.threads, 1);

        std::set<std::string> tools;
        for (const Step &s : ofKind(steps, StepKind::ToolCall))
            tools.insert(s.name);
        QCOMPARE(tools, (std::set<std::string>{"Bash", "TodoWrite", "Write", "Read", "Task", "Edit",
                                               "Glob"}));
        checkLinks(steps);
        QCOMPARE(countKind(ofKind(steps, StepKind::ToolResult), StepKind::ToolResult), 39);
        for (const Step &s : ofKind(steps, StepKind::ToolResult))
            QCOMPARE(s.status, StepStatus::Ok); // none of its results is an error
    }

    void portSessionModelCalls()
    {
        Imported imported;
        const auto steps = importSteps(realData(kPortSession), imported, "port-calls");
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.size()), 39);
        Usage total;
        for (const Step &call : calls) {
            QCOMPARE(qs(call.name), QStringLiteral("claude-opus-4-5-20251101"));
            QCOMPARE(qs(call.requestParams.value("model", "")), qs(call.name));
            QVERIFY(call.startedUs > 0);
            QVERIFY(call.endedUs >= call.startedUs);
            checkAlternates(call);
            QCOMPARE(qs(call.payload.value("role", "")), QStringLiteral("assistant"));
            total.inputTokens += call.usage.inputTokens;
            total.outputTokens += call.usage.outputTokens;
            total.cacheReadTokens += call.usage.cacheReadTokens;
            total.cacheWriteTokens += call.usage.cacheWriteTokens;
        }
        // The largest count each response's records give.
        QCOMPARE(total, (Usage{38, 563, 1114040, 22988}));

        // The first call saw the prompt alone; each later one the whole conversation.
        QCOMPARE(int(calls[0].requestMessages.size()), 1);
        QVERIFY(calls[0].requestMessages[0]["content"].get<std::string>().rfind(
                    "Port this Python project to Rust", 0) == 0);
        for (size_t i = 1; i < calls.size(); ++i)
            QVERIFY(calls[i].requestMessages.size() > calls[i - 1].requestMessages.size());
        // The second response came as two records (a text block, then a TodoWrite call).
        const json &content = calls[1].payload["content"];
        QCOMPARE(int(content.size()), 2);
        QCOMPARE(qs(content[0]["type"]), QStringLiteral("text"));
        QCOMPARE(qs(content[1]["name"]), QStringLiteral("TodoWrite"));
        QCOMPARE(qs(calls[1].payload["id"]), QStringLiteral("msg_01QKpe2q6QARVjWrUor2aAoW"));
        // Its request ends with the Task's result, which the sub-agent wrote.
        const json &last = calls[1].requestMessages.back();
        QCOMPARE(qs(last["content"][0]["type"]), QStringLiteral("tool_result"));
        // Two results of one response are one user message of the next request.
        bool twoResults = false;
        for (const json &message : calls.back().requestMessages)
            twoResults =
                twoResults ||
                (message["role"] == "user" && message["content"].is_array() &&
                 message["content"].size() == 2 && message["content"][1]["type"] == "tool_result");
        QVERIFY(twoResults);
        // The Stop hook's feedback (an isMeta prompt) is part of what the model was sent.
        bool hookFeedback = false;
        for (const json &message : calls.back().requestMessages)
            hookFeedback =
                hookFeedback ||
                (message["content"].is_string() &&
                 message["content"].get<std::string>().rfind("Stop hook feedback", 0) == 0);
        QVERIFY(hookFeedback);
    }

    void portSessionRunAndTimes()
    {
        Imported imported;
        const auto steps = importSteps(realData(kPortSession), imported, "port-run");
        auto runs = imported.reader->runs();
        QVERIFY(runs);
        QCOMPARE(int(runs->size()), 1);
        const RunInfo &run = runs->front();
        QCOMPARE(qs(run.agent), QStringLiteral("claude-code"));
        QVERIFY(run.name.rfind("Port this Python project to Rust", 0) == 0);
        QVERIFY(run.name.size() <= 84);
        QCOMPARE(qs(run.cwd), QStringLiteral("/tmp/tmpqwh7888i"));
        QCOMPARE(qs(run.labels.value("session_id", "")), qs(kPortSessionId));
        QCOMPARE(qs(run.labels.value("claude_code_version", "")), QStringLiteral("2.1.14"));
        QCOMPARE(qs(run.labels.value("git_branch", "")), QStringLiteral("master"));
        QCOMPARE(qs(run.labels.value("model", "")), QStringLiteral("claude-opus-4-5-20251101"));
        QCOMPARE(qs(run.labels.value("import_format", "")), QStringLiteral("claude-code"));
        QCOMPARE(run.startedUs, int64_t(1768976446058000)); // 2026-01-21T06:20:46.058Z
        QCOMPARE(run.endedUs, int64_t(1768976671843000));   // 2026-01-21T06:24:31.843Z

        // The Task call ran its sub-agent for 28 s: from its tool_use record to its result.
        const auto calls = ofKind(steps, StepKind::ToolCall);
        const auto task = std::find_if(calls.begin(), calls.end(),
                                       [](const Step &s) { return s.name == "Task"; });
        QVERIFY(task != calls.end());
        QCOMPARE(qs(task->payload.value("subagent_type", "")), QStringLiteral("Explore"));
        for (const Step &s : ofKind(steps, StepKind::ToolResult)) {
            if (s.callId != task->callId)
                continue;
            QCOMPARE(s.startedUs, task->startedUs);
            QCOMPARE(s.endedUs - s.startedUs, int64_t(27999000)); // 06:20:51.083 to 06:21:19.082
            QVERIFY(s.payload["output"].get<std::string>().find(
                        "Comprehensive Python Project Overview") != std::string::npos);
        }
    }

    void echoSessionOfNewerVersion()
    {
        Imported imported;
        const auto steps = importSteps(realData(kEchoSession), imported, "echo");
        QVERIFY(imported.report);
        QVERIFY2(imported.report->skipped.empty(), joined(imported.report->skipped).c_str());
        QCOMPARE(int(steps.size()), 9);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        checkLinks(steps);
        // The record types this version adds are kept, each as the record it was.
        std::multiset<std::string> notes;
        for (const Step &s : ofKind(steps, StepKind::Annotation))
            notes.insert(s.name);
        QCOMPARE(notes, (std::multiset<std::string>{"queue-operation", "queue-operation",
                                                    "attachment", "attachment", "last-prompt"}));
        const Step listing = ofKind(steps, StepKind::Annotation)[2];
        QCOMPARE(qs(listing.payload["attachment"]["type"]), QStringLiteral("agent_listing_delta"));
        QCOMPARE(listing.startedUs, int64_t(1796103227718000));
        const Step &lastPrompt = steps.back();
        QCOMPARE(qs(lastPrompt.name), QStringLiteral("last-prompt"));
        QCOMPARE(lastPrompt.startedUs, int64_t(0)); // it has no time, and none is made up

        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls[0].usage, (Usage{29294, 12, 0, 0}));
        QCOMPARE(calls[1].usage, (Usage{29367, 12, 0, 0}));
        QCOMPARE(qs(calls[1].payload["stop_reason"]), QStringLiteral("end_turn"));
        QCOMPARE(int(calls[1].requestMessages.size()), 3);
        QCOMPARE(calls[1].requestMessages[1],
                 json({{"role", "assistant"},
                       {"content", json::array({toolUse("toolu_bf4b7d825f8b48d8959e196c", "Bash",
                                                        {{"command", "echo hello"}})})}}));
        QCOMPARE(qs(calls[1].requestMessages[2]["content"][0]["content"]), QStringLiteral("hello"));
        // The second call went out when the tool result was written.
        QCOMPARE(calls[1].startedUs, int64_t(1796103227812000));
        QCOMPARE(calls[1].endedUs, int64_t(1796103227837000));

        const Step bash = ofKind(steps, StepKind::ToolCall)[0];
        QCOMPARE(bash.payload, json({{"command", "echo hello"}}));
        const Step output = ofKind(steps, StepKind::ToolResult)[0];
        QCOMPARE(output.payload, json({{"output", "hello"}, {"is_error", false}}));

        auto runs = imported.reader->runs();
        QCOMPARE(
            qs(runs->front().name),
            QStringLiteral("Run the shell command: echo hello. Then tell me what it printed."));
        QCOMPARE(qs(runs->front().outcome), QStringLiteral("end_turn"));
        QCOMPARE(qs(runs->front().labels.value("model", "")), QStringLiteral("claude-sonnet-4-6"));
    }

    // Claude Code may run a tool before the rest of its response is written: the tool's
    // result comes between the response's records and waits for the model call.
    void responseSplitAroundToolResults()
    {
        const std::string path = write(
            "split.jsonl",
            jsonl({prompt("u1", "", "list and count", "01"),
                   answer("a1", "u1", "msg_A", toolUse("t1", "Bash", {{"command", "ls"}}), "02", 3),
                   result("r1", "a1", "t1", "a\nb", "03"),
                   answer("a2", "a1", "msg_A", toolUse("t2", "Bash", {{"command", "wc"}}), "04", 9),
                   result("r2", "a2", "t2", "2", "05", true),
                   answer("a3", "r2", "msg_B", text("two files"), "06")}));
        Imported imported;
        const auto steps = importSteps(path, imported, "split");
        std::vector<StepKind> kinds;
        for (const Step &s : steps)
            kinds.push_back(s.kind);
        QCOMPARE(kinds, (std::vector<StepKind>{StepKind::ModelCall, StepKind::ToolCall,
                                               StepKind::ToolCall, StepKind::ToolResult,
                                               StepKind::ToolResult, StepKind::ModelCall}));
        checkLinks(steps);
        QCOMPARE(int(steps[0].payload["content"].size()), 2);
        QCOMPARE(steps[0].usage, (Usage{10, 9, 100, 7}));
        QCOMPARE(steps[0].startedUs, second(1)); // when the prompt was written
        QCOMPARE(steps[0].endedUs, second(4));   // when its last block was
        QCOMPARE(steps[4].status, StepStatus::Error);
        QCOMPARE(steps[4].payload["is_error"], json(true));
        const Step &second = steps[5];
        QCOMPARE(int(second.requestMessages.size()), 3);
        QCOMPARE(int(second.requestMessages[1]["content"].size()), 2);
        QCOMPARE(int(second.requestMessages[2]["content"].size()), 2); // both results
        checkAlternates(second);
    }

    void subagentInSessionFile()
    {
        const std::string task = "Look for the tests and list them";
        const std::string path =
            write("sidechain.jsonl",
                  jsonl({prompt("u1", "", "what tests are there?", "01"),
                         answer("a1", "u1", "msg_A",
                                toolUse("t1", "Task",
                                        {{"description", "find tests"},
                                         {"prompt", task},
                                         {"subagent_type", "Explore"}}),
                                "02"),
                         sidechain(prompt("s1", "", task, "03")),
                         sidechain(answer("s2", "s1", "msg_S1",
                                          toolUse("g1", "Glob", {{"pattern", "*"}}), "04")),
                         sidechain(result("s3", "s2", "g1", "tests/a.py", "05")),
                         sidechain(answer("s4", "s3", "msg_S2", text("tests/a.py"), "06")),
                         result("r1", "a1", "t1", "tests/a.py", "07"),
                         answer("a2", "r1", "msg_B", text("There is one: tests/a.py"), "08")}));
        Imported imported;
        const auto steps = importSteps(path, imported, "sidechain");
        auto threads = imported.reader->threads();
        QVERIFY(threads);
        QCOMPARE(int(threads->size()), 2);
        const ThreadInfo &sub = (*threads)[1];
        QCOMPARE(qs(sub.label), QStringLiteral("subagent: find tests"));
        QCOMPARE(sub.parent, std::optional<ThreadId>((*threads)[0].id));
        QCOMPARE(sub.startedUs, second(3));
        std::map<int64_t, int> perThread;
        for (const Step &s : steps)
            ++perThread[s.thread.value];
        QCOMPARE(perThread[sub.id.value], 4); // 2 model calls, a Glob call and its result
        checkLinks(steps);
        for (const Step &s : ofKind(steps, StepKind::ModelCall)) {
            checkAlternates(s);
            if (s.thread == sub.id) // the sub-agent's conversation is its own
                QCOMPARE(qs(s.requestMessages[0]["content"]), qs(task));
        }
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.back().requestMessages.size()), 3);
    }

    void subagentFiles()
    {
        // A session laid out as Claude Code lays it out: <session>.jsonl, its sub-agents in
        // <session>/subagents/, and (as 2.0 wrote them) agent-*.jsonl beside it.
        const std::string session = std::string(kPortSessionId);
        const std::string main =
            write("project/" + session + ".jsonl", readAll(realData(kPortSession)));
        const std::string taskPrompt =
            "Explore this Python project thoroughly. I need to understand:\n1. The overall project "
            "structure (all files and directories)\n2. All Python modules and their contents\n3. "
            "All functions, classes, and their signatures\n4. Any tests that exist\n5. The "
            "Justfile contents\n\nProvide a comprehensive overview of everything in the codebase "
            "so I can port it to Rust.";
        auto inSession = [&](json record, const std::string &agentId) {
            record["sessionId"] = session;
            return sidechain(std::move(record), agentId);
        };
        write(
            "project/" + session + "/subagents/agent-ab81802.jsonl",
            jsonl({inSession(prompt("x1", "", taskPrompt, "01"), "ab81802"),
                   inSession(answer("x2", "x1", "msg_X1",
                                    toolUse("b1", "Bash", {{"command", "ls"}}), "02"),
                             "ab81802"),
                   inSession(result("x3", "x2", "b1", "src\ntests", "03"), "ab81802"),
                   inSession(answer("x4", "x3", "msg_X2", text("An overview"), "04"), "ab81802")}) +
                "not json\n");
        write("project/agent-beside.jsonl",
              jsonl({inSession(prompt("y1", "", "check the Justfile", "05"), "beside"),
                     inSession(answer("y2", "y1", "msg_Y1", text("it runs pytest"), "06"),
                               "beside")}));
        // Another session's sub-agent, beside this one: not this session's.
        json other = sidechain(prompt("z1", "", "unrelated", "07"), "other");
        other["sessionId"] = "another-session";
        write("project/agent-other.jsonl", jsonl({other}));

        Imported imported;
        const auto steps = importSteps(main, imported, "subagents");
        QVERIFY(imported.report);
        auto threads = imported.reader->threads();
        QCOMPARE(int(threads->size()), 3);
        std::set<std::string> labels;
        for (const ThreadInfo &t : *threads) {
            labels.insert(t.label);
            if (t.label != "main")
                QCOMPARE(t.parent, std::optional<ThreadId>((*threads)[0].id));
        }
        QCOMPARE(labels,
                 (std::set<std::string>{"main", "subagent: Explore Python project structure",
                                        "subagent: check the Justfile"}));
        QCOMPARE(countKind(steps, StepKind::ModelCall), 39 + 2 + 1);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 40);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 40);
        checkLinks(steps);
        // The sub-agent file's damaged line is named by that file and line.
        QCOMPARE(int(imported.report->skipped.size()), 1);
        QVERIFY2(imported.report->skipped[0].find("agent-ab81802.jsonl:5: not valid JSON") !=
                     std::string::npos,
                 imported.report->skipped[0].c_str());

        // The sub-agent file imported on its own is a session of one thread.
        Imported alone;
        const auto own =
            importSteps(m_dir.filePath(qs("project/" + session + "/subagents/agent-ab81802.jsonl"))
                            .toStdString(),
                        alone, "subagent-alone");
        QVERIFY(alone.report);
        QCOMPARE(alone.report->stats.threads, 1);
        QCOMPARE(countKind(own, StepKind::ModelCall), 2);
    }

    void compaction()
    {
        json boundary = base("system", "c1", "", "05");
        boundary["subtype"] = "compact_boundary";
        boundary["logicalParentUuid"] = "a2";
        boundary["compactMetadata"] = {{"trigger", "manual"}, {"preTokens", 51234}};
        json summary = prompt(
            "c2", "c1", "This session is being continued. Summary: ported two modules.", "06");
        summary["isCompactSummary"] = true;
        json title = {{"type", "summary"}, {"summary", "Porting to Rust"}, {"leafUuid", "a3"}};
        const std::string path = write(
            "compact.jsonl", jsonl({title, prompt("u1", "", "port it", "01"),
                                    answer("a1", "u1", "msg_A", text("ported one"), "02"),
                                    prompt("u2", "a1", "go on", "03"),
                                    answer("a2", "u2", "msg_B", text("ported two"), "04"), boundary,
                                    summary, prompt("u3", "c2", "now the tests", "07"),
                                    answer("a3", "u3", "msg_C", text("done"), "08")}));
        Imported imported;
        const auto steps = importSteps(path, imported, "compact");
        QCOMPARE(countKind(steps, StepKind::Compaction), 1);
        const Step compact = ofKind(steps, StepKind::Compaction)[0];
        QCOMPARE(qs(compact.name), QStringLiteral("compact"));
        QCOMPARE(compact.payload["compactMetadata"]["preTokens"], json(51234));
        QVERIFY(compact.payload["summary"].get<std::string>().find("ported two modules") !=
                std::string::npos);
        QCOMPARE(compact.startedUs, second(5));
        // The conversation after it starts from the summary.
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.size()), 3);
        QCOMPARE(int(calls[2].requestMessages.size()), 1);
        QCOMPARE(int(calls[2].requestMessages[0]["content"].size()), 2); // summary, then prompt
        // The session's title record is kept, and names the run.
        QCOMPARE(qs(steps.front().name), QStringLiteral("summary"));
        QCOMPARE(qs(imported.reader->runs()->front().name), QStringLiteral("Porting to Rust"));
    }

    // The user went back and edited the second prompt: the third call continues from the
    // first answer, not from the abandoned branch.
    void rewoundPrompt()
    {
        const std::string path = write(
            "rewind.jsonl",
            jsonl({prompt("u1", "", "one", "01"), answer("a1", "u1", "msg_A", text("1"), "02"),
                   prompt("u2", "a1", "two", "03"), answer("a2", "u2", "msg_B", text("2"), "04"),
                   prompt("u3", "a1", "two, edited", "05"),
                   answer("a3", "u3", "msg_C", text("2'"), "06")}));
        Imported imported;
        const auto steps = importSteps(path, imported, "rewind");
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.size()), 3);
        QCOMPARE(int(calls[2].requestMessages.size()), 3);
        QCOMPARE(qs(calls[2].requestMessages[2]["content"]), QStringLiteral("two, edited"));
        QCOMPARE(qs(calls[2].requestMessages[1]["content"][0]["text"]), QStringLiteral("1"));
    }

    void errorsAndSyntheticAnswers()
    {
        json failed = answer("a1", "u1", "msg_E", text("API Error: 529 overloaded"), "02");
        failed["isApiErrorMessage"] = true;
        failed["message"]["model"] = "<synthetic>";
        json retry = base("system", "e1", "a1", "03");
        retry["subtype"] = "api_error";
        retry["level"] = "error";
        retry["error"] = {{"status", 529}};
        json synthetic = answer("a2", "e1", "msg_F", text("No response requested."), "04");
        synthetic["message"]["model"] = "<synthetic>";
        json future = base("agent-handoff", "h1", "a2", "05");
        future["detail"] = {{"to", "reviewer"}};
        const std::string path =
            write("errors.jsonl", jsonl({prompt("u1", "", "hi", "01"), failed, retry, synthetic,
                                         future, prompt("u2", "h1", "hi again", "06"),
                                         answer("a3", "u2", "msg_G", text("hello"), "07")}));
        Imported imported;
        const auto steps = importSteps(path, imported, "errors");
        const auto errors = ofKind(steps, StepKind::Error);
        QCOMPARE(int(errors.size()), 2);
        for (const Step &e : errors) {
            QCOMPARE(e.status, StepStatus::Error);
            QCOMPARE(qs(e.name), QStringLiteral("api_error"));
        }
        QCOMPARE(errors[1].payload["error"]["status"], json(529));
        std::vector<std::string> notes;
        for (const Step &s : ofKind(steps, StepKind::Annotation))
            notes.push_back(s.name);
        QCOMPARE(notes, (std::vector<std::string>{"assistant (synthetic)", "agent-handoff"}));
        QCOMPARE(ofKind(steps, StepKind::Annotation)[1].payload, future);
        // Neither the error nor the stand-in answer was sent to the model.
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.size()), 1);
        QCOMPARE(int(calls[0].requestMessages.size()), 1);
        QCOMPARE(int(calls[0].requestMessages[0]["content"].size()), 2); // both prompts
    }

    void truncatedCopy()
    {
        const std::string bytes = readAll(realData(kPortSession));
        // Cut in the middle of line 50.
        size_t at = 0;
        for (int line = 1; line < 50; ++line)
            at = bytes.find('\n', at) + 1;
        const std::string path = write("truncated.jsonl", bytes.substr(0, at + 200));
        Imported imported;
        const auto steps = importSteps(path, imported, "truncated");
        QVERIFY(imported.report);
        QCOMPARE(int(imported.report->skipped.size()), 1);
        QVERIFY2(imported.report->skipped[0].find("truncated.jsonl:50: not valid JSON") !=
                     std::string::npos,
                 imported.report->skipped[0].c_str());
        // Lines 1-49 hold 21 responses, each with one tool call, and their 21 results.
        QCOMPARE(countKind(steps, StepKind::ModelCall), 21);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 21);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 21);
        checkLinks(steps);
    }

    void malformedCopy()
    {
        std::istringstream in(readAll(realData(kEchoSession)));
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        QCOMPARE(int(lines.size()), 9);
        json wrongMessage = base("assistant", "w1", "", "09");
        wrongMessage["message"] = "not an object";
        json wrongContent = base("user", "w2", "", "09");
        wrongContent["message"] = {{"role", "user"}, {"content", 42}};
        json wrongTypes = json::parse(lines[5]); // the Bash call, its members of other types
        wrongTypes["timestamp"] = true;
        wrongTypes["message"]["usage"] = "many";
        wrongTypes["message"]["content"][0]["input"] = nullptr;
        std::vector<std::string> damaged = {lines[0],
                                            "{garbage",
                                            lines[1],
                                            lines[2],
                                            "[1, 2, 3]",
                                            wrongMessage.dump(),
                                            lines[3],
                                            lines[4],
                                            R"({"no": "type"})",
                                            wrongTypes.dump(),
                                            wrongContent.dump(),
                                            lines[6],
                                            lines[7],
                                            lines[8]};
        std::string bytes;
        for (const std::string &line : damaged)
            bytes += line + "\n";
        const std::string path = write("malformed.jsonl", bytes);
        Imported imported;
        const auto steps = importSteps(path, imported, "malformed");
        QVERIFY(imported.report);
        const auto &skipped = imported.report->skipped;
        QCOMPARE(int(skipped.size()), 5);
        auto names = [&](size_t i, const std::string &what) {
            QVERIFY2(skipped[i].find(what) != std::string::npos, skipped[i].c_str());
        };
        names(0, "malformed.jsonl:2: not valid JSON");
        names(1, "malformed.jsonl:5: not a Claude Code record");
        names(2, "malformed.jsonl:6: an assistant record without a message object");
        names(3, "malformed.jsonl:9: not a Claude Code record");
        names(4, "malformed.jsonl:11: a user record without message.content");
        // What was good imports as before; the damaged call imports with what it has.
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        checkLinks(steps);
        const Step first = ofKind(steps, StepKind::ModelCall)[0];
        QCOMPARE(first.usage, Usage{});
        QCOMPARE(ofKind(steps, StepKind::ToolCall)[0].payload, json::object());
    }

    void nothingUsable()
    {
        const std::string garbage = write("garbage.jsonl", "this is not\nJSON at all\n");
        Imported imported = importInto(m_dir, garbage, ImportFormat::ClaudeCode, "garbage");
        QVERIFY(!imported.report);
        QCOMPARE(imported.report.error().code, ErrorCode::Parse);
        QVERIFY2(imported.report.error().message.find(garbage + ":1: expected Claude Code") !=
                     std::string::npos,
                 imported.report.error().message.c_str());

        const std::string empty = write("empty.jsonl", "\n\n");
        imported = importInto(m_dir, empty, ImportFormat::ClaudeCode, "empty");
        QVERIFY(!imported.report);
        QVERIFY(imported.report.error().message.find(empty) != std::string::npos);

        // A Codex rollout has JSON lines, but no Claude Code record.
        const std::string codex = realData("codex/echo-hello.rollout.codex-0.171.0.jsonl");
        imported = importInto(m_dir, codex, ImportFormat::ClaudeCode, "codex-as-claude");
        QVERIFY(!imported.report);
        QVERIFY2(imported.report.error().message.find(codex + ":1: expected Claude Code") !=
                     std::string::npos,
                 imported.report.error().message.c_str());
    }

    // Damaged copies import what is good or fail with a Parse error naming the file; no
    // exception escapes and every tool result still hangs from its call.
    void survivesRandomDamage_data()
    {
        QTest::addColumn<QString>("input");
        QTest::newRow("2.1.14") << QString(kPortSession);
        QTest::newRow("2.1.197") << QString(kEchoSession);
    }
    void survivesRandomDamage()
    {
        QFETCH(QString, input);
        const auto lines = linesOf(realData(input.toStdString()));
        Rng rng(qHash(input));
        for (int round = 0; round < 30; ++round) {
            const std::string path = write("damaged.jsonl", damagedCopy(lines, rng));
            Imported imported = importInto(m_dir, path, ImportFormat::ClaudeCode, "damaged");
            if (!imported.report) {
                QCOMPARE(imported.report.error().code, ErrorCode::Parse);
                QVERIFY(imported.report.error().message.find(path) == 0);
                continue;
            }
            QVERIFY(imported.reader);
            const auto steps = allSteps(*imported.reader);
            for (const Step &s : steps) {
                if (s.kind == StepKind::ToolResult && s.parent)
                    QCOMPARE(stepAt(steps, s.parent)->kind, StepKind::ToolCall);
            }
        }
    }

    void roundTripThroughJsonl_data()
    {
        QTest::addColumn<QString>("input");
        QTest::newRow("2.1.14") << QString(kPortSession);
        QTest::newRow("2.1.197") << QString(kEchoSession);
    }
    void roundTripThroughJsonl()
    {
        QFETCH(QString, input);
        Imported imported;
        const auto steps = importSteps(realData(input.toStdString()), imported, "roundtrip");
        QVERIFY(!steps.empty());
        std::stringstream jsonlText;
        QVERIFY(exportJsonl(*imported.reader, jsonlText));
        const std::string again = m_dir.filePath("again.tape").toStdString();
        WriterOptions options;
        options.overwrite = true;
        {
            auto writer = TapeWriter::create(again, options);
            QVERIFY(writer);
            auto stats = importJsonl(jsonlText, **writer, "exported.jsonl");
            QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        }
        auto reader = TapeReader::open(again);
        QVERIFY(reader);
        const auto back = allSteps(**reader);
        QCOMPARE(back.size(), steps.size());
        for (size_t i = 0; i < steps.size(); ++i) {
            const std::string difference = stepDifference(steps[i], back[i]);
            QVERIFY2(difference.empty(), difference.c_str());
        }
    }

    void detection_data()
    {
        QTest::addColumn<QString>("head");
        QTest::addColumn<int>("format"); // -1: any format but Claude Code's, or none
        auto realHead = [](const char *file) { return qs(headOf(realData(file))); };
        QTest::newRow("2.1.14") << realHead(kPortSession) << int(ImportFormat::ClaudeCode);
        QTest::newRow("2.1.197") << realHead(kEchoSession) << int(ImportFormat::ClaudeCode);
        QTest::newRow("codex") << realHead("codex/echo-hello.rollout.codex-0.171.0.jsonl")
                               << int(ImportFormat::Codex);
        QTest::newRow("tau-bench") << realHead("tau-bench/gpt-4o-airline.json") << -1;
        QTest::newRow("title first")
            << qs(R"({"type":"summary","summary":"Fix the build","leafUuid":"x"})"
                  "\n")
            << int(ImportFormat::ClaudeCode);
        QTest::newRow("snapshot first")
            << qs(R"({"type":"file-history-snapshot","messageId":"m","snapshot":{},"isSnapshotUpdate":false})"
                  "\n")
            << int(ImportFormat::ClaudeCode);
        QTest::newRow("a message with a session id")
            << qs(R"({"role":"user","content":"hi","sessionId":"s"})"
                  "\n")
            << -1;
        QTest::newRow("a summary of something else")
            << qs(R"({"type":"summary","summary":"a report"})"
                  "\n")
            << -1;
    }
    void detection()
    {
        QFETCH(QString, head);
        QFETCH(int, format);
        const std::string bytes = head.toStdString();
        auto found = detectImportFormat(bytes, "head");
        if (format < 0) {
            QVERIFY(!found || *found != ImportFormat::ClaudeCode);
            return;
        }
        QVERIFY2(found, found ? "" : found.error().message.c_str());
        QCOMPARE(int(*found), format);
    }

    // Not a check: what the import costs, on a long session (the 2.1.14 one, several
    // times over: one conversation whose requests grow by 76 messages a copy, to about as
    // much as a model's context holds).
    void throughput_data()
    {
        QTest::addColumn<int>("copies");
        QTest::newRow("1") << 1;
        QTest::newRow("5") << 5;
    }
    void throughput()
    {
        QFETCH(int, copies);
        const std::string one = readAll(realData(kPortSession));
        std::string many;
        for (int i = 0; i < copies; ++i)
            many += one;
        const std::string path = write("long.jsonl", many);
        QElapsedTimer timer;
        timer.start();
        const auto report = importInto(m_dir, path, std::nullopt, "long");
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        QVERIFY(report.report);
        QCOMPARE(report.report->stats.steps, copies * 118);
        qInfo("%.1f MB in %.2f s: %.1f MB/s", double(many.size()) / 1e6, seconds,
              double(many.size()) / 1e6 / seconds);
    }
};

QTEST_GUILESS_MAIN(TestImportClaudeCode)
#include "tst_import_claudecode.moc"
