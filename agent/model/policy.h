// How the scripted model server decides what to answer.
//
// A policy sees each model-call request in the neutral form (formats/wire.h), whatever API
// it came in, and returns the turn to answer with: a response, or a fault to act out. The
// server renders the turn in the request's own wire format, streamed or not, at its pace.
//
// The server calls a policy from one thread at a time, in the order requests arrive; a
// policy may keep state between calls, but should decide from the request in front of it
// wherever it can, so that it works behind any client and after the client compacts its
// conversation.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <cstdint>
#include <string>

namespace tapedeck::model {

// Something going wrong on cue, for tests of clients and recorders.
struct Fault {
    enum class Kind {
        None,
        HttpError,      // answer `status` with the API's error body carrying `message`
        DropMidStream,  // send `afterEvents` events of the stream, then close the connection
        MalformedChunk, // send `afterEvents` events, then one that is not valid JSON, then the rest
    };
    Kind kind = Kind::None;
    int status = 500;
    std::string message;
    int retryAfterSeconds = 0; // sent as retry-after when > 0 (429s)
    int afterEvents = 0;
};

struct Turn {
    formats::wire::Response response;
    Fault fault;
    int64_t delayMs = 0;       // before the first byte of the answer
};

class Policy {
public:
    virtual ~Policy() = default;
    // "script", "generic", "kernel-tuner".
    virtual const char *name() const = 0;
    // The turn for one request. An error here is the policy's own failure (a script that
    // ran out, a request it cannot answer); the server answers it as a 500 whose message
    // is the error's, and logs it.
    virtual formats::Result<Turn> answer(const formats::wire::Request &request) = 0;
};

} // namespace tapedeck::model
