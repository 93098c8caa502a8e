#include "mcprelay.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace tapedeck::cli {

using nlohmann::json;

namespace {

// A line longer than this is relayed but not looked at, so memory stays bounded.
constexpr size_t kMaxInspectedLine = size_t(64) << 20;
// Lines waiting to be looked at, at most; beyond it they are relayed and not recorded.
constexpr size_t kMaxQueuedBytes = size_t(256) << 20;

int64_t nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool writeAll(int fd, const char *data, size_t size)
{
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += written;
        size -= static_cast<size_t>(written);
    }
    return true;
}

// Cuts a byte stream into lines (less the newline and a carriage return before it).
class LineSplitter {
public:
    template <typename OnLine> void feed(const char *data, size_t size, OnLine &&onLine)
    {
        while (size > 0) {
            const char *newline = static_cast<const char *>(std::memchr(data, '\n', size));
            const size_t piece = newline ? size_t(newline - data) : size;
            if (!m_skipping)
                m_partial.append(data, piece);
            if (m_partial.size() > kMaxInspectedLine) {
                m_partial = std::string();
                m_skipping = true;
            }
            if (!newline)
                return;
            endLine(onLine);
            data += piece + 1;
            size -= piece + 1;
        }
    }

    // The input ended: a last line without its newline is still a line.
    template <typename OnLine> void finish(OnLine &&onLine)
    {
        if (!m_partial.empty() || m_skipping)
            endLine(onLine);
    }

private:
    template <typename OnLine> void endLine(OnLine &onLine)
    {
        if (!m_skipping) {
            if (!m_partial.empty() && m_partial.back() == '\r')
                m_partial.pop_back();
            onLine(std::move(m_partial));
        }
        m_partial = std::string();
        m_skipping = false;
    }

    std::string m_partial;
    bool m_skipping = false; // in a line too long to look at
};

// The messages of a line: the message, or each message of a batch, with the text the report
// keeps for it (the exact line, or for a batch member its own serialization).
template <typename OnMessage> void forEachMessage(const std::string &line, OnMessage &&onMessage)
{
    const json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object()) {
        onMessage(parsed, line);
    } else if (parsed.is_array()) {
        for (const json &message : parsed)
            if (message.is_object())
                onMessage(message, message.dump(-1, ' ', false, json::error_handler_t::replace));
    }
}

json member(const json &object, const char *name)
{
    return object.is_object() && object.contains(name) ? object[name] : json(nullptr);
}

// Pairs the client's requests with the server's answers by JSON-RPC id. Used by one thread
// at a time.
class CallMatcher {
public:
    CallMatcher(McpRelay::Identity identity, McpRelay::Sink sink)
        : m_identity(std::move(identity)), m_sink(std::move(sink))
    {
    }

    void clientLine(const std::string &line, int64_t atUs)
    {
        if (line.find("\"method\"") == std::string::npos)
            return; // an answer to one of the server's own requests, or not JSON-RPC at all
        forEachMessage(line, [&](const json &message, const std::string &text) {
            const json method = member(message, "method");
            const json id = member(message, "id");
            if (!method.is_string() || id.is_null())
                return; // a notification
            const std::string name = method.get<std::string>();
            if (name == "tools/list" || name == "tools/call" || name == "initialize")
                m_pending[id.dump()] = Pending{name, text, atUs};
        });
    }

    void serverLine(const std::string &line, int64_t atUs)
    {
        if (m_pending.empty())
            return; // nothing was asked: the line is not worth parsing
        forEachMessage(line, [&](const json &message, const std::string &text) {
            const json id = member(message, "id");
            if (id.is_null() || message.contains("method") ||
                !(message.contains("result") || message.contains("error")))
                return;
            const auto pending = m_pending.find(id.dump());
            if (pending == m_pending.end())
                return;
            const Pending call = std::move(pending->second);
            m_pending.erase(pending);
            if (call.method == "initialize") {
                const json info = member(member(message, "result"), "serverInfo");
                if (info.is_object())
                    m_serverInfo = info;
                return;
            }
            report(call, text, atUs);
        });
    }

    void reportUnanswered()
    {
        const int64_t gaveUpUs = nowUs();
        for (const auto &[id, call] : m_pending)
            if (call.method != "initialize")
                report(call, std::nullopt, gaveUpUs);
        m_pending.clear();
    }

private:
    struct Pending {
        std::string method;
        std::string line;
        int64_t atUs = 0;
    };

    void report(const Pending &call, const std::optional<std::string> &response, int64_t responseUs)
    {
        json body = {{"session", m_identity.session},
                     {"server", m_identity.server},
                     {"method", call.method},
                     {"request", call.line},
                     {"response", response ? json(*response) : json(nullptr)},
                     {"request_us", call.atUs},
                     {"response_us", responseUs}};
        if (!m_serverInfo.is_null())
            body["server_info"] = m_serverInfo;
        m_sink(std::move(body));
    }

    const McpRelay::Identity m_identity;
    const McpRelay::Sink m_sink;
    std::unordered_map<std::string, Pending> m_pending; // by the id's JSON text
    json m_serverInfo;
};

// The lines both copies hand over, looked at on a thread of its own, in an order that keeps
// the pairing right: the server can only answer a request after it was written to it, so a
// server line is looked at once every client line read before that server line was read has
// been. Client lines go first whenever there are any.
class LineInspector {
public:
    explicit LineInspector(CallMatcher &matcher) : m_matcher(matcher) {}

    void start()
    {
        m_thread = std::thread([this] { loop(); });
    }

    void clientLine(std::string line, int64_t atUs)
    {
        push(m_client, Line{std::move(line), atUs, 0});
    }
    // The client copy has handed over every line within the first `bytes` bytes it read.
    void clientHandedOver(uint64_t bytes)
    {
        std::lock_guard lock(m_mutex);
        m_clientHandedOver = bytes;
        m_wake.notify_one();
    }
    // `clientBytesRead`: how much the client copy had read when this line's end was read.
    void serverLine(std::string line, int64_t atUs, uint64_t clientBytesRead)
    {
        push(m_server, Line{std::move(line), atUs, clientBytesRead});
    }

    // No more lines will come: looks at what is queued, then stops the thread.
    void finish()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
            m_clientHandedOver = std::numeric_limits<uint64_t>::max();
        }
        m_wake.notify_one();
        if (m_thread.joinable())
            m_thread.join();
    }

private:
    struct Line {
        std::string text;
        int64_t atUs = 0;
        uint64_t clientBytesRead = 0;
    };

    void push(std::deque<Line> &queue, Line line)
    {
        std::lock_guard lock(m_mutex);
        if (m_queuedBytes + line.text.size() > kMaxQueuedBytes)
            return;
        m_queuedBytes += line.text.size();
        queue.push_back(std::move(line));
        m_wake.notify_one();
    }

    void loop()
    {
        for (;;) {
            std::unique_lock lock(m_mutex);
            const auto serverReady = [this] {
                return !m_server.empty() && m_server.front().clientBytesRead <= m_clientHandedOver;
            };
            m_wake.wait(lock, [&] { return !m_client.empty() || serverReady() || m_stopping; });
            const bool fromClient = !m_client.empty();
            if (!fromClient && !serverReady())
                return; // stopping, and everything was looked at
            std::deque<Line> &queue = fromClient ? m_client : m_server;
            Line line = std::move(queue.front());
            queue.pop_front();
            m_queuedBytes -= line.text.size();
            lock.unlock();
            if (fromClient)
                m_matcher.clientLine(line.text, line.atUs);
            else
                m_matcher.serverLine(line.text, line.atUs);
        }
    }

    CallMatcher &m_matcher;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Line> m_client;
    std::deque<Line> m_server;
    uint64_t m_clientHandedOver = 0;
    size_t m_queuedBytes = 0;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace

struct McpRelay::Impl {
    Impl(int toServerFd, int fromServerFd, Identity identity, Sink sink)
        : toServer(toServerFd), fromServer(fromServerFd),
          matcher(std::move(identity), std::move(sink)), inspector(matcher)
    {
        if (::pipe2(stopPipe, O_CLOEXEC) != 0)
            stopPipe[0] = stopPipe[1] = -1;
    }

    // Copies `from` to `to` until `from` ends or the relay stops. Per piece read: onRead(size)
    // before it is written on, then onLine(line, atUs) for each line it completes, then
    // onPieceDone().
    template <typename OnRead, typename OnLine, typename OnPieceDone>
    void copy(int from, int to, bool stopAtWriteFailure, OnRead &&onRead, OnLine &&onLine,
              OnPieceDone &&onPieceDone);
    void copyToServer();
    void copyToClient();

    int toServer;
    int fromServer;
    int stopPipe[2] = {-1, -1}; // readable once finish() wants the copies to stop
    CallMatcher matcher;
    LineInspector inspector;
    std::atomic<uint64_t> clientBytesRead{0};
    std::thread toServerThread;
    std::thread toClientThread;
    std::mutex doneMutex;
    std::condition_variable doneChanged;
    bool serverOutputEnded = false;
    bool finished = false;
};

template <typename OnRead, typename OnLine, typename OnPieceDone>
void McpRelay::Impl::copy(int from, int to, bool stopAtWriteFailure, OnRead &&onRead,
                          OnLine &&onLine, OnPieceDone &&onPieceDone)
{
    std::string buffer(size_t(64) << 10, '\0');
    LineSplitter lines;
    int64_t atUs = 0;
    auto handOver = [&](std::string line) { onLine(std::move(line), atUs); };
    bool writing = true;
    for (;;) {
        pollfd fds[2] = {{from, POLLIN, 0}, {stopPipe[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents != 0)
            return;
        const ssize_t got = ::read(from, buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        const size_t size = static_cast<size_t>(got);
        atUs = nowUs();
        onRead(size);
        // A reader that went away (the client closed our stdout) is not waited for: the
        // server's output is still read, so the server never blocks on a full pipe.
        if (writing && !writeAll(to, buffer.data(), size))
            writing = false;
        lines.feed(buffer.data(), size, handOver);
        onPieceDone();
        if (!writing && stopAtWriteFailure)
            break;
    }
    atUs = nowUs();
    lines.finish(handOver);
}

void McpRelay::Impl::copyToServer()
{
    uint64_t read = 0;
    // A piece is counted before it is written on, so that no answer to it can be read before
    // it is counted; it is handed over once its lines are queued.
    copy(
        STDIN_FILENO, toServer, /*stopAtWriteFailure: the server no longer reads*/ true,
        [&](size_t size) { read = clientBytesRead.fetch_add(size) + size; },
        [&](std::string line, int64_t atUs) { inspector.clientLine(std::move(line), atUs); },
        [&] { inspector.clientHandedOver(read); });
    inspector.clientHandedOver(std::numeric_limits<uint64_t>::max());
    // The client's input ended (or the relay stops): the server's input ends with it.
    ::close(toServer);
    toServer = -1;
}

void McpRelay::Impl::copyToClient()
{
    uint64_t clientRead = 0;
    copy(
        fromServer, STDOUT_FILENO, false, [&](size_t) { clientRead = clientBytesRead.load(); },
        [&](std::string line, int64_t atUs) {
            // Only a line that can be an answer is worth the inspector's time.
            if (line.find("\"id\"") != std::string::npos)
                inspector.serverLine(std::move(line), atUs, clientRead);
        },
        [] {});
    std::lock_guard lock(doneMutex);
    serverOutputEnded = true;
    doneChanged.notify_all();
}

McpRelay::McpRelay(int toServer, int fromServer, Identity identity, Sink sink)
    : m_impl(std::make_unique<Impl>(toServer, fromServer, std::move(identity), std::move(sink)))
{
}

McpRelay::~McpRelay()
{
    finish({});
}

void McpRelay::start()
{
    m_impl->inspector.start();
    m_impl->toServerThread = std::thread([d = m_impl.get()] { d->copyToServer(); });
    m_impl->toClientThread = std::thread([d = m_impl.get()] { d->copyToClient(); });
}

void McpRelay::finish(std::chrono::milliseconds drain)
{
    Impl &d = *m_impl;
    if (d.finished)
        return;
    d.finished = true;
    {
        std::unique_lock lock(d.doneMutex);
        d.doneChanged.wait_for(lock, drain, [&d] { return d.serverOutputEnded; });
    }
    const char stop = 1;
    (void)!::write(d.stopPipe[1], &stop, 1);
    if (d.toServerThread.joinable())
        d.toServerThread.join();
    if (d.toClientThread.joinable())
        d.toClientThread.join();
    d.inspector.finish();
    d.matcher.reportUnanswered();
    for (int fd : {d.toServer, d.fromServer, d.stopPipe[0], d.stopPipe[1]})
        if (fd >= 0)
            ::close(fd);
    d.toServer = d.fromServer = -1;
}

} // namespace tapedeck::cli
