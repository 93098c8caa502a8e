// `tapedeck fork`: replays a recorded run up to a chosen step, changes one thing there, and
// goes on live, recording the continuation as a new branch of the run in the same tape.
//
// Three servers on loopback, in this process: the replay server the agent talks to (it
// answers the prefix from the tape, then sends each request on, edited), the recorder of
// the new branch behind it, and, with --scripted, the scripted model behind that.
#include "commands.h"
#include "exitcodes.h"
#include "livebranch.h"
#include "replayedagent.h"

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
        // CALL=VALUE when what comes before the '=' can be a call id; otherwise the whole of
        // it is the output (text with an '=' of its own).
        const size_t equals = spec.find('=');
        const bool namesCall = equals != std::string::npos && equals > 0 && spec[0] != '@' &&
                               spec.find_first_of(" \t\n\"'{}[]") > equals;
        if (namesCall) {
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
    const LiveTarget target{o.upstream, o.scripted, o.script, o.seed, o.command};
    if (const std::string problem = target.problem(); !problem.empty())
        return usage(problem);
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
    // The scripted model is checked before anything starts, so that a bad policy or script
    // fails at once rather than once the prefix has been replayed.
    if (!o.scripted.empty()) {
        formats::Result<std::unique_ptr<ScriptedModel>> check = ScriptedModel::start(o.scripted, o.script, o.seed);
        if (!check)
            return usage("--scripted " + o.scripted + ": " + check.error().message);
    }

    // The branch is written once the replay reaches the fork: a fork that diverges before
    // it, or an agent that stops before it, leaves the tape as it was.
    std::unique_ptr<LiveBranch> live;
    replayer::ReplayOptions replay;
    replay.tapePath = o.tape;
    replay.run = plan->run;
    replay.branch = plan->source;
    replay.forkAt = plan->at;
    replay.goLive = [&](std::optional<formats::StepIndex>) -> formats::Result<std::string> {
        formats::Result<std::unique_ptr<LiveBranch>> started = LiveBranch::start(o.tape, *plan, target);
        if (!started)
            return started.error();
        live = std::move(*started);
        return live->url();
    };
    // Also without edits: the set says which thread is the forked one, for the answer.
    replay.edits.push_back({plan->edits, formats::StepIndex(plan->at->value - 1),
                            plan->continuesForkedThread ? std::optional(plan->continuedCalls.front())
                                                        : std::nullopt});
    replay.answer = plan->answer;
    replay.recordAnswered = [&live](formats::WireExchange wire, int64_t startedUs, int64_t endedUs) {
        live->recorder().recordAnswered(std::move(wire), startedUs, endedUs, endedUs);
    };
    replay.allowToolDrift = o.toolDrift == "allow";
    replay.matchRulesFile = o.matchRules;
    formats::Result<std::unique_ptr<replayer::ReplayServer>> server = replayer::ReplayServer::start(replay);
    if (!server)
        return reportError(server.error());

    if (!o.quiet)
        std::cerr << "tapedeck fork: run " << plan->run.value << ", branch " << plan->source.value << " at step "
                  << plan->at->value << " (" << formats::stepKindName(plan->atKind) << "): " << plan->prefixModelCalls
                  << " recorded model call" << (plan->prefixModelCalls == 1 ? "" : "s")
                  << " to replay, then live to " << target.describe() << "\n  " << plan->branch.description << "\n";
    (*server)->onDivergence([](const replayer::Divergence &d) { std::cerr << "tapedeck: " << d.report << std::flush; });

    // As under `tapedeck replay`: an agent answering its tools from this tape answers them
    // from the branch forked (up to the fork, which is as far as it can).
    const ChildResult agent = runAgentAgainstReplay(
        **server, o.command,
        {{"TAPEDECK_REPLAY_TAPE", o.tape},
         {"TAPEDECK_REPLAY_RUN", std::to_string(plan->run.value)},
         {"TAPEDECK_REPLAY_BRANCH", std::to_string(plan->source.value)}});
    (*server)->stop();
    const replayer::ReplayStats stats = (*server)->stats();
    if (!agent.started)
        return usage(agent.error);
    if (!live) {
        if (!stats.liveError.empty()) {
            std::cerr << "tapedeck fork: could not start the branch in " << o.tape << ": " << stats.liveError << "\n";
            return kExitCannotWrite;
        }
        if (stats.stopped)
            std::cerr << "tapedeck fork: the replay stopped at a divergence before step " << plan->at->value
                      << "; nothing was written to " << o.tape << "\n";
        else
            std::cerr << "tapedeck fork: the agent ended before it reached step " << plan->at->value
                      << "; nothing was written to " << o.tape << "\n";
        return stats.stopped ? kExitDiverged : agent.exitCode;
    }
    const formats::Status finished = live->finish("exit " + std::to_string(agent.exitCode));
    const recorder::RecorderStats recorded = live->recorder().stats();
    if (!o.quiet) {
        const int64_t fromTape = stats.served + stats.driftServed;
        std::cerr << "tapedeck fork: " << fromTape << " request" << (fromTape == 1 ? "" : "s")
                  << " answered from the tape";
        if (stats.driftServed)
            std::cerr << " (" << stats.driftServed << " with environment drift)";
        std::cerr << ", " << stats.live << " live";
        for (const std::string &line : stats.edited)
            std::cerr << "; " << line;
        const int64_t branch = live->recorder().branch().value;
        std::cerr << "\n  branch " << branch << ": " << recorded.modelCalls << " model call"
                  << (recorded.modelCalls == 1 ? "" : "s") << ", " << recorded.toolCalls << " tool call"
                  << (recorded.toolCalls == 1 ? "" : "s") << " (" << recorded.stepsWritten
                  << " steps recorded live); replay it with\n"
                  << "  tapedeck replay " << o.tape << " --run " << plan->run.value << " --branch " << branch
                  << " -- CMD\n";
    }
    if (!finished) {
        std::cerr << "tapedeck: could not finish " << o.tape << ": " << finished.error().message << "\n";
        return kExitCannotWrite;
    }
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
                    "CALL=@FILE or CALL=TEXT: the model sees this as the output of tool call CALL (from STEP "
                    "on, in every request); CALL may be left out when STEP is that tool call or its result; "
                    "may be given more than once");
    cmd->add_option("--edit-response", opts->response,
                    "@FILE or TEXT: the model's answer at STEP (a model call) instead of the recorded one; "
                    "a JSON object {\"text\": ..., \"tool_calls\": [{\"name\": ..., \"arguments\": {...}}]} "
                    "may call tools");
    cmd->add_option("--append-user", opts->appendUser,
                    "TEXT or @FILE: a user message added at STEP, where the forked conversation's first live "
                    "request ends, and kept there in its every later request (side conversations get none)");
    cmd->add_option("--model", opts->model, "ask this model from STEP on (every live model call)");
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
        "Nothing is written to the tape until the replay reaches STEP.\n"
        "Exit codes: CMD's status; 6 when a request before STEP matched nothing recorded; 1 no\n"
        "such step or branch, or an @FILE that cannot be read; 2 bad options, an edit that does\n"
        "not fit STEP, or CMD cannot be started; 3 the tape cannot be opened; 5 the branch cannot\n"
        "be written.");
    cmd->callback([opts] { commandExitCode() = runFork(*opts); });
}

} // namespace tapedeck::cli
