// Which steps of a tape a branch of a run is made of: its ancestors' up to each fork point,
// then its own. Branches share their common prefix; nothing is copied (DESIGN.md), so a
// replay or a fork of a branch reads the steps of several branches.
#pragma once

#include <tapedeck/formats/tape.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace tapedeck::replayer {

class BranchLineage {
public:
    // The run (default: the tape's only run, else its last) and branch (default: its
    // original). Errors name what the tape has instead: no such run, no such branch.
    static formats::Result<BranchLineage> resolve(const formats::TapeReader &reader,
                                                  std::optional<formats::RunId> run,
                                                  std::optional<formats::BranchId> branch);

    formats::RunId run() const { return m_run; }
    formats::BranchId branch() const { return m_branch; }
    bool holds(const formats::StepSummary &step) const;
    bool includes(formats::BranchId branch) const; // the branch or one of its ancestors
    // From now on only the steps before `index` (a fork's prefix).
    void endBefore(formats::StepIndex index);

    // The branch's steps in order, read page by page from the summaries; `visit` returns
    // false to stop.
    formats::Status forEach(const formats::TapeReader &reader,
                            const std::function<bool(const formats::StepSummary &)> &visit) const;

private:
    struct Entry {
        formats::BranchId branch;
        int64_t lastStep; // the last step of `branch` the lineage holds
    };
    formats::RunId m_run;
    formats::BranchId m_branch;
    std::vector<Entry> m_entries; // the branch itself first, then its parent, ...
};

} // namespace tapedeck::replayer
