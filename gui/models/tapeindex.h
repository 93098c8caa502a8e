// The packed index of a tape that every view draws from: the tape's summary and the summary
// columns of each step, read once when the tape opens (never decompressing a blob), then
// shared read-only between threads.
#pragma once

#include <tapedeck/formats/tape.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tapedeck::gui {

// One step's summary columns. About 100 bytes: the index of a 1,000,000-step run is
// ~100 MB, and nothing else the views hold grows with the run.
struct StepRow {
    formats::StepIndex index;
    int64_t startedUs = 0;
    int64_t firstTokenUs = 0;          // 0: not streamed, or not known
    int64_t endedUs = 0;
    int64_t inputTokens = 0;
    int64_t outputTokens = 0;
    int64_t cacheReadTokens = 0;
    int64_t requestBytes = 0;
    double costUsd = std::nan("");     // NaN: not known
    int64_t parent = 0;                // the parent step's index value, 0 for none
    int32_t run = 0;
    int32_t branch = 0;
    int32_t thread = 0;
    int32_t name = -1;                 // into TapeIndex::name(); -1 when the step has none
    int32_t messageCount = 0;
    formats::StepKind kind = formats::StepKind::Annotation;
    formats::StepStatus status = formats::StepStatus::Ok;

    int64_t durationUs() const { return endedUs > startedUs ? endedUs - startedUs : 0; }
    bool hasCost() const { return !std::isnan(costUsd); }
    bool isError() const { return status == formats::StepStatus::Error; }
};

// Immutable once built: any thread may read a published index. Rows are in step order.
class TapeIndex {
public:
    // Reads the summary and every step row. `progress(done, total)` is called every few
    // thousand rows; when `cancel` becomes true the load stops and returns an error.
    // A tape whose step rows cannot all be read yields the rows up to the last good one,
    // with damage() saying what stopped the read: a damaged tape still opens.
    static formats::Result<std::shared_ptr<const TapeIndex>> load(
        const formats::TapeReader &reader,
        const std::function<void(int64_t done, int64_t total)> &progress = {},
        const std::atomic<bool> *cancel = nullptr);
    // Builds an index from rows already at hand (tests, and the loader's first stage:
    // a summary with no rows yet).
    TapeIndex(std::string path, formats::TapeSummary summary, std::vector<StepRow> rows,
              std::vector<std::string> names, std::optional<std::string> damage = {},
              std::map<int32_t, std::string> branchOutcomes = {});

    const std::string &path() const { return m_path; }
    const formats::TapeSummary &summary() const { return m_summary; }

    int64_t rowCount() const { return int64_t(m_rows.size()); }
    const StepRow &row(int64_t r) const { return m_rows[size_t(r)]; }
    const std::vector<StepRow> &rows() const { return m_rows; }
    // The row holding `step`, or -1 when the index has no such step (binary search).
    int64_t rowOf(formats::StepIndex step) const;
    // The first row whose step starts at or after `us` (rowCount() when none): steps are
    // appended in time order within a thread, so this is approximate across threads and
    // meant for playback and "jump to time", not for exact time queries.
    int64_t rowAtOrAfter(int64_t us) const;

    // Interned step names (tool names, model names).
    const std::string &name(int32_t id) const;
    int32_t nameCount() const { return int32_t(m_names.size()); }
    int32_t findName(std::string_view name) const; // -1 when absent
    const std::string &nameOf(const StepRow &row) const { return name(row.name); }

    const formats::RunInfo *run(int32_t id) const;
    const formats::BranchInfo *branch(int32_t id) const;
    const formats::ThreadInfo *thread(int32_t id) const;
    // The row of the model call before `r` in the same thread, or -1: the request that
    // "what is new in this request" compares against.
    int64_t previousModelCallInThread(int64_t r) const;

    // Earliest start and latest end over the rows (0, 0 for an empty tape).
    int64_t firstUs() const { return m_firstUs; }
    int64_t lastUs() const { return m_lastUs; }

    // How a forked branch ended, as `tapedeck fork` wrote it ("exit 0", "interrupted"); ""
    // for a branch still recording, or one that is a run's original (RunInfo::outcome).
    std::string branchOutcome(int32_t branch) const;

    // Why the rows stop early, when they do ("step 1234: ..."); empty for a sound tape.
    const std::optional<std::string> &damage() const { return m_damage; }

private:
    std::string m_path;
    formats::TapeSummary m_summary;
    std::vector<StepRow> m_rows;
    std::vector<std::string> m_names;
    std::unordered_map<std::string, int32_t> m_nameIds;
    std::optional<std::string> m_damage;
    std::map<int32_t, std::string> m_branchOutcomes;
    int64_t m_firstUs = 0;
    int64_t m_lastUs = 0;
};

} // namespace tapedeck::gui
