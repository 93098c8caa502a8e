// Content is stored once: checked by counting blobs, messages and bytes, not by trusting
// the writer's word for it.
#include "testutil.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

// The conversation an agent resends on its i-th call: system, then user/assistant turns,
// ending with the i-th user message. 2i + 2 messages.
std::vector<json> conversation(int i)
{
    std::vector<json> m;
    m.push_back({{"role", "system"}, {"content", "You optimise GPU kernels. " + prose(1000, 120)}});
    for (int j = 0; j <= i; ++j) {
        m.push_back({{"role", "user"}, {"content", prose(2000 + uint64_t(j), 60 + size_t(j % 7) * 5)}});
        if (j < i)
            m.push_back({{"role", "assistant"},
                         {"content", json::array({{{"type", "text"},
                                                   {"text", prose(3000 + uint64_t(j), 50)}}})}});
    }
    return m;
}

const json kParams = {{"max_tokens", 8192}, {"temperature", 0.3}, {"tools", json::array({{{"name", "bash"}}})}};

std::string requestBody(const std::vector<json> &messages)
{
    json body = kParams;
    body["model"] = "claude-sonnet-4";
    body["messages"] = messages;
    return body.dump();
}

Step modelCall(ThreadId thread, int i)
{
    Step s;
    s.thread = thread;
    s.kind = StepKind::ModelCall;
    s.name = "claude-sonnet-4";
    s.requestMessages = conversation(i);
    s.requestParams = kParams;
    s.payload = {{"role", "assistant"}, {"content", prose(3000 + uint64_t(i), 50)}};
    s.startedUs = kT0 + int64_t(i) * 10'000'000;
    s.endedUs = s.startedUs + 3'000'000;
    s.usage = Usage{int64_t(s.requestMessages.size()) * 100, 50, 0, 0};
    WireExchange w;
    w.method = "POST";
    w.url = "/v1/messages";
    w.status = 200;
    w.requestHeaders = {{"content-type", "application/json"}};
    w.responseHeaders = {{"content-type", "application/json"}};
    w.requestBody = requestBody(s.requestMessages);
    w.responseBody = s.payload.dump();
    s.wire = std::move(w);
    return s;
}

} // namespace

class TestDedup : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string path(const char *name) { return m_dir.filePath(QString::fromUtf8(name)).toStdString(); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // 200 model calls, each resending the whole growing conversation.
    void growingConversationIsStoredOnce()
    {
        constexpr int kCalls = 200;
        const std::string file = path("growing.tape");
        int64_t sumOfBodies = 0;
        int64_t sumOfListLengths = 0;
        {
            auto writer = TapeWriter::create(file);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            for (int i = 0; i < kCalls; ++i) {
                Step s = modelCall(sc->thread, i);
                sumOfBodies += int64_t(s.wire->requestBody.size());
                sumOfListLengths += int64_t(s.requestMessages.size());
                auto r = (*writer)->append(s);
                QVERIFY2(r, r ? "" : r.error().message.c_str());
            }
        }
        auto reader = TapeReader::open(file);
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        // system + 200 user + 199 assistant messages, each stored once.
        QCOMPARE(summary->messageCount, int64_t(1 + kCalls + (kCalls - 1)));
        QCOMPARE(summary->messageReferences, sumOfListLengths);
        QCOMPARE(sumOfListLengths, int64_t(kCalls) * (kCalls + 1)); // sum of 2i + 2

        auto split = (*reader)->byteSplit();
        QVERIFY(split);
        const int64_t stored = split->contentBytes + split->wireBytes;
        qInfo("request bodies %lld bytes; stored blobs %lld bytes (content %lld, wire %lld); file %lld",
              (long long)sumOfBodies, (long long)stored, (long long)split->contentBytes,
              (long long)split->wireBytes, (long long)split->fileBytes);
        QVERIFY(sumOfBodies > 10'000'000); // the test means something only if this is big
        QVERIFY2(stored * 20 < sumOfBodies, "blob bytes are not below 1/20 of the request bodies");
        QVERIFY2(split->fileBytes * 10 < sumOfBodies, "the file is not below 1/10 of the request bodies");

        // Nothing was lost to get there: every request comes back byte for byte, in an
        // order that defeats the reader's cache of delta bases.
        for (int i : {kCalls - 1, 0, 137, 63, 64, 65, 1, 128, 199}) {
            auto s = (*reader)->step(StepIndex{i + 1});
            QVERIFY2(s, s ? "" : s.error().message.c_str());
            const Step expected = modelCall(s->thread, i);
            QVERIFY(s->wire);
            QVERIFY2(s->wire->requestBody == expected.wire->requestBody,
                     qPrintable(QStringLiteral("request body of call %1 differs").arg(i)));
            QCOMPARE(s->requestMessages.size(), expected.requestMessages.size());
            QVERIFY(s->requestMessages == expected.requestMessages);
        }
    }

    // The same content appended 50 times adds blobs once.
    void identicalContentStoredOnce_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("tool outputs") << 0;
        QTest::newRow("tool arguments") << 1;
        QTest::newRow("whole wire exchanges") << 2;
        QTest::newRow("annotation payloads on different threads") << 3;
    }

    void identicalContentStoredOnce()
    {
        QFETCH(int, which);
        const std::string file = path(QTest::currentDataTag()) + ".tape";
        auto writer = TapeWriter::create(file);
        QVERIFY(writer);
        auto sc = beginScaffold(**writer);
        QVERIFY(sc);
        auto other = (*writer)->addThread(ThreadInfo{{}, sc->branch, sc->thread, "subagent", kT0});
        QVERIFY(other);

        Step s;
        s.thread = sc->thread;
        s.name = "bash";
        switch (which) {
        case 0:
            s.kind = StepKind::ToolResult;
            s.payload = {{"output", prose(42, 3000)}, {"is_error", false}};
            break;
        case 1:
            s.kind = StepKind::ToolCall;
            s.payload = {{"command", "make -j8 && ./bench " + prose(43, 40)}};
            break;
        case 2:
            s = modelCall(sc->thread, 10);
            s.requestMessages.clear(); // only the wire part is under test
            s.requestParams = nullptr;
            s.payload = nullptr;
            s.wire->responseBody = prose(44, 2000);
            break;
        case 3:
            s.kind = StepKind::Annotation;
            s.payload = {{"text", prose(45, 500)}};
            break;
        }

        auto blobCount = [&]() -> int64_t {
            auto reader = TapeReader::open(file);
            if (!reader)
                return -1;
            auto summary = (*reader)->summary();
            return summary ? summary->blobCount : -1;
        };
        auto contentAndWire = [&]() -> int64_t {
            auto reader = TapeReader::open(file);
            if (!reader)
                return -1;
            auto split = (*reader)->byteSplit();
            return split ? split->contentBytes + split->wireBytes : -1;
        };

        QVERIFY((*writer)->append(s));
        const int64_t afterFirst = blobCount();
        const int64_t bytesAfterFirst = contentAndWire();
        QVERIFY(afterFirst > 0);
        for (int i = 1; i < 50; ++i) {
            s.thread = (which == 3 && i % 2) ? *other : sc->thread;
            s.startedUs = kT0 + i;
            auto r = (*writer)->append(s);
            QVERIFY2(r, r ? "" : r.error().message.c_str());
        }
        QCOMPARE(blobCount(), afterFirst);
        QCOMPARE(contentAndWire(), bytesAfterFirst);

        auto reader = TapeReader::open(file);
        QVERIFY(reader);
        QCOMPARE((*reader)->stepCount(), int64_t(50));
        auto last = (*reader)->step(StepIndex{50});
        QVERIFY(last);
        QVERIFY(last->payload == s.payload);
        if (s.wire)
            QVERIFY(last->wire->responseBody == s.wire->responseBody);
    }

    // A system prompt sent by the main agent and by a sub-agent is one stored message.
    void messagesSharedAcrossThreads()
    {
        const std::string file = path("threads.tape");
        auto writer = TapeWriter::create(file);
        QVERIFY(writer);
        auto sc = beginScaffold(**writer);
        QVERIFY(sc);
        auto sub = (*writer)->addThread(ThreadInfo{{}, sc->branch, sc->thread, "subagent", kT0});
        QVERIFY(sub);
        const json system = {{"role", "system"}, {"content", prose(7, 400)}};
        for (int i = 0; i < 10; ++i) {
            Step s;
            s.kind = StepKind::ModelCall;
            s.thread = i % 2 ? *sub : sc->thread;
            s.requestMessages = {system, {{"role", "user"}, {"content", "task " + std::to_string(i)}}};
            QVERIFY((*writer)->append(s));
        }
        auto reader = TapeReader::open(file);
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->messageCount, int64_t(11)); // the system prompt + 10 user messages
        QCOMPARE(summary->messageReferences, int64_t(20));
    }

    // Messages and parameters that differ from the previous request's only where JSON's
    // loose equality does not look (1 against 1.0, 0.0 against -0.0, an earlier message
    // edited while the later ones stay) are stored apart, and each request reads back as
    // it was sent.
    void nearlyIdenticalRequestsStayApart()
    {
        const std::string file = path("nearly.tape");
        const json system = {{"role", "system"}, {"content", prose(11, 200)}};
        const json user = {{"role", "user"}, {"content", "run the benchmark"}};
        auto withNumber = [](json n) { return json{{"role", "tool"}, {"content", "score"}, {"n", n}}; };
        const std::vector<std::vector<json>> requests = {
            {system, user, withNumber(1)},
            {system, user, withNumber(1.0)},
            {system, user, withNumber(-0.0)},
            {system, user, withNumber(0.0)},
            {system, {{"role", "user"}, {"content", "run the benchmark again"}}, withNumber(0.0)},
            {system, user, withNumber(1), {{"role", "user"}, {"content", "and now?"}}},
        };
        const std::vector<json> params = {{{"temperature", 1}}, {{"temperature", 1.0}},
                                          {{"temperature", 1.0}}, {{"temperature", 1}},
                                          {{"temperature", 1}}, {{"temperature", 1}}};
        {
            auto writer = TapeWriter::create(file);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            for (size_t i = 0; i < requests.size(); ++i) {
                Step s;
                s.kind = StepKind::ModelCall;
                s.thread = sc->thread;
                s.requestMessages = requests[i];
                s.requestParams = params[i];
                auto r = (*writer)->append(s);
                QVERIFY2(r, r ? "" : r.error().message.c_str());
            }
        }
        auto reader = TapeReader::open(file);
        QVERIFY(reader);
        for (size_t i = 0; i < requests.size(); ++i) {
            auto s = (*reader)->step(StepIndex{int64_t(i) + 1});
            QVERIFY2(s, s ? "" : s.error().message.c_str());
            QCOMPARE(s->requestMessages.size(), requests[i].size());
            for (size_t j = 0; j < requests[i].size(); ++j)
                QCOMPARE(QString::fromStdString(s->requestMessages[j].dump()),
                         QString::fromStdString(requests[i][j].dump()));
            QCOMPARE(QString::fromStdString(s->requestParams.dump()),
                     QString::fromStdString(params[i].dump()));
        }
    }

    // A writer that reopens a tape recognises what the file already holds.
    void dedupSurvivesReopening()
    {
        const std::string file = path("reopen.tape");
        ThreadId thread;
        {
            auto writer = TapeWriter::create(file);
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            thread = sc->thread;
            for (int i = 0; i < 5; ++i)
                QVERIFY((*writer)->append(modelCall(thread, i)));
        }
        int64_t blobsBefore = 0;
        int64_t messagesBefore = 0;
        {
            auto reader = TapeReader::open(file);
            QVERIFY(reader);
            auto summary = (*reader)->summary();
            QVERIFY(summary);
            blobsBefore = summary->blobCount;
            messagesBefore = summary->messageCount;
        }
        {
            auto writer = TapeWriter::openForAppend(file);
            QVERIFY2(writer, writer ? "" : writer.error().message.c_str());
            // The same call again: every message, the params, the payload and both bodies
            // are already in the file.
            auto r = (*writer)->append(modelCall(thread, 4));
            QVERIFY2(r, r ? "" : r.error().message.c_str());
        }
        auto reader = TapeReader::open(file);
        QVERIFY(reader);
        auto summary = (*reader)->summary();
        QVERIFY(summary);
        QCOMPARE(summary->messageCount, messagesBefore);
        QCOMPARE(summary->blobCount, blobsBefore);
        QCOMPARE(summary->messageReferences, int64_t(2 + 4 + 6 + 8 + 10 + 10));
        auto s = (*reader)->step(StepIndex{6});
        QVERIFY(s);
        QVERIFY(s->wire->requestBody == modelCall(thread, 4).wire->requestBody);
    }
};

QTEST_GUILESS_MAIN(TestDedup)
#include "tst_dedup.moc"
