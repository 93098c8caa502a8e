// Replay of the 35-hour sample session through the HTTP path: the sample's tape is served
// by `tapedeck replay --serve` at full speed, and a client re-sends every recorded model
// call's request in recorded order, as an agent would, checking each answer against the
// recorded bytes. Prints the whole run's time against the recorded agent time, the
// per-request latency, and the replay server's memory over the run.
//
//   tapedeck-bench-replay [--tape FILE] [--tapedeck BIN]
//
// Without --tape the sample session is generated first (tapedeck sample kernel-session).
#include "benchprocess.h"

#include <tapedeck/formats/tape.h>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace tapedeck;
using namespace tapedeck::bench;
using Clock = std::chrono::steady_clock;

size_t collect(char *data, size_t size, size_t n, void *user)
{
    static_cast<std::string *>(user)->append(data, size * n);
    return size * n;
}

struct Recorded {
    std::string url;
    std::string body;
    std::string answer;
};

struct Pass {
    bool started = false;
    double wallS = 0;
    size_t same = 0;
    std::vector<double> latencies;
    long rssStart = 0;
    std::vector<long> rss; // at each quarter of the run, the last at its end
};

// Serves `tape` with `tapedeck replay --serve` and sends every call to it in order.
Pass replayAll(const std::string &tapedeck, const std::string &tape, const std::vector<Recorded> &calls,
               bool changeVolatileField)
{
    Pass pass;
    const Server server = startServer({tapedeck, "replay", "--serve", "-q", tape});
    if (server.port <= 0) {
        std::fprintf(stderr, "bench: the replay server did not start\n");
        return pass;
    }
    pass.started = true;
    pass.rssStart = rssKb(server.pid);
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port);
    CURL *curl = curl_easy_init();
    curl_slist *headers = curl_slist_append(nullptr, "content-type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    const auto started = Clock::now();
    for (size_t i = 0; i < calls.size(); ++i) {
        std::string answer;
        std::string body = calls[i].body;
        if (changeVolatileField && !body.empty() && body[0] == '{')
            body.insert(1, "\"user\":\"bench-run-2\",");
        const std::string url = base + calls[i].url;
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
        const auto t0 = Clock::now();
        curl_easy_perform(curl);
        pass.latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        pass.same += answer == calls[i].answer;
        if ((i + 1) % (calls.size() / 4 + 1) == 0)
            pass.rss.push_back(rssKb(server.pid));
    }
    pass.wallS = std::chrono::duration<double>(Clock::now() - started).count();
    pass.rss.push_back(rssKb(server.pid));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    stopServer(server);
    return pass;
}

} // namespace

int main(int argc, char **argv)
{
    std::string tapedeck = TAPEDECK_BIN;
    std::string tape;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--tape"))
            tape = argv[i + 1];
        else if (!std::strcmp(argv[i], "--tapedeck"))
            tapedeck = argv[i + 1];
    }
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("bench-replay-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    if (tape.empty()) {
        tape = (dir / "session.tape").string();
        const std::string command = tapedeck + " sample kernel-session -o " + tape + " > /dev/null";
        if (std::system(command.c_str()) != 0) {
            std::fprintf(stderr, "bench: could not write the sample session\n");
            return 1;
        }
    }

    // The requests the client will send: every model call of the run, in recorded order.
    auto reader = formats::TapeReader::open(tape);
    if (!reader) {
        std::fprintf(stderr, "bench: %s\n", reader.error().message.c_str());
        return 1;
    }
    std::vector<Recorded> calls;
    int64_t firstUs = 0, lastUs = 0;
    const int64_t steps = (*reader)->stepCount();
    for (int64_t first = 1; first <= steps; first += 4096) {
        auto page = (*reader)->stepSummaries(formats::StepIndex(first), 4096);
        if (!page) {
            std::fprintf(stderr, "bench: %s\n", page.error().message.c_str());
            return 1;
        }
        for (const formats::StepSummary &summary : *page) {
            if (summary.kind != formats::StepKind::ModelCall)
                continue;
            auto s = (*reader)->step(summary.index, formats::TapeReader::Detail::WireOnly);
            if (!s || !s->wire)
                continue;
            calls.push_back({s->wire->url, s->wire->requestBody, s->wire->responseBody});
            if (firstUs == 0)
                firstUs = s->startedUs;
            lastUs = std::max(lastUs, s->endedUs);
        }
    }
    reader->reset();

    const double recordedH = static_cast<double>(lastUs - firstUs) / 3.6e9;
    uint64_t requestBytes = 0;
    for (const Recorded &call : calls)
        requestBytes += call.body.size();
    std::printf("replay of %s: %zu model calls, %.1f MB of requests, %.1f h recorded\n", tape.c_str(), calls.size(),
                static_cast<double>(requestBytes) / 1e6, recordedH);
    bool allSame = true;
    // Once with each request byte for byte as recorded, once with a field the matching
    // rules ignore (the OpenAI `user`) changed in every one, so that each is normalised
    // and compared.
    for (const bool changed : {false, true}) {
        const Pass pass = replayAll(tapedeck, tape, calls, changed);
        if (!pass.started)
            return 1;
        allSame = allSame && pass.same == calls.size();
        std::printf("%s\n", changed ? "with a volatile field changed in every request (normalised, then compared):"
                                      : "requests byte for byte as recorded:");
        std::printf("  whole run        %.2f s (target < 10 s)\n", pass.wallS);
        std::printf("  answers          %zu/%zu byte for byte as recorded\n", pass.same, calls.size());
        std::printf("  per request      p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", percentile(pass.latencies, 0.5),
                    percentile(pass.latencies, 0.99), percentile(pass.latencies, 1.0));
        std::printf("  server RSS KB    start %ld", pass.rssStart);
        for (size_t i = 0; i < pass.rss.size(); ++i)
            std::printf(", %s %ld", i + 1 == pass.rss.size() ? "end" : (std::to_string((i + 1) * 25) + "%").c_str(),
                        pass.rss[i]);
        std::printf("\n");
    }
    std::filesystem::remove_all(dir);
    return allSame ? 0 : 1;
}
