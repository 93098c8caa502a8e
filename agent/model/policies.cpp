#include "policies.h"

#include "genericpolicy.h"
#include "kerneltuner.h"
#include "scriptpolicy.h"

namespace tapedeck::model {

using formats::Error;
using formats::ErrorCode;
using formats::Result;

const std::vector<PolicyInfo> &knownPolicies()
{
    static const std::vector<PolicyInfo> policies = {
        {"script", "answers with the turns of --script FILE in order (see agent/model/SCRIPT.md)"},
        {"generic",
         "calls one of the request's tools (a shell tool first), then answers quoting its output"},
        {"kernel-tuner",
         "plays a model tuning samples/kernel-tuning's kernel, deterministic given --seed"},
    };
    return policies;
}

Result<std::unique_ptr<Policy>> makePolicy(const std::string &name, const PolicyOptions &options)
{
    if (name == "script") {
        if (options.scriptPath.empty())
            return Error{ErrorCode::InvalidArgument, "the script policy needs --script FILE"};
        auto script = readScript(options.scriptPath);
        if (!script)
            return script.error();
        return std::unique_ptr<Policy>(std::make_unique<ScriptPolicy>(std::move(*script)));
    }
    if (name == "generic")
        return std::unique_ptr<Policy>(std::make_unique<GenericPolicy>());
    if (name == "kernel-tuner")
        return std::unique_ptr<Policy>(
            std::make_unique<KernelTuner>(KernelTunerOptions{options.seed}));

    std::string known;
    for (const PolicyInfo &info : knownPolicies())
        known.append(known.empty() ? "" : ", ").append(info.name);
    return Error{ErrorCode::InvalidArgument,
                 "unknown policy \"" + name + "\" (known: " + known + ")"};
}

} // namespace tapedeck::model
