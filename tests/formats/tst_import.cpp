// Import as a whole: finding the format of every real trajectory, the plain message list
// importer on tau-bench, damaged and empty input, streams, progress, and the timestamp
// parser every importer shares.
#include "importtestutil.h"
#include "testutil.h"

#include "import/importtime.h"

#include <QtTest>

#include <sstream>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

Q_DECLARE_METATYPE(std::string)

class ImportTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void detectsEveryRealFile_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<QString>("format");
        QTest::newRow("claude code") << realData("claude-code/python-to-rust-port.transcript.jsonl") << "claude-code";
        QTest::newRow("claude code 2.1.197") << realData("claude-code/echo-hello.claude-2.1.197.jsonl") << "claude-code";
        QTest::newRow("codex") << realData("codex/echo-hello.rollout.codex-0.171.0.jsonl") << "codex";
        QTest::newRow("swe-agent") << realData("swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj") << "swe-agent";
        QTest::newRow("mini-swe-agent") << realData("mini-swe-agent/django__django-13265.deepseek-chat.traj.json") << "mini-swe-agent";
        QTest::newRow("openhands") << realData("openhands/basic_gui_mode.trajectory.json") << "openhands";
        QTest::newRow("inspect") << realData("inspect/2025-05-12T20-27-36-04-00_browser.json") << "inspect";
        QTest::newRow("tau-bench") << realData("tau-bench/gpt-4o-airline.json") << "openai-messages";
    }
    void detectsEveryRealFile()
    {
        QFETCH(std::string, file);
        QFETCH(QString, format);
        const std::string bytes = readAll(file);
        QVERIFY2(!bytes.empty(), file.c_str());
        auto found = detectImportFormat(std::string_view(bytes).substr(0, kDetectBytes), file);
        QVERIFY2(found, found ? "" : found.error().message.c_str());
        QCOMPARE(QString(importFormatName(*found)), format);
    }

    void formatNamesRoundTrip()
    {
        for (ImportFormat f : importFormats()) {
            QCOMPARE(importFormatFromName(importFormatName(f)), std::optional<ImportFormat>(f));
            QVERIFY(std::string(importFormatDescription(f)).size() > 10);
        }
        QVERIFY(!importFormatFromName("word"));
    }

    void unknownAndEmptyInputAreRefusedByName()
    {
        QTemporaryDir dir;
        const std::string text = dir.filePath("notes.txt").toStdString();
        writeAll(text, "just some notes\nnothing structured\n");
        Imported notes = importInto(dir, text);
        QVERIFY(!notes.report);
        QCOMPARE(notes.report.error().code, ErrorCode::Parse);
        QVERIFY2(notes.report.error().message.find("/notes.txt: not a format Tapedeck imports") != std::string::npos,
                 notes.report.error().message.c_str());

        const std::string empty = dir.filePath("empty.json").toStdString();
        writeAll(empty, "  \n");
        Imported none = importInto(dir, empty);
        QVERIFY(!none.report);
        QVERIFY2(none.report.error().message.find("/empty.json: the file is empty") != std::string::npos,
                 none.report.error().message.c_str());

        Imported missing = importInto(dir, dir.filePath("gone.json").toStdString());
        QVERIFY(!missing.report);
        QCOMPARE(missing.report.error().code, ErrorCode::Io);
        QVERIFY(missing.report.error().message.find("gone.json") != std::string::npos);
    }

    // tau-bench: 200 episodes, 5,308 messages, 1,164 tool results (the data README).
    void tauBenchImportsEveryEpisodeAndMessage()
    {
        QTemporaryDir dir;
        Imported tape = importInto(dir, realData("tau-bench/gpt-4o-airline.json"));
        QVERIFY2(tape.report, tape.report ? "" : tape.report.error().message.c_str());
        QCOMPARE(tape.report->format, ImportFormat::OpenAIMessages);
        QVERIFY(tape.report->skipped.empty());
        QCOMPARE(tape.report->stats.runs, int64_t(200));
        QVERIFY(tape.reader);

        auto summary = tape.reader->summary();
        QVERIFY(summary);
        QCOMPARE(summary->runs.size(), size_t(200));
        QCOMPARE(summary->stepsByKind[int(StepKind::ModelCall)], int64_t(2454));
        QCOMPARE(summary->stepsByKind[int(StepKind::ToolCall)], int64_t(1164));
        QCOMPARE(summary->stepsByKind[int(StepKind::ToolResult)], int64_t(1164));
        QCOMPARE(summary->errorSteps, int64_t(73)); // tool outputs that begin "Error"
        int rewarded = 0;
        for (const RunInfo &run : summary->runs) {
            QVERIFY(run.outcome.rfind("reward ", 0) == 0);
            rewarded += run.outcome == "reward 1" || run.outcome == "reward 1.0";
            QCOMPARE(QString::fromStdString(run.labels.value("import_format", "")), QString("openai-messages"));
        }
        QCOMPARE(rewarded, 84);

        // Every message of every episode is in the tape: in the last model call's request,
        // that call's answer, or the messages after it that no call saw.
        std::map<int64_t, const Step *> lastCall;
        std::map<int64_t, size_t> unanswered;
        std::map<std::string, StepIndex> callIndex;
        const std::vector<Step> steps = allSteps(*tape.reader);
        int64_t linked = 0;
        for (const Step &s : steps) {
            if (s.kind == StepKind::ModelCall)
                lastCall[s.run.value] = &s;
            if (s.kind == StepKind::Annotation && s.name == "unanswered_messages")
                unanswered[s.run.value] += s.payload["messages"].size();
            if (s.kind == StepKind::ToolCall)
                callIndex[s.callId] = s.index;
            if (s.kind == StepKind::ToolResult && s.parent && callIndex[s.callId] == *s.parent)
                ++linked;
        }
        size_t messages = 0;
        for (const auto &[run, call] : lastCall)
            messages += call->requestMessages.size() + 1 + unanswered[run];
        QCOMPARE(messages, size_t(5308));
        QCOMPARE(linked, int64_t(1164));
    }

    void messageListLayouts_data()
    {
        QTest::addColumn<std::string>("content");
        QTest::addColumn<int>("runs");
        QTest::addColumn<int>("modelCalls");
        const std::string sys = json{{"role", "system"}, {"content", "be brief"}}.dump();
        const std::string user = json{{"role", "user"}, {"content", "list files"}}.dump();
        const json function = {{"name", "ls"}, {"arguments", json{{"dir", "."}}.dump()}};
        const std::string call =
            json{{"role", "assistant"},
                 {"content", nullptr},
                 {"tool_calls", json::array({{{"id", "c1"}, {"type", "function"}, {"function", function}}})}}
                .dump();
        const std::string tool = json{{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "a.txt"}}.dump();
        const std::string done = json{{"role", "assistant"}, {"content", "a.txt"}}.dump();
        const std::string list = "[" + sys + "," + user + "," + call + "," + tool + "," + done + "]";
        QTest::newRow("array of messages") << list << 1 << 2;
        QTest::newRow("object with messages") << "{\n  \"messages\": " + list + ",\n  \"model\": \"gpt-4o\"\n}\n" << 1 << 2;
        QTest::newRow("message per line") << sys + "\n" + user + "\n" + call + "\n" + tool + "\n" + done + "\n" << 1 << 2;
        QTest::newRow("episode per line") << "{\"messages\":" + list + "}\n{\"messages\":" + list + "}\n" << 2 << 4;
        QTest::newRow("array of episodes") << "[{\"traj\":" + list + ",\"reward\":1},{\"traj\":" + list + "}]" << 2 << 4;
    }
    void messageListLayouts()
    {
        QFETCH(std::string, content);
        QFETCH(int, runs);
        QFETCH(int, modelCalls);
        QTemporaryDir dir;
        const std::string path = dir.filePath("chat.json").toStdString();
        writeAll(path, content);
        Imported tape = importInto(dir, path, ImportFormat::OpenAIMessages);
        QVERIFY2(tape.report, tape.report ? "" : tape.report.error().message.c_str());
        QCOMPARE(tape.report->stats.runs, int64_t(runs));
        const std::vector<Step> steps = allSteps(*tape.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), int64_t(modelCalls));
        const auto toolCall = std::find_if(steps.begin(), steps.end(), [](const Step &s) { return s.kind == StepKind::ToolCall; });
        QVERIFY(toolCall != steps.end());
        QCOMPARE(toolCall->name, std::string("ls"));
        QVERIFY(toolCall->payload == json({{"dir", "."}})); // arguments parsed from their JSON text
        const auto result = std::find_if(steps.begin(), steps.end(), [](const Step &s) { return s.kind == StepKind::ToolResult; });
        QVERIFY(result != steps.end());
        QCOMPARE(result->parent, std::optional<StepIndex>(toolCall->index));
        QCOMPARE(result->name, std::string("ls")); // from the call it answers
        // The second model call saw the whole conversation before it.
        const auto second = std::find_if(steps.begin(), steps.end(), [](const Step &s) {
            return s.kind == StepKind::ModelCall && s.requestMessages.size() == 4;
        });
        QVERIFY(second != steps.end());
    }

    // A damaged line is skipped and named; the rest comes in.
    void damagedLinesAreSkippedAndNamed()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chat.jsonl").toStdString();
        writeAll(path, "{\"role\":\"user\",\"content\":\"hi\"}\n{\"role\":\"assist\n"
                       "{\"content\":\"no role\"}\n{\"role\":\"assistant\",\"content\":\"hello\"}\n");
        Imported tape = importInto(dir, path);
        QVERIFY2(tape.report, tape.report ? "" : tape.report.error().message.c_str());
        QCOMPARE(tape.report->skipped.size(), size_t(2));
        QVERIFY2(tape.report->skipped[0].find("/chat.jsonl:2: not valid JSON") != std::string::npos, tape.report->skipped[0].c_str());
        QVERIFY2(tape.report->skipped[1].find("/chat.jsonl:3: not a message") != std::string::npos, tape.report->skipped[1].c_str());
        QCOMPARE(countKind(allSteps(*tape.reader), StepKind::ModelCall), int64_t(1));
    }

    // A tau-bench file cut in the middle: the episodes before the cut are imported, and
    // what was skipped says where the file stops and how far it got.
    void truncatedArrayKeepsTheEpisodesBeforeTheCut()
    {
        QTemporaryDir dir;
        const std::string bytes = readAll(realData("tau-bench/gpt-4o-airline.json"));
        const std::string path = dir.filePath("cut.json").toStdString();
        writeAll(path, bytes.substr(0, bytes.size() / 2));
        Imported tape = importInto(dir, path);
        QVERIFY2(tape.report, tape.report ? "" : tape.report.error().message.c_str());
        const int64_t runs = tape.report->stats.runs;
        QVERIFY2(runs > 50 && runs < 150, std::to_string(runs).c_str()); // 200 episodes in all
        QCOMPARE(tape.report->skipped.size(), size_t(1));
        const std::string &skipped = tape.report->skipped[0];
        QVERIFY2(skipped.find("/cut.json: not valid JSON at byte") != std::string::npos, skipped.c_str());
        QVERIFY2(skipped.find("the " + std::to_string(runs) + " complete elements before it were read") !=
                     std::string::npos,
                 skipped.c_str());
        auto runList = tape.reader->runs();
        QVERIFY(runList);
        QCOMPARE(int64_t(runList->size()), runs);
    }

    // The same file cut before its first episode is complete: nothing to keep, an error.
    void arrayCutBeforeItsFirstElementIsAnError()
    {
        QTemporaryDir dir;
        const std::string bytes = readAll(realData("tau-bench/gpt-4o-airline.json"));
        const std::string path = dir.filePath("cut.json").toStdString();
        // Far enough in to be known as OpenAI messages, well inside the first episode.
        const size_t firstRole = bytes.find("\"role\"");
        QVERIFY(firstRole != std::string::npos);
        writeAll(path, bytes.substr(0, firstRole + 200));
        Imported tape = importInto(dir, path);
        QVERIFY(!tape.report);
        QCOMPARE(tape.report.error().code, ErrorCode::Parse);
        QVERIFY2(tape.report.error().message.find("/cut.json: not valid JSON at byte") != std::string::npos,
                 tape.report.error().message.c_str());
        QVERIFY2(tape.report.error().message.find("after 0 complete elements") != std::string::npos,
                 tape.report.error().message.c_str());
    }

    void streamsImportLikeFiles()
    {
        QTemporaryDir dir;
        const std::string bytes = readAll(realData("tau-bench/gpt-4o-airline.json"));
        std::istringstream in(bytes);
        const std::string out = dir.filePath("stdin.tape").toStdString();
        auto writer = TapeWriter::create(out);
        QVERIFY(writer);
        auto report = importStream(in, "<stdin>", int64_t(bytes.size()), std::nullopt, **writer);
        QVERIFY2(report, report ? "" : report.error().message.c_str());
        QCOMPARE(report->format, ImportFormat::OpenAIMessages);
        QCOMPARE(report->stats.runs, int64_t(200));
    }

    void progressReachesTheEnd()
    {
        QTemporaryDir dir;
        const std::string file = realData("tau-bench/gpt-4o-airline.json");
        const int64_t size = int64_t(readAll(file).size());
        auto writer = TapeWriter::create(dir.filePath("p.tape").toStdString());
        QVERIFY(writer);
        std::vector<int64_t> seen;
        ImportOptions options;
        options.progress = [&](int64_t done, int64_t total) {
            QCOMPARE(total, size);
            seen.push_back(done);
        };
        auto report = importFile(file, std::nullopt, **writer, options);
        QVERIFY(report);
        QVERIFY(seen.size() >= 5);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()));
        QCOMPARE(seen.back(), size);
    }

    // The interchange goes through the same entry point: export, import, same steps.
    void jsonlInterchangeRoundTrips()
    {
        QTemporaryDir dir;
        Imported first = importInto(dir, realData("tau-bench/gpt-4o-airline.json"), std::nullopt, "first");
        QVERIFY(first.report);
        const std::string jsonl = dir.filePath("tau.jsonl").toStdString();
        {
            std::ofstream out(jsonl, std::ios::binary);
            QVERIFY(exportJsonl(*first.reader, out));
        }
        Imported second = importInto(dir, jsonl, std::nullopt, "second");
        QVERIFY2(second.report, second.report ? "" : second.report.error().message.c_str());
        QCOMPARE(second.report->format, ImportFormat::Jsonl);
        const std::vector<Step> a = allSteps(*first.reader), b = allSteps(*second.reader);
        QCOMPARE(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            const std::string diff = stepDifference(a[i], b[i]);
            QVERIFY2(diff.empty(), ("step " + std::to_string(i + 1) + ": " + diff).c_str());
        }
    }

    void isoTimes_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("us"); // -1: not a time
        QTest::newRow("utc") << "2026-01-01T00:00:00Z" << qint64(1767225600000000);
        QTest::newRow("fraction") << "2026-01-01T00:00:00.25Z" << qint64(1767225600250000);
        QTest::newRow("micros") << "2026-01-01T00:00:01.000001Z" << qint64(1767225601000001);
        QTest::newRow("nanos cut") << "2026-01-01T00:00:00.123456789Z" << qint64(1767225600123456);
        QTest::newRow("offset") << "2025-05-12T20:27:36-04:00" << qint64(1747096056000000);
        QTest::newRow("offset no colon") << "2025-05-12T20:27:36-0400" << qint64(1747096056000000);
        QTest::newRow("no zone") << "2026-01-01 00:00:00" << qint64(1767225600000000);
        QTest::newRow("leap day") << "2024-02-29T12:00:00Z" << qint64(1709208000000000);
        QTest::newRow("epoch") << "1970-01-01T00:00:00Z" << qint64(0);
        QTest::newRow("date only") << "2026-01-01" << qint64(-1);
        QTest::newRow("month 13") << "2026-13-01T00:00:00Z" << qint64(-1);
        QTest::newRow("trailing") << "2026-01-01T00:00:00Zjunk" << qint64(-1);
        QTest::newRow("empty fraction") << "2026-01-01T00:00:00.Z" << qint64(-1);
        QTest::newRow("words") << "yesterday" << qint64(-1);
    }
    void isoTimes()
    {
        QFETCH(QString, text);
        QFETCH(qint64, us);
        const std::optional<int64_t> parsed = import::parseIsoTime(text.toStdString());
        QCOMPARE(parsed.value_or(-1), int64_t(us));
    }

    void timesFromJsonValues()
    {
        QCOMPARE(import::timeFromJson(nullptr), int64_t(0));
        const json seconds = 1767225600.5;
        QCOMPARE(import::timeFromJson(&seconds), int64_t(1767225600500000));
        const json millis = int64_t(1767225600123);
        QCOMPARE(import::timeFromJson(&millis), int64_t(1767225600123000));
        const json text = "2026-01-01T00:00:00Z";
        QCOMPARE(import::timeFromJson(&text), int64_t(1767225600000000));
        const json junk = json::array();
        QCOMPARE(import::timeFromJson(&junk), int64_t(0));
    }
};

QTEST_GUILESS_MAIN(ImportTest)
#include "tst_import.moc"
