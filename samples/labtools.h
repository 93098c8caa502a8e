// What the sub-agents' tools print (the profiler, pytest) and the reports they hand back.
#pragma once

#include "random.h"
#include "workspace.h"

#include <string>

namespace tapedeck::samples {

// ppu-prof's summary sections for one workload of the current kernel: speed of light,
// occupancy, warp stalls. The numbers follow what the kernel has (padded or swizzled shared
// memory, synchronous or pipelined loads, split-KV or not).
void appendProfile(std::string &out, const Workspace &workspace, size_t workload, Random &rng);
// ppu-prof --section SourceCounters: the source lines the stalls are attributed to.
void appendSourceCounters(std::string &out, const Workspace &workspace, Random &rng);
// pytest -q on the edge-case tests; `failing` tests fail (0: all pass).
void appendPytest(std::string &out, int failing, int total, Random &rng);

// The final answers of the sub-agents, which the main agent receives as the task result.
std::string profilerReport(const Workspace &workspace, Random &rng);
std::string testWriterReport(const Workspace &workspace, bool foundBug, Random &rng);

} // namespace tapedeck::samples
