// Finding Tapedeck's other programs (tapedeck-model, tapedeck-agent, tapedeck-gui): beside
// this `tapedeck`, as an install puts them, or where the build tree puts them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tapedeck::cli {

// The directory of the running executable ("." if it cannot be told).
std::filesystem::path selfDirectory();

// `override` when given (and a file), else `name` beside this tapedeck, else
// `<build root>/<buildDir>/<name>` (buildDir is the program's folder in the build tree,
// e.g. "gui" or "agent/model"). Empty when none is an executable file.
std::optional<std::filesystem::path> findProgram(const std::string &override, const char *name,
                                                 const char *buildDir);

} // namespace tapedeck::cli
