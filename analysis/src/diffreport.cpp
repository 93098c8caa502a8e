// The whole comparison of two sides (load, align, read the first changed pairs, total up)
// and its two renderings: text for people, JSON for scripts.
#include <tapedeck/analysis/diff.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <map>
#include <ostream>
#include <unordered_set>

namespace tapedeck::analysis {

using formats::StepKind;
using nlohmann::json;

namespace {

std::string withCommas(int64_t n)
{
    const std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out = n < 0 ? "-" : "";
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string signedCount(int64_t n)
{
    return (n > 0 ? "+" : "") + withCommas(n);
}

std::string duration(int64_t us)
{
    const int64_t a = us < 0 ? -us : us;
    char text[64];
    if (a < 1000)
        std::snprintf(text, sizeof text, "%" PRId64 "us", a);
    else if (a < 1000000)
        std::snprintf(text, sizeof text, "%" PRId64 "ms", a / 1000);
    else if (a < 60 * 1000000LL)
        std::snprintf(text, sizeof text, "%.1fs", double(a) / 1e6);
    else if (a < 3600 * 1000000LL)
        std::snprintf(text, sizeof text, "%" PRId64 "m %02" PRId64 "s", a / 60000000, a / 1000000 % 60);
    else
        std::snprintf(text, sizeof text, "%" PRId64 "h %02" PRId64 "m", a / int64_t(3600000000), a / 60000000 % 60);
    return (us < 0 ? "-" : "") + std::string(text);
}

std::string signedDuration(int64_t us)
{
    return (us > 0 ? "+" : "") + duration(us);
}

std::string cost(double usd, bool sign)
{
    char text[64];
    std::snprintf(text, sizeof text, sign ? "%+.4f" : "%.4f", usd);
    std::string out = text;
    // "$1.2345", "+$1.2345", "-$1.2345"
    if (out[0] == '+' || out[0] == '-')
        return out.substr(0, 1) + "$" + out.substr(1);
    return "$" + out;
}

int64_t tokensOf(const formats::StepSummary &s)
{
    return s.usage.inputTokens + s.usage.outputTokens;
}

int64_t stepTime(const formats::StepSummary &s)
{
    return s.endedUs > s.startedUs && s.startedUs > 0 ? s.endedUs - s.startedUs : 0;
}

std::string threadLabel(const Side &side, formats::ThreadId id)
{
    for (const formats::ThreadInfo &t : side.threads)
        if (t.id == id)
            return t.label;
    return "thread " + std::to_string(id.value);
}

std::string branchText(const Side &side)
{
    if (!side.branch.parent)
        return "original";
    std::string out = "branch " + std::to_string(side.branch.id.value) + " (forked from branch " +
                      std::to_string(side.branch.parent->value);
    if (side.branch.forkStep)
        out += " after step " + std::to_string(side.branch.forkStep->value);
    out += ")";
    if (!side.branch.description.empty())
        out += " \"" + side.branch.description + "\"";
    return out;
}

// "tool_result bash on main"
std::string stepText(const Side &side, size_t position)
{
    const formats::StepSummary &s = side.steps[position];
    std::string out = formats::stepKindName(s.kind);
    if (!s.name.empty())
        out += " " + s.name;
    out += " on " + threadLabel(side, s.thread);
    if (s.status != formats::StepStatus::Ok)
        out += std::string(" (") + formats::stepStatusName(s.status) + ")";
    return out;
}

const std::vector<FieldDifference> *differencesOf(const DiffReport &report, size_t row)
{
    for (const auto &[at, list] : report.pairDifferences)
        if (at == row)
            return &list;
    return nullptr;
}

// The first few names, and how many more: a request after a fork differs in every message
// since.
std::string fieldNames(const std::vector<FieldDifference> &list)
{
    constexpr size_t kNamed = 5;
    std::string out;
    for (size_t k = 0; k < list.size() && k < kNamed; ++k)
        out += (out.empty() ? "" : ", ") + list[k].field;
    if (list.size() > kNamed)
        out += " and " + std::to_string(list.size() - kNamed) + " more";
    return out;
}

// " tokens +120, cost +$0.0012, time +1.2s": the pair's deltas that are not zero.
std::string pairDelta(const DiffReport &report, const AlignedRow &row)
{
    const formats::StepSummary &a = report.a.steps[*row.a], &b = report.b.steps[*row.b];
    std::string out;
    auto part = [&out](const std::string &text) { out += (out.empty() ? "" : ", ") + text; };
    if (const int64_t d = tokensOf(b) - tokensOf(a))
        part("tokens " + signedCount(d));
    if (const double d = b.costUsd.value_or(0) - a.costUsd.value_or(0); d > 5e-5 || d < -5e-5)
        part("cost " + cost(d, true));
    if (const int64_t d = stepTime(b) - stepTime(a))
        part("time " + signedDuration(d));
    return out;
}

void printSideHeader(std::ostream &out, const char *label, const Side &side)
{
    out << label << "  " << describeSpec(side.spec) << "  run " << side.run.id.value << " \"" << side.run.name
        << "\", " << branchText(side) << ", " << withCommas(int64_t(side.steps.size())) << " steps\n";
}

// Text output: the unified diffs shown per changed pair (two runs with other histories
// differ in every message; the names of all of them are on the row's line).
constexpr size_t kFieldsShown = 3;

// Which differences a text report has shown already: a model call's request repeats the
// history before it, so a message that differs in one request differs in every later one.
class ShownDifferences {
public:
    bool firstTime(const FieldDifference &d)
    {
        return m_seen.insert(std::hash<std::string>()(d.field + '\0' + d.a + '\0' + d.b)).second;
    }

private:
    std::unordered_set<size_t> m_seen;
};

void printRow(std::ostream &out, const DiffReport &report, size_t index, ShownDifferences &shown)
{
    const AlignedRow &row = report.alignment.rows[index];
    const char sign = row.kind == RowKind::Same      ? '='
                      : row.kind == RowKind::Changed ? '~'
                      : row.kind == RowKind::Removed ? '-'
                                                     : '+';
    auto stepNo = [](const Side &side, std::optional<size_t> at) {
        return at ? std::to_string(side.steps[*at].index.value) : std::string(".");
    };
    char line[96];
    std::snprintf(line, sizeof line, "%c %8s %8s  ", sign, stepNo(report.a, row.a).c_str(),
                  stepNo(report.b, row.b).c_str());
    out << line << (row.b ? stepText(report.b, *row.b) : stepText(report.a, *row.a));
    if (row.kind == RowKind::Changed) {
        if (const auto *list = differencesOf(report, index); list && !list->empty())
            out << "  [" << fieldNames(*list) << "]";
    }
    if (row.a && row.b) {
        if (const std::string delta = pairDelta(report, row); !delta.empty())
            out << "  (" << delta << ")";
    }
    out << "\n";
    if (const auto *list = differencesOf(report, index)) {
        size_t listed = 0, repeated = 0;
        for (size_t k = 0; k < list->size(); ++k) {
            const FieldDifference &d = (*list)[k];
            if (!shown.firstTime(d)) {
                ++repeated;
                continue;
            }
            if (listed++ == kFieldsShown) {
                out << "      ... " << list->size() - k << " more differing parts (--json holds them all)\n";
                break;
            }
            out << "      " << d.field << ":\n";
            size_t at = 0;
            while (at < d.diff.size()) {
                const size_t end = std::min(d.diff.find('\n', at), d.diff.size());
                out << "        " << d.diff.substr(at, end - at) << "\n";
                at = end + 1;
            }
        }
        if (repeated)
            out << "      (" << repeated << (repeated == 1 ? " part differs" : " parts differ")
                << " as shown above)\n";
    }
}

void printTotals(std::ostream &out, const SideTotals &a, const SideTotals &b)
{
    auto line = [&out](const char *name, const std::string &x, const std::string &y, const std::string &d) {
        char text[160];
        std::snprintf(text, sizeof text, "  %-18s %16s %16s %14s\n", name, x.c_str(), y.c_str(), d.c_str());
        out << text;
    };
    auto count = [&line](const char *name, int64_t x, int64_t y) {
        line(name, withCommas(x), withCommas(y), signedCount(y - x));
    };
    line("", "A", "B", "B - A");
    count("steps", a.steps, b.steps);
    count("model calls", a.modelCalls, b.modelCalls);
    count("tool calls", a.toolCalls, b.toolCalls);
    count("errors", a.errors, b.errors);
    count("input tokens", a.usage.inputTokens, b.usage.inputTokens);
    count("output tokens", a.usage.outputTokens, b.usage.outputTokens);
    count("cache read tokens", a.usage.cacheReadTokens, b.usage.cacheReadTokens);
    line("cost", cost(a.costUsd, false), cost(b.costUsd, false), cost(b.costUsd - a.costUsd, true));
    line("time in steps", duration(a.durationUs), duration(b.durationUs),
         signedDuration(b.durationUs - a.durationUs));
}

json totalsJson(const SideTotals &t)
{
    return {{"steps", t.steps},
            {"model_calls", t.modelCalls},
            {"tool_calls", t.toolCalls},
            {"errors", t.errors},
            {"input_tokens", t.usage.inputTokens},
            {"output_tokens", t.usage.outputTokens},
            {"cache_read_tokens", t.usage.cacheReadTokens},
            {"cache_write_tokens", t.usage.cacheWriteTokens},
            {"cost_usd", t.costUsd},
            {"duration_us", t.durationUs}};
}

SideTotals minus(const SideTotals &b, const SideTotals &a)
{
    SideTotals d;
    d.steps = b.steps - a.steps;
    d.modelCalls = b.modelCalls - a.modelCalls;
    d.toolCalls = b.toolCalls - a.toolCalls;
    d.errors = b.errors - a.errors;
    d.usage.inputTokens = b.usage.inputTokens - a.usage.inputTokens;
    d.usage.outputTokens = b.usage.outputTokens - a.usage.outputTokens;
    d.usage.cacheReadTokens = b.usage.cacheReadTokens - a.usage.cacheReadTokens;
    d.usage.cacheWriteTokens = b.usage.cacheWriteTokens - a.usage.cacheWriteTokens;
    d.costUsd = b.costUsd - a.costUsd;
    d.durationUs = b.durationUs - a.durationUs;
    return d;
}

json sideJson(const Side &side)
{
    json branch = {{"id", side.branch.id.value},
                   {"parent", side.branch.parent ? json(side.branch.parent->value) : json()},
                   {"fork_step", side.branch.forkStep ? json(side.branch.forkStep->value) : json()},
                   {"description", side.branch.description}};
    return {{"spec", side.spec.text},
            {"path", side.spec.path},
            {"run", {{"id", side.run.id.value}, {"name", side.run.name}}},
            {"branch", std::move(branch)},
            {"steps", side.steps.size()}};
}

json stepRefJson(const Side &side, std::optional<size_t> position)
{
    if (!position)
        return nullptr;
    const formats::StepSummary &s = side.steps[*position];
    return {{"step", s.index.value},
            {"position", *position},
            {"kind", formats::stepKindName(s.kind)},
            {"name", s.name},
            {"thread", threadLabel(side, s.thread)},
            {"status", formats::stepStatusName(s.status)}};
}

json differencesJson(const std::vector<FieldDifference> &list)
{
    json out = json::array();
    for (const FieldDifference &d : list)
        out.push_back({{"field", d.field}, {"a", d.a}, {"b", d.b}, {"diff", d.diff}});
    return out;
}

json rowJson(const DiffReport &report, size_t index)
{
    const AlignedRow &row = report.alignment.rows[index];
    json out = {{"row", index},
                {"kind", rowKindName(row.kind)},
                {"a", stepRefJson(report.a, row.a)},
                {"b", stepRefJson(report.b, row.b)}};
    if (row.a && row.b) {
        const formats::StepSummary &a = report.a.steps[*row.a], &b = report.b.steps[*row.b];
        out["delta"] = {{"tokens", tokensOf(b) - tokensOf(a)},
                        {"cost_usd", b.costUsd.value_or(0) - a.costUsd.value_or(0)},
                        {"duration_us", stepTime(b) - stepTime(a)}};
    }
    if (const auto *list = differencesOf(report, index))
        out["differences"] = differencesJson(*list);
    return out;
}

} // namespace

SideTotals totalsOf(const Side &side)
{
    SideTotals t;
    for (const formats::StepSummary &s : side.steps) {
        ++t.steps;
        t.modelCalls += s.kind == StepKind::ModelCall;
        t.toolCalls += s.kind == StepKind::ToolCall;
        t.errors += s.status == formats::StepStatus::Error;
        t.usage.inputTokens += s.usage.inputTokens;
        t.usage.outputTokens += s.usage.outputTokens;
        t.usage.cacheReadTokens += s.usage.cacheReadTokens;
        t.usage.cacheWriteTokens += s.usage.cacheWriteTokens;
        t.costUsd += s.costUsd.value_or(0);
        // Tool calls are instants; model calls and tool results carry the time spent.
        t.durationUs += stepTime(s);
    }
    return t;
}

formats::Result<DiffReport> diffSides(const formats::TapeReader &readerA, const SideSpec &a,
                                      const formats::TapeReader &readerB, const SideSpec &b,
                                      const DiffOptions &options)
{
    auto sideA = loadSide(readerA, a);
    if (!sideA)
        return sideA.error();
    auto sideB = loadSide(readerB, b);
    if (!sideB)
        return sideB.error();
    return diffSides(readerA, std::move(*sideA), readerB, std::move(*sideB), options);
}

formats::Result<DiffReport> diffSides(const formats::TapeReader &readerA, Side a,
                                      const formats::TapeReader &readerB, Side b,
                                      const DiffOptions &options)
{
    DiffReport report;
    report.a = std::move(a);
    report.b = std::move(b);
    report.alignment = align(report.a, report.b);
    report.totalsA = totalsOf(report.a);
    report.totalsB = totalsOf(report.b);
    int compared = 0;
    for (size_t i = 0; i < report.alignment.rows.size() && compared < options.maxPairsCompared; ++i) {
        const AlignedRow &row = report.alignment.rows[i];
        if (row.kind != RowKind::Changed)
            continue;
        auto differences =
            compareSteps(readerA, report.a.steps[*row.a].index, readerB, report.b.steps[*row.b].index);
        if (!differences)
            return differences.error();
        report.pairDifferences.emplace_back(i, std::move(*differences));
        ++compared;
    }
    return report;
}

void printDiff(const DiffReport &report, std::ostream &out, const DiffOptions &options)
{
    const Alignment &al = report.alignment;
    printSideHeader(out, "A", report.a);
    printSideHeader(out, "B", report.b);
    out << withCommas(int64_t(al.rows.size())) << " aligned rows: " << withCommas(al.same) << " same, "
        << withCommas(al.changed) << " changed, " << withCommas(al.removed) << " only in A, "
        << withCommas(al.inserted) << " only in B\n";

    if (!al.firstDivergence) {
        out << "No difference: the same steps with the same content.\n\n";
    } else {
        const AlignedRow &row = al.rows[*al.firstDivergence];
        out << "First divergence, row " << withCommas(int64_t(*al.firstDivergence) + 1) << ": ";
        if (row.kind == RowKind::Changed) {
            out << "A step " << report.a.steps[*row.a].index.value << " and B step "
                << report.b.steps[*row.b].index.value << ", " << stepText(report.b, *row.b);
            const auto *list = differencesOf(report, *al.firstDivergence);
            out << (list && !list->empty() ? ": " + fieldNames(*list) + (list->size() == 1 ? " differs" : " differ")
                                           : ": content differs")
                << "\n";
        } else if (row.kind == RowKind::Removed) {
            out << "A step " << report.a.steps[*row.a].index.value << ", " << stepText(report.a, *row.a)
                << ", is not in B\n";
        } else {
            out << "B step " << report.b.steps[*row.b].index.value << ", " << stepText(report.b, *row.b)
                << ", is not in A\n";
        }
        out << "\n";

        // Which rows are listed: every one that differs, `contextRows` same rows around each.
        const size_t n = al.rows.size();
        std::vector<bool> listed(n, !options.onlyDifferences);
        const size_t context = size_t(std::max(0, options.contextRows));
        for (size_t i = 0; i < n; ++i) {
            if (al.rows[i].kind == RowKind::Same)
                continue;
            for (size_t k = i > context ? i - context : 0; k <= std::min(n - 1, i + context); ++k)
                listed[k] = true;
        }
        int printed = 0;
        size_t folded = 0;
        ShownDifferences shown;
        for (size_t i = 0; i < n; ++i) {
            if (!listed[i]) {
                ++folded;
                continue;
            }
            if (folded) {
                out << "  ... " << withCommas(int64_t(folded)) << " same steps ...\n";
                folded = 0;
            }
            if (printed == options.maxRowsShown) {
                int64_t rest[4] = {};
                for (size_t k = i; k < n; ++k)
                    ++rest[int(al.rows[k].kind)];
                out << "  ... " << withCommas(int64_t(n - i)) << " more rows not listed (" << withCommas(rest[1])
                    << " changed, " << withCommas(rest[2]) << " only in A, " << withCommas(rest[3])
                    << " only in B); --all lists every row\n";
                break;
            }
            printRow(out, report, i, shown);
            ++printed;
        }
        if (folded)
            out << "  ... " << withCommas(int64_t(folded)) << " same steps ...\n";
        out << "\n";
    }
    printTotals(out, report.totalsA, report.totalsB);
}

json diffToJson(const DiffReport &report, const DiffOptions &options)
{
    const Alignment &al = report.alignment;
    json rows = json::array();
    for (size_t i = 0; i < al.rows.size(); ++i)
        if (!options.onlyDifferences || al.rows[i].kind != RowKind::Same)
            rows.push_back(rowJson(report, i));
    json first = nullptr;
    if (al.firstDivergence) {
        first = rowJson(report, *al.firstDivergence);
        first.erase("differences");
        json fields = json::array();
        if (const auto *list = differencesOf(report, *al.firstDivergence))
            for (const FieldDifference &d : *list)
                fields.push_back(d.field);
        first["fields"] = std::move(fields);
    }
    return {{"a", sideJson(report.a)},
            {"b", sideJson(report.b)},
            {"identical", !al.firstDivergence.has_value()},
            {"counts", {{"rows", al.rows.size()},
                        {"same", al.same},
                        {"changed", al.changed},
                        {"removed", al.removed},
                        {"inserted", al.inserted}}},
            {"first_divergence", std::move(first)},
            {"rows", std::move(rows)},
            {"totals",
             {{"a", totalsJson(report.totalsA)},
              {"b", totalsJson(report.totalsB)},
              {"delta", totalsJson(minus(report.totalsB, report.totalsA))}}}};
}

} // namespace tapedeck::analysis
