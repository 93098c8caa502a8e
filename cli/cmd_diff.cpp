// `tapedeck diff A B`: two branches of a run, two runs of a tape, or runs in two files,
// aligned step by step; `tapedeck diff FILE#N`: what a fork changed against its parent.
#include "commands.h"
#include "exitcodes.h"

#include <tapedeck/analysis/diff.h>

#include <climits>
#include <iostream>

namespace tapedeck::cli {

namespace {

namespace an = tapedeck::analysis;
using formats::Error;
using formats::ErrorCode;

struct Options {
    std::vector<std::string> sides;
    bool json = false;
    bool all = false;
    int context = 2;
    int maxRows = 200;
    int maxPairs = 50;
};

// A side that cannot be read: the message names which side and what the tape has. A run
// or branch the tape does not have is a bad command line (2), never "they differ" (1).
int reportSideError(const char *label, const std::string &text, const Error &error)
{
    std::cerr << "tapedeck: side " << label << " (" << text << "): " << error.message << "\n";
    return error.code == ErrorCode::NotFound ? kExitUsage : exitCodeFor(error);
}

int run(const Options &opts)
{
    if (opts.sides.size() > 2) {
        std::cerr << "tapedeck: diff takes one or two sides, got " << opts.sides.size() << "\n";
        return kExitUsage;
    }
    const char *labels[2] = {"A", "B"};
    std::vector<an::SideSpec> specs;
    for (size_t i = 0; i < opts.sides.size(); ++i) {
        auto spec = an::parseSideSpec(opts.sides[i]);
        if (!spec)
            return reportSideError(labels[i], opts.sides[i], spec.error());
        specs.push_back(*spec);
    }

    auto readerA = formats::TapeReader::open(specs[0].path);
    if (!readerA)
        return reportSideError("A", specs[0].text, readerA.error());
    std::unique_ptr<formats::TapeReader> ownB;
    const formats::TapeReader *readerB = readerA->get();
    if (specs.size() == 1) {
        // One side: the branch it names against the branch it was forked from.
        auto parent = an::parentSideSpec(**readerA, specs[0]);
        if (!parent)
            return reportSideError("A", specs[0].text, parent.error());
        specs.insert(specs.begin(), *parent);
    } else if (specs[1].path != specs[0].path) {
        auto opened = formats::TapeReader::open(specs[1].path);
        if (!opened)
            return reportSideError("B", specs[1].text, opened.error());
        ownB = std::move(*opened);
        readerB = ownB.get();
    }

    an::DiffOptions options;
    options.onlyDifferences = !opts.all;
    options.contextRows = opts.context;
    options.maxRowsShown = opts.all ? INT_MAX : opts.maxRows;
    options.maxPairsCompared = opts.all ? INT_MAX : opts.maxPairs;
    // Each side loaded on its own, so an error names the side it belongs to.
    std::vector<an::Side> sides;
    for (int i = 0; i < 2; ++i) {
        auto side = an::loadSide(i == 0 ? **readerA : *readerB, specs[size_t(i)]);
        if (!side)
            return reportSideError(labels[i], specs[size_t(i)].text, side.error());
        sides.push_back(std::move(*side));
    }
    auto report = an::diffSides(**readerA, std::move(sides[0]), *readerB, std::move(sides[1]), options);
    if (!report) {
        std::cerr << "tapedeck: " << report.error().message << "\n";
        return exitCodeFor(report.error());
    }
    if (opts.json)
        std::cout << an::diffToJson(*report, options).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    else
        an::printDiff(*report, std::cout, options);
    return report->alignment.firstDivergence ? kExitCheckFailed : kExitOk;
}

} // namespace

void addDiffCommand(CLI::App &app)
{
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand("diff", "Compare two branches or runs step by step");
    cmd->add_option("SIDES", opts->sides,
                    "A and B, each FILE (its last run's original branch), FILE#N (branch N), FILE#run:R "
                    "or FILE#run:R,branch:N; one side FILE#N alone compares branch N with the branch "
                    "it was forked from")
        ->required()
        ->expected(1, 2);
    cmd->add_flag("--json", opts->json, "the report as one JSON object (README, \"Comparing runs\")");
    cmd->add_flag("--all", opts->all,
                  "list every row, the same ones too, and read the differences of every changed pair");
    cmd->add_option("--context", opts->context, "same rows listed around each difference (default 2)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--max-rows", opts->maxRows, "rows listed before the listing stops (default 200)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--max-pairs", opts->maxPairs,
                    "changed pairs whose differences are read and shown (default 50)")
        ->check(CLI::NonNegativeNumber);
    cmd->footer("Steps are aligned by kind, thread, tool and tool arguments; an aligned pair whose "
                "content (messages, parameters, response, tool output, status) differs is changed.\n"
                "Exit status, as diff(1): 0 the sides are the same, 1 they differ, 2 bad command "
                "line (a bad side, a run or branch the tape does not have), 3 a file missing or "
                "not a tape, 4 a damaged tape.");
    cmd->callback([opts] { commandExitCode() = run(*opts); });
}

} // namespace tapedeck::cli
