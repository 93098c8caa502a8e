// Starting the desktop app (tapedeck-gui) from the command line: `tapedeck view` and the
// end of `tapedeck demo`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::cli {

// True when a window can be shown: $DISPLAY or $WAYLAND_DISPLAY is set, or $QT_QPA_PLATFORM
// names a platform that shows windows (not "offscreen" or "minimal").
bool hasDisplay();

// tapedeck-gui beside this tapedeck or in the build tree; `override` (a path) wins.
std::optional<std::filesystem::path> findGui(const std::string &override = {});

// Starts tapedeck-gui with `args` and does not wait for it: the window outlives the
// command that opened it. Returns why it could not start, or "".
std::string startGuiDetached(const std::filesystem::path &gui, const std::vector<std::string> &args);

} // namespace tapedeck::cli
