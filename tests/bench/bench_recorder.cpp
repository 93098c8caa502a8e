// What the recording proxy costs a client: the same calls (about 10 KB requests, 2 KB
// answers) made straight to the scripted model server and then through `tapedeck proxy`,
// in one run; prints per-call latency percentiles of both, the added latency, streamed
// time to first byte and the gaps between chunks, the same for several streaming clients
// at once, and the proxy's memory over the run. Every call starts a new conversation, so
// the recorder's per-thread state is what the memory figures watch.
//
//   tapedeck-bench-recorder [--calls N] [--streams N] [--clients N] [--client-streams N]
//                           [--tapedeck BIN] [--model BIN]
//
// --tapedeck and --model run other builds of the two programs (to compare before and
// after a change); by default, those of this build.
#include "benchprocess.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace tapedeck::bench;
using Clock = std::chrono::steady_clock;

struct CallTimes {
    double totalMs = 0;
    double firstByteMs = 0;
    std::vector<double> gapsMs;
    bool complete = false; // status 200, no transfer error, and a stream's last event came
};

struct Sink {
    Clock::time_point start;
    Clock::time_point last;
    CallTimes times;
    bool first = true;
    std::string tail; // the last bytes of the body
};

size_t onBody(char *data, size_t size, size_t n, void *user)
{
    auto *sink = static_cast<Sink *>(user);
    const auto now = Clock::now();
    if (sink->first) {
        sink->times.firstByteMs = std::chrono::duration<double, std::milli>(now - sink->start).count();
        sink->first = false;
    } else {
        sink->times.gapsMs.push_back(std::chrono::duration<double, std::milli>(now - sink->last).count());
    }
    sink->last = now;
    sink->tail.append(data, size * n);
    if (sink->tail.size() > 64)
        sink->tail.erase(0, sink->tail.size() - 64);
    return size * n;
}

// A client with one kept-alive connection per server, as an SDK keeps them.
class Client {
public:
    Client()
    {
        m_curl = curl_easy_init();
        m_headers = curl_slist_append(nullptr, "content-type: application/json");
        curl_easy_setopt(m_curl, CURLOPT_HTTPHEADER, m_headers);
    }
    ~Client()
    {
        curl_slist_free_all(m_headers);
        curl_easy_cleanup(m_curl);
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    CallTimes call(const std::string &url, const std::string &body, bool stream)
    {
        Sink sink;
        sink.start = Clock::now();
        curl_easy_setopt(m_curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(m_curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(m_curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(m_curl, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(m_curl, CURLOPT_WRITEDATA, &sink);
        const CURLcode code = curl_easy_perform(m_curl);
        long status = 0;
        curl_easy_getinfo(m_curl, CURLINFO_RESPONSE_CODE, &status);
        sink.times.totalMs = std::chrono::duration<double, std::milli>(Clock::now() - sink.start).count();
        sink.times.complete = code == CURLE_OK && status == 200 &&
                              (!stream || sink.tail.find("data: [DONE]") != std::string::npos);
        if (!sink.times.complete)
            std::fprintf(stderr, "bench: a call to %s failed (%s, status %ld)\n", url.c_str(),
                         curl_easy_strerror(code), status);
        return sink.times;
    }

private:
    CURL *m_curl = nullptr;
    curl_slist *m_headers = nullptr;
};

std::string requestBody(bool stream, int i)
{
    // About 10 KB: a conversation whose earlier turns are resent, as agents do.
    std::string filler;
    while (filler.size() < 9800)
        filler += "The benchmark output shows the kernel at 3.2x; the next idea is tiling. ";
    return std::string(R"({"model":"gpt-4o","stream":)") + (stream ? "true" : "false") +
           R"(,"messages":[{"role":"user","content":"call )" + std::to_string(i) + " " + filler + R"("}]})";
}

struct StreamTimes {
    std::vector<double> firstByteMs;
    std::vector<double> gapsMs;
    int complete = 0;
    int attempted = 0;

    void add(const CallTimes &t)
    {
        ++attempted;
        complete += t.complete ? 1 : 0;
        firstByteMs.push_back(t.firstByteMs);
        gapsMs.insert(gapsMs.end(), t.gapsMs.begin(), t.gapsMs.end());
    }
    void add(const StreamTimes &other)
    {
        complete += other.complete;
        attempted += other.attempted;
        firstByteMs.insert(firstByteMs.end(), other.firstByteMs.begin(), other.firstByteMs.end());
        gapsMs.insert(gapsMs.end(), other.gapsMs.begin(), other.gapsMs.end());
    }
};

// `clients` clients streaming at once, `each` calls apiece, all started together; each
// client's own figures.
std::vector<StreamTimes> concurrentStreams(const std::string &url, int clients, int each, int firstCall)
{
    std::vector<StreamTimes> times(static_cast<size_t>(clients));
    std::latch ready(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            Client client;
            ready.arrive_and_wait();
            for (int i = 0; i < each; ++i)
                times[static_cast<size_t>(c)].add(
                    client.call(url, requestBody(true, firstCall + c * each + i), true));
        });
    }
    for (std::thread &t : threads)
        t.join();
    return times;
}

void printStreamRow(const char *label, const StreamTimes &direct, const StreamTimes &recorded)
{
    std::printf("  %-8s %4d/%-4d %4d/%-4d %8.3f -> %-8.3f %8.3f -> %-8.3f %8.3f -> %-8.3f\n", label,
                direct.complete, direct.attempted, recorded.complete, recorded.attempted,
                percentile(direct.firstByteMs, 0.5), percentile(recorded.firstByteMs, 0.5),
                percentile(direct.firstByteMs, 0.99), percentile(recorded.firstByteMs, 0.99),
                percentile(direct.gapsMs, 0.99), percentile(recorded.gapsMs, 0.99));
}

} // namespace

int main(int argc, char **argv)
{
    int calls = 2000;
    int streams = 200;
    int clients = 8;
    int clientStreams = 25;
    std::string tapedeckBin = TAPEDECK_BIN;
    std::string modelBin = TAPEDECK_MODEL_BIN;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--calls") == 0)
            calls = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--streams") == 0)
            streams = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--clients") == 0)
            clients = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--client-streams") == 0)
            clientStreams = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--tapedeck") == 0)
            tapedeckBin = argv[i + 1];
        else if (std::strcmp(argv[i], "--model") == 0)
            modelBin = argv[i + 1];
    }
    const auto dir = std::filesystem::temp_directory_path() / ("tapedeck-bench-recorder-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // A 2 KB answer for every call, direct and through the proxy.
    {
        std::ofstream script(dir / "turns.jsonl");
        const std::string answer(2000, 'x');
        for (int i = 0; i < 2 * (calls + streams + clients * clientStreams); ++i)
            script << R"({"text":")" << answer << "\"}\n";
    }
    const Server model = startServer({modelBin, "--listen", "127.0.0.1:0", "--policy", "script", "--script",
                                      (dir / "turns.jsonl").string(), "--quiet", "--chunk-ms", "0"});
    const std::string modelUrl = "http://127.0.0.1:" + std::to_string(model.port);
    const Server proxy = startServer({tapedeckBin, "proxy", "--listen", "127.0.0.1:0", "-o",
                                      (dir / "bench.tape").string(), "--upstream", modelUrl, "-q"});
    if (model.port == 0 || proxy.port == 0) {
        std::fprintf(stderr, "bench: could not start the model server or the proxy\n");
        return 1;
    }
    const std::string proxyUrl = "http://127.0.0.1:" + std::to_string(proxy.port);
    const std::string modelCalls = modelUrl + "/v1/chat/completions";
    const std::string proxyCalls = proxyUrl + "/v1/chat/completions";
    curl_global_init(CURL_GLOBAL_DEFAULT);

    std::vector<double> direct, recorded;
    std::vector<std::pair<std::string, long>> rss{{"start", rssKb(proxy.pid)}};
    StreamTimes streamsDirect, streamsRecorded;
    {
        Client client;
        // Interleaved, so that machine noise falls on both alike.
        const int quarter = calls / 4 > 0 ? calls / 4 : 1;
        for (int i = 0; i < calls; ++i) {
            const std::string body = requestBody(false, i);
            direct.push_back(client.call(modelCalls, body, false).totalMs);
            recorded.push_back(client.call(proxyCalls, body, false).totalMs);
            if ((i + 1) % quarter == 0)
                rss.emplace_back(std::to_string(i + 1) + " calls", rssKb(proxy.pid));
        }
        for (int i = 0; i < streams; ++i) {
            const std::string body = requestBody(true, calls + i);
            streamsDirect.add(client.call(modelCalls, body, true));
            streamsRecorded.add(client.call(proxyCalls, body, true));
        }
        rss.emplace_back(std::to_string(streams) + " streams", rssKb(proxy.pid));
    }

    // The clients at once straight to the model, then at once through the proxy: not mixed,
    // because the model server gives each connection one of its 8 threads for as long as it
    // is open, and clients holding connections to both would take more than it has.
    const int firstConcurrent = calls + streams;
    const std::vector<StreamTimes> clientsDirect = concurrentStreams(modelCalls, clients, clientStreams, firstConcurrent);
    const std::vector<StreamTimes> clientsRecorded = concurrentStreams(proxyCalls, clients, clientStreams, firstConcurrent);
    rss.emplace_back(std::to_string(clients) + " clients", rssKb(proxy.pid));

    std::printf("%d calls (~10 KB request, 2 KB answer), direct and through tapedeck proxy, interleaved\n", calls);
    std::printf("%-22s %9s %9s %9s\n", "latency ms", "p50", "p99", "max");
    std::printf("%-22s %9.3f %9.3f %9.3f\n", "direct", percentile(direct, 0.5), percentile(direct, 0.99),
                percentile(direct, 1.0));
    std::printf("%-22s %9.3f %9.3f %9.3f\n", "through the recorder", percentile(recorded, 0.5),
                percentile(recorded, 0.99), percentile(recorded, 1.0));
    std::printf("%-22s %9.3f %9.3f\n", "added", percentile(recorded, 0.5) - percentile(direct, 0.5),
                percentile(recorded, 0.99) - percentile(direct, 0.99));
    std::printf("%d streamed calls: first byte p50 %.3f -> %.3f ms, p99 %.3f -> %.3f ms; "
                "gaps between chunks p99 %.3f -> %.3f ms; complete %d/%d -> %d/%d\n",
                streams, percentile(streamsDirect.firstByteMs, 0.5), percentile(streamsRecorded.firstByteMs, 0.5),
                percentile(streamsDirect.firstByteMs, 0.99), percentile(streamsRecorded.firstByteMs, 0.99),
                percentile(streamsDirect.gapsMs, 0.99), percentile(streamsRecorded.gapsMs, 0.99),
                streamsDirect.complete, streamsDirect.attempted, streamsRecorded.complete,
                streamsRecorded.attempted);
    std::printf("%d clients streaming at once, %d calls each, direct -> through the recorder (ms):\n", clients,
                clientStreams);
    std::printf("  %-8s %9s %9s %20s %20s %20s\n", "client", "direct", "recorded", "first byte p50",
                "first byte p99", "gaps p99");
    StreamTimes allDirect, allRecorded;
    for (int c = 0; c < clients; ++c) {
        const std::string label = std::to_string(c + 1);
        printStreamRow(label.c_str(), clientsDirect[static_cast<size_t>(c)], clientsRecorded[static_cast<size_t>(c)]);
        allDirect.add(clientsDirect[static_cast<size_t>(c)]);
        allRecorded.add(clientsRecorded[static_cast<size_t>(c)]);
    }
    printStreamRow("all", allDirect, allRecorded);
    std::printf("proxy RSS (KB):");
    for (size_t i = 0; i < rss.size(); ++i)
        std::printf("%s %s %ld", i == 0 ? "" : ",", rss[i].first.c_str(), rss[i].second);
    std::printf("\n");

    stopServer(proxy);
    stopServer(model);
    std::error_code ec;
    std::printf("tape: %s bytes\n", std::to_string(std::filesystem::file_size(dir / "bench.tape", ec)).c_str());
    std::filesystem::remove_all(dir, ec);
    return 0;
}
