// Naming a side (FILE, FILE#N, FILE#run:R, FILE#run:R,branch:N) and loading its steps:
// summaries and fingerprints only, read page by page, no blob decoded.
#include "stepsignatures.h"

#include <tapedeck/replayer/branchlineage.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

namespace tapedeck::analysis {

using formats::Error;
using formats::ErrorCode;

namespace {

constexpr const char *kForms = "FILE, FILE#N, FILE#run:R or FILE#run:R,branch:N";

std::optional<int64_t> positiveNumber(std::string_view text)
{
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0)
        return std::nullopt;
    return value;
}

std::string idList(const std::vector<int64_t> &ids)
{
    std::string out;
    for (int64_t id : ids)
        out += (out.empty() ? "" : ", ") + std::to_string(id);
    return out.empty() ? "none" : out;
}

// The run a branch belongs to, for a spec that names a branch but no run.
formats::Result<formats::RunId> runOfBranch(const std::vector<formats::BranchInfo> &branches,
                                            formats::BranchId branch, const std::string &path)
{
    std::vector<int64_t> ids;
    for (const formats::BranchInfo &info : branches) {
        if (info.id == branch)
            return info.run;
        ids.push_back(info.id.value);
    }
    return Error{ErrorCode::NotFound,
                 path + " has no branch " + std::to_string(branch.value) + " (its branches: " + idList(ids) + ")"};
}

// Fingerprints of `steps` (in index order), read a page at a time starting at each step
// not yet covered, so the steps of other branches between a fork's prefix and its own
// steps are skipped rather than read.
formats::Result<std::vector<formats::StepFingerprint>>
fingerprintsOf(const formats::TapeReader &reader, const std::vector<formats::StepSummary> &steps)
{
    constexpr int64_t kPage = 4096;
    std::vector<formats::StepFingerprint> out;
    out.reserve(steps.size());
    size_t next = 0;
    while (next < steps.size()) {
        auto page = reader.stepFingerprints(steps[next].index, kPage);
        if (!page)
            return page.error();
        const size_t before = next;
        for (const formats::StepFingerprint &fp : *page) {
            if (next == steps.size())
                break;
            if (fp.index == steps[next].index) {
                out.push_back(fp);
                ++next;
            }
        }
        if (next == before)
            return Error{ErrorCode::Corrupt, reader.path() + ": step " + std::to_string(steps[next].index.value) +
                                                 " has a summary but no fingerprint"};
    }
    return out;
}

} // namespace

formats::Result<SideSpec> parseSideSpec(const std::string &text)
{
    SideSpec spec;
    spec.text = text;
    const size_t hash = text.rfind('#');
    spec.path = text.substr(0, hash);
    if (spec.path.empty())
        return Error{ErrorCode::InvalidArgument, "\"" + text + "\": no file named; expected " + kForms};
    if (hash == std::string::npos)
        return spec;

    auto bad = [&](const std::string &why) {
        return Error{ErrorCode::InvalidArgument, "\"" + text + "\": " + why + "; expected " + kForms};
    };
    const std::string rest = text.substr(hash + 1);
    if (auto branch = positiveNumber(rest)) {
        spec.branch = formats::BranchId(*branch);
        return spec;
    }
    // "run:R", "branch:N", "run:R,branch:N" (either order).
    size_t at = 0;
    while (at <= rest.size()) {
        const size_t comma = std::min(rest.find(',', at), rest.size());
        const std::string part = rest.substr(at, comma - at);
        const size_t colon = part.find(':');
        const std::string key = part.substr(0, colon);
        if (key != "run" && key != "branch")
            return bad("\"" + part + "\" is neither run:R nor branch:N");
        const int64_t number =
            colon == std::string::npos
                ? 0
                : positiveNumber(std::string_view(part).substr(colon + 1)).value_or(0);
        if (number <= 0)
            return bad("\"" + part + "\" needs a positive number after the colon");
        if (key == "run") {
            if (spec.run)
                return bad("the run is named twice");
            spec.run = formats::RunId(number);
        } else {
            if (spec.branch)
                return bad("the branch is named twice");
            spec.branch = formats::BranchId(number);
        }
        at = comma + 1;
    }
    return spec;
}

std::string describeSpec(const SideSpec &spec)
{
    std::string out = spec.path;
    if (spec.run || spec.branch)
        out += "#";
    if (spec.run)
        out += "run:" + std::to_string(spec.run->value);
    if (spec.branch)
        out += std::string(spec.run ? "," : "") + "branch:" + std::to_string(spec.branch->value);
    return out;
}

formats::Result<Side> loadSide(const formats::TapeReader &reader, const SideSpec &spec)
{
    auto branches = reader.branches();
    if (!branches)
        return branches.error();
    std::optional<formats::RunId> run = spec.run;
    if (!run && spec.branch) {
        auto owner = runOfBranch(*branches, *spec.branch, reader.path());
        if (!owner)
            return owner.error();
        run = *owner;
    }
    auto lineage = replayer::BranchLineage::resolve(reader, run, spec.branch);
    if (!lineage)
        return lineage.error();

    Side side;
    side.spec = spec;
    side.spec.run = lineage->run();
    side.spec.branch = lineage->branch();
    std::error_code ec;
    side.tape = std::filesystem::weakly_canonical(reader.path(), ec).string();
    if (ec)
        side.tape = reader.path();

    auto runs = reader.runs();
    if (!runs)
        return runs.error();
    for (const formats::RunInfo &info : *runs)
        if (info.id == lineage->run())
            side.run = info;
    for (const formats::BranchInfo &info : *branches)
        if (info.id == lineage->branch())
            side.branch = info;

    auto threads = reader.threads();
    if (!threads)
        return threads.error();
    std::map<formats::ThreadId, std::string> labels;
    for (const formats::ThreadInfo &info : *threads) {
        if (!lineage->includes(info.branch))
            continue;
        side.threads.push_back(info);
        labels[info.id] = info.label;
    }

    formats::Status read = lineage->forEach(reader, [&](const formats::StepSummary &step) {
        side.steps.push_back(step);
        return true;
    });
    if (!read)
        return read.error();
    auto fingerprints = fingerprintsOf(reader, side.steps);
    if (!fingerprints)
        return fingerprints.error();
    side.fingerprints = std::move(*fingerprints);
    side.signatures.reserve(side.steps.size());
    for (size_t i = 0; i < side.steps.size(); ++i)
        side.signatures.push_back(signatureOf(side.steps[i], side.fingerprints[i], labels[side.steps[i].thread]));
    return side;
}

formats::Result<SideSpec> parentSideSpec(const formats::TapeReader &reader, const SideSpec &spec)
{
    auto branches = reader.branches();
    if (!branches)
        return branches.error();
    if (!spec.branch)
        return Error{ErrorCode::InvalidArgument,
                     "\"" + spec.text + "\" names no branch: compare FILE#N with the branch it was forked from, "
                                        "or give two sides"};
    const auto it = std::find_if(branches->begin(), branches->end(),
                                 [&](const formats::BranchInfo &b) { return b.id == *spec.branch; });
    if (it == branches->end()) {
        std::vector<int64_t> ids;
        for (const formats::BranchInfo &b : *branches)
            ids.push_back(b.id.value);
        return Error{ErrorCode::NotFound, reader.path() + " has no branch " + std::to_string(spec.branch->value) +
                                              " (its branches: " + idList(ids) + ")"};
    }
    if (!it->parent) {
        std::vector<int64_t> forks;
        for (const formats::BranchInfo &b : *branches)
            if (b.run == it->run && b.parent)
                forks.push_back(b.id.value);
        return Error{ErrorCode::NotFound, "branch " + std::to_string(it->id.value) + " of " + reader.path() +
                                              " is its run's original, forked from nothing (the run's forks: " +
                                              idList(forks) + "); give two sides to compare"};
    }
    SideSpec parent;
    parent.path = spec.path;
    parent.run = it->run;
    parent.branch = *it->parent;
    parent.text = describeSpec(parent);
    return parent;
}

} // namespace tapedeck::analysis
