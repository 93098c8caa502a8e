// Server-sent events as the HTML standard's "event stream interpretation" reads them,
// restricted to the two fields the model APIs use (event, data).
#include <tapedeck/formats/wire.h>

namespace tapedeck::formats::wire {

std::string encodeSse(const SseEvent &event) {
    std::string out;
    if (!event.event.empty())
        out.append("event: ").append(event.event).append("\n");
    std::string_view data = event.data;
    while (true) {
        size_t newline = data.find('\n');
        out.append("data: ").append(data.substr(0, newline)).append("\n");
        if (newline == std::string_view::npos)
            break;
        data.remove_prefix(newline + 1);
    }
    out.append("\n");
    return out;
}

namespace {

// One complete line of the stream, applied to the event being built. Returns true when
// the line (a blank one) ends an event that has data.
bool applyLine(std::string_view line, SseEvent &event, bool &hasData) {
    if (line.empty()) {
        bool dispatch = hasData;
        if (!dispatch)
            event = {};
        return dispatch;
    }
    if (line.front() == ':')
        return false; // a comment, such as a keep-alive ": ping"
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
            value.remove_prefix(1);
    }
    if (field == "event") {
        event.event = std::string(value);
    } else if (field == "data") {
        if (hasData)
            event.data.push_back('\n');
        event.data.append(value);
        hasData = true;
    }
    // "id", "retry" and unknown fields mean nothing to a model client.
    return false;
}

} // namespace

void SseParser::feed(std::string_view bytes, std::vector<SseEvent> &out) {
    auto endLine = [&] {
        if (m_atStart) {
            if (m_line.starts_with("\xEF\xBB\xBF"))
                m_line.erase(0, 3);
            m_atStart = false;
        }
        if (applyLine(m_line, m_event, m_hasData)) {
            out.push_back(std::move(m_event));
            m_event = {};
            m_hasData = false;
        }
        m_line.clear();
    };
    for (char c : bytes) {
        if (c == '\n' && m_lastWasCr) {
            m_lastWasCr = false; // the second half of a CRLF already ended the line
            continue;
        }
        m_lastWasCr = c == '\r';
        if (c == '\n' || c == '\r')
            endLine();
        else
            m_line.push_back(c);
    }
}

std::optional<SseEvent> SseParser::finish() {
    if (!m_line.empty()) {
        if (m_atStart && m_line.starts_with("\xEF\xBB\xBF"))
            m_line.erase(0, 3);
        applyLine(m_line, m_event, m_hasData);
        m_line.clear();
    }
    std::optional<SseEvent> open;
    if (m_hasData)
        open = std::move(m_event);
    m_event = {};
    m_hasData = false;
    m_lastWasCr = false;
    m_atStart = true;
    return open;
}

} // namespace tapedeck::formats::wire
