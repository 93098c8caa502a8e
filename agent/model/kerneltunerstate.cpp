#include "kerneltunerstate.h"

#include "kerneltunercode.h"

#include <charconv>
#include <cstdio>
#include <regex>

namespace tapedeck::model {

using formats::wire::Message;
using formats::wire::Request;
using formats::wire::Role;
using formats::wire::ToolCall;

namespace {

constexpr std::string_view kStateHeader = "Tuner state:";

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::string_view lineAt(std::string_view text, size_t pos)
{
    const size_t begin = text.rfind('\n', pos);
    const size_t from = begin == std::string_view::npos ? 0 : begin + 1;
    const size_t end = text.find('\n', pos);
    return trim(text.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from));
}

std::optional<double> number(std::string_view s)
{
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data())
        return std::nullopt;
    return v;
}

std::optional<int> integer(std::string_view s)
{
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

std::string fixed2(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string argument(const ToolCall &call, const char *name)
{
    const auto &args = call.arguments;
    if (args.is_object() && args.contains(name) && args[name].is_string())
        return args[name].get<std::string>();
    return {};
}

bool isKernelPath(const std::string &path)
{
    return path == kKernelFile || path == "./" + std::string(kKernelFile);
}

std::string sourceOfKey(const std::string &key)
{
    auto cfg = KernelConfig::fromKey(key);
    return cfg ? kernelSource(*cfg) : std::string();
}

void applyBench(TunerState &s, const BenchResult &r)
{
    s.kernelResult = r;
    if (r.kind == BenchResult::Kind::Unreadable)
        return; // it did not run: nothing was evaluated
    ++s.evaluations;
    if (r.kind == BenchResult::Kind::BuildFailed) {
        ++s.compileErrors;
        return;
    }
    if (r.kind == BenchResult::Kind::Wrong) {
        ++s.wrongResults;
        return;
    }
    if (!s.baseline && s.bestKey.empty() && s.kernelKey == KernelConfig{}.key())
        s.baseline = r.speedup;
    auto it = s.attempts.find(s.kernelKey);
    if (it == s.attempts.end() || s.kernelKey == s.bestKey || !s.kernelClean())
        return;
    Attempt &a = it->second;
    a.speedup = r.speedup;
    ++a.measurements;
    a.outcome = s.bestKey.empty() || r.speedup > s.bestSpeedup ? Attempt::Outcome::Kept
                                                                : Attempt::Outcome::Slower;
    if (a.outcome == Attempt::Outcome::Slower)
        ++s.regressions;
}

void applyWrite(TunerState &s, const std::string &content)
{
    s.kernelSource = content;
    s.kernelKey = keyOfSource(content).value_or("");
    s.kernelResult.reset();
    if (s.kernelKey.empty())
        return;
    auto [it, inserted] = s.attempts.try_emplace(s.kernelKey);
    if (inserted) {
        ++s.candidates;
        s.attemptOrder.push_back(s.kernelKey);
    } else if (it->second.outcome != Attempt::Outcome::Pending) {
        ++s.retries;
        it->second.outcome = Attempt::Outcome::Pending;
    }
}

void applyEdit(TunerState &s, const std::string &oldText, const std::string &newText)
{
    s.kernelResult.reset();
    if (!s.kernelSource)
        return;
    const size_t at = s.kernelSource->find(oldText);
    if (at == std::string::npos || oldText.empty())
        return;
    s.kernelSource->replace(at, oldText.size(), newText);
}

void applyRestore(TunerState &s)
{
    auto it = s.attempts.find(s.kernelKey);
    if (it != s.attempts.end() && it->second.outcome == Attempt::Outcome::Pending)
        it->second.outcome = Attempt::Outcome::Failed;
    s.kernelKey = s.bestKey;
    s.kernelSource = sourceOfKey(s.bestKey);
    s.kernelResult = BenchResult{BenchResult::Kind::Speedup, s.bestSpeedup, {}};
}

void applyRead(TunerState &s, const std::string &text, bool isError)
{
    s.readKernel = true;
    if (isError) {
        s.missingKernel = true;
        return;
    }
    s.missingKernel = false;
    s.kernelSource = text;
    s.kernelKey = keyOfSource(text).value_or("");
    s.kernelResult.reset();
    // The saved best, read back (after a compaction): its measurement is known.
    if (!s.bestKey.empty() && s.kernelKey == s.bestKey && s.kernelClean())
        s.kernelResult = BenchResult{BenchResult::Kind::Speedup, s.bestSpeedup, {}};
}

void apply(TunerState &s, const ToolCall &call, const Message &result)
{
    if (call.name == "list_dir") {
        s.listed = true;
    } else if (call.name == "read_file") {
        const std::string path = argument(call, "path");
        if (path == kTaskFile)
            s.readTask = true;
        else if (isKernelPath(path))
            applyRead(s, result.text, result.isError);
    } else if (call.name == "todo") {
        ++s.todoUpdates;
        bool allDone = call.arguments.contains("items") && call.arguments["items"].is_array() &&
                       !call.arguments["items"].empty();
        if (allDone) {
            for (const auto &item : call.arguments["items"])
                allDone = allDone && item.is_object() && item.value("status", "") == "done";
        }
        s.finalTodo = s.finalTodo || (allDone && !result.isError);
    } else if (call.name == "write_file") {
        if (isKernelPath(argument(call, "path")) && !result.isError)
            applyWrite(s, argument(call, "content"));
    } else if (call.name == "edit_file") {
        if (isKernelPath(argument(call, "path")) && !result.isError)
            applyEdit(s, argument(call, "old_string"), argument(call, "new_string"));
    } else if (call.name == "bash") {
        const std::string text = argument(call, "command");
        const std::string_view command = trim(text);
        if (command == kBenchCommand) {
            applyBench(s, parseBenchOutput(result.text));
        } else if (command == kSaveBestCommand && !result.isError) {
            if (s.kernelResult && s.kernelResult->kind == BenchResult::Kind::Speedup) {
                s.bestKey = s.kernelKey;
                s.bestSpeedup = s.kernelResult->speedup;
            }
        } else if (command == kRestoreBestCommand && !result.isError && !s.bestKey.empty()) {
            applyRestore(s);
        }
    }
}

const char *yesNo(bool b)
{
    return b ? "yes" : "no";
}

// The evaluation budget a task states: "a budget of 20 benchmark evaluations".
std::optional<int> statedBudget(const std::string &text)
{
    static const std::regex pattern(R"(budget of (\d{1,4}) (benchmark )?evaluations)", std::regex::icase);
    std::smatch m;
    if (!std::regex_search(text, m, pattern))
        return std::nullopt;
    return integer(m.str(1));
}

} // namespace

const char *outcomeName(Attempt::Outcome outcome)
{
    switch (outcome) {
    case Attempt::Outcome::Pending:
        return "pending";
    case Attempt::Outcome::Kept:
        return "kept";
    case Attempt::Outcome::Slower:
        return "slower";
    case Attempt::Outcome::Failed:
        return "failed";
    }
    return "pending";
}

bool TunerState::kernelClean() const
{
    return kernelSource && !kernelKey.empty() && *kernelSource == sourceOfKey(kernelKey);
}

BenchResult parseBenchOutput(std::string_view output)
{
    BenchResult r;
    if (size_t at = output.find("correct: no"); at != std::string_view::npos) {
        r.kind = BenchResult::Kind::Wrong;
        r.detail = lineAt(output, at);
        return r;
    }
    const size_t correct = output.find("correct: yes");
    const size_t speedup = output.find("speedup: ");
    if (correct != std::string_view::npos && speedup != std::string_view::npos) {
        std::string_view rest = output.substr(speedup + 9);
        auto v = number(rest);
        if (v && rest.find('x') != std::string_view::npos) {
            r.kind = BenchResult::Kind::Speedup;
            r.speedup = *v;
            r.detail = lineAt(output, speedup);
            return r;
        }
    }
    for (std::string_view marker : {std::string_view(": error: "), std::string_view("error: "),
                                    std::string_view("make: *** ")}) {
        if (size_t at = output.find(marker); at != std::string_view::npos) {
            r.kind = BenchResult::Kind::BuildFailed;
            r.detail = lineAt(output, at);
            return r;
        }
    }
    r.detail = lineAt(output, 0);
    return r;
}

TunerState replayConversation(const Request &request)
{
    TunerState state;
    size_t from = 0;
    for (size_t i = request.messages.size(); i-- > 0;) {
        const Message &m = request.messages[i];
        if (m.role != Role::User)
            continue;
        if (auto restored = parseStateBlock(m.text)) {
            state = std::move(*restored);
            from = i + 1;
            break;
        }
    }
    const std::string summarised = state.lastCallId;
    std::map<std::string, const ToolCall *> calls;
    for (size_t i = from; i < request.messages.size(); ++i) {
        const Message &m = request.messages[i];
        if (m.role == Role::User) {
            if (auto budget = statedBudget(m.text))
                state.budget = budget;
        } else if (m.role == Role::Assistant) {
            for (const ToolCall &call : m.toolCalls)
                calls[call.id] = &call;
        } else if (m.role == Role::Tool) {
            auto it = calls.find(m.toolCallId);
            if (it == calls.end() || (!summarised.empty() && m.toolCallId == summarised))
                continue;
            apply(state, *it->second, m);
            state.lastCallId = m.toolCallId;
        }
    }
    return state;
}

std::string formatStateBlock(const TunerState &s)
{
    std::string out(kStateHeader);
    auto line = [&](const char *name, const std::string &value) {
        out.append("\n").append(name).append(": ").append(value);
    };
    line("listed", yesNo(s.listed));
    line("read task", yesNo(s.readTask));
    line("read kernel", yesNo(s.readKernel));
    line("todo updates", std::to_string(s.todoUpdates));
    line("final todo", yesNo(s.finalTodo));
    line("evaluations", std::to_string(s.evaluations));
    line("candidates", std::to_string(s.candidates));
    line("retries", std::to_string(s.retries));
    line("compile errors", std::to_string(s.compileErrors));
    line("wrong results", std::to_string(s.wrongResults));
    line("regressions", std::to_string(s.regressions));
    line("budget", s.budget ? std::to_string(*s.budget) : std::string("none"));
    line("baseline", s.baseline ? fixed2(*s.baseline) : std::string("none"));
    line("last call", s.lastCallId.empty() ? std::string("none") : s.lastCallId);
    line("best", s.bestKey.empty() ? std::string("none") : s.bestKey + " " + fixed2(s.bestSpeedup));
    for (const std::string &key : s.attemptOrder) {
        const Attempt &a = s.attempts.at(key);
        line("attempt", key + " " + outcomeName(a.outcome) + " " + fixed2(a.speedup) + " " +
                            std::to_string(a.measurements));
    }
    out.append("\n");
    return out;
}

std::optional<TunerState> parseStateBlock(std::string_view text)
{
    const size_t at = text.find(kStateHeader);
    if (at == std::string_view::npos)
        return std::nullopt;
    text = text.substr(at + kStateHeader.size());
    TunerState s;
    auto flag = [](std::string_view v, bool &out) {
        if (v != "yes" && v != "no")
            return false;
        out = v == "yes";
        return true;
    };
    auto count = [](std::string_view v, int &out) {
        auto n = integer(v);
        if (n)
            out = *n;
        return n.has_value();
    };
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty())
            continue;
        const size_t colon = line.find(": ");
        if (colon == std::string_view::npos)
            break; // the block ended
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 2));
        bool ok = true;
        if (name == "listed") {
            ok = flag(value, s.listed);
        } else if (name == "read task") {
            ok = flag(value, s.readTask);
        } else if (name == "read kernel") {
            ok = flag(value, s.readKernel);
        } else if (name == "final todo") {
            ok = flag(value, s.finalTodo);
        } else if (name == "todo updates") {
            ok = count(value, s.todoUpdates);
        } else if (name == "evaluations") {
            ok = count(value, s.evaluations);
        } else if (name == "candidates") {
            ok = count(value, s.candidates);
        } else if (name == "retries") {
            ok = count(value, s.retries);
        } else if (name == "compile errors") {
            ok = count(value, s.compileErrors);
        } else if (name == "wrong results") {
            ok = count(value, s.wrongResults);
        } else if (name == "regressions") {
            ok = count(value, s.regressions);
        } else if (name == "last call") {
            if (value != "none")
                s.lastCallId = std::string(value);
        } else if (name == "budget") {
            if (value != "none") {
                int n = 0;
                ok = count(value, n);
                s.budget = n;
            }
        } else if (name == "baseline") {
            if (value != "none") {
                s.baseline = number(value);
                ok = s.baseline.has_value();
            }
        } else if (name == "best") {
            if (value != "none") {
                const size_t sp = value.find(' ');
                auto v = sp == std::string_view::npos ? std::nullopt : number(value.substr(sp + 1));
                ok = v && KernelConfig::fromKey(value.substr(0, sp));
                if (ok) {
                    s.bestKey = std::string(value.substr(0, sp));
                    s.bestSpeedup = *v;
                }
            }
        } else if (name == "attempt") {
            // KEY OUTCOME SPEEDUP MEASUREMENTS
            std::vector<std::string_view> f;
            for (std::string_view rest = value; !rest.empty();) {
                const size_t sp = rest.find(' ');
                f.push_back(rest.substr(0, sp));
                rest = sp == std::string_view::npos ? std::string_view() : trim(rest.substr(sp + 1));
            }
            ok = f.size() == 4 && KernelConfig::fromKey(f[0]).has_value();
            Attempt a;
            if (ok) {
                if (f[1] == "pending")
                    a.outcome = Attempt::Outcome::Pending;
                else if (f[1] == "kept")
                    a.outcome = Attempt::Outcome::Kept;
                else if (f[1] == "slower")
                    a.outcome = Attempt::Outcome::Slower;
                else if (f[1] == "failed")
                    a.outcome = Attempt::Outcome::Failed;
                else
                    ok = false;
                auto v = number(f[2]);
                ok = ok && v && count(f[3], a.measurements);
                if (ok)
                    a.speedup = *v;
            }
            if (ok && s.attempts.emplace(std::string(f[0]), a).second)
                s.attemptOrder.emplace_back(f[0]);
        } else {
            break;
        }
        if (!ok)
            return std::nullopt;
    }
    return s;
}

} // namespace tapedeck::model
