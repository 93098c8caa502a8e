#include "commands.h"
#include "exitcodes.h"
#include "format.h"
#include "progress.h"
#include "tapeinfo.h"

#include "tapedeck/samples/kernelsession.h"

#include <cstdio>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addDemoCommand(CLI::App &app)
{
    struct Options {
        std::string output = "kernel-session.tape";
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "demo", "Write the 35-hour sample kernel-optimisation session to a tape and summarise it");
    cmd->add_option("-o,--output", opts->output, "where to write the tape (replaced if it exists)")
        ->capture_default_str();
    cmd->callback([opts] {
        WriterOptions wo;
        wo.overwrite = true;
        auto writer = TapeWriter::create(opts->output, wo);
        if (!writer) {
            std::cerr << "tapedeck: " << writer.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        std::cout << "Writing the sample 35-hour kernel-optimisation session to " << opts->output
                  << " ...\n";
        ProgressBar bar("writing");
        samples::KernelSessionOptions so;
        so.progress = [&](int64_t done, int64_t total) { bar.update(done, total); };
        auto stats = samples::writeKernelSession(**writer, so);
        bar.finish();
        writer->reset();
        if (!stats) {
            std::cerr << "tapedeck: " << stats.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        auto reader = TapeReader::open(opts->output);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        std::cout << "\n";
        if (auto s = printTapeInfo(**reader, std::cout, false); !s) {
            commandExitCode() = reportError(s.error());
            return;
        }
        std::cout << "\nBest speed-up reached: " << times(stats->bestSpeedup) << " over "
                  << withCommas(stats->evaluations) << " benchmark evaluations.\n"
                  << "Look closer:  tapedeck dump " << opts->output << " | less\n"
                  << "              tapedeck search " << opts->output << " \"error\"\n"
                  << "              tapedeck dump " << opts->output << " --step 2\n";
    });
}

} // namespace tapedeck::cli
