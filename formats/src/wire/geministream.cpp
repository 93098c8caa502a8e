// Gemini streams (streamGenerateContent?alt=sse): each event's data is a whole
// GenerateContentResponse holding the next pieces of the answer; the one with a
// finishReason is the last.
#include "gemini.h"

#include "common.h"

namespace tapedeck::formats::wire::detail::gemini {
namespace {

class Decoder final : public StreamDecoder {
public:
    void add(const SseEvent &event) override {
        nlohmann::json document = parseEventData(event);
        Field chunk(document);
        chunk.requireObject();
        if (auto error = chunk.find("error")) {
            throw ApiFailure(
                error->stringOr("status").append(": ").append(error->stringOr("message")));
        }
        m_response.id = chunk.stringOr("responseId", m_response.id);
        m_response.model = chunk.stringOr("modelVersion", m_response.model);
        if (auto candidates = chunk.find("candidates")) {
            std::vector<Field> all = candidates->elements();
            if (!all.empty()) {
                if (auto content = all.front().find("content")) {
                    if (auto parts = content->find("parts"))
                        addModelParts(*parts, m_response);
                }
                if (auto finish = all.front().find("finishReason")) {
                    m_finishReason = finish->string();
                    m_done = true;
                }
            }
        }
        if (auto usage = chunk.find("usageMetadata"))
            m_response.usage = parseUsage(*usage);
    }

    bool complete() const override { return m_done; }

    Response response() const override {
        Response out = m_response;
        out.stopReason = stopReasonFrom(m_finishReason, !out.toolCalls.empty());
        return out;
    }

private:
    Response m_response;
    std::string m_finishReason;
    bool m_done = false;
};

} // namespace

std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options) {
    std::string id = responseIdOrMadeUp(response, "");
    auto chunk = [&](nlohmann::json parts) {
        nlohmann::json candidate = {{"content", {{"role", "model"}, {"parts", std::move(parts)}}},
                                    {"index", 0}};
        return nlohmann::json{{"candidates", nlohmann::json::array({std::move(candidate)})},
                              {"modelVersion", response.model},
                              {"responseId", id}};
    };
    std::vector<SseEvent> events;
    for (const std::string &piece : cutIntoDeltas(response.thinking, options.charsPerDelta))
        events.push_back({{}, dumpJson(chunk({{{"text", piece}, {"thought", true}}}))});
    for (const std::string &piece : cutIntoDeltas(response.text, options.charsPerDelta))
        events.push_back({{}, dumpJson(chunk({{{"text", piece}}}))});
    // The last chunk carries the calls whole, the finish reason and the usage.
    nlohmann::json last = chunk(renderModelParts({}, {}, response.toolCalls));
    last["candidates"][0]["finishReason"] = finishReasonFor(response.stopReason);
    last["usageMetadata"] = renderUsage(response.usage);
    events.push_back({{}, dumpJson(last)});
    return events;
}

std::unique_ptr<StreamDecoder> makeDecoder() { return std::make_unique<Decoder>(); }

} // namespace tapedeck::formats::wire::detail::gemini
