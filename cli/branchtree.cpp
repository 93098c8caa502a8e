#include "branchtree.h"

#include "format.h"

#include <map>

namespace tapedeck::cli {

using namespace tapedeck::formats;

namespace {

std::string threadsOf(const TapeSummary &summary, BranchId branch)
{
    std::string out;
    for (const ThreadInfo &t : summary.threads)
        if (t.branch == branch)
            out += (out.empty() ? "t" : ", t") + std::to_string(t.id.value);
    return out.empty() ? "no threads" : "threads " + out;
}

// `prefix` is what each line of this level starts with: the lines of the levels above it.
void printChildren(const TapeSummary &summary, const std::multimap<int64_t, const BranchInfo *> &children,
                   const BranchInfo &branch, std::ostream &out, const std::string &prefix)
{
    auto [first, last] = children.equal_range(branch.id.value);
    for (auto it = first; it != last; ++it) {
        const BranchInfo &child = *it->second;
        const bool lastChild = std::next(it) == last;
        out << prefix << (lastChild ? "└─ #" : "├─ #") << child.id.value;
        if (child.forkStep)
            out << " after step " << child.forkStep->value;
        else
            out << " from the start";
        if (child.createdUs)
            out << ", " << utcTime(child.createdUs);
        if (!child.description.empty())
            out << ": " << child.description;
        out << "  (" << threadsOf(summary, child.id) << ")\n";
        printChildren(summary, children, child, out, prefix + (lastChild ? "   " : "│  "));
    }
}

} // namespace

void printBranchTree(const TapeSummary &summary, std::ostream &out, const std::string &indent)
{
    std::multimap<int64_t, const BranchInfo *> children;
    for (const BranchInfo &b : summary.branches)
        if (b.parent)
            children.emplace(b.parent->value, &b);
    if (children.empty())
        return;
    for (const BranchInfo &b : summary.branches) {
        if (b.parent || !children.count(b.id.value))
            continue;
        out << indent << "run " << b.run.value << ": #" << b.id.value << " as recorded  (" << threadsOf(summary, b.id)
            << ")\n";
        printChildren(summary, children, b, out, indent);
    }
}

nlohmann::json branchTreeJson(const TapeSummary &summary)
{
    nlohmann::json out = nlohmann::json::array();
    for (const BranchInfo &b : summary.branches) {
        nlohmann::json threads = nlohmann::json::array();
        for (const ThreadInfo &t : summary.threads)
            if (t.branch == b.id)
                threads.push_back(t.id.value);
        out.push_back({{"id", b.id.value},
                       {"run", b.run.value},
                       {"parent", b.parent ? nlohmann::json(b.parent->value) : nlohmann::json()},
                       {"fork_step", b.forkStep ? nlohmann::json(b.forkStep->value) : nlohmann::json()},
                       {"description", b.description},
                       {"created_us", b.createdUs},
                       {"threads", threads}});
    }
    return out;
}

} // namespace tapedeck::cli
