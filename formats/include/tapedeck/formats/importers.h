// Importers: trajectories that other agents and harnesses already wrote, turned into the
// runs, threads and steps of a tape (formats/FORMAT.md, "Imported formats").
//
// Each importer keeps what its format has (timestamps, usage, errors, the model's
// reasoning) and links each tool call to its result. Nothing is invented: a step whose
// time the format does not give has time 0. Records an importer cannot read are skipped
// and named in ImportReport::skipped; a file with nothing readable is an Error.
#pragma once

#include <tapedeck/formats/tape.h>

#include <chrono>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats {

enum class ImportFormat {
    Jsonl,          // Tapedeck's own JSONL interchange
    ClaudeCode,     // Claude Code session JSONL (~/.claude/projects/...)
    Codex,          // Codex CLI rollout JSONL (~/.codex/sessions/...)
    SweAgent,       // SWE-agent .traj, 0.x and 1.x
    MiniSweAgent,   // mini-swe-agent trajectory, formats 1 and 1.1
    OpenHands,      // OpenHands exported event list, or evaluation output.jsonl
    Inspect,        // Inspect AI eval log, .json or .eval (zip)
    OpenAIMessages, // plain OpenAI-format message lists, JSON or JSONL (tau-bench)
};

// "jsonl", "claude-code", "codex", "swe-agent", "mini-swe-agent", "openhands", "inspect",
// "openai-messages".
const char *importFormatName(ImportFormat format);
std::optional<ImportFormat> importFormatFromName(std::string_view name);
// Every format, in the order detection tries them.
const std::vector<ImportFormat> &importFormats();
// One line for --help: what the format is and where it is found.
const char *importFormatDescription(ImportFormat format);

// Finds the format from the start of a file's content (`head`: its first bytes, at most
// kDetectBytes). A Parse error, naming `sourceName`, when no importer knows the content.
inline constexpr size_t kDetectBytes = 1 << 20;
Result<ImportFormat> detectImportFormat(std::string_view head, const std::string &sourceName);

// The WriterOptions::commitInterval of an import into a file of its own (`tapedeck import`,
// the desktop app's import): the file is renamed into place once the import is done.
inline constexpr std::chrono::milliseconds kImportCommitInterval{500};

struct ImportOptions {
    // Called now and then with the bytes of input read so far and the total (0 when the
    // size is not known, as for stdin).
    std::function<void(int64_t done, int64_t total)> progress;
};

struct ImportReport {
    ImportFormat format = ImportFormat::Jsonl;
    ImportStats stats;
    std::vector<std::string> skipped; // "file:line: what was skipped and why"
};

// Imports one file into the writer's tape; `format` empty means detect it. Files that
// belong to the one given are read too where the format keeps them apart (a Claude Code
// session's sub-agent files). What the writer holds uncommitted (its commitInterval) is
// committed before this returns.
Result<ImportReport> importFile(const std::string &path, std::optional<ImportFormat> format,
                                TapeWriter &writer, const ImportOptions &options = {});

// The same from a stream (stdin): `sourceName` names it in messages, `size` is its length
// when known (for progress), 0 otherwise.
Result<ImportReport> importStream(std::istream &in, const std::string &sourceName, int64_t size,
                                  std::optional<ImportFormat> format, TapeWriter &writer,
                                  const ImportOptions &options = {});

} // namespace tapedeck::formats
