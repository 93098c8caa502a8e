#include "commands.h"
#include "exitcodes.h"
#include "format.h"
#include "progress.h"

#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addVerifyCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        bool quiet = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "verify", "Check a tape: schema, SQLite integrity, every blob against its hash, every "
                  "step's references");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_flag("-q,--quiet", opts->quiet, "print nothing; the exit code says it all");
    cmd->footer("Exits 0 when the tape is intact, 4 when it is damaged, 3 when it cannot be "
                "opened.");
    cmd->callback([opts] {
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = opts->quiet ? exitCodeFor(reader.error())
                                            : reportError(reader.error());
            return;
        }
        ProgressBar bar("verifying blobs");
        VerifyReport report = (*reader)->verify([&](int64_t done, int64_t total) {
            if (!opts->quiet)
                bar.update(done, total);
        });
        bar.finish();
        if (!opts->quiet) {
            for (const std::string &p : report.problems)
                std::cerr << "tapedeck: " << p << "\n";
            std::cout << opts->file << ": " << (report.ok ? "ok" : "DAMAGED") << " ("
                      << withCommas(report.stepsChecked) << " steps, "
                      << withCommas(report.blobsChecked) << " blobs checked";
            if (!report.ok)
                std::cout << ", " << report.problems.size() << " problems";
            std::cout << ")\n";
        }
        commandExitCode() = report.ok ? kExitOk : kExitDamaged;
    });
}

} // namespace tapedeck::cli
