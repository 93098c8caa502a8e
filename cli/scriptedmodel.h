// The scripted model server (agent/model) run inside this process: what `tapedeck fork
// --scripted POLICY` continues against when no model API can or should be reached.
#pragma once

#include <tapedeck/formats/tape.h>

#include <memory>
#include <string>

namespace tapedeck::cli {

class ScriptedModel {
public:
    // Errors: an unknown policy, a script that does not parse, no port to listen on.
    static formats::Result<std::unique_ptr<ScriptedModel>> start(const std::string &policy,
                                                                 const std::string &scriptPath, uint64_t seed);
    ~ScriptedModel(); // stops serving
    std::string baseUrl() const; // "http://127.0.0.1:PORT"

private:
    ScriptedModel();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::cli
