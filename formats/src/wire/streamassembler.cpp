#include "codecs.h"
#include "common.h"

namespace tapedeck::formats::wire {

struct StreamAssembler::Impl {
    Api api;
    std::unique_ptr<detail::StreamDecoder> decoder;
    size_t eventCount = 0;
};

StreamAssembler::StreamAssembler(Api api)
    : m_impl(std::make_unique<Impl>(Impl{api, detail::codecFor(api).makeDecoder(), 0})) {}
StreamAssembler::~StreamAssembler() = default;
StreamAssembler::StreamAssembler(StreamAssembler &&) noexcept = default;
StreamAssembler &StreamAssembler::operator=(StreamAssembler &&) noexcept = default;

namespace {

// What to call an event in an error: its "event:" name, else the "type" or "object" its
// data declares, else "data".
std::string eventLabel(const SseEvent &event) {
    if (!event.event.empty())
        return event.event;
    nlohmann::json data = detail::parseJsonText(event.data);
    if (data.is_object()) {
        for (const char *key : {"type", "object"}) {
            auto it = data.find(key);
            if (it != data.end() && it->is_string())
                return it->get<std::string>();
        }
    }
    return event.data == "[DONE]" ? std::string("[DONE]") : std::string("data");
}

} // namespace

Status StreamAssembler::add(const SseEvent &event) {
    size_t position = ++m_impl->eventCount;
    auto context = [&] {
        return std::string(apiName(m_impl->api))
            .append(" stream event ")
            .append(std::to_string(position))
            .append(" (")
            .append(eventLabel(event))
            .append("): ");
    };
    try {
        m_impl->decoder->add(event);
        return Status::success();
    } catch (const detail::ApiFailure &failure) {
        return Error{ErrorCode::Io, context().append(failure.what())};
    } catch (const std::exception &e) {
        return Error{ErrorCode::Parse, context().append(e.what())};
    }
}

bool StreamAssembler::complete() const { return m_impl->decoder->complete(); }

Response StreamAssembler::response() const { return m_impl->decoder->response(); }

} // namespace tapedeck::formats::wire
