// The wire codecs on hostile input. None of it may crash, throw, trip a sanitizer or
// allocate without bound, and what parses must come back the same through render.
//
// Input: byte 0 picks what is fuzzed, the rest is the payload.
//   byte 0 % 8 in 0-3: a stream of the API with that number: the payload is fed to
//     SseParser in pieces whose sizes come from byte 1 (1 + byte1 % 64 bytes each), every
//     event goes to a StreamAssembler, and its response is rendered again as a stream that
//     must assemble without an error.
//   4: the payload as a JSON request body, parsed as each API; what parses renders to a
//     body that parses to the same neutral form.
//   5: the payload as a JSON response body, parsed as each API; what parses renders as a
//     whole body and as a stream without failing; and as an error body (parseError).
//   6, 7: the payload as a path for apiForPath and geminiTarget.
#include <tapedeck/formats/wire.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace tapedeck::formats;
using namespace tapedeck::formats::wire;

namespace {

[[noreturn]] void fail(Api api, const std::string &what) {
    std::fprintf(stderr, "fuzz_wire (%s): %s\n", apiName(api), what.c_str());
    std::abort();
}

const Api kApis[] = {Api::OpenAIChat, Api::OpenAIResponses, Api::AnthropicMessages, Api::Gemini};

void fuzzStream(Api api, std::string_view bytes, size_t piece) {
    SseParser parser;
    StreamAssembler assembler(api);
    std::vector<SseEvent> events;
    for (size_t at = 0; at < bytes.size(); at += piece)
        parser.feed(bytes.substr(at, piece), events);
    if (auto open = parser.finish())
        events.push_back(*open);
    for (const SseEvent &event : events) {
        Status status = assembler.add(event);
        if (!status && status.error().message.empty())
            fail(api, "an error without a message");
    }
    (void)assembler.complete();
    const Response response = assembler.response();

    // Whatever was assembled renders as a stream that assembles again without complaint.
    StreamAssembler again(api);
    for (const SseEvent &event : renderStream(api, response, {7})) {
        Status status = again.add(event);
        if (!status)
            fail(api, "a rendered stream was refused: " + status.error().message);
    }
    if (!again.complete())
        fail(api, "a rendered stream did not complete");
}

void fuzzRequest(const nlohmann::json &body) {
    for (Api api : kApis) {
        Result<Request> request = parseRequest(api, body);
        if (!request) {
            if (request.error().code != ErrorCode::Parse || request.error().message.empty())
                fail(api, "a request failed without a parse error");
            continue;
        }
        Result<Request> again = parseRequest(api, renderRequest(*request));
        if (!again)
            fail(api, "a rendered request does not parse: " + again.error().message);
        if (!(*again == *request))
            fail(api, "render then parse changed the request of " + body.dump());
    }
}

void fuzzResponse(const nlohmann::json &body) {
    for (Api api : kApis) {
        Result<Response> response = parseResponse(api, body);
        if (!response)
            continue;
        (void)renderResponse(api, *response).dump();
        StreamAssembler assembler(api);
        for (const SseEvent &event : renderStream(api, *response, {3})) {
            if (!assembler.add(event))
                fail(api, "a rendered stream was refused");
        }
        if (!assembler.complete())
            fail(api, "a rendered stream did not complete");
    }
    if (auto error = parseError(500, body))
        (void)renderError(Api::AnthropicMessages, *error).dump();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    const int mode = data[0] % 8;
    const std::string_view payload(reinterpret_cast<const char *>(data) + 1, size - 1);
    if (mode < 4) {
        fuzzStream(kApis[mode], payload.substr(1), 1 + size_t(uint8_t(payload[0])) % 64);
    } else if (mode == 4 || mode == 5) {
        nlohmann::json body = nlohmann::json::parse(payload, nullptr, false);
        if (body.is_discarded())
            return 0;
        if (mode == 4)
            fuzzRequest(body);
        else
            fuzzResponse(body);
    } else {
        (void)apiForPath(payload);
        (void)geminiTarget(payload);
    }
    return 0;
}
