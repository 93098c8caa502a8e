// Helpers of the importer suites: import a file into a fresh tape in a temporary folder
// and read it back; the real trajectories under ../shared/data/real; damaged copies.
#pragma once

#include "tapedeck/formats/importers.h"
#include "tapedeck/formats/tape.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace tapedeck::testutil {

// A file of ../shared/data/real, e.g. realData("tau-bench/gpt-4o-airline.json").
inline std::string realData(const std::string &relative)
{
    return std::string(TAPEDECK_REAL_DATA) + "/" + relative;
}

inline std::string readAll(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void writeAll(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary) << bytes;
}

// An imported tape: the report, and a reader over what was written.
struct Imported {
    formats::Result<formats::ImportReport> report = formats::Error{formats::ErrorCode::Io, "not run"};
    std::unique_ptr<formats::TapeReader> reader;
    std::string tapePath;
};

// Imports `input` (format detected unless given) into `<dir>/<name>.tape`.
inline Imported importInto(const QTemporaryDir &dir, const std::string &input,
                           std::optional<formats::ImportFormat> format = std::nullopt,
                           const std::string &name = "imported")
{
    Imported out;
    out.tapePath = dir.filePath(QString::fromStdString(name + ".tape")).toStdString();
    formats::WriterOptions options;
    options.overwrite = true;
    {
        auto writer = formats::TapeWriter::create(out.tapePath, options);
        if (!writer) {
            out.report = writer.error();
            return out;
        }
        out.report = formats::importFile(input, format, **writer);
    }
    if (out.report) {
        auto reader = formats::TapeReader::open(out.tapePath);
        if (reader)
            out.reader = std::move(*reader);
    }
    return out;
}

// Every step of a tape, in order.
inline std::vector<formats::Step> allSteps(const formats::TapeReader &reader)
{
    std::vector<formats::Step> steps;
    (void)reader.forEachStep([&](const formats::Step &s) {
        steps.push_back(s);
        return true;
    });
    return steps;
}

inline int64_t countKind(const std::vector<formats::Step> &steps, formats::StepKind kind)
{
    return std::count_if(steps.begin(), steps.end(),
                         [&](const formats::Step &s) { return s.kind == kind; });
}

} // namespace tapedeck::testutil
