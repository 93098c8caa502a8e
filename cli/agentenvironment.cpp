#include "agentenvironment.h"

#include <exception>

namespace tapedeck::cli {

std::map<std::string, std::string> baseUrlEnvironment(const std::string &base)
{
    return {
        {"OPENAI_BASE_URL", base + "/v1"},
        {"OPENAI_API_BASE", base + "/v1"},
        {"ANTHROPIC_BASE_URL", base},
        {"GOOGLE_GEMINI_BASE_URL", base},
        {"GEMINI_BASE_URL", base},
    };
}

bool parseListenAddress(const std::string &listen, std::string &host, int &port)
{
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos)
        return false;
    host = listen.substr(0, colon);
    try {
        size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        return used == listen.size() - colon - 1 && port >= 0 && port <= 65535 && !host.empty();
    } catch (const std::exception &) {
        return false;
    }
}

} // namespace tapedeck::cli
