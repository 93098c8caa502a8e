// The streamed response of an OpenAI Chat Completions call, as bytes on the wire.
#pragma once

#include "random.h"

#include <tapedeck/formats/tape.h>

#include <span>
#include <string>
#include <string_view>

namespace tapedeck::samples {

struct StreamedToolCall {
    std::string id;        // "call_..."
    std::string name;
    std::string arguments; // JSON text, as the model streams it
};

// What one assistant turn says and when its bytes arrive.
struct StreamedAnswer {
    std::string_view completionId; // "chatcmpl-..."
    std::string_view model;
    int64_t createdSeconds = 0;
    std::string_view content;
    std::span<const StreamedToolCall> toolCalls;
    std::string_view finishReason; // "tool_calls" or "stop"
    formats::Usage usage;
    int64_t reasoningTokens = 0;   // part of usage.outputTokens

    int64_t firstTokenUs = 0;
    int64_t endedUs = 0;
};

// Writes the SSE body of `answer` into exchange.responseBody and its network chunks into
// exchange.chunks: a role delta, the content in deltas of one to a few tokens, each tool
// call's header (id, name) and its arguments in deltas, the finish chunk, the usage chunk
// and "data: [DONE]". Network reads group one to three events; their arrival times spread
// from firstTokenUs to endedUs in proportion to the text delivered. The chunk lengths add
// up to the body's length exactly. Reuses the capacity of the exchange's buffers.
void writeChatStream(const StreamedAnswer &answer, Random &rng, formats::WireExchange &exchange);

} // namespace tapedeck::samples
