// Shared by the GUI suites: the kernel session written once into a temporary tape, and its
// index loaded the way the app loads it.
#pragma once

#include "tapeindex.h"

#include <tapedeck/samples/kernelsession.h>

#include <QString>
#include <QTemporaryDir>

namespace tapedeck::gui::test {

// Writes the 35-hour sample session (scale 1, seed 1) to `path`; "" on success, else why not.
inline std::string writeKernelSessionTape(const std::string &path, double scale = 1.0)
{
    auto writer = formats::TapeWriter::create(path, formats::WriterOptions{.overwrite = true});
    if (!writer)
        return writer.error().message;
    samples::KernelSessionOptions options;
    options.scale = scale;
    auto stats = samples::writeKernelSession(**writer, options);
    return stats ? std::string() : stats.error().message;
}

inline std::shared_ptr<const TapeIndex> loadIndex(const std::string &path, std::string *error = nullptr)
{
    auto reader = formats::TapeReader::open(path);
    if (!reader) {
        if (error)
            *error = reader.error().message;
        return nullptr;
    }
    auto index = TapeIndex::load(**reader);
    if (!index) {
        if (error)
            *error = index.error().message;
        return nullptr;
    }
    return *index;
}

} // namespace tapedeck::gui::test
