#include "branchtree.h"
#include "commands.h"
#include "exitcodes.h"
#include "format.h"

#include <cstdio>
#include <iomanip>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

namespace {

// JSON for the terminal: never throws, whatever the strings hold.
std::string compact(const nlohmann::json &v)
{
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string roleOf(const nlohmann::json &m)
{
    if (!m.is_object())
        return "?";
    auto r = m.find("role");
    return r != m.end() && r->is_string() ? r->get<std::string>() : "?";
}

std::string tokens(const StepSummary &s)
{
    if (!s.usage.inputTokens && !s.usage.outputTokens)
        return "";
    return humanCount(s.usage.inputTokens) + "→" + humanCount(s.usage.outputTokens);
}

void printSummaryLine(const StepSummary &s, int64_t originUs)
{
    std::cout << std::right << std::setw(7) << s.index.value << "  " << std::setw(12)
              << (s.startedUs ? "+" + humanDuration(s.startedUs - originUs) : "-") << "  t"
              << std::left << std::setw(3) << s.thread.value << " " << std::setw(13)
              << stepKindName(s.kind) << " " << std::setw(22) << oneLine(s.name, 21) << " "
              << std::setw(14) << tokens(s) << " " << std::setw(9)
              << (s.endedUs > s.startedUs ? humanDuration(s.endedUs - s.startedUs) : "")
              << " " << (s.status == StepStatus::Ok ? "" : stepStatusName(s.status)) << "\n";
}

std::string messageText(const nlohmann::json &m)
{
    if (m.is_string())
        return m.get<std::string>();
    if (!m.is_object())
        return compact(m);
    std::string text;
    if (auto c = m.find("content"); c != m.end()) {
        if (c->is_string())
            text = c->get<std::string>();
        else if (!c->is_null())
            text = compact(*c);
    }
    if (auto t = m.find("tool_calls"); t != m.end() && t->is_array()) {
        for (const auto &call : *t)
            text += (text.empty() ? "" : " ") + std::string("[tool call ") + compact(call) + "]";
    }
    return text;
}

void printStep(const Step &s, int64_t originUs)
{
    std::cout << "step " << s.index.value << "  " << stepKindName(s.kind) << "  "
              << stepStatusName(s.status) << "\n";
    std::cout << "  run " << s.run.value << "  branch " << s.branch.value << "  thread "
              << s.thread.value << "  seq " << s.seq << "\n";
    if (!s.name.empty())
        std::cout << "  name        " << s.name << "\n";
    if (!s.callId.empty())
        std::cout << "  call id     " << s.callId << "\n";
    if (s.parent)
        std::cout << "  parent      step " << s.parent->value << "\n";
    std::cout << "  started     " << utcTime(s.startedUs) << "  (+"
              << humanDuration(s.startedUs - originUs) << " into the run)\n";
    if (s.firstTokenUs)
        std::cout << "  first token " << humanDuration(s.firstTokenUs - s.startedUs) << "\n";
    if (s.endedUs)
        std::cout << "  took        " << humanDuration(s.endedUs - s.startedUs) << "\n";
    if (s.usage != Usage{})
        std::cout << "  usage       in " << withCommas(s.usage.inputTokens) << "  out "
                  << withCommas(s.usage.outputTokens) << "  cache read "
                  << withCommas(s.usage.cacheReadTokens) << "  cache write "
                  << withCommas(s.usage.cacheWriteTokens) << "\n";
    if (s.costUsd) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "$%.4f", *s.costUsd);
        std::cout << "  cost        " << buf << "\n";
    }
    if (!s.requestMessages.empty()) {
        std::cout << "  request     " << s.requestMessages.size() << " messages\n";
        // The last few are what is new; the rest the model has seen before.
        size_t from = s.requestMessages.size() > 6 ? s.requestMessages.size() - 6 : 0;
        if (from)
            std::cout << "    … " << from << " earlier messages\n";
        for (size_t i = from; i < s.requestMessages.size(); ++i) {
            const auto &m = s.requestMessages[i];
            std::cout << "    [" << i << "] " << std::left << std::setw(10) << roleOf(m)
                      << oneLine(messageText(m), 100) << "\n";
        }
    }
    if (!s.requestParams.is_null())
        std::cout << "  parameters  " << oneLine(compact(s.requestParams), 110) << "\n";
    if (!s.payload.is_null())
        std::cout << "  payload     " << oneLine(compact(s.payload), 110) << "\n";
    if (s.wire) {
        const WireExchange &w = *s.wire;
        std::cout << "  wire        " << w.method << " " << w.url << " -> " << w.status << "  request "
                  << humanBytes(int64_t(w.requestBody.size())) << ", response "
                  << humanBytes(int64_t(w.responseBody.size()));
        if (!w.chunks.empty())
            std::cout << " in " << w.chunks.size() << " chunks";
        std::cout << "\n";
    }
}

} // namespace

void addDumpCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        int64_t step = 0;
        bool json = false;
        std::string raw;
        int64_t from = 1;
        int64_t limit = 0;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "dump", "List a tape's steps, or show one step whole (--step N)");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_option("--step", opts->step, "show this step (1-based index, as `dump` lists them)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", opts->json,
                  "JSON: one line per step summary, or the whole step with --step");
    cmd->add_option("--raw", opts->raw,
                    "with --step: write the exact wire bytes of the request or the response "
                    "to stdout")
        ->check(CLI::IsMember({"request", "response"}));
    cmd->add_option("--from", opts->from, "list from this step")->check(CLI::PositiveNumber);
    cmd->add_option("--limit", opts->limit, "list at most this many steps")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([opts] {
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        auto summary = (*reader)->summary();
        if (!summary) {
            commandExitCode() = reportError(summary.error());
            return;
        }
        const int64_t origin = summary->firstUs;
        if (!opts->raw.empty() && !opts->step) {
            std::cerr << "tapedeck: --raw needs --step N\n";
            commandExitCode() = kExitUsage;
            return;
        }
        if (opts->step) {
            auto s = (*reader)->step(StepIndex{opts->step});
            if (!s) {
                commandExitCode() = reportError(s.error());
                return;
            }
            if (!opts->raw.empty()) {
                if (!s->wire) {
                    std::cerr << "tapedeck: " << opts->file << ": step " << opts->step
                              << " has no wire bytes\n";
                    commandExitCode() = kExitCheckFailed;
                    return;
                }
                const std::string &bytes =
                    opts->raw == "request" ? s->wire->requestBody : s->wire->responseBody;
                std::cout.write(bytes.data(), std::streamsize(bytes.size()));
            } else if (opts->json) {
                std::cout << stepToJson(*s).dump(2, ' ', false,
                                                 nlohmann::json::error_handler_t::replace)
                          << "\n";
            } else {
                printStep(*s, origin);
            }
            return;
        }
        const int64_t total = (*reader)->stepCount();
        const int64_t last = opts->limit ? std::min(total, opts->from + opts->limit - 1) : total;
        if (!opts->json && opts->from == 1)
            printBranchTree(*summary, std::cout, "");
        if (!opts->json)
            std::cout << "   step          at  thr  kind          name                   tokens "
                         "        took      status\n";
        constexpr int64_t kPage = 4096;
        for (int64_t first = opts->from; first <= last; first += kPage) {
            auto page = (*reader)->stepSummaries(StepIndex{first}, std::min(kPage, last - first + 1));
            if (!page) {
                commandExitCode() = reportError(page.error());
                return;
            }
            for (const StepSummary &s : *page) {
                if (!opts->json) {
                    printSummaryLine(s, origin);
                    continue;
                }
                nlohmann::json j = {{"index", s.index.value},
                                    {"run", s.run.value},
                                    {"branch", s.branch.value},
                                    {"thread", s.thread.value},
                                    {"seq", s.seq},
                                    {"kind", stepKindName(s.kind)},
                                    {"status", stepStatusName(s.status)},
                                    {"name", s.name},
                                    {"parent", s.parent ? nlohmann::json(s.parent->value)
                                                        : nlohmann::json(nullptr)},
                                    {"started_us", s.startedUs},
                                    {"first_token_us", s.firstTokenUs},
                                    {"ended_us", s.endedUs},
                                    {"input_tokens", s.usage.inputTokens},
                                    {"output_tokens", s.usage.outputTokens},
                                    {"cost_usd", s.costUsd ? nlohmann::json(*s.costUsd)
                                                           : nlohmann::json(nullptr)},
                                    {"message_count", s.messageCount},
                                    {"request_bytes", s.requestBytes},
                                    {"response_bytes", s.responseBytes}};
                std::cout << j.dump() << "\n";
            }
            if (page->empty())
                break;
        }
    });
}

} // namespace tapedeck::cli
