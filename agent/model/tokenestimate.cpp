#include "tokenestimate.h"

#include <algorithm>

namespace tapedeck::model {

using formats::wire::ToolCall;

namespace {

constexpr int64_t kCharsPerToken = 4;

int64_t tokensFor(size_t chars)
{
    return std::max<int64_t>(1,
                             (static_cast<int64_t>(chars) + kCharsPerToken - 1) / kCharsPerToken);
}

size_t toolCallChars(const std::vector<ToolCall> &calls)
{
    size_t chars = 0;
    for (const ToolCall &call : calls)
        chars += call.name.size() + call.arguments.dump().size();
    return chars;
}

} // namespace

int64_t estimateInputTokens(const formats::wire::Request &request)
{
    size_t chars = request.system.size();
    for (const auto &m : request.messages)
        chars += m.text.size() + m.thinking.size() + toolCallChars(m.toolCalls);
    for (const auto &tool : request.tools)
        chars += tool.name.size() + tool.description.size() + tool.parameters.dump().size();
    return tokensFor(chars);
}

int64_t estimateOutputTokens(const formats::wire::Response &response)
{
    return tokensFor(response.text.size() + response.thinking.size() +
                     toolCallChars(response.toolCalls));
}

void fillUsage(const formats::wire::Request &request, formats::wire::Response &response)
{
    if (response.usage.inputTokens == 0)
        response.usage.inputTokens = estimateInputTokens(request);
    if (response.usage.outputTokens == 0)
        response.usage.outputTokens = estimateOutputTokens(response);
}

} // namespace tapedeck::model
