// The scratch folder of the fuzz targets that write a tape per input.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace tapedeck::fuzz {

// A folder for the tape each input is imported into, removed at exit; `name` tells the
// targets' folders apart.
inline const std::string &workDir(const char *name)
{
    static const std::string dir = [name] {
        // tmpfs when there is one: each input creates or rewrites a tape, and the disk's
        // syncs would otherwise dominate the time per input.
        std::string templ = std::string("/dev/shm/tapedeck-fuzz-") + name + "-XXXXXX";
        std::string fallback = std::string("/tmp/tapedeck-fuzz-") + name + "-XXXXXX";
        const char *d = mkdtemp(templ.data());
        if (!d)
            d = mkdtemp(fallback.data());
        if (!d) {
            std::perror("mkdtemp");
            std::abort();
        }
        // Removed at exit; libFuzzer leaves through exit() when it is done or finds a crash.
        static std::string created;
        created = d;
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(created, ec);
        });
        return std::string(d);
    }();
    return dir;
}

} // namespace tapedeck::fuzz
