// The environment an agent is started with so that its model API calls go to a local
// server (the recorder, the replay server): every usual spelling of each provider's base
// URL, pointing at `base`.
#pragma once

#include <map>
#include <string>

namespace tapedeck::cli {

std::map<std::string, std::string> baseUrlEnvironment(const std::string &base);

// "HOST:PORT" (port 0: any free one); false when it is not that.
bool parseListenAddress(const std::string &listen, std::string &host, int &port);

} // namespace tapedeck::cli
