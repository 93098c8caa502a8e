// What the recording proxy costs a client: the same calls (about 10 KB requests, 2 KB
// answers) made straight to the scripted model server and then through `tapedeck proxy`,
// in one run; prints per-call latency percentiles of both, the added latency, streamed
// time to first byte and the gaps between chunks, and the proxy's memory over the run.
//
//   tapedeck-bench-recorder [--calls N] [--streams N]
#include <curl/curl.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Server {
    pid_t pid = -1;
    int port = 0;
};

// Starts `argv` with stdout on a pipe and reads its "listening on http://127.0.0.1:PORT".
Server startServer(const std::vector<std::string> &argv)
{
    int out[2];
    if (pipe(out) != 0)
        return {};
    Server s;
    s.pid = fork();
    if (s.pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        std::vector<char *> args;
        for (const std::string &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n')
        line += c;
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) == 0)
        s.port = std::atoi(line.c_str() + prefix.size());
    return s;
}

void stopServer(const Server &s)
{
    if (s.pid > 0) {
        kill(s.pid, SIGTERM);
        waitpid(s.pid, nullptr, 0);
    }
}

long rssKb(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        long value = 0;
        if (key == "VmRSS:" && status >> value)
            return value;
    }
    return 0;
}

struct CallTimes {
    double totalMs = 0;
    double firstByteMs = 0;
    std::vector<double> gapsMs;
};

struct Sink {
    Clock::time_point start;
    Clock::time_point last;
    CallTimes times;
    bool first = true;
};

size_t onBody(char *, size_t size, size_t n, void *user)
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
    return size * n;
}

// One call on a kept-alive handle.
CallTimes call(CURL *curl, const std::string &url, const std::string &body)
{
    Sink sink;
    sink.start = Clock::now();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    if (curl_easy_perform(curl) != CURLE_OK)
        std::fprintf(stderr, "bench: a call to %s failed\n", url.c_str());
    sink.times.totalMs = std::chrono::duration<double, std::milli>(Clock::now() - sink.start).count();
    return sink.times;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string requestBody(bool stream, int i)
{
    // About 10 KB: a conversation whose earlier turns are resent, as agents do.
    std::string filler;
    while (filler.size() < 9800)
        filler += "The benchmark output shows the kernel at 3.2x; the next idea is tiling. ";
    return std::string(R"({"model":"gpt-4o","stream":)") + (stream ? "true" : "false") +
           R"(,"messages":[{"role":"user","content":"call )" + std::to_string(i) + " " + filler + R"("}]})";
}

} // namespace

int main(int argc, char **argv)
{
    int calls = 2000;
    int streams = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--calls") == 0)
            calls = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--streams") == 0)
            streams = std::atoi(argv[i + 1]);
    }
    const auto dir = std::filesystem::temp_directory_path() / ("tapedeck-bench-recorder-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // A 2 KB answer for every call, direct and through the proxy.
    {
        std::ofstream script(dir / "turns.jsonl");
        const std::string answer(2000, 'x');
        for (int i = 0; i < 2 * (calls + streams); ++i)
            script << R"({"text":")" << answer << "\"}\n";
    }
    const Server model = startServer({TAPEDECK_MODEL_BIN, "--listen", "127.0.0.1:0", "--policy", "script",
                                      "--script", (dir / "turns.jsonl").string(), "--quiet", "--chunk-ms", "0"});
    const std::string modelUrl = "http://127.0.0.1:" + std::to_string(model.port);
    const Server proxy = startServer({TAPEDECK_BIN, "proxy", "--listen", "127.0.0.1:0", "-o",
                                      (dir / "bench.tape").string(), "--upstream", modelUrl, "-q"});
    if (model.port == 0 || proxy.port == 0) {
        std::fprintf(stderr, "bench: could not start the model server or the proxy\n");
        return 1;
    }
    const std::string proxyUrl = "http://127.0.0.1:" + std::to_string(proxy.port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    curl_slist *headers = curl_slist_append(nullptr, "content-type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    std::vector<double> direct, recorded;
    std::vector<long> rss{rssKb(proxy.pid)};
    // Interleaved, so that machine noise falls on both alike.
    for (int i = 0; i < calls; ++i) {
        const std::string body = requestBody(false, i);
        direct.push_back(call(curl, modelUrl + "/v1/chat/completions", body).totalMs);
        recorded.push_back(call(curl, proxyUrl + "/v1/chat/completions", body).totalMs);
        if ((i + 1) % (calls / 4 > 0 ? calls / 4 : 1) == 0)
            rss.push_back(rssKb(proxy.pid));
    }
    std::vector<double> ttfbDirect, ttfbRecorded, gapsDirect, gapsRecorded;
    for (int i = 0; i < streams; ++i) {
        const std::string body = requestBody(true, i);
        CallTimes d = call(curl, modelUrl + "/v1/chat/completions", body);
        CallTimes r = call(curl, proxyUrl + "/v1/chat/completions", body);
        ttfbDirect.push_back(d.firstByteMs);
        ttfbRecorded.push_back(r.firstByteMs);
        gapsDirect.insert(gapsDirect.end(), d.gapsMs.begin(), d.gapsMs.end());
        gapsRecorded.insert(gapsRecorded.end(), r.gapsMs.begin(), r.gapsMs.end());
    }
    rss.push_back(rssKb(proxy.pid));

    std::printf("%d calls (~10 KB request, 2 KB answer), direct and through tapedeck proxy, interleaved\n", calls);
    std::printf("%-22s %9s %9s %9s\n", "latency ms", "p50", "p99", "max");
    std::printf("%-22s %9.3f %9.3f %9.3f\n", "direct", percentile(direct, 0.5), percentile(direct, 0.99),
                percentile(direct, 1.0));
    std::printf("%-22s %9.3f %9.3f %9.3f\n", "through the recorder", percentile(recorded, 0.5),
                percentile(recorded, 0.99), percentile(recorded, 1.0));
    std::printf("%-22s %9.3f %9.3f\n", "added", percentile(recorded, 0.5) - percentile(direct, 0.5),
                percentile(recorded, 0.99) - percentile(direct, 0.99));
    std::printf("%d streamed calls: first byte p50 %.3f -> %.3f ms, p99 %.3f -> %.3f ms; "
                "gaps between chunks p99 %.3f -> %.3f ms\n",
                streams, percentile(ttfbDirect, 0.5), percentile(ttfbRecorded, 0.5), percentile(ttfbDirect, 0.99),
                percentile(ttfbRecorded, 0.99), percentile(gapsDirect, 0.99), percentile(gapsRecorded, 0.99));
    std::printf("proxy RSS over the run (KB):");
    for (long kb : rss)
        std::printf(" %ld", kb);
    std::printf("\n");

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    stopServer(proxy);
    stopServer(model);
    std::error_code ec;
    std::printf("tape: %s\n", std::to_string(std::filesystem::file_size(dir / "bench.tape", ec)).c_str());
    std::filesystem::remove_all(dir, ec);
    return 0;
}
