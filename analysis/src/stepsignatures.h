// How the diff decides that two steps are the same move (their signature) and whether they
// did it the same way (their content), from summaries and fingerprints alone.
#pragma once

#include <tapedeck/analysis/diff.h>

namespace tapedeck::analysis {

// `threadLabel` is the label of the step's thread ("" when the tape does not know it).
StepSignature signatureOf(const formats::StepSummary &step, const formats::StepFingerprint &fingerprint,
                          const std::string &threadLabel);

// Whether step `i` of `a` and step `j` of `b` (of equal signature) hold the same content.
// `oneTape`: both sides were read from one tape, whose message-list fingerprints compare.
bool sameContent(const Side &a, size_t i, const Side &b, size_t j, bool oneTape);

// Both sides read from one tape (their Side::tape is set and equal).
bool fromOneTape(const Side &a, const Side &b);

} // namespace tapedeck::analysis
