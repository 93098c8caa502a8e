// The branch tree of a tape's runs (`tapedeck info`, `tapedeck dump`): each fork under the
// branch it was forked from, with where (after which step, at which), when, what edit
// made it and which threads it holds.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <ostream>

namespace tapedeck::cli {

// Nothing for a tape without forks. Each line starts with `indent`.
void printBranchTree(const formats::TapeSummary &summary, std::ostream &out, const std::string &indent);
// Every branch, in id order: {"id", "run", "parent", "fork_step", "description", "created_us", "threads"}.
nlohmann::json branchTreeJson(const formats::TapeSummary &summary);

} // namespace tapedeck::cli
