// Token counts for answers whose policy left usage at zero, and for count_tokens: about
// four characters per token, as the providers' own rule of thumb says. Deterministic, so
// that recordings of the same run carry the same numbers.
#pragma once

#include <tapedeck/formats/wire.h>

#include <cstdint>

namespace tapedeck::model {

// The tokens of everything the request sends: system prompt, messages, tool calls and
// results, tool definitions. At least 1.
int64_t estimateInputTokens(const formats::wire::Request &request);

// The tokens of the answer: text, thinking and tool calls. At least 1.
int64_t estimateOutputTokens(const formats::wire::Response &response);

// Fills each zero field of response.usage's input and output counts from the estimates.
void fillUsage(const formats::wire::Request &request, formats::wire::Response &response);

} // namespace tapedeck::model
