// The Inspect AI importer: the real .json log of ../shared/data/real/inspect, the same log
// as a .eval zip container (written here with libzip), damaged copies of both, logs built
// to show what the real one lacks (sub-agents, pooled inputs, errors, events nested the
// old way, Zstandard entries), detection, and the round trip through JSONL.
#include "importtestutil.h"
#include "testutil.h"

#include <nlohmann/json.hpp>
#include <zip.h>
#include <zstd.h>

#include <QElapsedTimer>
#include <QtTest>

#include <chrono>
#include <fstream>
#include <sstream>

using namespace tapedeck;
using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;
// The logs written here keep their members in Inspect's order (id and epoch before the
// events, the header before the samples), as a damaged copy must to show what it keeps.
using ojson = nlohmann::ordered_json;

namespace {

const std::string kLog = "inspect/2025-05-12T20-27-36-04-00_browser.json";

int64_t isoUs(const char *text)
{
    // 2025-05-12T20:27:38.462180-04:00 and friends, computed independently of the importer.
    std::tm tm{};
    int us = 0;
    int offsetHours = 0;
    int offsetMinutes = 0;
    std::sscanf(text, "%d-%d-%dT%d:%d:%d.%d-%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us, &offsetHours, &offsetMinutes);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const int64_t seconds = int64_t(timegm(&tm)) + offsetHours * 3600 + offsetMinutes * 60;
    return seconds * 1000000 + us;
}

ojson realLog()
{
    return ojson::parse(readAll(realData(kLog)));
}

// Writes a zip with libzip, every entry deflated as Inspect writes them.
bool writeZip(const std::string &path,
              const std::vector<std::pair<std::string, std::string>> &entries)
{
    int code = 0;
    zip_t *archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!archive)
        return false;
    for (const auto &[name, bytes] : entries) {
        zip_source_t *source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
        const zip_int64_t index =
            source ? zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
        if (index < 0 ||
            zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_DEFLATE, 5) != 0) {
            zip_source_free(source);
            zip_discard(archive);
            return false;
        }
    }
    return zip_close(archive) == 0;
}

// A .eval container of `log` laid out as Inspect writes one: the journal's start first, then
// the samples, the summaries and the header (the log without its samples) last.
bool writeEval(const std::string &path, const ojson &log)
{
    ojson header = log;
    header.erase("samples");
    ojson start = {{"version", log["version"]}, {"eval", log["eval"]}, {"plan", log["plan"]}};
    std::vector<std::pair<std::string, std::string>> entries;
    entries.emplace_back("_journal/start.json", start.dump(2));
    ojson summaries = ojson::array();
    for (const ojson &sample : log["samples"]) {
        const std::string id =
            sample["id"].is_string() ? sample["id"].get<std::string>() : sample["id"].dump();
        entries.emplace_back("samples/" + id + "_epoch_" + sample["epoch"].dump() + ".json",
                             sample.dump(2));
        summaries.push_back({{"id", sample["id"]},
                             {"epoch", sample["epoch"]},
                             {"scores", sample.value("scores", ojson())}});
    }
    entries.emplace_back("_journal/summaries/1.json", summaries.dump(2));
    entries.emplace_back("summaries.json", summaries.dump(2));
    entries.emplace_back("header.json", header.dump(2));
    return writeZip(path, entries);
}

uint32_t crc32Of(const std::string &bytes)
{
    uint32_t crc = 0xffffffff;
    for (unsigned char c : bytes) {
        crc ^= c;
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void put16(std::string &out, uint32_t v)
{
    out.push_back(char(v & 0xff));
    out.push_back(char((v >> 8) & 0xff));
}

void put32(std::string &out, uint32_t v)
{
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}

// A zip whose entries are compressed with Zstandard (method 93), which this libzip cannot
// write: built by hand, local headers, central directory and end record.
std::string zstandardZip(const std::vector<std::pair<std::string, std::string>> &entries)
{
    std::string out;
    std::string directory;
    for (const auto &[name, plain] : entries) {
        std::string packed(ZSTD_compressBound(plain.size()), '\0');
        packed.resize(ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 3));
        const uint32_t offset = uint32_t(out.size());
        auto common = [&](std::string &to) {
            put16(to, 63);   // version needed
            put16(to, 0);    // flags
            put16(to, 93);   // Zstandard
            put16(to, 0);    // time
            put16(to, 0x21); // 1980-01-01
            put32(to, crc32Of(plain));
            put32(to, uint32_t(packed.size()));
            put32(to, uint32_t(plain.size()));
            put16(to, uint32_t(name.size()));
            put16(to, 0); // extra
        };
        put32(out, 0x04034b50);
        common(out);
        out += name;
        out += packed;
        put32(directory, 0x02014b50);
        put16(directory, 63);
        common(directory);
        put16(directory, 0); // comment
        put16(directory, 0); // disk
        put16(directory, 0); // internal attributes
        put32(directory, 0); // external attributes
        put32(directory, offset);
        directory += name;
    }
    const uint32_t directoryOffset = uint32_t(out.size());
    out += directory;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, uint32_t(entries.size()));
    put16(out, uint32_t(entries.size()));
    put32(out, uint32_t(directory.size()));
    put32(out, directoryOffset);
    put16(out, 0);
    return out;
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

// A small log with only what a test needs: the real log's header and one sample.
ojson syntheticLog(ojson sample)
{
    return {{"version", 2},
            {"status", "success"},
            {"eval",
             {{"task", "synthetic"},
              {"model", "anthropic/claude-sonnet-4-5"},
              {"created", "2025-06-01T10:00:00+00:00"}}},
            {"plan", {{"name", "plan"}, {"steps", ojson::array()}}},
            {"samples", ojson::array({std::move(sample)})}};
}

json modelEvent(const std::string &span, const char *at, json input, json message,
                json usage = json::object())
{
    return {
        {"event", "model"},
        {"span_id", span},
        {"timestamp", at},
        {"model", "anthropic/claude-sonnet-4-5"},
        {"input", std::move(input)},
        {"tools", json::array()},
        {"tool_choice", "auto"},
        {"config", json::object()},
        {"output",
         {{"model", "claude-sonnet-4-5"},
          {"choices", json::array({{{"message", std::move(message)}, {"stop_reason", "stop"}}})},
          {"usage", std::move(usage)}}}};
}

json userMessage(const std::string &text)
{
    return {{"role", "user"}, {"content", text}};
}

json assistantMessage(const std::string &text)
{
    return {{"role", "assistant"}, {"content", text}};
}

// A sample with what the real log lacks: an agent handing off to another, pooled model
// inputs with an attachment, Anthropic usage with cost, a compaction, a failed tool with its
// events nested the old way, a subtask, an error event and the sample's error.
ojson tripSample()
{
    const json pool = json::array({{{"role", "system"}, {"content", "attachment://sys"}},
                                   userMessage("Plan the trip."),
                                   assistantMessage("I will ask the researcher."),
                                   userMessage("Find flights.")});
    json events = json::array();
    events.push_back({{"event", "span_begin"},
                      {"id", "a"},
                      {"span_id", "a"},
                      {"type", "agent"},
                      {"name", "planner"},
                      {"timestamp", "2025-06-01T10:00:00+00:00"}});
    json planner =
        modelEvent("a", "2025-06-01T10:00:01+00:00", json::array(),
                   {{"role", "assistant"},
                    {"content", json::array({{{"type", "reasoning"}, {"reasoning", "Delegate."}},
                                             {{"type", "text"}, {"text", "Handing off."}}})},
                    {"tool_calls", json::array({{{"id", "h1"},
                                                 {"function", "transfer_to_researcher"},
                                                 {"arguments", json::object()}}})}},
                   {{"input_tokens", 100},
                    {"output_tokens", 10},
                    {"input_tokens_cache_read", 50},
                    {"input_tokens_cache_write", 20},
                    {"total_tokens", 180},
                    {"total_cost", 0.25}});
    planner["input_refs"] = json::array({json::array({0, 2})});
    planner["completed"] = "2025-06-01T10:00:02+00:00";
    events.push_back(planner);
    events.push_back({{"event", "span_begin"},
                      {"id", "t"},
                      {"span_id", "t"},
                      {"parent_id", "a"},
                      {"type", "tool"},
                      {"name", "transfer_to_researcher"},
                      {"timestamp", "2025-06-01T10:00:03+00:00"}});
    events.push_back({{"event", "tool"},
                      {"span_id", "a"},
                      {"id", "h1"},
                      {"function", "transfer_to_researcher"},
                      {"arguments", json::object()},
                      {"result", json::array({{{"type", "text"}, {"text", "Flights found."}}})},
                      {"timestamp", "2025-06-01T10:00:03+00:00"},
                      {"working_time", 1.5}});
    events.push_back({{"event", "span_begin"},
                      {"id", "r"},
                      {"span_id", "r"},
                      {"parent_id", "t"},
                      {"type", "agent"},
                      {"name", "researcher"},
                      {"timestamp", "2025-06-01T10:00:03.5+00:00"}});
    json researcher = modelEvent("r", "2025-06-01T10:00:04+00:00", json::array(),
                                 assistantMessage("Flights found."));
    researcher["input_refs"] = json::array({json::array({3, 4})});
    events.push_back(researcher);
    events.push_back({{"event", "compaction"},
                      {"span_id", "r"},
                      {"type", "summary"},
                      {"tokens_before", 900},
                      {"tokens_after", 100},
                      {"timestamp", "2025-06-01T10:00:04.5+00:00"}});
    events.push_back({{"event", "span_end"},
                      {"id", "r"},
                      {"span_id", "r"},
                      {"timestamp", "2025-06-01T10:00:05+00:00"}});
    events.push_back({{"event", "span_end"},
                      {"id", "t"},
                      {"span_id", "t"},
                      {"timestamp", "2025-06-01T10:00:05+00:00"}});
    // An old-style tool event with its events nested inside, and one that failed.
    events.push_back({{"event", "tool"},
                      {"id", "b1"},
                      {"function", "bash"},
                      {"arguments", {{"cmd", "ls"}}},
                      {"result", ""},
                      {"error", {{"type", "timeout"}, {"message", "Command timed out."}}},
                      {"timestamp", "2025-06-01T10:00:06+00:00"},
                      {"completed", "2025-06-01T10:00:16+00:00"},
                      {"events", json::array({{{"event", "sandbox"},
                                               {"action", "exec"},
                                               {"cmd", "ls"},
                                               {"timestamp", "2025-06-01T10:00:06.1+00:00"}}})}});
    events.push_back({{"event", "subtask"},
                      {"name", "summarise"},
                      {"timestamp", "2025-06-01T10:00:17+00:00"},
                      {"events", json::array({modelEvent("", "2025-06-01T10:00:18+00:00",
                                                         json::array({userMessage("Summarise.")}),
                                                         assistantMessage("Summary."))})}});
    events.push_back({{"event", "error"},
                      {"error", {{"message", "RuntimeError: boom"}, {"traceback", "..."}}},
                      {"timestamp", "2025-06-01T10:00:20+00:00"}});
    ojson sample = {{"id", "trip-1"},
                    {"epoch", 2},
                    {"input", "Plan the trip."},
                    {"target", ""},
                    {"events", events},
                    {"events_data", {{"messages", pool}, {"calls", json::array()}}},
                    {"attachments", {{"sys", "You are a travel planner."}}},
                    {"error", {{"message", "RuntimeError: boom\nmore"}, {"traceback", "..."}}},
                    {"started_at", "2025-06-01T10:00:00+00:00"},
                    {"completed_at", "2025-06-01T10:00:21+00:00"}};
    return sample;
}

} // namespace

class TestImportInspect : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string path(const std::string &name) const
    {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }

    std::string writeLog(const std::string &name, const ojson &log)
    {
        const std::string file = path(name);
        writeAll(file, log.dump(2));
        return file;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(std::ifstream(realData(kLog)).good(), realData(kLog).c_str());
    }

    // The counts the data README states (43 events: model, tool, sandbox) and what they become.
    void realJsonLog()
    {
        Imported in = importInto(m_dir, realData(kLog));
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        QCOMPARE(in.report->format, ImportFormat::Inspect);
        QVERIFY2(in.report->skipped.empty(), skippedText(*in.report).c_str());
        QCOMPARE(in.report->stats.runs, 1);
        QCOMPARE(in.report->stats.threads, 1);

        const std::vector<Step> steps = allSteps(*in.reader);
        // 43 events: 5 model, 4 tool (a call and a result each), 34 others kept as annotations.
        QCOMPARE(int64_t(steps.size()), 47);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 5);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 4);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 4);
        QCOMPARE(countKind(steps, StepKind::Annotation), 34);
        QCOMPARE(countKind(steps, StepKind::Error), 0);
        std::map<std::string, int> annotations;
        for (const Step &s : ofKind(steps, StepKind::Annotation))
            ++annotations[s.name];
        QCOMPARE(annotations["sandbox"], 10);
        QCOMPARE(annotations["span_begin"], 8);
        QCOMPARE(annotations["span_end"], 8);
        QCOMPARE(annotations["store"], 4);
        QCOMPARE(annotations["state"], 2);
        QCOMPARE(annotations["sample_init"], 1);
        QCOMPARE(annotations["score"], 1);
        // Kept as they are, with their attachments resolved.
        const Step init = ofKind(steps, StepKind::Annotation)[1];
        QCOMPARE(init.name, std::string("sample_init"));
        QVERIFY(init.payload["sample"]["input"].get<std::string>().rfind("Use the web browser tool",
                                                                         0) == 0);
        QCOMPARE(steps.front().startedUs, isoUs("2025-05-12T20:27:36.997226-04:00"));

        auto runs = in.reader->runs();
        QVERIFY(runs);
        const RunInfo &run = runs->front();
        QCOMPARE(run.name, std::string("browser sample 1/1"));
        QCOMPARE(run.agent, std::string("inspect"));
        QCOMPARE(run.outcome, std::string("includes: C"));
        QCOMPARE(run.labels["task"], json("browser"));
        QCOMPARE(run.labels["model"], json("openai/gpt-4o-mini"));
        QCOMPARE(run.labels["sample_id"], json(1));
        QCOMPARE(run.labels["epoch"], json(1));
        QCOMPARE(run.labels["score"], json("C"));
        QCOMPARE(run.labels["import_format"], json("inspect"));
        QCOMPARE(run.startedUs, isoUs("2025-05-12T20:27:36.997226-04:00"));
        QCOMPARE(run.endedUs, isoUs("2025-05-12T20:27:56.689632-04:00"));
    }

    void realJsonModelCalls()
    {
        Imported in = importInto(m_dir, realData(kLog));
        QVERIFY(in.report);
        const std::vector<Step> calls = ofKind(allSteps(*in.reader), StepKind::ModelCall);
        QCOMPARE(calls.size(), size_t(5));
        // Each call's request is the conversation so far, in Chat Completions form.
        const size_t sizes[] = {1, 3, 5, 7, 9};
        for (size_t i = 0; i < calls.size(); ++i) {
            const Step &call = calls[i];
            QCOMPARE(call.name, std::string("openai/gpt-4o-mini"));
            QCOMPARE(call.requestMessages.size(), sizes[i]);
            QCOMPARE(call.requestParams["model"], json("openai/gpt-4o-mini"));
            QCOMPARE(call.requestParams["tools"].size(), size_t(8));
            QCOMPARE(call.requestParams["tool_choice"], json("auto"));
            QCOMPARE(call.requestParams["parallel_tool_calls"], json(false));
            QCOMPARE(call.requestParams["tools"][0]["type"], json("function"));
            QVERIFY(
                call.requestParams["tools"][0]["function"]["description"].get<std::string>().rfind(
                    "Navigate the web browser to a URL.", 0) == 0);
        }
        const json &first = calls[0].requestMessages[0];
        QCOMPARE(first["role"], json("user"));
        QVERIFY(first["content"].get<std::string>().rfind("Use the web browser tool to navigate",
                                                          0) == 0);
        QVERIFY(!first.contains("source") &&
                !first.contains("id")); // Inspect's own members are not Chat's
        const std::vector<json> &last = calls[4].requestMessages;
        QCOMPARE(last[1]["tool_calls"][0]["function"]["name"], json("web_browser_go"));
        QCOMPARE(json::parse(last[1]["tool_calls"][0]["function"]["arguments"].get<std::string>()),
                 json({{"url", "https://www.aisi.gov.uk/"}}));
        QCOMPARE(last[2]["role"], json("tool"));
        QCOMPARE(last[2]["tool_call_id"], json("call_35FTpd6shR9efioDgeEBZ33s"));
        QVERIFY(last[2]["content"].get<std::string>().find("AI Security Institute") !=
                std::string::npos);

        QCOMPARE(calls[0].payload["finish_reason"], json("tool_calls"));
        QCOMPARE(calls[0].payload["tool_calls"][0]["id"], json("call_35FTpd6shR9efioDgeEBZ33s"));
        QCOMPARE(calls[4].payload["finish_reason"], json("stop"));
        QVERIFY(calls[4].payload["content"].get<std::string>().rfind(
                    "The AI Security Institute (AISI)", 0) == 0);

        // Times: the event's timestamp and completion.
        QCOMPARE(calls[0].startedUs, isoUs("2025-05-12T20:27:38.462180-04:00"));
        QCOMPARE(calls[0].endedUs, isoUs("2025-05-12T20:27:39.697159-04:00"));
        // Usage: OpenAI counts cached tokens inside input_tokens; the tape keeps them apart.
        QCOMPARE(calls[1].usage.inputTokens, 1568 - 1024);
        QCOMPARE(calls[1].usage.cacheReadTokens, 1024);
        QCOMPARE(calls[1].usage.outputTokens, 17);
        Usage total;
        for (const Step &call : calls) {
            total.inputTokens += call.usage.inputTokens;
            total.outputTokens += call.usage.outputTokens;
            total.cacheReadTokens += call.usage.cacheReadTokens;
        }
        // stats.model_usage of the log: 15235 input (9088 of them cached), 281 output.
        QCOMPARE(total.inputTokens + total.cacheReadTokens, 15235);
        QCOMPARE(total.cacheReadTokens, 9088);
        QCOMPARE(total.outputTokens, 281);
        QVERIFY(!calls[0].costUsd);
    }

    void realJsonToolCalls()
    {
        Imported in = importInto(m_dir, realData(kLog));
        QVERIFY(in.report);
        const std::vector<Step> steps = allSteps(*in.reader);
        std::map<int64_t, const Step *> byIndex;
        for (const Step &s : steps)
            byIndex[s.index.value] = &s;
        const std::vector<Step> calls = ofKind(steps, StepKind::ToolCall);
        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(calls.size(), size_t(4));
        const char *names[] = {"web_browser_go", "web_browser_click", "web_browser_click",
                               "web_browser_click"};
        for (size_t i = 0; i < calls.size(); ++i) {
            const Step &call = calls[i];
            QCOMPARE(call.name, std::string(names[i]));
            QVERIFY(call.parent);
            const Step &model = *byIndex.at(call.parent->value);
            QCOMPARE(model.kind, StepKind::ModelCall);
            QCOMPARE(model.payload["tool_calls"][0]["id"], json(call.callId));
            const Step &result = results[i];
            QCOMPARE(result.callId, call.callId);
            QVERIFY(result.parent);
            QCOMPARE(result.parent->value, call.index.value);
            QCOMPARE(result.name, call.name);
            QCOMPARE(result.status, StepStatus::Ok);
            QCOMPARE(result.payload["is_error"], json(false));
            QVERIFY(result.payload["output"].get<std::string>().find("AI Security Institute") !=
                    std::string::npos);
        }
        QCOMPARE(calls[0].payload, json({{"url", "https://www.aisi.gov.uk/"}}));
        QCOMPARE(calls[1].payload, json({{"element_id", 151}}));
        QCOMPARE(calls[0].startedUs, isoUs("2025-05-12T20:27:39.762878-04:00"));
        QCOMPARE(results[0].startedUs, isoUs("2025-05-12T20:27:39.762878-04:00"));
        QCOMPARE(results[0].endedUs, isoUs("2025-05-12T20:27:44.080452-04:00"));
    }

    // The same log in a .eval container imports to the same steps, from a file and from a stream.
    void evalContainer()
    {
        const std::string eval = path("browser.eval");
        QVERIFY(writeEval(eval, realLog()));
        Imported fromJson = importInto(m_dir, realData(kLog), std::nullopt, "fromjson");
        Imported fromEval = importInto(m_dir, eval, std::nullopt, "fromeval");
        QVERIFY2(fromEval.report, fromEval.report ? "" : fromEval.report.error().message.c_str());
        QCOMPARE(fromEval.report->format, ImportFormat::Inspect);
        QVERIFY2(fromEval.report->skipped.empty(), skippedText(*fromEval.report).c_str());
        const std::vector<Step> expected = allSteps(*fromJson.reader);
        const std::vector<Step> actual = allSteps(*fromEval.reader);
        QCOMPARE(actual.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            const std::string difference = stepDifference(expected[i], actual[i]);
            QVERIFY2(difference.empty(),
                     ("step " + std::to_string(i + 1) + ": " + difference).c_str());
        }
        auto runs = fromEval.reader->runs();
        QVERIFY(runs);
        QCOMPARE(runs->front().name, std::string("browser sample 1/1"));
        QCOMPARE(runs->front().outcome, std::string("includes: C"));
        QCOMPARE(runs->front().labels["log_status"], json("success"));

        // From a stream (no path to open): the archive is read from memory.
        const std::string bytes = readAll(eval);
        std::istringstream in(bytes);
        WriterOptions options;
        options.overwrite = true;
        const std::string tape = path("fromstream.tape");
        {
            auto writer = TapeWriter::create(tape, options);
            QVERIFY(writer);
            auto report =
                importStream(in, "<stdin>", int64_t(bytes.size()), std::nullopt, **writer);
            QVERIFY2(report, report ? "" : report.error().message.c_str());
            QCOMPARE(report->stats.steps, int64_t(expected.size()));
        }
        auto reader = TapeReader::open(tape);
        QVERIFY(reader);
        const std::vector<Step> streamed = allSteps(**reader);
        QCOMPARE(streamed.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            QVERIFY(stepDifference(expected[i], streamed[i]).empty());
    }

    // Samples sorted as Inspect sorts them (epoch, then id); a journal without a header (an
    // eval still running) still gives the task and model.
    void evalWithoutHeader()
    {
        ojson log = realLog();
        ojson second = log["samples"][0];
        second["id"] = 10;
        ojson third = log["samples"][0];
        third["id"] = 2;
        log["samples"] = ojson::array({second, third, log["samples"][0]});
        const std::string eval = path("journal.eval");
        ojson start = {{"version", 2}, {"eval", log["eval"]}, {"plan", log["plan"]}};
        std::vector<std::pair<std::string, std::string>> entries = {
            {"_journal/start.json", start.dump()}};
        for (const ojson &sample : log["samples"])
            entries.emplace_back("samples/" + sample["id"].dump() + "_epoch_1.json", sample.dump());
        QVERIFY(writeZip(eval, entries));
        Imported in = importInto(m_dir, eval);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        auto runs = in.reader->runs();
        QVERIFY(runs);
        QCOMPARE(runs->size(), size_t(3));
        QCOMPARE((*runs)[0].name, std::string("browser sample 1/1"));
        QCOMPARE((*runs)[1].name, std::string("browser sample 2/1"));
        QCOMPARE((*runs)[2].name, std::string("browser sample 10/1"));
        QCOMPARE(in.report->stats.steps, 3 * 47);
    }

    // Entries compressed with Zstandard are read too.
    void evalZstandardEntries()
    {
        ojson log = realLog();
        const std::string eval = path("zstd.eval");
        ojson header = log;
        header.erase("samples");
        writeAll(eval, zstandardZip({{"header.json", header.dump()},
                                     {"samples/1_epoch_1.json", log["samples"][0].dump()}}));
        Imported in = importInto(m_dir, eval);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        QVERIFY2(in.report->skipped.empty(), skippedText(*in.report).c_str());
        QCOMPARE(in.report->stats.steps, 47);
    }

    // A .eval cut short has lost its central directory: the complete entries before the cut
    // are still read.
    void evalCutShort()
    {
        ojson log = realLog();
        ojson second = log["samples"][0];
        second["id"] = 2;
        log["samples"].push_back(second);
        const std::string whole = path("whole.eval");
        QVERIFY(writeEval(whole, log));
        const std::string bytes = readAll(whole);
        // Cut inside the second sample's entry.
        const size_t secondAt = bytes.find("samples/2_epoch_1.json");
        QVERIFY(secondAt != std::string::npos);
        const std::string cut = path("cut.eval");
        writeAll(cut, bytes.substr(0, secondAt + 2000));
        Imported in = importInto(m_dir, cut);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        QCOMPARE(in.report->stats.runs, 1);
        QCOMPARE(in.report->stats.steps, 47);
        const std::string skipped = skippedText(*in.report);
        QVERIFY2(skipped.find("cut.eval: the archive is cut short") != std::string::npos,
                 skipped.c_str());
        // The task came from the journal, as the header is written last.
        QCOMPARE(in.reader->runs()->front().name, std::string("browser sample 1/1"));

        // Cut before any sample is complete: nothing usable.
        writeAll(cut, bytes.substr(0, bytes.find("samples/1_epoch_1.json") + 500));
        Imported none = importInto(m_dir, cut, std::nullopt, "none");
        QVERIFY(!none.report);
        QVERIFY2(none.report.error().message.find("cut.eval") != std::string::npos,
                 none.report.error().message.c_str());
    }

    // A damaged sample entry inside an intact archive: its events before the damage are
    // imported, and the other samples are not affected.
    void evalDamagedEntry()
    {
        ojson log = realLog();
        const std::string sample = log["samples"][0].dump(2);
        // In the second model event: the first is complete.
        const size_t cutAt =
            sample.find("\"event\": \"model\"", sample.find("\"event\": \"model\"") + 1);
        QVERIFY(cutAt != std::string::npos);
        const std::string eval = path("damaged.eval");
        ojson header = log;
        header.erase("samples");
        QVERIFY(writeZip(eval, {{"header.json", header.dump()},
                                {"samples/1_epoch_1.json", sample.substr(0, cutAt)},
                                {"samples/2_epoch_1.json", "not json"}}));
        Imported in = importInto(m_dir, eval);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        const std::string skipped = skippedText(*in.report);
        QVERIFY2(skipped.find("samples/1_epoch_1.json: sample 1/1: cut short") != std::string::npos,
                 skipped.c_str());
        QVERIFY2(skipped.find("samples/2_epoch_1.json: not valid JSON") != std::string::npos,
                 skipped.c_str());
        const std::vector<Step> steps = allSteps(*in.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 1);
        QVERIFY(countKind(steps, StepKind::Annotation) > 0);
    }

    void jsonCutShort()
    {
        const std::string text = readAll(realData(kLog));
        // In the middle of the events: what came before the cut is kept.
        const size_t inEvents = text.find("\"event\": \"model\"", text.find("\"event\": \"tool\""));
        QVERIFY(inEvents != std::string::npos);
        const std::string cut = path("cut.json");
        writeAll(cut, text.substr(0, inEvents + 200));
        Imported in = importInto(m_dir, cut);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        const std::vector<Step> steps = allSteps(*in.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 1);
        const std::string skipped = skippedText(*in.report);
        QVERIFY2(skipped.find("cut.json:") != std::string::npos &&
                     skipped.find("sample 1/1: cut short (not valid JSON") != std::string::npos,
                 skipped.c_str());

        // In the header: nothing usable, and the error names the file and line.
        writeAll(cut, text.substr(0, text.find("\"plan\"") + 30));
        Imported none = importInto(m_dir, cut, std::nullopt, "none");
        QVERIFY(!none.report);
        const std::string message = none.report.error().message;
        QVERIFY2(message.rfind(cut + ":", 0) == 0 &&
                     message.find("not valid JSON") != std::string::npos,
                 message.c_str());
        QVERIFY2(std::isdigit(static_cast<unsigned char>(message[cut.size() + 1])),
                 message.c_str());
    }

    // A garbage line in the middle of the document: the log breaks off there.
    void jsonGarbageLine()
    {
        std::string text = readAll(realData(kLog));
        const size_t at =
            text.find('\n', text.find("\"event\": \"tool\"", text.find("\"event\": \"tool\"") + 1));
        text.insert(at + 1, "this line is not JSON\n");
        const std::string file = path("garbage.json");
        writeAll(file, text);
        Imported in = importInto(m_dir, file);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        const int64_t line = 1 + std::count(text.begin(), text.begin() + at + 1, '\n');
        const std::string skipped = skippedText(*in.report);
        QVERIFY2(skipped.find("garbage.json:" + std::to_string(line) + ": sample 1/1: cut short") !=
                     std::string::npos,
                 skipped.c_str());
        const std::vector<Step> steps = allSteps(*in.reader);
        // The line went inside the second tool event: the first is whole, the second lost.
        QCOMPARE(countKind(steps, StepKind::ModelCall), 2);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 1);
    }

    // Members of the wrong type: the event is skipped and named, the rest imported.
    void jsonWrongTypes()
    {
        ojson log = realLog();
        ojson &events = log["samples"][0]["events"];
        events[3] = "not an event";                    // a span_begin
        events[4] = ojson::object({{"timestamp", 5}}); // a state event without its type
        ojson &model = events[7];
        QCOMPARE(model["event"], ojson("model"));
        model["input"] = 5;
        model["output"]["usage"] = "lots";
        model["timestamp"] = ojson::array();
        ojson &tool = events[9];
        QCOMPARE(tool["event"], ojson("tool"));
        tool["arguments"] = "url=https://www.aisi.gov.uk/";
        tool["result"] = 42;
        log["samples"][0]["scores"] = "C";
        const std::string file = writeLog("wrongtypes.json", log);
        Imported in = importInto(m_dir, file);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        const std::string skipped = skippedText(*in.report);
        QVERIFY2(skipped.find("sample 1/1: event 4: not an object") != std::string::npos,
                 skipped.c_str());
        QVERIFY2(skipped.find("sample 1/1: event 5: no \"event\" type") != std::string::npos,
                 skipped.c_str());
        QCOMPARE(in.report->skipped.size(), size_t(2));
        const std::vector<Step> steps = allSteps(*in.reader);
        QCOMPARE(int64_t(steps.size()), 45);
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls.size(), size_t(5));
        QVERIFY(calls[0].requestMessages.empty());
        QCOMPARE(calls[0].usage, Usage{});
        QCOMPARE(calls[0].startedUs, 0);
        const Step tool0 = ofKind(steps, StepKind::ToolCall)[0];
        QCOMPARE(tool0.payload, json("url=https://www.aisi.gov.uk/"));
        QCOMPARE(ofKind(steps, StepKind::ToolResult)[0].payload["output"], json(42));
        QCOMPARE(in.reader->runs()->front().outcome, std::string());
    }

    void nothingUsable_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no samples")
            << QByteArray(R"({"version": 2, "status": "success", "eval": {"task": "x"}})")
            << "nothing.json: the Inspect log has no samples";
        QTest::newRow("not an object")
            << QByteArray("[1, 2, 3]\n") << "nothing.json:1: expected an Inspect eval log";
        QTest::newRow("not JSON") << QByteArray("\n\nthis is not JSON\n")
                                  << "nothing.json:3: not valid JSON";
        QTest::newRow("empty object")
            << QByteArray("{}") << "nothing.json: expected an Inspect eval log";
        QTest::newRow("zip without samples")
            << QByteArray() << "nothing.json: the .eval archive has no samples";
        QTest::newRow("not a zip") << QByteArray("PK\3\4 and then nothing a zip has")
                                   << "nothing.json: not a readable .eval (zip) archive";
    }

    void nothingUsable()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        const std::string file = path("nothing.json");
        if (content.isEmpty())
            QVERIFY(
                writeZip(file, {{"header.json", R"({"version": 2})"}, {"readme.txt", "hello"}}));
        else
            writeAll(file, content.toStdString());
        Imported in = importInto(m_dir, file, ImportFormat::Inspect);
        QVERIFY(!in.report);
        const std::string message = in.report.error().message;
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
        QVERIFY2(message.rfind(file, 0) == 0, message.c_str());
    }

    void roundTrip()
    {
        Imported in = importInto(m_dir, realData(kLog));
        QVERIFY(in.report);
        std::ostringstream exported;
        QVERIFY(exportJsonl(*in.reader, exported));
        const std::string jsonl = path("roundtrip.jsonl");
        writeAll(jsonl, exported.str());
        Imported back = importInto(m_dir, jsonl, ImportFormat::Jsonl, "roundtrip");
        QVERIFY2(back.report, back.report ? "" : back.report.error().message.c_str());
        const std::vector<Step> expected = allSteps(*in.reader);
        const std::vector<Step> actual = allSteps(*back.reader);
        QCOMPARE(actual.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            const std::string difference = stepDifference(expected[i], actual[i]);
            QVERIFY2(difference.empty(),
                     ("step " + std::to_string(i + 1) + ": " + difference).c_str());
        }
        QCOMPARE(back.reader->runs()->front().name, std::string("browser sample 1/1"));
    }

    void detection_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("inspect");
        QTest::newRow("inspect json") << QString::fromStdString(kLog) << true;
        QTest::newRow("inspect eval") << "browser.eval" << true;
        for (const char *other : {"tau-bench/gpt-4o-airline.json",
                                  "mini-swe-agent/django__django-13265.deepseek-chat.traj.json",
                                  "swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj",
                                  "openhands/basic_gui_mode.trajectory.json",
                                  "claude-code/python-to-rust-port.transcript.jsonl",
                                  "claude-code/echo-hello.claude-2.1.197.jsonl",
                                  "codex/echo-hello.rollout.codex-0.171.0.jsonl"})
            QTest::newRow(other) << QString(other) << false;
        QTest::newRow("other zip") << "other.zip" << false;
        QTest::newRow("eval inside a message") << "message.json" << false;
        QTest::newRow("eval not an object") << "evalstring.json" << false;
    }

    void detection()
    {
        QFETCH(QString, file);
        QFETCH(bool, inspect);
        std::string input = file.toStdString();
        if (input == "browser.eval") {
            input = path(input);
            QVERIFY(writeEval(input, realLog()));
        } else if (input == "other.zip") {
            input = path(input);
            QVERIFY(writeZip(input, {{"readme.txt", "a zip that is not an eval log"},
                                     {"data/header.txt", "x"}}));
        } else if (input == "message.json") {
            input = path(input);
            writeAll(input,
                     R"({"messages": [{"role": "user", "eval": {"samples": 1}}], "version": 1})");
        } else if (input == "evalstring.json") {
            input = path(input);
            writeAll(input, R"({"version": 2, "eval": "browser", "samples": []})");
        } else {
            input = realData(input);
        }
        std::string head = readAll(input);
        head.resize(std::min(head.size(), kDetectBytes));
        auto format = detectImportFormat(head, input);
        const bool detected = format && *format == ImportFormat::Inspect;
        QVERIFY2(
            detected == inspect,
            (input + ": " + (format ? importFormatName(*format) : format.error().message)).c_str());
    }

    // A sample without events falls back to its message list.
    void messagesWithoutEvents()
    {
        ojson log = realLog();
        log["samples"][0].erase("events");
        const std::string file = writeLog("noevents.json", log);
        Imported in = importInto(m_dir, file);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        const std::vector<Step> steps = allSteps(*in.reader);
        QCOMPARE(countKind(steps, StepKind::ModelCall), 5);
        QCOMPARE(countKind(steps, StepKind::ToolCall), 4);
        QCOMPARE(countKind(steps, StepKind::ToolResult), 4);
        for (const Step &result : ofKind(steps, StepKind::ToolResult))
            QVERIFY(result.parent);
        const Step last = ofKind(steps, StepKind::ModelCall).back();
        QCOMPARE(last.requestMessages.size(), size_t(9));
        QCOMPARE(last.name, std::string("openai/gpt-4o-mini"));
        QCOMPARE(in.reader->runs()->front().outcome, std::string("includes: C"));
    }

    // Agents inside agents and subtasks become threads; events that older logs nest inside
    // tool and subtask events too. Model inputs pooled in events_data are expanded, error
    // and compaction events have kinds of their own, and the sample's error ends the run.
    void threadsPoolsAndErrors()
    {
        const std::string file = writeLog("threads.json", syntheticLog(tripSample()));
        Imported in = importInto(m_dir, file);
        QVERIFY2(in.report, in.report ? "" : in.report.error().message.c_str());
        QVERIFY2(in.report->skipped.empty(), skippedText(*in.report).c_str());

        auto threads = in.reader->threads();
        QVERIFY(threads);
        std::map<std::string, ThreadInfo> byLabel;
        for (const ThreadInfo &t : *threads)
            byLabel[t.label] = t;
        QCOMPARE(threads->size(), size_t(4));
        QVERIFY(byLabel.count("main") && byLabel.count("agent: researcher") &&
                byLabel.count("tool: bash") && byLabel.count("subtask: summarise"));
        QCOMPARE(byLabel["agent: researcher"].parent->value, byLabel["main"].id.value);
        QCOMPARE(byLabel["agent: researcher"].startedUs, isoUs("2025-06-01T10:00:03.500000-00:00"));

        const std::vector<Step> steps = allSteps(*in.reader);
        const std::vector<Step> calls = ofKind(steps, StepKind::ModelCall);
        QCOMPARE(calls.size(), size_t(3));
        const Step &plannerCall = calls[0];
        QCOMPARE(plannerCall.thread.value, byLabel["main"].id.value);
        QCOMPARE(plannerCall.requestMessages.size(), size_t(2));
        QCOMPARE(plannerCall.requestMessages[0],
                 json({{"role", "system"}, {"content", "You are a travel planner."}}));
        QCOMPARE(plannerCall.payload["reasoning_content"], json("Delegate."));
        QCOMPARE(plannerCall.payload["content"], json("Handing off."));
        // Anthropic counts the cache apart from input_tokens (total = all four).
        QCOMPARE(plannerCall.usage, (Usage{100, 10, 50, 20}));
        QCOMPARE(plannerCall.costUsd.value_or(0), 0.25);
        QCOMPARE(plannerCall.endedUs, isoUs("2025-06-01T10:00:02.000000-00:00"));
        const Step &researcherCall = calls[1];
        QCOMPARE(researcherCall.thread.value, byLabel["agent: researcher"].id.value);
        QCOMPARE(researcherCall.requestMessages, std::vector<json>({userMessage("Find flights.")}));
        QCOMPARE(calls[2].thread.value, byLabel["subtask: summarise"].id.value);

        const std::vector<Step> results = ofKind(steps, StepKind::ToolResult);
        QCOMPARE(results.size(), size_t(2));
        QCOMPARE(results[0].payload["output"], json("Flights found."));
        QCOMPARE(results[0].endedUs - results[0].startedUs, 1500000);
        QCOMPARE(results[1].status, StepStatus::Error);
        QCOMPARE(results[1].payload["output"], json("Command timed out."));
        const std::vector<Step> toolCalls = ofKind(steps, StepKind::ToolCall);
        QCOMPARE(toolCalls[0].parent->value, plannerCall.index.value);
        const std::vector<Step> annotations = ofKind(steps, StepKind::Annotation);
        const auto sandboxAt = std::find_if(annotations.begin(), annotations.end(),
                                            [](const Step &s) { return s.name == "sandbox"; });
        QVERIFY(sandboxAt != annotations.end());
        const Step &sandbox = *sandboxAt;
        QCOMPARE(sandbox.thread.value, byLabel["tool: bash"].id.value);
        // The sandbox event ran while the tool did: between its call and its result.
        QVERIFY(sandbox.index.value > toolCalls[1].index.value &&
                sandbox.index.value < results[1].index.value);

        QCOMPARE(countKind(steps, StepKind::Compaction), 1);
        const std::vector<Step> errors = ofKind(steps, StepKind::Error);
        QCOMPARE(errors.size(), size_t(1)); // the error event; the sample's error says the same
        QCOMPARE(errors[0].status, StepStatus::Error);
        const RunInfo run = in.reader->runs()->front();
        QCOMPARE(run.name, std::string("synthetic sample trip-1/2"));
        QCOMPARE(run.outcome, std::string("error: RuntimeError: boom"));
        QCOMPARE(run.startedUs, isoUs("2025-06-01T10:00:00.000000-00:00"));
        QCOMPARE(run.endedUs, isoUs("2025-06-01T10:00:21.000000-00:00"));
    }

    // Random damage to a .json log and to a .eval container: every copy either imports or
    // fails with an error naming the file; nothing throws or crashes.
    void mutatedCopies()
    {
        const std::string text = syntheticLog(tripSample()).dump(1);
        const std::string eval = path("mutate-source.eval");
        QVERIFY(writeEval(eval, syntheticLog(tripSample())));
        const std::string container = readAll(eval);
        const char replacements[] = "{}[]\",:0-a\n\\";
        Rng rng(8);
        int imported = 0;
        for (int round = 0; round < 200; ++round) {
            const bool zip = round % 3 == 2;
            std::string copy = zip ? container : text;
            for (int k = 0; k < 1 + round % 4; ++k) {
                const size_t at = size_t(rng.between(0, int64_t(copy.size()) - 1));
                copy[at] = zip ? char(rng.between(0, 255)) : replacements[rng.between(0, 12)];
            }
            if (round % 5 == 4)
                copy.resize(size_t(rng.between(0, int64_t(copy.size()))));
            const std::string file = path(zip ? "mutated.eval" : "mutated.json");
            writeAll(file, copy);
            Imported in = importInto(m_dir, file, ImportFormat::Inspect, "mutated");
            if (in.report) {
                ++imported;
                QVERIFY(in.reader);
            } else {
                QVERIFY2(in.report.error().message.rfind(file, 0) == 0,
                         in.report.error().message.c_str());
            }
        }
        QVERIFY(imported > 0);
    }

    // Import speed on a log of many samples (printed, not asserted: the machine is shared).
    void throughput()
    {
        ojson log = realLog();
        const ojson sample = log["samples"][0];
        log["samples"] = ojson::array();
        for (int i = 0; i < 40; ++i) {
            ojson copy = sample;
            copy["id"] = i + 1;
            log["samples"].push_back(std::move(copy));
        }
        const std::string file = writeLog("big.json", log);
        const std::string eval = path("big.eval");
        QVERIFY(writeEval(eval, log));
        for (const std::string &input : {file, eval}) {
            QElapsedTimer timer;
            timer.start();
            Imported in = importInto(m_dir, input, std::nullopt, "big");
            const double seconds = double(timer.nsecsElapsed()) / 1e9;
            QVERIFY(in.report);
            QCOMPARE(in.report->stats.runs, 40);
            const double megabytes = double(readAll(input).size()) / 1e6;
            qInfo("%s: %.1f MB (%.1f MB as JSON) in %.2f s: %.1f MB/s of JSON", input.c_str(),
                  megabytes, double(readAll(file).size()) / 1e6, seconds,
                  double(readAll(file).size()) / 1e6 / seconds);
        }
    }
};

QTEST_GUILESS_MAIN(TestImportInspect)
#include "tst_import_inspect.moc"
