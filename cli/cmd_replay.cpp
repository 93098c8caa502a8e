// `tapedeck replay`: answers an agent's model calls from a tape, offline, and says where and
// why the agent stopped doing what it did when it was recorded.
#include "agentenvironment.h"
#include "commands.h"
#include "exitcodes.h"
#include "livebranch.h"
#include "replayedagent.h"

#include <tapedeck/replayer/replayer.h>

#include <csignal>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

namespace tapedeck::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void requestStop(int) { g_stop = 1; }

// "instant", "recorded", "x10" or "10x": the speed ReplayOptions takes; nullopt if none.
std::optional<double> parsePace(const std::string &pace)
{
    if (pace == "instant")
        return 0.0;
    if (pace == "recorded")
        return 1.0;
    std::string number = pace;
    if (!number.empty() && (number.front() == 'x' || number.front() == 'X'))
        number.erase(0, 1);
    else if (!number.empty() && (number.back() == 'x' || number.back() == 'X'))
        number.pop_back();
    try {
        size_t used = 0;
        const double speed = std::stod(number, &used);
        if (used == number.size() && speed > 0)
            return speed;
    } catch (const std::exception &) {
    }
    return std::nullopt;
}

struct Options {
    std::string tape;
    int64_t run = 0;
    int64_t branch = 0;
    std::string pace = "instant";
    std::string onMiss = "fail";
    std::string toolDrift = "fail";
    std::string matchRules;
    std::string report;
    bool check = false;
    bool serve = false;
    std::string listen = "127.0.0.1:0";
    LiveTarget live; // --on-miss live
    bool quiet = false;
    std::vector<std::string> command;
};

void printSummary(const replayer::ReplayStats &stats, bool check)
{
    std::cerr << "tapedeck replay: " << stats.requests << " request" << (stats.requests == 1 ? "" : "s")
              << ", " << stats.served << " answered from the tape, " << stats.divergences << " divergence"
              << (stats.divergences == 1 ? "" : "s");
    if (stats.driftServed)
        std::cerr << " (" << stats.driftServed << " environment drift, served)";
    if (stats.liveFrom)
        std::cerr << "; live from request " << stats.liveFrom << " (" << stats.live << " sent on)";
    std::cerr << "; " << stats.unusedExchanges << " recorded model call"
              << (stats.unusedExchanges == 1 ? "" : "s") << " not asked for";
    if (check)
        std::cerr << (stats.divergences == 0 && stats.unusedExchanges == 0 ? " - check passed" : " - check FAILED");
    std::cerr << "\n";
}

bool writeReport(const std::string &path, const replayer::ReplayServer &server)
{
    nlohmann::json report = {{"run", server.run().value}, {"branch", server.branch().value}};
    const replayer::ReplayStats stats = server.stats();
    report["requests"] = stats.requests;
    report["served"] = stats.served;
    report["unused_model_calls"] = stats.unusedExchanges;
    report["divergence_count"] = stats.divergences;
    report["drift_served"] = stats.driftServed;
    report["stopped"] = stats.stopped;
    report["divergences"] = nlohmann::json::array();
    for (const replayer::Divergence &d : server.divergences()) {
        nlohmann::json item = d.json;
        item["served"] = d.served;
        report["divergences"].push_back(std::move(item));
    }
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    out.close(); // a full disk shows when the last bytes are written
    return !out.fail();
}

void runReplay(const Options &o)
{
    replayer::ReplayOptions options;
    options.tapePath = o.tape;
    if (o.run > 0)
        options.run = formats::RunId(o.run);
    if (o.branch > 0)
        options.branch = formats::BranchId(o.branch);
    const std::optional<double> speed = parsePace(o.pace);
    if (!speed) {
        std::cerr << "tapedeck: --pace '" << o.pace << "' is not instant, recorded or xN (x10, 2.5x)\n";
        commandExitCode() = kExitUsage;
        return;
    }
    options.speed = *speed;
    options.onMiss = o.onMiss == "nearest" ? replayer::OnMiss::Nearest
                     : o.onMiss == "live"  ? replayer::OnMiss::Live
                                           : replayer::OnMiss::Fail;
    // --on-miss live: the first miss starts a new branch of the run, forked at the step the
    // request stood for, recorded as it goes on against the upstream.
    std::unique_ptr<LiveBranch> live;
    LiveTarget target = o.live;
    target.command = o.command;
    if (options.onMiss == replayer::OnMiss::Live) {
        if (const std::string problem = target.problem(); !problem.empty()) {
            std::cerr << "tapedeck: --on-miss live: " << problem << "\n";
            commandExitCode() = kExitUsage;
            return;
        }
        // A bad policy or script is found now, not at the first miss.
        if (!target.scripted.empty()) {
            if (formats::Result<std::unique_ptr<ScriptedModel>> check =
                    ScriptedModel::start(target.scripted, target.script, target.seed);
                !check) {
                std::cerr << "tapedeck: --scripted " << target.scripted << ": " << check.error().message << "\n";
                commandExitCode() = kExitUsage;
                return;
            }
        }
        options.goLive = [&](std::optional<formats::StepIndex> at) -> formats::Result<std::string> {
            formats::Result<std::unique_ptr<formats::TapeReader>> reader = formats::TapeReader::open(o.tape);
            if (!reader)
                return reader.error();
            replayer::ForkRequest request;
            request.at = at;
            request.run = options.run;
            request.branch = options.branch;
            formats::Result<replayer::ForkPlan> plan = replayer::planFork(**reader, request);
            if (!plan)
                return plan.error();
            plan->branch.description = "replay went live at a divergence " +
                                       (at ? "at step " + std::to_string(at->value) : std::string("after the recording"));
            plan->forkPoint["reason"] = "divergence";
            formats::Result<std::unique_ptr<LiveBranch>> started = LiveBranch::start(o.tape, *plan, target);
            if (!started)
                return started.error();
            live = std::move(*started);
            std::cerr << "tapedeck: going live to " << target.describe() << ", recording branch "
                      << live->recorder().branch().value << " (" << plan->branch.description << ")\n";
            return live->url();
        };
    } else if (!target.upstream.empty() || !target.scripted.empty()) {
        std::cerr << "tapedeck: --upstream and --scripted are for --on-miss live\n";
        commandExitCode() = kExitUsage;
        return;
    }
    options.allowToolDrift = o.toolDrift == "allow";
    options.matchRulesFile = o.matchRules;
    if (o.serve && !parseListenAddress(o.listen, options.listenHost, options.listenPort)) {
        std::cerr << "tapedeck: --listen '" << o.listen << "' is not HOST:PORT\n";
        commandExitCode() = kExitUsage;
        return;
    }
    if (!o.serve && o.command.empty()) {
        std::cerr << "tapedeck: give the agent's command after --, or --serve to answer agents "
                     "started elsewhere\n";
        commandExitCode() = kExitUsage;
        return;
    }

    formats::Result<std::unique_ptr<replayer::ReplayServer>> started = replayer::ReplayServer::start(options);
    if (!started) {
        commandExitCode() = reportError(started.error());
        return;
    }
    replayer::ReplayServer &server = **started;
    const std::string base = server.baseUrl();
    if (!o.quiet)
        std::cerr << "tapedeck: replaying run " << server.run().value << " (branch " << server.branch().value
                  << ") of " << o.tape << " at " << base << " (" << server.stats().recordedExchanges
                  << " recorded exchanges)\n";
    server.onDivergence([](const replayer::Divergence &d) { std::cerr << "tapedeck: " << d.report << std::flush; });

    int childExit = 0;
    if (o.serve) {
        server.onStop([] { g_stop = 1; });
        std::signal(SIGINT, requestStop);
        std::signal(SIGTERM, requestStop);
        std::cout << "listening on " << base << "\n"
                  << "  OPENAI_BASE_URL=" << base << "/v1  ANTHROPIC_BASE_URL=" << base
                  << "  GOOGLE_GEMINI_BASE_URL=" << base << "\n"
                  << "replaying " << o.tape << " (Ctrl-C stops)" << std::endl;
        while (!g_stop)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {
        const ChildResult result = runAgentAgainstReplay(
            server, o.command,
            {{"TAPEDECK_REPLAY_TAPE", o.tape},
             {"TAPEDECK_REPLAY_RUN", std::to_string(server.run().value)},
             {"TAPEDECK_REPLAY_BRANCH", std::to_string(server.branch().value)}});
        if (!result.started) {
            std::cerr << "tapedeck: " << result.error << "\n";
            commandExitCode() = kExitUsage;
            return;
        }
        childExit = result.exitCode;
    }
    server.stop();
    if (live) {
        if (formats::Status finished = live->finish(o.serve ? "stopped" : "exit " + std::to_string(childExit));
            !finished) {
            std::cerr << "tapedeck: could not finish the live branch in " << o.tape << ": "
                      << finished.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
    }

    const replayer::ReplayStats stats = server.stats();
    if (!o.quiet || o.check)
        printSummary(stats, o.check);
    if (!stats.liveError.empty()) {
        std::cerr << "tapedeck: could not go live in " << o.tape << ": " << stats.liveError << "\n";
        commandExitCode() = kExitCannotWrite;
        return;
    }
    if (!o.report.empty() && !writeReport(o.report, server)) {
        std::cerr << "tapedeck: cannot write the report to " << o.report << "\n";
        commandExitCode() = kExitCannotWrite;
        return;
    }
    if (stats.stopped || (o.check && (stats.divergences > 0 || stats.unusedExchanges > 0)))
        commandExitCode() = kExitDiverged;
    else
        commandExitCode() = o.serve ? kExitOk : childExit;
}

} // namespace

void addReplayCommand(CLI::App &app)
{
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "replay", "Run an agent again against a tape's recorded answers, offline, and report "
                  "where it stops matching");
    cmd->add_option("FILE", opts->tape, "the tape to replay")->required()->check(CLI::ExistingFile);
    cmd->add_option("--run", opts->run, "the run to replay (default: the tape's last run)");
    cmd->add_option("--branch", opts->branch, "the branch of the run (default: its original)");
    cmd->add_option("--pace", opts->pace,
                    "instant (as fast as possible), recorded (the recorded waits), or xN (N times faster)")
        ->capture_default_str();
    cmd->add_option("--on-miss", opts->onMiss,
                    "on a divergence: fail (refuse the request, stop the agent, exit 6), nearest "
                    "(serve the nearest recorded answer and go on), or live (go on against --upstream or "
                    "--scripted from there, recorded as a new branch of the run)")
        ->check(CLI::IsMember({"fail", "nearest", "live"}))
        ->capture_default_str();
    cmd->add_option("--upstream", opts->live.upstream,
                    "with --on-miss live: the model API base URL to go on against (for every API)");
    cmd->add_option("--scripted", opts->live.scripted,
                    "with --on-miss live: go on against the scripted model with this policy (generic, "
                    "kernel-tuner, script)");
    cmd->add_option("--script", opts->live.script, "with --scripted script: the script file");
    cmd->add_option("--seed", opts->live.seed, "with --scripted: the policy's seed");
    cmd->add_option("--tool-drift", opts->toolDrift,
                    "when only tool outputs differ (environment drift): fail, or allow (serve the "
                    "recorded answer, report the drift)")
        ->check(CLI::IsMember({"fail", "allow"}))
        ->capture_default_str();
    cmd->add_option("--match-rules", opts->matchRules,
                    "a file of extra matching rules (replayer/MATCHING.md)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--report", opts->report, "write every divergence, with its diffs, to this JSON file");
    cmd->add_flag("--check", opts->check,
                  "exit 0 only when the whole run replays: no divergence, every recorded model call "
                  "asked for");
    cmd->add_flag("--serve", opts->serve, "answer agents started elsewhere until stopped (no CMD)");
    cmd->add_option("--listen", opts->listen, "with --serve: HOST:PORT to listen on (port 0: any free one)")
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", opts->quiet, "print only divergences and, with --check, the verdict");
    cmd->add_option("CMD", opts->command, "the agent to run, after --");
    cmd->footer(
        "Examples:\n"
        "  tapedeck replay fix-tests.tape -- claude -p \"make the tests pass\"\n"
        "  tapedeck replay --check run.tape -- ./my-agent --task t1      # a determinism check for CI\n"
        "  tapedeck replay --serve run.tape --listen 127.0.0.1:8790\n"
        "CMD is started with OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GOOGLE_GEMINI_BASE_URL (and the\n"
        "other usual spellings) pointing at the replay server. Each model call is matched to the\n"
        "next recorded call of its conversation after normalisation (ids, session keys, dates and\n"
        "temporary paths in prompts do not count: replayer/MATCHING.md) and answered with the\n"
        "recorded bytes. A request that matches nothing is a divergence: the report names the\n"
        "step, the part of the request that differs, with a diff, and the nearest recorded calls.\n"
        "Exit codes: CMD's status; 6 when a divergence stopped the replay or --check failed;\n"
        "1 the tape has no such run or branch; 2 bad options or CMD cannot be started; 3 the tape\n"
        "cannot be opened; 5 --on-miss live could not write the new branch.");
    cmd->callback([opts] { runReplay(*opts); });
}

} // namespace tapedeck::cli
