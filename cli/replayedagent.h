// Runs an agent against a replay server (`tapedeck replay`, `tapedeck fork`): started with
// its base URLs pointing at the server, and stopped when a divergence stops the replay:
// SIGTERM, then SIGKILL if it has not ended within a few seconds (an agent that traps
// SIGTERM and retries the refused request would otherwise go on for ever).
#pragma once

#include "childprocess.h"

#include <tapedeck/replayer/replayer.h>

#include <map>
#include <string>
#include <vector>

namespace tapedeck::cli {

// Also calls `onStopped` (from a server thread) when a divergence stops the replay.
ChildResult runAgentAgainstReplay(replayer::ReplayServer &server, const std::vector<std::string> &command,
                                  const std::map<std::string, std::string> &extraEnvironment,
                                  std::function<void()> onStopped = {});

} // namespace tapedeck::cli
