#include "livebranch.h"

namespace tapedeck::cli {

std::string LiveTarget::problem() const
{
    if (upstream.empty() == scripted.empty())
        return "say where to go on live: --upstream URL (a model API) or --scripted POLICY (the scripted model)";
    if (!script.empty() && scripted != "script")
        return "--script FILE is for --scripted script";
    return {};
}

std::string LiveTarget::describe() const
{
    return scripted.empty() ? upstream : "the scripted model (" + scripted + ")";
}

formats::Result<std::unique_ptr<LiveBranch>> LiveBranch::start(const std::string &tape, const replayer::ForkPlan &plan,
                                                                const LiveTarget &target)
{
    std::unique_ptr<LiveBranch> out(new LiveBranch());
    std::string upstream = target.upstream;
    if (!target.scripted.empty()) {
        formats::Result<std::unique_ptr<ScriptedModel>> scripted =
            ScriptedModel::start(target.scripted, target.script, target.seed);
        if (!scripted)
            return formats::Error{formats::ErrorCode::InvalidArgument,
                                  "--scripted " + target.scripted + ": " + scripted.error().message};
        out->m_scripted = std::move(*scripted);
        upstream = out->m_scripted->baseUrl();
    }
    recorder::RecorderOptions recording;
    recording.tapePath = tape;
    recording.upstreams = recorder::Upstreams::all(upstream);
    recording.fork = recorder::ForkRecording{plan.branch, plan.continuedCalls, plan.continuesForkedThread,
                                             plan.forkPoint};
    recording.fork->forkPoint["command"] = target.command;
    recording.fork->forkPoint["upstream"] = target.scripted.empty() ? upstream : "scripted: " + target.scripted;
    formats::Result<std::unique_ptr<recorder::Recorder>> started = recorder::Recorder::start(std::move(recording));
    if (!started)
        return started.error();
    out->m_recorder = std::move(*started);
    return out;
}

LiveBranch::~LiveBranch() = default;

std::string LiveBranch::url() const { return m_recorder->baseUrl(); }

recorder::Recorder &LiveBranch::recorder() { return *m_recorder; }

formats::Status LiveBranch::finish(const std::string &outcome)
{
    formats::Status finished = m_recorder->finish(outcome);
    m_scripted.reset();
    return finished;
}

} // namespace tapedeck::cli
