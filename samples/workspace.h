// The task repository as the agent sees it through its tools.
#pragma once

#include "benchmark.h"
#include "kernelsource.h"
#include "random.h"

#include <string>
#include <vector>

namespace tapedeck::samples {

// The state of /workspace/sglang-extend-attention: the working and committed kernel, the
// commit history, whether the extension is built, the benchmark's best, whether the
// edge-case test file awaits its commit. Renders what git prints about it. Shared by all threads of a session
// (sub-agents work in the same tree).
class Workspace {
public:
    explicit Workspace(Random rng);

    KernelSource &kernel() { return m_kernel; }
    const KernelSource &kernel() const { return m_kernel; }
    const KernelSource &committed() const { return m_committed; }
    Benchmark &benchmark() { return m_benchmark; }
    const Benchmark &benchmark() const { return m_benchmark; }

    static std::string path(std::string_view relative); // absolute path in the workspace
    static constexpr std::string_view kKernelFile = "csrc/extend_attention.cu";

    void touchKernel();
    void touchHeader() { m_headerDirty = m_needsBuild = true; }
    bool needsBuild() const { return m_needsBuild; }
    void built() { m_needsBuild = false; }
    void writeTests() { m_testsUncommitted = true; }
    int64_t commitCount() const { return int64_t(m_commits.size()); }

    // `git commit` of the whole tree; returns what git prints.
    std::string commit(const std::string &message);
    // `git checkout -- csrc/`: the working tree goes back to the last commit.
    void revert();

    void appendStatus(std::string &out) const;   // git status
    void appendDiff(std::string &out) const;     // git diff
    void appendLog(std::string &out, size_t count) const; // git log --oneline -n count

private:
    struct Commit {
        std::string hash;
        std::string message;
    };
    std::string newHash(size_t digits);

    Random m_rng;
    KernelSource m_kernel;
    KernelSource m_committed;
    Benchmark m_benchmark;
    std::vector<Commit> m_commits;
    bool m_needsBuild = true;
    bool m_headerDirty = false;
    bool m_testsUncommitted = false;
    std::string m_workingBlob; // what `git diff` shows as the working file's blob id
};

// A unified-diff hunk turning `before` into `after` (whole texts, line-based LCS), starting
// at the given 1-based lines.
void appendUnifiedHunk(std::string &out, std::string_view before, std::string_view after,
                       int beforeLine, int afterLine);

} // namespace tapedeck::samples
