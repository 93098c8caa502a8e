// How two normalised requests of one API differ, part by part: the system prompt, the tool
// list, each message, each tool output, each parameter. What a divergence report shows.
#pragma once

#include <tapedeck/formats/wire.h>
#include <tapedeck/replayer/textdiff.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tapedeck::replayer {

struct PartDifference {
    enum class Kind { Model, System, Tools, Message, ToolOutput, Parameter, MessageCount };
    Kind kind = Kind::Parameter;
    // A readable name: "system prompt", "tools", "message 3 (user)", "tool output of
    // call#2 (message 5)", "parameter temperature", "model", "message count".
    std::string where;
    int messageIndex = -1;             // Message and ToolOutput: 0-based index, else -1
    std::string recorded;              // the recorded part as readable text (pretty JSON or
    std::string incoming;              // the text itself); empty when absent on that side
    std::string diff;                  // unified diff of recorded -> incoming (libdtl), at
                                       // most ~40 lines, "..." when cut
};

struct RequestComparison {
    std::vector<PartDifference> differences; // in request order; empty: the same
    bool same() const { return differences.empty(); }
    // Every difference is a tool output: the environment changed, not the agent.
    bool onlyToolOutputs() const;
    // 0..1, how much of the two requests agrees (parts equal / parts compared), for
    // ranking the nearest recorded candidates.
    double similarity = 1.0;
};

// Both bodies are MatchRules::normalise() output for `api`.
RequestComparison compareRequests(formats::wire::Api api, const nlohmann::json &recorded,
                                  const nlohmann::json &incoming);


} // namespace tapedeck::replayer
