#include "filetools.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <variant>
#include <vector>

namespace tapedeck::agent {

namespace fs = std::filesystem;

namespace {

fs::path resolve(const fs::path &workdir, const std::string &path)
{
    const fs::path p(path);
    return p.is_absolute() ? p : workdir / p;
}

ToolResult failure(const char *tool, const std::string &path, const std::string &why)
{
    std::string text = tool;
    text.append(": ").append(path).append(": ").append(why);
    return ToolResult::error(std::move(text));
}

// The whole file, or an error result naming why it cannot be read.
std::variant<std::string, ToolResult> slurp(const char *tool, const fs::path &file,
                                            const std::string &shown)
{
    std::error_code ec;
    if (fs::is_directory(file, ec))
        return failure(tool, shown, "is a directory (list_dir lists directories)");
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return failure(tool, shown, std::strerror(errno));
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad())
        return failure(tool, shown, "read error");
    return content.str();
}

size_t countOccurrences(const std::string &haystack, const std::string &needle)
{
    size_t count = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size()))
        ++count;
    return count;
}

std::string plural(size_t n, const char *one, const char *many)
{
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

} // namespace

ToolResult readFile(const fs::path &workdir, const std::string &path, int64_t offset, int64_t limit)
{
    auto content = slurp("read_file", resolve(workdir, path), path);
    if (auto *error = std::get_if<ToolResult>(&content))
        return *error;
    const std::string &text = std::get<std::string>(content);
    if (text.empty())
        return ToolResult::ok("(empty file)");

    size_t begin = 0;
    for (int64_t line = 1; line < offset && begin < text.size(); ++line) {
        const size_t nl = text.find('\n', begin);
        begin = nl == std::string::npos ? text.size() : nl + 1;
    }
    if (begin >= text.size())
        return failure("read_file", path,
                       "offset " + std::to_string(offset) + " is past the end of the file");
    size_t end = text.size();
    if (limit > 0) {
        size_t at = begin;
        for (int64_t n = 0; n < limit && at < text.size(); ++n) {
            const size_t nl = text.find('\n', at);
            at = nl == std::string::npos ? text.size() : nl + 1;
        }
        end = at;
    }
    std::string out = text.substr(begin, std::min(end - begin, kReadFileCap));
    if (end - begin > kReadFileCap)
        out.append("\n[... truncated at ")
            .append(std::to_string(kReadFileCap))
            .append(" bytes; read further with offset and limit ...]");
    return ToolResult::ok(std::move(out));
}

ToolResult writeFile(const fs::path &workdir, const std::string &path, const std::string &content)
{
    const fs::path file = resolve(workdir, path);
    std::error_code ec;
    if (file.has_parent_path()) {
        fs::create_directories(file.parent_path(), ec);
        if (ec)
            return failure("write_file", path, "cannot create its directory: " + ec.message());
    }
    if (fs::is_directory(file, ec))
        return failure("write_file", path, "is a directory");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out)
        return failure("write_file", path, std::strerror(errno));
    out << content;
    out.close();
    if (!out)
        return failure("write_file", path, "write error");
    return ToolResult::ok("wrote " + plural(content.size(), "byte", "bytes") + " to " + path);
}

ToolResult editFile(const fs::path &workdir, const std::string &path, const std::string &oldString,
                    const std::string &newString)
{
    if (oldString.empty())
        return failure("edit_file", path,
                       "old_string is empty; it must be text that occurs in the file");
    if (oldString == newString)
        return failure("edit_file", path,
                       "old_string and new_string are the same; nothing to change");
    const fs::path file = resolve(workdir, path);
    auto content = slurp("edit_file", file, path);
    if (auto *error = std::get_if<ToolResult>(&content))
        return *error;
    std::string text = std::move(std::get<std::string>(content));
    const size_t count = countOccurrences(text, oldString);
    if (count == 0)
        return failure("edit_file", path,
                       "old_string does not occur in the file; it must occur exactly once");
    if (count > 1)
        return failure("edit_file", path,
                       "old_string occurs " + std::to_string(count) +
                           " times in the file; it must occur exactly once (include more of the "
                           "surrounding text to pick one)");
    text.replace(text.find(oldString), oldString.size(), newString);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        return failure("edit_file", path, "write error");
    return ToolResult::ok("replaced 1 occurrence in " + path);
}

ToolResult listDir(const fs::path &workdir, const std::string &path)
{
    const fs::path dir = resolve(workdir, path.empty() ? std::string(".") : path);
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec)
        return failure("list_dir", path, ec.message());
    std::vector<std::string> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec)
            return failure("list_dir", path, ec.message());
        const fs::directory_entry &entry = *it;
        std::string name = entry.path().filename().string();
        std::error_code statError;
        if (entry.is_symlink(statError))
            name.append(" -> ").append(fs::read_symlink(entry.path(), statError).string());
        else if (entry.is_directory(statError))
            name.push_back('/');
        else if (entry.is_regular_file(statError))
            name.append(" (")
                .append(plural(entry.file_size(statError), "byte", "bytes"))
                .append(")");
        entries.push_back(std::move(name));
    }
    if (entries.empty())
        return ToolResult::ok("(empty directory)");
    std::sort(entries.begin(), entries.end());
    std::string out;
    for (const std::string &entry : entries)
        out.append(entry).push_back('\n');
    return ToolResult::ok(std::move(out));
}

} // namespace tapedeck::agent
