// The script policy: answers each request with the next turn of a script file (SCRIPT.md),
// in file order, whatever API the request came in; compaction requests take the script's
// compaction turns, or a written summary when there are none left.
#pragma once

#include "policy.h"
#include "scriptfile.h"

#include <cstddef>

namespace tapedeck::model {

class ScriptPolicy : public Policy {
public:
    explicit ScriptPolicy(Script script);

    const char *name() const override { return "script"; }
    // An error when the script has run out, or when the turn's `expect` text is not in the
    // request's last message; both name the file (and the line).
    formats::Result<Turn> answer(const formats::wire::Request &request) override;

private:
    Script m_script;
    size_t m_nextMain = 0;       // index into m_script.turns of the next main-order candidate
    size_t m_nextCompaction = 0; // the same for compaction turns
    size_t m_mainTurns = 0;
    size_t m_mainRequests = 0; // requests answered (or refused) in the main order
};

} // namespace tapedeck::model
