// The OpenHands importer: the exported event list of ../shared/data/real with the counts
// its README states, an evaluation output.jsonl built from the documented EvalOutput shape
// (no real one is at hand), damaged copies, a round trip through the JSONL interchange,
// and detection.
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

const char *kEventsFile = "openhands/basic_gui_mode.trajectory.json";
const char *kFirstResponse = "chatcmpl-6bb9f175-c587-44b4-8c8d-f91fc4827590";

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


// Every tool result is the child of the tool call with its call id.
std::string linkageProblem(const std::vector<Step> &steps)
{
    for (const Step &s : steps) {
        if (s.kind != StepKind::ToolResult)
            continue;
        const Step *call = byIndex(steps, s.parent);
        if (!call || call->kind != StepKind::ToolCall || call->callId != s.callId)
            return "tool result " + std::to_string(s.index.value) + " is not linked to its call";
    }
    return {};
}

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

std::optional<ImportFormat> detected(const std::string &bytes)
{
    auto format = detectImportFormat(std::string_view(bytes).substr(0, kDetectBytes), "input");
    if (!format)
        return std::nullopt;
    return *format;
}

json realEvents()
{
    return json::parse(readAll(realData(kEventsFile)));
}

// An evaluation instance in the shape of OpenHands' EvalOutput: the real session as its
// history, with the harness's metadata, metrics (a latency by response id) and result.
json evaluatedInstance()
{
    return {{"instance_id", "todo-app-1"},
            {"instruction", "Create a VueJS todo app."},
            {"metadata",
             {{"agent_class", "CodeActAgent"},
              {"llm_config", {{"model", "anthropic/claude-3-5-sonnet-20241022"}}},
              {"max_iterations", 30}}},
            {"history", realEvents()},
            {"metrics",
             {{"accumulated_cost", 0.12},
              {"response_latencies",
               {{{"model", "claude-3-5-sonnet-20241022"},
                 {"latency", 2.5},
                 {"response_id", kFirstResponse}}}}}},
            {"test_result",
             {{"git_patch", "diff --git a/index.html b/index.html"}, {"resolved", true}}},
            {"error", nullptr}};
}

// An instance of an agent without function calling that failed: an action without
// tool_call_metadata answered by "cause", an error observation, the agent in its error
// state, and the harness's error.
const char *kFailedInstance =
    R"({"instance_id": "broken-2", "metadata": {"agent_class": "CodeActAgent"},
 "history": [
  {"id": 0, "timestamp": "2025-02-01T10:00:00", "source": "user", "message": "Fix it", "action": "message",
   "args": {"content": "Fix it", "image_urls": []}},
  {"id": 1, "timestamp": "2025-02-01T10:00:03", "source": "agent", "message": "Running command: ls", "action": "run",
   "args": {"command": "ls", "thought": "look first"}},
  {"id": 2, "timestamp": "2025-02-01T10:00:04.5", "source": "agent", "message": "Command `ls` executed with exit code 2.",
   "cause": 1, "observation": "run", "content": "ls: cannot access", "extras": {"command": "ls", "metadata": {"exit_code": 2}}},
  {"id": 3, "timestamp": "2025-02-01T10:00:05", "source": "agent", "message": "error", "observation": "error",
   "content": "The LLM provider returned an error", "extras": {}},
  {"id": 4, "timestamp": "2025-02-01T10:00:06", "source": "environment", "message": "", "observation": "agent_state_changed",
   "content": "", "extras": {"agent_state": "error", "reason": "RateLimitError"}}
 ],
 "metrics": {}, "test_result": {}, "error": "RateLimitError: too many requests"})";

std::string compact(const char *text)
{
    return json::parse(text).dump();
}

} // namespace

class TestImportOpenHands : public QObject {
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

    void realEventList()
    {
        Imported imported = import(realData(kEventsFile));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::OpenHands);
        QVERIFY2(imported.report->skipped.empty(), skippedText(*imported.report).c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        // 18 events: 4 model responses that called a tool and the agent's closing message;
        // 4 calls with their observations; 8 state changes and empty observations.
        QCOMPARE(steps.size(), size_t(21));
        QCOMPARE(countKind(steps, StepKind::ModelCall), 5);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 4);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 4);
        QCOMPARE(countKind(steps, StepKind::Annotation), 8);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());

        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(q(calls[0].name), QStringLiteral("claude-3-5-sonnet-20241022"));
        QCOMPARE(calls[0].usage.inputTokens, int64_t(4));
        QCOMPARE(calls[0].usage.cacheWriteTokens, int64_t(3435));
        QCOMPARE(calls[0].usage.outputTokens, int64_t(104));
        QCOMPARE(calls[1].usage.cacheReadTokens, int64_t(3435));
        // From the event before it (the user's message was taken) to the response.
        QCOMPARE(calls[0].startedUs, int64_t(1737404972289136)); // 2025-01-20T20:29:32.289136
        QCOMPARE(calls[0].endedUs, int64_t(1737404975040676));   // 2025-01-20T20:29:35.040676
        QCOMPARE(calls[0].requestMessages.size(), size_t(1));
        QCOMPARE(q(calls[0].requestMessages[0].value("role", "")), QStringLiteral("user"));
        // The conversation as OpenHands sends it: the answer with its tool call, the output.
        QCOMPARE(calls[1].requestMessages.size(), size_t(3));
        QVERIFY(calls[1].requestMessages[1].contains("tool_calls"));
        QCOMPARE(q(calls[1].requestMessages[2].value("role", "")), QStringLiteral("tool"));
        QCOMPARE(q(calls[1].requestMessages[2].value("tool_call_id", "")),
                 QStringLiteral("toolu_01W9Z8jBctr8X2frZV9p1RYs"));
        QCOMPARE(q(calls[1].requestMessages[2].value("name", "")), QStringLiteral("execute_bash"));
        // The closing message has no recorded response: its text only.
        QVERIFY(calls[4].payload.value("content", "").rfind("I've created a complete Vue.js", 0) ==
                0);
        QCOMPARE(calls[4].usage, Usage{});
        QCOMPARE(q(calls[4].name), QStringLiteral("claude-3-5-sonnet-20241022"));

        const std::vector<Step> tools = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(q(tools[0].name), QStringLiteral("execute_bash"));
        QCOMPARE(q(tools[0].callId), QStringLiteral("toolu_01W9Z8jBctr8X2frZV9p1RYs"));
        QCOMPARE(q(tools[0].payload.value("command", "")),
                 QStringLiteral("mkdir -p /workspace/todo-app"));
        QCOMPARE(tools[0].parent, std::optional<StepIndex>(calls[0].index));
        QCOMPARE(q(tools[1].name), QStringLiteral("str_replace_editor"));
        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(results[0].startedUs, int64_t(1737404975040676));
        QCOMPARE(results[0].endedUs, int64_t(1737404975699033));
        QCOMPARE(results[0].status, StepStatus::Ok);
        QVERIFY(results[1].payload.value("output", "").find("+++ /workspace/todo-app/index.html") !=
                std::string::npos);
        // The server never exited: OpenHands marks the observation unsuccessful.
        QCOMPARE(results[3].status, StepStatus::Error);

        const std::vector<Step> notes = ofKind(steps, StepKind::Annotation);
        QCOMPARE(q(notes[0].name), QStringLiteral("agent_state_changed"));
        QCOMPARE(q(notes[0].payload["extras"].value("agent_state", "")), QStringLiteral("loading"));
        QCOMPARE(q(notes[1].name), QStringLiteral("change_agent_state"));
        QCOMPARE(q(notes[2].name), QStringLiteral("null"));

        auto runs = imported.reader->runs();
        QVERIFY(runs && runs->size() == 1);
        QCOMPARE(q(runs->front().agent), QStringLiteral("openhands"));
        QCOMPARE(q(runs->front().name), QStringLiteral("basic_gui_mode"));
        QCOMPARE(q(runs->front().outcome), QStringLiteral("awaiting_user_input"));
        QCOMPARE(runs->front().startedUs, int64_t(1737404953519638)); // 2025-01-20T20:29:13.519638
        QCOMPARE(runs->front().endedUs, int64_t(1737405035429675));
    }

    void evaluationOutput()
    {
        const std::string text =
            evaluatedInstance().dump() + "\nnot json\n" + compact(kFailedInstance) + "\n";
        Imported imported = import(file("output.jsonl", text));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::OpenHands);
        QCOMPARE(imported.report->stats.runs, int64_t(2));
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("output.jsonl:2:") != std::string::npos,
                 imported.report->skipped[0].c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());

        auto runs = imported.reader->runs();
        QCOMPARE(runs->size(), size_t(2));
        const RunInfo &evaluated = runs->at(0);
        QCOMPARE(q(evaluated.name), QStringLiteral("todo-app-1"));
        QCOMPARE(q(evaluated.labels.value("model", "")),
                 QStringLiteral("anthropic/claude-3-5-sonnet-20241022"));
        QCOMPARE(q(evaluated.labels.value("agent_class", "")), QStringLiteral("CodeActAgent"));
        QCOMPARE(evaluated.labels.value("test_result.resolved", false), true);
        QCOMPARE(evaluated.labels.value("accumulated_cost", 0.0), 0.12);
        QCOMPARE(q(evaluated.outcome), QStringLiteral("awaiting_user_input"));

        std::vector<Step> first, second;
        for (const Step &s : steps)
            (s.run == evaluated.id ? first : second).push_back(s);
        QCOMPARE(first.size(), size_t(22)); // the session, and the test result beside it
        const std::vector<Step> calls = ofKind(first, StepKind::ModelCall);
        // The harness knew how long the first response took.
        QCOMPARE(calls[0].endedUs - calls[0].startedUs, int64_t(2500000));
        QCOMPARE(q(first.back().name), QStringLiteral("test_result"));
        QVERIFY(first.back().payload.value("git_patch", "").rfind("diff --git", 0) == 0);

        const RunInfo &failed = runs->at(1);
        QCOMPARE(q(failed.name), QStringLiteral("broken-2"));
        QCOMPARE(q(failed.outcome), QStringLiteral("error: RateLimitError: too many requests"));
        QCOMPARE(countKind(second, StepKind::ModelCall), 0);
        const std::vector<Step> tools = ofKind(second, StepKind::ToolCall);
        QCOMPARE(tools.size(), size_t(1));
        QCOMPARE(q(tools[0].name), QStringLiteral("run"));
        QCOMPARE(q(tools[0].payload.value("command", "")), QStringLiteral("ls"));
        const std::vector<Step> results = ofKind(second, StepKind::ToolResult);
        QCOMPARE(results.size(), size_t(1));
        QCOMPARE(results[0].parent, std::optional<StepIndex>(tools[0].index)); // by "cause"
        QCOMPARE(results[0].status, StepStatus::Error);                        // exit code 2
        QCOMPARE(results[0].endedUs - results[0].startedUs, int64_t(1500000));
        const std::vector<Step> errors = ofKind(second, StepKind::Error);
        QCOMPARE(errors.size(), size_t(3)); // the error observation, the error state, the harness
        for (const Step &e : errors)
            QCOMPARE(e.status, StepStatus::Error);
        QCOMPARE(q(errors[2].payload.value("error", "")),
                 QStringLiteral("RateLimitError: too many requests"));
    }

    void truncatedEventList()
    {
        // Cut inside the event with id 10: the ten before it are kept.
        const std::string text = readAll(realData(kEventsFile));
        const size_t at = text.find("\"id\": 10,");
        QVERIFY(at != std::string::npos);
        Imported imported = import(file("cut.json", text.substr(0, at + 200)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::OpenHands);
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(
            imported.report->skipped[0].find("cut.json: not valid JSON") != std::string::npos &&
                imported.report->skipped[0].find("the 10 complete elements before it were read") != std::string::npos,
            imported.report->skipped[0].c_str());

        // A truncated evaluation line is skipped; the others are read.
        const std::string lines =
            evaluatedInstance().dump() + "\n" + compact(kFailedInstance).substr(0, 300) + "\n";
        imported = import(file("cut.jsonl", lines));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->stats.runs, int64_t(1));
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("cut.jsonl:2:") != std::string::npos,
                 imported.report->skipped[0].c_str());
    }

    void malformedEvents()
    {
        json events = realEvents();
        events[2] = 5;                            // not an event
        events[8]["tool_call_metadata"] = "lost"; // joined by "cause" instead
        events[9]["timestamp"] = json::object();  // a time that is not one
        events[11]["tool_call_metadata"]["model_response"]["usage"] = json::array();
        events[13]["args"] = json::array();
        events[17]["extras"] = "none";
        Imported imported = import(file("types.json", events.dump(2)));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->skipped.size(), size_t(1));
        QVERIFY2(imported.report->skipped[0].find("event 3") != std::string::npos,
                 imported.report->skipped[0].c_str());
        const std::vector<Step> steps = allSteps(*imported.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 5);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 4);
        QVERIFY2(linkageProblem(steps).empty(), linkageProblem(steps).c_str());
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        // The answer's time is unknown: the call is placed where it began, taking no time.
        QCOMPARE(calls[1].startedUs, int64_t(1737404975699033));
        QCOMPARE(calls[1].endedUs, calls[1].startedUs);
        QCOMPARE(calls[2].usage, Usage{});
    }

    void nothingUsable()
    {
        Imported imported = import(file("empty.json", "[]"), ImportFormat::OpenHands);
        QVERIFY(!imported.report);
        QCOMPARE(imported.report.error().code, ErrorCode::Parse);
        QVERIFY2(errorText(imported).find("empty.json") != std::string::npos,
                 errorText(imported).c_str());

        imported = import(file("junk.jsonl", "{\"instance_id\": \"x\"}\nnot json\n"),
                          ImportFormat::OpenHands);
        QVERIFY(!imported.report);
        QVERIFY2(errorText(imported).find("junk.jsonl:1:") != std::string::npos,
                 errorText(imported).c_str());

        imported = import(file("early.json", readAll(realData(kEventsFile)).substr(0, 100)),
                          ImportFormat::OpenHands);
        QVERIFY(!imported.report);
        QVERIFY2(errorText(imported).find("early.json") != std::string::npos,
                 errorText(imported).c_str());
    }

    void roundTrip()
    {
        Imported imported = import(realData(kEventsFile));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QString problem = q(roundTripProblem(imported, m_dir, "events"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        imported = import(
            file("rt.jsonl", evaluatedInstance().dump() + "\n" + compact(kFailedInstance) + "\n"));
        QVERIFY2(imported.report, errorText(imported).c_str());
        problem = q(roundTripProblem(imported, m_dir, "instances"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void detection()
    {
        QCOMPARE(detected(readAll(realData(kEventsFile))), std::optional(ImportFormat::OpenHands));
        QCOMPARE(detected(evaluatedInstance().dump() + "\n"),
                 std::optional(ImportFormat::OpenHands));
        QCOMPARE(detected(evaluatedInstance().dump(2)), std::optional(ImportFormat::OpenHands));
        // An instance line longer than what detection reads, its members in OpenHands' order.
        json history = realEvents();
        history[4]["args"]["content"] = std::string(2 << 20, 'x');
        const std::string longLine =
            "{\"instance_id\": \"long\", \"instruction\": \"x\", \"history\": " + history.dump() +
            ", \"test_result\": {}}\n";
        QCOMPARE(detected(longLine), std::optional(ImportFormat::OpenHands));
        Imported imported = import(file("long.jsonl", longLine));
        QVERIFY2(imported.report, errorText(imported).c_str());
        QCOMPARE(imported.report->format, ImportFormat::OpenHands);
    }

    void detectionRefusesOthers()
    {
        for (const char *other :
             {"swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj",
              "mini-swe-agent/django__django-13265.deepseek-chat.traj.json",
              "tau-bench/gpt-4o-airline.json", "inspect/2025-05-12T20-27-36-04-00_browser.json",
              "codex/echo-hello.rollout.codex-0.171.0.jsonl",
              "claude-code/python-to-rust-port.transcript.jsonl"}) {
            const auto found = detected(readAll(realData(other)));
            QVERIFY2(!found || *found != ImportFormat::OpenHands, other);
        }
    }
};

QTEST_GUILESS_MAIN(TestImportOpenHands)
#include "tst_import_openhands.moc"
