// The OpenAIResponses codec (wire.h): bodies in openairesponses.cpp, the stream in openairesponsesstream.cpp.
#pragma once

#include "codecs.h"

namespace tapedeck::formats::wire::detail::openairesponses {

Request parseRequest(const Field &body);
nlohmann::json renderRequest(const Request &request);
Response parseResponse(const Field &body);
nlohmann::json renderResponse(const Response &response);
std::vector<SseEvent> renderStream(const Response &response, const StreamOptions &options);
std::unique_ptr<StreamDecoder> makeDecoder();

} // namespace tapedeck::formats::wire::detail::openairesponses

namespace tapedeck::formats::wire::detail::openairesponses {

// Shared by the bodies and the stream.
Usage parseUsage(const Field &usage);
nlohmann::json renderUsage(const Usage &usage);
// Adds one item of a response's "output" (message, reasoning, function_call) to `response`.
void addOutputItem(const Field &item, Response &response);
// The stop reason a finished response's status and output give.
StopReason stopReasonFrom(const Field &responseObject, bool hasToolCalls);
// The response's "output" items, with ids made up from the response's.
nlohmann::json renderOutputItems(const Response &response);
// The response object with `output` and its status; usage only when finished.
nlohmann::json renderResponseObject(const Response &response, nlohmann::json output,
                                    bool finished);

} // namespace tapedeck::formats::wire::detail::openairesponses
