// The Gemini codec (wire.h): bodies in gemini.cpp, the stream in geministream.cpp.
#pragma once

#include "codecs.h"

namespace tapedeck::formats::wire::detail::gemini {

Request parseRequest(const Field &body);
nlohmann::json renderRequest(const Request &request);
Response parseResponse(const Field &body);
nlohmann::json renderResponse(const Response &response);
std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options);
std::unique_ptr<StreamDecoder> makeDecoder();

} // namespace tapedeck::formats::wire::detail::gemini

namespace tapedeck::formats::wire::detail::gemini {

// Shared by the bodies and the stream.
Usage parseUsage(const Field &usage);
nlohmann::json renderUsage(const Usage &usage);
// The parts of a model turn added to `response`: text, thoughts, function calls. A call
// without an id gets one made up from the response id, its position among the response's
// calls and what it is, so that parsing the same response twice gives the same id.
void addModelParts(const Field &parts, Response &response);
nlohmann::json renderModelParts(const std::string &text, const std::string &thinking,
                                const std::vector<ToolCall> &calls);
StopReason stopReasonFrom(const std::string &finishReason, bool hasToolCalls);
const char *finishReasonFor(StopReason reason);

} // namespace tapedeck::formats::wire::detail::gemini
