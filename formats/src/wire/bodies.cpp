// The public body functions of wire.h: each dispatches to the API's codec and turns a
// reader's failure into an Error.
#include "anthropic.h"
#include "common.h"
#include "gemini.h"
#include "openaichat.h"
#include "openairesponses.h"

namespace tapedeck::formats::wire {
namespace detail {

const Codec &codecFor(Api api) {
    static const Codec openaiChat{openaichat::parseRequest,  openaichat::renderRequest,
                                  openaichat::parseResponse, openaichat::renderResponse,
                                  openaichat::renderStream,  openaichat::makeDecoder};
    static const Codec anthropicMessages{anthropic::parseRequest,  anthropic::renderRequest,
                                         anthropic::parseResponse, anthropic::renderResponse,
                                         anthropic::renderStream,  anthropic::makeDecoder};
    static const Codec openaiResponses{
        openairesponses::parseRequest,  openairesponses::renderRequest,
        openairesponses::parseResponse, openairesponses::renderResponse,
        openairesponses::renderStream,  openairesponses::makeDecoder};
    static const Codec geminiCodec{gemini::parseRequest,  gemini::renderRequest,
                                   gemini::parseResponse, gemini::renderResponse,
                                   gemini::renderStream,  gemini::makeDecoder};
    switch (api) {
    case Api::OpenAIChat: return openaiChat;
    case Api::OpenAIResponses: return openaiResponses;
    case Api::AnthropicMessages: return anthropicMessages;
    case Api::Gemini: return geminiCodec;
    }
    return openaiChat;
}

} // namespace detail

using detail::codecFor;
using detail::Field;
using detail::guardedParse;

Result<Request> parseRequest(Api api, const nlohmann::json &body) {
    std::string context = std::string(apiName(api)).append(" request");
    return guardedParse<Request>(context, [&] {
        detail::requireBodyObject(body);
        Request request = codecFor(api).parseRequest(Field(body));
        request.api = api;
        return request;
    });
}

nlohmann::json renderRequest(const Request &request) {
    return codecFor(request.api).renderRequest(request);
}

Result<Response> parseResponse(Api api, const nlohmann::json &body) {
    std::string context = std::string(apiName(api)).append(" response");
    return guardedParse<Response>(context, [&] {
        detail::requireBodyObject(body);
        return codecFor(api).parseResponse(Field(body));
    });
}

nlohmann::json renderResponse(Api api, const Response &response) {
    return codecFor(api).renderResponse(response);
}

std::vector<SseEvent> renderStream(Api api, const Response &response,
                                   const StreamOptions &options) {
    return codecFor(api).renderStream(response, options);
}

} // namespace tapedeck::formats::wire
