// Normalised tool-call arguments, so that the same call made twice compares equal: keys
// sorted (as the store writes JSON), runs of white space in strings folded to one space,
// ends trimmed. The loose form also cuts every multi-line string to its first line: a
// heredoc or an edit body retried with other content ("cat > t.py << EOF", "edit 287:295")
// is still the same move.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tapedeck::analysis {

std::string exactCallKey(const std::string &tool, const nlohmann::json &arguments);
std::string looseCallKey(const std::string &tool, const nlohmann::json &arguments);
// "tool {args}" shortened to about `width` characters: a lone string argument (a shell
// command) is shown bare.
std::string callLabel(const std::string &tool, const nlohmann::json &arguments, size_t width = 72);

} // namespace tapedeck::analysis
