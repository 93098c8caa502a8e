#include "commands.h"
#include "exitcodes.h"
#include "format.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addImportCommand(CLI::App &app)
{
    struct Options {
        std::string input;
        bool jsonl = false;
        std::string output;
        bool force = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "import", "Make a tape from an interchange file (JSONL written by `tapedeck export --jsonl`)");
    cmd->add_option("INPUT", opts->input, "the file to read, - for stdin")->required();
    cmd->add_flag("--jsonl", opts->jsonl, "Tapedeck JSONL interchange (formats/FORMAT.md)")
        ->required();
    cmd->add_option("-o,--output", opts->output,
                    "the tape to write (default: INPUT with .tape in place of its extension)");
    cmd->add_flag("-f,--force", opts->force, "replace the output if it exists");
    cmd->callback([opts] {
        std::string output = opts->output;
        if (output.empty()) {
            if (opts->input == "-") {
                std::cerr << "tapedeck: reading stdin needs -o OUTPUT.tape\n";
                commandExitCode() = kExitUsage;
                return;
            }
            output = std::filesystem::path(opts->input).replace_extension(".tape").string();
        }
        std::ifstream file;
        if (opts->input != "-") {
            file.open(opts->input, std::ios::binary);
            if (!file) {
                std::cerr << "tapedeck: " << opts->input << ": cannot read\n";
                commandExitCode() = kExitCannotOpen;
                return;
            }
        }
        std::istream &in = opts->input == "-" ? std::cin : file;
        WriterOptions wo;
        // Write beside the output and rename at the end, so a failed import leaves no
        // half-made tape behind and never harms an existing one.
        const std::string partial = output + ".partial";
        wo.overwrite = true;
        if (!opts->force && std::filesystem::exists(output)) {
            std::cerr << "tapedeck: " << output << ": already exists (use --force to replace it)\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        auto writer = TapeWriter::create(partial, wo);
        if (!writer) {
            std::cerr << "tapedeck: " << writer.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        auto stats = importJsonl(in, **writer, opts->input == "-" ? "<stdin>" : opts->input);
        writer->reset();
        std::error_code ec;
        if (!stats) {
            for (const char *suffix : {"", "-wal", "-shm"})
                std::filesystem::remove(partial + suffix, ec);
            commandExitCode() = reportError(stats.error());
            return;
        }
        std::filesystem::rename(partial, output, ec);
        if (ec) {
            std::cerr << "tapedeck: " << output << ": " << ec.message() << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        std::cout << output << ": imported " << stats->runs << " runs, " << stats->branches
                  << " branches, " << stats->threads << " threads, " << withCommas(stats->steps)
                  << " steps\n";
    });
}

} // namespace tapedeck::cli
