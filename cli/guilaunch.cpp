#include "guilaunch.h"

#include "programs.h"

#include <cerrno>
#include <fcntl.h>
#include <cstdlib>
#include <cstring>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

namespace tapedeck::cli {

bool hasDisplay()
{
    for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY"}) {
        const char *value = std::getenv(name);
        if (value && *value)
            return true;
    }
    // A Qt platform chosen by hand counts, except the ones that show nothing.
    const char *platform = std::getenv("QT_QPA_PLATFORM");
    return platform && *platform && std::strcmp(platform, "offscreen") != 0 && std::strcmp(platform, "minimal") != 0;
}

std::optional<std::filesystem::path> findGui(const std::string &override)
{
    return findProgram(override, "tapedeck-gui", "gui");
}

std::string startGuiDetached(const std::filesystem::path &gui, const std::vector<std::string> &args)
{
    std::vector<std::string> command = {gui.string()};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (std::string &a : command)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its own session: closing the terminal or pressing Ctrl-C there does not close the
    // window, and the GUI's output does not mix into what the command prints next.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &files, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? std::string() : "cannot start " + gui.string() + ": " + std::strerror(rc);
}

} // namespace tapedeck::cli
