#include "commands.h"
#include "exitcodes.h"
#include "format.h"

#include <iomanip>
#include <iostream>

namespace tapedeck::cli {

using namespace tapedeck::formats;

void addSearchCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        std::string query;
        int limit = 50;
        bool json = false;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "search", "Full-text search over messages, tool arguments and tool outputs");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_option("QUERY", opts->query,
                    "words to find (all must appear); FTS5 syntax works too: \"exact phrase\", "
                    "a OR b, prefix*")
        ->required();
    cmd->add_option("-n,--limit", opts->limit, "show at most this many hits")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", opts->json, "one JSON object per hit");
    cmd->footer("Each hit names the first step whose content holds the text; exits 1 when "
                "nothing matches.");
    cmd->callback([opts] {
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        auto hits = (*reader)->search(opts->query, opts->limit);
        if (!hits) {
            commandExitCode() = reportError(hits.error());
            return;
        }
        for (const SearchHit &h : *hits) {
            if (opts->json) {
                std::cout << nlohmann::json{{"step", h.step.value},
                                            {"field", h.field},
                                            {"snippet", h.snippet}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                          << "\n";
            } else {
                std::cout << "step " << std::left << std::setw(7) << h.step.value << " "
                          << std::setw(15) << h.field << " " << h.snippet << "\n";
            }
        }
        if (hits->empty()) {
            if (!opts->json)
                std::cerr << "no match for \"" << opts->query << "\" in " << opts->file << "\n";
            commandExitCode() = kExitCheckFailed;
        }
    });
}

} // namespace tapedeck::cli
