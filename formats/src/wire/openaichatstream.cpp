// OpenAI Chat Completions streams: "data: {chat.completion.chunk}" events, "data: [DONE]".
#include "openaichat.h"

#include "common.h"

#include <map>

namespace tapedeck::formats::wire::detail::openaichat {
namespace {

class Decoder final : public StreamDecoder {
public:
    void add(const SseEvent &event) override {
        if (event.data == "[DONE]") {
            m_done = true;
            return;
        }
        nlohmann::json document = parseEventData(event);
        Field chunk(document);
        chunk.requireObject();
        if (auto error = chunk.find("error")) {
            ApiError parsed = parseError(0, document).value_or(ApiError{});
            throw ApiFailure(parsed.type.empty() ? parsed.message
                                                 : parsed.type + ": " + parsed.message);
        }
        if (auto id = chunk.find("id"))
            m_response.id = id->string();
        if (auto model = chunk.find("model"))
            m_response.model = model->string();
        if (auto choices = chunk.find("choices")) {
            for (const Field &choice : choices->elements()) {
                if (choice.integerOr("index") == 0)
                    addChoice(choice);
            }
        }
        if (auto usage = chunk.find("usage"))
            m_response.usage = parseUsage(*usage);
    }

    bool complete() const override { return m_done; }

    Response response() const override {
        Response out = m_response;
        for (const auto &[index, call] : m_calls)
            out.toolCalls.push_back({call.id, call.name, argumentsFromText(call.arguments)});
        return out;
    }

private:
    struct PartialCall {
        std::string id;
        std::string name;
        std::string arguments;
    };

    void addChoice(const Field &choice) {
        if (auto delta = choice.find("delta")) {
            if (auto content = delta->find("content"))
                m_response.text.append(content->string());
            if (auto reasoning = delta->find("reasoning_content"))
                m_response.thinking.append(reasoning->string());
            if (auto calls = delta->find("tool_calls")) {
                for (const Field &call : calls->elements())
                    addCallDelta(call);
            }
        }
        if (auto finish = choice.find("finish_reason"))
            m_response.stopReason = stopReasonFrom(finish->string());
    }

    // The first delta of a call carries its id and name, the later ones pieces of its
    // arguments; all carry the call's index.
    void addCallDelta(const Field &delta) {
        PartialCall &call = m_calls[delta.at("index").integer()];
        if (auto id = delta.find("id"))
            call.id = id->string();
        if (auto function = delta.find("function")) {
            if (auto name = function->find("name"); name && !name->string().empty())
                call.name = name->string();
            if (auto arguments = function->find("arguments"))
                call.arguments.append(arguments->string());
        }
    }

    Response m_response;
    std::map<int64_t, PartialCall> m_calls;
    bool m_done = false;
};

} // namespace

std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options) {
    std::string id = responseIdOrMadeUp(response, "chatcmpl-");
    auto chunk = [&](nlohmann::json delta, nlohmann::json finishReason) {
        nlohmann::json choice = {{"index", 0},
                                 {"delta", std::move(delta)},
                                 {"logprobs", nullptr},
                                 {"finish_reason", std::move(finishReason)}};
        nlohmann::json body = {{"id", id},
                               {"object", "chat.completion.chunk"},
                               {"created", 0},
                               {"model", response.model},
                               {"choices", nlohmann::json::array({std::move(choice)})}};
        return SseEvent{{}, dumpJson(body)};
    };
    std::vector<SseEvent> events;
    events.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
    for (const std::string &piece : cutIntoDeltas(response.thinking, options.charsPerDelta))
        events.push_back(chunk({{"reasoning_content", piece}}, nullptr));
    for (const std::string &piece : cutIntoDeltas(response.text, options.charsPerDelta))
        events.push_back(chunk({{"content", piece}}, nullptr));
    for (size_t i = 0; i < response.toolCalls.size(); ++i) {
        const ToolCall &call = response.toolCalls[i];
        nlohmann::json first = {{"index", i},
                                {"id", call.id},
                                {"type", "function"},
                                {"function", {{"name", call.name}, {"arguments", ""}}}};
        events.push_back(chunk({{"tool_calls", nlohmann::json::array({first})}}, nullptr));
        for (const std::string &piece :
             cutIntoDeltas(argumentsToText(call.arguments), options.charsPerDelta)) {
            nlohmann::json more = {{"index", i}, {"function", {{"arguments", piece}}}};
            events.push_back(chunk({{"tool_calls", nlohmann::json::array({more})}}, nullptr));
        }
    }
    events.push_back(chunk(nlohmann::json::object(), finishReasonFor(response.stopReason)));
    nlohmann::json usage = {{"id", id},
                            {"object", "chat.completion.chunk"},
                            {"created", 0},
                            {"model", response.model},
                            {"choices", nlohmann::json::array()},
                            {"usage", renderUsage(response.usage)}};
    events.push_back({{}, dumpJson(usage)});
    events.push_back({{}, "[DONE]"});
    return events;
}

std::unique_ptr<StreamDecoder> makeDecoder() { return std::make_unique<Decoder>(); }

} // namespace tapedeck::formats::wire::detail::openaichat
