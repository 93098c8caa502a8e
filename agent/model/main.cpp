// tapedeck-model: the scripted model server, a stand-in for a model API on loopback.
#include "modelserver.h"
#include "policies.h"
#include "requestlog.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

using namespace tapedeck::model;

namespace {

// Documented in --help.
constexpr int kExitStopped = 0;
constexpr int kExitServeFailed = 1;
constexpr int kExitBadUsage = 2;

std::string policyList()
{
    std::string text;
    for (const PolicyInfo &info : knownPolicies())
        text.append("  ")
            .append(info.name)
            .append(std::string(14 - std::string(info.name).size(), ' '))
            .append(info.summary)
            .append("\n");
    return text;
}

std::string footer()
{
    return "\nPolicies:\n" + policyList() +
           "\nEndpoints (each also without its /v1 or /v1beta prefix):\n"
           "  POST /v1/chat/completions            OpenAI Chat Completions (stream: SSE)\n"
           "  POST /v1/responses                   OpenAI Responses (stream: SSE)\n"
           "  POST /v1/messages[?beta=true]        Anthropic Messages (stream: SSE)\n"
           "  POST /v1beta/models/M:generateContent, :streamGenerateContent[?alt=sse]\n"
           "                                       Gemini (stream: SSE, or one JSON array without "
           "alt=sse)\n"
           "  POST /v1/messages/count_tokens, /v1/responses/input_tokens, "
           "/v1beta/models/M:countTokens\n"
           "  GET  /v1/models, /v1/models/ID, /v1beta/models, /v1beta/models/ID\n"
           "  GET|HEAD /                           200 (clients probe the base URL)\n"
           "\nOnce it accepts connections it prints one line on stdout:\n"
           "  listening on http://127.0.0.1:PORT\n"
           "and serves until SIGINT or SIGTERM.\n"
           "\nExit codes:\n"
           "  0  stopped by SIGINT/SIGTERM\n"
           "  1  could not listen, or the listening socket failed\n"
           "  2  bad usage: an unknown option or policy, a missing or bad script (the message "
           "names\n"
           "     file:line and field), a log file that cannot be written\n";
}

// Splits "HOST:PORT"; the host must be given.
bool splitListen(const std::string &listen, std::string &host, int &port)
{
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return false;
    host = listen.substr(0, colon);
    try {
        size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        return used == listen.size() - colon - 1;
    } catch (const std::exception &) {
        return false;
    }
}

} // namespace

int main(int argc, char **argv)
{
    CLI::App app{"tapedeck-model: answers like a model API (OpenAI Chat Completions and Responses, "
                 "Anthropic Messages, Gemini) on loopback, for demos, tests and offline runs."};
    app.footer(footer());
    std::string listen = "127.0.0.1:0";
    std::string policyName = "generic";
    PolicyOptions policyOptions;
    ServerOptions serverOptions;
    std::string logPath;
    bool quiet = false;
    std::vector<std::string> models;

    app.add_option("--listen", listen, "HOST:PORT to listen on; port 0 picks a free one")
        ->capture_default_str();
    app.add_option("--policy", policyName, "how answers are decided: script, generic, kernel-tuner")
        ->capture_default_str();
    app.add_option("--script", policyOptions.scriptPath,
                   "script file for --policy script (agent/model/SCRIPT.md)");
    app.add_option("--seed", policyOptions.seed, "seed for policies that make choices")
        ->capture_default_str();
    app.add_option("--ttft-ms", serverOptions.ttftMs, "wait before the first byte of each answer")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--chunk-ms", serverOptions.chunkMs, "wait between streamed events")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option(
           "--tokens-per-second", serverOptions.tokensPerSecond,
           "pace streamed events at this rate instead of --chunk-ms (about 4 chars a token)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--chars-per-delta", serverOptions.charsPerDelta,
                   "size of streamed text and argument deltas")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--models", models, "model ids GET /v1/models lists (comma-separated)")
        ->delimiter(',');
    app.add_option("--log", logPath, "append one JSON line per request (headers masked) to FILE");
    app.add_flag("--quiet", quiet, "no line per request on stderr");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return kExitBadUsage;
    }
    if (!models.empty())
        serverOptions.models = models;

    std::string host;
    int port = 0;
    if (!splitListen(listen, host, port)) {
        std::fprintf(stderr, "tapedeck-model: --listen %s: expected HOST:PORT, e.g. 127.0.0.1:0\n",
                     listen.c_str());
        return kExitBadUsage;
    }
    auto policy = makePolicy(policyName, policyOptions);
    if (!policy) {
        std::fprintf(stderr, "tapedeck-model: %s\n", policy.error().message.c_str());
        return kExitBadUsage;
    }
    RequestLog log(quiet);
    if (!logPath.empty()) {
        if (auto opened = log.openFile(logPath); !opened) {
            std::fprintf(stderr, "tapedeck-model: %s\n", opened.error().message.c_str());
            return kExitBadUsage;
        }
    }

    // Signals are taken by one thread with sigwait, which may call into the server; the
    // others (httplib's pool included, created later) inherit the blocked mask.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    ModelServer server(**policy, log, serverOptions);
    auto bound = server.bind(host, port);
    if (!bound) {
        std::fprintf(stderr, "tapedeck-model: %s\n", bound.error().message.c_str());
        return kExitServeFailed;
    }
    std::printf("listening on http://%s:%d\n", host.c_str(), *bound);
    std::fflush(stdout);

    std::thread signalWaiter([&server, &stopSignals] {
        int received = 0;
        sigwait(&stopSignals, &received);
        server.stop();
    });
    const auto served = server.serve();
    if (!served) {
        // Wake the waiter so that it can be joined.
        pthread_kill(signalWaiter.native_handle(), SIGTERM);
    }
    signalWaiter.join();
    if (!served) {
        std::fprintf(stderr, "tapedeck-model: %s\n", served.error().message.c_str());
        return kExitServeFailed;
    }
    if (!quiet)
        std::fprintf(stderr, "tapedeck-model: stopped\n");
    return kExitStopped;
}
