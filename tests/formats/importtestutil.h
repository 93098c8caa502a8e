// Helpers of the importer suites: import a file into a fresh tape in a temporary folder
// and read it back; the real trajectories under ../shared/data/real; damaged copies.
#pragma once

#include "tapedeck/formats/importers.h"
#include "tapedeck/formats/tape.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
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


// What the importer suites share: reports as text, files as lines, damaged copies.

inline std::string joined(const std::vector<std::string> &lines)
{
    std::string out;
    for (const std::string &line : lines)
        out += line + "\n";
    return out;
}

// Replaces what is at a random path inside the record with a value of a random type.
inline void replaceSomewhere(nlohmann::json &value, Rng &rng)
{
    nlohmann::json *at = &value;
    while (at->is_structured() && !at->empty() && rng.between(0, 3) != 0) {
        auto it = at->begin();
        std::advance(it, rng.between(0, int64_t(at->size()) - 1));
        at = &*it;
    }
    static const nlohmann::json kValues[] = {nullptr, 42, -1.5, "text", nlohmann::json::array(), nlohmann::json::object(), true};
    *at = kValues[rng.between(0, 6)];
}

// A copy of the lines damaged in one of the ways files get damaged: a record's member of
// another type, a line cut short, lost, repeated or out of place.
inline std::string damagedCopy(const std::vector<std::string> &lines, Rng &rng)
{
    std::vector<std::string> out = lines;
    for (int n = int(rng.between(1, 3)); n > 0; --n) {
        const size_t i = size_t(rng.between(0, int64_t(out.size()) - 1));
        switch (rng.between(0, 4)) {
        case 0: {
            nlohmann::json record = nlohmann::json::parse(out[i], nullptr, false);
            if (record.is_discarded())
                break;
            replaceSomewhere(record, rng);
            out[i] = record.dump();
            break;
        }
        case 1:
            out[i] = out[i].substr(0, size_t(rng.between(0, int64_t(out[i].size()))));
            break;
        case 2:
            out.erase(out.begin() + std::ptrdiff_t(i));
            break;
        case 3:
            out.insert(out.begin() + std::ptrdiff_t(i), out[i]);
            break;
        default:
            std::swap(out[i], out[size_t(rng.between(0, int64_t(out.size()) - 1))]);
        }
        if (out.empty())
            break;
    }
    return joined(out);
}

inline std::vector<std::string> linesOf(const std::string &path)
{
    std::istringstream in(readAll(path));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

inline std::string headOf(const std::string &path)
{
    std::string bytes = readAll(path);
    return bytes.substr(0, std::min(bytes.size(), formats::kDetectBytes));
}

inline std::string errorText(const Imported &imported)
{
    return imported.report ? std::string() : imported.report.error().message;
}

inline std::string skippedText(const formats::ImportReport &report)
{
    return std::accumulate(report.skipped.begin(), report.skipped.end(), std::string(),
                           [](std::string all, const std::string &s) { return all + s + "\n"; });
}

inline const formats::Step *byIndex(const std::vector<formats::Step> &steps, std::optional<formats::StepIndex> index)
{
    if (!index)
        return nullptr;
    for (const formats::Step &s : steps) {
        if (s.index == *index)
            return &s;
    }
    return nullptr;
}

} // namespace tapedeck::testutil
