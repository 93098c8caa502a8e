// `tapedeck import`: trajectories other agents wrote (and Tapedeck's own JSONL interchange)
// made into a tape.
#include "commands.h"
#include "exitcodes.h"
#include "format.h"
#include "progress.h"

#include "tapedeck/formats/importers.h"

#include <filesystem>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

namespace {

constexpr size_t kSkippedShown = 10;

std::string formatList()
{
    std::string out;
    for (ImportFormat f : importFormats())
        out += std::string("\n  ") + importFormatName(f) + ": " + importFormatDescription(f);
    return out;
}

// Says what was left out of a partly broken input: the first few, then how many more.
void printSkipped(const std::vector<std::string> &skipped)
{
    if (skipped.empty())
        return;
    std::cerr << "tapedeck: skipped " << withCommas(int64_t(skipped.size()))
              << (skipped.size() == 1 ? " record" : " records") << " that could not be read:\n";
    for (size_t i = 0; i < skipped.size() && i < kSkippedShown; ++i)
        std::cerr << "  " << skipped[i] << "\n";
    if (skipped.size() > kSkippedShown)
        std::cerr << "  ... and " << withCommas(int64_t(skipped.size() - kSkippedShown)) << " more\n";
}

void removeTape(const std::string &path)
{
    std::error_code ec;
    for (const char *suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix, ec);
}

} // namespace

void addImportCommand(CLI::App &app)
{
    struct Options {
        std::vector<std::string> inputs;
        bool jsonl = false;
        std::string format = "auto";
        std::string output;
        bool force = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "import",
        "Make a tape from trajectories other agents wrote, or from Tapedeck's JSONL interchange");
    cmd->footer("Formats (found from the content unless --format names one):" + formatList() +
                "\n\nSeveral inputs go into one tape, one run (or more) each; they need -o. Records "
                "that cannot be read are skipped and listed; the import fails (exit 4) only when "
                "an input has nothing usable. The output is written beside its place and renamed "
                "at the end, so a failed import leaves nothing behind.");
    cmd->add_option("INPUT", opts->inputs, "the files to read, - for stdin")->required();
    cmd->add_option("--format", opts->format, "auto, or one of the formats below")
        ->capture_default_str();
    cmd->add_flag("--jsonl", opts->jsonl, "the same as --format jsonl");
    cmd->add_option("-o,--output", opts->output,
                    "the tape to write (default: INPUT with .tape in place of its extension)");
    cmd->add_flag("-f,--force", opts->force, "replace the output if it exists");
    cmd->callback([opts] {
        std::optional<ImportFormat> format;
        if (opts->jsonl)
            opts->format = "jsonl";
        if (opts->format != "auto") {
            format = importFormatFromName(opts->format);
            if (!format) {
                std::cerr << "tapedeck: --format " << opts->format << ": unknown (formats:"
                          << formatList() << ")\n";
                commandExitCode() = kExitUsage;
                return;
            }
        }
        std::string output = opts->output;
        if (output.empty()) {
            if (opts->inputs.size() > 1 || opts->inputs.front() == "-") {
                std::cerr << "tapedeck: "
                          << (opts->inputs.size() > 1 ? "several inputs" : "reading stdin")
                          << " needs -o OUTPUT.tape\n";
                commandExitCode() = kExitUsage;
                return;
            }
            output = std::filesystem::path(opts->inputs.front()).replace_extension(".tape").string();
        }
        for (const std::string &input : opts->inputs) {
            std::error_code ec;
            if (input != "-" && !std::filesystem::exists(input, ec)) {
                std::cerr << "tapedeck: " << input << ": no such file\n";
                commandExitCode() = kExitCannotOpen;
                return;
            }
        }
        if (!opts->force && std::filesystem::exists(output)) {
            std::cerr << "tapedeck: " << output << ": already exists (use --force to replace it)\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        const std::string partial = output + ".partial";
        WriterOptions wo;
        wo.overwrite = true;
        wo.commitInterval = kImportCommitInterval;
        auto writer = TapeWriter::create(partial, wo);
        if (!writer) {
            std::cerr << "tapedeck: " << writer.error().message << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        ImportStats total;
        std::vector<std::string> skipped;
        for (const std::string &input : opts->inputs) {
            ProgressBar bar("importing " + input);
            ImportOptions io;
            io.progress = [&bar](int64_t done, int64_t size) { bar.update(done, size); };
            auto report = input == "-" ? importStream(std::cin, "<stdin>", 0, format, **writer, io)
                                       : importFile(input, format, **writer, io);
            bar.finish();
            if (!report) {
                writer->reset();
                removeTape(partial);
                commandExitCode() = reportError(report.error());
                return;
            }
            if (opts->inputs.size() > 1)
                std::cout << input << ": " << importFormatName(report->format) << ", "
                          << report->stats.runs << " runs, " << withCommas(report->stats.steps)
                          << " steps\n";
            total.runs += report->stats.runs;
            total.branches += report->stats.branches;
            total.threads += report->stats.threads;
            total.steps += report->stats.steps;
            skipped.insert(skipped.end(), report->skipped.begin(), report->skipped.end());
        }
        writer->reset();
        std::error_code ec;
        std::filesystem::rename(partial, output, ec);
        if (ec) {
            std::cerr << "tapedeck: " << output << ": " << ec.message() << "\n";
            commandExitCode() = kExitCannotWrite;
            return;
        }
        printSkipped(skipped);
        std::cout << output << ": imported " << total.runs << " runs, " << total.branches
                  << " branches, " << total.threads << " threads, " << withCommas(total.steps)
                  << " steps\n";
    });
}

} // namespace tapedeck::cli
