// Small tapes for the diff suites, written with the real TapeWriter: a run of an agent
// that lists, builds, fixes and finishes, a fork of it where the build succeeded, and a
// variant whose edit touched another file.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tapedeck::testutil {

// 2026-01-01 00:00:00 UTC.
inline constexpr int64_t kDiffT0 = 1767225600000000;

// Builds a thread's steps as an agent takes them: each model call's request is the
// conversation so far, each answer and tool output is added to it.
class Conversation {
public:
    Conversation(formats::ThreadId thread, int64_t startUs) : m_thread(thread), m_clock(startUs)
    {
        m_messages.push_back({{"role", "user"}, {"content", "make the kernel faster"}});
    }

    formats::Step model(const std::string &answer, const std::string &modelName = "m-large",
                        double temperature = 0.2)
    {
        formats::Step s = next(formats::StepKind::ModelCall, modelName, 2000000);
        s.requestMessages = m_messages;
        s.requestParams = {{"temperature", temperature}};
        s.payload = {{"text", answer}};
        s.usage.inputTokens = 100 * int64_t(m_messages.size());
        s.usage.outputTokens = int64_t(answer.size());
        s.costUsd = 0.001 * double(m_messages.size());
        m_messages.push_back({{"role", "assistant"}, {"content", answer}});
        return s;
    }
    formats::Step call(const std::string &tool, const nlohmann::json &arguments)
    {
        formats::Step s = next(formats::StepKind::ToolCall, tool, 0);
        s.callId = "call-" + std::to_string(m_calls++);
        s.payload = arguments;
        return s;
    }
    formats::Step result(const std::string &tool, const std::string &output, bool failed = false,
                         int64_t tookUs = 500000)
    {
        formats::Step s = next(formats::StepKind::ToolResult, tool, tookUs);
        s.callId = "call-" + std::to_string(m_calls - 1);
        s.status = failed ? formats::StepStatus::Error : formats::StepStatus::Ok;
        s.payload = {{"output", output}, {"is_error", failed}};
        m_messages.push_back({{"role", "tool"}, {"content", output}});
        return s;
    }
    // The same conversation continued on another thread (a fork's continuation).
    Conversation continuedOn(formats::ThreadId thread) const
    {
        Conversation c = *this;
        c.m_thread = thread;
        return c;
    }

private:
    formats::Step next(formats::StepKind kind, const std::string &name, int64_t tookUs)
    {
        formats::Step s;
        s.thread = m_thread;
        s.kind = kind;
        s.name = name;
        s.startedUs = m_clock;
        s.endedUs = m_clock + tookUs;
        m_clock = s.endedUs + 1000;
        return s;
    }

    formats::ThreadId m_thread;
    int64_t m_clock;
    int m_calls = 0;
    std::vector<nlohmann::json> m_messages;
};

inline std::string check(const formats::Status &status)
{
    return status ? std::string() : status.error().message;
}

// Appends every step; "" on success.
inline std::string appendAll(formats::TapeWriter &writer, const std::vector<formats::Step> &steps)
{
    for (const formats::Step &s : steps)
        if (auto r = writer.append(s); !r)
            return r.error().message;
    return {};
}

struct AgentRun {
    formats::RunId run;
    formats::BranchId branch;
    formats::ThreadId thread;
    Conversation atFork{formats::ThreadId(0), 0}; // the conversation after step 5 (make called)
};

// Ten steps: 1 model, 2 ls, 3 its output, 4 model, 5 make, 6 its failure, 7 model, 8 edit of
// `editedFile`, 9 its output, 10 model "done".
inline formats::Result<AgentRun> writeAgentRun(formats::TapeWriter &writer, const std::string &name,
                                               const std::string &editedFile = "a.cu")
{
    formats::RunInfo info;
    info.name = name;
    info.agent = "test-agent";
    info.startedUs = kDiffT0;
    auto run = writer.beginRun(info);
    if (!run)
        return run.error();
    auto branch = writer.mainBranch(*run);
    if (!branch)
        return branch.error();
    auto thread = writer.addThread({formats::ThreadId(), *branch, std::nullopt, "main", kDiffT0});
    if (!thread)
        return thread.error();
    AgentRun out{*run, *branch, *thread};
    Conversation c(*thread, kDiffT0);
    std::vector<formats::Step> steps;
    steps.push_back(c.model("list the files"));
    steps.push_back(c.call("bash", {{"cmd", "ls"}}));
    steps.push_back(c.result("bash", "a.cu b.cu"));
    steps.push_back(c.model("build it"));
    steps.push_back(c.call("bash", {{"cmd", "make"}}));
    out.atFork = c;
    steps.push_back(c.result("bash", "error: x undeclared", true));
    steps.push_back(c.model("fix the error"));
    steps.push_back(c.call("edit", {{"file", editedFile}, {"line", 3}}));
    steps.push_back(c.result("edit", "ok"));
    steps.push_back(c.model("done"));
    if (std::string e = appendAll(writer, steps); !e.empty())
        return formats::Error{formats::ErrorCode::Io, e};
    if (auto s = writer.endRun(*run, kDiffT0 + 60000000, "exit 0"); !s)
        return s.error();
    return out;
}

struct ForkTape {
    AgentRun original;      // steps 1..10
    formats::BranchId fork; // forked after step 5: steps 11..16
    formats::StepIndex forkStep{5};
};

// The agent run, and a fork after step 5 where the build succeeded: 11 the fork's marker (as
// `tapedeck fork` writes one), 12 the make output, 13 model (request differs in message 5),
// 14 bench call, 15 its output, 16 model "done".
inline formats::Result<ForkTape> writeForkTape(const std::string &path)
{
    auto writer = formats::TapeWriter::create(path, formats::WriterOptions{.overwrite = true});
    if (!writer)
        return writer.error();
    auto original = writeAgentRun(**writer, "tune");
    if (!original)
        return original.error();
    ForkTape out{*original, formats::BranchId()};
    formats::BranchInfo info;
    info.run = original->run;
    info.parent = original->branch;
    info.forkStep = out.forkStep;
    info.description = "tool result of step 6 edited";
    info.createdUs = kDiffT0 + 3600000000LL;
    auto fork = (*writer)->addBranch(info);
    if (!fork)
        return fork.error();
    out.fork = *fork;
    auto thread = (*writer)->addThread({formats::ThreadId(), *fork, std::nullopt, "main", info.createdUs});
    if (!thread)
        return thread.error();
    Conversation c = original->atFork.continuedOn(*thread);
    std::vector<formats::Step> steps;
    formats::Step marker;
    marker.thread = *thread;
    marker.kind = formats::StepKind::ForkPoint;
    marker.name = "fork";
    marker.payload = {{"at", 6}};
    marker.startedUs = marker.endedUs = info.createdUs;
    steps.push_back(marker);
    steps.push_back(c.result("bash", "built ok"));
    steps.push_back(c.model("run the benchmark"));
    steps.push_back(c.call("bench", {{"n", 3}}));
    steps.push_back(c.result("bench", "1.5x", false, 9000000));
    steps.push_back(c.model("done"));
    if (std::string e = appendAll(**writer, steps); !e.empty())
        return formats::Error{formats::ErrorCode::Io, e};
    return out;
}

} // namespace tapedeck::testutil
