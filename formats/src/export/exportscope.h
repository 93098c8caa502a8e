// What the exporters share: which runs, branches, threads and steps an ExportSelection
// takes, where a step whose time the tape does not know is placed, and what an error step
// says. Header-only, for the two exporters of this directory.
#pragma once

#include "import/lenientjson.h"

#include <tapedeck/formats/exporters.h>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace tapedeck::formats::exportdetail {

// The runs, branches and threads of a tape as a selection sees them. Reads the tape's
// tables once; steps are then walked as summaries, which decode no blob.
class ExportScope {
public:
    static Result<ExportScope> resolve(const TapeReader &reader, const ExportSelection &selection)
    {
        ExportScope scope;
        auto runs = reader.runs();
        if (!runs)
            return runs.error();
        auto branches = reader.branches();
        if (!branches)
            return branches.error();
        auto threads = reader.threads();
        if (!threads)
            return threads.error();
        scope.m_branches = std::move(*branches);
        scope.m_threads = std::move(*threads);

        std::optional<RunId> run = selection.run;
        if (selection.branch) {
            const BranchInfo *branch = scope.branch(*selection.branch);
            if (!branch)
                return Error{ErrorCode::NotFound, reader.path() + ": no branch " +
                                                      std::to_string(selection.branch->value)};
            if (run && *run != branch->run)
                return Error{ErrorCode::InvalidArgument,
                             reader.path() + ": branch " + std::to_string(branch->id.value) +
                                 " belongs to run " + std::to_string(branch->run.value) +
                                 ", not run " + std::to_string(run->value)};
            run = branch->run;
            scope.m_selectedBranch = branch->id;
            scope.m_lineage = scope.lineageOf(*branch);
        }
        for (RunInfo &r : *runs) {
            if (!run || r.id == *run)
                scope.m_runs.push_back(std::move(r));
        }
        for (size_t i = 0; i < scope.m_runs.size(); ++i)
            scope.m_runIndex[scope.m_runs[i].id.value] = i;
        for (size_t i = 0; i < scope.m_threads.size(); ++i)
            scope.m_threadIndex[scope.m_threads[i].id.value] = i;
        if (run && scope.m_runs.empty())
            return Error{ErrorCode::NotFound,
                         reader.path() + ": no run " + std::to_string(run->value)};
        return scope;
    }

    // The selected runs, in id order.
    const std::vector<RunInfo> &runs() const { return m_runs; }
    const std::vector<ThreadInfo> &threads() const { return m_threads; }
    // Every branch of the run is exported (no branch was selected).
    bool wholeRuns() const { return !m_selectedBranch; }
    std::optional<BranchId> selectedBranch() const { return m_selectedBranch; }

    const BranchInfo *branch(BranchId id) const
    {
        for (const BranchInfo &b : m_branches) {
            if (b.id == id)
                return &b;
        }
        return nullptr;
    }
    const ThreadInfo *thread(ThreadId id) const
    {
        auto it = m_threadIndex.find(id.value);
        return it == m_threadIndex.end() ? nullptr : &m_threads[it->second];
    }
    // A selected run.
    const RunInfo *run(RunId id) const
    {
        auto it = m_runIndex.find(id.value);
        return it == m_runIndex.end() ? nullptr : &m_runs[it->second];
    }
    // The branch a run was recorded on (the one without a parent).
    std::optional<BranchId> recordedBranch(RunId run) const
    {
        for (const BranchInfo &b : m_branches) {
            if (b.run == run && !b.parent)
                return b.id;
        }
        return std::nullopt;
    }

    bool includes(const StepSummary &s) const
    {
        if (!run(s.run))
            return false;
        if (!m_selectedBranch)
            return true;
        auto limit = m_lineage.find(s.branch.value);
        return limit != m_lineage.end() && s.index.value <= limit->second;
    }

    // Calls `visit` with the summary of every selected step, in step order, until it
    // returns false.
    Status forEachSummary(const TapeReader &reader,
                          const std::function<bool(const StepSummary &)> &visit) const
    {
        constexpr int64_t kChunk = 4096;
        const int64_t last = reader.stepCount();
        for (int64_t first = 1; first <= last; first += kChunk) {
            auto chunk = reader.stepSummaries(StepIndex{first}, kChunk);
            if (!chunk)
                return chunk.error();
            for (const StepSummary &s : *chunk) {
                if (includes(s) && !visit(s))
                    return {};
            }
        }
        return {};
    }

private:
    // The branch and its ancestors, each with the last step of it the branch continues:
    // everything of the branch itself, its parent's steps up to the fork, and so on.
    std::map<int64_t, int64_t> lineageOf(const BranchInfo &branch) const
    {
        std::map<int64_t, int64_t> lineage;
        int64_t limit = std::numeric_limits<int64_t>::max();
        for (const BranchInfo *b = &branch; b && !lineage.count(b->id.value);) {
            lineage[b->id.value] = limit;
            if (!b->parent)
                break;
            limit = b->forkStep ? std::min(limit, b->forkStep->value) : 0;
            b = this->branch(*b->parent);
        }
        return lineage;
    }

    std::vector<RunInfo> m_runs;
    std::vector<BranchInfo> m_branches;
    std::vector<ThreadInfo> m_threads;
    std::map<int64_t, size_t> m_runIndex;    // run id -> its place in m_runs
    std::map<int64_t, size_t> m_threadIndex; // thread id -> its place in m_threads
    std::optional<BranchId> m_selectedBranch;
    std::map<int64_t, int64_t> m_lineage; // branch id -> last step index taken from it
};

// When a step happened, for outputs that need a time for everything. A step without a
// time is put where the thread last was (the end of its latest timed step), else at the
// thread's or the run's start; such a placement is flagged, never passed off as known.
class StepClock {
public:
    struct Placed {
        int64_t startUs = 0;
        int64_t endUs = 0;
        bool unknown = false;
    };

    Placed place(ThreadId thread, int64_t fallbackUs, int64_t startedUs, int64_t endedUs)
    {
        int64_t &latest = m_latest[thread.value];
        if (startedUs <= 0 && endedUs <= 0) {
            const int64_t at = latest ? latest : fallbackUs;
            return {at, at, true};
        }
        if (startedUs <= 0)
            startedUs = endedUs;
        endedUs = std::max(endedUs, startedUs);
        latest = std::max(latest, endedUs);
        return {startedUs, endedUs, false};
    }

private:
    std::map<int64_t, int64_t> m_latest; // thread id -> the latest time seen in it
};

// What an error step's payload says went wrong: {"message"}, {"error": {"message"}} or
// {"error": "..."}, as recorders and importers write it.
inline std::string errorMessageOf(const nlohmann::json &payload)
{
    if (std::string message = import::stringMember(payload, "message"); !message.empty())
        return message;
    if (const nlohmann::json *error = import::member(payload, "error"))
        return error->is_string() ? error->get<std::string>()
                                  : import::stringMember(*error, "message");
    return {};
}

} // namespace tapedeck::formats::exportdetail
