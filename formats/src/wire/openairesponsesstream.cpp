// OpenAI Responses streams: named events (response.created, response.output_item.added,
// response.output_text.delta, response.function_call_arguments.delta, ...,
// response.completed), each with a data object whose "type" repeats the name.
#include "openairesponses.h"

#include "common.h"

#include <map>

namespace tapedeck::formats::wire::detail::openairesponses {
namespace {

class Decoder final : public StreamDecoder {
public:
    void add(const SseEvent &event) override {
        nlohmann::json document = parseEventData(event);
        Field data(document);
        std::string type = data.stringOr("type", event.event);
        if (type == "response.created" || type == "response.in_progress") {
            readResponseObject(data.at("response"));
        } else if (type == "response.output_item.added") {
            Item &item = m_items[data.at("output_index").integer()];
            Field added = data.at("item");
            item.type = added.at("type").string();
            item.callId = added.stringOr("call_id");
            item.name = added.stringOr("name");
        } else if (type == "response.output_text.delta") {
            itemAt(data).text.append(data.at("delta").string());
        } else if (type == "response.reasoning_summary_text.delta" ||
                   type == "response.reasoning_text.delta") {
            itemAt(data).text.append(data.at("delta").string());
        } else if (type == "response.function_call_arguments.delta") {
            itemAt(data).arguments.append(data.at("delta").string());
        } else if (type == "response.output_item.done") {
            itemAt(data).done = data.at("item").json();
        } else if (type == "response.completed" || type == "response.incomplete") {
            Field object = data.at("response");
            readResponseObject(object);
            m_finished = object.json();
            m_done = true;
        } else if (type == "response.failed") {
            Field object = data.at("response");
            std::string message = "the response failed";
            if (auto error = object.find("error"))
                message = error->stringOr("code").append(": ").append(error->stringOr("message"));
            throw ApiFailure(message);
        } else if (type == "error") {
            throw ApiFailure(data.stringOr("code").append(": ").append(data.stringOr("message")));
        }
        // The .done events repeat what the deltas built; the rest carry nothing to keep.
    }

    bool complete() const override { return m_done; }

    Response response() const override {
        Response out = m_response;
        for (const auto &[index, item] : m_items) {
            if (!item.done.is_null()) {
                addOutputItem(Field(item.done), out);
            } else if (item.type == "message") {
                appendBlock(out.text, item.text);
            } else if (item.type == "reasoning") {
                appendBlock(out.thinking, item.text);
            } else if (item.type == "function_call") {
                out.toolCalls.push_back({item.callId, item.name, argumentsFromText(item.arguments)});
            }
        }
        if (m_finished.is_object()) {
            // A stream whose items went missing still has the finished response's output.
            if (m_items.empty()) {
                if (auto output = Field(m_finished).find("output")) {
                    for (const Field &item : output->elements())
                        addOutputItem(item, out);
                }
            }
            out.stopReason = stopReasonFrom(Field(m_finished), !out.toolCalls.empty());
        }
        return out;
    }

private:
    struct Item {
        std::string type;
        std::string callId;
        std::string name;
        std::string text; // message text, or reasoning
        std::string arguments;
        nlohmann::json done; // the whole item, once output_item.done gave it
    };

    Item &itemAt(const Field &data) {
        Field index = data.at("output_index");
        auto it = m_items.find(index.integer());
        if (it == m_items.end())
            index.fail("the index of an item that was added");
        return it->second;
    }

    void readResponseObject(const Field &object) {
        m_response.id = object.stringOr("id", m_response.id);
        m_response.model = object.stringOr("model", m_response.model);
        if (auto usage = object.find("usage"))
            m_response.usage = parseUsage(*usage);
    }

    Response m_response;
    std::map<int64_t, Item> m_items;
    nlohmann::json m_finished;
    bool m_done = false;
};

} // namespace

std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options) {
    std::vector<SseEvent> events;
    int64_t sequence = 0;
    auto emit = [&](const char *type, nlohmann::json data) {
        data["type"] = type;
        data["sequence_number"] = sequence++;
        events.push_back({type, dumpJson(data)});
    };
    emit("response.created",
         {{"response", renderResponseObject(response, nlohmann::json::array(), false)}});
    emit("response.in_progress",
         {{"response", renderResponseObject(response, nlohmann::json::array(), false)}});

    nlohmann::json items = renderOutputItems(response);
    for (size_t index = 0; index < items.size(); ++index) {
        const nlohmann::json &item = items[index];
        const std::string &type = item["type"].get_ref<const std::string &>();
        const std::string &itemId = item["id"].get_ref<const std::string &>();
        nlohmann::json where = {{"item_id", itemId}, {"output_index", index}};
        auto with = [&](nlohmann::json more) {
            more.update(where);
            return more;
        };
        nlohmann::json added = item;
        if (type == "message") {
            added["status"] = "in_progress";
            added["content"] = nlohmann::json::array();
            emit("response.output_item.added", {{"output_index", index}, {"item", added}});
            nlohmann::json part = item["content"][0];
            const std::string &text = part["text"].get_ref<const std::string &>();
            nlohmann::json emptyPart = part;
            emptyPart["text"] = "";
            emit("response.content_part.added", with({{"content_index", 0}, {"part", emptyPart}}));
            for (const std::string &piece : cutIntoDeltas(text, options.charsPerDelta))
                emit("response.output_text.delta", with({{"content_index", 0}, {"delta", piece}}));
            emit("response.output_text.done", with({{"content_index", 0}, {"text", text}}));
            emit("response.content_part.done", with({{"content_index", 0}, {"part", part}}));
        } else if (type == "reasoning") {
            added["summary"] = nlohmann::json::array();
            emit("response.output_item.added", {{"output_index", index}, {"item", added}});
            nlohmann::json part = item["summary"][0];
            const std::string &text = part["text"].get_ref<const std::string &>();
            nlohmann::json emptyPart = part;
            emptyPart["text"] = "";
            emit("response.reasoning_summary_part.added",
                 with({{"summary_index", 0}, {"part", emptyPart}}));
            for (const std::string &piece : cutIntoDeltas(text, options.charsPerDelta)) {
                emit("response.reasoning_summary_text.delta",
                     with({{"summary_index", 0}, {"delta", piece}}));
            }
            emit("response.reasoning_summary_text.done", with({{"summary_index", 0}, {"text", text}}));
            emit("response.reasoning_summary_part.done", with({{"summary_index", 0}, {"part", part}}));
        } else {
            const std::string &arguments = item["arguments"].get_ref<const std::string &>();
            added["status"] = "in_progress";
            added["arguments"] = "";
            emit("response.output_item.added", {{"output_index", index}, {"item", added}});
            for (const std::string &piece : cutIntoDeltas(arguments, options.charsPerDelta))
                emit("response.function_call_arguments.delta", with({{"delta", piece}}));
            emit("response.function_call_arguments.done", with({{"arguments", arguments}}));
        }
        emit("response.output_item.done", {{"output_index", index}, {"item", item}});
    }

    nlohmann::json finished = renderResponseObject(response, items, true);
    bool incomplete = finished["status"] == "incomplete";
    emit(incomplete ? "response.incomplete" : "response.completed", {{"response", finished}});
    return events;
}

std::unique_ptr<StreamDecoder> makeDecoder() { return std::make_unique<Decoder>(); }

} // namespace tapedeck::formats::wire::detail::openairesponses
