// Signatures and content equality, from what loading a side read: no blob is decoded.
//
// A tool call's arguments are compared by the hash of their stored JSON. The writer stores
// JSON as nlohmann dumps it, objects with their keys sorted and no insignificant space, so
// equal arguments give equal bytes whatever order the agent sent the keys in: the hash is
// the hash of the normalised arguments.
#include "stepsignatures.h"

namespace tapedeck::analysis {

using formats::StepKind;

StepSignature signatureOf(const formats::StepSummary &step, const formats::StepFingerprint &fingerprint,
                          const std::string &threadLabel)
{
    StepSignature signature;
    signature.kind = step.kind;
    signature.thread = threadLabel;
    // A fork may change the model: a model call answering in its place is the same move.
    if (step.kind != StepKind::ModelCall)
        signature.name = step.name;
    if (step.kind == StepKind::ToolCall)
        signature.arguments = fingerprint.payload;
    return signature;
}

bool fromOneTape(const Side &a, const Side &b)
{
    return !a.tape.empty() && a.tape == b.tape;
}

bool sameContent(const Side &a, size_t i, const Side &b, size_t j, bool oneTape)
{
    const formats::StepSummary &sa = a.steps[i], &sb = b.steps[j];
    const formats::StepFingerprint &fa = a.fingerprints[i], &fb = b.fingerprints[j];
    if (sa.status != sb.status || sa.name != sb.name)
        return false;
    if (fa.payload != fb.payload || fa.params != fb.params)
        return false;
    // Message lists are stored as references to the tape's own messages: their hashes
    // compare within one tape only; across tapes the count is what can be told cheaply.
    return oneTape ? fa.messages == fb.messages : sa.messageCount == sb.messageCount;
}

} // namespace tapedeck::analysis
