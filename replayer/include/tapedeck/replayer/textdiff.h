// A unified diff of two texts (libdtl): what a divergence report, `tapedeck diff` and the
// app's diff view show of a part that changed.
#pragma once

#include <string>

namespace tapedeck::replayer {

// Line by line, with `context` lines around each change; at most ~40 lines, "..." when
// cut; empty when the texts are equal.
std::string unifiedDiff(const std::string &recorded, const std::string &incoming, int context = 3);

} // namespace tapedeck::replayer
