// The file tools: read_file, write_file, edit_file and list_dir.
//
// A relative path is taken relative to the working directory, an absolute one as it is.
// Every failure (a missing file, a directory where a file was expected, an edit that does
// not match exactly once) is an error result whose text names the path and the reason,
// so that the model can act on it.
#pragma once

#include "toolresult.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace tapedeck::agent {

// The longest text read_file returns at once; the model pages through bigger files with
// offset and limit.
inline constexpr size_t kReadFileCap = 256 * 1024;

// Lines offset.. (1-based) of the file, at most `limit` of them (0: to the end).
ToolResult readFile(const std::filesystem::path &workdir, const std::string &path, int64_t offset,
                    int64_t limit);
// Creates or replaces the file, and the directories leading to it.
ToolResult writeFile(const std::filesystem::path &workdir, const std::string &path,
                     const std::string &content);
// Replaces old_string by new_string; fails unless old_string occurs exactly once, and says
// how many times it occurs.
ToolResult editFile(const std::filesystem::path &workdir, const std::string &path,
                    const std::string &oldString, const std::string &newString);
// The entries of a directory, sorted: "name/" for directories, "name (N bytes)" for files.
ToolResult listDir(const std::filesystem::path &workdir, const std::string &path);

} // namespace tapedeck::agent
