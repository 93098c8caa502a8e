// planFork (fork.h): reads the branch's step summaries up to the fork's step once, and
// decodes at most the step itself and the recorded call the first live request stands for.
#include <tapedeck/replayer/branchlineage.h>

#include <tapedeck/replayer/fork.h>

#include <algorithm>
#include <limits>
#include <map>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using formats::Error;
using formats::ErrorCode;
using formats::StepKind;
using nlohmann::json;

namespace {

std::string stepName(formats::StepIndex index) { return "step " + std::to_string(index.value); }

// The tool results a recorded model call's request carries, by call id.
formats::Result<std::vector<std::string>> toolResultIds(const formats::TapeReader &reader, formats::StepIndex call)
{
    formats::Result<formats::Step> step = reader.step(call, formats::TapeReader::Detail::WireOnly);
    if (!step)
        return step.error();
    std::vector<std::string> ids;
    if (!step->wire)
        return ids;
    const std::optional<fw::Api> api = fw::apiForPath(step->wire->url);
    const json body = json::parse(step->wire->requestBody, nullptr, false);
    if (!api || !body.is_object())
        return ids;
    formats::Result<fw::Request> request = fw::parseRequest(*api, body);
    if (!request)
        return ids;
    for (const fw::Message &m : request->messages)
        if (m.role == fw::Role::Tool)
            ids.push_back(m.toolCallId);
    return ids;
}

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const std::string &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

json editJson(const RequestEdit &edit)
{
    switch (edit.kind) {
    case RequestEdit::Kind::ToolResult:
        return {{"kind", "tool_result"}, {"call_id", edit.callId}, {"output", edit.text}};
    case RequestEdit::Kind::AppendUser:
        return {{"kind", "append_user"}, {"text", edit.text}};
    case RequestEdit::Kind::Model:
        return {{"kind", "model"}, {"model", edit.model}};
    }
    return json::object();
}

std::optional<RequestEdit> editFromJson(const json &j)
{
    const std::string kind = j.value("kind", "");
    if (kind == "tool_result")
        return RequestEdit{RequestEdit::Kind::ToolResult, j.value("call_id", ""), j.value("output", ""), ""};
    if (kind == "append_user")
        return RequestEdit{RequestEdit::Kind::AppendUser, "", j.value("text", ""), ""};
    if (kind == "model")
        return RequestEdit{RequestEdit::Kind::Model, "", "", j.value("model", "")};
    return std::nullopt; // a replaced answer is recorded as the answer: nothing to redo
}

// The edits in a forked branch's fork_point, which opens it: its first step after the fork
// step.
formats::Result<BranchEdits> forkPointEdits(const formats::TapeReader &reader, const formats::BranchInfo &branch)
{
    BranchEdits out;
    out.after = branch.forkStep.value_or(formats::StepIndex(0));
    constexpr int64_t kPage = 4096;
    const int64_t start = branch.forkStep ? branch.forkStep->value + 1 : 1;
    for (int64_t first = start; first <= reader.stepCount(); first += kPage) {
        formats::Result<std::vector<formats::StepSummary>> page = reader.stepSummaries(formats::StepIndex(first), kPage);
        if (!page)
            return page.error();
        for (const formats::StepSummary &s : *page) {
            if (s.branch != branch.id)
                continue;
            if (s.kind != StepKind::ForkPoint)
                return out;
            formats::Result<formats::Step> forkPoint = reader.step(s.index);
            if (!forkPoint)
                return forkPoint.error();
            for (const json &edit : forkPoint->payload.value("edits", json::array()))
                if (std::optional<RequestEdit> made = editFromJson(edit))
                    out.edits.push_back(std::move(*made));
            if (const json &call = forkPoint->payload.value("forked_call", json()); call.is_number_integer())
                out.forkedCall = formats::StepIndex(call.get<int64_t>());
            return out;
        }
    }
    return out;
}

} // namespace

formats::Result<std::vector<BranchEdits>> editsOfLineage(const formats::TapeReader &reader, formats::BranchId branch)
{
    formats::Result<std::vector<formats::BranchInfo>> branches = reader.branches();
    if (!branches)
        return branches.error();
    std::vector<BranchEdits> out;
    // An ancestor's edits count only when its fork is within what the branch shares of it:
    // at or before the step the branch (or the one between) was forked after.
    int64_t shared = std::numeric_limits<int64_t>::max();
    formats::BranchId at = branch;
    for (size_t level = 0; level <= branches->size(); ++level) { // bounded: parents may loop
        auto info = std::find_if(branches->begin(), branches->end(),
                                 [&](const formats::BranchInfo &b) { return b.id == at; });
        if (info == branches->end() || !info->parent)
            break;
        formats::Result<BranchEdits> edits = forkPointEdits(reader, *info);
        if (!edits)
            return edits.error();
        if (!edits->edits.empty() && edits->after.value <= shared)
            out.push_back(std::move(*edits));
        shared = std::min(shared, info->forkStep ? info->forkStep->value : -1);
        at = *info->parent;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

formats::Result<ForkPlan> planFork(const formats::TapeReader &reader, const ForkRequest &request)
{
    std::optional<formats::StepSummary> at;
    if (request.at) {
        const int64_t steps = reader.stepCount();
        if (request.at->value < 1 || request.at->value > steps)
            return Error{ErrorCode::NotFound, reader.path() + " has no " + stepName(*request.at) +
                                                  " (its steps are 1 to " + std::to_string(steps) + ")"};
        formats::Result<formats::StepSummary> summary = reader.stepSummary(*request.at);
        if (!summary)
            return summary.error();
        at = *summary;
    }
    formats::Result<BranchLineage> lineage = BranchLineage::resolve(
        reader, at ? std::optional(at->run) : request.run,
        request.branch ? request.branch : at ? std::optional(at->branch) : std::nullopt);
    if (!lineage)
        return lineage.error();
    if (at && !lineage->holds(*at))
        return Error{ErrorCode::InvalidArgument, stepName(at->index) + " of " + reader.path() +
                                                     " is not on branch " + std::to_string(lineage->branch().value) +
                                                     " of run " + std::to_string(at->run.value)};

    ForkPlan plan;
    plan.run = lineage->run();
    plan.source = lineage->branch();
    plan.at = request.at;
    if (at)
        plan.atKind = at->kind;
    plan.edits = request.edits;
    plan.answer = request.answer;

    // The prefix: the last step before the fork (the new branch's fork point), each thread's
    // last model call, and the first model call of the forked thread from the step on.
    const formats::StepIndex cut = at ? at->index : formats::StepIndex(std::numeric_limits<int64_t>::max());
    std::optional<formats::StepSummary> lastShared;
    std::optional<formats::ThreadId> lastCallThread;
    std::map<formats::ThreadId, formats::StepIndex> lastCallOf;
    formats::Status read = lineage->forEach(reader, [&](const formats::StepSummary &s) {
        const bool replayable = s.kind == StepKind::ModelCall && s.requestBytes > 0;
        if (s.index < cut) {
            lastShared = s;
            if (replayable) {
                lastCallOf[s.thread] = s.index;
                lastCallThread = s.thread;
                ++plan.prefixModelCalls;
            }
            return true;
        }
        if (replayable && s.thread == at->thread) {
            plan.recordedCall = s.index;
            return false;
        }
        return true;
    });
    if (!read)
        return read.error();

    // The thread forked: the step's, or, after the end, the one that called the model last.
    const std::optional<formats::ThreadId> forkedThread = at ? std::optional(at->thread) : lastCallThread;
    if (auto forked = forkedThread ? lastCallOf.find(*forkedThread) : lastCallOf.end(); forked != lastCallOf.end()) {
        plan.continuedCalls.push_back(forked->second);
        plan.continuesForkedThread = true;
    }
    std::vector<formats::StepIndex> others;
    for (const auto &[thread, call] : lastCallOf)
        if (thread != forkedThread)
            others.push_back(call);
    std::sort(others.rbegin(), others.rend()); // the most recently active first
    plan.continuedCalls.insert(plan.continuedCalls.end(), others.begin(), others.end());

    if (request.answer && (!at || at->kind != StepKind::ModelCall))
        return Error{ErrorCode::InvalidArgument,
                     reader.path() + ": --edit-response replaces the answer of a model call, and " +
                         (at ? stepName(at->index) + " is a " + formats::stepKindName(at->kind) + " step"
                             : std::string("the fork is after the branch's last step"))};
    for (RequestEdit &edit : plan.edits) {
        if (edit.kind != RequestEdit::Kind::ToolResult)
            continue;
        if (edit.callId.empty()) {
            if (!at || (at->kind != StepKind::ToolCall && at->kind != StepKind::ToolResult))
                return Error{ErrorCode::InvalidArgument,
                             reader.path() + ": --edit-tool-result needs CALL=... to say which tool call's "
                                             "result to change, as " +
                                 (at ? stepName(at->index) + " is a " + formats::stepKindName(at->kind) + " step"
                                     : std::string("the fork is after the branch's last step")) +
                                 ", not a tool call or result"};
            formats::Result<formats::Step> tool = reader.step(at->index);
            if (!tool)
                return tool.error();
            edit.callId = tool->callId;
        }
        if (!plan.recordedCall)
            continue; // past the end of the thread: nothing recorded to check against
        formats::Result<std::vector<std::string>> carried = toolResultIds(reader, *plan.recordedCall);
        if (!carried)
            return carried.error();
        if (std::find(carried->begin(), carried->end(), edit.callId) == carried->end())
            return Error{ErrorCode::InvalidArgument,
                         reader.path() + ": the first request the fork sends live stands for " +
                             stepName(*plan.recordedCall) +
                             ", whose request carries no result of tool call " + edit.callId +
                             (carried->empty() ? " (it carries no tool result)"
                                               : " (it carries the results of " + joined(*carried) + ")")};
    }

    plan.branch.run = plan.run;
    plan.branch.parent = lastShared ? lastShared->branch : plan.source;
    if (lastShared)
        plan.branch.forkStep = lastShared->index;
    std::vector<std::string> described;
    json edits = json::array();
    for (const RequestEdit &edit : plan.edits) {
        described.push_back(describe(edit));
        edits.push_back(editJson(edit));
    }
    if (plan.answer) {
        described.push_back("the answer at " + stepName(*plan.at) + " replaced");
        json toolCalls = json::array();
        for (const fw::ToolCall &call : plan.answer->toolCalls)
            toolCalls.push_back({{"name", call.name}, {"arguments", call.arguments}});
        edits.push_back({{"kind", "response"}, {"text", plan.answer->text}, {"tool_calls", toolCalls}});
    }
    plan.branch.description =
        (plan.at ? "fork at " + stepName(*plan.at)
                 : "live after " + (lastShared ? stepName(lastShared->index) : std::string("the start"))) +
        (described.empty() ? "" : ": " + joined(described));
    plan.forkPoint = {{"at", plan.at ? json(plan.at->value) : json()},
                      {"source_branch", plan.source.value},
                      {"parent_branch", plan.branch.parent->value},
                      {"fork_step", lastShared ? json(lastShared->index.value) : json()},
                      {"edits", edits},
                      {"forked_call", plan.continuesForkedThread ? json(plan.continuedCalls.front().value) : json()},
                      {"prefix_model_calls", plan.prefixModelCalls}};
    return plan;
}

} // namespace tapedeck::replayer
