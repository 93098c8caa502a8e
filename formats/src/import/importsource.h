// What an importer reads from: the input stream with its name, its size and progress, and
// the ways the formats are laid out (JSON lines, one JSON document, a top-level array read
// one element at a time).
#pragma once

#include "tapedeck/formats/importers.h"

#include <nlohmann/json.hpp>

#include <istream>
#include <string>
#include <string_view>

namespace tapedeck::formats::import {

class ImportSource {
public:
    ImportSource(std::istream &in, std::string name, std::string path, int64_t size,
                 const ImportOptions &options);

    std::istream &stream() { return m_in; }
    const std::string &name() const { return m_name; }
    // The file's path; empty when reading a stream such as stdin.
    const std::string &path() const { return m_path; }
    int64_t size() const { return m_size; }

    // Tells the caller's progress callback how far the input has been read; cheap enough
    // to call per record (it reports at most every 256 KiB).
    void progressAt(int64_t bytesRead);

    // An Error of code Parse: "NAME:LINE: what" (or "NAME: what" when line is 0).
    Error parseError(int64_t line, const std::string &what) const;
    std::string where(int64_t line) const;

    // Reads the whole input as one JSON document. A syntax error names the line and column.
    Result<nlohmann::json> readDocument();

private:
    std::istream &m_in;
    std::string m_name;
    std::string m_path;
    int64_t m_size = 0;
    const ImportOptions &m_options;
    int64_t m_lastReported = -1;
};

// Reads the input a line at a time (for JSON lines formats); memory is bounded by the
// longest line. Blank lines are skipped; "\r\n" ends are accepted.
class LineReader {
public:
    explicit LineReader(ImportSource &source) : m_source(source) {}
    // The next non-blank line, or false at the end of the input.
    bool next(std::string_view &line);
    // The 1-based number of the line next() returned last.
    int64_t lineNumber() const { return m_lineNumber; }
    // Parses the current line; on failure returns a discarded value and, in `problem`,
    // what was wrong ("not JSON: ..."), for the report of skipped lines.
    nlohmann::json parseLine(std::string_view line, std::string &problem) const;

private:
    ImportSource &m_source;
    std::string m_buffer;
    int64_t m_lineNumber = 0;
    int64_t m_bytesRead = 0;
};

// Calls `visit` with each element of the input's top-level JSON array as soon as it is
// parsed, so memory is bounded by the largest element rather than the file. `visit`
// returning an error stops the reading and that error is returned. With `damage`, JSON
// that is cut short or damaged after a complete element ends the reading without an
// error: what is wrong goes there (the elements before it were visited).
Status forEachArrayElement(ImportSource &source,
                           const std::function<Status(nlohmann::json &&element, int64_t index)> &visit,
                           std::string *damage = nullptr);

// The 1-based line and column of a byte offset in `text`: "line 3, column 17".
std::string lineAndColumn(std::string_view text, size_t offset);

} // namespace tapedeck::formats::import
