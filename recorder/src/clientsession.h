// Which client session a request belongs to, for `tapedeck proxy`, which records a run per
// session. Agents that name their session send it in a header on every call (Claude Code's
// x-claude-code-session-id, Codex's session_id, ...); the value is the session's key.
// Requests without one belong to the anonymous session, which the proxy splits into runs
// at long idle gaps instead.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tapedeck::recorder {

// The session key the request's headers name (lowercased names, as the proxy stores them),
// or "" when they name none.
std::string clientSessionKey(const nlohmann::json &lowercaseHeaders);

} // namespace tapedeck::recorder
