#include "commands.h"
#include "exitcodes.h"

#include <fstream>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addExportCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        bool jsonl = false;
        std::string output;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "export", "Write a tape in an interchange format (JSONL: every run, branch, thread and "
                  "step, without loss)");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_flag("--jsonl", opts->jsonl, "Tapedeck JSONL interchange (formats/FORMAT.md)")
        ->required();
    cmd->add_option("-o,--output", opts->output, "write here instead of stdout");
    cmd->callback([opts] {
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        std::ofstream file;
        if (!opts->output.empty()) {
            file.open(opts->output, std::ios::binary | std::ios::trunc);
            if (!file) {
                std::cerr << "tapedeck: " << opts->output << ": cannot write\n";
                commandExitCode() = kExitCannotWrite;
                return;
            }
        }
        std::ostream &out = opts->output.empty() ? std::cout : file;
        if (auto s = exportJsonl(**reader, out); !s) {
            commandExitCode() = s.error().code == ErrorCode::Io ? kExitCannotWrite
                                                                : reportError(s.error());
            if (s.error().code == ErrorCode::Io)
                std::cerr << "tapedeck: " << s.error().message << "\n";
            return;
        }
        out.flush();
        if (!out) {
            std::cerr << "tapedeck: " << (opts->output.empty() ? "stdout" : opts->output)
                      << ": write failed\n";
            commandExitCode() = kExitCannotWrite;
        }
    });
}

} // namespace tapedeck::cli
