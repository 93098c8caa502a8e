// The generic policy: enough of a model to drive any client through a full tool loop.
// - A compaction request gets a written summary.
// - When the request's last message is a tool result, it answers in text quoting that
//   result (or, when the request asks for a response schema, with JSON for it).
// - Otherwise, given tools, it calls one: a shell tool when there is one (bash, Bash,
//   shell, ...) running the command the user's last message names in backticks or after
//   "run", else `echo hello`; for any other tool, arguments filled in from its schema.
// - Without tools it answers in text, or with JSON valid for the response schema.
// It keeps no state: the answer depends on the request alone.
#pragma once

#include "policy.h"

namespace tapedeck::model {

class GenericPolicy : public Policy {
public:
    const char *name() const override { return "generic"; }
    formats::Result<Turn> answer(const formats::wire::Request &request) override;
};

// The command the generic policy runs for a user's request: the first `backticked` span,
// else what follows the word "run" up to the end of its clause, else "echo hello". Text
// inside <system-reminder> tags (which some clients add to user messages) is skipped.
std::string commandFromRequest(const std::string &userText);

} // namespace tapedeck::model
