// The wire codecs' streams (formats/wire.h): server-sent events framed and read back as
// the HTML standard says, and for each API a rendered stream that, cut anywhere on its way
// through SseParser, assembles to the response it was rendered from. Partial streams,
// error events and malformed events come out as documented.
#include "wirefixtures.h"

#include <QTest>

using namespace tapedeck::formats;
using namespace tapedeck::formats::wire;
using namespace tapedeck::wirefixtures;
using nlohmann::json;

Q_DECLARE_METATYPE(tapedeck::formats::wire::Api)

namespace {

std::string encodeAll(const std::vector<SseEvent> &events) {
    std::string bytes;
    for (const SseEvent &event : events)
        bytes.append(encodeSse(event));
    return bytes;
}

// The events SseParser finds in `bytes` when they arrive in the given pieces.
std::vector<SseEvent> parseInPieces(std::string_view bytes, const std::vector<size_t> &cuts) {
    SseParser parser;
    std::vector<SseEvent> events;
    size_t start = 0;
    for (size_t cut : cuts) {
        parser.feed(bytes.substr(start, cut - start), events);
        start = cut;
    }
    parser.feed(bytes.substr(start), events);
    if (auto open = parser.finish())
        events.push_back(*open);
    return events;
}

// Feeds `events` to an assembler; the error of the first event it refuses, if any.
std::optional<Error> assemble(StreamAssembler &assembler, const std::vector<SseEvent> &events) {
    for (const SseEvent &event : events) {
        Status status = assembler.add(event);
        if (!status)
            return status.error();
    }
    return std::nullopt;
}

QString describe(const Response &r) {
    json calls = json::array();
    for (const ToolCall &c : r.toolCalls)
        calls.push_back({c.id, c.name, c.arguments});
    return QString::fromStdString(json({{"id", r.id},
                                        {"model", r.model},
                                        {"text", r.text},
                                        {"thinking", r.thinking},
                                        {"signature", r.thinkingSignature},
                                        {"calls", calls},
                                        {"stop", stopReasonName(r.stopReason)},
                                        {"usage",
                                         {r.usage.inputTokens, r.usage.outputTokens,
                                          r.usage.cacheReadTokens, r.usage.cacheWriteTokens}}})
                                      .dump());
}

} // namespace

class TestWireStream : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void encodeSse() {
        QCOMPARE(wire::encodeSse({"message_stop", R"({"type":"message_stop"})"}),
                 std::string("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        QCOMPARE(wire::encodeSse({"", "[DONE]"}), std::string("data: [DONE]\n\n"));
        QCOMPARE(wire::encodeSse({"", "a\nb"}), std::string("data: a\ndata: b\n\n"));
        QCOMPARE(wire::encodeSse({"", ""}), std::string("data: \n\n"));
    }

    void sseParser_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QStringList>("events"); // "name|data" each
        QTest::newRow("one event") << QByteArray("event: e\ndata: d\n\n") << QStringList{"e|d"};
        QTest::newRow("crlf") << QByteArray("event: e\r\ndata: d\r\n\r\n") << QStringList{"e|d"};
        QTest::newRow("cr") << QByteArray("event: e\rdata: d\r\r") << QStringList{"e|d"};
        QTest::newRow("no space after colon") << QByteArray("data:d\n\n") << QStringList{"|d"};
        QTest::newRow("only one space is dropped") << QByteArray("data:  d\n\n")
                                                   << QStringList{"| d"};
        QTest::newRow("several data lines") << QByteArray("data: a\ndata: b\n\n")
                                            << QStringList{"|a\nb"};
        QTest::newRow("data with no colon") << QByteArray("data\n\n") << QStringList{"|"};
        QTest::newRow("comments and unknown fields")
            << QByteArray(": ping\nid: 7\nretry: 10\nfoo: bar\ndata: x\n\n") << QStringList{"|x"};
        QTest::newRow("an event without data is not dispatched")
            << QByteArray("event: lonely\n\ndata: y\n\n") << QStringList{"|y"};
        QTest::newRow("byte order mark") << QByteArray("\xEF\xBB\xBF" "data: z\n\n")
                                         << QStringList{"|z"};
        QTest::newRow("no blank line at the end") << QByteArray("data: a\n\nevent: e\ndata: open")
                                                  << QStringList{"|a", "e|open"};
        QTest::newRow("blank lines between events") << QByteArray("\n\ndata: a\n\n\n\ndata: b\n\n")
                                                    << QStringList{"|a", "|b"};
    }
    void sseParser() {
        QFETCH(QByteArray, bytes);
        QFETCH(QStringList, events);
        // Whole, byte by byte, and cut at every point in two.
        std::string_view all(bytes.constData(), size_t(bytes.size()));
        std::vector<std::vector<size_t>> cuttings = {{}};
        std::vector<size_t> everyByte;
        for (size_t i = 1; i < all.size(); ++i) {
            everyByte.push_back(i);
            cuttings.push_back({i});
        }
        cuttings.push_back(everyByte);
        for (const std::vector<size_t> &cuts : cuttings) {
            std::vector<SseEvent> found = parseInPieces(all, cuts);
            QStringList got;
            for (const SseEvent &e : found)
                got << QString::fromStdString(e.event + "|" + e.data);
            QCOMPARE(got, events);
        }
    }

    void streamRoundTrip_data() {
        QTest::addColumn<Api>("api");
        QTest::addColumn<int>("charsPerDelta");
        for (Api api : kAllApis) {
            for (int size : {1, 5, 64}) {
                QTest::addRow("%s, %d bytes a delta", apiName(api), size) << api << size;
            }
        }
    }
    // The response, rendered as a stream and framed as bytes, cut at every point (and byte
    // by byte, and with CRLF line ends), parsed and assembled: the same response.
    void streamRoundTrip() {
        QFETCH(Api, api);
        QFETCH(int, charsPerDelta);
        const Response original = richResponse(api);
        const std::vector<SseEvent> events = renderStream(api, original, {size_t(charsPerDelta)});
        QVERIFY(events.size() >= 3);
        const std::string bytes = encodeAll(events);

        std::vector<std::vector<size_t>> cuttings;
        std::vector<size_t> everyByte;
        for (size_t i = 1; i < bytes.size(); ++i)
            everyByte.push_back(i);
        cuttings.push_back(everyByte);
        if (charsPerDelta == 64) { // every split point of one stream per API keeps this quick
            for (size_t i = 0; i <= bytes.size(); ++i)
                cuttings.push_back({i});
        } else {
            cuttings.push_back({});
        }
        for (const std::vector<size_t> &cuts : cuttings) {
            std::vector<SseEvent> parsed = parseInPieces(bytes, cuts);
            QVERIFY(parsed == events);
            StreamAssembler assembler(api);
            std::optional<Error> error = assemble(assembler, parsed);
            QVERIFY2(!error, error ? error->message.c_str() : "");
            QVERIFY(assembler.complete());
            QCOMPARE(describe(assembler.response()), describe(original));
            QVERIFY(assembler.response() == original);
        }

        std::string crlf;
        for (char c : bytes)
            crlf.append(c == '\n' ? "\r\n" : std::string(1, c));
        QVERIFY(parseInPieces(crlf, {crlf.size() / 2}) == events);

        // The whole body the same response renders to says the same.
        Result<Response> whole = parseResponse(api, renderResponse(api, original));
        QVERIFY(whole.ok());
        QCOMPARE(describe(*whole), describe(original));
    }

    void partialStream_data() { apis(); }
    // A stream cut short is not complete, and what arrived is there.
    void partialStream() {
        QFETCH(Api, api);
        const Response original = richResponse(api);
        const std::vector<SseEvent> events = renderStream(api, original, {4});
        StreamAssembler assembler(api);
        size_t half = events.size() / 2;
        for (size_t i = 0; i < half; ++i)
            QVERIFY(assembler.add(events[i]).ok());
        QVERIFY(!assembler.complete());
        Response partial = assembler.response();
        QVERIFY(original.thinking.starts_with(partial.thinking));
        QVERIFY(original.text.starts_with(partial.text));
        QVERIFY(partial.thinking.size() + partial.text.size() > 0 || !partial.toolCalls.empty() ||
                api == Api::OpenAIResponses);
    }

    void streamsWithoutIds() {
        // Gemini gives no call ids: the assembler makes up the ones parseResponse makes up
        // for the same answer, whole.
        Response response = richResponse(Api::Gemini);
        for (ToolCall &call : response.toolCalls)
            call.id.clear();
        const json whole = renderResponse(Api::Gemini, response);
        Result<Response> parsedWhole = parseResponse(Api::Gemini, whole);
        QVERIFY(parsedWhole.ok());
        QVERIFY(!parsedWhole->toolCalls[0].id.empty());
        StreamAssembler assembler(Api::Gemini);
        QVERIFY(!assemble(assembler, renderStream(Api::Gemini, response)));
        QVERIFY(assembler.response() == *parsedWhole);
    }

    void responsesFromDeltasAlone() {
        // A Responses stream assembles from its deltas even without the .done events that
        // repeat them, and without the output in response.completed.
        const Response original = richResponse(Api::OpenAIResponses);
        StreamAssembler assembler(Api::OpenAIResponses);
        for (SseEvent event : renderStream(Api::OpenAIResponses, original, {3})) {
            if (event.event == "response.output_item.done")
                continue;
            if (event.event == "response.completed") {
                json data = json::parse(event.data);
                data["response"]["output"] = json::array();
                event.data = data.dump();
            }
            QVERIFY(assembler.add(event).ok());
        }
        QVERIFY(assembler.complete());
        QCOMPARE(describe(assembler.response()), describe(original));
    }

    void openaiChatToolCallDeltas() {
        // Interleaved deltas of two calls, each found by its index.
        auto callDelta = [](json call) {
            json chunk = {{"choices", {{{"index", 0}, {"delta", {{"tool_calls", {call}}}}}}}};
            return SseEvent{"", chunk.dump()};
        };
        const std::vector<SseEvent> events = {
            callDelta({{"index", 0}, {"id", "call_x"}, {"type", "function"},
                       {"function", {{"name", "bash"}, {"arguments", ""}}}}),
            callDelta({{"index", 1}, {"id", "call_y"},
                       {"function", {{"name", "read"}, {"arguments", "{\"pa"}}}}),
            callDelta({{"index", 0}, {"function", {{"arguments", "{\"command\":\"ls\"}"}}}}),
            callDelta({{"index", 1}, {"function", {{"arguments", "th\":\"x\"}"}}}}),
            {"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"},
            {"", R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4}})"},
            {"", "[DONE]"}};
        StreamAssembler assembler(Api::OpenAIChat);
        QVERIFY(!assemble(assembler, events));
        QVERIFY(assembler.complete());
        Response r = assembler.response();
        QCOMPARE(r.toolCalls.size(), size_t(2));
        QCOMPARE(r.toolCalls[0].id, std::string("call_x"));
        QVERIFY(r.toolCalls[0].arguments == json({{"command", "ls"}}));
        QVERIFY(r.toolCalls[1].arguments == json({{"path", "x"}}));
        QCOMPARE(r.stopReason, StopReason::ToolUse);
        QCOMPARE(r.usage.inputTokens, int64_t(10));
    }

    void errorEvents_data() {
        QTest::addColumn<Api>("api");
        QTest::addColumn<QString>("event");
        QTest::addColumn<QString>("data");
        QTest::addColumn<QString>("message");
        QTest::newRow("anthropic") << Api::AnthropicMessages << "error"
                                   << R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
                                   << "anthropic-messages stream event 1 (error): overloaded_error: Overloaded";
        QTest::newRow("openai chat") << Api::OpenAIChat << ""
                                     << R"({"error":{"message":"boom","type":"server_error"}})"
                                     << "openai-chat stream event 1 (data): server_error: boom";
        QTest::newRow("responses") << Api::OpenAIResponses << "error"
                                   << R"({"type":"error","code":"rate_limit_exceeded","message":"slow"})"
                                   << "rate_limit_exceeded: slow";
        QTest::newRow("responses failed") << Api::OpenAIResponses << "response.failed"
                                          << R"({"type":"response.failed","response":{"error":{"code":"server_error","message":"bad"}}})"
                                          << "server_error: bad";
        QTest::newRow("gemini") << Api::Gemini << ""
                                << R"({"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}})"
                                << "UNAVAILABLE: busy";
    }
    void errorEvents() {
        QFETCH(Api, api);
        QFETCH(QString, event);
        QFETCH(QString, data);
        QFETCH(QString, message);
        StreamAssembler assembler(api);
        Status status = assembler.add({event.toStdString(), data.toStdString()});
        QVERIFY(!status.ok());
        QCOMPARE(status.error().code, ErrorCode::Io);
        QVERIFY2(QString::fromStdString(status.error().message).contains(message),
                 status.error().message.c_str());
        QVERIFY(!assembler.complete());
    }

    void malformedEvents_data() {
        QTest::addColumn<Api>("api");
        QTest::addColumn<QString>("event");
        QTest::addColumn<QString>("data");
        QTest::addColumn<QString>("message");
        QTest::newRow("chat: not json") << Api::OpenAIChat << "" << "{oops"
                                        << "openai-chat stream event 2 (data): the data is not JSON";
        QTest::newRow("chat: call without index")
            << Api::OpenAIChat << ""
            << R"({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"id":"x"}]}}]})"
            << R"(event 2 (chat.completion.chunk): /choices/0/delta/tool_calls/0: expected a member "index")";
        QTest::newRow("chat: content a number")
            << Api::OpenAIChat << "" << R"({"choices":[{"index":0,"delta":{"content":5}}]})"
            << "/choices/0/delta/content: expected a string, got an integer";
        QTest::newRow("anthropic: delta before its block")
            << Api::AnthropicMessages << "content_block_delta"
            << R"({"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}})"
            << "event 2 (content_block_delta): /index: expected the index of a block that has started";
        QTest::newRow("anthropic: block without type")
            << Api::AnthropicMessages << "content_block_start"
            << R"({"type":"content_block_start","index":0,"content_block":{}})"
            << R"(/content_block: expected a member "type")";
        QTest::newRow("responses: delta before its item")
            << Api::OpenAIResponses << "response.output_text.delta"
            << R"({"type":"response.output_text.delta","output_index":4,"delta":"x"})"
            << "/output_index: expected the index of an item that was added";
        QTest::newRow("gemini: candidates not a list")
            << Api::Gemini << "" << R"({"candidates":{}})"
            << "gemini stream event 2 (data): /candidates: expected an array, got an object";
    }
    void malformedEvents() {
        QFETCH(Api, api);
        QFETCH(QString, event);
        QFETCH(QString, data);
        QFETCH(QString, message);
        StreamAssembler assembler(api);
        // A good first event, so that the bad one is the second.
        const std::vector<SseEvent> start = renderStream(api, richResponse(api));
        QVERIFY(assembler.add(start.front()).ok());
        Status status = assembler.add({event.toStdString(), data.toStdString()});
        QVERIFY(!status.ok());
        QCOMPARE(status.error().code, ErrorCode::Parse);
        QVERIFY2(QString::fromStdString(status.error().message).contains(message),
                 status.error().message.c_str());
        // The assembler goes on after a bad event.
        for (size_t i = 1; i < start.size(); ++i)
            QVERIFY(assembler.add(start[i]).ok());
        QVERIFY(assembler.complete());
    }

private:
    void apis() {
        QTest::addColumn<Api>("api");
        for (Api api : kAllApis)
            QTest::newRow(apiName(api)) << api;
    }
};

QTEST_GUILESS_MAIN(TestWireStream)
#include "tst_wirestream.moc"
