#include <tapedeck/recorder/upstreamtransfer.h>

#include "textutil.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace tapedeck::recorder {

namespace {

std::string trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
        s.remove_suffix(1);
    return std::string(s);
}

// Headers the proxy sets itself, or that belong to one hop of the connection only.
bool isHopByHop(const std::string &lowercaseName)
{
    return lowercaseName == "host" || lowercaseName == "connection" ||
           lowercaseName == "keep-alive" || lowercaseName == "transfer-encoding" ||
           lowercaseName == "te" || lowercaseName == "trailer" || lowercaseName == "upgrade" ||
           lowercaseName == "proxy-connection" || lowercaseName == "proxy-authorization" ||
           lowercaseName == "content-length" || lowercaseName == "expect";
}

// The multi handles of the transfers not running now, each with the connections it keeps
// open (see the header). The most recently returned is lent first: its connections are
// the least likely to have been closed by the upstream.
class MultiPool {
public:
    static MultiPool &instance()
    {
        static MultiPool pool;
        return pool;
    }
    CURLM *acquire()
    {
        {
            std::lock_guard lock(m_mutex);
            if (!m_idle.empty()) {
                CURLM *multi = m_idle.back();
                m_idle.pop_back();
                return multi;
            }
        }
        return curl_multi_init();
    }
    void release(CURLM *multi)
    {
        std::lock_guard lock(m_mutex);
        m_idle.push_back(multi);
    }

private:
    MultiPool() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~MultiPool()
    {
        for (CURLM *multi : m_idle)
            curl_multi_cleanup(multi);
    }
    std::mutex m_mutex;
    std::vector<CURLM *> m_idle;
};

} // namespace

struct UpstreamTransfer::Impl {
    CURLM *multi = nullptr; // lent by the MultiPool for the transfer's life
    CURL *easy = nullptr;
    curl_slist *headerList = nullptr;
    std::string body;           // the request body; curl reads it from here
    std::string pending;        // body bytes received and not yet handed out
    std::vector<std::pair<std::string, std::string>> headers;
    int status = 0;
    bool headersDone = false;
    bool finished = false;
    std::string failure;
    char errorBuffer[CURL_ERROR_SIZE] = {};

    ~Impl()
    {
        detach();
        if (multi)
            MultiPool::instance().release(multi);
    }

    // Takes the easy handle out of the multi: a transfer cut short closes its connection,
    // a finished one stays in the multi's cache for the next transfer.
    void detach()
    {
        if (multi && easy)
            curl_multi_remove_handle(multi, easy);
        if (easy)
            curl_easy_cleanup(easy);
        curl_slist_free_all(headerList);
        easy = nullptr;
        headerList = nullptr;
        finished = true;
    }

    static size_t onHeader(char *data, size_t size, size_t count, void *self)
    {
        auto *impl = static_cast<Impl *>(self);
        const std::string_view line(data, size * count);
        if (line.rfind("HTTP/", 0) == 0) {
            // A new status line: an interim 1xx answer is over, or this is the first one.
            impl->headers.clear();
            const size_t space = line.find(' ');
            impl->status = space == std::string_view::npos ? 0 : std::atoi(line.data() + space + 1);
        } else if (line == "\r\n" || line == "\n") {
            if (impl->status >= 200)
                impl->headersDone = true;
        } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
            impl->headers.emplace_back(lowercase(std::string(line.substr(0, colon))),
                                       trim(line.substr(colon + 1)));
        }
        return size * count;
    }

    static size_t onBody(char *data, size_t size, size_t count, void *self)
    {
        auto *impl = static_cast<Impl *>(self);
        impl->headersDone = true; // a body without a blank line after the headers: HTTP/0.9-ish
        impl->pending.append(data, size * count);
        return size * count;
    }
};

UpstreamTransfer::UpstreamTransfer() : m_impl(std::make_unique<Impl>()) {}
UpstreamTransfer::~UpstreamTransfer() = default;

std::unique_ptr<UpstreamTransfer> UpstreamTransfer::start(UpstreamRequest request)
{
    std::unique_ptr<UpstreamTransfer> transfer(new UpstreamTransfer());
    Impl &d = *transfer->m_impl;
    d.body = std::move(request.body);
    d.multi = MultiPool::instance().acquire();
    d.easy = curl_easy_init();
    if (!d.multi || !d.easy) {
        d.failure = "could not start an HTTP client";
        d.finished = true;
        return transfer;
    }
    curl_easy_setopt(d.easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(d.easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(d.easy, CURLOPT_FORBID_REUSE, request.reuseConnection ? 0L : 1L);
    if (request.method == "HEAD")
        curl_easy_setopt(d.easy, CURLOPT_NOBODY, 1L);
    if (!d.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
        curl_easy_setopt(d.easy, CURLOPT_POSTFIELDS, d.body.data());
        curl_easy_setopt(d.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(d.body.size()));
    }
    for (const auto &[name, value] : request.headers) {
        if (isHopByHop(lowercase(name)))
            continue;
        const std::string line = name + ": " + value;
        d.headerList = curl_slist_append(d.headerList, line.c_str());
    }
    // curl adds "Expect: 100-continue" to large posts and "Accept: */*" when absent; the
    // upstream should see what the client sent, so neither is added.
    d.headerList = curl_slist_append(d.headerList, "Expect:");
    curl_easy_setopt(d.easy, CURLOPT_HTTPHEADER, d.headerList);
    curl_easy_setopt(d.easy, CURLOPT_HEADERFUNCTION, &Impl::onHeader);
    curl_easy_setopt(d.easy, CURLOPT_HEADERDATA, &d);
    curl_easy_setopt(d.easy, CURLOPT_WRITEFUNCTION, &Impl::onBody);
    curl_easy_setopt(d.easy, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(d.easy, CURLOPT_ERRORBUFFER, d.errorBuffer);
    curl_easy_setopt(d.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d.easy, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(d.easy, CURLOPT_TIMEOUT, static_cast<long>(request.timeoutSeconds));
    curl_easy_setopt(d.easy, CURLOPT_TCP_NODELAY, 1L);
    if (curl_multi_add_handle(d.multi, d.easy) != CURLM_OK) {
        d.failure = "could not start an HTTP client";
        d.finished = true;
        return transfer;
    }

    while (!d.headersDone && transfer->pump()) {
        if (!d.headersDone)
            transfer->waitForNetwork();
    }
    return transfer;
}

bool UpstreamTransfer::pump()
{
    Impl &d = *m_impl;
    if (d.finished)
        return false;
    int running = 0;
    if (curl_multi_perform(d.multi, &running) != CURLM_OK) {
        d.failure = "the HTTP client failed";
        d.finished = true;
        d.headersDone = true;
        return false;
    }
    int queued = 0;
    while (CURLMsg *msg = curl_multi_info_read(d.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE || msg->easy_handle != d.easy)
            continue;
        if (msg->data.result != CURLE_OK)
            d.failure = d.errorBuffer[0] ? d.errorBuffer : curl_easy_strerror(msg->data.result);
        d.finished = true;
        d.headersDone = true;
    }
    return !d.finished;
}

void UpstreamTransfer::waitForNetwork()
{
    // Not longer than curl's own next timeout, which curl_multi_poll takes into account.
    curl_multi_poll(m_impl->multi, nullptr, 0, 100, nullptr);
}

int UpstreamTransfer::status() const { return m_impl->status; }

const std::vector<std::pair<std::string, std::string>> &UpstreamTransfer::headers() const
{
    return m_impl->headers;
}

std::string UpstreamTransfer::header(const std::string &lowercaseName) const
{
    for (const auto &[name, value] : m_impl->headers)
        if (name == lowercaseName)
            return value;
    return {};
}

bool UpstreamTransfer::readBody(std::string &out)
{
    Impl &d = *m_impl;
    // What arrived is handed out at once; the wait is only for bytes not yet there.
    while (d.pending.empty() && pump()) {
        if (d.pending.empty())
            waitForNetwork();
    }
    if (d.pending.empty())
        return false;
    out.append(d.pending);
    d.pending.clear();
    return true;
}

const std::string &UpstreamTransfer::failure() const { return m_impl->failure; }

std::string UpstreamTransfer::releaseRequestBody()
{
    // curl reads the body from Impl::body until the easy handle is gone.
    m_impl->detach();
    return std::move(m_impl->body);
}

} // namespace tapedeck::recorder
