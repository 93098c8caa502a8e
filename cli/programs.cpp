#include "programs.h"

#include <unistd.h>

namespace fs = std::filesystem;

namespace tapedeck::cli {

fs::path selfDirectory()
{
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(".") : self.parent_path();
}

std::optional<fs::path> findProgram(const std::string &override, const char *name, const char *buildDir)
{
    std::error_code ec;
    if (!override.empty())
        return fs::is_regular_file(override, ec) ? std::optional(fs::absolute(override)) : std::nullopt;
    const fs::path dir = selfDirectory();
    for (const fs::path &candidate : {dir / name, dir.parent_path() / buildDir / name}) {
        if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

} // namespace tapedeck::cli
