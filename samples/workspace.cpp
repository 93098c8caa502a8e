#include "workspace.h"

#include "corpus/corpus.h"

#include <algorithm>

namespace tapedeck::samples {

namespace {

std::vector<std::string_view> splitLines(std::string_view text)
{
    std::vector<std::string_view> lines;
    size_t from = 0;
    while (from < text.size()) {
        size_t end = text.find('\n', from);
        if (end == std::string_view::npos)
            end = text.size();
        lines.push_back(text.substr(from, end - from));
        from = end + 1;
    }
    return lines;
}

} // namespace

Workspace::Workspace(Random rng)
    : m_rng(rng)
    , m_benchmark(m_rng.split())
{
    m_commits.push_back({newHash(7), "Import extend attention port and evaluation harness"});
}

std::string Workspace::path(std::string_view relative)
{
    std::string p(corpus::workspaceRoot());
    p.push_back('/');
    p.append(relative);
    return p;
}

std::string Workspace::newHash(size_t digits)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hash;
    for (size_t i = 0; i < digits; ++i)
        hash.push_back(kHex[m_rng.between(0, 15)]);
    return hash;
}

void Workspace::touchKernel()
{
    m_needsBuild = true;
    m_workingBlob = newHash(7);
}

std::string Workspace::commit(const std::string &message)
{
    int insertions = 0, deletions = 0;
    for (int part : m_kernel.partsDifferentFrom(m_committed)) {
        std::string before, after;
        m_committed.renderPart(before, part);
        m_kernel.renderPart(after, part);
        deletions += int(std::count(before.begin(), before.end(), '\n'));
        insertions += int(std::count(after.begin(), after.end(), '\n'));
    }
    const int files = 1 + (m_headerDirty ? 1 : 0) + (m_testsUncommitted ? 1 : 0);
    m_commits.push_back({newHash(7), message});
    m_committed = m_kernel;
    m_headerDirty = m_testsUncommitted = false;
    std::string out = "[agent/extend-attn " + m_commits.back().hash + "] " + message + "\n " +
                      std::to_string(files) + (files == 1 ? " file" : " files") + " changed, " +
                      std::to_string(insertions) + " insertions(+), " + std::to_string(deletions) +
                      " deletions(-)\n";
    return out;
}

void Workspace::revert()
{
    m_kernel = m_committed;
    m_headerDirty = false;
    m_needsBuild = true;
}

void Workspace::appendStatus(std::string &out) const
{
    out.append("On branch agent/extend-attn\n");
    const bool kernelDirty = !(m_kernel == m_committed);
    if (!kernelDirty && !m_headerDirty && !m_testsUncommitted) {
        out.append("nothing to commit, working tree clean\n");
        return;
    }
    if (kernelDirty || m_headerDirty) {
        out.append("Changes not staged for commit:\n"
                   "  (use \"git add <file>...\" to update what will be committed)\n"
                   "  (use \"git restore <file>...\" to discard changes in working directory)\n");
        if (kernelDirty)
            out.append("\tmodified:   csrc/extend_attention.cu\n");
        if (m_headerDirty)
            out.append("\tmodified:   csrc/extend_attention.h\n");
    }
    if (m_testsUncommitted)
        out.append("\nUntracked files:\n  (use \"git add <file>...\" to include in what will be committed)\n"
                   "\ttests/test_extend_edge_cases.py\n");
    out.append("\nno changes added to commit (use \"git add\" and/or \"git commit -a\")\n");
}

void Workspace::appendDiff(std::string &out) const
{
    const std::vector<int> parts = m_kernel.partsDifferentFrom(m_committed);
    if (parts.empty())
        return;
    out.append("diff --git a/csrc/extend_attention.cu b/csrc/extend_attention.cu\n");
    out.append("index " + m_commits.back().hash + ".." + m_workingBlob);
    out.append(" 100644\n--- a/csrc/extend_attention.cu\n+++ b/csrc/extend_attention.cu\n");
    for (int part : parts) {
        std::string before, after;
        m_committed.renderPart(before, part);
        m_kernel.renderPart(after, part);
        appendUnifiedHunk(out, before, after, m_committed.firstLineOf(part), m_kernel.firstLineOf(part));
    }
}

void Workspace::appendLog(std::string &out, size_t count) const
{
    for (size_t i = 0; i < count && i < m_commits.size(); ++i) {
        const Commit &c = m_commits[m_commits.size() - 1 - i];
        out.append(c.hash);
        out.push_back(' ');
        out.append(c.message);
        out.push_back('\n');
    }
}

void appendUnifiedHunk(std::string &out, std::string_view before, std::string_view after,
                       int beforeLine, int afterLine)
{
    const std::vector<std::string_view> a = splitLines(before);
    const std::vector<std::string_view> b = splitLines(after);
    // LCS table, from the end; the parts are a few dozen lines, so O(n m) is nothing.
    std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
    for (size_t i = a.size(); i-- > 0;)
        for (size_t j = b.size(); j-- > 0;)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    out.append("@@ -" + std::to_string(beforeLine) + "," + std::to_string(a.size()) + " +" +
               std::to_string(afterLine) + "," + std::to_string(b.size()) + " @@\n");
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            out.push_back(' ');
            out.append(a[i++]);
            ++j;
        } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
            out.push_back('+');
            out.append(b[j++]);
        } else {
            out.push_back('-');
            out.append(a[i++]);
        }
        out.push_back('\n');
    }
}

} // namespace tapedeck::samples
