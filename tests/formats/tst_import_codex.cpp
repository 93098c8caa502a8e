// The Codex rollout importer: the real rollout of ../shared/data/real/codex (0.171.0),
// rollouts written here in the shapes earlier versions wrote (shell calls whose output is
// JSON, apply_patch as a custom tool, local shell calls, compaction, errors, the first
// header-and-bare-items layout), and damaged copies.
#include "importtestutil.h"
#include "testutil.h"

#include "tapedeck/formats/importers.h"

#include <QtTest>

#include <cstdio>
#include <sstream>

using namespace tapedeck;
using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

const char *const kRollout = "codex/echo-hello.rollout.codex-0.171.0.jsonl";
// 2025-09-20T10:00:00Z, the minute in which the rollouts written here take place.
constexpr int64_t kMinute = 1758362400000000;
// 2026-12-01T05:33:48Z, the real rollout's second.
constexpr int64_t kRealSecond = 1796103228000000;

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


json record(const std::string &type, int second, json payload)
{
    char time[32];
    std::snprintf(time, sizeof time, "2025-09-20T10:00:%02d.000Z", second);
    return {{"timestamp", time}, {"type", type}, {"payload", std::move(payload)}};
}

json item(int second, json payload)
{
    return record("response_item", second, std::move(payload));
}

json eventMsg(int second, json payload)
{
    return record("event_msg", second, std::move(payload));
}

json message(const std::string &role, const std::string &text)
{
    return {{"type", "message"},
            {"role", role},
            {"content", json::array({{{"type", role == "assistant" ? "output_text" : "input_text"},
                                      {"text", text}}})}};
}

json counted(int second, int input, int cached, int output)
{
    json last = {{"input_tokens", input},
                 {"cached_input_tokens", cached},
                 {"output_tokens", output},
                 {"reasoning_output_tokens", 0},
                 {"total_tokens", input + output}};
    return eventMsg(second, {{"type", "token_count"},
                             {"info", {{"total_token_usage", last}, {"last_token_usage", last}}},
                             {"rate_limits", nullptr}});
}

json sessionMeta(const std::string &version)
{
    return record("session_meta", 0,
                  {{"id", "0199-session"},
                   {"timestamp", "2025-09-20T10:00:00.000Z"},
                   {"cwd", "/home/u/proj"},
                   {"originator", "codex_cli_rs"},
                   {"cli_version", version},
                   {"instructions", nullptr},
                   {"git",
                    {{"commit_hash", "abc123"},
                     {"branch", "main"},
                     {"repository_url", "git@example.com:u/proj.git"}}}});
}

json turnContext(int second, const std::string &model)
{
    return record("turn_context", second,
                  {{"cwd", "/home/u/proj"},
                   {"model", model},
                   {"approval_policy", "on-request"},
                   {"effort", "medium"}});
}

// The shell tool's output as versions before the exec tool wrote it.
std::string shellOutput(const std::string &output, int exitCode)
{
    return json({{"output", output},
                 {"metadata", {{"exit_code", exitCode}, {"duration_seconds", 0.5}}}})
        .dump();
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
    for (const Step &s : steps) {
        if (index && s.index == *index)
            return &s;
    }
    return nullptr;
}

// Every tool result hangs from the tool call of its call id, every tool call from the
// model call whose output holds it.
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
            bool found = false;
            for (const json &output : model->payload["output"])
                found = found || output.value("call_id", "") == s.callId;
            QVERIFY2(found || s.callId.empty(), qPrintable(qs("not in the output: " + s.callId)));
        }
    }
}

std::vector<std::string> namesOf(const std::vector<Step> &steps)
{
    std::vector<std::string> names;
    for (const Step &s : steps)
        names.push_back(s.name);
    return names;
}





} // namespace

class TestImportCodex : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string write(const std::string &name, const std::string &bytes)
    {
        const std::string path = m_dir.filePath(qs(name)).toStdString();
        writeAll(path, bytes);
        return path;
    }

    std::vector<Step> importSteps(const std::string &path, Imported &imported,
                                  const std::string &name)
    {
        imported = importInto(m_dir, path, std::nullopt, name);
        if (!imported.report || !imported.reader)
            qWarning("import failed: %s",
                     imported.report ? "no reader" : imported.report.error().message.c_str());
        return imported.reader ? allSteps(*imported.reader) : std::vector<Step>();
    }

    // A rollout of the shape 0.3x-0.4x wrote: shell calls, apply_patch, a local shell call,
    // a web search, counts after each response, events repeating the items.
    std::string olderRollout()
    {
        return write(
            "older.jsonl",
            jsonl({sessionMeta("0.40.0"),
                   item(1, message("user", "<user_instructions>be brief</user_instructions>")),
                   item(1, message("user", "<environment_context>cwd</environment_context>")),
                   turnContext(2, "gpt-5-codex"),
                   item(3, message("user", "fix the failing test")),
                   eventMsg(3, {{"type", "user_message"},
                                {"message", "fix the failing test"},
                                {"kind", "plain"}}),
                   eventMsg(3, {{"type", "token_count"}, {"info", nullptr}}),
                   item(5, {{"type", "reasoning"},
                            {"summary", json::array({{{"type", "summary_text"},
                                                      {"text", "**Running tests**"}}})},
                            {"encrypted_content", "gAAA"}}),
                   eventMsg(5, {{"type", "agent_reasoning"}, {"text", "**Running tests**"}}),
                   item(6, {{"type", "function_call"},
                            {"name", "shell"},
                            {"call_id", "call_1"},
                            {"arguments", R"({"command":["bash","-lc","pytest -q"]})"}}),
                   counted(6, 5000, 4000, 100),
                   eventMsg(
                       8, {{"type", "exec_command_end"}, {"call_id", "call_1"}, {"exit_code", 1}}),
                   item(8, {{"type", "function_call_output"},
                            {"call_id", "call_1"},
                            {"output", shellOutput("1 failed", 1)}}),
                   item(10, {{"type", "custom_tool_call"},
                             {"status", "completed"},
                             {"call_id", "call_2"},
                             {"name", "apply_patch"},
                             {"input", "*** Begin Patch\n*** End Patch\n"}}),
                   counted(10, 6000, 5000, 50),
                   item(11, {{"type", "custom_tool_call_output"},
                             {"call_id", "call_2"},
                             {"output",
                              shellOutput("Success. Updated the following files:\nM a.py\n", 0)}}),
                   item(13, {{"type", "local_shell_call"},
                             {"call_id", "call_3"},
                             {"status", "completed"},
                             {"action", {{"type", "exec"}, {"command", {"pytest", "-q"}}}}}),
                   counted(13, 6500, 6000, 20),
                   item(15, {{"type", "function_call_output"},
                             {"call_id", "call_3"},
                             {"output", "1 passed"}}),
                   item(17, {{"type", "web_search_call"},
                             {"status", "completed"},
                             {"action", {{"type", "search"}, {"query", "pytest docs"}}}}),
                   item(18, message("assistant", "Fixed.")),
                   eventMsg(18, {{"type", "agent_message"}, {"message", "Fixed."}}),
                   counted(18, 7000, 6500, 10)}));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void realRollout()
    {
        Imported imported;
        const auto steps = importSteps(realData(kRollout), imported, "real");
        QVERIFY(imported.report);
        QCOMPARE(imported.report->format, ImportFormat::Codex);
        QVERIFY2(imported.report->skipped.empty(), joined(imported.report->skipped).c_str());
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        QCOMPARE(countKind(steps, StepKind::Error), 0);
        checkLinks(steps);
        // What repeats an item (item_completed) or a count (token_count) is not a step;
        // the rest is kept as it was.
        QCOMPARE(namesOf(ofKind(steps, StepKind::Annotation)),
                 (std::vector<std::string>{"event_msg: task_started", "world_state", "turn_context",
                                           "event_msg: thread_settings_applied",
                                           "event_msg: task_complete"}));
        const Step world = ofKind(steps, StepKind::Annotation)[1];
        QCOMPARE(world.payload["payload"]["full"], json(true));
        QCOMPARE(int(steps.size()), 9);

        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(qs(calls[0].name), QStringLiteral("gpt-5"));
        QCOMPARE(calls[0].usage, (Usage{10321, 12, 0, 0}));
        QCOMPARE(calls[1].usage, (Usage{10434, 12, 0, 0}));
        QCOMPARE(qs(calls[0].payload["id"]), QStringLiteral("resp_6ea4c2c240cc4141a4457377"));
        QCOMPARE(calls[0].payload["usage"]["input_tokens"], json(10321));
        QCOMPARE(qs(calls[0].payload["output"][0]["type"]), QStringLiteral("function_call"));
        QCOMPARE(qs(calls[1].payload["output"][0]["role"]), QStringLiteral("assistant"));
        QVERIFY(calls[0].requestParams["instructions"].get<std::string>().rfind(
                    "You are a coding agent running in the Codex CLI", 0) == 0);
        QCOMPARE(qs(calls[0].requestParams["model"]), QStringLiteral("gpt-5"));
        // The developer message, the environment, the prompt; then the call and its output.
        QCOMPARE(int(calls[0].requestMessages.size()), 3);
        QCOMPARE(qs(calls[0].requestMessages[0]["role"]), QStringLiteral("developer"));
        QCOMPARE(
            qs(calls[0].requestMessages[2]["content"][0]["text"]),
            QStringLiteral("Run the shell command: echo hello. Then tell me what it printed."));
        QCOMPARE(int(calls[1].requestMessages.size()), 5);
        QCOMPARE(qs(calls[1].requestMessages[3]["type"]), QStringLiteral("function_call"));
        QCOMPARE(qs(calls[1].requestMessages[4]["type"]), QStringLiteral("function_call_output"));
        // Times: each call from the record before it to its count.
        QCOMPARE(calls[0].startedUs, kRealSecond + 535000);
        QCOMPARE(calls[0].endedUs, kRealSecond + 571000);
        QCOMPARE(calls[1].startedUs, kRealSecond + 621000);
        QCOMPARE(calls[1].endedUs, kRealSecond + 647000);

        const Step call = ofKind(steps, StepKind::ToolCall)[0];
        QCOMPARE(qs(call.name), QStringLiteral("exec_command"));
        QCOMPARE(qs(call.callId), QStringLiteral("call_e1448e4e1c2549b09377aec8"));
        QCOMPARE(call.payload, json({{"cmd", "echo hello"}}));
        const Step output = ofKind(steps, StepKind::ToolResult)[0];
        QCOMPARE(output.status, StepStatus::Ok);
        QVERIFY(output.payload["output"].get<std::string>().find("Output:\nhello\n") !=
                std::string::npos);
        QCOMPARE(output.startedUs, kRealSecond + 569000);
        QCOMPARE(output.endedUs, kRealSecond + 621000);

        auto runs = imported.reader->runs();
        const RunInfo &run = runs->front();
        QCOMPARE(qs(run.agent), QStringLiteral("codex"));
        QCOMPARE(
            qs(run.name),
            QStringLiteral("Run the shell command: echo hello. Then tell me what it printed."));
        QCOMPARE(qs(run.cwd), QStringLiteral("/home/user/project/work"));
        QCOMPARE(qs(run.outcome), QStringLiteral("task complete"));
        QCOMPARE(run.labels["codex_version"], json("0.171.0"));
        QCOMPARE(run.labels["model_provider"], json("mock"));
        QCOMPARE(run.labels["model"], json("gpt-5"));
        QCOMPARE(run.labels["originator"], json("codex_exec"));
        QCOMPARE(run.labels["session_id"], json("01a23018-4c3e-7c62-bda2-c10bf887e576"));
        QCOMPARE(run.startedUs, kRealSecond + 482000); // session_meta's own time
    }

    void olderRolloutShapes()
    {
        Imported imported;
        const auto steps = importSteps(olderRollout(), imported, "older");
        QVERIFY(imported.report);
        QVERIFY2(imported.report->skipped.empty(), joined(imported.report->skipped).c_str());
        QCOMPARE(countKind(steps, StepKind::ModelCall), 4);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 4);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 3);
        QCOMPARE(namesOf(ofKind(steps, StepKind::Annotation)),
                 std::vector<std::string>{"turn_context"});
        QCOMPARE(int(steps.size()), 12);
        checkLinks(steps);

        QCOMPARE(namesOf(ofKind(steps, StepKind::ToolCall)),
                 (std::vector<std::string>{"shell", "apply_patch", "local_shell", "web_search"}));
        const auto tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(tools[0].payload["command"][2], json("pytest -q"));
        QCOMPARE(tools[1].payload, json({{"input", "*** Begin Patch\n*** End Patch\n"}}));
        QCOMPARE(tools[2].payload["command"], json({"pytest", "-q"}));
        QCOMPARE(tools[3].payload["query"], json("pytest docs"));
        const auto results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(results[0].status, StepStatus::Error); // exit code 1
        QCOMPARE(results[0].payload["is_error"], json(true));
        QCOMPARE(results[0].payload["output"], json(shellOutput("1 failed", 1)));
        QCOMPARE(results[1].status, StepStatus::Ok);
        QCOMPARE(qs(results[1].name), QStringLiteral("apply_patch"));
        QCOMPARE(results[2].status, StepStatus::Ok);
        QCOMPARE(results[0].startedUs, kMinute + 6000000);
        QCOMPARE(results[0].endedUs, kMinute + 8000000);

        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(qs(calls[0].name), QStringLiteral("gpt-5-codex"));
        // Cached input is counted apart from the rest.
        QCOMPARE(calls[0].usage, (Usage{1000, 100, 4000, 0}));
        QCOMPARE(calls[0].payload["usage"]["input_tokens_details"]["cached_tokens"], json(4000));
        QCOMPARE(int(calls[0].payload["output"].size()), 2); // the reasoning and the call
        QCOMPARE(int(calls[0].requestMessages.size()), 3);
        QVERIFY(!calls[0].requestParams.contains("instructions")); // null in the session_meta
        QCOMPARE(int(calls[1].requestMessages.size()), 6);
        QCOMPARE(int(calls[2].requestMessages.size()), 8);
        QCOMPARE(int(calls[3].requestMessages.size()), 10);
        QCOMPARE(int(calls[3].payload["output"].size()), 2); // the search and the answer
        QCOMPARE(calls[3].usage, (Usage{500, 10, 6500, 0}));
        QCOMPARE(calls[0].startedUs, kMinute + 3000000);
        QCOMPARE(calls[0].endedUs, kMinute + 6000000);

        const RunInfo run = imported.reader->runs()->front();
        QCOMPARE(qs(run.name), QStringLiteral("fix the failing test"));
        QCOMPARE(run.labels["codex_version"], json("0.40.0"));
        QCOMPARE(run.labels["git_branch"], json("main"));
        QCOMPARE(run.labels["git_commit"], json("abc123"));
        QCOMPARE(run.labels["model"], json("gpt-5-codex"));
        QCOMPARE(qs(run.cwd), QStringLiteral("/home/u/proj"));
        QCOMPARE(qs(run.outcome), QString());
    }

    void compaction()
    {
        const std::string path =
            write("compacted.jsonl",
                  jsonl({sessionMeta("0.46.0"),
                         turnContext(1, "gpt-5"),
                         item(2, message("user", "a")),
                         item(3, message("assistant", "A")),
                         counted(3, 10, 0, 1),
                         item(4, message("user", "b")),
                         item(5, message("assistant", "B")),
                         counted(5, 20, 0, 1),
                         record("compacted", 6, {{"message", "summary of a and b"}}),
                         eventMsg(6, {{"type", "context_compacted"}}),
                         item(7, message("user", "c")),
                         item(8, message("assistant", "C")),
                         counted(8, 30, 0, 1),
                         record("compacted", 9,
                                {{"message", "s2"},
                                 {"replacement_history", json::array({message("user", "kept")})}}),
                         item(10, message("user", "d")),
                         item(11, message("assistant", "D")),
                         counted(11, 40, 0, 1),
                         item(12, {{"type", "compaction"}, {"encrypted_content", "xyz"}}),
                         item(13, message("user", "e")),
                         item(14, message("assistant", "E"))}));
        Imported imported;
        const auto steps = importSteps(path, imported, "compaction");
        QVERIFY(imported.report);
        QCOMPARE(namesOf(ofKind(steps, StepKind::Compaction)),
                 (std::vector<std::string>{"compacted", "compacted", "compaction"}));
        QCOMPARE(ofKind(steps, StepKind::Compaction)[0].payload["payload"]["message"],
                 json("summary of a and b"));
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls.size()), 5);
        // After a summary alone: what Codex keeps, the user's messages, then the summary.
        auto texts = [](const Step &call) {
            std::vector<std::string> out;
            for (const json &m : call.requestMessages)
                out.push_back(m.contains("content") ? m["content"][0]["text"].get<std::string>()
                                                    : m.value("type", ""));
            return out;
        };
        QCOMPARE(texts(calls[2]), (std::vector<std::string>{"a", "b", "summary of a and b", "c"}));
        // After a replacement history: that history.
        QCOMPARE(texts(calls[3]), (std::vector<std::string>{"kept", "d"}));
        // A compaction item is part of what the model is sent next.
        QCOMPARE(texts(calls[4]), (std::vector<std::string>{"kept", "d", "D", "compaction", "e"}));
        QCOMPARE(calls[4].usage, Usage{}); // no count came: none is made up
        QVERIFY(!calls[4].payload.contains("usage"));
    }

    void errorsAndAborts()
    {
        const std::string path = write(
            "errors.jsonl",
            jsonl({sessionMeta("0.50.0"), turnContext(1, "gpt-5"),
                   eventMsg(2, {{"type", "task_started"}, {"model_context_window", 272000}}),
                   item(2, message("user", "hello")),
                   eventMsg(3, {{"type", "stream_error"}, {"message", "Reconnecting... 1/5"}}),
                   eventMsg(4, {{"type", "error"},
                                {"message", "stream disconnected before completion"}}),
                   eventMsg(5, {{"type", "turn_aborted"}, {"reason", "interrupted"}})}));
        Imported imported;
        const auto steps = importSteps(path, imported, "errors");
        QVERIFY(imported.report);
        const auto errors = ofKind(steps, StepKind::Error);
        QCOMPARE(namesOf(errors), (std::vector<std::string>{"stream_error", "error"}));
        for (const Step &e : errors)
            QCOMPARE(e.status, StepStatus::Error);
        QCOMPARE(errors[1].payload["payload"]["message"],
                 json("stream disconnected before completion"));
        QCOMPARE(errors[1].startedUs, kMinute + 4000000);
        const Step aborted = steps.back();
        QCOMPARE(qs(aborted.name), QStringLiteral("turn_aborted"));
        QCOMPARE(aborted.kind, StepKind::Annotation);
        QCOMPARE(aborted.status, StepStatus::Cancelled);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 0);
        QCOMPARE(qs(imported.reader->runs()->front().outcome),
                 QStringLiteral("aborted: interrupted"));
    }

    // The first rollouts: a header line without a type, the items bare, state markers.
    void firstRolloutLayout()
    {
        const std::string path =
            write("legacy.jsonl", jsonl({{{"id", "5973b6c0-94b8-487b-a530-2aeb6098ae0e"},
                                          {"timestamp", "2025-07-01T10:00:00.000Z"},
                                          {"instructions", nullptr},
                                          {"git", {{"branch", "main"}}}},
                                         {{"record_type", "state"}},
                                         message("user", "list files"),
                                         {{"type", "function_call"},
                                          {"name", "shell"},
                                          {"call_id", "call_a"},
                                          {"arguments", R"({"command":["ls"]})"}},
                                         {{"type", "function_call_output"},
                                          {"call_id", "call_a"},
                                          {"output", shellOutput("a\n", 0)}},
                                         {{"record_type", "state"}},
                                         message("assistant", "one file: a")}));
        auto found = detectImportFormat(headOf(path), path);
        QVERIFY(found);
        QCOMPARE(*found, ImportFormat::Codex);
        Imported imported;
        const auto steps = importSteps(path, imported, "legacy");
        QVERIFY(imported.report);
        QVERIFY2(imported.report->skipped.empty(), joined(imported.report->skipped).c_str());
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        QCOMPARE(namesOf(ofKind(steps, StepKind::Annotation)),
                 (std::vector<std::string>{"state", "state"}));
        checkLinks(steps);
        const auto calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(int(calls[1].requestMessages.size()), 3);
        QCOMPARE(calls[0].startedUs, int64_t(0)); // the items have no times
        const RunInfo run = imported.reader->runs()->front();
        QCOMPARE(qs(run.name), QStringLiteral("list files"));
        QCOMPARE(run.labels["session_id"], json("5973b6c0-94b8-487b-a530-2aeb6098ae0e"));
        QCOMPARE(run.startedUs, int64_t(1751364000000000));
    }

    void truncatedCopy()
    {
        const std::string bytes = readAll(realData(kRollout));
        size_t at = 0;
        for (int line = 1; line < 16; ++line)
            at = bytes.find('\n', at) + 1;
        const std::string path =
            write("truncated.jsonl", bytes.substr(0, at + 100)); // inside line 16
        Imported imported;
        const auto steps = importSteps(path, imported, "truncated");
        QVERIFY(imported.report);
        QCOMPARE(int(imported.report->skipped.size()), 1);
        QVERIFY2(imported.report->skipped[0].find("truncated.jsonl:16: not valid JSON") !=
                     std::string::npos,
                 imported.report->skipped[0].c_str());
        QCOMPARE(countKind(steps, StepKind::ModelCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        checkLinks(steps);
    }

    void malformedCopy()
    {
        std::istringstream in(readAll(realData(kRollout)));
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        QCOMPARE(int(lines.size()), 19);
        json call = json::parse(lines[9]);
        call["payload"]["arguments"] = "not json";
        json count = json::parse(lines[10]);
        count["payload"]["usage"] = "lots";
        json wrongPayload = json::parse(lines[2]);
        wrongPayload["payload"] = "oops";
        json noType = json::parse(lines[6]);
        noType["payload"].erase("type");
        std::vector<std::string> damaged = {lines[0], lines[1], "{garbage", wrongPayload.dump()};
        for (size_t i = 2; i < lines.size(); ++i)
            damaged.push_back(i == 9    ? call.dump()
                              : i == 10 ? count.dump()
                              : i == 6  ? noType.dump()
                                        : lines[i]);
        damaged.insert(damaged.begin() + 8, "[1, 2]");
        const std::string path = write("malformed.jsonl", joined(damaged));
        Imported imported;
        const auto steps = importSteps(path, imported, "malformed");
        QVERIFY(imported.report);
        const auto &skipped = imported.report->skipped;
        QCOMPARE(int(skipped.size()), 3);
        QVERIFY2(skipped[0].find("malformed.jsonl:3: not valid JSON") != std::string::npos,
                 skipped[0].c_str());
        QVERIFY2(skipped[1].find("malformed.jsonl:4: not a Codex rollout record") !=
                     std::string::npos,
                 skipped[1].c_str());
        QVERIFY2(skipped[2].find("malformed.jsonl:9: not a Codex rollout record") !=
                     std::string::npos,
                 skipped[2].c_str());
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        checkLinks(steps);
        // Arguments that are not JSON are kept as their text; a count that is not one
        // gives no usage.
        QCOMPARE(ofKind(steps, StepKind::ToolCall)[0].payload, json("not json"));
        QCOMPARE(ofKind(steps, StepKind::ModelCall)[0].usage, Usage{});
        QVERIFY(!namesOf(ofKind(steps, StepKind::Annotation)).empty());
        QCOMPARE(qs(ofKind(steps, StepKind::Annotation)[3].name), QStringLiteral("event_msg: "));
    }

    void nothingUsable()
    {
        const std::string garbage = write("garbage.jsonl", "not a rollout\n");
        Imported imported = importInto(m_dir, garbage, ImportFormat::Codex, "garbage");
        QVERIFY(!imported.report);
        QCOMPARE(imported.report.error().code, ErrorCode::Parse);
        QVERIFY2(imported.report.error().message.find(
                     garbage + ":1: expected Codex rollout records") != std::string::npos,
                 imported.report.error().message.c_str());

        const std::string empty = write("empty.jsonl", "");
        imported = importInto(m_dir, empty, ImportFormat::Codex, "empty");
        QVERIFY(!imported.report);
        QVERIFY(imported.report.error().message.find(empty + ": the file is empty") !=
                std::string::npos);

        // A Claude Code session: JSON lines, typed, but none a rollout record.
        const std::string claude = realData("claude-code/echo-hello.claude-2.1.197.jsonl");
        imported = importInto(m_dir, claude, ImportFormat::Codex, "claude-as-codex");
        QVERIFY(!imported.report);
        QVERIFY2(imported.report.error().message.find(claude + ":1: expected Codex") !=
                     std::string::npos,
                 imported.report.error().message.c_str());
    }

    // Damaged copies import what is good or fail with a Parse error naming the file; no
    // exception escapes and every tool result still hangs from its call.
    void survivesRandomDamage_data()
    {
        QTest::addColumn<QString>("input");
        QTest::newRow("0.171.0") << QString(kRollout);
    }
    void survivesRandomDamage()
    {
        QFETCH(QString, input);
        const auto lines = linesOf(realData(input.toStdString()));
        Rng rng(qHash(input));
        for (int round = 0; round < 40; ++round) {
            const std::string path = write("damaged.jsonl", damagedCopy(lines, rng));
            Imported imported = importInto(m_dir, path, ImportFormat::Codex, "damaged");
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
        QTest::addColumn<bool>("real");
        QTest::newRow("0.171.0") << true;
        QTest::newRow("0.40.0") << false;
    }
    void roundTripThroughJsonl()
    {
        QFETCH(bool, real);
        Imported imported;
        const auto steps =
            importSteps(real ? realData(kRollout) : olderRollout(), imported, "roundtrip");
        QVERIFY(!steps.empty());
        std::stringstream text;
        QVERIFY(exportJsonl(*imported.reader, text));
        const std::string again = m_dir.filePath("again.tape").toStdString();
        WriterOptions options;
        options.overwrite = true;
        {
            auto writer = TapeWriter::create(again, options);
            QVERIFY(writer);
            auto stats = importJsonl(text, **writer, "exported.jsonl");
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
        QTest::addColumn<int>("format"); // -1: any format but Codex's, or none
        auto realHead = [](const char *file) { return qs(headOf(realData(file))); };
        QTest::newRow("0.171.0") << realHead(kRollout) << int(ImportFormat::Codex);
        QTest::newRow("claude code") << realHead("claude-code/echo-hello.claude-2.1.197.jsonl")
                                     << int(ImportFormat::ClaudeCode);
        QTest::newRow("tau-bench") << realHead("tau-bench/gpt-4o-airline.json") << -1;
        QTest::newRow("an event in another format") << qs(R"({"type":"event_msg","payload":"text"})"
                                                          "\n")
                                                    << -1;
        QTest::newRow("a header without items")
            << qs(R"({"id":"x","timestamp":"2025-07-01T10:00:00Z","instructions":null})"
                  "\n")
            << -1;
        // base_instructions can make the first line longer than what detection reads.
        // (Written out: Codex puts the type before the payload, as json's dump does not.)
        const std::string longFirst = "{\"timestamp\":\"2025-10-01T00:00:00Z\",\"type\":"
                                      "\"session_meta\",\"payload\":{\"id\":\"x\","
                                      "\"base_instructions\":{\"text\":\"" +
                                      std::string(kDetectBytes, 'x') + "\"}}}\n";
        QTest::newRow("a first line longer than the head")
            << qs(longFirst.substr(0, kDetectBytes)) << int(ImportFormat::Codex);
    }
    void detection()
    {
        QFETCH(QString, head);
        QFETCH(int, format);
        const std::string bytes = head.toStdString();
        auto found = detectImportFormat(bytes, "head");
        if (format < 0) {
            QVERIFY(!found || *found != ImportFormat::Codex);
            return;
        }
        QVERIFY2(found, found ? "" : found.error().message.c_str());
        QCOMPARE(int(*found), format);
    }
};

QTEST_GUILESS_MAIN(TestImportCodex)
#include "tst_import_codex.moc"
