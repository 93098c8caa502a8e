// `tapedeck fork`: replays a recorded run up to a chosen step, changes one thing there, and
// goes on live, recording the continuation as a new branch of the run in the same tape.
//
// Three servers on loopback, in this process: the replay server the agent talks to (it
// answers the prefix from the tape, then sends each request on, edited), the recorder of
// the new branch behind it, and, with --scripted, the scripted model behind that.
#include "commands.h"
#include "exitcodes.h"
#include "replayedagent.h"
#include "scriptedmodel.h"

#include <tapedeck/recorder/recorder.h>
#include <tapedeck/replayer/fork.h>
#include <tapedeck/replayer/replayer.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace tapedeck::cli {

namespace {

namespace fw = formats::wire;
using nlohmann::json;

struct Options {
    std::string tape;
    int64_t at = 0;
    int64_t branch = 0;
    std::vector<std::string> toolResults; // CALL=VALUE or VALUE
    std::string response;
    std::string appendUser;
    std::string model;
    std::string upstream;
    std::string scripted;
    std::string script;
    uint64_t seed = 0;
    std::string toolDrift = "fail";
    std::string matchRules;
    bool quiet = false;
    std::vector<std::string> command;
};

// "@FILE" is the file's content; anything else is the text itself (as curl's -d reads it).
formats::Result<std::string> valueOf(const std::string &option, const std::string &value)
{
    if (value.empty() || value[0] != '@')
        return value;
    const std::string path = value.substr(1);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return formats::Error{formats::ErrorCode::NotFound, option + " " + value + ": cannot read " + path};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// --edit-response: plain text is the answer's text; a JSON object with "text" and/or
// "tool_calls" ([{"name": ..., "arguments": {...}}]) is an answer that may call tools.
formats::Result<fw::Response> answerOf(const std::string &content)
{
    fw::Response response;
    const json parsed = json::parse(content, nullptr, false);
    if (!parsed.is_object() || (!parsed.contains("text") && !parsed.contains("tool_calls"))) {
        response.text = content;
        return response;
    }
    response.text = parsed.value("text", "");
    const json calls = parsed.value("tool_calls", json::array());
    if (!calls.is_array())
        return formats::Error{formats::ErrorCode::InvalidArgument,
                              "--edit-response: \"tool_calls\" must be an array of {\"name\", \"arguments\"}"};
    for (size_t i = 0; i < calls.size(); ++i) {
        if (!calls[i].is_object() || !calls[i].contains("name") || !calls[i]["name"].is_string())
            return formats::Error{formats::ErrorCode::InvalidArgument,
                                  "--edit-response: tool_calls[" + std::to_string(i) + "] has no \"name\""};
        fw::ToolCall call;
        call.id = "call_fork_" + std::to_string(i + 1);
        call.name = calls[i]["name"];
        call.arguments = calls[i].value("arguments", json::object());
        response.toolCalls.push_back(std::move(call));
    }
    response.stopReason = response.toolCalls.empty() ? fw::StopReason::EndTurn : fw::StopReason::ToolUse;
    return response;
}

formats::Result<replayer::ForkRequest> forkRequestOf(const Options &o)
{
    replayer::ForkRequest request;
    request.at = formats::StepIndex(o.at);
    if (o.branch > 0)
        request.branch = formats::BranchId(o.branch);
    for (const std::string &spec : o.toolResults) {
        replayer::RequestEdit edit;
        edit.kind = replayer::RequestEdit::Kind::ToolResult;
        std::string value = spec;
        const size_t equals = spec.find('=');
        if (equals != std::string::npos && spec[0] != '@') {
            edit.callId = spec.substr(0, equals);
            value = spec.substr(equals + 1);
        }
        formats::Result<std::string> text = valueOf("--edit-tool-result", value);
        if (!text)
            return text.error();
        edit.text = std::move(*text);
        request.edits.push_back(std::move(edit));
    }
    if (!o.appendUser.empty()) {
        formats::Result<std::string> text = valueOf("--append-user", o.appendUser);
        if (!text)
            return text.error();
        request.edits.push_back({replayer::RequestEdit::Kind::AppendUser, "", std::move(*text), ""});
    }
    if (!o.model.empty())
        request.edits.push_back({replayer::RequestEdit::Kind::Model, "", "", o.model});
    if (!o.response.empty()) {
        formats::Result<std::string> content = valueOf("--edit-response", o.response);
        if (!content)
            return content.error();
        formats::Result<fw::Response> answer = answerOf(*content);
        if (!answer)
            return answer.error();
        request.answer = std::move(*answer);
    }
    return request;
}

int usage(const std::string &message)
{
    std::cerr << "tapedeck: " << message << "\n";
    return kExitUsage;
}

int runFork(const Options &o)
{
    if (o.command.empty())
        return usage("give the agent's command after --");
    if (o.upstream.empty() == o.scripted.empty())
        return usage("say where the fork goes on after its step: --upstream URL (a model API) or "
                     "--scripted POLICY (the scripted model)");
    formats::Result<replayer::ForkRequest> request = forkRequestOf(o);
    if (!request)
        return request.error().code == formats::ErrorCode::NotFound ? reportError(request.error())
                                                                     : usage(request.error().message);

    formats::Result<replayer::ForkPlan> plan = [&]() -> formats::Result<replayer::ForkPlan> {
        formats::Result<std::unique_ptr<formats::TapeReader>> reader = formats::TapeReader::open(o.tape);
        if (!reader)
            return reader.error();
        return replayer::planFork(**reader, *request);
    }();
    if (!plan)
        return reportError(plan.error());

    std::unique_ptr<ScriptedModel> scripted;
    std::string upstream = o.upstream;
    if (!o.scripted.empty()) {
        formats::Result<std::unique_ptr<ScriptedModel>> started = ScriptedModel::start(o.scripted, o.script, o.seed);
        if (!started)
            return usage("--scripted " + o.scripted + ": " + started.error().message);
        scripted = std::move(*started);
        upstream = scripted->baseUrl();
    }

    recorder::RecorderOptions recording;
    recording.tapePath = o.tape;
    recording.upstreams = recorder::Upstreams::all(upstream);
    recording.fork = recorder::ForkRecording{plan->branch, plan->continuedCalls, plan->forkPoint};
    recording.fork->forkPoint["command"] = o.command;
    recording.fork->forkPoint["upstream"] = o.scripted.empty() ? upstream : "scripted: " + o.scripted;
    formats::Result<std::unique_ptr<recorder::Recorder>> recorder = recorder::Recorder::start(std::move(recording));
    if (!recorder)
        return reportError(recorder.error());

    replayer::ReplayOptions replay;
    replay.tapePath = o.tape;
    replay.run = plan->run;
    replay.branch = plan->source;
    replay.forkAt = plan->at;
    replay.liveUrl = (*recorder)->baseUrl();
    replay.edits = plan->edits;
    replay.editsAfter = formats::StepIndex(plan->at.value - 1);
    replay.answer = plan->answer;
    recorder::Recorder *live = recorder->get();
    replay.recordAnswered = [live](formats::WireExchange wire, int64_t startedUs, int64_t endedUs) {
        live->recordAnswered(std::move(wire), startedUs, endedUs, endedUs);
    };
    replay.allowToolDrift = o.toolDrift == "allow";
    replay.matchRulesFile = o.matchRules;
    formats::Result<std::unique_ptr<replayer::ReplayServer>> server = replayer::ReplayServer::start(replay);
    if (!server) {
        (void)(*recorder)->finish("not started: " + server.error().message);
        return reportError(server.error());
    }

    const int64_t branch = (*recorder)->branch().value;
    if (!o.quiet)
        std::cerr << "tapedeck fork: run " << plan->run.value << ", branch " << plan->source.value << " at step "
                  << plan->at.value << " (" << formats::stepKindName(plan->atKind) << "): " << plan->prefixModelCalls
                  << " recorded model call" << (plan->prefixModelCalls == 1 ? "" : "s")
                  << " replayed, then live to " << (o.scripted.empty() ? upstream : "the scripted model (" + o.scripted + ")")
                  << "\n  recording branch " << branch << " into " << o.tape << ": " << plan->branch.description
                  << "\n";
    (*server)->onDivergence([](const replayer::Divergence &d) { std::cerr << "tapedeck: " << d.report << std::flush; });

    const ChildResult agent = runAgentAgainstReplay(**server, o.command, {});
    (*server)->stop();
    const std::string outcome = agent.started ? "exit " + std::to_string(agent.exitCode) : "not started: " + agent.error;
    const replayer::ReplayStats stats = (*server)->stats();
    const formats::Status finished = (*recorder)->finish(stats.stopped ? "stopped at a divergence before the fork"
                                                                       : outcome);
    const recorder::RecorderStats recorded = (*recorder)->stats();
    if (!agent.started)
        return usage(agent.error);
    if (!o.quiet) {
        const int64_t fromTape = stats.served + stats.driftServed;
        std::cerr << "tapedeck fork: " << fromTape << " request" << (fromTape == 1 ? "" : "s")
                  << " answered from the tape";
        if (stats.driftServed)
            std::cerr << " (" << stats.driftServed << " with environment drift)";
        std::cerr << ", " << stats.live << " live";
        for (const std::string &line : stats.edited)
            std::cerr << "; " << line;
        std::cerr << "\n  branch " << branch << ": " << recorded.modelCalls << " model call"
                  << (recorded.modelCalls == 1 ? "" : "s") << ", " << recorded.toolCalls << " tool call"
                  << (recorded.toolCalls == 1 ? "" : "s") << ", " << recorded.stepsWritten << " steps; replay it with\n"
                  << "  tapedeck replay " << o.tape << " --run " << plan->run.value << " --branch " << branch
                  << " -- CMD\n";
    }
    if (!finished) {
        std::cerr << "tapedeck: could not finish " << o.tape << ": " << finished.error().message << "\n";
        return kExitCannotWrite;
    }
    if (stats.stopped)
        return kExitDiverged;
    if (stats.liveFrom == 0 && !o.quiet)
        std::cerr << "tapedeck fork: the agent ended before it reached step " << plan->at.value
                  << "; the branch holds only its fork point\n";
    return agent.exitCode;
}

} // namespace

void addForkCommand(CLI::App &app)
{
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "fork", "Replay a run up to a step, change one thing there, and go on live, recording a new "
                "branch of the run in the same tape");
    cmd->add_option("FILE", opts->tape, "the tape (the new branch is written into it)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--at", opts->at, "the step to fork at (tapedeck dump FILE lists them)")->required();
    cmd->add_option("--branch", opts->branch, "the branch whose steps STEP is among (default: the one that holds it)");
    cmd->add_option("--edit-tool-result", opts->toolResults,
                    "CALL=@FILE or CALL=TEXT: the model sees this as the output of tool call CALL; CALL may "
                    "be left out when STEP is that tool call or its result");
    cmd->add_option("--edit-response", opts->response,
                    "@FILE or TEXT: the model's answer at STEP (a model call) instead of the recorded one; "
                    "a JSON object {\"text\": ..., \"tool_calls\": [{\"name\": ..., \"arguments\": {...}}]} "
                    "may call tools");
    cmd->add_option("--append-user", opts->appendUser, "TEXT or @FILE: a user message added at STEP");
    cmd->add_option("--model", opts->model, "ask this model from STEP on");
    cmd->add_option("--upstream", opts->upstream, "go on against this model API base URL (for every API)");
    cmd->add_option("--scripted", opts->scripted,
                    "go on against the scripted model with this policy: generic, kernel-tuner, script");
    cmd->add_option("--script", opts->script, "with --scripted script: the script file (agent/model/SCRIPT.md)");
    cmd->add_option("--seed", opts->seed, "with --scripted: the policy's seed")->capture_default_str();
    cmd->add_option("--tool-drift", opts->toolDrift,
                    "before STEP, when only tool outputs differ: fail, or allow (serve the recorded answer)")
        ->check(CLI::IsMember({"fail", "allow"}))
        ->capture_default_str();
    cmd->add_option("--match-rules", opts->matchRules, "a file of extra matching rules (replayer/MATCHING.md)")
        ->check(CLI::ExistingFile);
    cmd->add_flag("-q,--quiet", opts->quiet, "print only divergences and errors");
    cmd->add_option("CMD", opts->command, "the agent to run, after --");
    cmd->footer(
        "Examples:\n"
        "  tapedeck fork run.tape --at 412 --edit-tool-result call_7=@fixed-output.txt --upstream https://api.anthropic.com -- claude -p \"fix it\"\n"
        "  tapedeck fork run.tape --at 88 --append-user \"Check the benchmark first.\" --scripted kernel-tuner -- ./agent\n"
        "The steps before STEP are answered from the tape (no model call, no cost); the request for\n"
        "STEP (for a tool call or result: the next request of its thread, which carries the result)\n"
        "is the first sent on, edited, and so is every later one. The new branch records what the\n"
        "model was sent and answered, with its parent (branch, step), the edit and the outcome;\n"
        "tapedeck info and tapedeck dump show the branch tree.\n"
        "Exit codes: CMD's status; 6 when a request before STEP matched nothing recorded; 1 no\n"
        "such step or branch; 2 bad options, an edit that does not fit STEP, or CMD cannot be\n"
        "started; 3 the tape cannot be opened; 5 the branch cannot be written.");
    cmd->callback([opts] { commandExitCode() = runFork(*opts); });
}

} // namespace tapedeck::cli
