// Anthropic Messages streams: message_start, content_block_start / _delta / _stop per
// block, message_delta, message_stop; ping and error may come at any point.
#include "anthropic.h"

#include "common.h"

#include <map>

namespace tapedeck::formats::wire::detail::anthropic {
namespace {

class Decoder final : public StreamDecoder {
public:
    void add(const SseEvent &event) override {
        nlohmann::json document = parseEventData(event);
        Field data(document);
        std::string type = data.stringOr("type", event.event);
        if (type == "message_start") {
            Field message = data.at("message");
            m_response.id = message.stringOr("id");
            m_response.model = message.stringOr("model");
            if (auto usage = message.find("usage"))
                m_response.usage = parseUsage(*usage);
        } else if (type == "content_block_start") {
            startBlock(data.at("index").integer(), data.at("content_block"));
        } else if (type == "content_block_delta") {
            addDelta(data.at("index"), data.at("delta"));
        } else if (type == "message_delta") {
            if (auto delta = data.find("delta"))
                m_response.stopReason = stopReasonFrom(delta->stringOr("stop_reason"));
            if (auto usage = data.find("usage"))
                addFinalUsage(*usage);
        } else if (type == "message_stop") {
            m_done = true;
        } else if (type == "error") {
            Field error = data.at("error");
            throw ApiFailure(error.stringOr("type").append(": ").append(
                error.stringOr("message")));
        }
        // ping, content_block_stop and event types added later carry nothing to keep.
    }

    bool complete() const override { return m_done; }

    Response response() const override {
        Response out = m_response;
        for (const auto &[index, block] : m_blocks) {
            if (block.type == "text") {
                appendBlock(out.text, block.text);
            } else if (block.type == "thinking") {
                appendBlock(out.thinking, block.text);
                out.thinkingSignature = block.signature;
            } else if (block.type == "tool_use") {
                ToolCall call{block.id, block.name, argumentsFromJson(block.input)};
                if (!block.partialJson.empty())
                    call.arguments = argumentsFromText(block.partialJson);
                out.toolCalls.push_back(std::move(call));
            }
        }
        return out;
    }

private:
    struct Block {
        std::string type;
        std::string text; // text, or thinking
        std::string signature;
        std::string id;
        std::string name;
        nlohmann::json input;
        std::string partialJson;
    };

    void startBlock(int64_t index, const Field &start) {
        Block block;
        block.type = start.at("type").string();
        if (block.type == "text") {
            block.text = start.stringOr("text");
        } else if (block.type == "thinking") {
            block.text = start.stringOr("thinking");
            block.signature = start.stringOr("signature");
        } else if (block.type == "tool_use") {
            block.id = start.at("id").string();
            block.name = start.at("name").string();
            if (auto input = start.find("input"))
                block.input = input->json();
        }
        m_blocks[index] = std::move(block);
    }

    void addDelta(const Field &index, const Field &delta) {
        auto it = m_blocks.find(index.integer());
        if (it == m_blocks.end())
            index.fail("the index of a block that has started");
        Block &block = it->second;
        const std::string &type = delta.at("type").string();
        if (type == "text_delta")
            block.text.append(delta.at("text").string());
        else if (type == "thinking_delta")
            block.text.append(delta.at("thinking").string());
        else if (type == "signature_delta")
            block.signature.append(delta.at("signature").string());
        else if (type == "input_json_delta")
            block.partialJson.append(delta.at("partial_json").string());
    }

    // message_delta's usage is cumulative: what it names replaces what message_start said.
    void addFinalUsage(const Field &usage) {
        Usage &out = m_response.usage;
        out.outputTokens = usage.integerOr("output_tokens", out.outputTokens);
        out.inputTokens = usage.integerOr("input_tokens", out.inputTokens);
        out.cacheReadTokens = usage.integerOr("cache_read_input_tokens", out.cacheReadTokens);
        out.cacheWriteTokens =
            usage.integerOr("cache_creation_input_tokens", out.cacheWriteTokens);
    }

    Response m_response;
    std::map<int64_t, Block> m_blocks;
    bool m_done = false;
};

SseEvent event(const nlohmann::json &data) {
    return {data.at("type").get<std::string>(), dumpJson(data)};
}

} // namespace

std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options) {
    std::vector<SseEvent> events;
    Usage startUsage = response.usage;
    startUsage.outputTokens = 0;
    events.push_back(event({{"type", "message_start"},
                            {"message",
                             {{"id", responseIdOrMadeUp(response, "msg_")},
                              {"type", "message"},
                              {"role", "assistant"},
                              {"model", response.model},
                              {"content", nlohmann::json::array()},
                              {"stop_reason", nullptr},
                              {"stop_sequence", nullptr},
                              {"usage", renderUsage(startUsage)}}}}));
    events.push_back(event({{"type", "ping"}}));

    int index = 0;
    auto block = [&](nlohmann::json start, const std::string &deltaType, const char *deltaKey,
                     const std::string &content) {
        events.push_back(
            event({{"type", "content_block_start"}, {"index", index}, {"content_block", start}}));
        for (const std::string &piece : cutIntoDeltas(content, options.charsPerDelta)) {
            events.push_back(event({{"type", "content_block_delta"},
                                    {"index", index},
                                    {"delta", {{"type", deltaType}, {deltaKey, piece}}}}));
        }
    };
    auto stopBlock = [&] {
        events.push_back(event({{"type", "content_block_stop"}, {"index", index}}));
        ++index;
    };
    if (!response.thinking.empty()) {
        block({{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}, "thinking_delta",
              "thinking", response.thinking);
        if (!response.thinkingSignature.empty()) {
            events.push_back(event(
                {{"type", "content_block_delta"},
                 {"index", index},
                 {"delta", {{"type", "signature_delta"}, {"signature", response.thinkingSignature}}}}));
        }
        stopBlock();
    }
    if (!response.text.empty()) {
        block({{"type", "text"}, {"text", ""}}, "text_delta", "text", response.text);
        stopBlock();
    }
    for (const ToolCall &call : response.toolCalls) {
        block({{"type", "tool_use"},
               {"id", call.id},
               {"name", call.name},
               {"input", nlohmann::json::object()}},
              "input_json_delta", "partial_json", argumentsToText(call.arguments));
        stopBlock();
    }
    events.push_back(event({{"type", "message_delta"},
                            {"delta",
                             {{"stop_reason", stopReasonFor(response.stopReason)},
                              {"stop_sequence", nullptr}}},
                            {"usage", {{"output_tokens", response.usage.outputTokens}}}}));
    events.push_back(event({{"type", "message_stop"}}));
    return events;
}

std::unique_ptr<StreamDecoder> makeDecoder() { return std::make_unique<Decoder>(); }

} // namespace tapedeck::formats::wire::detail::anthropic
