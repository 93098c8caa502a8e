// Finding a file's format and handing it to its importer.
#include "formatimporters.h"
#include "lenientjson.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tapedeck::formats {

using nlohmann::json;
using namespace import;

namespace {

struct FormatEntry {
    ImportFormat format;
    const char *name;
    const char *description;
    bool (*looksLike)(const Sniff &);
    Status (*run)(ImportSource &, TrajectoryBuilder &);
};

bool looksLikeJsonl(const Sniff &sniff)
{
    return stringMember(sniff.firstLine, "format") == "tapedeck-jsonl";
}

// In the order detection tries them: the formats with a clear mark first, plain message
// lists (which any chat-shaped JSON resembles) last.
const std::array<FormatEntry, 8> kFormats = {{
    {ImportFormat::Jsonl, "jsonl", "Tapedeck JSONL interchange (tapedeck export --jsonl)",
     looksLikeJsonl, nullptr},
    {ImportFormat::ClaudeCode, "claude-code",
     "Claude Code session JSONL (~/.claude/projects/<project>/<session>.jsonl)",
     looksLikeClaudeCode, importClaudeCode},
    {ImportFormat::Codex, "codex", "Codex CLI rollout JSONL (~/.codex/sessions/.../rollout-*.jsonl)",
     looksLikeCodex, importCodex},
    {ImportFormat::Inspect, "inspect", "Inspect AI eval log (.json, or .eval zip)",
     looksLikeInspect, importInspect},
    {ImportFormat::MiniSweAgent, "mini-swe-agent", "mini-swe-agent trajectory (*.traj.json)",
     looksLikeMiniSweAgent, importMiniSweAgent},
    {ImportFormat::SweAgent, "swe-agent", "SWE-agent trajectory (*.traj, 0.x and 1.x)",
     looksLikeSweAgent, importSweAgent},
    {ImportFormat::OpenHands, "openhands",
     "OpenHands trajectory (exported event list, or evaluation output.jsonl)", looksLikeOpenHands,
     importOpenHands},
    {ImportFormat::OpenAIMessages, "openai-messages",
     "OpenAI-format message lists, JSON or JSONL (tau-bench and similar)", looksLikeOpenAIMessages,
     importOpenAIMessages},
}};

const FormatEntry &entryOf(ImportFormat format)
{
    return *std::find_if(kFormats.begin(), kFormats.end(),
                         [&](const FormatEntry &e) { return e.format == format; });
}

Sniff sniffOf(std::string_view head)
{
    Sniff sniff;
    sniff.head = head;
    sniff.zip = head.substr(0, 4) == std::string_view("PK\3\4", 4);
    const size_t first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    if (first != std::string_view::npos)
        sniff.firstChar = head[first];
    const size_t lineEnd = head.find('\n', first == std::string_view::npos ? 0 : first);
    if (first != std::string_view::npos && lineEnd != std::string_view::npos)
        sniff.firstLine = json::parse(head.substr(first, lineEnd - first), nullptr, false);
    else if (first != std::string_view::npos)
        sniff.firstLine = json::parse(head.substr(first), nullptr, false);
    else
        sniff.firstLine = json(json::value_t::discarded);
    return sniff;
}

Result<ImportReport> importFrom(ImportSource &source, std::optional<ImportFormat> format,
                                std::string_view head, TapeWriter &writer)
{
    if (!format) {
        auto found = detectImportFormat(head, source.name());
        if (!found)
            return found.error();
        format = *found;
    }
    ImportReport report;
    report.format = *format;
    if (*format == ImportFormat::Jsonl) {
        auto stats = importJsonl(source.stream(), writer, source.name());
        if (!stats)
            return stats.error();
        report.stats = *stats;
        source.progressAt(source.size());
    } else {
        TrajectoryBuilder builder(writer, report, source);
        if (Status s = entryOf(*format).run(source, builder); !s)
            return s.error();
        if (Status s = builder.finish(); !s)
            return s.error();
        if (report.stats.steps == 0 && report.stats.runs == 0)
            return Error{ErrorCode::Parse, source.name() + ": nothing to import as " +
                                               importFormatName(*format)};
    }
    // A writer with a commitInterval holds the last appends: a failure to commit them is
    // the import's.
    if (Status s = writer.commit(); !s)
        return s.error();
    return report;
}

// The first bytes of a stream, read so that the importer still sees the whole stream.
std::string readHead(std::istream &in)
{
    std::string head(kDetectBytes, '\0');
    in.read(head.data(), std::streamsize(head.size()));
    head.resize(size_t(in.gcount()));
    return head;
}

} // namespace

const char *importFormatName(ImportFormat format)
{
    return entryOf(format).name;
}

std::optional<ImportFormat> importFormatFromName(std::string_view name)
{
    for (const FormatEntry &e : kFormats) {
        if (name == e.name)
            return e.format;
    }
    return std::nullopt;
}

const std::vector<ImportFormat> &importFormats()
{
    static const std::vector<ImportFormat> all = [] {
        std::vector<ImportFormat> out;
        for (const FormatEntry &e : kFormats)
            out.push_back(e.format);
        return out;
    }();
    return all;
}

const char *importFormatDescription(ImportFormat format)
{
    return entryOf(format).description;
}

Result<ImportFormat> detectImportFormat(std::string_view head, const std::string &sourceName)
{
    const Sniff sniff = sniffOf(head);
    for (const FormatEntry &e : kFormats) {
        if (e.looksLike(sniff))
            return e.format;
    }
    if (sniff.firstChar == 0)
        return Error{ErrorCode::Parse, sourceName + ": the file is empty"};
    std::string names;
    for (const FormatEntry &e : kFormats)
        names += names.empty() ? e.name : std::string(", ") + e.name;
    return Error{ErrorCode::Parse, sourceName + ": not a format Tapedeck imports (tried " + names +
                                       "; name one with --format)"};
}

Result<ImportReport> importFile(const std::string &path, std::optional<ImportFormat> format,
                                TapeWriter &writer, const ImportOptions &options)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return Error{ErrorCode::Io, path + ": is a directory, not a file"};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error{ErrorCode::Io, path + ": cannot read"};
    const auto size = std::filesystem::file_size(path, ec);
    const std::string head = readHead(in);
    in.clear();
    in.seekg(0);
    ImportSource source(in, path, path, ec ? 0 : int64_t(size), options);
    return importFrom(source, format, head, writer);
}

Result<ImportReport> importStream(std::istream &in, const std::string &sourceName, int64_t size,
                                  std::optional<ImportFormat> format, TapeWriter &writer,
                                  const ImportOptions &options)
{
    // A stream cannot be rewound: what detection read is put back in front of the rest.
    const std::string head = readHead(in);
    std::stringstream rest;
    rest << head;
    if (in.rdbuf() && !in.eof())
        rest << in.rdbuf();
    ImportSource source(rest, sourceName, {}, size, options);
    return importFrom(source, format, head, writer);
}

} // namespace tapedeck::formats
