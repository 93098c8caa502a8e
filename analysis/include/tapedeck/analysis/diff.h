// Comparing two step sequences (`tapedeck diff`, the app's diff view): two branches of a
// run, two runs of a tape, or runs in two files. The steps are aligned by their signatures
// (kind, thread, tool, normalised arguments) with a Myers/LCS alignment; aligned pairs whose
// content differs are "changed", the rest "inserted" or "removed"; the first row that is not
// the same (a fork's fork_point marker aside) is the first divergence.
//
// Loading a side reads step summaries and fingerprints only (no blob is decoded), so
// aligning two long runs costs their lengths; what differs inside a pair is read on demand.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::analysis {

// One side, as named on the command line: FILE, FILE#N (branch N), FILE#run:R,
// FILE#run:R,branch:N. Without a run, the branch's run (or the tape's last run); without a
// branch, the run's original.
struct SideSpec {
    std::string path;
    std::optional<formats::RunId> run;
    std::optional<formats::BranchId> branch;
    std::string text; // as given, for messages
};
// Errors name the text and the form expected.
formats::Result<SideSpec> parseSideSpec(const std::string &text);
// The side a forked branch was forked from: `spec`'s branch's parent, in the same run (what
// `tapedeck diff FILE#N` compares branch N against). NotFound when the branch is a run's
// original or does not exist; the message names what the tape has.
formats::Result<SideSpec> parentSideSpec(const formats::TapeReader &reader, const SideSpec &spec);
// "FILE#run:R,branch:N" with the run and branch a side resolved to.
std::string describeSpec(const SideSpec &spec);

// What makes two steps "the same move" for the alignment.
struct StepSignature {
    formats::StepKind kind = formats::StepKind::Annotation;
    std::string thread;      // the thread's label: "main", "subagent: tests", ...
    std::string name;        // tool steps: the tool; empty for model calls (a fork may change the model)
    uint64_t arguments = 0;  // tool calls: the hash of the normalised arguments; 0 otherwise
    bool operator==(const StepSignature &) const = default;
};

// The steps of one side, in order (a branch's ancestors' steps up to each fork point, then
// its own).
struct Side {
    SideSpec spec;
    // The tape's canonical path. Sides with equal, non-empty `tape` come from one tape, whose
    // message-list fingerprints compare; leave it empty for sides built in memory that
    // should be compared as from two tapes.
    std::string tape;
    formats::RunInfo run;
    formats::BranchInfo branch;
    std::vector<formats::ThreadInfo> threads;
    std::vector<formats::StepSummary> steps;
    std::vector<formats::StepFingerprint> fingerprints; // one per step
    std::vector<StepSignature> signatures;              // one per step
};
formats::Result<Side> loadSide(const formats::TapeReader &reader, const SideSpec &spec);

enum class RowKind {
    Same,     // both sides, equal signature and content
    Changed,  // both sides, equal signature, content differs (output, response, request, status)
    Removed,  // only in A
    Inserted, // only in B
};
const char *rowKindName(RowKind kind); // "same", "changed", "removed", "inserted"

struct AlignedRow {
    RowKind kind = RowKind::Same;
    std::optional<size_t> a; // index into Side::steps of A
    std::optional<size_t> b;
    bool operator==(const AlignedRow &) const = default;
};

struct Alignment {
    std::vector<AlignedRow> rows;
    // The first row that is not Same, a fork's fork_point marker passed over (unless it is
    // the only difference); empty when the sides are the same.
    std::optional<size_t> firstDivergence;
    int64_t same = 0, changed = 0, removed = 0, inserted = 0;
};
// Pure: depends on the two sides' signatures and fingerprints only. Two sides from one
// tape compare content by fingerprints exactly; from two tapes, by payload and parameter
// fingerprints and message counts (a message list's fingerprint is the tape's own).
Alignment align(const Side &a, const Side &b);

// One part of an aligned pair that differs: "tool arguments", "tool output", "response",
// "message 4 (user)", "model", "status", ...
struct FieldDifference {
    std::string field;
    std::string a;    // readable text of A's part (empty when absent there)
    std::string b;
    std::string diff; // unified diff a -> b (libdtl), cut at ~40 lines
};

// Reads both steps and names what differs; an empty list for identical content.
formats::Result<std::vector<FieldDifference>> compareSteps(const formats::TapeReader &readerA,
                                                           formats::StepIndex a,
                                                           const formats::TapeReader &readerB,
                                                           formats::StepIndex b);

// Totals of a side, and B - A.
struct SideTotals {
    int64_t steps = 0, modelCalls = 0, toolCalls = 0, errors = 0;
    formats::Usage usage;
    double costUsd = 0;
    int64_t durationUs = 0;
};
SideTotals totalsOf(const Side &side);

struct DiffOptions {
    int maxRowsShown = 200;    // text output: rows after the first divergence listed in full
    int maxPairsCompared = 50; // changed pairs whose field differences are read and shown
    // Text output: runs of same rows folded into one line; JSON: only rows that differ.
    bool onlyDifferences = true;
    int contextRows = 2;       // text output, when folding: same rows kept around each difference
};

// The whole report: sides, alignment, field differences of the first changed pairs, totals.
struct DiffReport {
    Side a, b;
    Alignment alignment;
    SideTotals totalsA, totalsB;
    // For rows[i] of kind Changed among the first maxPairsCompared of them.
    std::vector<std::pair<size_t, std::vector<FieldDifference>>> pairDifferences;
};
formats::Result<DiffReport> diffSides(const formats::TapeReader &readerA, const SideSpec &a,
                                      const formats::TapeReader &readerB, const SideSpec &b,
                                      const DiffOptions &options = {});
// The same for sides already loaded from these readers (a caller that loads them itself, to
// say which side an error belongs to).
formats::Result<DiffReport> diffSides(const formats::TapeReader &readerA, Side a,
                                      const formats::TapeReader &readerB, Side b,
                                      const DiffOptions &options = {});

void printDiff(const DiffReport &report, std::ostream &out, const DiffOptions &options = {});
// The shape is documented in the README ("Comparing runs"); rows of kind "same" are listed
// only when !options.onlyDifferences.
nlohmann::json diffToJson(const DiffReport &report, const DiffOptions &options = {});

} // namespace tapedeck::analysis
