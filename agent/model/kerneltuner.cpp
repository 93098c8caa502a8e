#include "kerneltuner.h"

#include "compaction.h"
#include "kerneltunercode.h"
#include "kerneltunerstate.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace tapedeck::model {

using formats::Result;
using formats::wire::Message;
using formats::wire::Request;
using formats::wire::Response;
using formats::wire::Role;
using formats::wire::StopReason;
using formats::wire::ToolCall;
using nlohmann::json;

namespace {

uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t hashText(std::string_view text, uint64_t h = 0xcbf29ce484222325ull)
{
    for (unsigned char c : text)
        h = (h ^ c) * 0x100000001b3ull;
    return h;
}

std::string times(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", v);
    return buf;
}

// One answer: what the model says, and the tool it calls (none for a final answer).
struct Action {
    std::string text;
    std::optional<ToolCall> call;
};

ToolCall call(const char *name, json arguments)
{
    return ToolCall{{}, name, std::move(arguments)};
}

ToolCall bash(std::string_view command)
{
    return call("bash", {{"command", std::string(command)}});
}

// A next version to write, and whether it is a second measurement of an earlier one.
struct Next {
    KernelConfig config;
    std::string what;
    bool retry = false;
};

class Decider {
public:
    Decider(const Request &request, const TunerState &state, const KernelTunerOptions &options)
        : m_request(request), m_s(state), m_options(options)
    {
    }

    Action next()
    {
        if (!hasTool("bash") || !hasTool("read_file") || !hasTool("write_file"))
            return {"To work on the kernel I need the tools bash, read_file and write_file, and "
                    "this request does not offer them all.", std::nullopt};
        if (auto failing = repeatedFailure())
            return {"I am stopping here: my last three tool calls failed, the last one with: " +
                        *failing + "\n\n" + finalReport(), std::nullopt};
        if (!m_s.listed && hasTool("list_dir"))
            return {"Let me look at the workspace first.", call("list_dir", {{"path", "."}})};
        if (!m_s.readTask)
            return {"Reading the task description.", readFile(kTaskFile)};
        if (!m_s.readKernel)
            return {"Now the kernel itself.", readFile(kKernelFile)};
        if (m_s.missingKernel)
            return {"There is no kernel.c to read here, so this is not the matrix-multiply "
                    "workspace I know how to tune. Stopping.", std::nullopt};
        if (m_s.todoUpdates == 0 && hasTool("todo"))
            return {"kernel_matmul is the naive i-j-k triple loop: its inner loop walks B down a "
                    "column, one cache line per multiply-add, and cannot be vectorised. Plan: "
                    "measure it, then change one thing at a time, keep what is faster and revert "
                    "what is not.",
                    todo(false)};
        if (!m_s.kernelSource)
            return {"Picking up after the summary: reading kernel.c to see which version it holds.",
                    readFile(kKernelFile)};
        if (m_s.bestKey.empty() && m_s.kernelKey.empty())
            return {"kernel.c is not the naive kernel I expected (someone changed it), so I have "
                    "no baseline to start from. Stopping.", std::nullopt};

        const auto &r = m_s.kernelResult;
        const bool measured = r && r->kind == BenchResult::Kind::Speedup && m_s.kernelClean();
        if (measured && m_s.kernelKey != m_s.bestKey &&
            (m_s.bestKey.empty() || r->speedup > m_s.bestSpeedup))
            return saveBest(r->speedup);

        const bool atBest = measured && m_s.kernelKey == m_s.bestKey;
        std::optional<Next> idea;
        if (atBest)
            idea = nextIdea();
        if (m_s.evaluations >= budget() || (atBest && !idea))
            return wrapUp();

        if (!r)
            return {benchPhrase(), bash(kBenchCommand)};
        switch (r->kind) {
        case BenchResult::Kind::BuildFailed:
        case BenchResult::Kind::Wrong:
            if (auto fix = fixSlip(*r))
                return *fix;
            return restore("That did not work (" + r->detail + ") and I do not see why; going back "
                           "to the best version.");
        case BenchResult::Kind::Unreadable:
            if (m_s.bestKey.empty())
                return {"The benchmark did not run as TASK.md says it should (" + r->detail +
                            "), so I cannot measure anything. Stopping.", std::nullopt};
            return restore("The benchmark's output makes no sense to me (" + r->detail +
                           "); going back to the best version.");
        case BenchResult::Kind::Speedup:
            break;
        }
        if (!atBest)
            return restore(m_s.kernelKey + ": " + times(r->speedup) + ", no better than the best " +
                           times(m_s.bestSpeedup) + " (" + m_s.bestKey + "). Reverting to best_kernel.c.");
        if (hasTool("todo") && m_s.todoUpdates < 1 + m_s.candidates / 5)
            return {"Updating the plan.", todo(false)};
        return write(*idea);
    }

    std::string finalReport() const
    {
        int kept = 0, slower = 0, failed = 0;
        std::string measured;
        for (const std::string &key : m_s.attemptOrder) {
            const Attempt &a = m_s.attempts.at(key);
            kept += a.outcome == Attempt::Outcome::Kept;
            slower += a.outcome == Attempt::Outcome::Slower;
            failed += a.outcome == Attempt::Outcome::Failed;
            measured.append(measured.empty() ? "" : ", ").append(key).append(" ");
            measured.append(a.measurements ? times(a.speedup) : std::string("-"));
            measured.append(" (").append(outcomeName(a.outcome)).append(")");
        }
        std::string out = "Done after " + std::to_string(m_s.evaluations) + " benchmark evaluations";
        out.append(m_s.evaluations >= budget() ? " (the budget).\n" : ".\n");
        if (m_s.bestKey.empty()) {
            out.append("Nothing was measured, so there is no speed-up to report.\n");
            return out;
        }
        const auto cfg = KernelConfig::fromKey(m_s.bestKey);
        out.append("Best speed-up: ").append(times(m_s.bestSpeedup)).append(" with ").append(m_s.bestKey);
        out.append(" (").append(cfg ? cfg->describe() : m_s.bestKey).append("), in kernel.c and best_kernel.c.\n");
        if (m_s.baseline)
            out.append("The naive kernel measured ").append(times(*m_s.baseline))
                .append(" against the reference: the same code, so that is the noise.\n");
        out.append("Versions written: ").append(std::to_string(m_s.candidates)).append(" (")
            .append(std::to_string(kept)).append(" kept, ").append(std::to_string(slower))
            .append(" slower and reverted, ").append(std::to_string(failed)).append(" failed)");
        if (m_s.retries)
            out.append(", ").append(std::to_string(m_s.retries)).append(" measured twice");
        auto count = [](int n, const char *one, const char *many) {
            return std::to_string(n) + " " + (n == 1 ? one : many);
        };
        out.append(".\nSlips on the way: ").append(count(m_s.compileErrors, "compile error", "compile errors"))
            .append(", ").append(count(m_s.wrongResults, "wrong result", "wrong results"))
            .append(", each caught by the build or the check.\n");
        if (!measured.empty())
            out.append("Measured: ").append(measured).append(".\n");
        return out;
    }

private:
    int budget() const { return m_s.budget.value_or(m_options.evaluations); }

    bool hasTool(std::string_view name) const
    {
        return std::any_of(m_request.tools.begin(), m_request.tools.end(),
                           [&](const auto &t) { return t.name == name; });
    }

    // The first line of the last error when the last three tool results were all errors
    // other than the benchmark reporting a build failure or a wrong result.
    std::optional<std::string> repeatedFailure() const
    {
        int failures = 0;
        std::string last;
        for (auto it = m_request.messages.rbegin(); it != m_request.messages.rend() && failures < 3; ++it) {
            if (it->role == Role::Assistant)
                continue;
            if (it->role != Role::Tool)
                break;
            const auto kind = parseBenchOutput(it->text).kind;
            if (!it->isError || kind == BenchResult::Kind::BuildFailed || kind == BenchResult::Kind::Wrong)
                return std::nullopt;
            if (last.empty())
                last = it->text.substr(0, it->text.find('\n'));
            ++failures;
        }
        if (failures < 3)
            return std::nullopt;
        return last;
    }

    static ToolCall readFile(std::string_view path)
    {
        return call("read_file", {{"path", std::string(path)}});
    }

    std::string benchPhrase() const
    {
        static const char *const phrases[] = {"Building and running the benchmark.",
                                              "Let's see what make bench says.",
                                              "Compiling and measuring."};
        if (m_s.evaluations == 0)
            return "Building and measuring the naive version first.";
        return phrases[mix(m_options.seed + static_cast<uint64_t>(m_s.evaluations)) % 3];
    }

    ToolCall todo(bool final) const
    {
        auto has = [&](auto predicate) {
            return std::any_of(m_s.attemptOrder.begin(), m_s.attemptOrder.end(), [&](const std::string &k) {
                auto cfg = KernelConfig::fromKey(k);
                return cfg && predicate(*cfg);
            });
        };
        auto status = [&](bool started) {
            return final ? "done" : started ? "in_progress" : "pending";
        };
        json items = json::array();
        auto item = [&](const char *content, const char *st) {
            items.push_back({{"content", content}, {"status", st}});
        };
        item("Read TASK.md and kernel.c", "done");
        item("Measure the naive kernel with make bench", m_s.baseline || final ? "done" : "in_progress");
        item("Loop order: i-k-j, so the inner loop walks rows",
             status(has([](const KernelConfig &c) { return c.ikj; })));
        item("Blocking: tiles of 16, 32, 64; several rows of C at a time",
             status(has([](const KernelConfig &c) { return c.tile > 0 || c.rows > 1; })));
        item("Compiler help: restrict, #pragma GCC ivdep, unrolling",
             status(has([](const KernelConfig &c) { return c.restrictPointers || c.ivdep || c.unroll > 1; })));
        item("Keep the best in best_kernel.c and leave it in kernel.c", final ? "done" : "in_progress");
        return call("todo", {{"items", items}});
    }

    Action saveBest(double speedup) const
    {
        std::string text;
        if (m_s.bestKey.empty())
            text = "The naive kernel runs at " + times(speedup) + " of the reference: the same code, so "
                   "anything within a few percent of 1 is noise. Saving it as the starting point.";
        else
            text = m_s.kernelKey + ": " + times(speedup) + ", better than the best so far " +
                   times(m_s.bestSpeedup) + ". Keeping it in best_kernel.c.";
        return {text, bash(kSaveBestCommand)};
    }

    Action restore(std::string text) const
    {
        return {std::move(text), bash(kRestoreBestCommand)};
    }

    Action wrapUp() const
    {
        if (m_s.bestKey.empty())
            return {finalReport(), std::nullopt};
        if (m_s.kernelKey != m_s.bestKey || !m_s.kernelClean())
            return restore(m_s.evaluations >= budget()
                               ? "That was the last evaluation of my budget; putting the best version "
                                 "back into kernel.c."
                               : "No idea left that I have not measured; putting the best version back "
                                 "into kernel.c.");
        if (hasTool("todo") && !m_s.finalTodo)
            return {"Closing the plan.", todo(true)};
        return {finalReport(), std::nullopt};
    }

    // The slip kernel.c holds, if it is one of the known ones, as the fix for it.
    std::optional<Action> fixSlip(const BenchResult &r) const
    {
        const auto cfg = KernelConfig::fromKey(m_s.kernelKey);
        if (!cfg || !m_s.kernelSource)
            return std::nullopt;
        const std::string correct = kernelSource(*cfg);
        for (const Slip &slip : slipsFor(*cfg)) {
            if (slip.breaksBuild() != (r.kind == BenchResult::Kind::BuildFailed))
                continue;
            std::string fixed = *m_s.kernelSource;
            const size_t at = fixed.find(slip.bad);
            if (at == std::string::npos)
                continue;
            fixed.replace(at, slip.bad.size(), slip.good);
            if (fixed != correct)
                continue;
            std::string text;
            switch (slip.kind) {
            case Slip::Kind::MissingSemicolon:
                text = "The build failed: " + r.detail + ". I left out a semicolon; adding it.";
                break;
            case Slip::Kind::UndeclaredName:
                text = "The build failed: " + r.detail + ". I renamed the variable where it is "
                       "declared but not where it is used; putting the name back.";
                break;
            case Slip::Kind::LastBlockDropped:
                text = "Wrong result: " + r.detail + ". The blocked j loop stops at the last full "
                       "block (jj + TILE <= n), and n = 300 is not a multiple of " +
                       std::to_string(cfg->tile) + ", so the last columns of C are never computed. "
                       "The loop must run to n; min_int already clips the last block.";
                break;
            }
            if (hasTool("edit_file"))
                return Action{text, call("edit_file", {{"path", std::string(kKernelFile)},
                                                       {"old_string", slip.bad},
                                                       {"new_string", slip.good}})};
            return Action{text, call("write_file", {{"path", std::string(kKernelFile)}, {"content", correct}})};
        }
        return std::nullopt;
    }

    std::optional<Next> nextIdea() const
    {
        const auto best = KernelConfig::fromKey(m_s.bestKey);
        if (!best)
            return std::nullopt;
        // Once, a little way in: a close regression measured again, as if the first run were
        // noise (it often is on a shared machine).
        const int retryAfter = 4 + static_cast<int>(m_options.seed % 3);
        if (m_s.retries == 0 && m_s.candidates >= retryAfter) {
            const Attempt *close = nullptr;
            std::string closeKey;
            for (const std::string &key : m_s.attemptOrder) {
                const Attempt &a = m_s.attempts.at(key);
                if (a.outcome == Attempt::Outcome::Slower && a.measurements == 1 &&
                    a.speedup >= 0.9 * m_s.bestSpeedup && (!close || a.speedup > close->speedup)) {
                    close = &a;
                    closeKey = key;
                }
            }
            if (close) {
                if (auto cfg = KernelConfig::fromKey(closeKey))
                    return Next{*cfg, closeKey + " measured " + times(close->speedup) +
                                          ", close to the best " + times(m_s.bestSpeedup) +
                                          "; timings on this machine are noisy, so let me measure it once more.",
                                true};
            }
        }
        // Single changes from the best first; once those are all measured, from the runners-up
        // in the order of their speed-up.
        std::vector<std::pair<double, std::string>> bases;
        for (const std::string &key : m_s.attemptOrder) {
            const Attempt &a = m_s.attempts.at(key);
            if (key != m_s.bestKey && a.measurements > 0)
                bases.emplace_back(a.speedup, key);
        }
        std::stable_sort(bases.begin(), bases.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
        bases.insert(bases.begin(), {m_s.bestSpeedup, m_s.bestKey});
        const uint64_t seed = m_options.seed;
        auto rank = [&](const Idea &i) { return std::pair(i.priority, mix(seed ^ hashText(i.config.key()))); };
        for (const auto &[speedup, key] : bases) {
            const auto base = KernelConfig::fromKey(key);
            std::vector<Idea> ideas = base ? ideasFrom(*base) : std::vector<Idea>{};
            std::erase_if(ideas, [&](const Idea &i) { return m_s.attempts.count(i.config.key()) > 0; });
            if (ideas.empty())
                continue;
            const Idea &pick = *std::min_element(ideas.begin(), ideas.end(),
                                                 [&](const Idea &a, const Idea &b) { return rank(a) < rank(b); });
            if (key == m_s.bestKey)
                return Next{pick.config, "Next idea: " + pick.what + ".", false};
            return Next{pick.config, "Every single change from the best is measured; trying one from the "
                                     "runner-up " + key + " (" + times(speedup) + "): " + pick.what + ".",
                        false};
        }
        return std::nullopt;
    }

    // The slip made while writing the candidate-th new version, if any: the first compile
    // error comes early, later ones now and then; a tiled version may drop its last block.
    std::optional<Slip> slipFor(const KernelConfig &cfg, int candidate) const
    {
        const uint64_t h = mix(m_options.seed * 0x100000001b3ull + static_cast<uint64_t>(candidate));
        const int firstCompile = 1 + static_cast<int>(m_options.seed % 3);
        const bool compile = candidate == firstCompile || (candidate > firstCompile + 2 && h % 100 < 12);
        std::vector<Slip> slips = slipsFor(cfg);
        std::erase_if(slips, [&](const Slip &s) { return s.breaksBuild() != compile; });
        if (slips.empty())
            return std::nullopt;
        if (!compile && (m_s.wrongResults > 0 || (h >> 16) % 100 >= 70))
            return std::nullopt;
        return slips[(h >> 32) % slips.size()];
    }

    Action write(const Next &next) const
    {
        std::string content = kernelSource(next.config);
        if (!next.retry) {
            if (auto slip = slipFor(next.config, m_s.candidates))
                content.replace(content.find(slip->good), slip->good.size(), slip->bad);
        }
        std::string text = next.what;
        if (!next.retry)
            text.append(" That gives ").append(next.config.key()).append(": ").append(next.config.describe()).append(".");
        return {text, call("write_file", {{"path", std::string(kKernelFile)}, {"content", content}})};
    }

    const Request &m_request;
    const TunerState &m_s;
    const KernelTunerOptions &m_options;
};

std::string compactionSummary(const TunerState &s, const KernelTunerOptions &options)
{
    const int budget = s.budget.value_or(options.evaluations);
    std::string out = "Working on the kernel-tuning task: make kernel_matmul in kernel.c faster while "
                      "make bench still reports it correct; keep the best version in best_kernel.c.\n";
    out.append("Used ").append(std::to_string(s.evaluations)).append(" of ")
        .append(std::to_string(budget)).append(" benchmark evaluations.");
    if (!s.bestKey.empty())
        out.append(" Best so far: ").append(times(s.bestSpeedup)).append(" with ").append(s.bestKey)
            .append(", saved in best_kernel.c.");
    if (!s.kernelKey.empty())
        out.append(" kernel.c holds ").append(s.kernelKey).append(".");
    out.append("\n\n").append(formatStateBlock(s));
    return out;
}

} // namespace

KernelTuner::KernelTuner(KernelTunerOptions options) : m_options(options) {}

Result<Turn> KernelTuner::answer(const Request &request)
{
    const TunerState state = replayConversation(request);
    Turn turn;
    Response &response = turn.response;
    response.model = request.model;
    Action action;
    if (isCompactionRequest(request))
        action = {compactionSummary(state, m_options), std::nullopt};
    else
        action = Decider(request, state, m_options).next();
    response.text = std::move(action.text);
    if (action.call) {
        // Unique within a conversation and the same for the same request.
        uint64_t h = hashText(request.messages.empty() ? std::string() : request.messages.back().text,
                              mix(m_options.seed ^ request.messages.size()));
        char id[32];
        std::snprintf(id, sizeof id, "call_%016llx", static_cast<unsigned long long>(h));
        action.call->id = id;
        response.toolCalls.push_back(std::move(*action.call));
        response.stopReason = StopReason::ToolUse;
    }
    return turn;
}

} // namespace tapedeck::model
