#include "chatstream.h"

#include "textutil.h"

namespace tapedeck::samples {

namespace {

// Builds the stream event by event; events are batched into network chunks as they close.
class StreamBuilder {
public:
    StreamBuilder(const StreamedAnswer &answer, Random &rng, formats::WireExchange &exchange, size_t textBytes)
        : m_answer(answer)
        , m_rng(rng)
        , m_body(exchange.responseBody)
        , m_chunks(exchange.chunks)
        , m_textBytes(textBytes == 0 ? 1 : textBytes)
    {
        m_body.clear();
        m_chunks.clear();
        // The constant head of every chunk event: the same bytes the provider repeats.
        m_prefix = "data: {\"id\":";
        appendJsonString(m_prefix, answer.completionId);
        m_prefix += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(answer.createdSeconds) +
                    ",\"model\":";
        appendJsonString(m_prefix, answer.model);
        m_prefix += ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{";
    }

    // An event whose delta is `delta` (the JSON members, without braces).
    void delta(std::string_view members, std::string_view finishReason, size_t textDelivered)
    {
        m_body.append(m_prefix);
        m_body.append(members);
        m_body.append("},\"logprobs\":null,\"finish_reason\":");
        if (finishReason.empty())
            m_body.append("null");
        else
            appendJsonString(m_body, finishReason);
        m_body.append("}]}\n\n");
        m_delivered += textDelivered;
        closeEvent(false);
    }

    void usageAndDone()
    {
        const formats::Usage &u = m_answer.usage;
        m_body.append("data: {\"id\":");
        appendJsonString(m_body, m_answer.completionId);
        m_body.append(",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(m_answer.createdSeconds) +
                      ",\"model\":");
        appendJsonString(m_body, m_answer.model);
        m_body.append(",\"choices\":[],\"usage\":{\"prompt_tokens\":" + std::to_string(u.inputTokens) +
                      ",\"completion_tokens\":" + std::to_string(u.outputTokens) +
                      ",\"total_tokens\":" + std::to_string(u.inputTokens + u.outputTokens) +
                      ",\"prompt_tokens_details\":{\"cached_tokens\":" + std::to_string(u.cacheReadTokens) +
                      "},\"completion_tokens_details\":{\"reasoning_tokens\":" +
                      std::to_string(m_answer.reasoningTokens) + "}}}\n\n");
        m_body.append("data: [DONE]\n\n");
        closeEvent(true);
    }

    // Text deltas: content or tool arguments, in pieces of one to a few tokens.
    template <typename MakeMembers>
    void pieces(std::string_view text, MakeMembers makeMembers)
    {
        std::string members;
        size_t from = 0;
        while (from < text.size()) {
            const size_t length = std::min(text.size() - from, size_t(m_rng.between(2, 14)));
            members.clear();
            makeMembers(members, text.substr(from, length));
            delta(members, {}, length);
            from += length;
        }
    }

private:
    void closeEvent(bool last)
    {
        ++m_eventsInChunk;
        if (!last && m_eventsInChunk < m_chunkTarget)
            return;
        const int64_t span = m_answer.endedUs - m_answer.firstTokenUs;
        int64_t at = m_answer.firstTokenUs + int64_t(double(span) * double(m_delivered) / double(m_textBytes));
        if (last || at > m_answer.endedUs)
            at = m_answer.endedUs;
        if (!m_chunks.empty() && at < m_chunks.back().atUs)
            at = m_chunks.back().atUs;
        m_chunks.push_back({uint32_t(m_body.size() - m_chunkStart), at});
        m_chunkStart = m_body.size();
        m_eventsInChunk = 0;
        m_chunkTarget = int(m_rng.between(1, 3));
    }

    const StreamedAnswer &m_answer;
    Random &m_rng;
    std::string &m_body;
    std::vector<formats::StreamChunk> &m_chunks;
    std::string m_prefix;
    size_t m_textBytes;
    size_t m_delivered = 0;
    size_t m_chunkStart = 0;
    int m_eventsInChunk = 0;
    int m_chunkTarget = 1;
};

} // namespace

void writeChatStream(const StreamedAnswer &answer, Random &rng, formats::WireExchange &exchange)
{
    size_t textBytes = answer.content.size();
    for (const StreamedToolCall &call : answer.toolCalls)
        textBytes += call.arguments.size();
    StreamBuilder stream(answer, rng, exchange, textBytes);

    stream.delta("\"role\":\"assistant\",\"content\":\"\"", {}, 0);
    stream.pieces(answer.content, [](std::string &members, std::string_view piece) {
        members.append("\"content\":");
        appendJsonString(members, piece);
    });
    for (size_t i = 0; i < answer.toolCalls.size(); ++i) {
        const StreamedToolCall &call = answer.toolCalls[i];
        const std::string index = std::to_string(i);
        std::string header = "\"tool_calls\":[{\"index\":" + index + ",\"id\":";
        appendJsonString(header, call.id);
        header.append(",\"type\":\"function\",\"function\":{\"name\":");
        appendJsonString(header, call.name);
        header.append(",\"arguments\":\"\"}}]");
        stream.delta(header, {}, 0);
        stream.pieces(call.arguments, [&index](std::string &members, std::string_view piece) {
            members.append("\"tool_calls\":[{\"index\":");
            members.append(index);
            members.append(",\"function\":{\"arguments\":");
            appendJsonString(members, piece);
            members.append("}}]");
        });
    }
    stream.delta({}, answer.finishReason, 0);
    stream.usageAndDone();
}

} // namespace tapedeck::samples
