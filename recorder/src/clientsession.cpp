#include "clientsession.h"

namespace tapedeck::recorder {

std::string clientSessionKey(const nlohmann::json &headers)
{
    // The headers real clients send to name their session, most specific first.
    static const char *const kSessionHeaders[] = {
        "x-claude-code-session-id", // Claude Code
        "session_id",               // Codex CLI
        "session-id",
        "x-session-id",
        "conversation_id",          // Codex CLI, older versions
    };
    for (const char *name : kSessionHeaders) {
        auto it = headers.find(name);
        if (it != headers.end() && it->is_string() && !it->get<std::string>().empty())
            return it->get<std::string>();
    }
    return {};
}

} // namespace tapedeck::recorder
