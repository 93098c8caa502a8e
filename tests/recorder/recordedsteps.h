// What the recorder's suites share besides the proxy process: a model script written to a
// file, and the steps a tape holds.
#pragma once

#include <tapedeck/formats/tape.h>

#include <QString>

#include <fstream>
#include <string>
#include <vector>

namespace tapedeck::testutil {

inline void writeScript(const QString &path, const std::vector<std::string> &lines)
{
    std::ofstream out(path.toStdString());
    for (const std::string &line : lines)
        out << line << "\n";
}

// Every step of the tape, in order; none when it cannot be opened.
inline std::vector<formats::Step> allSteps(const QString &tape)
{
    std::vector<formats::Step> steps;
    auto reader = formats::TapeReader::open(tape.toStdString());
    if (!reader)
        return steps;
    (void)(*reader)->forEachStep([&](const formats::Step &s) {
        steps.push_back(s);
        return true;
    });
    return steps;
}

} // namespace tapedeck::testutil
