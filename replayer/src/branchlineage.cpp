#include <tapedeck/replayer/branchlineage.h>

#include <algorithm>
#include <limits>
#include <map>

namespace tapedeck::replayer {

using formats::Error;
using formats::ErrorCode;

namespace {

std::string idList(const std::vector<int64_t> &ids)
{
    std::string out;
    for (int64_t id : ids)
        out += (out.empty() ? "" : ", ") + std::to_string(id);
    return out;
}

} // namespace

formats::Result<BranchLineage> BranchLineage::resolve(const formats::TapeReader &reader,
                                                      std::optional<formats::RunId> run,
                                                      std::optional<formats::BranchId> branch)
{
    formats::Result<std::vector<formats::RunInfo>> runs = reader.runs();
    if (!runs)
        return runs.error();
    if (runs->empty())
        return Error{ErrorCode::NotFound, reader.path() + " holds no run"};
    std::vector<int64_t> runIds;
    for (const formats::RunInfo &info : *runs)
        runIds.push_back(info.id.value);
    if (run && std::find(runIds.begin(), runIds.end(), run->value) == runIds.end())
        return Error{ErrorCode::NotFound, reader.path() + " has no run " + std::to_string(run->value) +
                                              " (its runs: " + idList(runIds) + ")"};
    BranchLineage out;
    out.m_run = run ? *run : runs->back().id;

    formats::Result<std::vector<formats::BranchInfo>> branches = reader.branches();
    if (!branches)
        return branches.error();
    std::map<formats::BranchId, formats::BranchInfo> ofRun;
    std::vector<int64_t> branchIds;
    for (const formats::BranchInfo &info : *branches) {
        if (info.run != out.m_run)
            continue;
        ofRun[info.id] = info;
        branchIds.push_back(info.id.value);
        if (!branch && !info.parent && out.m_branch.value == 0)
            out.m_branch = info.id;
    }
    if (branch) {
        if (!ofRun.count(*branch))
            return Error{ErrorCode::NotFound, "run " + std::to_string(out.m_run.value) + " of " + reader.path() +
                                                  " has no branch " + std::to_string(branch->value) +
                                                  " (its branches: " + idList(branchIds) + ")"};
        out.m_branch = *branch;
    }
    if (out.m_branch.value == 0)
        return Error{ErrorCode::Corrupt,
                     "run " + std::to_string(out.m_run.value) + " of " + reader.path() + " has no original branch"};

    out.m_entries.push_back({out.m_branch, std::numeric_limits<int64_t>::max()});
    for (const formats::BranchInfo *at = &ofRun[out.m_branch]; at->parent && ofRun.count(*at->parent);) {
        const int64_t cut = at->forkStep ? at->forkStep->value : 0;
        out.m_entries.push_back({*at->parent, std::min(out.m_entries.back().lastStep, cut)});
        at = &ofRun[*at->parent];
        if (out.m_entries.size() > ofRun.size())
            return Error{ErrorCode::Corrupt, "the branches of run " + std::to_string(out.m_run.value) + " of " +
                                                 reader.path() + " are each other's parents"};
    }
    return out;
}

bool BranchLineage::holds(const formats::StepSummary &step) const
{
    if (step.run != m_run)
        return false;
    for (const Entry &entry : m_entries)
        if (entry.branch == step.branch)
            return step.index.value <= entry.lastStep;
    return false;
}

bool BranchLineage::includes(formats::BranchId branch) const
{
    return std::any_of(m_entries.begin(), m_entries.end(), [&](const Entry &e) { return e.branch == branch; });
}

void BranchLineage::endBefore(formats::StepIndex index)
{
    for (Entry &entry : m_entries)
        entry.lastStep = std::min(entry.lastStep, index.value - 1);
}

formats::Status BranchLineage::forEach(const formats::TapeReader &reader,
                                       const std::function<bool(const formats::StepSummary &)> &visit) const
{
    int64_t last = 0;
    for (const Entry &entry : m_entries)
        last = std::max(last, entry.lastStep);
    constexpr int64_t kPage = 4096;
    const int64_t end = std::min(reader.stepCount(), last);
    for (int64_t first = 1; first <= end; first += kPage) {
        formats::Result<std::vector<formats::StepSummary>> page =
            reader.stepSummaries(formats::StepIndex(first), std::min(kPage, end - first + 1));
        if (!page)
            return page.error();
        for (const formats::StepSummary &s : *page)
            if (holds(s) && !visit(s))
                return formats::Status::success();
    }
    return formats::Status::success();
}

} // namespace tapedeck::replayer
