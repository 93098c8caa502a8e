// A tape as Chrome trace-event JSON (the "JSON Object Format" of the Trace Event Format),
// for Perfetto and chrome://tracing: what exporters.h promises, built from step summaries
// alone (no blob is decoded but an error step's message).
#include "export/exportscope.h"

#include <tapedeck/formats/exporters.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace tapedeck::formats {

using exportdetail::ExportScope;
using exportdetail::StepClock;
using nlohmann::json;

namespace {

// A complete ("X") event before it is given its lane.
struct Slice {
    RunId run;
    ThreadId thread;
    int64_t order = 0; // the step index it starts at: ties are broken by it
    int64_t ts = 0;
    int64_t dur = 0;
    int64_t firstTokenUs = 0; // a model call's, when it splits into waiting and streaming
    size_t lane = 0;          // assigned once every slice is known
    std::string name;
    std::string cat;
    json args = json::object();
};

// An instant ("i") event, on the thread's own lane.
struct Instant {
    RunId run;
    ThreadId thread;
    int64_t ts = 0;
    std::string name;
    std::string cat;
    json args = json::object();
};

json stepArgs(const StepSummary &s, const StepClock::Placed &at)
{
    json args = {{"step", s.index.value}};
    if (s.usage != Usage{}) {
        args["input_tokens"] = s.usage.inputTokens;
        args["output_tokens"] = s.usage.outputTokens;
        args["cache_read_tokens"] = s.usage.cacheReadTokens;
        args["cache_write_tokens"] = s.usage.cacheWriteTokens;
    }
    if (s.costUsd)
        args["cost_usd"] = *s.costUsd;
    if (s.status != StepStatus::Ok)
        args["status"] = stepStatusName(s.status);
    if (at.unknown)
        args["time_unknown"] = true;
    return args;
}

// Collects the events of the selected steps, then writes them lane by lane.
class TraceEventBuilder {
public:
    TraceEventBuilder(const TapeReader &reader, const ExportScope &scope)
        : m_reader(reader), m_scope(scope)
    {
    }

    Status add(const StepSummary &s)
    {
        const ThreadInfo *thread = m_scope.thread(s.thread);
        const RunInfo *run = m_scope.run(s.run);
        const int64_t fallback =
            thread && thread->startedUs ? thread->startedUs : (run ? run->startedUs : 0);
        const StepClock::Placed at = m_clock.place(s.thread, fallback, s.startedUs, s.endedUs);
        switch (s.kind) {
        case StepKind::ModelCall:
            addModelCall(s, at);
            break;
        case StepKind::ToolCall:
            m_openCalls[s.index.value] = slice(s, at, s.name, "tool");
            break;
        case StepKind::ToolResult:
            closeToolCall(s, at);
            break;
        case StepKind::McpCall:
            m_slices.push_back(slice(s, at, s.name, "mcp"));
            break;
        case StepKind::HttpExchange:
            m_slices.push_back(slice(s, at, s.name, "http"));
            break;
        case StepKind::Error:
            return addError(s, at);
        case StepKind::Compaction:
            m_instants.push_back(instant(s, at, "compaction", "compaction"));
            break;
        case StepKind::Annotation:
            m_instants.push_back(
                instant(s, at, s.name.empty() ? "annotation" : s.name, "annotation"));
            break;
        case StepKind::ForkPoint:
            m_instants.push_back(instant(s, at, "fork point", "fork"));
            break;
        }
        return {};
    }

    // Writes the document; returns the number of events written.
    int64_t write(std::ostream &out)
    {
        for (auto &[index, call] : m_openCalls) {
            call.args["result_missing"] = true;
            m_slices.push_back(std::move(call));
        }
        m_openCalls.clear();
        assignLanes();

        out << "{\"traceEvents\":[";
        writeMetadata(out);
        for (const Slice &s : m_slices)
            writeSlice(out, s);
        for (const Instant &i : m_instants) {
            writeEvent(out, {{"name", i.name},
                             {"cat", i.cat},
                             {"ph", "i"},
                             {"s", "t"},
                             {"ts", i.ts},
                             {"pid", i.run.value},
                             {"tid", i.thread.value},
                             {"args", i.args}});
        }
        out << "\n],\"displayTimeUnit\":\"ms\"}\n";
        return m_events;
    }

private:
    static Slice slice(const StepSummary &s, const StepClock::Placed &at, std::string name,
                       std::string cat)
    {
        Slice out;
        out.run = s.run;
        out.thread = s.thread;
        out.order = s.index.value;
        out.ts = at.startUs;
        out.dur = at.endUs - at.startUs;
        out.name = std::move(name);
        out.cat = std::move(cat);
        out.args = stepArgs(s, at);
        return out;
    }

    static Instant instant(const StepSummary &s, const StepClock::Placed &at, std::string name,
                           std::string cat)
    {
        return {s.run, s.thread, at.startUs, std::move(name), std::move(cat), stepArgs(s, at)};
    }

    void addModelCall(const StepSummary &s, const StepClock::Placed &at)
    {
        Slice call = slice(s, at, s.name.empty() ? "chat" : "chat " + s.name, "model_call");
        call.args["model"] = s.name;
        call.args["messages"] = s.messageCount;
        if (!at.unknown && s.firstTokenUs > at.startUs && s.firstTokenUs <= at.endUs) {
            call.firstTokenUs = s.firstTokenUs;
            call.args["ttft_ms"] = double(s.firstTokenUs - at.startUs) / 1000.0;
        }
        m_slices.push_back(std::move(call));
    }

    // A tool call spans from the call to its result; a result without its call, alone.
    void closeToolCall(const StepSummary &s, const StepClock::Placed &at)
    {
        auto open = s.parent ? m_openCalls.find(s.parent->value) : m_openCalls.end();
        if (open == m_openCalls.end()) {
            Slice alone = slice(s, at, s.name, "tool");
            alone.args["result_step"] = s.index.value;
            m_slices.push_back(std::move(alone));
            return;
        }
        Slice call = std::move(open->second);
        m_openCalls.erase(open);
        call.dur = std::max(call.dur, at.endUs - call.ts);
        call.args["result_step"] = s.index.value;
        if (s.status != StepStatus::Ok)
            call.args["status"] = stepStatusName(s.status);
        if (at.unknown)
            call.args["time_unknown"] = true;
        m_slices.push_back(std::move(call));
    }

    Status addError(const StepSummary &s, const StepClock::Placed &at)
    {
        Instant error =
            instant(s, at, "error: " + (s.name.empty() ? std::string("error") : s.name), "error");
        auto step = m_reader.step(s.index);
        if (!step)
            return step.error();
        if (std::string message = exportdetail::errorMessageOf(step->payload); !message.empty())
            error.args["message"] = message;
        m_instants.push_back(std::move(error));
        return {};
    }

    // Slices of one thread that overlap without nesting (parallel tool calls, coarse
    // imported times) cannot share a track: each goes to the first lane free at its start.
    void assignLanes()
    {
        std::sort(m_slices.begin(), m_slices.end(), [](const Slice &a, const Slice &b) {
            return std::tuple(a.run.value, a.thread.value, a.ts, -a.dur, a.order) <
                   std::tuple(b.run.value, b.thread.value, b.ts, -b.dur, b.order);
        });
        int64_t nextLaneTid = 1;
        for (const ThreadInfo &t : m_scope.threads())
            nextLaneTid = std::max(nextLaneTid, t.id.value + 1);
        std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>>
            laneEnds; // (run, thread) -> ends
        for (Slice &s : m_slices) {
            std::vector<int64_t> &ends = laneEnds[{s.run.value, s.thread.value}];
            size_t lane = 0;
            while (lane < ends.size() && ends[lane] > s.ts)
                ++lane;
            if (lane == ends.size())
                ends.push_back(0);
            ends[lane] = s.ts + s.dur;
            m_tids[{s.run.value, s.thread.value, lane}] = 0;
            s.lane = lane;
        }
        for (auto &[key, tid] : m_tids)
            tid = std::get<2>(key) == 0 ? std::get<1>(key) : nextLaneTid++;
        for (const Instant &i : m_instants)
            m_tids.try_emplace({i.run.value, i.thread.value, 0}, i.thread.value);
    }

    std::string threadName(ThreadId id) const
    {
        const ThreadInfo *t = m_scope.thread(id);
        std::string name = t && !t->label.empty() ? t->label : "thread " + std::to_string(id.value);
        if (t) {
            const BranchInfo *b = m_scope.branch(t->branch);
            if (b && b->parent)
                name += " (branch " + std::to_string(b->id.value) + ")";
        }
        return name;
    }

    void writeMetadata(std::ostream &out)
    {
        for (const RunInfo &r : m_scope.runs()) {
            std::string name = "run " + std::to_string(r.id.value);
            if (!r.name.empty())
                name += ": " + r.name;
            if (!r.agent.empty())
                name += " (" + r.agent + ")";
            writeEvent(out, {{"name", "process_name"},
                             {"ph", "M"},
                             {"pid", r.id.value},
                             {"tid", 0},
                             {"args", {{"name", name}}}});
            writeEvent(out, {{"name", "process_sort_index"},
                             {"ph", "M"},
                             {"pid", r.id.value},
                             {"tid", 0},
                             {"args", {{"sort_index", r.id.value}}}});
        }
        for (const auto &[key, tid] : m_tids) {
            const auto &[run, thread, lane] = key;
            std::string name = threadName(ThreadId{thread});
            if (lane)
                name += " · lane " + std::to_string(lane + 1);
            writeEvent(out, {{"name", "thread_name"},
                             {"ph", "M"},
                             {"pid", run},
                             {"tid", tid},
                             {"args", {{"name", name}}}});
            writeEvent(out, {{"name", "thread_sort_index"},
                             {"ph", "M"},
                             {"pid", run},
                             {"tid", tid},
                             {"args", {{"sort_index", thread * 1000 + int64_t(lane)}}}});
        }
    }

    void writeSlice(std::ostream &out, const Slice &s)
    {
        const int64_t tid = m_tids.at({s.run.value, s.thread.value, s.lane});
        json event = {{"name", s.name}, {"cat", s.cat},       {"ph", "X"},  {"ts", s.ts},
                      {"dur", s.dur},   {"pid", s.run.value}, {"tid", tid}, {"args", s.args}};
        writeEvent(out, event);
        if (!s.firstTokenUs)
            return;
        // Nested inside the call: waiting for the first token, then streaming the rest.
        const json phaseArgs = {{"step", s.order}};
        writeEvent(out, {{"name", "waiting"},
                         {"cat", "model_call.phase"},
                         {"ph", "X"},
                         {"ts", s.ts},
                         {"dur", s.firstTokenUs - s.ts},
                         {"pid", s.run.value},
                         {"tid", tid},
                         {"args", phaseArgs}});
        writeEvent(out, {{"name", "streaming"},
                         {"cat", "model_call.phase"},
                         {"ph", "X"},
                         {"ts", s.firstTokenUs},
                         {"dur", s.ts + s.dur - s.firstTokenUs},
                         {"pid", s.run.value},
                         {"tid", tid},
                         {"args", phaseArgs}});
    }

    void writeEvent(std::ostream &out, const json &event)
    {
        out << (m_events++ ? ",\n" : "\n")
            << event.dump(-1, ' ', false, json::error_handler_t::replace);
    }

    const TapeReader &m_reader;
    const ExportScope &m_scope;
    StepClock m_clock;
    std::vector<Slice> m_slices;
    std::vector<Instant> m_instants;
    std::map<int64_t, Slice> m_openCalls; // tool call step index -> its slice so far
    std::map<std::tuple<int64_t, int64_t, size_t>, int64_t> m_tids; // (run, thread, lane) -> tid
    int64_t m_events = 0;
};

} // namespace

Result<ChromeTraceStats> exportChromeTrace(const TapeReader &reader, std::ostream &out,
                                           const ChromeTraceOptions &options)
{
    auto scope = ExportScope::resolve(reader, options.selection);
    if (!scope)
        return scope.error();
    TraceEventBuilder builder(reader, *scope);
    Status failed;
    Status walked = scope->forEachSummary(reader, [&](const StepSummary &s) {
        failed = builder.add(s);
        return failed.ok();
    });
    if (!walked)
        return walked.error();
    if (!failed)
        return failed.error();
    ChromeTraceStats stats;
    stats.events = builder.write(out);
    out.flush();
    if (!out)
        return Error{ErrorCode::Io, "could not write the trace events of " + reader.path()};
    return stats;
}

} // namespace tapedeck::formats
