// The alignment of two sides: each distinct signature becomes an integer, the common prefix
// and suffix are paired directly (a fork shares its parent's prefix: often nearly all of
// it), and libdtl's O(NP) diff aligns what is left.
#include "stepsignatures.h"

#include <dtl/dtl.hpp>

#include <unordered_map>

namespace tapedeck::analysis {

namespace {

struct SignatureHash {
    size_t operator()(const StepSignature &s) const
    {
        size_t h = std::hash<std::string>()(s.thread);
        h = h * 1000003u ^ std::hash<std::string>()(s.name);
        h = h * 1000003u ^ std::hash<uint64_t>()(s.arguments);
        return h * 1000003u ^ size_t(s.kind);
    }
};

// The integer ids of the signatures of both sides: equal ids, equal signatures.
std::pair<std::vector<int>, std::vector<int>> signatureIds(const Side &a, const Side &b)
{
    std::unordered_map<StepSignature, int, SignatureHash> ids;
    ids.reserve(a.signatures.size() + b.signatures.size());
    auto idsOf = [&ids](const std::vector<StepSignature> &signatures) {
        std::vector<int> out;
        out.reserve(signatures.size());
        for (const StepSignature &s : signatures)
            out.push_back(ids.try_emplace(s, int(ids.size())).first->second);
        return out;
    };
    std::vector<int> first = idsOf(a.signatures);
    return {std::move(first), idsOf(b.signatures)};
}

} // namespace

const char *rowKindName(RowKind kind)
{
    switch (kind) {
    case RowKind::Same:
        return "same";
    case RowKind::Changed:
        return "changed";
    case RowKind::Removed:
        return "removed";
    case RowKind::Inserted:
        return "inserted";
    }
    return "same";
}

Alignment align(const Side &a, const Side &b)
{
    const auto [idsA, idsB] = signatureIds(a, b);
    const bool oneTape = fromOneTape(a, b);
    Alignment out;
    out.rows.reserve(std::max(idsA.size(), idsB.size()));
    auto add = [&](RowKind kind, std::optional<size_t> i, std::optional<size_t> j) {
        out.rows.push_back({kind, i, j});
        ++(kind == RowKind::Same      ? out.same
           : kind == RowKind::Changed ? out.changed
           : kind == RowKind::Removed ? out.removed
                                      : out.inserted);
    };
    auto pair = [&](size_t i, size_t j) {
        add(sameContent(a, i, b, j, oneTape) ? RowKind::Same : RowKind::Changed, i, j);
    };

    size_t prefix = 0;
    while (prefix < idsA.size() && prefix < idsB.size() && idsA[prefix] == idsB[prefix])
        ++prefix;
    size_t suffix = 0;
    while (suffix < idsA.size() - prefix && suffix < idsB.size() - prefix &&
           idsA[idsA.size() - 1 - suffix] == idsB[idsB.size() - 1 - suffix])
        ++suffix;

    for (size_t k = 0; k < prefix; ++k)
        pair(k, k);
    const std::vector<int> middleA(idsA.begin() + long(prefix), idsA.end() - long(suffix));
    const std::vector<int> middleB(idsB.begin() + long(prefix), idsB.end() - long(suffix));
    if (middleA.empty() || middleB.empty()) {
        for (size_t k = 0; k < middleA.size(); ++k)
            add(RowKind::Removed, prefix + k, std::nullopt);
        for (size_t k = 0; k < middleB.size(); ++k)
            add(RowKind::Inserted, std::nullopt, prefix + k);
    } else {
        dtl::Diff<int, std::vector<int>> diff(middleA, middleB, true); // removals before insertions
        diff.compose();
        // Indexes in the script are 1-based positions in middleA / middleB.
        for (const auto &[id, info] : diff.getSes().getSequence()) {
            (void)id;
            const size_t i = prefix + size_t(info.beforeIdx) - 1, j = prefix + size_t(info.afterIdx) - 1;
            if (info.type == dtl::SES_COMMON)
                pair(i, j);
            else if (info.type == dtl::SES_DELETE)
                add(RowKind::Removed, i, std::nullopt);
            else
                add(RowKind::Inserted, std::nullopt, j);
        }
    }
    for (size_t k = suffix; k > 0; --k)
        pair(idsA.size() - k, idsB.size() - k);

    // A fork's branch starts with its fork_point marker: an inserted row, but not what the
    // fork changed, unless nothing else differs.
    auto marker = [&](const AlignedRow &row) {
        const formats::StepSummary &s = row.a ? a.steps[*row.a] : b.steps[*row.b];
        return s.kind == formats::StepKind::ForkPoint;
    };
    for (size_t i = 0; i < out.rows.size(); ++i) {
        if (out.rows[i].kind == RowKind::Same)
            continue;
        if (!out.firstDivergence)
            out.firstDivergence = i;
        if (!marker(out.rows[i])) {
            out.firstDivergence = i;
            break;
        }
    }
    return out;
}

} // namespace tapedeck::analysis
