// The threads of a fork's recorded prefix that its new branch continues (recorder.h,
// ForkRecording): for each, the prefix's last model call read back from the tape, its
// request and answer in the neutral form, and the tool calls that answer asked for, so that
// the branch's first requests are placed in those threads and the tool results they carry
// are linked to the prefix's tool calls.
#pragma once

#include "conversationtracker.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <vector>

namespace tapedeck::recorder {

struct ContinuedThread {
    formats::StepIndex lastCall;           // the prefix's last model call of the thread
    formats::ThreadInfo info;              // what the thread is in the prefix (label, start)
    formats::wire::Request request;
    ConversationTracker::Answer answer;
    std::vector<formats::StepIndex> toolCallSteps; // the answer's tool_call steps
    int64_t answerEndedUs = 0;
};

// Errors: the tape cannot be read, a step is not a model call with its wire bytes.
formats::Result<std::vector<ContinuedThread>> readContinuedThreads(const std::string &tapePath,
                                                                   const std::vector<formats::StepIndex> &lastCalls);

} // namespace tapedeck::recorder
