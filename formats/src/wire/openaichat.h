// The OpenAIChat codec (wire.h): bodies in openaichat.cpp, the stream in openaichatstream.cpp.
#pragma once

#include "codecs.h"

namespace tapedeck::formats::wire::detail::openaichat {

Request parseRequest(const Field &body);
nlohmann::json renderRequest(const Request &request);
Response parseResponse(const Field &body);
nlohmann::json renderResponse(const Response &response);
std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options);
std::unique_ptr<StreamDecoder> makeDecoder();

} // namespace tapedeck::formats::wire::detail::openaichat

namespace tapedeck::formats::wire::detail::openaichat {

// Shared by the bodies and the stream.
Usage parseUsage(const Field &usage);
nlohmann::json renderUsage(const Usage &usage);
StopReason stopReasonFrom(const std::string &finishReason);
const char *finishReasonFor(StopReason reason);

} // namespace tapedeck::formats::wire::detail::openaichat
