// The importers, one per format (each in its own file), and how each knows its format.
#pragma once

#include "importsource.h"
#include "trajectorybuilder.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace tapedeck::formats::import {

// What detection looks at: the start of the content.
struct Sniff {
    std::string_view head;     // the first bytes (at most kDetectBytes)
    nlohmann::json firstLine;  // the first non-blank line as JSON; discarded when it is not
    char firstChar = 0;        // the first character that is not white space
    bool zip = false;          // starts with a zip local file header ("PK\3\4")
};

// Each returns true when the content is of its format. They are tried in the order of
// importFormats(), so a looser test may come later (plain message lists come last).
bool looksLikeClaudeCode(const Sniff &sniff);
bool looksLikeCodex(const Sniff &sniff);
bool looksLikeSweAgent(const Sniff &sniff);
bool looksLikeMiniSweAgent(const Sniff &sniff);
bool looksLikeOpenHands(const Sniff &sniff);
bool looksLikeInspect(const Sniff &sniff);
bool looksLikeOpenAIMessages(const Sniff &sniff);

// Each reads the whole source into the builder (beginRun, steps, endRun; finish() is the
// caller's). An Error stops the import: for input with nothing usable in it, or a writer
// failure; a record that cannot be read is builder.skip()ped instead.
Status importClaudeCode(ImportSource &source, TrajectoryBuilder &builder);
Status importCodex(ImportSource &source, TrajectoryBuilder &builder);
Status importSweAgent(ImportSource &source, TrajectoryBuilder &builder);
Status importMiniSweAgent(ImportSource &source, TrajectoryBuilder &builder);
Status importOpenHands(ImportSource &source, TrajectoryBuilder &builder);
Status importInspect(ImportSource &source, TrajectoryBuilder &builder);
Status importOpenAIMessages(ImportSource &source, TrajectoryBuilder &builder);

} // namespace tapedeck::formats::import
