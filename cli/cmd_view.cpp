// `tapedeck view FILE`: opens the tape in the desktop app (tapedeck-gui), or with
// --screenshot renders the app's window into a PNG without a display.
#include "commands.h"
#include "exitcodes.h"
#include "guilaunch.h"

#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace tapedeck::cli {

void addViewCommand(CLI::App &app)
{
    struct Options {
        std::string file;
        std::string screenshot;
        int64_t select = 0;
        std::string view;
        std::string search;
        std::string gui;
    };
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand("view", "Open a tape in the desktop app (tapedeck-gui)");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    cmd->add_option("--screenshot", opts->screenshot,
                    "render the window offscreen into this PNG once the tape is open, then exit");
    cmd->add_option("--select", opts->select, "select this step")->check(CLI::PositiveNumber);
    cmd->add_option("--view", opts->view,
                    "bring a view to the front: timeline, table, navigator, search, bookmarks, metrics, "
                    "inspector, conversation, new, response, usage, wire");
    cmd->add_option("--search", opts->search, "run a full-text search");
    cmd->add_option("--gui-bin", opts->gui, "the tapedeck-gui program (default: beside tapedeck)");
    cmd->footer("Without a display ($DISPLAY, $WAYLAND_DISPLAY) only --screenshot works. Exit codes as\n"
                "tapedeck-gui's: 0 shown (or the screenshot written), 1 the window was not ready in time,\n"
                "2 bad command line or no display, 3 the tape could not be opened, 5 the screenshot could\n"
                "not be written.");
    cmd->callback([opts] {
        std::error_code ec;
        if (!std::filesystem::exists(opts->file, ec)) {
            std::cerr << "tapedeck: " << opts->file << ": no such file\n";
            commandExitCode() = kExitCannotOpen;
            return;
        }
        const auto gui = findGui(opts->gui);
        if (!gui) {
            std::cerr << "tapedeck: cannot find tapedeck-gui beside this tapedeck"
                      << (opts->gui.empty() ? "" : " (--gui-bin " + opts->gui + ")")
                      << "; build it (it needs Qt 6 Widgets), or give it with --gui-bin PATH\n";
            commandExitCode() = kExitCannotOpen;
            return;
        }
        if (opts->screenshot.empty() && !hasDisplay()) {
            std::cerr << "tapedeck: no display ($DISPLAY and $WAYLAND_DISPLAY are not set): run this on a "
                         "desktop, or render the window with --screenshot OUT.png\n";
            commandExitCode() = kExitUsage;
            return;
        }
        std::vector<std::string> args = {gui->string()};
        if (!opts->screenshot.empty())
            args.insert(args.end(), {"--screenshot", opts->screenshot});
        if (opts->select)
            args.insert(args.end(), {"--select", std::to_string(opts->select)});
        if (!opts->view.empty())
            args.insert(args.end(), {"--view", opts->view});
        if (!opts->search.empty())
            args.insert(args.end(), {"--search", opts->search});
        args.push_back(opts->file);
        std::vector<char *> argv;
        for (std::string &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        std::cout.flush();
        // The app takes this process's place: its exit code is the command's.
        execv(argv[0], argv.data());
        std::cerr << "tapedeck: cannot run " << gui->string() << ": " << std::strerror(errno) << "\n";
        commandExitCode() = kExitCannotOpen;
    });
}

} // namespace tapedeck::cli
