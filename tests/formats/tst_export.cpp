// The exporters: OpenTelemetry (OTLP/JSON with the GenAI semantic conventions) and Chrome
// trace events, on the sample tape, on hand-built tapes with the awkward cases (unknown
// times, results without calls, parallel tools, failed model calls), and on the real
// trajectories once imported.
//
// The OTLP output is checked twice: structurally here in C++ (ids, times, parent links,
// attribute value types) and against tests/formats/otlp-trace.schema.json, the JSON schema
// of ExportTraceServiceRequest, with python3's jsonschema when it is installed.
#include "importtestutil.h"
#include "testutil.h"

#include <tapedeck/formats/exporters.h>
#include <tapedeck/formats/importers.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

// ---------------------------------------------------------------------------------------
// Reading OTLP back

std::vector<json> spansOf(const json &doc)
{
    std::vector<json> spans;
    for (const json &rs : doc.at("resourceSpans"))
        for (const json &ss : rs.at("scopeSpans"))
            for (const json &span : ss.at("spans"))
                spans.push_back(span);
    return spans;
}

const json *attribute(const json &holder, const std::string &key)
{
    if (!holder.contains("attributes"))
        return nullptr;
    for (const json &kv : holder["attributes"]) {
        if (kv.value("key", "") == key)
            return &kv["value"];
    }
    return nullptr;
}

std::string textAttr(const json &holder, const std::string &key)
{
    const json *v = attribute(holder, key);
    return v && v->contains("stringValue") ? (*v)["stringValue"].get<std::string>() : std::string();
}

int64_t intAttr(const json &holder, const std::string &key)
{
    const json *v = attribute(holder, key);
    return v && v->contains("intValue") ? std::stoll((*v)["intValue"].get<std::string>()) : -1;
}

double doubleAttr(const json &holder, const std::string &key)
{
    const json *v = attribute(holder, key);
    return v && v->contains("doubleValue") ? (*v)["doubleValue"].get<double>() : -1;
}

bool flagAttr(const json &holder, const std::string &key)
{
    const json *v = attribute(holder, key);
    return v && v->contains("boolValue") && (*v)["boolValue"].get<bool>();
}

int64_t nanos(const json &span, const char *field)
{
    return std::stoll(span.at(field).get<std::string>());
}

// The span of a step (a tool call's span is the call's), or nullptr.
const json *spanOfStep(const std::vector<json> &spans, StepIndex index)
{
    for (const json &s : spans) {
        if (intAttr(s, "tapedeck.step.index") == index.value)
            return &s;
    }
    return nullptr;
}

// The root span of a run's trace.
const json *rootOf(const std::vector<json> &spans, RunId run)
{
    for (const json &s : spans) {
        if (!s.contains("parentSpanId") && intAttr(s, "tapedeck.run.id") == run.value)
            return &s;
    }
    return nullptr;
}

const json *spanNamed(const std::vector<json> &spans, const std::string &name)
{
    for (const json &s : spans) {
        if (s.value("name", "") == name)
            return &s;
    }
    return nullptr;
}

int countNamed(const std::vector<json> &spans, const std::string &prefix)
{
    int n = 0;
    for (const json &s : spans)
        n += s.value("name", "").rfind(prefix, 0) == 0;
    return n;
}

// What the OTLP/JSON mapping requires of every span, event and attribute, and (unless the
// document is one batch of several) that every parent is in the trace; empty when all holds.
std::string otlpProblem(const json &doc, bool wholeTraces = true)
{
    static const std::regex hex32("^[0-9a-f]{32}$"), hex16("^[0-9a-f]{16}$"), digits("^[0-9]+$"),
        integer("^-?[0-9]+$");
    if (!doc.is_object() || !doc.contains("resourceSpans") || !doc["resourceSpans"].is_array())
        return "no resourceSpans array";
    auto valueProblem = [&](const json &kv) -> std::string {
        if (!kv.contains("key") || !kv["key"].is_string() || !kv.contains("value"))
            return "attribute without key or value: " + kv.dump();
        const json &v = kv["value"];
        if (!v.is_object() || v.size() != 1)
            return "attribute " + kv["key"].get<std::string>() + " does not hold exactly one value";
        const auto &[type, value] = *v.items().begin();
        const bool ok = (type == "stringValue" && value.is_string()) ||
                        (type == "boolValue" && value.is_boolean()) ||
                        (type == "doubleValue" && value.is_number()) ||
                        (type == "intValue" && value.is_string() &&
                         std::regex_match(value.get<std::string>(), integer)) ||
                        (type == "arrayValue" && value.contains("values"));
        return ok ? std::string() : "attribute " + kv["key"].get<std::string>() + ": bad " + type;
    };
    std::map<std::string, std::set<std::string>> spanIds;     // trace -> span ids
    std::vector<std::pair<std::string, std::string>> parents; // (trace, parent span id)
    for (const json &rs : doc["resourceSpans"]) {
        if (rs.value("schemaUrl", "") != kOtelSchemaUrl)
            return "resourceSpans without the schema URL";
        for (const json &kv : rs["resource"]["attributes"])
            if (std::string p = valueProblem(kv); !p.empty())
                return p;
        for (const json &ss : rs.at("scopeSpans")) {
            if (ss.value("schemaUrl", "") != kOtelSchemaUrl ||
                ss["scope"].value("name", "") != "tapedeck")
                return "scopeSpans without the schema URL or scope";
            for (const json &span : ss.at("spans")) {
                const std::string traceId = span.value("traceId", ""),
                                  spanId = span.value("spanId", "");
                if (!std::regex_match(traceId, hex32) || traceId == std::string(32, '0'))
                    return "bad traceId " + traceId;
                if (!std::regex_match(spanId, hex16))
                    return "bad spanId " + spanId;
                if (!spanIds[traceId].insert(spanId).second)
                    return "span id used twice: " + spanId;
                if (span.contains("parentSpanId")) {
                    if (!std::regex_match(span["parentSpanId"].get<std::string>(), hex16))
                        return "bad parentSpanId";
                    parents.emplace_back(traceId, span["parentSpanId"]);
                }
                for (const char *field : {"startTimeUnixNano", "endTimeUnixNano"}) {
                    if (!span.contains(field) || !span[field].is_string() ||
                        !std::regex_match(span[field].get<std::string>(), digits))
                        return std::string("bad ") + field + " in " + span.dump().substr(0, 300);
                }
                if (nanos(span, "startTimeUnixNano") > nanos(span, "endTimeUnixNano"))
                    return "span ends before it starts: " + span.value("name", "");
                const int kind = span.value("kind", -1);
                if (kind != 1 && kind != 3)
                    return "unexpected kind " + std::to_string(kind);
                if (span.value("name", "").empty())
                    return "span without a name";
                for (const json &kv : span.value("attributes", json::array()))
                    if (std::string p = valueProblem(kv); !p.empty())
                        return p;
                for (const json &event : span.value("events", json::array())) {
                    if (!std::regex_match(event.value("timeUnixNano", "x"), digits) ||
                        event.value("name", "").empty())
                        return "bad event " + event.dump();
                    for (const json &kv : event.value("attributes", json::array()))
                        if (std::string p = valueProblem(kv); !p.empty())
                            return p;
                }
                if (span.contains("status") && span["status"].value("code", -1) != 2)
                    return "status other than ERROR written";
            }
        }
    }
    for (const auto &[trace, parent] : parents) {
        if (wholeTraces && !spanIds[trace].count(parent))
            return "parent " + parent + " is not in trace " + trace;
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// Reading trace events back

// Every "X" event has what Perfetto needs, X events of one track nest properly, every
// track is named; empty when all holds.
std::string traceEventsProblem(const json &doc)
{
    if (!doc.is_object() || !doc.contains("traceEvents") ||
        doc.value("displayTimeUnit", "") != "ms")
        return "not {traceEvents, displayTimeUnit: ms}";
    std::set<std::pair<int64_t, int64_t>> named;
    std::set<int64_t> processes;
    std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<int64_t, int64_t>>> tracks;
    for (const json &e : doc["traceEvents"]) {
        const std::string ph = e.value("ph", "");
        if (!e.contains("pid") || !e["pid"].is_number_integer() || !e.contains("tid") ||
            !e["tid"].is_number_integer())
            return "event without pid/tid: " + e.dump();
        const auto track = std::pair(e["pid"].get<int64_t>(), e["tid"].get<int64_t>());
        if (ph == "M") {
            if (e.value("name", "") == "thread_name")
                named.insert(track);
            if (e.value("name", "") == "process_name")
                processes.insert(track.first);
            continue;
        }
        if (e.value("name", "").empty() || !e.contains("ts") || !e["ts"].is_number())
            return "event without name or ts: " + e.dump();
        if (ph == "X") {
            if (!e.contains("dur") || !e["dur"].is_number() || e["dur"].get<int64_t>() < 0)
                return "X event without dur: " + e.dump();
            tracks[track].emplace_back(e["ts"].get<int64_t>(),
                                       e["ts"].get<int64_t>() + e["dur"].get<int64_t>());
        } else if (ph == "i") {
            if (e.value("s", "") != "t")
                return "instant without thread scope";
        } else {
            return "unexpected phase " + ph;
        }
    }
    for (auto &[track, slices] : tracks) {
        if (!named.count(track) || !processes.count(track.first))
            return "track " + std::to_string(track.first) + "/" + std::to_string(track.second) +
                   " has no name";
        std::sort(slices.begin(), slices.end(), [](auto a, auto b) {
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        });
        std::vector<int64_t> open; // ends of the enclosing slices
        for (const auto &[start, end] : slices) {
            while (!open.empty() && open.back() <= start)
                open.pop_back();
            if (!open.empty() && end > open.back())
                return "slices overlap without nesting on track " + std::to_string(track.second);
            open.push_back(end);
        }
    }
    return {};
}

int countEvents(const json &doc, const std::string &ph, const std::string &cat)
{
    int n = 0;
    for (const json &e : doc["traceEvents"])
        n += e.value("ph", "") == ph && e.value("cat", "") == cat;
    return n;
}

// ---------------------------------------------------------------------------------------
// Exporting

Result<std::string> otlpOf(const std::string &path, const OtlpOptions &options = {})
{
    auto reader = TapeReader::open(path);
    if (!reader)
        return reader.error();
    std::ostringstream out;
    auto stats = exportOtlp(**reader, out, options);
    if (!stats)
        return stats.error();
    return out.str();
}

Result<std::string> chromeOf(const std::string &path, const ChromeTraceOptions &options = {})
{
    auto reader = TapeReader::open(path);
    if (!reader)
        return reader.error();
    std::ostringstream out;
    auto stats = exportChromeTrace(**reader, out, options);
    if (!stats)
        return stats.error();
    return out.str();
}

// The schema check, by python3's jsonschema; empty when the document is valid, nullopt when
// no validator is installed.
std::optional<std::string> schemaProblem(const std::string &docPath)
{
    static const char *kScript =
        "import json, sys, jsonschema\n"
        "schema = json.load(open(sys.argv[1]))\n"
        "jsonschema.Draft202012Validator.check_schema(schema)\n"
        "errors = "
        "list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\n"
        "for e in errors[:5]: print(e.json_path, e.message[:300])\n"
        "sys.exit(1 if errors else 0)\n";
    QProcess probe;
    probe.start(QStringLiteral("python3"),
                {QStringLiteral("-c"), QStringLiteral("import jsonschema")});
    if (!probe.waitForFinished(30000) || probe.exitStatus() != QProcess::NormalExit ||
        probe.exitCode() != 0)
        return std::nullopt;
    const QString schema = QFINDTESTDATA("otlp-trace.schema.json");
    if (schema.isEmpty())
        return "otlp-trace.schema.json not found beside the test's source";
    QProcess check;
    check.start(QStringLiteral("python3"),
                {QStringLiteral("-c"), QString::fromLatin1(kScript), schema, q(docPath)});
    if (!check.waitForFinished(120000))
        return "the schema check did not finish";
    if (check.exitStatus() == QProcess::NormalExit && check.exitCode() == 0)
        return std::string();
    return (check.readAllStandardOutput() + check.readAllStandardError()).toStdString();
}

const Step &writtenStep(const SampleTape &sample, StepIndex index)
{
    for (const Step &s : sample.written) {
        if (s.index == index)
            return s;
    }
    static const Step none;
    return none;
}

const Step &writtenByCallId(const SampleTape &sample, StepKind kind, const std::string &callId)
{
    for (const Step &s : sample.written) {
        if (s.kind == kind && s.callId == callId)
            return s;
    }
    static const Step none;
    return none;
}

// A step for a hand-built tape.
Step makeStep(ThreadId thread, StepKind kind, const std::string &name, int64_t startUs,
              int64_t endUs)
{
    Step s;
    s.thread = thread;
    s.kind = kind;
    s.name = name;
    s.startedUs = startUs;
    s.endedUs = endUs;
    return s;
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    std::string m_samplePath;
    SampleTape m_sample;
    RunId m_secondRun;
    json m_otlp;        // the sample tape, without content
    json m_otlpContent; // the sample tape, with content
    std::string m_otlpText;

    std::string freshPath(const char *suffix = ".tape")
    {
        return m_dir.filePath(QStringLiteral("e%1%2").arg(++m_files).arg(QLatin1String(suffix)))
            .toStdString();
    }

    // The sample tape, and a second, small run appended to it.
    void writeSample()
    {
        m_samplePath = freshPath();
        auto sample = writeSampleTape(m_samplePath);
        QVERIFY2(sample, sample ? "" : sample.error().message.c_str());
        m_sample = std::move(*sample);
        auto writer = TapeWriter::openForAppend(m_samplePath);
        QVERIFY(writer);
        auto scaffold = beginScaffold(**writer, "second run");
        QVERIFY(scaffold);
        m_secondRun = scaffold->run;
        Step call = makeStep(scaffold->thread, StepKind::ModelCall, "gpt-4o", kT0 + 900'000'000,
                             kT0 + 901'000'000);
        call.requestMessages = {{{"role", "user"}, {"content", "hello"}}};
        call.requestParams = {{"model", "gpt-4o"}};
        call.payload = {{"role", "assistant"}, {"content", "hi"}};
        call.usage = Usage{10, 2, 0, 0};
        QVERIFY((*writer)->append(call));
    }

    static json parsed(const Result<std::string> &text)
    {
        if (!text)
            return json();
        return json::parse(*text, nullptr, false);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        writeSample();
        auto text = otlpOf(m_samplePath);
        QVERIFY2(text, text ? "" : text.error().message.c_str());
        m_otlpText = *text;
        m_otlp = json::parse(*text, nullptr, false);
        QVERIFY(!m_otlp.is_discarded());
        OtlpOptions content;
        content.includeContent = true;
        m_otlpContent = parsed(otlpOf(m_samplePath, content));
        QVERIFY(m_otlpContent.is_object());
    }

    // ---- OpenTelemetry ----------------------------------------------------------------

    void otlpIsWellFormed()
    {
        QCOMPARE(q(otlpProblem(m_otlp)), QString());
        QCOMPARE(q(otlpProblem(m_otlpContent)), QString());
    }

    // The JSON schema of ExportTraceServiceRequest, for the plain and the content export
    // and for a tape full of awkward cases.
    void otlpMatchesSchema()
    {
        const std::string plain = freshPath(".json"), content = freshPath(".json");
        QVERIFY(writeFile(plain, m_otlpText));
        QVERIFY(writeFile(content, m_otlpContent.dump()));
        auto problem = schemaProblem(plain);
        if (!problem)
            QSKIP("python3 with jsonschema is not installed: the schema check did not run");
        QCOMPARE(q(*problem), QString());
        QCOMPARE(q(*schemaProblem(content)), QString());
    }

    // A validator that accepts everything would pass the test above: the schema refuses
    // what the OTLP/JSON mapping refuses.
    void otlpSchemaRefusesMistakes_data()
    {
        QTest::addColumn<QString>("edit");
        QTest::newRow("trace id in base64") << "traceId";
        QTest::newRow("integer attribute as a number") << "intValue";
        QTest::newRow("misspelt field") << "parentSpanID";
        QTest::newRow("kind as a name") << "kind";
    }
    void otlpSchemaRefusesMistakes()
    {
        QFETCH(QString, edit);
        json doc = m_otlp;
        json &span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        if (edit == "traceId")
            span["traceId"] = "AAECAwQFBgcICQoLDA0ODw==";
        else if (edit == "intValue")
            span["attributes"].push_back({{"key", "n"}, {"value", {{"intValue", "x1"}}}});
        else if (edit == "parentSpanID")
            span["parentSpanID"] = span.value("parentSpanId", "0102030405060708");
        else
            span["kind"] = "SPAN_KIND_CLIENT";
        const std::string path = freshPath(".json");
        QVERIFY(writeFile(path, doc.dump()));
        auto problem = schemaProblem(path);
        if (!problem)
            QSKIP("python3 with jsonschema is not installed");
        QVERIFY2(!problem->empty(), "the schema accepted a malformed document");
    }

    // One trace per run, each with one root `invoke_agent` span and the schema URL named.
    void otlpTracePerRun()
    {
        QCOMPARE(m_otlp["resourceSpans"].size(), size_t(2));
        std::map<std::string, int> roots;
        std::set<std::string> traces;
        for (const json &span : spansOf(m_otlp)) {
            traces.insert(span["traceId"]);
            if (!span.contains("parentSpanId"))
                ++roots[span["traceId"]];
        }
        QCOMPARE(traces.size(), size_t(2));
        QCOMPARE(roots.size(), size_t(2));
        for (const auto &[trace, n] : roots)
            QCOMPARE(n, 1);
        const std::vector<json> spans = spansOf(m_otlp);
        const json *root = rootOf(spans, m_sample.run);
        QVERIFY(root);
        QCOMPARE((*root)["name"], json("invoke_agent claude-code"));
        QCOMPARE((*root)["kind"], json(1));
        QCOMPARE(textAttr(*root, "gen_ai.operation.name"), std::string("invoke_agent"));
        QCOMPARE(textAttr(*root, "gen_ai.agent.name"), std::string("claude-code"));
        QCOMPARE(textAttr(*root, "gen_ai.provider.name"), std::string("anthropic"));
        QCOMPARE(intAttr(*root, "tapedeck.run.id"), m_sample.run.value);
        QCOMPARE(textAttr(*root, "tapedeck.run.outcome"), std::string("exit 1"));
        QCOMPARE(textAttr(*root, "tapedeck.run.label.task"), std::string("tests"));
        QCOMPARE(m_otlp["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
                 json("claude-code"));
        QCOMPARE(m_otlp["resourceSpans"][0]["scopeSpans"][0]["schemaUrl"], json(kOtelSchemaUrl));
        const json *second = rootOf(spans, m_secondRun);
        QVERIFY(second);
        QVERIFY((*second)["traceId"] != (*root)["traceId"]);
    }

    // Every step that has a span has the one its kind says, under the agent span it should.
    void otlpSpansOfTheSample()
    {
        const std::vector<json> spans = spansOf(m_otlp);
        // 5 model calls, 4 tool spans (one a result whose call is on the recorded branch),
        // an MCP call, an HTTP exchange, and the run's, the sub-agent's and the fork's agent
        // spans; the second run adds its root and its model call.
        QCOMPARE(int(spans.size()), 14 + 2);
        QCOMPARE(countNamed(spans, "chat "), 6);
        QCOMPARE(countNamed(spans, "execute_tool "), 5);
        QCOMPARE(countNamed(spans, "invoke_agent "), 4);
        QCOMPARE(countNamed(spans, "GET"), 1);
    }

    void otlpModelCallAttributes()
    {
        const std::vector<json> spans = spansOf(m_otlp);
        const json *root = rootOf(spans, m_sample.run);
        const json *first = spanOfStep(spans, m_sample.firstModelCall);
        QVERIFY(first && root);
        const Step &step = writtenStep(m_sample, m_sample.firstModelCall);
        QCOMPARE((*first)["name"], json("chat claude-sonnet-4"));
        QCOMPARE((*first)["kind"], json(3));
        QCOMPARE((*first)["parentSpanId"], (*root)["spanId"]);
        QCOMPARE(textAttr(*first, "gen_ai.operation.name"), std::string("chat"));
        QCOMPARE(textAttr(*first, "gen_ai.provider.name"), std::string("anthropic"));
        QCOMPARE(textAttr(*first, "gen_ai.request.model"), std::string("claude-sonnet-4"));
        QCOMPARE(textAttr(*first, "tapedeck.api"), std::string("anthropic-messages"));
        // The conventions count cached tokens in input_tokens.
        QCOMPARE(intAttr(*first, "gen_ai.usage.input_tokens"), int64_t(1200 + 1200));
        QCOMPARE(intAttr(*first, "gen_ai.usage.output_tokens"), int64_t(80));
        QCOMPARE(intAttr(*first, "gen_ai.usage.cache_creation.input_tokens"), int64_t(1200));
        QVERIFY(!attribute(*first, "gen_ai.usage.cache_read.input_tokens"));
        QCOMPARE(intAttr(*first, "gen_ai.request.max_tokens"), int64_t(4096));
        QCOMPARE(doubleAttr(*first, "gen_ai.request.temperature"), 0.2);
        QCOMPARE(doubleAttr(*first, "gen_ai.response.time_to_first_chunk"), 0.4);
        QCOMPARE(doubleAttr(*first, "tapedeck.cost_usd"), 0.0123);
        QCOMPARE(nanos(*first, "startTimeUnixNano"), step.startedUs * 1000);
        QCOMPARE(nanos(*first, "endTimeUnixNano"), step.endedUs * 1000);
        QVERIFY(!flagAttr(*first, "gen_ai.request.stream"));

        const json *streamed = spanOfStep(spans, m_sample.streamedModelCall);
        QVERIFY(streamed);
        QVERIFY(flagAttr(*streamed, "gen_ai.request.stream"));
        QCOMPARE(intAttr(*streamed, "gen_ai.usage.input_tokens"), int64_t(2400 + 1200));
        QCOMPARE(intAttr(*streamed, "gen_ai.usage.cache_read.input_tokens"), int64_t(1200));
    }

    void otlpToolSpans()
    {
        const std::vector<json> spans = spansOf(m_otlp);
        const json *root = rootOf(spans, m_sample.run);
        const Step &readCall = writtenByCallId(m_sample, StepKind::ToolCall, "toolu_01");
        const Step &readResult = writtenByCallId(m_sample, StepKind::ToolResult, "toolu_01");
        const json *read = spanOfStep(spans, readCall.index);
        QVERIFY(read && root);
        QCOMPARE((*read)["name"], json("execute_tool read_file"));
        QCOMPARE((*read)["kind"], json(1));
        QCOMPARE((*read)["parentSpanId"], (*root)["spanId"]);
        QCOMPARE(textAttr(*read, "gen_ai.operation.name"), std::string("execute_tool"));
        QCOMPARE(textAttr(*read, "gen_ai.tool.name"), std::string("read_file"));
        QCOMPARE(textAttr(*read, "gen_ai.tool.call.id"), std::string("toolu_01"));
        QCOMPARE(intAttr(*read, "tapedeck.result_step.index"), readResult.index.value);
        // From the call to its result.
        QCOMPARE(nanos(*read, "startTimeUnixNano"), readCall.startedUs * 1000);
        QCOMPARE(nanos(*read, "endTimeUnixNano"), readResult.endedUs * 1000);
        QVERIFY(!read->contains("status"));

        const Step &bashCall = writtenByCallId(m_sample, StepKind::ToolCall, "toolu_03");
        const json *bash = spanOfStep(spans, bashCall.index);
        QVERIFY(bash);
        QCOMPARE((*bash)["status"]["code"], json(2));
        QCOMPARE(textAttr(*bash, "error.type"), std::string("tool_error"));

        const json *mcp = spanNamed(spans, "execute_tool github.search_code");
        QVERIFY(mcp);
        QCOMPARE(textAttr(*mcp, "gen_ai.tool.type"), std::string("extension"));
        QCOMPARE(textAttr(*mcp, "mcp.method.name"), std::string("tools/call"));

        const json *http = spanOfStep(spans, m_sample.httpExchange);
        QVERIFY(http);
        QCOMPARE((*http)["name"], json("GET"));
        QCOMPARE(intAttr(*http, "http.response.status_code"), int64_t(404));
        QCOMPARE(textAttr(*http, "error.type"), std::string("404"));
        QCOMPARE((*http)["status"]["code"], json(2));
    }

    // The sub-agent's span hangs under the tool call that spawned it, its steps under it;
    // the forked branch has a span of its own under the run's.
    void otlpParentLinks()
    {
        const std::vector<json> spans = spansOf(m_otlp);
        const json *root = rootOf(spans, m_sample.run);
        const json *sub = spanNamed(spans, "invoke_agent subagent: tests");
        const Step &spawnCall = writtenByCallId(m_sample, StepKind::ToolCall, "toolu_02");
        const json *spawn = spanOfStep(spans, spawnCall.index);
        QVERIFY(root && sub && spawn);
        QCOMPARE((*spawn)["name"], json("execute_tool spawn_agent"));
        QCOMPARE((*sub)["parentSpanId"], (*spawn)["spanId"]);
        QCOMPARE(intAttr(*sub, "tapedeck.thread.id"), m_sample.subThread.value);
        QCOMPARE(textAttr(*sub, "gen_ai.operation.name"), std::string("invoke_agent"));
        const json *subCall = spanNamed(spans, "chat claude-haiku-4");
        QVERIFY(subCall);
        QCOMPARE((*subCall)["parentSpanId"], (*sub)["spanId"]);
        QCOMPARE((*spanNamed(spans, "execute_tool github.search_code"))["parentSpanId"],
                 (*sub)["spanId"]);

        const json *fork = nullptr;
        for (const json &s : spans) {
            if (intAttr(s, "tapedeck.branch.id") == m_sample.forkedBranch.value &&
                s["name"] == "invoke_agent claude-code")
                fork = &s;
        }
        QVERIFY(fork);
        QCOMPARE((*fork)["parentSpanId"], (*root)["spanId"]);
        QCOMPARE(intAttr(*fork, "tapedeck.branch.fork_step"), m_sample.forkStep.value);
        const json *replayed = spanOfStep(spans, m_sample.lastStep);
        QVERIFY(replayed);
        QCOMPARE((*replayed)["parentSpanId"], (*fork)["spanId"]);

        // Every child lies within its parent's time.
        std::map<std::string, const json *> byId;
        for (const json &s : spans)
            byId[s["spanId"]] = &s;
        for (const json &s : spans) {
            if (!s.contains("parentSpanId"))
                continue;
            const json &parent = *byId.at(s["parentSpanId"]);
            QVERIFY2(nanos(s, "startTimeUnixNano") >= nanos(parent, "startTimeUnixNano") &&
                         nanos(s, "endTimeUnixNano") <= nanos(parent, "endTimeUnixNano"),
                     s["name"].get<std::string>().c_str());
        }
    }

    // Error steps and compactions are events of the agent span of their thread.
    void otlpErrorAndCompactionEvents()
    {
        const std::vector<json> spans = spansOf(m_otlp);
        const json *root = rootOf(spans, m_sample.run);
        QVERIFY(root && root->contains("events"));
        const json *exception = nullptr, *compaction = nullptr;
        for (const json &e : (*root)["events"]) {
            if (e["name"] == "exception")
                exception = &e;
            if (e["name"] == "tapedeck.compaction")
                compaction = &e;
        }
        QVERIFY(exception && compaction);
        QCOMPARE(textAttr(*exception, "exception.type"), std::string("rate_limit_error"));
        QCOMPARE(textAttr(*exception, "exception.message"),
                 std::string("rate limited, retrying in 20s"));
        QCOMPARE(intAttr(*exception, "tapedeck.step.index"), m_sample.errorStep.value);
        QCOMPARE(std::stoll((*exception)["timeUnixNano"].get<std::string>()),
                 writtenStep(m_sample, m_sample.errorStep).startedUs * 1000);
        QCOMPARE(intAttr(*root, "tapedeck.error_steps"), int64_t(1));
    }

    // Content leaves the tape only when asked for.
    void otlpContentIsOptIn()
    {
        static const std::vector<std::string> kContent = {"gen_ai.input.messages",
                                                          "gen_ai.output.messages",
                                                          "gen_ai.system_instructions",
                                                          "gen_ai.tool.call.arguments",
                                                          "gen_ai.tool.call.result",
                                                          "tapedeck.run.command",
                                                          "tapedeck.run.cwd"};
        for (const std::string &key : kContent)
            QVERIFY2(m_otlpText.find("\"" + key + "\"") == std::string::npos, key.c_str());
        QVERIFY(m_otlpText.find(m_sample.uniqueWord) == std::string::npos);
        QVERIFY(m_otlpText.find("Make the tests pass") == std::string::npos);
        QVERIFY(m_otlpText.find("Makefile") == std::string::npos);

        const std::vector<json> spans = spansOf(m_otlpContent);
        const json *first = spanOfStep(spans, m_sample.firstModelCall);
        QVERIFY(first);
        const json input = json::parse(textAttr(*first, "gen_ai.input.messages"));
        QCOMPARE(input.size(), size_t(2));
        QCOMPARE(input[0]["role"], json("system"));
        QCOMPARE(input[1]["role"], json("user"));
        QCOMPARE(input[1]["parts"][0],
                 json({{"type", "text"}, {"content", "Make the tests pass, then report."}}));
        const json output = json::parse(textAttr(*first, "gen_ai.output.messages"));
        QCOMPARE(output.size(), size_t(1));
        QCOMPARE(output[0]["role"], json("assistant"));
        QCOMPARE(output[0]["finish_reason"], json("tool_call"));
        QCOMPARE(output[0]["parts"][1]["type"], json("tool_call"));
        QCOMPARE(output[0]["parts"][1]["id"], json("toolu_01"));
        QCOMPARE(output[0]["parts"][1]["arguments"], json({{"path", "Makefile"}}));

        const json *streamed = spanOfStep(spans, m_sample.streamedModelCall);
        const json streamedInput = json::parse(textAttr(*streamed, "gen_ai.input.messages"));
        QCOMPARE(streamedInput.back()["role"], json("tool"));
        QCOMPARE(streamedInput.back()["parts"][0]["type"], json("tool_call_response"));
        QCOMPARE(streamedInput.back()["parts"][0]["id"], json("toolu_01"));

        const json *read =
            spanOfStep(spans, writtenByCallId(m_sample, StepKind::ToolCall, "toolu_01").index);
        QCOMPARE(json::parse(textAttr(*read, "gen_ai.tool.call.arguments")),
                 json({{"path", "Makefile"}}));
        QVERIFY(textAttr(*read, "gen_ai.tool.call.result").find(m_sample.uniqueWord) !=
                std::string::npos);
        const json *root = rootOf(spans, m_sample.run);
        QCOMPARE(textAttr(*root, "tapedeck.run.command"),
                 std::string("claude -p make the tests pass"));
        QCOMPARE(textAttr(*root, "tapedeck.run.cwd"), std::string("/work/project"));
    }

    void otlpIsDeterministic()
    {
        auto again = otlpOf(m_samplePath);
        QVERIFY(again);
        QVERIFY(*again == m_otlpText);
    }

    // --run and --branch: a branch is its whole history, as a trace of its own.
    void otlpSelection()
    {
        OtlpOptions second;
        second.selection.run = m_secondRun;
        const json one = parsed(otlpOf(m_samplePath, second));
        QCOMPARE(q(otlpProblem(one)), QString());
        QCOMPARE(spansOf(one).size(), size_t(2));

        OtlpOptions branch;
        branch.selection.branch = m_sample.forkedBranch;
        const json forked = parsed(otlpOf(m_samplePath, branch));
        QCOMPARE(q(otlpProblem(forked)), QString());
        const std::vector<json> spans = spansOf(forked);
        // The recorded branch up to the fork (3 model calls, read_file, spawn_agent, the
        // MCP call, the HTTP exchange), then the fork's own steps: the edited result joins
        // the `make test` call it answers, and the replayed model call.
        QCOMPARE(countNamed(spans, "chat "), 4);
        QCOMPARE(countNamed(spans, "execute_tool "), 4);
        QCOMPARE(countNamed(spans, "invoke_agent "), 2); // the run and the sub-agent
        const json *bash = spanOfStep(spans, m_sample.forkStep);
        QVERIFY(bash);
        QVERIFY(!bash->contains("status")); // the edited result succeeded
        QVERIFY(spans[0]["traceId"] != spansOf(m_otlp)[0]["traceId"]);

        OtlpOptions missing;
        missing.selection.run = RunId(99);
        auto noRun = otlpOf(m_samplePath, missing);
        QVERIFY(!noRun);
        QCOMPARE(noRun.error().code, ErrorCode::NotFound);
        QVERIFY(noRun.error().message.find(m_samplePath) != std::string::npos);
        OtlpOptions mismatch;
        mismatch.selection.run = m_secondRun;
        mismatch.selection.branch = m_sample.forkedBranch;
        auto wrong = otlpOf(m_samplePath, mismatch);
        QVERIFY(!wrong);
        QCOMPARE(wrong.error().code, ErrorCode::InvalidArgument);
    }

    // Batches hold at most the limit, never mix runs in an entry, and together are the
    // single document's spans; small runs share a body; a sender's error stops the export.
    void otlpBatches()
    {
        auto reader = TapeReader::open(m_samplePath);
        QVERIFY(reader);
        OtlpOptions options;
        options.maxBatchSpans = 3;
        std::vector<json> bodies;
        auto stats =
            exportOtlpBatches(**reader, options, [&](const std::string &body, int64_t spans) {
                bodies.push_back(json::parse(body));
                return spansOf(bodies.back()).size() == size_t(spans)
                           ? Status{}
                           : Error{ErrorCode::Io, "count"};
            });
        QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        QCOMPARE(stats->spans, int64_t(16));
        QCOMPARE(stats->traces, int64_t(2));
        QCOMPARE(stats->batches, int64_t(bodies.size()));
        QCOMPARE(bodies.size(), size_t(6)); // 14 spans in 5 bodies, then the second run's 2
        std::set<std::string> sent, whole;
        for (const json &body : bodies) {
            QCOMPARE(q(otlpProblem(body, false)), QString());
            QVERIFY(spansOf(body).size() <= 3);
            for (const json &rs : body["resourceSpans"]) {
                std::set<std::string> traces;
                for (const json &span : rs["scopeSpans"][0]["spans"])
                    traces.insert(span["traceId"]);
                QCOMPARE(traces.size(), size_t(1));
            }
            for (const json &span : spansOf(body))
                sent.insert(span.dump());
        }
        for (const json &span : spansOf(m_otlp))
            whole.insert(span.dump());
        QVERIFY(sent == whole);

        bodies.clear();
        OtlpOptions roomy;
        QVERIFY(exportOtlpBatches(**reader, roomy, [&](const std::string &body, int64_t) {
            bodies.push_back(json::parse(body));
            return Status{};
        }));
        QCOMPARE(bodies.size(), size_t(1));
        QCOMPARE(bodies[0]["resourceSpans"].size(), size_t(2));

        int calls = 0;
        auto refused =
            exportOtlpBatches(**reader, options, [&](const std::string &, int64_t) -> Status {
                ++calls;
                return Error{ErrorCode::Io, "http://collector: HTTP 503"};
            });
        QVERIFY(!refused);
        QCOMPARE(q(refused.error().message), QStringLiteral("http://collector: HTTP 503"));
        QCOMPARE(calls, 1);
    }

    void otlpWriteFailure()
    {
        auto reader = TapeReader::open(m_samplePath);
        QVERIFY(reader);
        std::ostringstream out;
        out.setstate(std::ios::badbit);
        auto stats = exportOtlp(**reader, out);
        QVERIFY(!stats);
        QCOMPARE(stats.error().code, ErrorCode::Io);
        QVERIFY(stats.error().message.find(m_samplePath) != std::string::npos);
    }

    // Steps without times, a result joined to its call by call id alone, a result without a
    // call, a call without a result, a model call that failed, a tape with no run.
    void otlpAwkwardSteps()
    {
        const std::string path = freshPath();
        StepIndex untimed, orphan, unanswered, failedCall;
        {
            auto writer = TapeWriter::create(path);
            QVERIFY(writer);
            auto scaffold = beginScaffold(**writer, "awkward");
            QVERIFY(scaffold);
            const ThreadId t = scaffold->thread;
            Step call = makeStep(t, StepKind::ModelCall, "model", kT0 + 1'000'000, kT0 + 2'000'000);
            QVERIFY((*writer)->append(call));
            Step noTime = makeStep(t, StepKind::ToolCall, "bash", 0, 0);
            noTime.callId = "c1";
            untimed = *(*writer)->append(noTime);
            Step result = makeStep(t, StepKind::ToolResult, "bash", 0, 0);
            result.callId = "c1"; // joined by call id, there is no parent
            result.payload = {{"output", "ok"}, {"is_error", false}};
            QVERIFY((*writer)->append(result));
            Step lone = makeStep(t, StepKind::ToolResult, "grep", kT0 + 5'000'000, kT0 + 6'000'000);
            lone.callId = "never-called";
            lone.status = StepStatus::Error;
            lone.payload = {{"output", "no such file"}, {"is_error", true}};
            orphan = *(*writer)->append(lone);
            Step pending =
                makeStep(t, StepKind::ToolCall, "sleep", kT0 + 7'000'000, kT0 + 7'000'000);
            pending.callId = "c2";
            unanswered = *(*writer)->append(pending);
            Step refused =
                makeStep(t, StepKind::ModelCall, "gpt-4o", kT0 + 8'000'000, kT0 + 8'500'000);
            refused.status = StepStatus::Error;
            refused.payload = {{"error", {{"type", "rate_limit_error"}, {"message", "slow down"}}}};
            WireExchange wire;
            wire.method = "POST";
            wire.url = "/v1/chat/completions";
            wire.status = 429;
            refused.wire = wire;
            failedCall = *(*writer)->append(refused);
        }
        OtlpOptions content;
        content.includeContent = true;
        auto text = otlpOf(path, content);
        QVERIFY2(text, text ? "" : text.error().message.c_str());
        const json doc = json::parse(*text, nullptr, false);
        QVERIFY(!doc.is_discarded());
        QCOMPARE(q(otlpProblem(doc)), QString());
        const std::string docPath = freshPath(".json");
        QVERIFY(writeFile(docPath, *text));
        if (auto problem = schemaProblem(docPath))
            QCOMPARE(q(*problem), QString());

        const std::vector<json> spans = spansOf(doc);
        const json *bash = spanOfStep(spans, untimed);
        QVERIFY(bash);
        QVERIFY(flagAttr(*bash, "tapedeck.time_unknown"));
        // Placed where the thread was: the end of the model call before it.
        QCOMPARE(nanos(*bash, "startTimeUnixNano"), (kT0 + 2'000'000) * 1000);
        QCOMPARE(textAttr(*bash, "gen_ai.tool.call.result"), std::string("ok"));
        const json *grep = spanOfStep(spans, orphan);
        QVERIFY(grep);
        QCOMPARE((*grep)["name"], json("execute_tool grep"));
        QCOMPARE(textAttr(*grep, "error.type"), std::string("tool_error"));
        QVERIFY(!attribute(*grep, "gen_ai.tool.call.arguments"));
        const json *sleep = spanOfStep(spans, unanswered);
        QVERIFY(sleep);
        QVERIFY(flagAttr(*sleep, "tapedeck.tool.result_missing"));
        const json *refused = spanOfStep(spans, failedCall);
        QVERIFY(refused);
        QCOMPARE(textAttr(*refused, "error.type"), std::string("rate_limit_error"));
        QCOMPARE((*refused)["status"], json({{"code", 2}, {"message", "slow down"}}));
        QCOMPARE(textAttr(*refused, "gen_ai.provider.name"), std::string("openai"));
        QVERIFY(!attribute(*refused, "gen_ai.output.messages"));

        const std::string empty = freshPath();
        QVERIFY(TapeWriter::create(empty));
        QCOMPARE(parsed(otlpOf(empty)), json({{"resourceSpans", json::array()}}));
    }

    // ---- Chrome trace events ----------------------------------------------------------

    void chromeTraceLoadsBack()
    {
        const json doc = parsed(chromeOf(m_samplePath));
        QVERIFY(doc.is_object());
        QCOMPARE(q(traceEventsProblem(doc)), QString());
        auto reader = TapeReader::open(m_samplePath);
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        auto kind = [&](StepKind k) { return int(summary->stepsByKind[int(k)]); };
        QCOMPARE(countEvents(doc, "X", "model_call"), kind(StepKind::ModelCall));
        // Each tool call spans to its result; the forked branch's edited result answers a
        // call of the recorded branch that already has its result, so it stands alone.
        QCOMPARE(countEvents(doc, "X", "tool"), kind(StepKind::ToolCall) + 1);
        QCOMPARE(countEvents(doc, "X", "mcp"), kind(StepKind::McpCall));
        QCOMPARE(countEvents(doc, "X", "http"), kind(StepKind::HttpExchange));
        QCOMPARE(countEvents(doc, "i", "error"), kind(StepKind::Error));
        QCOMPARE(countEvents(doc, "i", "compaction"), kind(StepKind::Compaction));
        QCOMPARE(countEvents(doc, "i", "annotation"), kind(StepKind::Annotation));
        QCOMPARE(countEvents(doc, "i", "fork"), kind(StepKind::ForkPoint));

        std::set<int64_t> pids;
        std::map<int64_t, std::string> threadNames;
        for (const json &e : doc["traceEvents"]) {
            if (e["ph"] == "M" && e["name"] == "process_name")
                pids.insert(e["pid"].get<int64_t>());
            if (e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == m_sample.run.value)
                threadNames[e["tid"]] = e["args"]["name"];
        }
        QCOMPARE(pids, (std::set<int64_t>{m_sample.run.value, m_secondRun.value}));
        QCOMPARE(threadNames[m_sample.mainThread.value], std::string("main"));
        QCOMPARE(threadNames[m_sample.subThread.value], std::string("subagent: tests"));
        QCOMPARE(threadNames[m_sample.forkThread.value],
                 "main (branch " + std::to_string(m_sample.forkedBranch.value) + ")");

        const Step &first = writtenStep(m_sample, m_sample.firstModelCall);
        const json *call = nullptr;
        for (const json &e : doc["traceEvents"]) {
            if (e["ph"] == "X" && e.value("cat", "") == "model_call" &&
                e["args"]["step"] == first.index.value)
                call = &e;
        }
        QVERIFY(call);
        QCOMPARE((*call)["name"], json("chat claude-sonnet-4"));
        QCOMPARE((*call)["ts"], json(first.startedUs));
        QCOMPARE((*call)["dur"], json(first.endedUs - first.startedUs));
        QCOMPARE((*call)["pid"], json(m_sample.run.value));
        QCOMPARE((*call)["tid"], json(m_sample.mainThread.value));
        QCOMPARE((*call)["args"]["input_tokens"], json(1200));
        QCOMPARE((*call)["args"]["cache_write_tokens"], json(1200));
        QCOMPARE((*call)["args"]["cost_usd"], json(0.0123));
        QCOMPARE((*call)["args"]["ttft_ms"], json(400.0));
        // Waiting for the first token, then streaming, inside the call.
        QCOMPARE(countEvents(doc, "X", "model_call.phase") % 2, 0);
        bool waiting = false;
        for (const json &e : doc["traceEvents"]) {
            if (e.value("name", "") == "waiting" && e["args"]["step"] == first.index.value) {
                waiting = true;
                QCOMPARE(e["ts"], json(first.startedUs));
                QCOMPARE(e["dur"], json(first.firstTokenUs - first.startedUs));
            }
        }
        QVERIFY(waiting);
        QVERIFY(doc.dump().find(m_sample.uniqueWord) == std::string::npos);
    }

    void chromeTraceSelection()
    {
        ChromeTraceOptions options;
        options.selection.run = m_secondRun;
        const json doc = parsed(chromeOf(m_samplePath, options));
        QCOMPARE(q(traceEventsProblem(doc)), QString());
        QCOMPARE(countEvents(doc, "X", "model_call"), 1);
        for (const json &e : doc["traceEvents"])
            QCOMPARE(e["pid"], json(m_secondRun.value));
        options.selection.run = RunId(42);
        auto missing = chromeOf(m_samplePath, options);
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
    }

    // Tool calls that run at the same time in one thread cannot share a track: the second
    // gets a lane of its own, named after the thread.
    void chromeTraceLanes()
    {
        const std::string path = freshPath();
        {
            auto writer = TapeWriter::create(path);
            QVERIFY(writer);
            auto scaffold = beginScaffold(**writer, "parallel");
            QVERIFY(scaffold);
            const ThreadId t = scaffold->thread;
            Step a = makeStep(t, StepKind::ToolCall, "read_a", kT0 + 1'000'000, kT0 + 1'000'000);
            const StepIndex ia = *(*writer)->append(a);
            Step b = makeStep(t, StepKind::ToolCall, "read_b", kT0 + 1'100'000, kT0 + 1'100'000);
            const StepIndex ib = *(*writer)->append(b);
            Step ra = makeStep(t, StepKind::ToolResult, "read_a", kT0 + 1'500'000, kT0 + 3'000'000);
            ra.parent = ia;
            QVERIFY((*writer)->append(ra));
            Step rb = makeStep(t, StepKind::ToolResult, "read_b", kT0 + 1'600'000, kT0 + 4'000'000);
            rb.parent = ib;
            QVERIFY((*writer)->append(rb));
        }
        const json doc = parsed(chromeOf(path));
        QCOMPARE(q(traceEventsProblem(doc)), QString());
        std::set<int64_t> tids;
        std::set<std::string> names;
        for (const json &e : doc["traceEvents"]) {
            if (e["ph"] == "X")
                tids.insert(e["tid"].get<int64_t>());
            if (e["ph"] == "M" && e["name"] == "thread_name")
                names.insert(e["args"]["name"].get<std::string>());
        }
        QCOMPARE(tids.size(), size_t(2));
        QVERIFY(names.count("main · lane 2"));
    }

    // ---- The real trajectories --------------------------------------------------------

    void realTrajectories_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("claude-code") << "claude-code/python-to-rust-port.transcript.jsonl";
        QTest::newRow("claude-code 2.1.197") << "claude-code/echo-hello.claude-2.1.197.jsonl";
        QTest::newRow("codex") << "codex/echo-hello.rollout.codex-0.171.0.jsonl";
        QTest::newRow("swe-agent") << "swe-agent/pydicom__pydicom-1458.swe-agent-0.x.gpt4.traj";
        QTest::newRow("mini-swe-agent")
            << "mini-swe-agent/django__django-13265.deepseek-chat.traj.json";
        QTest::newRow("openhands") << "openhands/basic_gui_mode.trajectory.json";
        QTest::newRow("inspect") << "inspect/2025-05-12T20-27-36-04-00_browser.json";
        QTest::newRow("tau-bench") << "tau-bench/gpt-4o-airline.json";
    }

    // Whatever an importer makes of a real file exports: one trace per run, a chat span per
    // model call, trace events that load back with a slice per model call.
    void realTrajectories()
    {
        QFETCH(QString, file);
        QTemporaryDir dir;
        Imported imported = importInto(dir, realData(file.toStdString()));
        if (!imported.report || !imported.reader)
            QSKIP(qPrintable("the import did not succeed (not this suite's subject): " +
                             (imported.report ? QString() : q(imported.report.error().message))));
        auto summary = imported.reader->summary();
        QVERIFY(summary);

        const auto started = std::chrono::steady_clock::now();
        OtlpOptions content;
        content.includeContent = true;
        std::ostringstream out;
        auto stats = exportOtlp(*imported.reader, out, content);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        qInfo("%s: %lld steps, %lld spans, %.1f MB of OTLP with content in %.2f s",
              qPrintable(file), (long long)summary->stepCount, (long long)stats->spans,
              double(out.str().size()) / 1e6, seconds);
        const json doc = json::parse(out.str(), nullptr, false);
        QVERIFY(!doc.is_discarded());
        QCOMPARE(q(otlpProblem(doc)), QString());
        const std::vector<json> spans = spansOf(doc);
        QCOMPARE(stats->traces, int64_t(summary->runs.size()));
        QCOMPARE(countNamed(spans, "chat"), int(summary->stepsByKind[int(StepKind::ModelCall)]));
        for (const json &s : spans) {
            if (s["name"].get<std::string>().rfind("chat", 0) == 0)
                QVERIFY(!textAttr(s, "gen_ai.provider.name").empty());
        }

        const json trace = parsed(chromeOf(imported.tapePath));
        QCOMPARE(q(traceEventsProblem(trace)), QString());
        QCOMPARE(countEvents(trace, "X", "model_call"),
                 int(summary->stepsByKind[int(StepKind::ModelCall)]));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
