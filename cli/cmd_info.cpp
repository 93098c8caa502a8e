#include "commands.h"
#include "exitcodes.h"
#include "tapeinfo.h"

#include <iostream>

namespace tapedeck::cli {

void addInfoCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        bool json = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "info", "Summarise a tape: runs, branches, threads, steps by kind, tokens, cost, duration, "
                "and where its bytes go");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_flag("--json", opts->json, "print one JSON object instead of text");
    cmd->callback([opts] {
        auto reader = formats::TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        if (auto s = printTapeInfo(**reader, std::cout, opts->json); !s)
            commandExitCode() = reportError(s.error());
    });
}

} // namespace tapedeck::cli
