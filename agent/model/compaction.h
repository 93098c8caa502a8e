// Compaction requests: the reference agent (and any client that follows the same contract)
// asks the model to summarise the conversation with a last user message that starts with
// kCompactionPrompt, then continues from the answer. Every policy answers those requests;
// this is the one place that recognises them and writes a summary when a policy has no
// better one.
#pragma once

#include <tapedeck/formats/wire.h>

#include <string>
#include <string_view>

namespace tapedeck::model {

inline constexpr std::string_view kCompactionPrompt = "Write a summary of the conversation so far";

// True when the request's last message is a user message starting with kCompactionPrompt.
bool isCompactionRequest(const formats::wire::Request &request);

// A plain summary of the request's conversation: the first user message and one line per
// tool call with the first line of its result. Deterministic.
std::string writeSummary(const formats::wire::Request &request);

} // namespace tapedeck::model
