#include "recordedanswer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

namespace tapedeck::replayer {

namespace {

bool isHopByHop(const std::string &name)
{
    return name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
           name == "content-length" || name == "te" || name == "trailer" || name == "upgrade" ||
           name == "proxy-connection" || name == "content-type";
}

// Waits until `offsetUs` after `arrivedUs`, scaled by 1/speed.
void waitUntil(int64_t arrivedUs, int64_t offsetUs, double speed)
{
    if (speed <= 0 || offsetUs <= 0)
        return;
    const int64_t due = arrivedUs + static_cast<int64_t>(static_cast<double>(offsetUs) / speed);
    const int64_t now = nowUs();
    if (due > now)
        std::this_thread::sleep_for(std::chrono::microseconds(due - now));
}

} // namespace

int64_t nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void sendRecordedAnswer(std::shared_ptr<const formats::Step> step, double speed, int64_t arrivedUs,
                        httplib::Response &res)
{
    const formats::WireExchange &wire = *step->wire;
    res.status = wire.status == 0 ? 502 : wire.status;
    std::string contentType = "application/json";
    for (const auto &[recordedName, value] : wire.responseHeaders.items()) {
        if (!value.is_string())
            continue;
        // The recorder keeps names lowercased; a tape imported from elsewhere may not.
        std::string name = recordedName;
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        const std::string &text = value.get_ref<const std::string &>();
        if (name == "content-type")
            contentType = text;
        else if (!isHopByHop(name) && text != "<redacted>")
            res.set_header(name, text);
    }

    if (wire.chunks.empty()) {
        waitUntil(arrivedUs, step->endedUs - step->startedUs, speed);
        res.set_content(wire.responseBody, contentType);
        return;
    }
    // The chunks, in the order and at the times recorded; then the end of the stream, or,
    // when the recorded stream broke off, a broken stream.
    const bool brokeOff = step->status == formats::StepStatus::Cancelled;
    auto next = std::make_shared<size_t>(0);
    auto offset = std::make_shared<size_t>(0);
    res.set_chunked_content_provider(
        contentType, [step, speed, arrivedUs, brokeOff, next, offset](size_t, httplib::DataSink &out) {
            const formats::WireExchange &w = *step->wire;
            if (*next == w.chunks.size()) {
                if (brokeOff)
                    return false;
                out.done();
                return true;
            }
            const formats::StreamChunk &chunk = w.chunks[*next];
            waitUntil(arrivedUs, chunk.atUs - step->startedUs, speed);
            const size_t length = std::min<size_t>(chunk.length, w.responseBody.size() - *offset);
            ++*next;
            const bool written = length == 0 || out.write(w.responseBody.data() + *offset, length);
            *offset += length;
            return written;
        });
}

} // namespace tapedeck::replayer
