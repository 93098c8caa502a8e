// Every field of every step kind survives TapeWriter::append -> TapeReader::step().
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

Q_DECLARE_METATYPE(StepKind)

namespace {

enum class WireVariant { None, Plain, Streamed, Binary };

const char *variantName(WireVariant v)
{
    switch (v) {
    case WireVariant::None:
        return "no-wire";
    case WireVariant::Plain:
        return "wire";
    case WireVariant::Streamed:
        return "streamed";
    case WireVariant::Binary:
        return "binary-streamed";
    }
    return "?";
}

QByteArray bytes(const std::string &s)
{
    return QByteArray::fromStdString(s);
}

QByteArray text(const json &j)
{
    return bytes(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

// A step of `kind` filled in the way a recorder fills that kind in.
Step makeStep(StepKind kind, WireVariant variant, bool withCost, std::optional<StepIndex> parent,
              ThreadId thread, uint64_t seed)
{
    Step s;
    s.thread = thread;
    s.kind = kind;
    s.status = kind == StepKind::Error ? StepStatus::Error : StepStatus::Ok;
    s.parent = parent;
    s.startedUs = kT0 + 5'000'000 + int64_t(seed) * 1000;
    s.endedUs = s.startedUs + 1'234'567;
    s.usage = Usage{int64_t(kind) * 1000 + 1, int64_t(kind) * 10 + 2, 3, 4};
    if (withCost)
        s.costUsd = 0.000123 * double(int(kind)) + 1e-9;
    switch (kind) {
    case StepKind::ModelCall:
        s.name = "claude-sonnet-4";
        s.firstTokenUs = s.startedUs + 321'000;
        s.requestMessages = {{{"role", "system"}, {"content", "You are terse."}},
                             {{"role", "user"}, {"content", "Say hi ✓ in 3 languages."}},
                             {{"role", "assistant"},
                              {"content", json::array({{{"type", "text"}, {"text", "Hi."}}})}},
                             {{"role", "user"}, {"content", prose(seed, 50)}}};
        s.requestParams = {{"max_tokens", 256}, {"temperature", 0.7}, {"stop", {"\n\n"}}};
        s.payload = {{"role", "assistant"}, {"content", "Hi, hola, salut."}, {"stop_reason", "end_turn"}};
        break;
    case StepKind::ToolCall:
        s.name = "bash";
        s.callId = "toolu_01A";
        s.payload = {{"command", "make -j8 && ./bench --size 4096"}, {"timeout", 600}};
        break;
    case StepKind::ToolResult:
        s.name = "bash";
        s.callId = "toolu_01A";
        s.payload = {{"output", prose(seed + 1, 300)}, {"is_error", false}};
        break;
    case StepKind::McpCall:
        s.name = "github.create_issue";
        s.callId = "mcp-7";
        s.payload = {{"server", "github"}, {"arguments", {{"title", "tile kernel"}}}, {"result", nullptr}};
        break;
    case StepKind::HttpExchange:
        s.name = "GET https://pypi.org/simple/numpy/";
        s.payload = {{"purpose", "dependency lookup"}};
        break;
    case StepKind::Compaction:
        s.payload = {{"summary", prose(seed + 2, 40)}, {"dropped_messages", 17}, {"kept_tokens", 9000}};
        break;
    case StepKind::Error:
        s.name = "overloaded_error";
        s.payload = {{"message", "Overloaded"}, {"http_status", 529}, {"retry", true}};
        break;
    case StepKind::Annotation:
        s.name = "note";
        s.payload = {{"text", "the user looked away here"}, {"tags", {"ux", "pause"}}};
        break;
    case StepKind::ForkPoint:
        s.payload = {{"edit", "replaced the tool output"}, {"from_step", 1}};
        break;
    }
    if (variant != WireVariant::None) {
        WireExchange w;
        w.method = kind == StepKind::HttpExchange ? "GET" : "POST";
        w.url = "/v1/messages?beta=tools-2024&x=%20y";
        w.status = kind == StepKind::Error ? 529 : 200;
        w.requestHeaders = {{"content-type", "application/json"}, {"x-stainless-lang", "js"}};
        w.responseHeaders = {{"content-type", "text/event-stream"}, {"request-id", "req_0123"}};
        w.requestBody = json{{"model", s.name}, {"messages", s.requestMessages}}.dump();
        w.responseBody = "event: content_block_delta\ndata: {\"delta\":\"" + prose(seed + 3, 30) + "\"}\n\n";
        if (variant == WireVariant::Binary) {
            // Gzip-looking bytes in a request, a NUL and invalid UTF-8 in the response.
            w.requestBody = std::string("\x1f\x8b\x08\x00", 4) + noise(seed + 4, 200);
            w.responseBody += std::string("\0\xc3\x28\xff\xfe", 5) + noise(seed + 5, 64);
        }
        if (variant == WireVariant::Streamed || variant == WireVariant::Binary) {
            const uint32_t n = uint32_t(w.responseBody.size());
            // Uneven chunks; the second arrives before startedUs would suggest (clock skew),
            // which the packed form stores as a negative delta.
            w.chunks = {{n / 5, s.startedUs + 300'000},
                        {n / 3, s.startedUs - 10},
                        {1, s.startedUs + 900'000},
                        {n - n / 5 - n / 3 - 1, s.startedUs + 1'200'000}};
        }
        s.wire = std::move(w);
    }
    return s;
}

} // namespace

class TestStepRoundTrip : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;

    std::string freshPath() { return m_dir.filePath(QStringLiteral("rt%1.tape").arg(++m_files)).toStdString(); }

    // Writes `setup` preceding steps (so parent links have something to point at) and then
    // `step`; returns the written step with its index and seq, and the path.
    struct Written {
        std::string path;
        Step step;
        Scaffold scaffold;
    };

    static void compareSteps(const Step &expected, const Step &actual)
    {
        QCOMPARE(actual.index.value, expected.index.value);
        QCOMPARE(actual.run.value, expected.run.value);
        QCOMPARE(actual.branch.value, expected.branch.value);
        QCOMPARE(actual.thread.value, expected.thread.value);
        QCOMPARE(actual.seq, expected.seq);
        QCOMPARE(int(actual.kind), int(expected.kind));
        QCOMPARE(int(actual.status), int(expected.status));
        QCOMPARE(QString::fromStdString(actual.name), QString::fromStdString(expected.name));
        QCOMPARE(QString::fromStdString(actual.callId), QString::fromStdString(expected.callId));
        QCOMPARE(actual.parent.has_value(), expected.parent.has_value());
        if (expected.parent)
            QCOMPARE(actual.parent->value, expected.parent->value);
        QCOMPARE(actual.startedUs, expected.startedUs);
        QCOMPARE(actual.firstTokenUs, expected.firstTokenUs);
        QCOMPARE(actual.endedUs, expected.endedUs);
        QCOMPARE(actual.usage.inputTokens, expected.usage.inputTokens);
        QCOMPARE(actual.usage.outputTokens, expected.usage.outputTokens);
        QCOMPARE(actual.usage.cacheReadTokens, expected.usage.cacheReadTokens);
        QCOMPARE(actual.usage.cacheWriteTokens, expected.usage.cacheWriteTokens);
        QCOMPARE(actual.costUsd.has_value(), expected.costUsd.has_value());
        if (expected.costUsd)
            QCOMPARE(*actual.costUsd, *expected.costUsd); // exact: REAL keeps the double
        QCOMPARE(actual.requestMessages.size(), expected.requestMessages.size());
        for (size_t i = 0; i < expected.requestMessages.size(); ++i)
            QCOMPARE(text(actual.requestMessages[i]), text(expected.requestMessages[i]));
        QCOMPARE(text(actual.requestParams), text(expected.requestParams));
        QCOMPARE(text(actual.payload), text(expected.payload));
        QCOMPARE(actual.wire.has_value(), expected.wire.has_value());
        if (!expected.wire)
            return;
        const WireExchange &a = *actual.wire, &e = *expected.wire;
        QCOMPARE(QString::fromStdString(a.method), QString::fromStdString(e.method));
        QCOMPARE(QString::fromStdString(a.url), QString::fromStdString(e.url));
        QCOMPARE(a.status, e.status);
        QCOMPARE(text(a.requestHeaders), text(e.requestHeaders));
        QCOMPARE(text(a.responseHeaders), text(e.responseHeaders));
        QCOMPARE(bytes(a.requestBody), bytes(e.requestBody));
        QCOMPARE(bytes(a.responseBody), bytes(e.responseBody));
        QCOMPARE(a.chunks.size(), e.chunks.size());
        for (size_t i = 0; i < e.chunks.size(); ++i) {
            QCOMPARE(a.chunks[i].length, e.chunks[i].length);
            QCOMPARE(a.chunks[i].atUs, e.chunks[i].atUs);
        }
    }

    // Appends two unrelated steps and then `step` (its parent, if any, relative to them),
    // closes the writer, and checks step() and stepSummary() of the last one.
    void roundTrip(Step step)
    {
        const std::string path = freshPath();
        {
            auto writer = TapeWriter::create(path);
            QVERIFY2(writer, writer ? "" : writer.error().message.c_str());
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            for (int64_t k = 1; k <= 2; ++k) {
                auto r = (*writer)->append(generatedStep(99, k, sc->thread));
                QVERIFY2(r, r ? "" : r.error().message.c_str());
            }
            step.thread = sc->thread;
            auto index = (*writer)->append(step);
            QVERIFY2(index, index ? "" : index.error().message.c_str());
            QCOMPARE(index->value, 3);
            step.index = *index;
            step.run = sc->run;
            step.branch = sc->branch;
            step.seq = 2;
        }
        auto reader = TapeReader::open(path);
        QVERIFY2(reader, reader ? "" : reader.error().message.c_str());
        auto read = (*reader)->step(step.index);
        QVERIFY2(read, read ? "" : read.error().message.c_str());
        compareSteps(step, *read);
        if (QTest::currentTestFailed())
            return;

        auto summary = (*reader)->stepSummary(step.index);
        QVERIFY(summary);
        QCOMPARE(summary->index.value, step.index.value);
        QCOMPARE(summary->thread.value, step.thread.value);
        QCOMPARE(summary->seq, step.seq);
        QCOMPARE(int(summary->kind), int(step.kind));
        QCOMPARE(QString::fromStdString(summary->name), QString::fromStdString(step.name));
        QCOMPARE(summary->parent.has_value(), step.parent.has_value());
        QCOMPARE(summary->costUsd.has_value(), step.costUsd.has_value());
        QCOMPARE(summary->usage.inputTokens, step.usage.inputTokens);
        QCOMPARE(summary->messageCount, int64_t(step.requestMessages.size()));
        QCOMPARE(summary->requestBytes, step.wire ? int64_t(step.wire->requestBody.size()) : 0);
        QCOMPARE(summary->responseBytes, step.wire ? int64_t(step.wire->responseBody.size()) : 0);

        const VerifyReport report = (*reader)->verify();
        QVERIFY2(report.ok, report.problems.empty() ? "" : report.problems.front().c_str());
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void everyKind_data()
    {
        QTest::addColumn<StepKind>("kind");
        QTest::addColumn<int>("variant");
        QTest::addColumn<bool>("withCost");
        QTest::addColumn<bool>("withParent");
        int row = 0;
        for (int k = 1; k <= kStepKindCount; ++k) {
            for (WireVariant v : {WireVariant::None, WireVariant::Plain, WireVariant::Streamed,
                                  WireVariant::Binary}) {
                // Cost and parent alternate so each kind is seen with and without both.
                const bool cost = row % 2 == 0;
                const bool parent = (row / 2) % 2 == 0;
                ++row;
                QTest::addRow("%s/%s/%s/%s", stepKindName(StepKind(k)), variantName(v),
                              cost ? "cost" : "no-cost", parent ? "parent" : "no-parent")
                    << StepKind(k) << int(v) << cost << parent;
            }
        }
    }

    void everyKind()
    {
        QFETCH(StepKind, kind);
        QFETCH(int, variant);
        QFETCH(bool, withCost);
        QFETCH(bool, withParent);
        roundTrip(makeStep(kind, WireVariant(variant), withCost,
                           withParent ? std::optional<StepIndex>(StepIndex{2}) : std::nullopt,
                           ThreadId{}, uint64_t(variant) * 10 + uint64_t(kind)));
    }

    void edgeCases_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("failed connection: status 0, empty bodies") << 0;
        QTest::newRow("1 MiB incompressible bodies, request == response") << 1;
        QTest::newRow("zero cost is present, not absent") << 2;
        QTest::newRow("same message twice in one request") << 3;
        QTest::newRow("payload false") << 4;
        QTest::newRow("payload 0") << 5;
        QTest::newRow("payload a bare string") << 6;
        QTest::newRow("payload an empty array") << 7;
        QTest::newRow("payload an empty object") << 8;
        QTest::newRow("cancelled status, unicode name and call id") << 9;
        QTest::newRow("params without messages") << 10;
        QTest::newRow("extreme integers and doubles") << 11;
        QTest::newRow("one empty stream chunk") << 12;
        // Response bodies of four events or more are stored in split form (codec 5).
        QTest::newRow("event stream without a final blank line") << 13;
        QTest::newRow("event stream of blank lines and one-byte events") << 14;
        QTest::newRow("event stream of binary events that share nothing") << 15;
        QTest::newRow("event stream whose events grow and shrink") << 16;
    }

    void edgeCases()
    {
        QFETCH(int, which);
        Step s = makeStep(StepKind::ModelCall, WireVariant::Plain, true, std::nullopt, ThreadId{}, 7);
        switch (which) {
        case 0:
            s.status = StepStatus::Error;
            s.wire->status = 0;
            s.wire->requestBody.clear();
            s.wire->responseBody.clear();
            s.wire->responseHeaders = json::object();
            break;
        case 1:
            s.wire->requestBody = noise(11, 1 << 20);
            s.wire->responseBody = s.wire->requestBody;
            break;
        case 2:
            s.costUsd = 0.0;
            break;
        case 3:
            s.requestMessages.push_back(s.requestMessages[1]);
            s.requestMessages.push_back(s.requestMessages[1]);
            break;
        case 4:
            s.kind = StepKind::Annotation;
            s.payload = false;
            break;
        case 5:
            s.kind = StepKind::Annotation;
            s.payload = 0;
            break;
        case 6:
            s.kind = StepKind::ToolCall;
            s.payload = "raw argument string";
            break;
        case 7:
            s.kind = StepKind::ToolCall;
            s.payload = json::array();
            break;
        case 8:
            s.kind = StepKind::ToolCall;
            s.payload = json::object();
            break;
        case 9:
            s.status = StepStatus::Cancelled;
            s.name = "模型-ünïcödé";
            s.callId = "call_ü_✓";
            break;
        case 10:
            s.requestMessages.clear();
            break;
        case 11:
            s.usage = Usage{INT64_MAX, 0, INT64_MIN + 1, 1};
            s.costUsd = 1e-300;
            s.payload = {{"big", UINT64_MAX}, {"neg", INT64_MIN}, {"pi", 3.141592653589793}};
            break;
        case 12:
            s.wire->chunks = {{0, s.startedUs}, {uint32_t(s.wire->responseBody.size()), s.startedUs + 5}};
            break;
        case 13:
            s.wire->responseBody = "data: {\"a\":1}\n\ndata: {\"a\":12}\n\ndata: {\"a\":123}\n\n"
                                   "data: {\"a\":1}\n\ndata: [DONE]";
            break;
        case 14:
            s.wire->responseBody = "\n\n\n\nx\n\n\n\ny\n\n\n\n\n\nz";
            break;
        case 15: {
            std::string body;
            for (uint64_t seed = 1; seed <= 6; ++seed)
                body.append(noise(seed, 40 * size_t(seed))).append("\n\n");
            s.wire->responseBody = body;
            break;
        }
        case 16:
            s.wire->responseBody = "event: a\ndata: xx\n\nevent: a\ndata: xxxxxxxxxxxx\n\n"
                                   "event: a\ndata: \n\nevent: b\ndata: xxxxxxxxxxxxxxxxxxxxxxxx\n\n"
                                   "ev\n\nevent: a\ndata: xx\n\n";
            break;
        }
        if (which >= 13)
            s.wire->chunks = {{uint32_t(s.wire->responseBody.size()), s.startedUs + 5}};
        roundTrip(s);
    }

    // A whole batch of mixed steps goes in one transaction and each comes back intact.
    void appendBatch()
    {
        const std::string path = freshPath();
        std::vector<Step> steps;
        {
            auto writer = TapeWriter::create(path);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            for (int64_t k = 0; k < 30; ++k)
                steps.push_back(generatedStep(5, k, sc->thread));
            auto r = (*writer)->appendBatch(steps);
            QVERIFY2(r, r ? "" : r.error().message.c_str());
            QCOMPARE(r->size(), steps.size());
            for (size_t i = 0; i < steps.size(); ++i) {
                QCOMPARE((*r)[i].value, int64_t(i + 1));
                steps[i].index = (*r)[i];
                steps[i].seq = int64_t(i);
            }
        }
        const std::string diff = tapeDifference(path, steps);
        QVERIFY2(diff.empty(), diff.c_str());
    }

    // With a commitInterval, appends wait for commit() (or the interval, or the writer's
    // end) and only then reach the file; an append that fails is undone alone, and what
    // came before it is committed at once.
    void heldCommits()
    {
        const std::string path = freshPath();
        auto writer = TapeWriter::create(path, WriterOptions{.commitInterval = std::chrono::hours(1)});
        QVERIFY(writer);
        auto sc = beginScaffold(**writer);
        QVERIFY(sc);
        std::vector<Step> expected;
        auto appendSome = [&](int n) {
            for (int i = 0; i < n; ++i) {
                Step s = generatedStep(7, int64_t(expected.size()), sc->thread);
                auto r = (*writer)->append(s);
                QVERIFY2(r, r ? "" : r.error().message.c_str());
                s.index = *r;
                s.seq = int64_t(expected.size());
                expected.push_back(s);
            }
        };
        auto stepsOnFile = [&]() -> int64_t {
            auto reader = TapeReader::open(path);
            return reader ? (*reader)->stepCount() : -1;
        };
        appendSome(10);
        QCOMPARE(stepsOnFile(), int64_t(0));

        Step stray = generatedStep(7, 99, ThreadId{999});
        auto refused = (*writer)->append(stray);
        QVERIFY(!refused);
        QVERIFY2(refused.error().message.find("no thread 999") != std::string::npos,
                 refused.error().message.c_str());
        QCOMPARE(stepsOnFile(), int64_t(10));

        appendSome(5);
        QCOMPARE(expected.back().index.value, int64_t(15)); // the refused step left no gap
        QCOMPARE(stepsOnFile(), int64_t(10));
        QVERIFY((*writer)->commit());
        QCOMPARE(stepsOnFile(), int64_t(15));
        QVERIFY((*writer)->commit()); // nothing held: nothing to do

        appendSome(2);
        writer->reset();
        const std::string diff = tapeDifference(path, expected);
        QVERIFY2(diff.empty(), diff.c_str());
        auto reader = TapeReader::open(path);
        QVERIFY(reader);
        QVERIFY((*reader)->verify().ok);
    }

    // A JSON string holding bytes that are not UTF-8 (a tool printing binary output) is
    // something a recorder can hand over; the writer must answer with a value, not throw.
    void invalidUtf8InJsonIsAnErrorValueNotAnException()
    {
        const std::string path = freshPath();
        auto writer = TapeWriter::create(path);
        QVERIFY(writer);
        auto sc = beginScaffold(**writer);
        QVERIFY(sc);
        Step s = makeStep(StepKind::ToolResult, WireVariant::None, false, std::nullopt, sc->thread, 1);
        s.payload = {{"output", std::string("binary \xff\xfe\x80 output")}, {"is_error", false}};
        // Either answer is acceptable: stored (the bytes replaced) or refused with an error
        // value. What is not: an exception, and a writer that cannot go on afterwards.
        bool returned = false;
        QVERIFY_THROWS_NO_EXCEPTION([&] {
            auto r = (*writer)->append(s);
            returned = true;
            if (!r)
                QVERIFY2(!r.error().message.empty(), "an error without a message");
        }());
        QVERIFY(returned);
        auto next = (*writer)->append(generatedStep(1, 1, sc->thread));
        QVERIFY2(next, next ? "" : next.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestStepRoundTrip)
#include "tst_steproundtrip.moc"
