// The AnthropicMessages codec (wire.h): bodies in anthropic.cpp, the stream in anthropicstream.cpp.
#pragma once

#include "codecs.h"

namespace tapedeck::formats::wire::detail::anthropic {

Request parseRequest(const Field &body);
nlohmann::json renderRequest(const Request &request);
Response parseResponse(const Field &body);
nlohmann::json renderResponse(const Response &response);
std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options);
std::unique_ptr<StreamDecoder> makeDecoder();

} // namespace tapedeck::formats::wire::detail::anthropic

namespace tapedeck::formats::wire::detail::anthropic {

// Shared by the bodies and the stream.
Usage parseUsage(const Field &usage);
nlohmann::json renderUsage(const Usage &usage);
StopReason stopReasonFrom(const std::string &stopReason);
const char *stopReasonFor(StopReason reason);

} // namespace tapedeck::formats::wire::detail::anthropic
