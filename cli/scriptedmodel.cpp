#include "scriptedmodel.h"

#include <modelserver.h>
#include <policies.h>

#include <thread>

namespace tapedeck::cli {

struct ScriptedModel::Impl {
    std::unique_ptr<model::Policy> policy;
    model::RequestLog log{true}; // quiet: the fork prints its own progress
    std::unique_ptr<model::ModelServer> server;
    std::thread thread;
    int port = 0;
};

ScriptedModel::ScriptedModel() : m_impl(std::make_unique<Impl>()) {}

ScriptedModel::~ScriptedModel()
{
    if (m_impl->thread.joinable()) {
        m_impl->server->stop();
        m_impl->thread.join();
    }
}

formats::Result<std::unique_ptr<ScriptedModel>> ScriptedModel::start(const std::string &policy,
                                                                     const std::string &scriptPath, uint64_t seed)
{
    model::PolicyOptions options;
    options.scriptPath = scriptPath;
    options.seed = seed;
    formats::Result<std::unique_ptr<model::Policy>> made = model::makePolicy(policy, options);
    if (!made)
        return made.error();
    std::unique_ptr<ScriptedModel> out(new ScriptedModel());
    Impl &d = *out->m_impl;
    d.policy = std::move(*made);
    d.server = std::make_unique<model::ModelServer>(*d.policy, d.log, model::ServerOptions{});
    formats::Result<int> port = d.server->bind("127.0.0.1", 0);
    if (!port)
        return port.error();
    d.port = *port;
    d.thread = std::thread([&d] { (void)d.server->serve(); });
    return out;
}

std::string ScriptedModel::baseUrl() const { return "http://127.0.0.1:" + std::to_string(m_impl->port); }

} // namespace tapedeck::cli
