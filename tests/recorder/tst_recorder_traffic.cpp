// Bad traffic through the real `tapedeck proxy`, between real clients (libcurl, raw
// sockets) and the real scripted model server, or a raw-socket upstream in this file where
// the model server cannot act the case out: bodies that are not the API's JSON, 50 MB
// bodies both ways, a stream cut in the middle of an event, a client that goes away in
// the middle of a stream, a client that reads slowly. Each is recorded for what it is, the
// proxy's memory stays within a bound read from /proc, and the proxy goes on serving: a
// normal call afterwards succeeds and is recorded.
#include "modelprocess.h"
#include "proxyprocess.h"

#include <tapedeck/formats/tape.h>

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

using namespace tapedeck;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

constexpr size_t kMiB = size_t(1) << 20;

std::string chatBody(const std::string &userText, bool stream)
{
    return json{{"model", "gpt-4o"},
                {"stream", stream},
                {"messages", json::array({{{"role", "user"}, {"content", userText}}})}}
        .dump();
}

// Steps of the tape once it holds `count` of them (the writer commits each exchange
// shortly after it ends; a 50 MB one takes longer); fewer if that does not happen in time.
std::vector<formats::Step> stepsOnceThere(const QString &tape, size_t count, int timeoutMs = 60000)
{
    QElapsedTimer timer;
    timer.start();
    std::vector<formats::Step> steps;
    while ((steps = allSteps(tape)).size() < count && timer.elapsed() < timeoutMs)
        QTest::qWait(50);
    return steps;
}

// Pseudo-random lines of words, like a large log pasted into a conversation: text that
// compresses about as well as real text does, not a run of one letter.
std::string largeText(size_t bytes)
{
    std::mt19937 random(42);
    std::uniform_int_distribution<int> letter('a', 'z'), length(2, 9), lineWords(4, 14);
    std::string text;
    text.reserve(bytes + 16);
    while (text.size() < bytes) {
        const int words = lineWords(random);
        for (int w = 0; w < words; ++w) {
            const int n = length(random);
            for (int i = 0; i < n; ++i)
                text += static_cast<char>(letter(random));
            text += w + 1 < words ? ' ' : '\n';
        }
    }
    text.resize(bytes);
    return text;
}

// The `tapedeck` process among this process's children (the proxy under test).
pid_t proxyPid()
{
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        // pid (comm) state ppid ...
        const size_t open = line.find('('), close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos)
            continue;
        const std::string comm = line.substr(open + 1, close - open - 1);
        int ppid = 0;
        char state = 0;
        if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() &&
            comm == "tapedeck")
            return static_cast<pid_t>(std::stoi(name));
    }
    return -1;
}

// The proxy's resident memory now and at its peak, in bytes.
struct Memory {
    size_t rss = 0;
    size_t peak = 0;
};

Memory memoryOf(pid_t pid)
{
    Memory m;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    size_t kb = 0;
    while (status >> key) {
        if (key == "VmRSS:" && status >> kb)
            m.rss = kb * 1024;
        else if (key == "VmHWM:" && status >> kb)
            m.peak = kb * 1024;
    }
    return m;
}

// The proxy's memory once it has given back what the last exchange freed (the writer does
// that just after the exchange's commit), or as it is after `timeoutMs`.
Memory settledMemory(pid_t pid, size_t below, int timeoutMs = 20000)
{
    QElapsedTimer timer;
    timer.start();
    Memory m = memoryOf(pid);
    while (m.rss >= below && timer.elapsed() < timeoutMs) {
        QTest::qWait(50);
        m = memoryOf(pid);
    }
    return m;
}

// Starts the peak (VmHWM) again from the current resident size.
void resetPeak(pid_t pid)
{
    std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";
}

std::string mb(size_t bytes)
{
    return QByteArray::number(double(bytes) / double(kMiB), 'f', 1).toStdString() + " MB";
}

// An upstream that answers each connection with canned bytes and then closes it, for the
// breakages the scripted model server does not act out. Serves until destroyed.
class RawUpstream {
public:
    explicit RawUpstream(std::string answer) : RawUpstream(std::vector<std::string>{std::move(answer)}) {}
    // The answer sent piece by piece, with a pause before each after the first, so that
    // the proxy reads them apart.
    explicit RawUpstream(std::vector<std::string> pieces, std::chrono::milliseconds pause = {})
        : m_pieces(std::move(pieces)), m_pause(pause)
    {
        m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(m_listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
            ::listen(m_listener, 8) != 0 ||
            ::getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
            return;
        m_port = ntohs(address.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~RawUpstream()
    {
        m_stopping = true;
        ::shutdown(m_listener, SHUT_RDWR);
        ::close(m_listener);
        if (m_thread.joinable())
            m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

private:
    void serve()
    {
        while (!m_stopping) {
            const int connection = ::accept(m_listener, nullptr, nullptr);
            if (connection < 0)
                return;
            readRequest(connection);
            for (size_t i = 0; i < m_pieces.size(); ++i) {
                if (i > 0)
                    std::this_thread::sleep_for(m_pause);
                if (!sendAll(connection, m_pieces[i]))
                    break;
            }
            ::close(connection);
        }
    }
    static bool sendAll(int connection, const std::string &bytes)
    {
        size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(connection, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += static_cast<size_t>(n);
        }
        return true;
    }
    // Headers, then as many body bytes as their content-length says.
    static void readRequest(int connection)
    {
        std::string request;
        char buffer[16384];
        size_t headerEnd = std::string::npos;
        size_t wanted = 0;
        for (;;) {
            const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
            if (n <= 0)
                return;
            request.append(buffer, static_cast<size_t>(n));
            if (headerEnd == std::string::npos && (headerEnd = request.find("\r\n\r\n")) != std::string::npos) {
                std::string lower = request.substr(0, headerEnd);
                std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
                const size_t at = lower.find("content-length:");
                wanted = headerEnd + 4 + (at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15)));
            }
            if (headerEnd != std::string::npos && request.size() >= wanted)
                return;
        }
    }

    std::vector<std::string> m_pieces;
    std::chrono::milliseconds m_pause;
    int m_listener = -1;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::thread m_thread;
};

// A streamed call whose client reads at most `bytesPerSecond`, or stops after the first
// piece of the body when `stopAfterFirst`.
struct StreamReply {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::string body;
    qint64 ms = 0;
};

StreamReply streamWith(const std::string &url, const std::string &body, curl_off_t bytesPerSecond,
                       bool stopAfterFirst, std::atomic<size_t> *received = nullptr)
{
    struct Sink {
        StreamReply reply;
        bool stopAfterFirst = false;
        std::atomic<size_t> *received = nullptr;
    } sink;
    sink.stopAfterFirst = stopAfterFirst;
    sink.received = received;
    QElapsedTimer timer;
    timer.start();
    CURL *curl = curl_easy_init();
    curl_slist *headers = curl_slist_append(nullptr, "content-type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (bytesPerSecond > 0) {
        curl_easy_setopt(curl, CURLOPT_MAX_RECV_SPEED_LARGE, bytesPerSecond);
        // Small reads, and a small socket buffer, so that the slowness reaches the proxy.
        curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 4096L);
        using SockoptFn = int (*)(void *, curl_socket_t, curlsocktype);
        SockoptFn small = [](void *, curl_socket_t socket, curlsocktype) {
            int size = 16384;
            ::setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
            return int(CURL_SOCKOPT_OK);
        };
        curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, small);
    }
    using WriteFn = size_t (*)(char *, size_t, size_t, void *);
    WriteFn onBody = [](char *data, size_t size, size_t n, void *user) -> size_t {
        auto *s = static_cast<Sink *>(user);
        s->reply.body.append(data, size * n);
        if (s->received)
            *s->received = s->reply.body.size();
        return s->stopAfterFirst ? 0 : size * n; // 0: curl aborts and closes the connection
    };
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    sink.reply.code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &sink.reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    sink.reply.ms = timer.elapsed();
    return sink.reply;
}

std::string problemOf(const formats::Step &step)
{
    for (const char *key : {"tapedeck_problem", "problem"})
        if (step.payload.is_object() && step.payload.contains(key) && step.payload[key].is_string())
            return step.payload[key].get<std::string>();
    return {};
}

} // namespace

class TestRecorderTraffic : public QObject {
    Q_OBJECT

    // A normal call after the bad one: answered, and recorded as a model call with the text
    // the client got. `steps` is how many steps the tape holds once it is recorded.
    void proxyStillServes(const ProxyProcess &proxy, const QString &tape, size_t steps)
    {
        const HttpReply reply = httpPost(proxy.url("/v1/chat/completions"), chatBody("and now a normal call", false));
        QCOMPARE(reply.status, 200L);
        QVERIFY2(reply.body.find("normal answer") != std::string::npos, reply.body.c_str());
        const std::vector<formats::Step> recorded = stepsOnceThere(tape, steps);
        QCOMPARE(recorded.size(), steps);
        const formats::Step &last = recorded.back();
        QCOMPARE(last.kind, formats::StepKind::ModelCall);
        QCOMPARE(last.status, formats::StepStatus::Ok);
        QCOMPARE(last.wire->responseBody, reply.body);
    }

private Q_SLOTS:
    void initTestCase() { curl_global_init(CURL_GLOBAL_DEFAULT); }

    // Bodies that are not the API's JSON reach the model server as sent, its 400 reaches
    // the client, and the tape keeps each as an http_exchange with the exact bytes and why
    // it is not a model call.
    void notTheApisJson_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::newRow("malformed JSON") << QByteArray(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"})")
                                        << QByteArray("application/json");
        QTest::newRow("not JSON") << QByteArray("hello model, this is plain text\n") << QByteArray("text/plain");
        QTest::newRow("JSON, not an object") << QByteArray(R"(["model","gpt-4o"])") << QByteArray("application/json");
        QTest::newRow("an object, not a request") << QByteArray(R"({"model":7,"messages":"none"})")
                                                  << QByteArray("application/json");
        QTest::newRow("empty") << QByteArray() << QByteArray("application/json");
    }
    void notTheApisJson()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"text":"normal answer"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);

        const std::string sent = body.toStdString();
        const HttpReply direct = httpRequest("POST", model.url("/v1/chat/completions"), sent,
                                             {"content-type: " + contentType.toStdString()});
        const HttpReply reply = httpRequest("POST", proxy.url("/v1/chat/completions"), sent,
                                            {"content-type: " + contentType.toStdString()});
        QCOMPARE(reply.status, direct.status);
        QVERIFY2(reply.status >= 400, "the model server took a body that is not a request");
        QCOMPARE(reply.body, direct.body);

        const std::vector<formats::Step> steps = stepsOnceThere(tape, 1);
        QCOMPARE(steps.size(), size_t(1));
        const formats::Step &step = steps[0];
        QCOMPARE(step.kind, formats::StepKind::HttpExchange);
        QCOMPARE(step.status, formats::StepStatus::Error);
        QCOMPARE(step.wire->requestBody, sent);
        QCOMPARE(step.wire->responseBody, reply.body);
        QCOMPARE(step.wire->status, int(reply.status));
        QVERIFY2(problemOf(step).find("not recorded as a model call") != std::string::npos, problemOf(step).c_str());
        proxyStillServes(proxy, tape, 2);
        QCOMPARE(proxy.stop(), 0);
    }

    // 50 MB of text in one message: forwarded and recorded whole, byte for byte, as a model
    // call, at a bounded cost in memory. The bound: at its peak the proxy's resident size
    // grows by less than five times the body (the exact bytes, the parsed message, its
    // neutral form, its serialised form, and the compressed frame with SQLite's copies of
    // it each cost up to one body; they are not all held at once: about four on this
    // machine), and once the call is recorded it falls back to within 16 MB of where it
    // started: the body is not kept (5 MB stay on this machine; 33 MB did while glibc's
    // thresholds rose with the largest block freed, see recordingwriter.cpp).
    void largeRequestBody()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, {R"({"text":"warm"})", R"({"text":"read it all"})", R"({"text":"normal answer"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);
        const pid_t pid = proxyPid();
        QVERIFY(pid > 0);
        // One ordinary call first, so that what every call sets up is in the baseline.
        QCOMPARE(httpPost(proxy.url("/v1/chat/completions"), chatBody("warm up", false)).status, 200L);
        QCOMPARE(stepsOnceThere(tape, 1).size(), size_t(1));
        const Memory before = memoryOf(pid);
        resetPeak(pid);

        const size_t bodySize = 50 * kMiB;
        const std::string text = largeText(bodySize);
        const std::string body = chatBody(text, false);
        const HttpReply reply = httpPost(proxy.url("/v1/chat/completions"), body);
        QCOMPARE(reply.status, 200L);
        QVERIFY2(reply.body.find("read it all") != std::string::npos, reply.body.c_str());
        std::vector<formats::Step> steps = stepsOnceThere(tape, 2);
        QCOMPARE(steps.size(), size_t(2));
        const Memory after = settledMemory(pid, before.rss + 16 * kMiB);
        qInfo("proxy memory: %s before, %s at the peak, %s after, for a %s body", mb(before.rss).c_str(),
              mb(after.peak).c_str(), mb(after.rss).c_str(), mb(body.size()).c_str());
        QVERIFY2(after.peak < before.rss + 5 * body.size(),
                 ("peak " + mb(after.peak) + " from " + mb(before.rss) + ": 5 bodies or more").c_str());
        QVERIFY2(after.rss < before.rss + 16 * kMiB,
                 ("resident " + mb(after.rss) + " after the call, from " + mb(before.rss) + ": the body is kept").c_str());

        const formats::Step &call = steps[1];
        QCOMPARE(call.kind, formats::StepKind::ModelCall);
        QCOMPARE(call.status, formats::StepStatus::Ok);
        QVERIFY2(call.wire->requestBody == body, "the tape's request body is not the one sent");
        QCOMPARE(call.requestMessages.size(), size_t(1));
        QCOMPARE(call.requestMessages[0]["content"].get<std::string>().size(), text.size());
        QCOMPARE(call.wire->responseBody, reply.body);
        steps.clear();
        proxyStillServes(proxy, tape, 3);
        QCOMPARE(proxy.stop(), 0);
    }

    // A 50 MB answer: the client gets every byte, the tape holds it as the call's response,
    // and memory is bounded as for a large request, with more room: the answer's text is
    // also parsed into the neutral form and rendered as the step's payload, and the
    // parsers copy it on the way (5 bodies measured on this machine).
    void largeResponse()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        const std::string text = largeText(50 * kMiB);
        writeScript(script, {R"({"text":"warm"})", json{{"text", text}}.dump(), R"({"text":"normal answer"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        QVERIFY(model.port() > 0);
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);
        const pid_t pid = proxyPid();
        QVERIFY(pid > 0);
        QCOMPARE(httpPost(proxy.url("/v1/chat/completions"), chatBody("warm up", false)).status, 200L);
        QCOMPARE(stepsOnceThere(tape, 1).size(), size_t(1));
        const Memory before = memoryOf(pid);
        resetPeak(pid);

        const HttpReply reply = httpPost(proxy.url("/v1/chat/completions"), chatBody("say a lot", false));
        QCOMPARE(reply.status, 200L);
        QVERIFY(reply.body.size() > text.size());
        std::vector<formats::Step> steps = stepsOnceThere(tape, 2);
        QCOMPARE(steps.size(), size_t(2));
        const Memory after = settledMemory(pid, before.rss + 16 * kMiB);
        qInfo("proxy memory: %s before, %s at the peak, %s after, for a %s answer", mb(before.rss).c_str(),
              mb(after.peak).c_str(), mb(after.rss).c_str(), mb(reply.body.size()).c_str());
        QVERIFY2(after.peak < before.rss + 7 * reply.body.size(),
                 ("peak " + mb(after.peak) + " from " + mb(before.rss) + ": 7 answers or more").c_str());
        QVERIFY2(after.rss < before.rss + 16 * kMiB,
                 ("resident " + mb(after.rss) + " after the call, from " + mb(before.rss) + ": the answer is kept").c_str());

        const formats::Step &call = steps[1];
        QCOMPARE(call.kind, formats::StepKind::ModelCall);
        QCOMPARE(call.status, formats::StepStatus::Ok);
        QVERIFY2(call.wire->responseBody == reply.body, "the tape's response body is not the one received");
        const json answer = json::parse(reply.body);
        QVERIFY(answer["choices"][0]["message"]["content"].get<std::string>() == text);
        steps.clear();
        proxyStillServes(proxy, tape, 3);
        QCOMPARE(proxy.stop(), 0);
    }

    // An upstream stream that breaks off inside an event. Chunked, the break is an error
    // of the transfer and the client's stream is cut too; without framing (the answer ends
    // when the connection does) the client sees an ordinary end. Either way the client gets
    // the bytes the upstream sent, and the call is recorded as cut short, with the events
    // that did arrive.
    void streamCutMidEvent_data()
    {
        QTest::addColumn<bool>("chunked");
        QTest::newRow("chunked") << true;
        QTest::newRow("until the connection closes") << false;
    }
    void streamCutMidEvent()
    {
        QFETCH(bool, chunked);
        const std::string whole =
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
            "\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n";
        const std::string half = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"cho";
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";
        if (chunked) {
            auto chunk = [](const std::string &bytes) {
                char size[32];
                std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
                return size + bytes + "\r\n";
            };
            answer += "Transfer-Encoding: chunked\r\n\r\n" + chunk(whole) + chunk(half); // no last chunk
        } else {
            answer += "Connection: close\r\n\r\n" + whole + half;
        }
        RawUpstream upstream(answer);
        QTemporaryDir dir;
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(upstream.url()));
        QVERIFY(proxy.port() > 0);

        const HttpReply reply = httpPost(proxy.url("/v1/chat/completions"), chatBody("stream, then break", true));
        QCOMPARE(reply.status, 200L);
        QCOMPARE(reply.body, whole + half);
        if (chunked)
            QVERIFY2(reply.code != CURLE_OK, "the client's stream was ended as if the upstream had ended it");

        const std::vector<formats::Step> steps = stepsOnceThere(tape, 1);
        QCOMPARE(steps.size(), size_t(1));
        const formats::Step &call = steps[0];
        QCOMPARE(call.kind, formats::StepKind::ModelCall);
        QCOMPARE(call.status, formats::StepStatus::Cancelled);
        QCOMPARE(call.wire->responseBody, reply.body);
        QVERIFY2(!problemOf(call).empty(), "the step does not say the stream broke off");
        QVERIFY2(call.payload.dump().find("Hello") != std::string::npos, call.payload.dump().c_str());
        QCOMPARE(proxy.stop(), 0);
    }

    // --redact on a stream: a secret that two network reads split, and one that two stream
    // events split, stay out of the tape's wire bytes and out of the assembled answer. The
    // client still gets every byte as the upstream sent it, and the recorded chunks still
    // add up to the recorded body.
    void redactionAcrossReads()
    {
        auto event = [](const std::string &text) {
            return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
                   "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text +
                   "\"},\"finish_reason\":null}]}\n\n";
        };
        const std::string readSplit = event("your ticket-9981 is open");
        const size_t cut = readSplit.find("ticket-99") + 9;
        const std::string end = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
                                "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                                "data: [DONE]\n\n";
        const std::vector<std::string> pieces = {
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" +
                readSplit.substr(0, cut),
            readSplit.substr(cut) + event(", and ticket-12"), event("34 too.") + end};
        RawUpstream upstream(pieces, std::chrono::milliseconds(150));
        QTemporaryDir dir;
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(upstream.url()), {"--redact", "ticket-[0-9]+"});
        QVERIFY(proxy.port() > 0);

        const HttpReply reply = httpPost(proxy.url("/v1/chat/completions"), chatBody("my tickets?", true));
        QCOMPARE(reply.status, 200L);
        QCOMPARE(reply.body, readSplit + event(", and ticket-12") + event("34 too.") + end);

        const std::vector<formats::Step> steps = stepsOnceThere(tape, 1);
        QCOMPARE(steps.size(), size_t(1));
        const formats::Step &call = steps[0];
        QCOMPARE(call.kind, formats::StepKind::ModelCall);
        QCOMPARE(call.status, formats::StepStatus::Ok);
        const std::string &body = call.wire->responseBody;
        QVERIFY2(body.find("ticket-9981") == std::string::npos, body.c_str());
        QVERIFY2(body.find("<redacted:") != std::string::npos, body.c_str());
        QVERIFY2(call.wire->chunks.size() >= 2, "the pieces were not read apart");
        size_t chunked = 0;
        for (const formats::StreamChunk &chunk : call.wire->chunks)
            chunked += chunk.length;
        QCOMPARE(chunked, body.size());
        // The placeholder went with the piece the secret began in.
        const size_t first = call.wire->chunks[0].length;
        QVERIFY2(body.substr(0, first).find("<redacted:") != std::string::npos, body.substr(0, first).c_str());

        const std::string answer = call.payload.dump();
        QVERIFY2(answer.find("ticket-9981") == std::string::npos, answer.c_str());
        QVERIFY2(answer.find("ticket-1234") == std::string::npos, answer.c_str());
        QVERIFY2(answer.find("34 too") == std::string::npos, answer.c_str());
        QVERIFY2(answer.find("<redacted:") != std::string::npos, answer.c_str());
        QCOMPARE(proxy.stop(), 0);
    }

    // A disk that stalls: another process holds the tape's write lock for two seconds (as
    // a stalled disk holds a write). Calls through the proxy meanwhile take no longer than
    // before it, the tape gains nothing while the lock is held, and once it is let go every
    // call is there.
    void stalledDiskDelaysNothing()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        writeScript(script, std::vector<std::string>(12, R"({"text":"ok"})"));
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);
        const std::string url = proxy.url("/v1/chat/completions");
        std::vector<qint64> before, during;
        for (int i = 0; i < 3; ++i) {
            QElapsedTimer t;
            t.start();
            QCOMPARE(httpPost(url, chatBody("before " + std::to_string(i), false)).status, 200L);
            before.push_back(t.elapsed());
        }
        QCOMPARE(stepsOnceThere(tape, 3).size(), size_t(3));

        sqlite3 *holder = nullptr;
        QCOMPARE(sqlite3_open(tape.toUtf8().constData(), &holder), SQLITE_OK);
        QCOMPARE(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
        QElapsedTimer held;
        held.start();
        for (int i = 0; i < 6; ++i) {
            QElapsedTimer t;
            t.start();
            QCOMPARE(httpPost(url, chatBody("during " + std::to_string(i), false)).status, 200L);
            during.push_back(t.elapsed());
        }
        QCOMPARE(allSteps(tape).size(), size_t(3)); // the writer is waiting for the lock
        while (held.elapsed() < 2000)
            QTest::qWait(50);
        QCOMPARE(sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(holder);

        const qint64 slowestBefore = *std::max_element(before.begin(), before.end());
        const qint64 slowestDuring = *std::max_element(during.begin(), during.end());
        qInfo("slowest call: %lld ms before, %lld ms while the tape was locked for 2 s", slowestBefore,
              slowestDuring);
        QVERIFY2(slowestDuring < 500, QByteArray::number(slowestDuring).constData());
        QCOMPARE(stepsOnceThere(tape, 9).size(), size_t(9));
        QCOMPARE(proxy.stop(), 0);
    }

    // A client that goes away in the middle of a slow stream: the proxy stops reading from
    // the upstream (whose write then fails), records what passed as cut short by the
    // client, and serves the next call.
    void clientGoesAwayMidStream()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        std::string longText;
        for (int i = 0; i < 200; ++i)
            longText += "word" + std::to_string(i) + " ";
        writeScript(script, {json{{"text", longText}}.dump(), R"({"text":"normal answer"})"});
        // 200 events 20 ms apart: four seconds, if nobody stopped it.
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--log", dir.filePath("model.log"),
                            "--chunk-ms", "20", "--chars-per-delta", "6"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);

        const StreamReply gone = streamWith(proxy.url("/v1/chat/completions"), chatBody("talk slowly", true), 0, true);
        QCOMPARE(gone.code, CURLE_WRITE_ERROR);
        QCOMPARE(gone.status, 200L);

        const std::vector<formats::Step> steps = stepsOnceThere(tape, 1, 10000);
        QCOMPARE(steps.size(), size_t(1));
        const formats::Step &call = steps[0];
        QCOMPARE(call.kind, formats::StepKind::ModelCall);
        QCOMPARE(call.status, formats::StepStatus::Cancelled);
        QVERIFY2(problemOf(call).find("client went away") != std::string::npos, problemOf(call).c_str());
        QVERIFY(call.wire->responseBody.size() < longText.size());
        QVERIFY2(call.endedUs - call.startedUs < 3'000'000, "the proxy went on reading the stream after the client left");

        // The model server was told: its write failed, long before the stream's end.
        QElapsedTimer timer;
        timer.start();
        json logged;
        while (timer.elapsed() < 10000) {
            std::ifstream log(dir.filePath("model.log").toStdString());
            std::string line;
            if (std::getline(log, line) && !line.empty()) {
                logged = json::parse(line);
                break;
            }
            QTest::qWait(50);
        }
        QVERIFY2(logged.is_object(), "the model server logged nothing");
        QVERIFY2(logged["response"].contains("error"), logged.dump().c_str());
        QVERIFY(logged["ms"].get<int64_t>() < 3000);
        proxyStillServes(proxy, tape, 2);
        QCOMPARE(proxy.stop(), 0);
    }

    // More conversations than the recorder keeps whole state for (64): a conversation left
    // while 70 others ran still continues in its thread, and one waiting on a tool keeps
    // its open call, so that the result is linked. The tape reads back exactly.
    void manyConversations()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        std::vector<std::string> turns{R"({"tool_calls":[{"id":"call_w","name":"bash","arguments":{"command":"make"}}]})",
                                       R"({"text":"b1"})"};
        for (int i = 0; i < 70; ++i)
            turns.push_back(R"({"text":"side"})");
        turns.push_back(R"({"expect":"built","text":"w2"})");
        turns.push_back(R"({"text":"b2"})");
        writeScript(script, turns);
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);
        const std::string url = proxy.url("/v1/chat/completions");

        const json waiting = {{"role", "user"}, {"content", "build it"}};
        const json left = {{"role", "user"}, {"content", "conversation B"}};
        std::vector<std::string> sent{json{{"model", "gpt-4o"}, {"messages", {waiting}}}.dump(),
                                      json{{"model", "gpt-4o"}, {"messages", {left}}}.dump()};
        for (int i = 0; i < 70; ++i)
            sent.push_back(chatBody("side conversation " + std::to_string(i), false));
        const json call = {{"role", "assistant"},
                           {"content", nullptr},
                           {"tool_calls", json::array({{{"id", "call_w"},
                                                        {"type", "function"},
                                                        {"function", {{"name", "bash"}, {"arguments", "{\"command\":\"make\"}"}}}}})}};
        const json result = {{"role", "tool"}, {"tool_call_id", "call_w"}, {"content", "built"}};
        sent.push_back(json{{"model", "gpt-4o"}, {"messages", {waiting, call, result}}}.dump());
        sent.push_back(json{{"model", "gpt-4o"},
                            {"messages", {left, {{"role", "assistant"}, {"content", "b1"}}, {{"role", "user"}, {"content", "go on"}}}}}
                           .dump());
        for (const std::string &body : sent)
            QCOMPARE(httpPost(url, body).status, 200L);
        QCOMPARE(proxy.stop(), 0);

        const std::vector<formats::Step> steps = allSteps(tape);
        std::vector<const formats::Step *> calls;
        const formats::Step *toolCall = nullptr, *toolResult = nullptr;
        for (const formats::Step &s : steps) {
            if (s.kind == formats::StepKind::ModelCall)
                calls.push_back(&s);
            if (s.kind == formats::StepKind::ToolCall)
                toolCall = &s;
            if (s.kind == formats::StepKind::ToolResult)
                toolResult = &s;
        }
        QCOMPARE(calls.size(), sent.size());
        for (size_t i = 0; i < calls.size(); ++i)
            QVERIFY2(calls[i]->wire->requestBody == sent[i], ("call " + std::to_string(i) + " reads back differently: " +
                                                              calls[i]->wire->requestBody.substr(0, 300) + " instead of " +
                                                              sent[i].substr(0, 300))
                                                                 .c_str());
        QVERIFY2(calls[72]->thread == calls[0]->thread, "the conversation waiting on a tool lost its thread");
        QVERIFY2(calls[73]->thread == calls[1]->thread, "the conversation left for 70 others lost its thread");
        QVERIFY(toolCall && toolResult);
        QCOMPARE(toolResult->parent, std::optional(toolCall->index));
        QCOMPARE(toolResult->thread, calls[0]->thread);
        auto reader = formats::TapeReader::open(tape.toStdString());
        QVERIFY(reader.ok());
        QVERIFY((*reader)->verify().ok);
    }

    // A client that reads a 32 MB stream at 8 MB/s: it gets all of it, another client's
    // call meanwhile is answered at once, and the stream is recorded whole. The proxy reads
    // from the upstream only as fast as the client takes: a quarter of the way, it holds
    // what it passed on (its record of the stream so far) and not the rest of the answer,
    // and the model server finishes sending late, not at once. The margins are for what
    // the sockets' buffers hold between the three.
    void slowClient()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath("turns.jsonl");
        const size_t streamSize = 32 * kMiB;
        const std::string text = largeText(streamSize);
        writeScript(script, {R"({"text":"warm"})", json{{"text", text}}.dump(), R"({"text":"normal answer"})",
                             R"({"text":"normal answer"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--chunk-ms", "0",
                            "--chars-per-delta", "4096", "--log", dir.filePath("model.log")});
        const QString tape = dir.filePath("run.tape");
        ProxyProcess proxy(tape, QString::fromStdString(model.url("")));
        QVERIFY(proxy.port() > 0);
        const pid_t pid = proxyPid();
        QVERIFY(pid > 0);
        QCOMPARE(httpPost(proxy.url("/v1/chat/completions"), chatBody("warm up", false)).status, 200L);
        QCOMPARE(stepsOnceThere(tape, 1).size(), size_t(1));
        const Memory before = memoryOf(pid);

        StreamReply slow;
        std::atomic<size_t> received{0};
        std::thread reader([&] {
            slow = streamWith(proxy.url("/v1/chat/completions"), chatBody("stream a lot", true), 8 << 20, false,
                              &received);
        });
        QElapsedTimer timer;
        timer.start();
        while (received < streamSize / 4 && timer.elapsed() < 30000)
            QTest::qWait(20);
        const size_t quarter = received;
        const Memory during = memoryOf(pid);
        QElapsedTimer other;
        other.start();
        const HttpReply meanwhile = httpPost(proxy.url("/v1/chat/completions"), chatBody("meanwhile", false));
        const qint64 otherMs = other.elapsed();
        reader.join();
        qInfo("proxy memory: %s before, %s when the slow client had %s of the stream", mb(before.rss).c_str(),
              mb(during.rss).c_str(), mb(quarter).c_str());
        QVERIFY2(during.rss < before.rss + quarter + 16 * kMiB,
                 ("the proxy held " + mb(during.rss - before.rss) + " more when the client had read " + mb(quarter) +
                  ": it read ahead of the client")
                     .c_str());
        QCOMPARE(meanwhile.status, 200L);
        QVERIFY2(otherMs < 1000, ("a call beside the slow stream took " + std::to_string(otherMs) + " ms").c_str());
        QCOMPARE(slow.code, CURLE_OK);
        QCOMPARE(slow.status, 200L);
        QVERIFY2(slow.ms >= 3000, ("the slow client read 32 MB in " + std::to_string(slow.ms) + " ms").c_str());
        QVERIFY(slow.body.find("data: [DONE]") != std::string::npos);
        std::ifstream log(dir.filePath("model.log").toStdString());
        int64_t streamMs = -1;
        for (std::string line; std::getline(log, line);) {
            const json logged = json::parse(line, nullptr, false);
            if (logged.is_object() && logged["response"].value("sent_size", int64_t(0)) > int64_t(streamSize))
                streamMs = logged["ms"].get<int64_t>();
        }
        QVERIFY2(streamMs * 2 > slow.ms, ("the model server sent the stream in " + std::to_string(streamMs) +
                                          " ms, the client read it in " + std::to_string(slow.ms))
                                             .c_str());

        const std::vector<formats::Step> steps = stepsOnceThere(tape, 3);
        QCOMPARE(steps.size(), size_t(3));
        const auto streamed = std::find_if(steps.begin(), steps.end(), [](const formats::Step &s) {
            return s.wire && !s.wire->chunks.empty();
        });
        QVERIFY(streamed != steps.end());
        QCOMPARE(streamed->status, formats::StepStatus::Ok);
        QVERIFY2(streamed->wire->responseBody == slow.body, "the tape's stream is not what the slow client read");
        proxyStillServes(proxy, tape, 4);
        QCOMPARE(proxy.stop(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRecorderTraffic)
#include "tst_recorder_traffic.moc"
