// The per-API halves of wire.h. The public functions (bodies.cpp, streamassembler.cpp)
// dispatch on Api to these; the readers throw ParseFailure, which the public functions
// turn into an Error.
#pragma once

#include "jsonfield.h"

#include <tapedeck/formats/wire.h>

#include <memory>

namespace tapedeck::formats::wire::detail {

// An error event inside a stream: the API's own message.
class ApiFailure : public std::exception {
public:
    explicit ApiFailure(std::string message) : m_message(std::move(message)) {}
    const char *what() const noexcept override { return m_message.c_str(); }

private:
    std::string m_message;
};

// Builds a Response from one API's events. add() throws ParseFailure for a malformed event
// and ApiFailure for an error event.
class StreamDecoder {
public:
    virtual ~StreamDecoder() = default;
    virtual void add(const SseEvent &event) = 0;
    virtual bool complete() const = 0;
    virtual Response response() const = 0;
};

// One API's codec: its functions are declared in the header named after the API.
struct Codec {
    Request (*parseRequest)(const Field &body);
    nlohmann::json (*renderRequest)(const Request &request);
    Response (*parseResponse)(const Field &body);
    nlohmann::json (*renderResponse)(const Response &response);
    std::vector<SseEvent> (*renderStream)(const Response &response, const StreamOptions &options);
    std::unique_ptr<StreamDecoder> (*makeDecoder)();
};

const Codec &codecFor(Api api);

} // namespace tapedeck::formats::wire::detail
