// The live side of a fork, and of a replay that goes live at a miss: where the new branch's
// model calls go (an upstream URL, or the scripted model run in this process) and the
// recorder that writes them into the tape as a new branch of the run.
#pragma once

#include "scriptedmodel.h"

#include <tapedeck/recorder/recorder.h>
#include <tapedeck/replayer/fork.h>

#include <memory>
#include <string>
#include <vector>

namespace tapedeck::cli {

struct LiveTarget {
    std::string upstream;      // a model API base URL, for every API
    std::string scripted;      // or the scripted model's policy
    std::string script;        // its script file (policy "script")
    uint64_t seed = 0;
    std::vector<std::string> command; // the agent, for the fork point's record

    // Exactly one of upstream and scripted, and a script only for the script policy; the
    // message says what is wrong otherwise.
    std::string problem() const;
    std::string describe() const; // "http://..." or "the scripted model (kernel-tuner)"
};

class LiveBranch {
public:
    // Starts the scripted model if asked for, then the recorder of the branch `plan` makes.
    // Errors: an unknown policy or bad script, the tape cannot be written.
    static formats::Result<std::unique_ptr<LiveBranch>> start(const std::string &tape, const replayer::ForkPlan &plan,
                                                              const LiveTarget &target);
    ~LiveBranch();

    std::string url() const; // where the replay server sends live requests
    recorder::Recorder &recorder();
    // Ends the branch with `outcome`; then the scripted model stops.
    formats::Status finish(const std::string &outcome);

private:
    LiveBranch() = default;
    std::unique_ptr<ScriptedModel> m_scripted;
    std::unique_ptr<recorder::Recorder> m_recorder;
};

} // namespace tapedeck::cli
