#include "continuedthreads.h"

#include "stepbuilder.h"

#include <map>

namespace tapedeck::recorder {

using formats::Error;
using formats::ErrorCode;

namespace {

// The tool_call steps a model call's answer asked for: written right after it, in its
// thread, pointing at it.
formats::Result<std::vector<formats::StepIndex>> toolCallsOf(const formats::TapeReader &reader,
                                                            formats::StepIndex call, formats::ThreadId thread)
{
    std::vector<formats::StepIndex> out;
    constexpr int64_t kLookAhead = 512; // steps of other threads can come in between
    formats::Result<std::vector<formats::StepSummary>> after =
        reader.stepSummaries(formats::StepIndex(call.value + 1), kLookAhead);
    if (!after)
        return after.error();
    for (const formats::StepSummary &s : *after) {
        if (s.thread != thread)
            continue;
        if (s.kind != formats::StepKind::ToolCall || s.parent != call)
            break;
        out.push_back(s.index);
    }
    return out;
}

} // namespace

formats::Result<std::vector<ContinuedThread>> readContinuedThreads(const std::string &tapePath,
                                                                   const std::vector<formats::StepIndex> &lastCalls)
{
    std::vector<ContinuedThread> out;
    if (lastCalls.empty())
        return out;
    formats::Result<std::unique_ptr<formats::TapeReader>> reader = formats::TapeReader::open(tapePath);
    if (!reader)
        return reader.error();
    formats::Result<std::vector<formats::ThreadInfo>> threads = (*reader)->threads();
    if (!threads)
        return threads.error();
    std::map<formats::ThreadId, formats::ThreadInfo> byId;
    for (const formats::ThreadInfo &t : *threads)
        byId[t.id] = t;

    const Redactor noRedaction;
    for (formats::StepIndex index : lastCalls) {
        formats::Result<formats::Step> step = (*reader)->step(index, formats::TapeReader::Detail::WireOnly);
        if (!step)
            return step.error();
        const std::string where = tapePath + ", step " + std::to_string(index.value);
        if (step->kind != formats::StepKind::ModelCall || !step->wire)
            return Error{ErrorCode::InvalidArgument, where + " is not a model call with its wire bytes"};
        CapturedExchange exchange;
        exchange.api = formats::wire::apiForPath(step->wire->url);
        if (!exchange.api)
            return Error{ErrorCode::InvalidArgument, where + ": " + step->wire->url + " is not a model API's path"};
        exchange.wire = std::move(*step->wire);
        exchange.endedUs = step->endedUs;
        formats::Result<ModelCallSteps> parts = buildModelCall(exchange, noRedaction);
        if (!parts)
            return Error{parts.error().code, where + ": " + parts.error().message};

        formats::Result<std::vector<formats::StepIndex>> toolCalls = toolCallsOf(**reader, index, step->thread);
        if (!toolCalls)
            return toolCalls.error();

        ContinuedThread thread;
        thread.lastCall = index;
        thread.info = byId[step->thread];
        thread.request = std::move(parts->request);
        if (parts->response)
            thread.answer = ConversationTracker::answerOf(*parts->response);
        thread.toolCallSteps = std::move(*toolCalls);
        thread.answerEndedUs = step->endedUs;
        out.push_back(std::move(thread));
    }
    return out;
}

} // namespace tapedeck::recorder
