#include "commands.h"
#include "exitcodes.h"
#include "progress.h"

#include <tapedeck/analysis/findings.h>

#include <iostream>
#include <sstream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

namespace {

// "--kind loop,error_streak": the kinds named, or an error naming the one not known.
Result<std::vector<bool>> kindFilter(const std::string &list)
{
    std::vector<bool> wanted(analysis::kFindingKindCount, list.empty());
    std::stringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
        if (name.empty())
            continue;
        auto kind = analysis::findingKindFromName(name);
        if (!kind) {
            std::string known;
            for (int k = 0; k < analysis::kFindingKindCount; ++k)
                known += (k ? ", " : "") + std::string(analysis::findingKindName(analysis::FindingKind(k)));
            return Error{ErrorCode::InvalidArgument, "--kind: no finding kind \"" + name + "\" (kinds: " + known + ")"};
        }
        wanted[size_t(*kind)] = true;
    }
    return wanted;
}

} // namespace

void addAnalyzeCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        bool json = false;
        bool group = false;
        int64_t run = 0, branch = 0;
        std::string kinds;
        std::string minSeverity = "info";
        double stallSeconds = 600;
        double slowSeconds = 60;
        analysis::AnalysisOptions analysis;
        bool lowerIsBetter = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "analyze", "Find loops, error streaks, stalls, context trouble, progress and early stops in a run");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_flag("--json", opts->json, "one JSON document: the findings, a summary per kind, the metric");
    cmd->add_flag("--group", opts->group, "group the findings by kind (default: in step order)");
    cmd->add_option("--run", opts->run, "the run (default: the tape's last)")->check(CLI::PositiveNumber);
    cmd->add_option("--branch", opts->branch, "the branch of the run (default: its original)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--kind", opts->kinds,
                    "show only these kinds, comma-separated: loop, error_streak, stall, slow_call, "
                    "context_growth, compaction, near_context_limit, plateau, regression, new_best, early_stop");
    cmd->add_option("--min-severity", opts->minSeverity, "hide findings below this severity")
        ->check(CLI::IsMember({"info", "notice", "warning"}));
    cmd->add_option("--metric", opts->analysis.metricPattern,
                    "the progress metric: a regular expression over tool outputs whose first group is "
                    "a number (default: speed-up and score lines; \"-\" turns progress rules off)");
    cmd->add_option("--metric-tool", opts->analysis.metricTool, "read the metric from this tool's outputs only");
    cmd->add_flag("--lower-is-better", opts->lowerIsBetter, "the metric improves downwards (a time, a loss)");
    cmd->add_option("--check", opts->analysis.checkPattern,
                    "which tool calls are the task's check: a regular expression over the tool name and "
                    "arguments (default: test, pytest, bench, eval, check; \"-\": metric calls only)");
    cmd->add_option("--min-repeats", opts->analysis.minLoopRepeats, "rounds that make a loop")
        ->check(CLI::Range(2, 1000))->capture_default_str();
    cmd->add_option("--min-streak", opts->analysis.minErrorStreak, "failures in a row that make a streak")
        ->check(CLI::Range(2, 1000))->capture_default_str();
    cmd->add_option("--stall", opts->stallSeconds, "gaps at least this many seconds long are stalls")
        ->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--slow", opts->slowSeconds, "calls shorter than this many seconds are never slow")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    cmd->add_option("--slow-factor", opts->analysis.slowCallFactor, "slow: this many times the median call")
        ->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--plateau", opts->analysis.plateauEvaluations, "metric points without a new best that make a plateau")
        ->check(CLI::Range(int64_t(2), int64_t(1000000)))->capture_default_str();
    cmd->add_option("--noise", opts->analysis.regressionFraction,
                    "a metric point more than this fraction worse than the best is a regression")
        ->check(CLI::Range(0.0, 1.0))->capture_default_str();
    cmd->add_option("--context-window", opts->analysis.contextWindowTokens,
                    "the model's context window in tokens (default: known from the model's name)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--near-limit", opts->analysis.nearLimitFraction,
                    "requests at this fraction of the window or more are near the limit")
        ->check(CLI::Range(0.01, 1.0))->capture_default_str();
    cmd->footer("Each finding names the steps it covers; `tapedeck dump FILE --step N` shows the first.\n"
                "Exit codes: 0 analyzed (with or without findings); 2 bad option or pattern; 3 the file\n"
                "cannot be opened; 4 it is damaged; 1 no such run or branch.");
    cmd->callback([opts] {
        auto wanted = kindFilter(opts->kinds);
        if (!wanted) {
            commandExitCode() = reportError(wanted.error());
            return;
        }
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        analysis::AnalysisOptions options = opts->analysis;
        if (opts->run > 0)
            options.run = RunId(opts->run);
        if (opts->branch > 0)
            options.branch = BranchId(opts->branch);
        options.higherIsBetter = !opts->lowerIsBetter;
        options.stallUs = int64_t(opts->stallSeconds * 1e6);
        options.slowCallMinUs = int64_t(opts->slowSeconds * 1e6);
        ProgressBar progress("analyzing");
        options.progress = [&progress](int64_t done, int64_t total) { progress.update(done, total); };
        auto report = analysis::analyze(**reader, options);
        progress.finish();
        if (!report) {
            Error error = report.error();
            if (error.code == ErrorCode::InvalidArgument && error.message.find("metric pattern") != std::string::npos)
                error.message = "--metric: " + error.message;
            else if (error.code == ErrorCode::InvalidArgument && error.message.find("check pattern") != std::string::npos)
                error.message = "--check: " + error.message;
            commandExitCode() = reportError(error);
            return;
        }
        const analysis::Severity floor = opts->minSeverity == "warning" ? analysis::Severity::Warning
                                         : opts->minSeverity == "notice" ? analysis::Severity::Notice
                                                                          : analysis::Severity::Info;
        std::erase_if(report->findings, [&](const analysis::Finding &f) {
            return !(*wanted)[size_t(f.kind)] || int(f.severity) < int(floor);
        });
        if (opts->json)
            std::cout << analysis::analysisToJson(*report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                      << "\n";
        else
            analysis::printAnalysis(*report, std::cout, opts->group);
        std::cout.flush();
        commandExitCode() = std::cout ? kExitOk : kExitCannotWrite;
    });
}

} // namespace tapedeck::cli
