// The policies tapedeck-model can run, by name, and what each needs to be built.
#pragma once

#include "policy.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tapedeck::model {

struct PolicyOptions {
    std::string scriptPath; // script: the script file (required)
    uint64_t seed = 0;      // kernel-tuner: the seed its choices follow
};

struct PolicyInfo {
    const char *name;
    const char *summary; // one line for --help
};

// Every policy name makePolicy knows, in the order --help lists them.
const std::vector<PolicyInfo> &knownPolicies();

// Builds the named policy. InvalidArgument for an unknown name or a missing option; the
// script policy's Parse/Io errors name the file and line.
formats::Result<std::unique_ptr<Policy>> makePolicy(const std::string &name,
                                                    const PolicyOptions &options);

} // namespace tapedeck::model
