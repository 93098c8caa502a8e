// Smoke test of the kernel session generator: the published counts at scale 1, the step count
// it promises at every scale, byte-for-byte determinism, and wire bytes that hold together
// (chunks that add up to the response body, request bodies that are the message list).
#include <tapedeck/samples/kernelsession.h>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace tapedeck;

namespace {

struct Written {
    samples::KernelSessionStats stats;
    std::string tapePath;
    QByteArray rawLog;
};

// Writes one session into a new tape in `dir`; empty stats (and a test failure) on error.
Written writeSession(const QTemporaryDir &dir, const QString &name, uint64_t seed, double scale)
{
    Written w;
    w.tapePath = dir.filePath(name + ".tape").toStdString();
    const std::string rawPath = dir.filePath(name + ".jsonl").toStdString();
    auto writer = formats::TapeWriter::create(w.tapePath);
    if (!writer) {
        qWarning("create: %s", writer.error().message.c_str());
        return w;
    }
    samples::KernelSessionOptions options;
    options.seed = seed;
    options.scale = scale;
    options.rawLogPath = rawPath;
    auto stats = samples::writeKernelSession(**writer, options);
    if (!stats) {
        qWarning("writeKernelSession: %s", stats.error().message.c_str());
        return w;
    }
    w.stats = *stats;
    QFile raw(QString::fromStdString(rawPath));
    if (raw.open(QIODevice::ReadOnly))
        w.rawLog = raw.readAll();
    return w;
}

} // namespace

class TestKernelSession : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void publishedCounts();
    void plannedSteps_data();
    void plannedSteps();
    void deterministic();
    void wireBytesHoldTogether();
    void rejectsBadScale();
};

void TestKernelSession::publishedCounts()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Written w = writeSession(dir, "s1", 1, 1.0);
    const samples::KernelSessionStats &s = w.stats;
    QCOMPARE(s.toolCalls, int64_t(1158));
    QCOMPARE(s.evaluations, int64_t(432));
    QCOMPARE(s.threads, int64_t(3));
    QCOMPARE(s.steps, samples::plannedKernelSessionSteps(1.0));
    QVERIFY(s.compactions > 0);
    QVERIFY(s.compileErrors > 0);
    QVERIFY(s.loops > 0);
    QVERIFY2(s.bestSpeedup > 9 && s.bestSpeedup < 11, std::to_string(s.bestSpeedup).c_str());
    const double hours = double(s.endedUs - s.startedUs) / 3.6e9;
    QVERIFY2(hours > 33 && hours < 37, std::to_string(hours).c_str());
    QCOMPARE(int64_t(w.rawLog.size()), s.rawLogBytes);

    // What the tape holds agrees with what the generator says it wrote.
    auto reader = formats::TapeReader::open(w.tapePath);
    QVERIFY(reader);
    auto summary = (*reader)->summary();
    QVERIFY(summary);
    QCOMPARE(summary->stepCount, s.steps);
    QCOMPARE(summary->stepsByKind[int(formats::StepKind::ToolCall)], int64_t(1158));
    QCOMPARE(summary->stepsByKind[int(formats::StepKind::ToolResult)], int64_t(1158));
    QCOMPARE(summary->stepsByKind[int(formats::StepKind::ModelCall)], s.modelCalls);
    QCOMPARE(summary->stepsByKind[int(formats::StepKind::Compaction)], s.compactions);
    QCOMPARE(int64_t(summary->threads.size()), int64_t(3));
    QCOMPARE(int64_t(summary->runs.size()), int64_t(1));
    QCOMPARE(summary->runs[0].name, std::string("kernel-session"));
    QVERIFY(summary->runs[0].endedUs > 0);
}

void TestKernelSession::plannedSteps_data()
{
    QTest::addColumn<double>("scale");
    QTest::newRow("0.01") << 0.01;
    QTest::newRow("0.1") << 0.1;
    QTest::newRow("0.5") << 0.5;
    QTest::newRow("1.5") << 1.5;
}

void TestKernelSession::plannedSteps()
{
    QFETCH(double, scale);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Written w = writeSession(dir, "s", 7, scale);
    QCOMPARE(w.stats.steps, samples::plannedKernelSessionSteps(scale));
    QCOMPARE(w.stats.toolCalls, std::max<int64_t>(12, std::llround(1158 * scale)));
    QCOMPARE(w.stats.evaluations, std::max<int64_t>(3, std::llround(432 * scale)));
}

void TestKernelSession::deterministic()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Written a = writeSession(dir, "a", 42, 0.5);
    const Written b = writeSession(dir, "b", 42, 0.5);
    const Written c = writeSession(dir, "c", 43, 0.5);
    QVERIFY(!a.rawLog.isEmpty());
    QCOMPARE(a.rawLog.size(), b.rawLog.size());
    QVERIFY(a.rawLog == b.rawLog);
    QCOMPARE(a.stats.requestBytes, b.stats.requestBytes);
    QVERIFY(a.rawLog != c.rawLog);
    QCOMPARE(a.stats.steps, c.stats.steps); // the shape depends on the scale only
}

void TestKernelSession::wireBytesHoldTogether()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Written w = writeSession(dir, "wire", 3, 0.3);
    auto reader = formats::TapeReader::open(w.tapePath);
    QVERIFY(reader);
    int64_t modelCalls = 0;
    int64_t requestBytes = 0;
    std::map<std::string, formats::Step> openCalls; // tool calls awaiting their result
    std::string problem;
    const formats::Status status = (*reader)->forEachStep([&](const formats::Step &step) {
        if (step.kind == formats::StepKind::ToolCall) {
            openCalls[step.callId] = step;
        } else if (step.kind == formats::StepKind::ToolResult) {
            const auto call = openCalls.find(step.callId);
            if (call == openCalls.end() || step.parent != call->second.index || step.thread != call->second.thread)
                problem = "result " + std::to_string(step.index.value) + " does not answer a call";
            else
                openCalls.erase(call);
        } else if (step.kind == formats::StepKind::ModelCall) {
            ++modelCalls;
            if (!step.wire) {
                problem = "model call without wire bytes";
                return false;
            }
            const formats::WireExchange &wire = *step.wire;
            requestBytes += int64_t(wire.requestBody.size());
            uint64_t total = 0;
            int64_t last = step.firstTokenUs;
            for (const formats::StreamChunk &chunk : wire.chunks) {
                total += chunk.length;
                if (chunk.atUs < last || chunk.atUs > step.endedUs)
                    problem = "chunk times out of order in step " + std::to_string(step.index.value);
                last = chunk.atUs;
            }
            if (total != wire.responseBody.size())
                problem = "chunks do not add up to the body in step " + std::to_string(step.index.value);
            if (wire.chunks.empty() || wire.chunks.front().atUs != step.firstTokenUs ||
                wire.chunks.back().atUs != step.endedUs)
                problem = "chunks do not span first token to end in step " + std::to_string(step.index.value);
            if (!wire.responseBody.ends_with("data: [DONE]\n\n"))
                problem = "stream does not end with [DONE]";
            const auto body = nlohmann::json::parse(wire.requestBody, nullptr, false);
            if (body.is_discarded() || body["messages"].size() != step.requestMessages.size() + 1 ||
                body["messages"][0]["role"] != "system" || body["stream"] != true)
                problem = "request body is not the system prompt plus the message list";
        }
        return problem.empty();
    });
    QVERIFY2(status, status ? "" : status.error().message.c_str());
    QVERIFY2(problem.empty(), problem.c_str());
    QVERIFY(openCalls.empty());
    QCOMPARE(modelCalls, w.stats.modelCalls);
    QCOMPARE(requestBytes, w.stats.requestBytes);
}

void TestKernelSession::rejectsBadScale()
{
    QCOMPARE(samples::plannedKernelSessionSteps(0), int64_t(0));
    QCOMPARE(samples::plannedKernelSessionSteps(2000), int64_t(0));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto writer = formats::TapeWriter::create(dir.filePath("bad.tape").toStdString());
    QVERIFY(writer);
    samples::KernelSessionOptions options;
    options.scale = 0.001;
    auto stats = samples::writeKernelSession(**writer, options);
    QVERIFY(!stats);
    QCOMPARE(stats.error().code, formats::ErrorCode::InvalidArgument);
}

QTEST_GUILESS_MAIN(TestKernelSession)
#include "tst_kernelsession.moc"
