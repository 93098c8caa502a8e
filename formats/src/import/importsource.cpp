#include "importsource.h"

#include <algorithm>
#include <iterator>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

constexpr int64_t kProgressEvery = 256 << 10;

// Where `text` stops being JSON, as the 1-based byte offset the parser reports; 0 when it
// does not say. Parses a second time, which only a malformed record pays for.
size_t syntaxErrorOffset(std::string_view text)
{
    try {
        json ignored = json::parse(text);
        (void)ignored;
    } catch (const json::parse_error &e) {
        return e.byte;
    } catch (const std::exception &) {
    }
    return 0;
}

} // namespace

ImportSource::ImportSource(std::istream &in, std::string name, std::string path, int64_t size,
                           const ImportOptions &options)
    : m_in(in), m_name(std::move(name)), m_path(std::move(path)), m_size(size), m_options(options)
{
}

void ImportSource::progressAt(int64_t bytesRead)
{
    if (!m_options.progress)
        return;
    if (m_lastReported >= 0 && bytesRead - m_lastReported < kProgressEvery &&
        bytesRead != m_size)
        return;
    m_lastReported = bytesRead;
    m_options.progress(bytesRead, m_size);
}

std::string ImportSource::where(int64_t line) const
{
    return line > 0 ? m_name + ":" + std::to_string(line) : m_name;
}

Error ImportSource::parseError(int64_t line, const std::string &what) const
{
    return Error{ErrorCode::Parse, where(line) + ": " + what};
}

std::string lineAndColumn(std::string_view text, size_t offset)
{
    offset = std::min(offset, text.size());
    const std::string_view before = text.substr(0, offset);
    const int64_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t lineStart = before.rfind('\n');
    const size_t column = lineStart == std::string_view::npos ? offset + 1 : offset - lineStart;
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Result<json> ImportSource::readDocument()
{
    std::string text(std::istreambuf_iterator<char>(m_in), {});
    progressAt(int64_t(text.size()));
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_discarded())
        return doc;
    if (const size_t at = syntaxErrorOffset(text); at > 0)
        return Error{ErrorCode::Parse, m_name + ": not valid JSON at " + lineAndColumn(text, at - 1)};
    return Error{ErrorCode::Parse, m_name + ": not valid JSON"};
}

bool LineReader::next(std::string_view &line)
{
    std::istream &in = m_source.stream();
    while (std::getline(in, m_buffer)) {
        ++m_lineNumber;
        m_bytesRead += int64_t(m_buffer.size()) + 1;
        m_source.progressAt(m_bytesRead);
        std::string_view view = m_buffer;
        if (!view.empty() && view.back() == '\r')
            view.remove_suffix(1);
        if (view.find_first_not_of(" \t") == std::string_view::npos)
            continue;
        line = view;
        return true;
    }
    m_source.progressAt(m_source.size() ? m_source.size() : m_bytesRead);
    return false;
}

json LineReader::parseLine(std::string_view line, std::string &problem) const
{
    json value = json::parse(line, nullptr, false);
    if (value.is_discarded()) {
        const size_t at = syntaxErrorOffset(line);
        problem = at > 0 ? "not valid JSON at column " + std::to_string(at) : "not valid JSON";
    }
    return value;
}

namespace {

// Thrown from the parser callback to stop reading with the visitor's error; caught below,
// never leaves this file.
struct StopReading {
    Error error;
};

} // namespace

Status forEachArrayElement(ImportSource &source,
                           const std::function<Status(json &&element, int64_t index)> &visit,
                           std::string *damage)
{
    std::istream &in = source.stream();
    int64_t index = 0;
    bool topIsArray = false;
    auto callback = [&](int depth, json::parse_event_t event, json &parsed) -> bool {
        if (depth == 0 && event == json::parse_event_t::array_start)
            topIsArray = true;
        if (depth == 0 && event == json::parse_event_t::object_start && !topIsArray)
            throw StopReading{source.parseError(0, "expected a JSON array at the top level, found an object")};
        // An element of the top-level array is complete: hand it over and drop it from
        // the array being built, so that memory holds one element at a time.
        if (depth == 1 && topIsArray &&
            (event == json::parse_event_t::object_end || event == json::parse_event_t::array_end ||
             event == json::parse_event_t::value)) {
            const std::streamoff at = in.tellg();
            if (at > 0)
                source.progressAt(int64_t(at));
            if (Status s = visit(std::move(parsed), index++); !s)
                throw StopReading{s.error()};
            return false;
        }
        return true;
    };
    try {
        json emptied = json::parse(in, callback); // every element was handed over and dropped
        (void)emptied;
    } catch (const StopReading &stop) {
        return stop.error;
    } catch (const json::parse_error &e) {
        const std::string what = "not valid JSON at byte " + std::to_string(e.byte);
        if (damage && index > 0) {
            *damage = what + " (the file is cut short or damaged; the " + std::to_string(index) +
                      " complete elements before it were read)";
            source.progressAt(source.size());
            return {};
        }
        return source.parseError(0, what + " (after " + std::to_string(index) + " complete elements)");
    } catch (const std::exception &e) {
        return source.parseError(0, e.what());
    }
    source.progressAt(source.size());
    return {};
}

} // namespace tapedeck::formats::import
