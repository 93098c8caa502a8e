#include "mcpreporter.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

namespace tapedeck::cli {

using nlohmann::json;

namespace {

// Reports waiting to be sent, at most: a recorder that stalls costs memory up to this, then
// the calls beyond it go unrecorded.
constexpr size_t kMaxQueued = 1024;

} // namespace

struct McpReporter::Impl {
    std::string baseUrl;
    std::unique_ptr<httplib::Client> client; // null when baseUrl is not an http:// URL
    std::string path;                        // the token's path, then /_tapedeck/mcp

    std::mutex mutex;
    std::condition_variable wake;
    std::deque<json> queue;
    bool stopping = false;
    bool failed = false; // a report was not taken: the rest are dropped
    int64_t delivered = 0;
    int64_t dropped = 0;
    std::thread thread;

    void loop();
    bool send(const json &call, std::string &why);
    void fail(const std::string &why); // with the mutex held
};

McpReporter::McpReporter(std::string baseUrl) : m_impl(std::make_unique<Impl>())
{
    Impl &d = *m_impl;
    d.baseUrl = std::move(baseUrl);
    const std::string scheme = "http://";
    if (d.baseUrl.rfind(scheme, 0) == 0) {
        const size_t pathStart = d.baseUrl.find('/', scheme.size());
        std::string prefix = pathStart == std::string::npos ? "" : d.baseUrl.substr(pathStart);
        while (!prefix.empty() && prefix.back() == '/')
            prefix.pop_back();
        d.path = prefix + "/_tapedeck/mcp";
        d.client = std::make_unique<httplib::Client>(d.baseUrl.substr(0, pathStart));
        d.client->set_connection_timeout(std::chrono::seconds(2));
        d.client->set_read_timeout(std::chrono::seconds(10));
        d.client->set_write_timeout(std::chrono::seconds(10));
        // A connection per report (cheap on loopback, and calls are few): an idle kept-alive
        // one would hold the recorder's stop (with -o, in this very process; under `tapedeck
        // record`, when this relay outlives the agent) until its keep-alive timeout.
        d.client->set_keep_alive(false);
    } else {
        std::lock_guard lock(d.mutex);
        d.fail("it is not an http:// URL");
    }
    d.thread = std::thread([&d] { d.loop(); });
}

McpReporter::~McpReporter()
{
    finish();
}

void McpReporter::report(json call)
{
    Impl &d = *m_impl;
    {
        std::lock_guard lock(d.mutex);
        if (d.failed || d.queue.size() >= kMaxQueued) {
            if (!d.failed)
                d.fail("it takes the calls more slowly than they come");
            ++d.dropped;
            return;
        }
        d.queue.push_back(std::move(call));
    }
    d.wake.notify_one();
}

void McpReporter::finish()
{
    Impl &d = *m_impl;
    {
        std::lock_guard lock(d.mutex);
        d.stopping = true;
    }
    d.wake.notify_one();
    if (d.thread.joinable())
        d.thread.join();
}

int64_t McpReporter::delivered() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->delivered;
}

int64_t McpReporter::dropped() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->dropped;
}

void McpReporter::Impl::fail(const std::string &why)
{
    failed = true;
    std::cerr << "tapedeck: the recorder at " << baseUrl << " is not taking MCP calls (" << why
              << "); relaying on without recording them\n";
}

void McpReporter::Impl::loop()
{
    for (;;) {
        std::unique_lock lock(mutex);
        wake.wait(lock, [this] { return stopping || !queue.empty(); });
        if (queue.empty())
            return;
        json call = std::move(queue.front());
        queue.pop_front();
        if (failed) {
            ++dropped;
            continue;
        }
        lock.unlock();
        std::string why;
        const bool sent = send(call, why);
        lock.lock();
        if (sent) {
            ++delivered;
        } else {
            ++dropped;
            if (!failed)
                fail(why);
        }
    }
}

bool McpReporter::Impl::send(const json &call, std::string &why)
{
    const std::string body = call.dump(-1, ' ', false, json::error_handler_t::replace);
    const httplib::Result result = client->Post(path, body, "application/json");
    if (!result) {
        why = httplib::to_string(result.error());
        return false;
    }
    if (result->status != 204) {
        why = "it answered " + std::to_string(result->status) + " " + result->body.substr(0, 200);
        return false;
    }
    return true;
}

} // namespace tapedeck::cli
