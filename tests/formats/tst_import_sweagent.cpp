// The SWE-agent (.traj, 0.x and 1.x) and mini-swe-agent (formats 1 and 1.1) importers: the
// real trajectories of ../shared/data/real with the counts its README states, small
// trajectories in the documented shapes of the versions no real file covers, damaged
// copies, round trips through the JSONL interchange, and detection.
#include "importtestutil.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QtTest>

#include <numeric>
#include <sstream>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

const char *kSweAgentFile = "swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj";
const char *kMiniFile = "mini-swe-agent/django__django-13265.deepseek-chat.traj.json";

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}



std::vector<Step> ofKind(const std::vector<Step> &steps, StepKind kind)
{
    std::vector<Step> out;
    std::copy_if(steps.begin(), steps.end(), std::back_inserter(out),
                 [&](const Step &s) { return s.kind == kind; });
    return out;
}

std::string joined(const std::vector<std::string> &lines, size_t count)
{
    std::string out;
    for (size_t i = 0; i < count && i < lines.size(); ++i)
        out += lines[i] + "\n";
    return out;
}

// Every tool result is the child of the tool call with its call id, and every tool call
// the child of a model call: "" when that holds, else what does not.
std::string linkageProblem(const std::vector<Step> &steps)
{
    for (const Step &s : steps) {
        if (s.kind == StepKind::ToolResult) {
            const Step *call = byIndex(steps, s.parent);
            if (!call || call->kind != StepKind::ToolCall || call->callId != s.callId)
                return "tool result " + std::to_string(s.index.value) +
                       " is not linked to its call";
        }
        if (s.kind == StepKind::ToolCall) {
            const Step *model = byIndex(steps, s.parent);
            if (!model || model->kind != StepKind::ModelCall)
                return "tool call " + std::to_string(s.index.value) + " has no model call";
        }
    }
    return {};
}

// Exports the tape as JSONL, imports that into a new tape and compares every step.
std::string roundTripProblem(const Imported &imported, const QTemporaryDir &dir,
                             const std::string &name)
{
    std::stringstream jsonl;
    if (Status s = exportJsonl(*imported.reader, jsonl); !s)
        return s.error().message;
    const std::string path = dir.filePath(q(name + ".roundtrip.tape")).toStdString();
    WriterOptions options;
    options.overwrite = true;
    {
        auto writer = TapeWriter::create(path, options);
        if (!writer)
            return writer.error().message;
        auto stats = importJsonl(jsonl, **writer, name + ".jsonl");
        if (!stats)
            return stats.error().message;
    }
    auto reader = TapeReader::open(path);
    if (!reader)
        return reader.error().message;
    const std::vector<Step> before = allSteps(*imported.reader);
    const std::vector<Step> after = allSteps(**reader);
    if (before.size() != after.size())
        return "step count " + std::to_string(before.size()) + " became " +
               std::to_string(after.size());
    for (size_t i = 0; i < before.size(); ++i) {
        if (std::string d = stepDifference(before[i], after[i]); !d.empty())
            return "step " + std::to_string(i + 1) + ": " + d;
    }
    return {};
}

// The real mini-swe-agent trajectory with only its first `count` messages: the same shape,
// for the tests that read every step back, at a fraction of the cost.
json miniPrefix(size_t count)
{
    json doc = json::parse(readAll(realData(kMiniFile)));
    json &messages = doc["messages"];
    messages.erase(messages.begin() + std::ptrdiff_t(count), messages.end());
    return doc;
}

std::optional<ImportFormat> detected(const std::string &bytes, const std::string &name = "input")
{
    auto format = detectImportFormat(std::string_view(bytes).substr(0, kDetectBytes), name);
    if (!format)
        return std::nullopt;
    return *format;
}

// SWE-agent 1.x, function calling: the shape sweagent/types.py and the agent's
// add_step_to_trajectory / add_step_to_history write (no real 1.x file is at hand). The
// JSON texts SWE-agent writes (tool call arguments, replay_config) are written as objects
// here and turned into text by sweAgent1xTrajectory(): moc cannot read escaped quotes in raw
// strings.
const char *kSweAgent1xShape = R"({
  "trajectory": [
    {
      "action": "str_replace_editor view /testbed/setup.py",
      "observation": "Here is the result of running `cat -n` on /testbed/setup.py:\n     1\tfrom setuptools import setup",
      "response": "Let me look at setup.py first.",
      "thought": "Let me look at setup.py first.",
      "execution_time": 0.25,
      "state": {"working_dir": "/testbed", "open_file": "n/a"},
      "query": [
        {"role": "system", "content": "You are a helpful assistant.", "agent": "main", "message_type": "system_prompt"},
        {"role": "user", "content": [{"type": "text", "text": "Fix the issue."}], "agent": "main", "message_type": "observation"}
      ],
      "extra_info": {}
    },
    {
      "action": "submit",
      "observation": "diff --git a/setup.py b/setup.py",
      "response": "Submitting the fix.",
      "thought": "Submitting the fix.",
      "execution_time": 1.5,
      "state": {"working_dir": "/testbed"},
      "query": [
        {"role": "system", "content": "You are a helpful assistant.", "agent": "main", "message_type": "system_prompt"},
        {"role": "user", "content": [{"type": "text", "text": "Fix the issue."}], "agent": "main", "message_type": "observation"},
        {"role": "assistant", "content": "Let me look at setup.py first.", "thought": "Let me look at setup.py first.",
         "action": "str_replace_editor view /testbed/setup.py", "agent": "main", "message_type": "action",
         "tool_calls": [{"id": "call_abc", "type": "function",
                         "function": {"name": "str_replace_editor", "arguments": {"command": "view", "path": "/testbed/setup.py"}}}]},
        {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\nHere is the result"}], "agent": "main",
         "message_type": "observation", "tool_call_ids": ["call_abc"]}
      ],
      "extra_info": {}
    }
  ],
  "history": [
    {"role": "system", "content": "You are a helpful assistant.", "agent": "main", "message_type": "system_prompt"},
    {"role": "user", "content": [{"type": "text", "text": "Fix the issue."}], "agent": "main", "message_type": "observation"},
    {"role": "assistant", "content": "Let me look at setup.py first.", "thought": "Let me look at setup.py first.",
     "action": "str_replace_editor view /testbed/setup.py", "agent": "main", "message_type": "action",
     "tool_calls": [{"id": "call_abc", "type": "function",
                     "function": {"name": "str_replace_editor", "arguments": {"command": "view", "path": "/testbed/setup.py"}}}]},
    {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\nHere is the result"}], "agent": "main",
     "message_type": "observation", "tool_call_ids": ["call_abc"]},
    {"role": "assistant", "content": "Submitting the fix.", "thought": "Submitting the fix.", "action": "submit",
     "agent": "main", "message_type": "action",
     "tool_calls": [{"id": "call_def", "type": "function", "function": {"name": "submit", "arguments": {}}}]},
    {"role": "tool", "content": [{"type": "text", "text": "diff --git a/setup.py b/setup.py"}], "agent": "main",
     "message_type": "observation", "tool_call_ids": ["call_def"]}
  ],
  "info": {
    "swe_agent_version": "1.0.1",
    "exit_status": "submitted",
    "submission": "diff --git a/setup.py b/setup.py",
    "model_stats": {"instance_cost": 0.05, "tokens_sent": 3000, "tokens_received": 120, "api_calls": 2}
  },
  "replay_config": {"agent": {"model": {"name": "claude-sonnet-4-20250514"}}},
  "environment": "main"
}
)";

std::string sweAgent1xTrajectory()
{
    json doc = json::parse(kSweAgent1xShape);
    const auto argumentsAsText = [](json &messages) {
        for (json &message : messages) {
            if (!message.contains("tool_calls"))
                continue;
            for (json &call : message["tool_calls"])
                call["function"]["arguments"] = call["function"]["arguments"].dump();
        }
    };
    argumentsAsText(doc["history"]);
    for (json &step : doc["trajectory"])
        argumentsAsText(step["query"]);
    doc["replay_config"] = doc["replay_config"].dump();
    return doc.dump(2);
}

// mini-swe-agent format 1 (v1): hand-formatted messages, commands in ```bash blocks,
// observations as user messages with <returncode>.
const char *kMiniV1 = R"({
  "info": {
    "exit_status": "Submitted",
    "submission": "diff --git a/x b/x",
    "model_stats": {"instance_cost": 0.01, "api_calls": 4},
    "mini_version": "1.9.0",
    "config": {"model": {"model_name": "gpt-4o-mini"}, "environment": {"cwd": "/repo"},
               "agent_type": "minisweagent.agents.default.DefaultAgent"}
  },
  "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Fix the bug."},
    {"role": "assistant", "content": "THOUGHT: look around\n\n```bash\nls -la\n```",
     "extra": {"response": {"model": "gpt-4o-mini-2024-07-18", "created": 1750000000,
               "usage": {"prompt_tokens": 100, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": 40}}}}},
    {"role": "user", "content": "<returncode>0</returncode>\n<output>\nfile.py\n</output>"},
    {"role": "assistant", "content": "Two commands:\n```bash\nls\n```\nand\n```bash\npwd\n```"},
    {"role": "user", "content": "Please always provide EXACTLY ONE action in triple backticks."},
    {"role": "assistant", "content": "THOUGHT: run the tests\n```bash\npython -m pytest\n```"},
    {"role": "user", "content": "<returncode>1</returncode>\n<output>\nFAILED\n</output>"},
    {"role": "assistant", "content": "```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\n```"},
    {"role": "user", "content": "diff --git a/x b/x"}
  ],
  "trajectory_format": "mini-swe-agent-1"
}
)";

} // namespace

class TestImportSweAgent : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string file(const std::string &name, const std::string &bytes)
    {
        const std::string path = m_dir.filePath(q(name)).toStdString();
        writeAll(path, bytes);
        return path;
    }

    Imported import(const std::string &path, std::optional<ImportFormat> format = std::nullopt)
    {
        static int count = 0;
        return importInto(m_dir, path, format, "t" + std::to_string(++count));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // ---------------------------------------------------------------- SWE-agent

    void sweAgentRealFile()
    {
        Imported imported = import(realData(kSweAgentFile));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::SweAgent);
        QVERIFY2(imported.report->skipped.empty(), skippedText(*imported.report).c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 12);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 12);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 12);
        QCOMPARE(countKind(steps, StepKind::Annotation), 1); // the submitted patch
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());

        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        // The system prompt, the demonstration and the issue, then an answer and an
        // observation more for each turn.
        for (size_t k = 0; k < calls.size(); ++k)
            QCOMPARE(calls[k].requestMessages.size(), 3 + 2 * k);
        QCOMPARE(q(calls[0].requestMessages[0].value("role", "")), QStringLiteral("system"));
        QCOMPARE(q(calls[1].requestMessages.back().value("role", "")), QStringLiteral("user"));
        QVERIFY(calls[0].payload.value("content", "").find("create reproduce_bug.py") !=
                std::string::npos);
        for (const Step &s : steps)
            QCOMPARE(s.startedUs, int64_t(0)); // the format keeps no times

        const std::vector<Step> tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(q(tools.front().name), QStringLiteral("create"));
        QCOMPARE(q(tools.front().payload.value("command", "")),
                 QStringLiteral("create reproduce_bug.py\n"));
        QCOMPARE(q(tools.back().name), QStringLiteral("submit"));
        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QVERIFY(results.back().payload.value("output", "").find("diff --git") != std::string::npos);
        QCOMPARE(ofKind(steps, StepKind::Annotation).front().payload.value("exit_status", ""),
                 std::string("submitted"));

        auto runs = imported.reader->runs();
        QVERIFY(runs && runs->size() == 1);
        const RunInfo &run = runs->front();
        QCOMPARE(q(run.agent), QStringLiteral("swe-agent"));
        QCOMPARE(q(run.outcome), QStringLiteral("submitted"));
        QCOMPARE(q(run.cwd), QStringLiteral("/pydicom__pydicom"));
        QCOMPARE(run.labels.value("tokens_sent", 0), 122612);
        QCOMPARE(run.labels.value("tokens_received", 0), 1369);
        QCOMPARE(run.labels.value("api_calls", 0), 12);
        QCOMPARE(q(run.labels.value("import_format", "")), QStringLiteral("swe-agent"));
    }

    void sweAgent1x()
    {
        Imported imported = import(file("django-1x.traj", sweAgent1xTrajectory()));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::SweAgent);
        const std::vector<Step> steps = allSteps(*imported.reader);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls.size(), size_t(2));
        QCOMPARE(q(calls[0].name), QStringLiteral("claude-sonnet-4-20250514"));
        QCOMPARE(q(calls[0].requestParams.value("model", "")),
                 QStringLiteral("claude-sonnet-4-20250514"));
        // The request is the step's query, in the form the model client sends it.
        QCOMPARE(calls[1].requestMessages.size(), size_t(4));
        const json &tool = calls[1].requestMessages[3];
        QCOMPARE(q(tool.value("tool_call_id", "")), QStringLiteral("call_abc"));
        QVERIFY(!tool.contains("tool_call_ids") && !tool.contains("agent"));
        QVERIFY(calls[1].requestMessages[2].contains("tool_calls"));
        QCOMPARE(q(calls[0].payload.value("finish_reason", "")), QStringLiteral("tool_calls"));

        const std::vector<Step> tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(tools.size(), size_t(2));
        QCOMPARE(q(tools[0].callId), QStringLiteral("call_abc"));
        QCOMPARE(q(tools[0].name), QStringLiteral("str_replace_editor"));
        QCOMPARE(q(tools[0].payload.value("path", "")), QStringLiteral("/testbed/setup.py"));
        QCOMPARE(q(tools[1].callId), QStringLiteral("call_def"));
        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(results[0].payload.value("execution_time", 0.0), 0.25);
        QCOMPARE(results[1].payload.value("execution_time", 0.0), 1.5);
        QCOMPARE(q(results[1].name), QStringLiteral("submit"));

        auto runs = imported.reader->runs();
        QCOMPARE(q(runs->front().cwd), QStringLiteral("/testbed"));
        QCOMPARE(q(runs->front().name), QStringLiteral("django-1x"));
        QCOMPARE(q(runs->front().labels.value("swe_agent_version", "")), QStringLiteral("1.0.1"));
        QVERIFY2(roundTripProblem(imported, m_dir, "swe1x").empty(),
                 roundTripProblem(imported, m_dir, "swe1x").c_str());
    }

    void sweAgentTruncated()
    {
        // Cut in the middle of the sixth turn: five complete turns remain, without the
        // history (which comes after the turns) and without info.
        const std::vector<std::string> lines = linesOf(realData(kSweAgentFile));
        std::string cut = joined(lines, 39) + lines[39].substr(0, lines[39].size() / 2);
        Imported imported = import(file("cut.traj", cut));
        QVERIFY2(imported.report, errorText(imported).c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 5);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 5);
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("line 40") != std::string::npos,
                 imported.report->skipped[0].c_str());
        QVERIFY(imported.report->skipped[0].find("cut.traj:") != std::string::npos);
    }

    void sweAgentMalformed()
    {
        // A garbage line inside the history: every turn is kept, the requests of the
        // turns whose messages came after the damage are empty, and the report says where.
        std::vector<std::string> lines = linesOf(realData(kSweAgentFile));
        lines.insert(lines.begin() + 150, "this is not JSON");
        Imported imported = import(file("garbage.traj", joined(lines, lines.size())));
        QVERIFY2(imported.report, errorText(imported).c_str());
        std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 12);
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("line 151") != std::string::npos,
                 imported.report->skipped[0].c_str());
        QVERIFY(!ofKind(steps, StepKind::ModelCall)[0].requestMessages.empty());
        QVERIFY(ofKind(steps, StepKind::ModelCall)[11].requestMessages.empty());

        // Members of the wrong type read as absent; entries that are not objects are named.
        json doc = json::parse(readAll(realData(kSweAgentFile)));
        doc["trajectory"][1]["action"] = 42;
        doc["trajectory"][2]["observation"] = json{{"unexpected", true}};
        doc["trajectory"][3] = "not a step";
        doc["history"][4] = 7;
        doc["info"]["model_stats"] = "none";
        doc["info"]["exit_status"] = json::array();
        imported = import(file("types.traj", doc.dump(2)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 11);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 10);
        QCOMPARE(imported.report->skipped.size(), size_t(2));
        QVERIFY(skippedText(*imported.report).find("trajectory step 4") != std::string::npos);
        QVERIFY(skippedText(*imported.report).find("history entry 5") != std::string::npos);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
    }

    void sweAgentNothingUsable()
    {
        Imported imported =
            import(file("empty.traj", R"({"trajectory": [], "history": [], "info": {}})"),
                   ImportFormat::SweAgent);
        QVERIFY(!imported.report);
        QCOMPARE(imported.report.error().code, ErrorCode::Parse);
        QVERIFY2(errorText(imported).find("empty.traj") != std::string::npos,
                 errorText(imported).c_str());

        const std::vector<std::string> lines = linesOf(realData(kSweAgentFile));
        imported = import(file("early.traj", joined(lines, 5)), ImportFormat::SweAgent);
        QVERIFY(!imported.report);
        QVERIFY2(errorText(imported).find("early.traj") != std::string::npos &&
                     errorText(imported).find("line 6") != std::string::npos,
                 errorText(imported).c_str());

        imported = import(file("array.traj", "[1, 2]"), ImportFormat::SweAgent);
        QVERIFY(!imported.report);
        QVERIFY2(errorText(imported).find("array.traj") != std::string::npos,
                 errorText(imported).c_str());
    }

    void sweAgentRoundTrip()
    {
        Imported imported = import(realData(kSweAgentFile));
        QVERIFY2(imported.report, errorText(imported).c_str());
        const std::string problem = roundTripProblem(imported, m_dir, "swe0x");
        QVERIFY2(problem.empty(), problem.c_str());
    }

    // ---------------------------------------------------------------- mini-swe-agent

    void miniRealFile()
    {
        Imported imported = import(realData(kMiniFile));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::MiniSweAgent);
        QVERIFY2(imported.report->skipped.empty(), skippedText(*imported.report).c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 156);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 156);
        // The last command submitted the patch and ended the run: no output came back.
        QCOMPARE(countKind(steps, StepKind::ToolResult), 155);
        QCOMPARE(countKind(steps, StepKind::Annotation), 1); // the "exit" message
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());

        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        // 314 messages: system, task, and 156 answers with 155 outputs, then "exit".
        QCOMPARE(calls.front().requestMessages.size(), size_t(2));
        QCOMPARE(calls.back().requestMessages.size(), size_t(2 + 155 * 2));
        double cost = 0;
        for (const Step &call : calls) {
            QCOMPARE(q(call.name), QStringLiteral("deepseek-chat"));
            QVERIFY(call.usage.inputTokens + call.usage.cacheReadTokens > 0 &&
                    call.usage.outputTokens > 0);
            QVERIFY(call.startedUs > 0 && call.startedUs <= call.endedUs);
            QVERIFY(call.costUsd.has_value());
            cost += *call.costUsd;
            for (const json &m : call.requestMessages)
                QVERIFY(!m.contains("extra"));
        }
        QVERIFY(std::abs(cost - 0.20659657199999998) < 1e-9);
        // The first answer: 1835 prompt tokens of which 320 cached, 141 completion.
        QCOMPARE(calls.front().usage.inputTokens, int64_t(1515));
        QCOMPARE(calls.front().usage.cacheReadTokens, int64_t(320));
        QCOMPARE(calls.front().usage.outputTokens, int64_t(141));
        QCOMPARE(calls.front().endedUs, int64_t(1775809100126905)); // 1775809100.1269045 s
        // The second call was made when the first command's output came back.
        QCOMPARE(calls[1].startedUs, int64_t(1775809100399136));

        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        int64_t failed = 0;
        for (const Step &r : results) {
            QCOMPARE(q(r.name), QStringLiteral("bash"));
            QVERIFY(r.startedUs > 0 && r.startedUs <= r.endedUs);
            if (r.status == StepStatus::Error) {
                ++failed;
                QVERIFY(r.payload.value("is_error", false));
                QVERIFY(r.payload.value("output", "").find("<returncode>0</returncode>") ==
                        std::string::npos);
            }
        }
        QCOMPARE(failed, int64_t(19)); // return codes 1 (16 times) and 2 (3 times)
        const std::vector<Step> tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(q(tools.front().callId), QStringLiteral("call_00_q49iXkS16KUO6GAEBXgflAF8"));
        QVERIFY(tools.front().payload.value("command", "").rfind("find /testbed", 0) == 0);

        auto runs = imported.reader->runs();
        QVERIFY(runs && runs->size() == 1);
        const RunInfo &run = runs->front();
        QCOMPARE(q(run.agent), QStringLiteral("mini-swe-agent"));
        QCOMPARE(q(run.name), QStringLiteral("django__django-13265"));
        QCOMPARE(q(run.outcome), QStringLiteral("Submitted"));
        QCOMPARE(q(run.cwd), QStringLiteral("/testbed"));
        QCOMPARE(q(run.labels.value("model", "")), QStringLiteral("deepseek/deepseek-chat"));
        QCOMPARE(q(run.labels.value("trajectory_format", "")),
                 QStringLiteral("mini-swe-agent-1.1"));
        QCOMPARE(run.labels.value("api_calls", 0), 156);
        QCOMPARE(run.startedUs, int64_t(1775809098000000));
        QVERIFY(run.endedUs >= calls.back().endedUs);
    }

    void miniFormat1()
    {
        Imported imported = import(file("v1.traj.json", kMiniV1));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::MiniSweAgent);
        const std::vector<Step> steps = allSteps(*imported.reader);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls.size(), size_t(4));
        QCOMPARE(q(calls[0].name), QStringLiteral("gpt-4o-mini-2024-07-18"));
        QCOMPARE(q(calls[1].name), QStringLiteral("gpt-4o-mini")); // from the config
        QCOMPARE(calls[0].usage.inputTokens, int64_t(60));
        QCOMPARE(calls[0].usage.cacheReadTokens, int64_t(40));
        QCOMPARE(calls[0].usage.outputTokens, int64_t(20));
        QCOMPARE(calls[0].startedUs, int64_t(1750000000) * 1000000);
        QCOMPARE(calls[1].startedUs, int64_t(0)); // v1 keeps no other times
        QCOMPARE(calls[3].requestMessages.size(), size_t(8));

        // Two blocks in one answer are a format error: nothing ran.
        const std::vector<Step> tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(tools.size(), size_t(3));
        QCOMPARE(q(tools[0].name), QStringLiteral("bash"));
        QCOMPARE(q(tools[0].payload.value("command", "")), QStringLiteral("ls -la"));
        QCOMPARE(tools[1].parent, std::optional<StepIndex>(calls[2].index));
        QCOMPARE(q(tools[1].payload.value("command", "")), QStringLiteral("python -m pytest"));
        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(results.size(), size_t(3));
        QCOMPARE(results[0].status, StepStatus::Ok);
        QCOMPARE(results[1].status, StepStatus::Error);
        QCOMPARE(q(results[2].payload.value("output", "")), QStringLiteral("diff --git a/x b/x"));

        auto runs = imported.reader->runs();
        QCOMPARE(q(runs->front().name), QStringLiteral("v1"));
        QCOMPARE(q(runs->front().cwd), QStringLiteral("/repo"));
        QCOMPARE(q(runs->front().labels.value("mini_version", "")), QStringLiteral("1.9.0"));
        QVERIFY2(roundTripProblem(imported, m_dir, "miniv1").empty(),
                 roundTripProblem(imported, m_dir, "miniv1").c_str());
    }

    void miniJsonLines()
    {
        // Several trajectories, one compact document a line, with a damaged line between.
        const std::string line = miniPrefix(60).dump(); // 29 answers and their outputs
        const std::string text = line + "\n" + line + "\n{\"info\": {\"broken\n" + line + "\n";
        Imported imported = import(file("three.jsonl", text));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::MiniSweAgent);
        QCOMPARE(imported.report->stats.runs, int64_t(3));
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("three.jsonl:3:") != std::string::npos,
                 imported.report->skipped[0].c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 3 * 29);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 3 * 29);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
        // Each run joins its own calls: the ids repeat from run to run.
        for (const Step &s : ofKind(steps, StepKind::ToolResult))
            QCOMPARE(byIndex(steps, s.parent)->run, s.run);
        auto runs = imported.reader->runs();
        QCOMPARE(q(runs->at(2).name), QStringLiteral("django__django-13265"));
    }

    void miniTruncated()
    {
        // Cut in the middle of the messages: info and the complete messages remain.
        const std::vector<std::string> lines = linesOf(realData(kMiniFile));
        const size_t keep = lines.size() * 6 / 10;
        Imported imported =
            import(file("cut.traj.json", joined(lines, keep) + lines[keep].substr(0, 10)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::MiniSweAgent);
        const std::vector<Step> steps = allSteps(*imported.reader);
        const int64_t calls = countKind(steps, StepKind::ModelCall);
        QVERIFY(calls > 10 && calls < 156);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("line " + std::to_string(keep + 1)) !=
                     std::string::npos,
                 imported.report->skipped[0].c_str());
        auto runs = imported.reader->runs();
        QCOMPARE(q(runs->front().outcome), QStringLiteral("Submitted")); // info comes first
    }

    void miniMalformed()
    {
        json doc = miniPrefix(60);
        doc["messages"][2]["extra"] = "not an object";             // an answer without details
        doc["messages"][4]["extra"]["response"]["usage"] = "many"; // usage of the wrong type
        doc["messages"][5] = 12;                                   // not a message
        doc["messages"][6]["extra"]["timestamp"] = json::object(); // a time that is not one
        doc["info"]["config"] = json::array();
        Imported imported = import(file("types.traj.json", doc.dump(2)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 29);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 28);
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("message 6") != std::string::npos,
                 imported.report->skipped[0].c_str());
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls[0].usage, Usage{});
        QCOMPARE(calls[1].usage, Usage{});
        QVERIFY(calls[2].usage.outputTokens > 0);
    }

    void miniNothingUsable()
    {
        Imported imported =
            import(file("junk.jsonl", "{\"info\": {}}\nnot json\n"), ImportFormat::MiniSweAgent);
        QVERIFY(!imported.report);
        QCOMPARE(imported.report.error().code, ErrorCode::Parse);
        QVERIFY2(errorText(imported).find("junk.jsonl:1:") != std::string::npos,
                 errorText(imported).c_str());

        const std::vector<std::string> lines = linesOf(realData(kMiniFile));
        imported = import(file("early.traj.json", joined(lines, 4)), ImportFormat::MiniSweAgent);
        QVERIFY(!imported.report);
        QVERIFY2(errorText(imported).find("early.traj.json") != std::string::npos &&
                     errorText(imported).find("line 5") != std::string::npos,
                 errorText(imported).c_str());
    }

    void miniRoundTrip()
    {
        Imported imported = import(file("prefix.traj.json", miniPrefix(60).dump(2)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        const std::string problem = roundTripProblem(imported, m_dir, "mini");
        QVERIFY2(problem.empty(), problem.c_str());
    }

    // ---------------------------------------------------------------- detection

    void detection_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("bytes");
        QTest::addColumn<int>("format");
        const auto row = [](const char *tag, const std::string &bytes, ImportFormat format) {
            QTest::newRow(tag) << QString(tag) << q(bytes) << int(format);
        };
        row("swe-agent 0.x", readAll(realData(kSweAgentFile)), ImportFormat::SweAgent);
        row("swe-agent 1.x", sweAgent1xTrajectory(), ImportFormat::SweAgent);
        row("mini-swe-agent 1.1", readAll(realData(kMiniFile)), ImportFormat::MiniSweAgent);
        row("mini-swe-agent 1", kMiniV1, ImportFormat::MiniSweAgent);
        // The compact form puts the format's name past the first MiB.
        row("mini-swe-agent jsonl", json::parse(readAll(realData(kMiniFile))).dump() + "\n",
            ImportFormat::MiniSweAgent);
        // A turn whose output quotes a mini-swe-agent file is still SWE-agent's.
        json quoting = json::parse(sweAgent1xTrajectory());
        quoting["trajectory"][0]["observation"] =
            R"({"trajectory_format": "mini-swe-agent-1.1", "info": {}})";
        row("swe-agent quoting mini", quoting.dump(2), ImportFormat::SweAgent);
        row("tau-bench", readAll(realData("tau-bench/gpt-4o-airline.json")),
            ImportFormat::OpenAIMessages);
    }

    void detection()
    {
        QFETCH(QString, bytes);
        QFETCH(int, format);
        const std::string text = bytes.toStdString();
        const auto found = detected(text);
        QVERIFY(found.has_value());
        QCOMPARE(int(*found), format);
    }

    void detectionRefusesOthers()
    {
        for (const char *other : {"openhands/basic_gui_mode.trajectory.json",
                                  "inspect/2025-05-12T20-27-36-04-00_browser.json",
                                  "codex/echo-hello.rollout.codex-0.171.0.jsonl",
                                  "claude-code/python-to-rust-port.transcript.jsonl"}) {
            const auto found = detected(readAll(realData(other)));
            QVERIFY2(!found ||
                         (*found != ImportFormat::SweAgent && *found != ImportFormat::MiniSweAgent),
                     other);
        }
    }
};

QTEST_GUILESS_MAIN(TestImportSweAgent)
#include "tst_import_sweagent.moc"
