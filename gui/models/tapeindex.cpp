#include "tapeindex.h"

#include <algorithm>

namespace tapedeck::gui {

namespace {

// Rows read per query: large enough that SQLite's per-call cost vanishes, small enough
// that progress and cancellation come several times a second.
constexpr int64_t kRowsPerRead = 8192;

template <typename T, typename Id>
const T *findById(const std::vector<T> &items, int32_t id)
{
    auto it = std::lower_bound(items.begin(), items.end(), id,
                               [](const T &item, int32_t v) { return item.id.value < v; });
    return it != items.end() && it->id.value == id ? &*it : nullptr;
}

// The "branch outcome" annotations `tapedeck fork` appends when a branch ends: one step
// per forked branch, so reading their payloads costs nothing next to the rows.
std::map<int32_t, std::string> branchOutcomes(const formats::TapeReader &reader, const std::vector<StepRow> &rows,
                                              const std::vector<std::string> &names)
{
    std::map<int32_t, std::string> out;
    auto name = std::find(names.begin(), names.end(), "branch outcome");
    if (name == names.end())
        return out;
    const int32_t id = int32_t(name - names.begin());
    for (const StepRow &r : rows) {
        if (r.kind != formats::StepKind::Annotation || r.name != id)
            continue;
        auto step = reader.step(r.index, formats::TapeReader::Detail::WithoutMessages);
        if (step && step->payload.is_object())
            out[r.branch] = step->payload.value("branch_outcome", "");
    }
    return out;
}

} // namespace

formats::Result<std::shared_ptr<const TapeIndex>> TapeIndex::load(
    const formats::TapeReader &reader,
    const std::function<void(int64_t done, int64_t total)> &progress,
    const std::atomic<bool> *cancel)
{
    auto summary = reader.summary();
    if (!summary)
        return summary.error();
    const int64_t total = reader.stepCount();
    std::vector<StepRow> rows;
    rows.reserve(size_t(std::max<int64_t>(total, 0)));
    std::vector<std::string> names;
    std::unordered_map<std::string, int32_t> nameIds;
    std::optional<std::string> damage;

    int64_t next = 1;
    while (next <= total) {
        if (cancel && cancel->load())
            return formats::Error{formats::ErrorCode::InvalidArgument, reader.path() + ": opening cancelled"};
        auto batch = reader.stepSummaries(formats::StepIndex{next}, kRowsPerRead);
        if (!batch) {
            damage = batch.error().message;
            break;
        }
        if (batch->empty())
            break;
        for (const formats::StepSummary &s : *batch) {
            StepRow r;
            r.index = s.index;
            r.startedUs = s.startedUs;
            r.firstTokenUs = s.firstTokenUs;
            r.endedUs = s.endedUs;
            r.inputTokens = s.usage.inputTokens;
            r.outputTokens = s.usage.outputTokens;
            r.cacheReadTokens = s.usage.cacheReadTokens;
            r.requestBytes = s.requestBytes;
            if (s.costUsd)
                r.costUsd = *s.costUsd;
            r.parent = s.parent ? s.parent->value : 0;
            r.run = int32_t(s.run.value);
            r.branch = int32_t(s.branch.value);
            r.thread = int32_t(s.thread.value);
            r.messageCount = int32_t(s.messageCount);
            r.kind = s.kind;
            r.status = s.status;
            if (!s.name.empty()) {
                auto [it, added] = nameIds.try_emplace(s.name, int32_t(names.size()));
                if (added)
                    names.push_back(s.name);
                r.name = it->second;
            }
            rows.push_back(r);
        }
        next = batch->back().index.value + 1;
        if (progress)
            progress(int64_t(rows.size()), total);
    }
    // The writer's running totals count every step it committed; fewer rows means rows
    // were lost (a damaged page, a hand-edited file), even when the last ones are gone.
    int64_t written = 0;
    for (int k = 1; k <= formats::kStepKindCount; ++k)
        written += summary->stepsByKind[k];
    if (!damage && int64_t(rows.size()) < written)
        damage = reader.path() + ": the tape lists " + std::to_string(written) + " steps but only " +
                 std::to_string(rows.size()) + " could be read";
    std::map<int32_t, std::string> outcomes = branchOutcomes(reader, rows, names);
    return std::shared_ptr<const TapeIndex>(std::make_shared<TapeIndex>(reader.path(), std::move(*summary),
                                                                        std::move(rows), std::move(names),
                                                                        std::move(damage), std::move(outcomes)));
}

TapeIndex::TapeIndex(std::string path, formats::TapeSummary summary, std::vector<StepRow> rows,
                     std::vector<std::string> names, std::optional<std::string> damage,
                     std::map<int32_t, std::string> branchOutcomes)
    : m_path(std::move(path)), m_summary(std::move(summary)), m_rows(std::move(rows)),
      m_names(std::move(names)), m_damage(std::move(damage)), m_branchOutcomes(std::move(branchOutcomes))
{
    for (size_t i = 0; i < m_names.size(); ++i)
        m_nameIds.emplace(m_names[i], int32_t(i));
    auto byId = [](const auto &a, const auto &b) { return a.id < b.id; };
    std::sort(m_summary.runs.begin(), m_summary.runs.end(), byId);
    std::sort(m_summary.branches.begin(), m_summary.branches.end(), byId);
    std::sort(m_summary.threads.begin(), m_summary.threads.end(), byId);
    if (!m_rows.empty()) {
        m_firstUs = m_rows.front().startedUs;
        m_lastUs = m_rows.front().endedUs;
        for (const StepRow &r : m_rows) {
            if (r.startedUs > 0)
                m_firstUs = m_firstUs > 0 ? std::min(m_firstUs, r.startedUs) : r.startedUs;
            m_lastUs = std::max({m_lastUs, r.endedUs, r.startedUs});
        }
    }
}

int64_t TapeIndex::rowOf(formats::StepIndex step) const
{
    auto it = std::lower_bound(m_rows.begin(), m_rows.end(), step,
                               [](const StepRow &r, formats::StepIndex s) { return r.index < s; });
    return it != m_rows.end() && it->index == step ? int64_t(it - m_rows.begin()) : -1;
}

int64_t TapeIndex::rowAtOrAfter(int64_t us) const
{
    // Rows are in append order, which is time order for one recorder; a binary search on
    // start times is right for such tapes and a good guess for merged ones.
    auto it = std::lower_bound(m_rows.begin(), m_rows.end(), us,
                               [](const StepRow &r, int64_t t) { return r.startedUs < t; });
    return int64_t(it - m_rows.begin());
}

const std::string &TapeIndex::name(int32_t id) const
{
    static const std::string none;
    return id >= 0 && size_t(id) < m_names.size() ? m_names[size_t(id)] : none;
}

int32_t TapeIndex::findName(std::string_view name) const
{
    auto it = m_nameIds.find(std::string(name));
    return it == m_nameIds.end() ? -1 : it->second;
}

const formats::RunInfo *TapeIndex::run(int32_t id) const
{
    return findById<formats::RunInfo, formats::RunId>(m_summary.runs, id);
}

const formats::BranchInfo *TapeIndex::branch(int32_t id) const
{
    return findById<formats::BranchInfo, formats::BranchId>(m_summary.branches, id);
}

const formats::ThreadInfo *TapeIndex::thread(int32_t id) const
{
    return findById<formats::ThreadInfo, formats::ThreadId>(m_summary.threads, id);
}

int64_t TapeIndex::previousModelCallInThread(int64_t r) const
{
    if (r < 0 || r >= rowCount())
        return -1;
    const int32_t thread = m_rows[size_t(r)].thread;
    for (int64_t i = r - 1; i >= 0; --i) {
        const StepRow &p = m_rows[size_t(i)];
        if (p.thread == thread && p.kind == formats::StepKind::ModelCall)
            return i;
    }
    return -1;
}

std::string TapeIndex::branchOutcome(int32_t branch) const
{
    auto it = m_branchOutcomes.find(branch);
    return it == m_branchOutcomes.end() ? std::string() : it->second;
}

} // namespace tapedeck::gui
